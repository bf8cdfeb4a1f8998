"""Quantizers and entropy models: exact round trips, error bounds, and `ContainerError` on data
that does not fit its layout (they read bytes from files; nothing else means a damaged file).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from inrz import ContainerError, layout_size, pack_bits, unpack_bits
from inrz.coding.entropy import Raw, Zstd
from inrz.coding.quantize import Float16, Uniform

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ENTROPY_MODELS = [Raw(), Zstd(), Zstd(shuffle=False), Zstd(level=1)]
MODEL_IDS = ["raw", "zstd", "zstd-noshuffle", "zstd-level1"]

bits_st = st.integers(1, 16)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6)
layouts = st.dictionaries(st.from_regex(r"l[0-9]\.[Wb]", fullmatch=True), shapes, max_size=4)


@st.composite
def symbols_for(draw, bits: int, layout: dict) -> dict:
    return {name: draw(hnp.arrays(np.int64, shape, elements=st.integers(0, (1 << bits) - 1)))
            for name, shape in layout.items()}


@st.composite
def coded(draw):
    """(bits, layout, symbols) with symbols fitting `bits`."""
    bits, layout = draw(bits_st), draw(layouts)
    return bits, layout, draw(symbols_for(bits, layout))


float_tensors = st.dictionaries(
    st.from_regex(r"l[0-9]\.[Wb]", fullmatch=True),
    hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=8),
               elements=st.floats(-1e4, 1e4, width=32, allow_subnormal=False)),
    min_size=1, max_size=4,
)


@SETTINGS
@given(bits=bits_st, data=st.data())
def test_pack_unpack_round_trip(bits, data):
    values = data.draw(hnp.arrays(np.int64, st.integers(0, 40), elements=st.integers(0, (1 << bits) - 1)))
    packed = pack_bits(values, bits)
    assert len(packed) == (values.size * bits + 7) // 8  # exactly `bits` per symbol, padded to a byte
    np.testing.assert_array_equal(unpack_bits(packed, values.size, bits), values)


@pytest.mark.parametrize("bits", [1, 3, 8, 12, 16])
def test_pack_rejects_symbols_out_of_range(bits):
    with pytest.raises(ValueError, match=f"out of range for {bits}-bit"):
        pack_bits(np.array([0, 1 << bits]), bits)
    with pytest.raises(ValueError, match="out of range"):
        pack_bits(np.array([-1]), bits)


@pytest.mark.parametrize("bits", [1, 7, 8, 16])
def test_unpack_rejects_wrong_length(bits):
    packed = pack_bits(np.arange(10) % 2, bits)
    with pytest.raises(ContainerError, match="expected"):
        unpack_bits(packed + b"\0", 10, bits)
    with pytest.raises(ContainerError, match="expected"):
        unpack_bits(packed, 10 + 8, bits)


@pytest.mark.parametrize("model", ENTROPY_MODELS, ids=MODEL_IDS)
@SETTINGS
@given(case=coded())
def test_entropy_round_trip(model, case):
    bits, layout, symbols = case
    data = model.encode(symbols, bits)
    decoded = model.decode(data, layout, bits)
    assert list(decoded) == list(layout)
    for name, shape in layout.items():
        assert decoded[name].shape == shape
        np.testing.assert_array_equal(decoded[name], symbols[name])


@pytest.mark.parametrize("bits", [4, 8, 16])
def test_raw_costs_exactly_bits_per_symbol(bits):
    layout = {"l0.W": (5, 3), "l0.b": (5,)}
    symbols = {k: np.full(s, (1 << bits) - 1) for k, s in layout.items()}
    assert len(Raw().encode(symbols, bits)) == (layout_size(layout) * bits + 7) // 8


@pytest.mark.parametrize("model", ENTROPY_MODELS, ids=MODEL_IDS)
@pytest.mark.parametrize("bits", [3, 8, 16])
def test_decoding_for_another_layout_raises_container_error(model, bits):
    layout = {"l0.W": (4, 5), "l0.b": (4,)}
    rng = np.random.default_rng(bits)
    symbols = {k: rng.integers(0, 1 << bits, s) for k, s in layout.items()}
    data = model.encode(symbols, bits)
    for other in ({"l0.W": (4, 5), "l0.b": (5,)}, {"l0.W": (4, 5)}, {"l0.W": (40, 5), "l0.b": (4,)}):
        with pytest.raises(ContainerError):
            model.decode(data, other, bits)


@pytest.mark.parametrize("model", ENTROPY_MODELS, ids=MODEL_IDS)
def test_truncated_or_padded_data_raises_container_error(model):
    layout = {"l0.W": (8, 8)}
    data = model.encode({"l0.W": np.arange(64).reshape(8, 8)}, 16)
    for bad in (data[:-1], data + b"\0", b""):
        with pytest.raises(ContainerError):
            model.decode(bad, layout, 16)


@pytest.mark.parametrize("garbage", [b"\x00" * 128, b"\x28\xb5\x2f\xfd" + b"\xff" * 20, bytes(range(256))])
def test_zstd_garbage_raises_container_error(garbage):
    with pytest.raises(ContainerError):
        Zstd().decode(garbage, {"l0.W": (8, 8)}, 16)


@pytest.mark.parametrize("model", ENTROPY_MODELS, ids=MODEL_IDS)
def test_constant_symbols_round_trip(model):
    layout = {"l0.W": (30, 2), "l0.b": (30,)}
    symbols = {k: np.full(s, 5) for k, s in layout.items()}
    decoded = model.decode(model.encode(symbols, 16), layout, 16)
    assert all(np.array_equal(decoded[k], symbols[k]) for k in layout)


@SETTINGS
@given(tensors=st.dictionaries(
    st.from_regex(r"l[0-9]\.[Wb]", fullmatch=True),
    hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=2, max_side=8), elements=st.floats(width=32)),
    max_size=4))
def test_fp16_round_trip_equals_astype_float16(tensors):
    quantizer = Float16()
    with np.errstate(over="ignore"):  # beyond +-65504 both sides become inf, as documented for IEEE half
        symbols, side = quantizer.quantize(tensors)
        expected = {name: value.astype(np.float16).astype(np.float32) for name, value in tensors.items()}
    assert side == b"" and quantizer.bits == 16
    assert all(s.dtype == np.int64 and s.min(initial=0) >= 0 and s.max(initial=0) < 1 << 16 for s in symbols.values())
    out = quantizer.dequantize(symbols, side)
    for name in tensors:
        assert out[name].dtype == np.float32
        np.testing.assert_array_equal(out[name], expected[name])  # NaNs compare equal here


def test_fp16_rejects_side_information():
    with pytest.raises(ContainerError, match="no side information"):
        Float16().dequantize({"a": np.zeros(2, np.int64)}, b"\0")


@SETTINGS
@given(bits=bits_st, tensors=float_tensors)
def test_uniform_error_is_at_most_half_a_step(bits, tensors):
    quantizer = Uniform(bits=bits)
    symbols, side = quantizer.quantize(tensors)
    assert len(side) == 8 * len(tensors)
    again = quantizer.quantize({k: v.copy() for k, v in tensors.items()})
    assert side == again[1] and all(np.array_equal(symbols[k], again[0][k]) for k in tensors)  # deterministic
    out = quantizer.dequantize(symbols, side)
    levels = (1 << bits) - 1
    for name, value in tensors.items():
        assert symbols[name].min() >= 0 and symbols[name].max() <= levels
        lo, hi = float(value.min()), float(value.max())
        step = (hi - lo) / levels
        # half a step, plus float32 rounding of the reconstruction lo + k * step, plus the step's own
        # rounding to float32 times k: relative (eps) for a normal step, absolute (the smallest
        # subnormal) for a subnormal one (a range of 1e-38 over 8191 levels)
        f32 = np.finfo(np.float32)
        tolerance = (step / 2 * (1 + 1e-4) + 4 * f32.eps * max(abs(lo), abs(hi))
                     + levels * float(f32.smallest_subnormal))
        assert np.max(np.abs(out[name].astype(np.float64) - value)) <= tolerance


@pytest.mark.parametrize("bits", [1, 8, 16])
@pytest.mark.parametrize("value", [0.0, -3.5, 1e4])
def test_uniform_constant_tensor_is_exact(bits, value):
    tensors = {"w": np.full((3, 4), value, np.float32), "b": np.full(5, value, np.float32)}
    quantizer = Uniform(bits=bits)
    symbols, side = quantizer.quantize(tensors)
    out = quantizer.dequantize(symbols, side)
    for name, v in tensors.items():
        np.testing.assert_array_equal(symbols[name], 0)
        np.testing.assert_array_equal(out[name], v)


def test_uniform_rejects_side_info_of_the_wrong_size():
    quantizer = Uniform(bits=4)
    symbols, side = quantizer.quantize({"a": np.arange(4, dtype=np.float32), "b": np.ones(2, np.float32)})
    with pytest.raises(ContainerError, match="expected 16"):
        quantizer.dequantize(symbols, side[:-1])


@pytest.mark.parametrize("bits", [1, 4, 8, 16])
def test_uniform_symbols_survive_entropy_coding(bits):
    rng = np.random.default_rng(bits)
    tensors = {"l0.W": rng.standard_normal((6, 3)).astype(np.float32), "l0.b": rng.standard_normal(6).astype(np.float32)}
    quantizer = Uniform(bits=bits)
    symbols, side = quantizer.quantize(tensors)
    layout = {k: v.shape for k, v in tensors.items()}
    for model in ENTROPY_MODELS:
        decoded = model.decode(model.encode(symbols, quantizer.bits), layout, quantizer.bits)
        out = quantizer.dequantize(decoded, side)
        assert all(np.array_equal(out[k], quantizer.dequantize(symbols, side)[k]) for k in tensors)
