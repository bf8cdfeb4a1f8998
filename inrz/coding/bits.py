"""Fixed-width bit packing of integer symbols, and the flat order entropy models code them in.

Symbols are named arrays; a `Layout` gives their names and shapes in order (from the
backend), so decoders know how many symbols to read without storing it.
"""
from __future__ import annotations

import math

import numpy as np

from ..core.errors import ContainerError

Symbols = dict[str, np.ndarray]
Layout = dict[str, tuple[int, ...]]


def layout_size(layout: Layout) -> int:
    """How many symbols a layout holds (exact integers: a header's shapes can be huge)."""
    return sum(math.prod(int(n) for n in s) for s in layout.values())


def concat(symbols: Symbols) -> np.ndarray:
    """Every symbol array flattened into one int64 array, in layout order."""
    if not symbols:
        return np.zeros(0, np.int64)
    return np.concatenate([np.asarray(v, np.int64).ravel() for v in symbols.values()])


def split(flat: np.ndarray, layout: Layout) -> Symbols:
    """Inverse of `concat`: the flat symbols cut into the layout's named shapes."""
    out, offset = {}, 0
    for name, shape in layout.items():
        n = int(np.prod(shape, dtype=np.int64))
        out[name] = flat[offset:offset + n].reshape(shape)
        offset += n
    return out


def pack_bits(values: np.ndarray, bits: int) -> bytes:
    """Fixed-width big-endian bit packing of non-negative integers < 2**bits.

    Out-of-range values are the caller's bug (a quantizer broke its contract): `ValueError`.
    """
    values = np.asarray(values, dtype=np.int64).ravel()
    if values.size and (values.min() < 0 or values.max() >= 1 << bits):
        raise ValueError(f"symbols out of range for {bits}-bit packing")
    if bits in (8, 16):
        return values.astype(">u1" if bits == 8 else ">u2").tobytes()
    shifts = np.arange(bits - 1, -1, -1, dtype=np.int64)
    return np.packbits(((values[:, None] >> shifts) & 1).astype(np.uint8).ravel()).tobytes()


def unpack_bits(data: bytes, count: int, bits: int) -> np.ndarray:
    """Inverse of `pack_bits`; data of another length than `count` symbols is a `ContainerError`."""
    if len(data) != (count * bits + 7) // 8:
        raise ContainerError(f"packed data is {len(data)} bytes, expected {(count * bits + 7) // 8}")
    if bits in (8, 16):
        return np.frombuffer(data, dtype=">u1" if bits == 8 else ">u2").astype(np.int64)
    flat = np.unpackbits(np.frombuffer(data, dtype=np.uint8))[: count * bits].reshape(count, bits)
    return (flat.astype(np.int64) << np.arange(bits - 1, -1, -1, dtype=np.int64)).sum(axis=1)
