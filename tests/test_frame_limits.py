"""Issue 25's reproducers: archive chunk frames and range-coded streams that decoders must
refuse with a typed error (frame bombs, non-finite origins, dtypes reinterpreted, streams
with words appended or dropped, non-canonical lengths), and what they must still accept."""
from __future__ import annotations

import struct
import tracemalloc

import constriction
import numpy as np
import pytest

from inrz import ContainerError, DecodeLimitError, ExactDecoder, read_uvarint, uvarint
from inrz.archive import frames
from inrz.archive.config import canonical, decode_array, encode_array
from inrz.archive.limits import FrameLimits
from inrz.coding import ctxcoder
from inrz.coding.quantize import Uniform
from inrz_coinpp.table import Table
from inrz.testing import fuzz_frames as ff

numcodecs = pytest.importorskip("numcodecs")


def _frame(kind: int, dtype: str, axes, body: bytes) -> bytes:
    head = bytes([kind, frames.DTYPES.index(dtype), len(axes)]) + b"".join(uvarint(n) for n in axes)
    return frames._seal(head + body)


def _residual(dtype: str = "f4", shape=(24, 20)) -> bytes:
    y, x = np.meshgrid(np.linspace(0, 3, shape[0]), np.linspace(0, 4, shape[1]), indexing="ij")
    data = encode_array((100 + 30 * np.sin(x) * np.cos(y)).astype(dtype), canonical({"max_abs_error": 0.5,
                                                                                       "preset": "fast"}))
    assert data[0] == frames.RESIDUAL
    return data


def _peak_bytes(fn) -> int:
    """What `fn` allocates at most (after a warm-up decode, so imports and caches don't count)."""
    decode_array(_frame(frames.CONSTANT, "<f4", [4], bytes(4)))
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


# --- 1. frame bombs: limits proportional to the frame, checked before anything is allocated ---

def test_a_21_byte_constant_frame_for_4_billion_values_is_refused_before_allocating():
    bomb = _frame(frames.CONSTANT, "<f8", [1, 2**32], bytes(8))
    assert len(bomb) == 21
    codec = numcodecs.get_codec({"id": "inrz"})

    def refused():
        with pytest.raises(DecodeLimitError, match="values"):
            codec.decode(bomb)  # a plain decode(buf): no out=

    assert _peak_bytes(refused) < 1 << 20


def test_a_residual_frame_claiming_16384_squared_is_refused_before_allocating():
    frame = ff.parse(_residual("f8"))
    bomb = ff.Frame(frame.kind, frame.dtype, (16384, 16384), frame.body).pack()
    assert len(bomb) < 2000

    def refused():
        with pytest.raises(DecodeLimitError, match="values"):
            decode_array(bomb)
        with pytest.raises(DecodeLimitError, match="bytes"):  # even where the caller vouches for the size
            decode_array(bomb, expected=16384 * 16384)

    assert _peak_bytes(refused) < 1 << 20


def test_a_15_byte_frame_of_64_million_values_is_refused_unless_the_caller_knows_the_chunk():
    frame = _frame(frames.CONSTANT, "<f4", [2**26], np.float32(1.5).tobytes())
    assert len(frame) == 15
    with pytest.raises(DecodeLimitError):
        decode_array(frame)
    small = _frame(frames.CONSTANT, "<f4", [2**21], np.float32(1.5).tobytes())  # 2M values, 8 MB
    with pytest.raises(DecodeLimitError, match="INRZ_DECODE_LIMITS=trusted"):
        decode_array(small)
    assert decode_array(small, expected=2**21).size == 2**21  # zarr's chunk shape or out= vouches for it
    assert decode_array(small, limits=FrameLimits.trusted()).size == 2**21


def test_trusted_limits_come_from_the_reader_environment(monkeypatch):
    small = _frame(frames.CONSTANT, "<f4", [2**21], np.float32(1.5).tobytes())
    monkeypatch.setenv("INRZ_DECODE_LIMITS", "trusted")
    assert decode_array(small).size == 2**21
    monkeypatch.setenv("INRZ_DECODE_LIMITS", "default")
    with pytest.raises(DecodeLimitError):
        decode_array(small)


def test_every_seed_frame_decodes_under_the_default_limits():
    for name, data in ff.seed_frames().items():
        size, dtype = ff.chunk_of(data)
        assert decode_array(data).size == size, name
        assert decode_array(data, size, dtype).dtype == dtype, name


# --- 2. non-finite side values ------------------------------------------------------------------

