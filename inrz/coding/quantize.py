"""Quantizers: named float tensors <-> named integer symbols plus side information.

A quantizer MUST be deterministic and bit-exact on every machine: `dequantize` only uses
the integer symbols and the side bytes it wrote, never floating point state it did not store,
and raises `inrz.ContainerError` on side bytes it cannot have written (they come from a file).
`bits` is the symbol width, used by fixed-width packing and to size entropy-model alphabets.
"""
from __future__ import annotations

import math
import struct
from typing import ClassVar

import numpy as np
from pydantic import Field

from ..core.component import Component, ComponentConfig
from ..core.errors import ContainerError

Tensors = dict[str, np.ndarray]


class Quantizer(Component):
    kind = "quantizer"
    hook = "register_quantizers"  # the plugin hook that registers this kind (`inrz.hookimpl`)

    @property
    def bits(self) -> int:
        raise NotImplementedError

    def quantize(self, tensors: Tensors) -> tuple[Tensors, bytes]:
        raise NotImplementedError

    def dequantize(self, symbols: Tensors, side: bytes) -> Tensors:
        raise NotImplementedError


class Float16(Quantizer):
    """IEEE half precision (COIN's default): symbols are the 16-bit patterns."""

    id = "fp16"

    @property
    def bits(self) -> int:
        return 16

    def quantize(self, tensors: Tensors) -> tuple[Tensors, bytes]:
        return {k: v.astype(np.float16).view(np.uint16).astype(np.int64) for k, v in tensors.items()}, b""

    def dequantize(self, symbols: Tensors, side: bytes) -> Tensors:
        if side:
            raise ContainerError("fp16 quantizer expects no side information")
        return {k: v.astype(np.uint16).view(np.float16).astype(np.float32) for k, v in symbols.items()}


class UniformConfig(ComponentConfig):
    bits: int = Field(8, ge=1, le=16)  # symbol width; 2**bits levels per tensor


class Uniform(Quantizer):
    """n-bit uniform quantization per tensor between its min and max (side: float32 lo, step)."""

    id = "uniform"
    Config: ClassVar = UniformConfig
    _side = struct.Struct("<ff")

    @property
    def bits(self) -> int:
        return self.config.bits

    def quantize(self, tensors: Tensors) -> tuple[Tensors, bytes]:
        levels = (1 << self.bits) - 1
        symbols, side = {}, bytearray()
        for name, value in tensors.items():
            lo, hi = np.float32(value.min()), np.float32(value.max())
            step = np.float32((hi - lo) / levels) if hi > lo else np.float32(1.0)
            symbols[name] = np.clip(np.rint((value - lo) / step), 0, levels).astype(np.int64)
            side += self._side.pack(lo, step)
        return symbols, bytes(side)

    def dequantize(self, symbols: Tensors, side: bytes) -> Tensors:
        if len(side) != self._side.size * len(symbols):
            raise ContainerError(f"uniform quantizer side info is {len(side)} bytes, expected "
                                 f"{self._side.size * len(symbols)}")
        out = {}
        with np.errstate(over="ignore", invalid="ignore"):  # side info from a file may overflow; decoding refuses inf
            for i, (name, sym) in enumerate(symbols.items()):
                lo, step = self._side.unpack_from(side, i * self._side.size)
                if not (math.isfinite(lo) and math.isfinite(step) and step > 0):  # the encoder writes neither
                    raise ContainerError(f"uniform quantizer side info of {name!r} has minimum {lo!r}, step {step!r}")
                out[name] = (np.float32(lo) + sym.astype(np.float32) * np.float32(step)).astype(np.float32)
        return out
