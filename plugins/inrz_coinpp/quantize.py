"""COIN++'s latent quantizer: clip at mean +- k std, then 2**bits uniform levels, with the
statistics learned at training time.

The quantizer names a base network artifact (`model: <hash>`); the statistics live in the
artifact, so a container header stays small. Training (`loop.py`) fits them with `latent_stats` and
quantizes training latents with `uniform_symbols` to fit the entropy tables (`table.py`).
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from inrz import BaseNetworkError, ComponentConfig, ContainerError, Quantizer, Tensors

from . import artifacts

#: clipping range in standard deviations per bit width: fewer levels, tighter range
DEFAULT_STD_RANGE = {1: 1.0, 2: 1.5, 3: 2.0, 4: 2.5, 5: 3.0, 6: 3.0, 7: 3.5, 8: 4.0}


def std_range_for(bits: int, override: float | None = None) -> float:
    return override if override is not None else DEFAULT_STD_RANGE.get(bits, 4.0)


def latent_stats(latents: np.ndarray) -> dict[str, object]:
    """Mean and std of training latents (P, D), global and per dimension, as JSON lists."""
    z = latents.astype(np.float64)
    return {"mean": float(z.mean()), "std": float(z.std() + 1e-8),
            "mean_per_dim": z.mean(axis=0).tolist(), "std_per_dim": (z.std(axis=0) + 1e-8).tolist()}


def uniform_symbols(latents: np.ndarray, mean, std, bits: int, std_range: float) -> np.ndarray:
    levels = (1 << bits) - 1
    x = np.clip((latents - mean) / std, -std_range, std_range)
    return np.rint((x + std_range) / (2 * std_range) * levels).astype(np.int64)


def uniform_values(symbols: np.ndarray, mean, std, bits: int, std_range: float) -> np.ndarray:
    levels = np.float32((1 << bits) - 1)
    x = symbols.astype(np.float32) / levels * np.float32(2 * std_range) - np.float32(std_range)
    return (x * np.asarray(std, np.float32) + np.asarray(mean, np.float32)).astype(np.float32)


class LatentUniformConfig(ComponentConfig):
    model: str  # base network hash whose latent statistics set the range
    bits: int = Field(5, ge=1, le=12)  # bits per latent (paper sweeps 3-8)
    std_range: float | None = Field(None, gt=0, le=64)  # clip at mean +- std_range * std; None: DEFAULT_STD_RANGE
    per_dim: bool = False  # statistics per latent dimension instead of global


class LatentUniform(Quantizer):
    """COIN++ latent quantizer: clip at mean +- k std, then 2**bits uniform levels."""

    id = "latent_uniform"
    Config: ClassVar = LatentUniformConfig

    @property
    def bits(self) -> int:
        return self.config.bits

    def _params(self):
        net = artifacts.load(self.config.model)
        keys = ("mean_per_dim", "std_per_dim") if self.config.per_dim else ("mean", "std")
        try:
            mean, std = (np.asarray(net.stats[k], np.float32) for k in keys)
        except (KeyError, TypeError, ValueError) as exc:
            raise BaseNetworkError(f"base network {self.config.model} has no readable latent statistics ({exc})") from exc
        shape = (net.shape.latent_dim,) if self.config.per_dim else ()
        if mean.shape != shape or std.shape != shape or not (np.isfinite(mean).all() and (std > 0).all()
                                                              and np.isfinite(std).all()):
            raise BaseNetworkError(f"base network {self.config.model}'s latent statistics are malformed")
        return mean, std

    def quantize(self, tensors: Tensors) -> tuple[Tensors, bytes]:
        mean, std = self._params()
        r = std_range_for(self.bits, self.config.std_range)
        return {k: uniform_symbols(v, mean, std, self.bits, r) for k, v in tensors.items()}, b""

    def dequantize(self, symbols: Tensors, side: bytes) -> Tensors:
        if side:
            raise ContainerError("latent_uniform expects no side information")
        mean, std = self._params()
        r = std_range_for(self.bits, self.config.std_range)
        return {k: uniform_values(v, mean, std, self.bits, r) for k, v in symbols.items()}