@pytest.mark.parametrize("origin", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", ["f4", "f8", "f2"])
def test_a_residual_frame_with_a_non_finite_origin_is_refused(origin, dtype):
    frame = ff.parse(_residual(dtype))
    res = ff.residual_of(frame)
    body = ff.Residual(res.bound, np.asarray(origin, dtype).tobytes(), res.count, res.parts).pack()
    with pytest.raises(ContainerError, match="origin"):
        decode_array(ff.Frame(frame.kind, frame.dtype, frame.shape, body).pack())


@pytest.mark.parametrize("bound", [np.nan, np.inf, -1.0, 0.0])
def test_a_residual_frame_with_a_bad_bound_is_refused(bound):
    frame = ff.parse(_residual())
    res = ff.residual_of(frame)
    body = ff.Residual(struct.pack("<d", bound), res.origin, res.count, res.parts).pack()
    with pytest.raises(ContainerError, match="bound"):
        decode_array(ff.Frame(frame.kind, frame.dtype, frame.shape, body).pack())


# --- 3. dtypes are checked, never reinterpreted ------------------------------------------------

@pytest.mark.parametrize("own, forged", [("<i8", "<f8"), ("<u2", "<i2"), ("<i4", "<f4")])
def test_a_frame_whose_dtype_byte_was_changed_is_refused_by_an_out_buffer(own, forged):
    frame = ff.parse(_residual(own))
    forged_frame = ff.Frame(frame.kind, frames.DTYPES.index(forged), frame.shape, frame.body).pack()
    codec = numcodecs.get_codec({"id": "inrz"})
    out = np.empty(frame.shape, own)
    with pytest.raises(ContainerError, match="values"):
        codec.decode(forged_frame, out=out)
    with pytest.raises(ContainerError):
        codec.decode(_residual(own), out=np.empty(frame.shape, forged))
    assert codec.decode(_residual(own), out=out) is not None  # the right buffer still works


def test_an_out_buffer_of_the_other_byte_order_gets_values_not_bits():
    codec = numcodecs.get_codec({"id": "inrz", "max_abs_error": 0.1, "preset": "fast"})
    x = np.random.default_rng(0).random((8, 8)).astype(">f4")
    out = np.empty((8, 8), ">f4")
    codec.decode(codec.encode(x), out=out)
    assert np.abs(out - x).max() <= 0.1


def test_zarr_refuses_a_chunk_whose_dtype_byte_was_changed():
    zarr = pytest.importorskip("zarr")
    from inrz import InrzZarrCodec

    store = zarr.storage.MemoryStore()
    x = (np.arange(33 * 49).reshape(33, 49) % 97).astype("i4")
    arr = zarr.create_array(store, shape=x.shape, chunks=x.shape, dtype="int32",
                            serializer=InrzZarrCodec(max_abs_error=0.5, preset="fast"), compressors=None)
    arr[:] = x
    assert np.array_equal(arr[:], x)
    key = next(k for k in store._store_dict if "c/" in k or k.startswith("c"))
    frame = ff.parse(store._store_dict[key].to_bytes())
    forged = ff.Frame(frame.kind, frames.DTYPES.index("<f4"), frame.shape, frame.body).pack()
    store._store_dict[key] = type(store._store_dict[key]).from_bytes(forged)
    with pytest.raises(ContainerError, match="float32"):
        zarr.open_array(store, mode="r")[:]


# --- 4. range-coded streams end exactly --------------------------------------------------------

@pytest.mark.parametrize("append", [b"\x00" * 4, b"\x12\x34\x56\x78", b"\xff" * 8])
def test_words_appended_to_a_residual_stream_are_refused(append):
    frame = ff.parse(_residual())
    res = ff.residual_of(frame)
    parts = (ff.edit_words(res.parts[0], append=append), *res.parts[1:])
    body = ff.Residual(res.bound, res.origin, res.count, parts).pack()
    with pytest.raises(ContainerError, match="(words|bytes) after its last symbol"):
        decode_array(ff.Frame(frame.kind, frame.dtype, frame.shape, body).pack())


@pytest.mark.parametrize("drop", [1, 2, 3])
def test_words_dropped_from_a_residual_stream_never_decode(drop):
    frame = ff.parse(_residual())
    res = ff.residual_of(frame)
    parts = (ff.edit_words(res.parts[0], drop=drop), *res.parts[1:])
    body = ff.Residual(res.bound, res.origin, res.count, parts).pack()
    with pytest.raises(ContainerError, match="words are missing|ends before its last symbol"):
        decode_array(ff.Frame(frame.kind, frame.dtype, frame.shape, body).pack())


def _one_word_seal_case(probs: np.ndarray):
    """Symbols whose stream ends in a one-word seal: constriction's `maybe_exhausted()` then
    also passes with a word appended, so only re-encoding can tell."""
    model = constriction.stream.model.Categorical(probs, perfect=False)
    for seed in range(50):
        symbols = np.random.default_rng(seed).choice(probs.size, 40, p=probs).astype(np.int32)
        enc = constriction.stream.queue.RangeEncoder()
        enc.encode(symbols, model)
        words = enc.get_compressed()
        dec = constriction.stream.queue.RangeDecoder(np.append(words, np.uint32(7)))
        dec.decode(model, symbols.size)
        if dec.maybe_exhausted():
            return model, symbols, words
    raise AssertionError("no one-word seal in 50 tries")


def test_the_exact_decoder_refuses_what_maybe_exhausted_lets_through():
    model, symbols, words = _one_word_seal_case(np.array([0.6, 0.3, 0.1]))
    dec = ExactDecoder(words)
    assert np.array_equal(dec.decode(model, symbols.size), symbols)
    dec.finish()
    for bad in (np.append(words, np.uint32(7)), words[:-1]):
        dec = ExactDecoder(bad, "the test stream")
        with pytest.raises(ContainerError, match="the test stream"):
            dec.decode(model, symbols.size)
            dec.finish()


@pytest.mark.parametrize("edit", ["append", "drop"])
def test_the_table_coder_refuses_streams_with_words_appended_or_dropped(monkeypatch, edit):
    probs = np.array([0.5, 0.3, 0.15, 0.05])
    _, symbols, words = _one_word_seal_case(probs)  # the table coder's model: one Categorical for all
    monkeypatch.setattr(Table, "_table", lambda self, bits, layout: probs)
    table = Table({"model": "0" * 64})
    layout = {"w": (symbols.size,)}
    assert table.encode({"w": symbols}, 2) == words.astype("<u4").tobytes()
    assert np.array_equal(table.decode(words.astype("<u4").tobytes(), layout, 2)["w"], symbols)
    bad = np.append(words, np.uint32(7)) if edit == "append" else words[:-1]
    with pytest.raises(ContainerError):
        table.decode(bad.astype("<u4").tobytes(), layout, 2)


def test_the_context_coder_refuses_a_stream_with_any_word_dropped():
    k = np.zeros((4, 4), np.int64)
    k[1, 1] = 10**6
    data = ctxcoder.encode(k)
    assert np.array_equal(ctxcoder.decode(data, k.shape), k)
    for cut in range(6, len(data) - 3, 4):  # any word dropped from inside the stream
        shorter = data[:2] + ((len(data) - 10) // 4).to_bytes(4, "little") + data[6:cut] + data[cut + 4:]
        with pytest.raises(ContainerError):
            ctxcoder.decode(shorter, k.shape)


# --- length fields ------------------------------------------------------------------------------

def test_non_canonical_leb128_lengths_are_refused():
    frame = _frame(frames.CONSTANT, "<f4", [8], np.float32(2.0).tobytes())
    padded = frames._seal(frame[:3] + b"\x88\x00" + frame[4:-4])  # 8 in two bytes
    assert decode_array(frame).shape == (8,)
    with pytest.raises(ContainerError, match="shortest"):
        decode_array(padded)
    for data in (b"\x80\x00", b"\xff\x80\x00"):
        with pytest.raises(ContainerError):
            read_uvarint(data, 0)
    with pytest.raises(ContainerError):
        read_uvarint(uvarint(2**36), 0, max_bits=36)
    assert read_uvarint(uvarint(2**36 - 1), 0, max_bits=36)[0] == 2**36 - 1


@pytest.mark.parametrize("lo, step", [(np.nan, 0.1), (-np.inf, 0.1), (0.0, np.inf), (0.0, np.nan), (0.0, -0.1), (0.0, 0.0)])
def test_uniform_quantizer_side_values_no_encoder_writes_are_refused(lo, step):
    quantizer = Uniform({"bits": 8})
    symbols = {"w": np.arange(6, dtype=np.int64)}
    assert quantizer.dequantize(symbols, struct.pack("<ff", 0.0, 0.1))["w"][1] == np.float32(0.1)
    with pytest.raises(ContainerError, match="side info"):
        quantizer.dequantize(symbols, struct.pack("<ff", lo, step))


def test_a_chunk_stored_as_another_modalitys_container_is_refused():
    """An image container of an 8x8 grid decodes to 8x8x3 values: never a 64-value chunk."""
    import inrz

    host = inrz.get_host()
    codec = inrz.Codec(*(host.create(k, v) for k, v in (("modality", "image"), ("backend", "none"),
                                                         ("quantizer", "fp16"), ("entropy", "raw"))))
    data = inrz.compress((np.arange(8 * 8 * 3).reshape(8, 8, 3) % 251).astype("u1"), codec)
    with pytest.raises(ContainerError, match="modality"):
        decode_array(data, expected=64)
    with pytest.raises(ContainerError, match="modality"):
        numcodecs.get_codec({"id": "inrz"}).decode(data, out=np.empty((8, 8), "u1"))
