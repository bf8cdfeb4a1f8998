"""Entropy models: named integer symbols <-> bytes.

An entropy model MUST decode exactly what it encoded given the same `layout` (names and
shapes, in order) and symbol width, and MUST raise `ValueError` on data that does not fit
the layout (the codec turns that into a `ContainerError`). Learned models (range coding with
frequency tables) store their tables in their config, so a container header rebuilds them.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from ..core.component import Component, ComponentConfig

Symbols = dict[str, np.ndarray]
Layout = dict[str, tuple[int, ...]]


class EntropyModel(Component):
    kind = "entropy"

    def encode(self, symbols: Symbols, bits: int) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes, layout: Layout, bits: int) -> Symbols:
        raise NotImplementedError


def pack_bits(values: np.ndarray, bits: int) -> bytes:
    """Fixed-width big-endian bit packing of non-negative integers < 2**bits."""
    values = np.asarray(values, dtype=np.int64).ravel()
    if values.size and (values.min() < 0 or values.max() >= 1 << bits):
        raise ValueError(f"symbols out of range for {bits}-bit packing")
    if bits in (8, 16):
        return values.astype(">u1" if bits == 8 else ">u2").tobytes()
    shifts = np.arange(bits - 1, -1, -1, dtype=np.int64)
    return np.packbits(((values[:, None] >> shifts) & 1).astype(np.uint8).ravel()).tobytes()


def unpack_bits(data: bytes, count: int, bits: int) -> np.ndarray:
    if len(data) != (count * bits + 7) // 8:
        raise ValueError(f"packed data is {len(data)} bytes, expected {(count * bits + 7) // 8}")
    if bits in (8, 16):
        return np.frombuffer(data, dtype=">u1" if bits == 8 else ">u2").astype(np.int64)
    flat = np.unpackbits(np.frombuffer(data, dtype=np.uint8))[: count * bits].reshape(count, bits)
    return (flat.astype(np.int64) << np.arange(bits - 1, -1, -1, dtype=np.int64)).sum(axis=1)


def _concat(symbols: Symbols) -> np.ndarray:
    return np.concatenate([np.asarray(v, np.int64).ravel() for v in symbols.values()]) if symbols else np.zeros(0, np.int64)


def _split(flat: np.ndarray, layout: Layout) -> Symbols:
    out, offset = {}, 0
    for name, shape in layout.items():
        n = int(np.prod(shape, dtype=np.int64))
        out[name] = flat[offset:offset + n].reshape(shape)
        offset += n
    return out


def layout_size(layout: Layout) -> int:
    return int(sum(int(np.prod(s, dtype=np.int64)) for s in layout.values()))


class Raw(EntropyModel):
    """No entropy coding: every symbol takes exactly `bits` bits (the paper's COIN rate)."""

    id = "raw"

    def encode(self, symbols: Symbols, bits: int) -> bytes:
        return pack_bits(_concat(symbols), bits)

    def decode(self, data: bytes, layout: Layout, bits: int) -> Symbols:
        return _split(unpack_bits(data, layout_size(layout), bits), layout)


class ZstdConfig(ComponentConfig):
    level: int = Field(19, ge=1, le=22)  # zstd level; 19 is slow to write, fast to read
    shuffle: bool = True  # split multi-byte symbols into byte planes first (helps fp16 a lot)


class Zstd(EntropyModel):
    """Fixed-width packing followed by zstd, optionally byte-shuffled like Blosc."""

    id = "zstd"
    Config: ClassVar = ZstdConfig

    def encode(self, symbols: Symbols, bits: int) -> bytes:
        import zstandard

        packed = pack_bits(_concat(symbols), bits)
        return zstandard.ZstdCompressor(level=self.config.level).compress(self._shuffle(packed, bits, forward=True))

    def decode(self, data: bytes, layout: Layout, bits: int) -> Symbols:
        import zstandard

        expected = (layout_size(layout) * bits + 7) // 8
        try:
            size = zstandard.frame_content_size(data)
            if size != expected:  # checked first: a forged size must not allocate memory
                raise ValueError(f"zstd payload holds {size} bytes, the layout needs {expected}")
            dobj = zstandard.ZstdDecompressor().decompressobj()
            packed = dobj.decompress(data)
        except zstandard.ZstdError as exc:
            raise ValueError(f"zstd payload is corrupt: {exc}") from exc
        if not dobj.eof or dobj.unused_data:  # one-shot decompress would ignore trailing bytes
            raise ValueError("zstd payload is truncated or has trailing bytes")
        return _split(unpack_bits(self._shuffle(packed, bits, forward=False), layout_size(layout), bits), layout)

    def _shuffle(self, packed: bytes, bits: int, forward: bool) -> bytes:
        if not self.config.shuffle or bits != 16 or len(packed) % 2:
            return packed
        arr = np.frombuffer(packed, np.uint8)
        return (arr.reshape(-1, 2).T if forward else arr.reshape(2, -1).T).tobytes()
