"""Entropy models: named integer symbols <-> bytes.

An entropy model MUST decode exactly what it encoded given the same `layout` (names and
shapes, in order) and symbol width, and MUST raise `inrz.ContainerError` on data that does
not fit the layout: decoding reads bytes from a file, and only malformed content is reported
as a bad file. Any other exception is a bug and keeps its type. Its config is stored in the
container header, so a learned model's config names where its statistics live (COIN++'s
`table` names a base network artifact holding its frequency tables).
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np
import zstandard
from pydantic import Field

from ..core.component import Component, ComponentConfig
from ..core.errors import ContainerError
from .bits import Layout, Symbols, concat, layout_size, pack_bits, split, unpack_bits


class EntropyModel(Component):
    kind = "entropy"
    hook = "register_entropy_models"  # the plugin hook that registers this kind (`inrz.hookimpl`)

    def encode(self, symbols: Symbols, bits: int) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes, layout: Layout, bits: int) -> Symbols:
        raise NotImplementedError


class Raw(EntropyModel):
    """No entropy coding: every symbol takes exactly `bits` bits (the paper's COIN rate)."""

    id = "raw"

    def encode(self, symbols: Symbols, bits: int) -> bytes:
        return pack_bits(concat(symbols), bits)

    def decode(self, data: bytes, layout: Layout, bits: int) -> Symbols:
        return split(unpack_bits(data, layout_size(layout), bits), layout)


class ZstdConfig(ComponentConfig):
    level: int = Field(19, ge=1, le=22)  # zstd level; 19 is slow to write, fast to read
    shuffle: bool = True  # split multi-byte symbols into byte planes first (helps fp16 a lot)


class Zstd(EntropyModel):
    """Fixed-width packing followed by zstd, optionally byte-shuffled like Blosc."""

    id = "zstd"
    Config: ClassVar = ZstdConfig

    def encode(self, symbols: Symbols, bits: int) -> bytes:
        packed = pack_bits(concat(symbols), bits)
        return zstandard.ZstdCompressor(level=self.config.level).compress(self._shuffle(packed, bits, forward=True))

    def decode(self, data: bytes, layout: Layout, bits: int) -> Symbols:
        expected = (layout_size(layout) * bits + 7) // 8
        try:
            size = zstandard.frame_content_size(data)
            if size != expected:  # checked first: a forged size must not allocate memory
                raise ContainerError(f"zstd payload holds {size} bytes, the layout needs {expected}")
            dobj = zstandard.ZstdDecompressor().decompressobj()
            packed = dobj.decompress(data)
        except zstandard.ZstdError as exc:
            raise ContainerError(f"zstd payload is corrupt: {exc}") from exc
        if not dobj.eof or dobj.unused_data:  # one-shot decompress would ignore trailing bytes
            raise ContainerError("zstd payload is truncated or has trailing bytes")
        return split(unpack_bits(self._shuffle(packed, bits, forward=False), layout_size(layout), bits), layout)

    def _shuffle(self, packed: bytes, bits: int, forward: bool) -> bytes:
        """Byte planes of 16-bit symbols (high bytes, then low bytes), as Blosc's shuffle does."""
        if not self.config.shuffle or bits != 16 or len(packed) % 2:
            return packed
        arr = np.frombuffer(packed, np.uint8)
        return (arr.reshape(-1, 2).T if forward else arr.reshape(2, -1).T).tobytes()
