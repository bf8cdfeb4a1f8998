"""The error-bound residual: predictors, the context-model range coder, exactly kept values,
and the decoders' answer to bytes no encoder writes."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from inrz import ContainerError
from inrz.coding import ctxcoder, errorbound, specials
from inrz.coding.lattice import passes, targets
from inrz.coding.predictors import candidates

SHAPES = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=9)
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@given(shape=SHAPES)
def test_the_passes_visit_every_point_once(shape):
    seen = np.zeros(shape, int)
    for h, d in passes(shape):
        seen[targets(len(shape), h, d)] += 1
    assert (seen == 1).all()


@FAST
@given(k=hnp.arrays(np.int64, SHAPES, elements=st.one_of(st.integers(-3, 3), st.integers(-2**62, 2**62))))
def test_context_coder_round_trips_any_integers(k):
    assert np.array_equal(ctxcoder.decode(ctxcoder.encode(k), k.shape), k)


def test_context_coder_beats_its_order_zero_entropy_on_clustered_corrections():
    rng = np.random.default_rng(0)
    scale = np.where(np.arange(64)[:, None] < 32, 0.2, 4.0) * np.ones((64, 64))  # a calm and a rough half
    k = np.rint(rng.laplace(0, scale)).astype(np.int64)
    _, counts = np.unique(k, return_counts=True)
    order0 = -(counts * np.log2(counts / k.size)).sum() / 8
    assert len(ctxcoder.encode(k)) < 0.93 * order0


def test_context_coder_bytes_are_pinned():
    """Probabilities come from integer counts and exactly rounded divisions only: these bytes
    are the same on every machine (a change here breaks files written elsewhere)."""
    rng = np.random.default_rng(7)  # integers only: no libm in making the data either
    k = (rng.integers(-4, 5, (6, 10, 14)) * (rng.integers(0, 3, (6, 10, 14)) == 0)).astype(np.int64)
    k[2, 3, 4] = 10**12  # an escape
    digest = hashlib.sha256(ctxcoder.encode(k)).hexdigest()
    assert digest == PINNED, digest


PINNED = "7efe1e6adbd9d0165e09d60af047ad8aa5c2f82b2eeb48b7690d54803b23cae2"


@FAST
@given(data=st.binary(max_size=64), shape=SHAPES)
def test_context_decoder_rejects_or_survives_garbage(data, shape):
    try:
        out = ctxcoder.decode(data, shape)
    except ContainerError:
        return
    assert out.shape == shape and out.dtype == np.int64


@FAST
@given(pos=st.integers(6, 10**6), byte=st.integers(0, 255), seed=st.integers(0, 3))
def test_context_decoder_rejects_or_survives_edited_streams(pos, byte, seed):
    """Well-formed frames with one byte of the range-coded words changed: constriction's
    AssertionError on an invalid stream must come out as ContainerError (the fuzzer found it)."""
    rng = np.random.default_rng(seed)
    k = (rng.integers(-6, 7, (5, 9, 11)) * (rng.integers(0, 2, (5, 9, 11)) == 0)).astype(np.int64)
    k[1, 2, 3] = 10**9  # an escape, so the edit can land in escape bits too
    data = bytearray(ctxcoder.encode(k))
    data[6 + pos % (len(data) - 6)] = byte
    try:
        out = ctxcoder.decode(bytes(data), k.shape)
    except ContainerError:
        return
    assert out.shape == k.shape and out.dtype == np.int64


finite = {"allow_nan": False, "allow_infinity": False, "allow_subnormal": False}


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(x=hnp.arrays(st.sampled_from([np.float32, np.float64]), SHAPES, elements={**finite, "min_value": -1e6,
                                                                                  "max_value": 1e6}),
       bound=st.floats(1e-7, 100.0), offset=st.floats(-1e5, 1e5))
def test_the_bound_holds_and_every_predictor_decodes_what_it_encoded(x, bound, offset):
    approx = np.full(x.shape, offset, x.dtype)
    for effort in ("fast", "best"):
        header, sections = errorbound.residual_sections(x, approx, bound, effort=effort)
        out = errorbound.decode(approx, header, sections)
        assert np.abs(out.astype(np.float64) - x.astype(np.float64)).max() <= bound
    step = 2 * bound * (1 - errorbound.MARGIN)
    r = x.astype(np.float64) - offset
    for p in candidates(x.shape):
        k, rec = p.encode(r, step)
        assert np.array_equal(p.decode(k, step), rec)


def test_the_residual_of_a_smooth_field_costs_under_a_bit_per_value():
    y, x = np.meshgrid(np.linspace(0, 3, 64), np.linspace(0, 4, 80), indexing="ij")
    field = (280 + 10 * np.sin(x) * np.cos(y)).astype(np.float32)
    header, sections = errorbound.residual_sections(field, np.zeros_like(field), 0.05)
    assert len(sections["residual"]) * 8 < field.size
    assert "exceptions" not in sections and header["exceptions"] == 0


def test_values_the_residual_misses_become_exceptions():
    x = np.array([1e22, -3e22, 5.0, 7e21])  # float64 spacing at 1e22 is far above the bound
    header, sections = errorbound.residual_sections(x, np.zeros_like(x), 1e-3)
    assert header["exceptions"] >= 2
    assert np.abs(errorbound.decode(np.zeros_like(x), header, sections) - x).max() <= 1e-3


# --- exactly kept values ------------------------------------------------------------------------

def test_specials_survive_bit_for_bit():
    x = np.arange(40, dtype=np.float32).reshape(5, 8)
    payload_nan = np.array([0x7FC00123], np.uint32).view(np.float32)[0]
    x[0, 0], x[1, 2], x[2, 3], x[3, 4], x[4, 7] = np.nan, np.inf, -np.inf, payload_nan, -9999.0
    filled, kept = specials.split(x, [-9999.0, 1e20])
    assert np.isfinite(filled).all() and (filled != -9999.0).all()
    back = specials.apply(filled, kept.section)
    assert np.array_equal(back.view(np.uint32), x.view(np.uint32))


def test_fill_values_compare_in_the_arrays_own_type():
    x = np.array([1e20, 3.0], np.float32)  # CF stores _FillValue in the variable's type
    assert specials.find(x, [1e20]).tolist() == [True, False]
    assert not specials.find(np.array([3, 4], np.int16), [1e20]).any()  # an int16 cannot hold it


@FAST
@given(data=st.binary(max_size=80))
def test_specials_decoder_rejects_garbage(data):
    try:
        out = specials.apply(np.zeros((4, 5), np.float32), data)
    except ContainerError:
        return
    assert out.shape == (4, 5)


@FAST
@given(data=st.binary(max_size=80), tag=st.sampled_from([b"", bytes([errorbound.TAG]), bytes([errorbound.TAG_NUMPY])]))
def test_residual_decoder_rejects_garbage(data, tag):
    sections = {"residual": tag + data, "exceptions": data}
    try:
        out = errorbound.decode(np.zeros((3, 4), np.float32), {"max_abs_error": 0.05, "step": 0.1, "exceptions": 0}, sections)
    except ContainerError:
        return
    assert out.shape == (3, 4)


def test_a_frame_claiming_a_huge_residual_is_refused_before_allocating():
    frame = bytes([errorbound.TAG_NUMPY, 1, 0]) + (5).to_bytes(2, "little") + (2**31).to_bytes(4, "little")
    with pytest.raises(ContainerError, match="length"):
        errorbound.decode(np.zeros(4, np.float32), {"max_abs_error": 0.05, "step": 0.1, "exceptions": 0}, {"residual": frame})
