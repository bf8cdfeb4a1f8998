"""Compact chunk frames: how an archive chunk is stored when a whole `.inrz` container
(a JSON header of 60-120 bytes) would cost more than the chunk needs.

A chunk's bytes are either an `.inrz` container (they start with `INRZ`) or one of these
frames, chosen by the first byte (never `I`):

    u8 kind   1 constant | 2 raw values | 3 zstd of the raw values | 4 error-bounded residual
    u8 dtype  index into DTYPES
    u8 ndim, then ndim unsigned LEB128 axis lengths
    kind 1: one value; kind 2: the values; kind 3: one zstd frame (its content size is checked
    against the shape before decompressing); kind 4: f64 bound, one value (the constant the
    residual is taken from), uvarint exception count, then three uvarint-length-prefixed
    sections: residual, exceptions, specials (`inrz.coding.errorbound`, `inrz.coding.specials`)
    u32 CRC32 of every byte before it

Before anything is allocated, a frame's shape and dtype are checked against what the caller
knows of the chunk, and the values and bytes it asks for against `inrz.archive.limits`.
Side values no encoder writes (a kind-4 bound or origin that is NaN or infinite) are refused.
"""
from __future__ import annotations

import functools
import math
import struct
import threading
import zlib

import numpy as np
import zstandard

from ..coding import errorbound, specials
from ..coding.varint import read_uvarint, uvarint
from ..core.errors import ContainerError
from .limits import FrameLimits

CONSTANT, RAW, ZSTD, RESIDUAL = 1, 2, 3, 4
DTYPES = ("|b1", "|u1", "|i1", "<u2", "<i2", "<u4", "<i4", "<u8", "<i8", "<f2", "<f4", "<f8")
MAX_VALUES = 1 << 32  # no chunk frame describes more values than this (whatever the limits)
RESIDUAL_WORK = 64  # bytes per value the residual decoder allocates besides the chunk (`_bytes_per_value`)


def is_frame(data: bytes) -> bool:
    return bool(data) and data[0] in (CONSTANT, RAW, ZSTD, RESIDUAL)


def head(kind: int, array: np.ndarray) -> bytes:
    return _head_bytes(kind, array.dtype, array.shape)


