"""Integer frames: zigzag, the narrowest byte width, byte planes, zstd.

New files use them for the few integers their sections hold (the gaps between positions in
the error bound's `exceptions` and in `specials`). Files written before the context coder
(`inrz.coding.ctxcoder`) also hold their whole residual in one such frame (it starts with its
width byte, 1, 2, 4 or 8), which the error-bound reader decodes with `decode_ints`.
"""
from __future__ import annotations

import numpy as np
import zstandard

from ..core.errors import ContainerError

WIDTHS = (1, 2, 4, 8)


def encode_ints(values: np.ndarray) -> bytes:
    """Zigzag, narrowest unsigned width, byte planes, zstd: residuals are mostly 0 and +-1."""
    values = np.asarray(values, np.int64)
    z = ((values << 1) ^ (values >> 63)).astype(np.uint64)
    width = next(w for w in WIDTHS if z.size == 0 or int(z.max()) < 1 << (8 * w))
    planes = z.astype(f"<u{width}").view(np.uint8).reshape(-1, width).T.tobytes()
    return bytes([width]) + (len(values)).to_bytes(8, "little") + zstandard.ZstdCompressor(level=19).compress(planes)


def decode_ints(data: bytes, count: int) -> tuple[np.ndarray, int]:
    """Inverse of `encode_ints`; returns the values and how many bytes the frame used (a
    `ContainerError` if the frame does not hold exactly `count` values)."""
    if len(data) < 9 or data[0] not in WIDTHS or int.from_bytes(data[1:9], "little") != count:
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
