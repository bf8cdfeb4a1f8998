"""Values kept exactly, outside any model: NaN, +-Inf and the fill values a dataset declares
(CF `_FillValue` / `missing_value`, zarr's fill value for padded edge chunks).

They are found before coding, replaced by the mean of the other values (so a network or a
predictor sees a plausible field), and stored in a `specials` section that the decoder
writes back bit for bit (NaN payloads included):

    u8 how the positions are stored (0: a zstd bitmap of the array; 1: gaps, `intframe.encode_ints`)
    u32 number of special positions n, then the positions
    u16 palette size P, then P values' raw bytes (P = 0: n raw values follow instead)
    if P > 1: n u8 palette indices, zstd
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import zstandard

from ..core.errors import ContainerError
from .intframe import decode_ints, encode_ints

MAX_PALETTE = 255


@dataclass(frozen=True)
class Specials:
    mask: np.ndarray  # True where the value is kept exactly
    section: bytes  # the `specials` section


def split(array: np.ndarray, fill_values: Sequence[float] = ()) -> tuple[np.ndarray, Specials | None]:
    """The array with special values replaced by the mean of the rest, and what restores them."""
    mask = find(array, fill_values)
    if not mask.any():
        return array, None
    filled = array.copy()
    filled[mask] = _plausible(array[~mask])
    return filled, Specials(mask, encode(array, mask))


def _plausible(valid: np.ndarray):
    """The mean of the valid values, or any one of them if that overflows (0 if none)."""
    if not valid.size:
        return np.zeros((), valid.dtype)
    mean = np.asarray(valid.astype(np.float64).mean()).astype(valid.dtype)
    return mean if np.isfinite(mean) and valid.min() <= mean <= valid.max() else valid.flat[0]


def find(array: np.ndarray, fill_values: Sequence[float] = ()) -> np.ndarray:
    mask = ~np.isfinite(array) if array.dtype.kind == "f" else np.zeros(array.shape, bool)
    for value in fill_values:
        if (exact := _in_dtype(value, array.dtype)) is not None:
            mask |= array == exact
    return mask


def _in_dtype(value: float, dtype: np.dtype):
    """The fill value as it is stored in an array of `dtype` (CF: in the variable's own type),
    or None if that dtype cannot hold it (it then never occurs)."""
    if dtype.kind == "f":
        with np.errstate(over="ignore"):
            exact = np.asarray(value, np.float64).astype(dtype)
        return exact if np.isfinite(exact) or not np.isfinite(value) else None
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return np.asarray(int(value), dtype) if float(value).is_integer() and info.min <= value <= info.max else None
    return None


def encode(array: np.ndarray, mask: np.ndarray) -> bytes:
    flat = np.ascontiguousarray(array).reshape(-1).view(f"u{array.dtype.itemsize}")
    where = np.flatnonzero(mask.ravel())
    bitmap = zstandard.ZstdCompressor(level=19).compress(np.packbits(mask.ravel()).tobytes())
    gaps = encode_ints(np.diff(where, prepend=0))
    out = (bytes([0]) + len(where).to_bytes(4, "little") + bitmap if len(bitmap) < len(gaps)
           else bytes([1]) + len(where).to_bytes(4, "little") + gaps)
    palette, index = np.unique(flat[where], return_inverse=True)
    if palette.size > MAX_PALETTE:
        return out + bytes(2) + flat[where].astype(f"<u{array.dtype.itemsize}").tobytes()
    out += palette.size.to_bytes(2, "little") + palette.astype(f"<u{array.dtype.itemsize}").tobytes()
    if palette.size > 1:
        out += zstandard.ZstdCompressor(level=19).compress(index.astype(np.uint8).tobytes())
    return out


def apply(array: np.ndarray, data: bytes) -> np.ndarray:
    """`array` with the section's values written back; `ContainerError` if it is malformed."""
    width = array.dtype.itemsize
    if len(data) < 5 or data[0] not in (0, 1):
        raise ContainerError("the specials section has a bad header")
    n = int.from_bytes(data[1:5], "little")
    if n > array.size:
        raise ContainerError(f"the specials section names {n} positions in an array of {array.size}")
    where, pos = _positions(data, 5, data[0], n, array.size)
    if len(data) < pos + 2:
        raise ContainerError("the specials section is truncated")
    size, pos = int.from_bytes(data[pos:pos + 2], "little"), pos + 2
    count = size if size else n
    if len(data) < pos + count * width:
        raise ContainerError("the specials section is truncated")
    values = np.frombuffer(data, f"<u{width}", count, pos)
    if size > 1:
        index = np.frombuffer(_unzstd(data[pos + count * width:], n), np.uint8)
        if index.max(initial=0) >= size:
            raise ContainerError("the specials section indexes past its palette")
        values = values[index]
    elif size == 1:
        values = np.repeat(values, n)
    out = np.ascontiguousarray(array).copy()
    out.reshape(-1).view(f"u{width}")[where] = values
    return out


def _positions(data: bytes, pos: int, how: int, n: int, size: int) -> tuple[np.ndarray, int]:
    if how == 0:
        frame = zstandard.ZstdDecompressor().decompressobj()
        raw = _unzstd(data[pos:], (size + 7) // 8, frame)
        where = np.flatnonzero(np.unpackbits(np.frombuffer(raw, np.uint8), count=size))
        used = len(data) - pos - len(frame.unused_data)
    else:
        gaps, used = decode_ints(data[pos:], n)
        where = np.cumsum(gaps)
        if n and (gaps.min() < 0 or (n > 1 and gaps[1:].min() < 1) or where[-1] >= size):
            raise ContainerError("the specials section's positions lie outside the array")
    if where.size != n:
        raise ContainerError("the specials section's positions do not match its count")
    return where, pos + used


def _unzstd(data: bytes, size: int, frame=None) -> bytes:
    """One zstd frame of exactly `size` bytes, checked before decompressing (no bombs)."""
    frame = frame or zstandard.ZstdDecompressor().decompressobj()
    try:
        if zstandard.frame_content_size(data) != size:
            raise ContainerError("a specials frame does not have the size its header states")
        out = frame.decompress(data)
    except zstandard.ZstdError as exc:
        raise ContainerError(f"the specials section is corrupt: {exc}") from exc
    if len(out) != size:
        raise ContainerError("a specials frame is truncated")
    return out