@functools.lru_cache(maxsize=1024)
def _head_bytes(kind: int, dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    """`head`, cached per kind, dtype and shape (an encoder writes up to three per chunk, and the
    chunks of a store share one shape)."""
    little = dtype.newbyteorder("<") if dtype.itemsize > 1 else dtype
    return bytes([kind, DTYPES.index(little.str), len(shape)]) + b"".join(uvarint(n) for n in shape)


def constant(array: np.ndarray) -> bytes | None:
    """A frame for a chunk whose values are all the same bytes (NaN chunks included)."""
    flat = np.ascontiguousarray(array).reshape(-1).view(f"u{array.dtype.itemsize}")
    return _seal(head(CONSTANT, array) + _le(array).reshape(-1)[:1].tobytes()) if (flat == flat[0]).all() else None


def raw(array: np.ndarray) -> bytes:
    return _seal(head(RAW, array) + _le(array).tobytes())


def raw_size(array: np.ndarray) -> int:
    """len(raw(array)), without writing it."""
    return len(head(RAW, array)) + array.nbytes + 4


def packed(array: np.ndarray, level: int) -> bytes:
    return _seal(head(ZSTD, array) + _compressor(level).compress(_le(array).tobytes()))


def packed_may_win(array: np.ndarray, level: int, size: int) -> bool:
    """False where a sample says `packed` would be well over `size` bytes, so the encoder need
    not compress the whole chunk: for chunks of more than SAMPLE_FROM bytes, zstd of STRIPES
    evenly spaced stripes (1 / SAMPLE_PART of the chunk, twice that up to LARGE bytes) scaled
    up to the chunk must stay under twice `size`, unless the sample shrinks more than DENSE times (values that repeat,
    such as a mostly empty chunk: zstd may then find far more across the chunk). A checked
    estimate (tests/test_archive_chunks.py: chunks zstd wins are still coded with it); zstd
    finds repeats across stripes that a stripe alone misses, hence the factor 2. Smaller
    chunks are always compressed. DENSE = 4: hypothesis found a 4.3 KB chunk of mostly one value
    whose sample shrank exactly 8 times and whose zstd frame was 6 bytes under the residual's."""
    data = _le(array).reshape(-1).view(np.uint8)
    if data.size <= SAMPLE_FROM:
        return True
    part = SAMPLE_PART if data.size > LARGE else SAMPLE_PART // 2
    width = data.size // (part * STRIPES)
    sample = b"".join(data[s:s + width].tobytes() for s in
                      ((data.size - width) * i // (STRIPES - 1) for i in range(STRIPES)))  # evenly spaced
    coded = len(_compressor(level).compress(sample))
    if coded * DENSE < len(sample):  # the sample compresses well: the chunk may repeat itself further
        return True
    return coded * data.size / len(sample) < 2 * size


SAMPLE_FROM, LARGE, SAMPLE_PART, STRIPES, DENSE = 1 << 12, 1 << 16, 8, 8, 4
_local = threading.local()


def _compressor(level: int) -> zstandard.ZstdCompressor:
    """One compressor per thread and level (a ZstdCompressor is not safe to share between threads)."""
    cache = _local.__dict__.setdefault("zstd", {})
    if level not in cache:
        cache[level] = zstandard.ZstdCompressor(level=level)
    return cache[level]


def residual(array: np.ndarray, origin, header: dict, sections: dict[str, bytes], extra: bytes) -> bytes:
    """An error-bounded residual around the constant `origin` (`errorbound.residual_sections`)."""
    body = struct.pack("<d", header["max_abs_error"]) + _le(np.asarray(origin, array.dtype)).tobytes()
    body += uvarint(header["exceptions"])
    for part in (sections["residual"], sections.get("exceptions", b""), extra):
        body += uvarint(len(part)) + part
    return _seal(head(RESIDUAL, array) + body)


def decode(data: bytes, expected: int | None = None, dtype=None, limits: FrameLimits | None = None) -> np.ndarray:
    """The chunk a frame holds; `ContainerError` for anything no encoder writes, or (before
    anything is allocated) for a shape of other than `expected` values or values of another
    type than `dtype` when the caller knows them; `DecodeLimitError` for a frame that asks for
    more than `limits` allow (default `FrameLimits.from_env()`)."""
    kind, own, shape, pos = _head(data)
    size = math.prod(shape)
    if not 0 < size <= MAX_VALUES or (expected is not None and size != expected):
        raise ContainerError(f"chunk frame describes an array of {size} values"
                             + (f", the chunk has {expected}" if expected is not None else ""))
    if dtype is not None and not same_type(own, np.dtype(dtype)):
        raise ContainerError(f"chunk frame holds {own.name} values, the chunk is {np.dtype(dtype).name}")
    (limits or FrameLimits.from_env()).check(size, size * _bytes_per_value(kind, own), len(data), expected is not None)
    rest = bytes(data[pos:-4])
    if kind == CONSTANT:
        return np.full(shape, _exactly(rest, own, 1)[0], own)
    if kind == RAW:
        return _exactly(rest, own, size).reshape(shape)
    if kind == ZSTD:
        return _exactly(_unzstd(rest, size * own.itemsize), own, size).reshape(shape)
    return _residual(rest, own, tuple(shape))


def path(data: bytes) -> str:
    """Which of the archive codec's paths a chunk took, from its own bytes (reports count the
    winners): "constant", "raw", "zstd", "residual/<predictor>" (cubic, linear, lorenzo; "-planes"
    for planes interpolated on their own, "-tuned" for level-wise steps; "multidim"), or
    "container" (a network plus residual, an `.inrz` file)."""
    if not is_frame(data):
        return "container"
    kind = data[0]
    if kind != RESIDUAL:
        return {CONSTANT: "constant", RAW: "raw", ZSTD: "zstd"}[kind]
    _, dtype, _, pos = _head(data)
    pos += 8 + dtype.itemsize
    for _ in range(2):  # the exception count, then the residual section's length
        _, pos = _read_uvarint(data, pos)
    tag, kind_byte, axes = data[pos], data[pos + 1], data[pos + 2]
    if tag == errorbound.TAG_MULTIDIM:
        return "residual/multidim"
    if tag not in (errorbound.TAG, errorbound.TAG_TUNED, errorbound.TAG_NUMPY) or kind_byte >= len(errorbound.KINDS):
        return "residual"
    kind = errorbound.KINDS[kind_byte]
    planes = tag != errorbound.TAG_NUMPY and kind != "lorenzo" and axes & 2
    return f"residual/{kind}" + ("-planes" if planes else "") + ("-tuned" if tag == errorbound.TAG_TUNED else "")


def same_type(a: np.dtype, b: np.dtype) -> bool:
    """The same kind of number of the same width (byte order aside): nothing is reinterpreted."""
    return a.kind == b.kind and a.itemsize == b.itemsize


def _head(data: bytes) -> tuple[int, np.dtype, list[int], int]:
    """Kind, dtype, shape and where the body starts, of a frame whose checksum matches."""
    if len(data) < 8 or zlib.crc32(data[:-4]) != int.from_bytes(data[-4:], "little"):
        raise ContainerError("chunk frame is truncated or its checksum does not match")
    if data[1] >= len(DTYPES) or not 1 <= data[2] <= 32:
        raise ContainerError("chunk frame has an unknown dtype or a bad number of axes")
    body, pos, shape = memoryview(data)[:-4], 3, []
    for _ in range(data[2]):
        n, pos = _read_uvarint(body, pos)
        shape.append(n)
    return data[0], np.dtype(DTYPES[data[1]]), shape, pos


def _bytes_per_value(kind: int, dtype: np.dtype) -> int:
    """What decoding allocates per value: the chunk and its copies; for a residual, the
    decoder's int64 and float64 working arrays too (about 50 bytes measured, 64 assumed)."""
    return RESIDUAL_WORK + 2 * dtype.itemsize if kind == RESIDUAL else (1 if kind == CONSTANT else 2) * dtype.itemsize


def _residual(rest: bytes, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    if len(rest) < 8 + dtype.itemsize:
        raise ContainerError("error-bounded chunk frame is truncated")
    (bound,) = struct.unpack("<d", rest[:8])
    if not 0 < bound < float("inf"):
        raise ContainerError(f"error-bounded chunk frame has a bad bound {bound!r}")
    origin = _exactly(rest[8:8 + dtype.itemsize], dtype, 1)[0]
    if dtype.kind == "f" and not np.isfinite(origin):  # specials are stored apart: the origin is always finite
        raise ContainerError(f"error-bounded chunk frame has a non-finite origin {origin!r}")
    count, pos = _read_uvarint(rest, 8 + dtype.itemsize)
    parts = []
    for _ in range(3):
        n, pos = _read_uvarint(rest, pos)
        if pos + n > len(rest):
            raise ContainerError("error-bounded chunk frame is truncated")
        parts.append(rest[pos:pos + n])
        pos += n
    if pos != len(rest):
        raise ContainerError("error-bounded chunk frame has trailing bytes")
    sections = {"residual": parts[0], **({"exceptions": parts[1]} if parts[1] else {})}
    info = {"max_abs_error": bound, "step": 2.0 * bound * (1.0 - errorbound.MARGIN), "exceptions": count}
    out = errorbound.decode(np.full(shape, origin, dtype), info, sections)
    return specials.apply(out, parts[2]) if parts[2] else out


def _le(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array, array.dtype.newbyteorder("<") if array.dtype.itemsize > 1 else array.dtype)


def _exactly(data: bytes, dtype: np.dtype, count: int) -> np.ndarray:
    if len(data) != count * dtype.itemsize:
        raise ContainerError(f"chunk frame holds {len(data)} bytes of values, its shape needs {count * dtype.itemsize}")
    return np.frombuffer(data, dtype).astype(dtype.newbyteorder("="))


def _unzstd(data: bytes, size: int) -> bytes:
    try:
        if zstandard.frame_content_size(data) != size:  # checked first: no zstd bombs
            raise ContainerError("chunk frame's zstd content does not match its shape")
        frame = zstandard.ZstdDecompressor().decompressobj()
        out = frame.decompress(data)
    except zstandard.ZstdError as exc:
        raise ContainerError(f"chunk frame's zstd content is corrupt: {exc}") from exc
    if len(out) != size or not frame.eof or frame.unused_data:
        raise ContainerError("chunk frame's zstd content is truncated or has trailing bytes")
    return out


def _seal(body: bytes) -> bytes:
    return body + zlib.crc32(body).to_bytes(4, "little")


def _read_uvarint(data, pos: int) -> tuple[int, int]:
    return read_uvarint(data, pos, "a chunk frame's length field")
