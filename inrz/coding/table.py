"""Range coding of COIN++ latents with frequency tables fitted on training latents.

The entropy model names a base network artifact (`model: <hash>`) whose tables are integer
counts per latent dimension, for symbols quantized with global and with per-dimension
statistics. The coder turns counts into probabilities with a few float64 sums and divisions
in a fixed order, which is exact-rounded IEEE arithmetic and so identical on every machine,
and `constriction` quantizes those to its fixed-point model deterministically.
"""
from __future__ import annotations

from typing import ClassVar, Literal

import constriction
import numpy as np

from ..core.component import ComponentConfig
from ..core.errors import BaseNetworkError, ContainerError, InrzError
from ..nets import artifacts
from .bits import Layout, Symbols, layout_size, split
from .entropy import EntropyModel


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
            raise BaseNetworkError(f"base network {self.config.model} has per-dimension tables for {probs.shape[0]} "
                                   f"dimensions, its latents have {[s[-1] for s in layout.values()]}")
        return np.concatenate(rows) if rows else np.zeros((0, probs.shape[-1]))

    def encode(self, symbols: Symbols, bits: int) -> bytes:
        layout = {k: v.shape for k, v in symbols.items()}
        flat = np.concatenate([v.ravel() for v in symbols.values()]).astype(np.int32)
        enc = constriction.stream.queue.RangeEncoder()
        enc.encode(flat, constriction.stream.model.Categorical(perfect=False), self._probs(bits, layout))
        return enc.get_compressed().astype("<u4").tobytes()

    def decode(self, data: bytes, layout: Layout, bits: int) -> Symbols:
        if len(data) % 4:
            raise ContainerError("range-coded payload is not a whole number of 32-bit words")
        probs = self._probs(bits, layout)
        dec = constriction.stream.queue.RangeDecoder(np.frombuffer(data, "<u4").astype(np.uint32))
        try:
            flat = dec.decode(constriction.stream.model.Categorical(perfect=False), probs)
        except AssertionError as exc:  # constriction's signal for words no encoder can have written
            raise ContainerError(f"range-coded payload is corrupt: {exc}") from exc
        return split(np.asarray(flat, np.int64), layout)

    def _probs(self, bits: int, layout: Layout) -> np.ndarray:
        return np.ascontiguousarray(self.probabilities(bits, layout), dtype=np.float64)

    def estimate_bits(self, symbols: Symbols, bits: int) -> float:
        """Cross-entropy of the symbols under the table: the ideal code length."""
        layout = {k: v.shape for k, v in symbols.items()}
        flat = np.concatenate([v.ravel() for v in symbols.values()])
        probs = self._probs(bits, layout)
        return float(-np.log2(probs[np.arange(flat.size), flat]).sum())
