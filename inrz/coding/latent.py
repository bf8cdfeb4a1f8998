"""Quantization and range coding of COIN++ latents, with statistics learned at training time.

Both components name a base network artifact (`model: <hash>`); the statistics and the
frequency tables live in the artifact, so a container header stays a few hundred bytes.
Tables are integer counts per latent dimension, for symbols quantized with global and with
per-dimension statistics; the coder turns them into probabilities with a few float64 sums and
divisions in a fixed order, which is exact-rounded IEEE arithmetic and so identical on every
machine, and `constriction` quantizes those to its fixed-point model deterministically.
"""
from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from ..nets import artifacts
from ..core.component import ComponentConfig
from .entropy import EntropyModel, Layout, Symbols, layout_size
from ..core.errors import InrzError
from .quantize import Quantizer, Tensors

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
    std_range: float | None = Field(None, gt=0)  # clip at mean +- std_range * std; None: DEFAULT_STD_RANGE
    per_dim: bool = False  # statistics per latent dimension instead of global


class LatentUniform(Quantizer):
    """COIN++ latent quantizer: clip at mean +- k std, then 2**bits uniform levels."""

    id = "latent_uniform"
    Config: ClassVar = LatentUniformConfig

    @property
    def bits(self) -> int:
        return self.config.bits

    def _params(self):
        stats = artifacts.load(self.config.model).stats
        if self.config.per_dim:
            return np.asarray(stats["mean_per_dim"], np.float32), np.asarray(stats["std_per_dim"], np.float32)
        return np.float32(stats["mean"]), np.float32(stats["std"])

    def quantize(self, tensors: Tensors) -> tuple[Tensors, bytes]:
        mean, std = self._params()
        r = std_range_for(self.bits, self.config.std_range)
        return {k: uniform_symbols(v, mean, std, self.bits, r) for k, v in tensors.items()}, b""

    def dequantize(self, symbols: Tensors, side: bytes) -> Tensors:
        if side:
            raise ValueError("latent_uniform expects no side information")
        mean, std = self._params()
        r = std_range_for(self.bits, self.config.std_range)
        return {k: uniform_values(v, mean, std, self.bits, r) for k, v in symbols.items()}


def count_table(symbols: np.ndarray, bits: int) -> list:
    """Raw symbol counts per latent dimension, (D, 2**bits), as nested int lists."""
    n = 1 << bits
    return [np.bincount(symbols[:, d], minlength=n)[:n].tolist() for d in range(symbols.shape[1])]


def table_probabilities(counts: np.ndarray, per_dim: bool) -> np.ndarray:
    """Probabilities from counts (D, n): pooled add-one for the global table; per dimension,
    counts shrunk towards the pooled distribution with a prior weight of n samples, so sparse
    dimensions fall back on the global shape instead of on a flat add-one guess."""
    pooled = counts.sum(axis=0) + 1.0
    p_pool = pooled / pooled.sum()
    if not per_dim:
        return p_pool
    n = counts.shape[1]
    return (counts + n * p_pool) / (counts.sum(axis=1, keepdims=True) + n)


class TableConfig(ComponentConfig):
    model: str  # base network hash holding the frequency tables
    per_dim: bool = False  # one table per latent dimension instead of one for all
    stats: Literal["global", "per_dim"] = "global"  # the quantizer statistics the symbols come from (match it)


class Table(EntropyModel):
    """Range coding (constriction) with frequency tables fitted on training latents."""

    id = "table"
    Config: ClassVar = TableConfig

    def probabilities(self, bits: int, layout: Layout) -> np.ndarray:
        """Per-symbol probabilities (count, 2**bits) in the order symbols are coded."""
        tables = artifacts.load(self.config.model).tables.get(str(bits))
        if tables is None:
            raise InrzError(f"base network {self.config.model} has no {bits}-bit tables; "
                            "retrain with that width in train.quant_bits")
        probs = table_probabilities(np.asarray(tables[self.config.stats], np.float64), self.config.per_dim)
        if not self.config.per_dim:
            return np.broadcast_to(probs, (layout_size(layout), probs.shape[-1]))
        rows = [np.tile(probs, (int(np.prod(shape[:-1])), 1)) for shape in layout.values()]
        if any(shape[-1] != probs.shape[0] for shape in layout.values()):
            raise ValueError("per-dimension tables do not match the latent size")
        return np.concatenate(rows) if rows else np.zeros((0, probs.shape[-1]))

    def encode(self, symbols: Symbols, bits: int) -> bytes:
        import constriction

        layout = {k: v.shape for k, v in symbols.items()}
        flat = np.concatenate([v.ravel() for v in symbols.values()]).astype(np.int32)
        enc = constriction.stream.queue.RangeEncoder()
        enc.encode(flat, constriction.stream.model.Categorical(perfect=False), self._probs(bits, layout))
        return enc.get_compressed().astype("<u4").tobytes()

    def decode(self, data: bytes, layout: Layout, bits: int) -> Symbols:
        import constriction

        if len(data) % 4:
            raise ValueError("range-coded payload is not a whole number of 32-bit words")
        dec = constriction.stream.queue.RangeDecoder(np.frombuffer(data, "<u4").astype(np.uint32))
        flat = np.asarray(dec.decode(constriction.stream.model.Categorical(perfect=False), self._probs(bits, layout)),
                          np.int64)
        out, offset = {}, 0
        for name, shape in layout.items():
            n = int(np.prod(shape))
            out[name] = flat[offset:offset + n].reshape(shape)
            offset += n
        return out

    def _probs(self, bits: int, layout: Layout) -> np.ndarray:
        return np.ascontiguousarray(self.probabilities(bits, layout), dtype=np.float64)

    def estimate_bits(self, symbols: Symbols, bits: int) -> float:
        """Cross-entropy of the symbols under the table: the ideal code length."""
        layout = {k: v.shape for k, v in symbols.items()}
        flat = np.concatenate([v.ravel() for v in symbols.values()])
        probs = self._probs(bits, layout)
        return float(-np.log2(probs[np.arange(flat.size), flat]).sum())
