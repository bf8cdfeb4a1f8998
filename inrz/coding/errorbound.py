"""Error-bounded coding: an INR plus a quantized residual, so every decoded value is within
a stated maximum absolute error of the original.

The encoder decodes its own container exactly as a decoder will, quantizes the residual with
a uniform step just under twice the bound (a small margin absorbs float rounding of the
network between machines), codes it with zstd, and stores any value the quantized residual
still misses (output rounding to the dtype, tiny bounds) exactly, as an exception.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import zstandard

from ..core import fields
from ..core.errors import ContainerError
from ..signal.ndarray import cast

MARGIN = 1e-3  # step = 2 * bound * (1 - MARGIN)


def residual_sections(original: np.ndarray, approx: np.ndarray, bound: float) -> tuple[dict, dict[str, bytes]]:
    """Header entry and sections that bring `approx` within `bound` of `original`."""
    step = 2.0 * bound * (1.0 - MARGIN)
    q = np.rint(np.clip((original.astype(np.float64) - approx.astype(np.float64)) / step, -2.0**60, 2.0**60))
    q = q.astype(np.int64)  # beyond 2**60 steps (absurdly small bounds) values become exceptions
    fixed = apply(approx, q, step, original.dtype)
    miss = np.flatnonzero(abs_diff(fixed, original).ravel() > bound)
    header = {"max_abs_error": bound, "step": step, "exceptions": int(miss.size)}
    sections = {"residual": encode_ints(q.ravel()),
                "exceptions": encode_ints(np.diff(miss, prepend=0)) + original.ravel()[miss].tobytes()}
    return header, sections


def abs_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| elementwise, exact for 64-bit integers too (float64 cannot tell 2**63 - 1 from
    2**63, which would let a missed value pass the check): the difference of two integers of
    one dtype always fits uint64."""
    if a.dtype.kind in "iu":
        wide = np.int64 if a.dtype.kind == "i" else np.uint64
        a64, b64 = a.astype(wide), b.astype(wide)
        return np.maximum(a64, b64).astype(np.uint64) - np.minimum(a64, b64).astype(np.uint64)  # exact mod 2**64
    return np.abs(a.astype(np.float64) - b.astype(np.float64))


def apply(approx: np.ndarray, q: np.ndarray, step: float, dtype: np.dtype) -> np.ndarray:
    """`approx` plus `q` steps, rounded and clipped to `dtype` as the decoder delivers it."""
    return cast(approx.astype(np.float64) + q.reshape(approx.shape).astype(np.float64) * step, dtype)


def decode(approx: np.ndarray, info: dict[str, Any], sections: dict[str, bytes]) -> np.ndarray:
    """The error-bounded array from the INR's output and the residual sections; anything in
    them that no encoder writes is a `ContainerError`."""
    step, count = check_info(info, approx.size)
    for name in ("residual", "exceptions"):
        if name not in sections:
            raise ContainerError(f"error-bounded container has no {name!r} section")
    q, _ = decode_ints(sections["residual"], approx.size)
    fixed = apply(approx, q, step, approx.dtype).ravel()
    gaps, used = decode_ints(sections["exceptions"], count)
    values = sections["exceptions"][used:]
    if len(values) != count * approx.dtype.itemsize:
        raise ContainerError(f"error-bound exceptions hold {len(values)} bytes of values for {count} positions")
    positions = np.cumsum(gaps)
    if count and (gaps.min() < 0 or positions[-1] >= approx.size):
        raise ContainerError("error-bound exception positions lie outside the array")
    fixed[positions] = np.frombuffer(values, dtype=approx.dtype)
    if fixed.dtype.kind == "f" and not np.isfinite(fixed[np.isfinite(approx.ravel())]).all():
        raise ContainerError("the error-bound residual or exceptions make values NaN or infinite: the file is damaged")
    return fixed.reshape(approx.shape)


def check_info(info: Any, size: int) -> tuple[float, int]:
    """The header's `error_bound` entry: a positive finite bound, a step no larger than the
    bound allows (a larger one would void the guarantee), and 0..size exceptions."""
    if not isinstance(info, dict):
        raise ContainerError(f"header error_bound must be an object, got {type(info).__name__}")
    step, count, bound = info.get("step"), info.get("exceptions"), info.get("max_abs_error")
    if not _positive_finite(bound):
        raise ContainerError(f"header error_bound.max_abs_error must be a positive number, got {bound!r}")
    if not _positive_finite(step) or step > 2.0 * bound:
        raise ContainerError(f"header error_bound.step must be a positive number at most twice max_abs_error "
                             f"({bound!r}), got {step!r}")
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= size:
        raise ContainerError(f"header error_bound.exceptions must be an integer in 0..{size}, got {count!r}")
    return float(step), count


def _positive_finite(value: Any) -> bool:
    return fields.finite(value) and value > 0


def encode_ints(values: np.ndarray) -> bytes:
    """Zigzag, narrowest unsigned width, byte planes, zstd: residuals are mostly 0 and +-1."""
    z = ((values << 1) ^ (values >> 63)).astype(np.uint64)
    width = next(w for w in (1, 2, 4, 8) if z.size == 0 or int(z.max()) < 1 << (8 * w))
    planes = z.astype(f"<u{width}").view(np.uint8).reshape(-1, width).T.tobytes()
    return bytes([width]) + (len(values)).to_bytes(8, "little") + zstandard.ZstdCompressor(level=19).compress(planes)


def decode_ints(data: bytes, count: int) -> tuple[np.ndarray, int]:
    """Inverse of `encode_ints`; returns the values and how many bytes the frame used (a
    `ContainerError` if the frame does not hold exactly `count` values)."""
    if len(data) < 9 or data[0] not in (1, 2, 4, 8) or int.from_bytes(data[1:9], "little") != count:
        raise ContainerError("bad error-bound residual frame header")
    width = data[0]
    obj = zstandard.ZstdDecompressor().decompressobj()
    try:
        if zstandard.frame_content_size(data[9:]) != count * width:  # checked first: no zstd bombs
            raise ContainerError("error-bound residual length does not match the array")
        planes = obj.decompress(data[9:])
    except zstandard.ZstdError as exc:
        raise ContainerError(f"corrupt error-bound residual: {exc}") from exc
    if len(planes) != count * width:
        raise ContainerError("error-bound residual length does not match the array")
    used = len(data) - len(obj.unused_data)
    z = np.frombuffer(planes, np.uint8).reshape(width, count).T.copy().view(f"<u{width}").ravel().astype(np.uint64)
    return ((z >> np.uint64(1)).astype(np.int64) ^ -(z & np.uint64(1)).astype(np.int64)), used
