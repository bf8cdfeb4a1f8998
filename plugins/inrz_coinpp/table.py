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

from inrz import (BaseNetworkError, ComponentConfig, EntropyModel, ExactDecoder, Layout, Symbols, layout_size,
                  rangecoder, read_words, split_symbols)

from . import artifacts

BATCH_VALUES = 1 << 21  # probabilities held at once while coding per-dimension tables (16 MiB of float64)


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


def _counts(tables, stats: str, bits: int, model: str) -> np.ndarray:
    """An artifact's count table (D, 2**bits): non-negative finite counts, else `BaseNetworkError`."""
    try:
        counts = np.asarray(tables[stats], np.float64)
    except (KeyError, TypeError, ValueError) as exc:
        raise BaseNetworkError(f"base network {model} has no readable {stats!r} table for {bits} bits ({exc})") from exc
    if counts.ndim != 2 or counts.shape[1] != 1 << bits or not np.isfinite(counts).all() or (counts < 0).any():
        raise BaseNetworkError(f"base network {model}'s {bits}-bit {stats!r} table is not (D, {1 << bits}) counts")
    return counts


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
        probs, count = self._table(bits, layout), layout_size(layout)
        if not self.config.per_dim:
            return np.broadcast_to(probs, (count, probs.shape[-1]))
        return probs[np.arange(count) % probs.shape[0]]  # every tensor is (..., D): position i has dimension i % D

    def encode(self, symbols: Symbols, bits: int) -> bytes:
        layout = {k: v.shape for k, v in symbols.items()}
        flat = np.concatenate([v.ravel() for v in symbols.values()]).astype(np.int32)
        enc = rangecoder.queue_encoder()
        for a, b, model, params in self._plan(bits, layout):
            enc.encode(flat[a:b], model) if params is None else enc.encode(flat[a:b], model, params)
        return enc.get_compressed().astype("<u4").tobytes()

    def decode(self, data: bytes, layout: Layout, bits: int) -> Symbols:
        flat = np.zeros(layout_size(layout), np.int64)
        dec = ExactDecoder(read_words(data, "the range-coded payload"), "the range-coded payload")
        for a, b, model, params in self._plan(bits, layout):
            flat[a:b] = dec.decode(model, b - a) if params is None else dec.decode(model, params)
        dec.finish()  # words left over or missing: the file's grid or latents disagree with its payload
        return split_symbols(flat, layout)

    def _plan(self, bits: int, layout: Layout):
        """(start, stop, model, params) runs that code the flat symbols: one fixed model for a
        global table; per-dimension tables in batches of rows, so memory stays bounded (the
        same bits as one call with every row, since the coder's state carries over)."""
        count = layout_size(layout)
        probs = self._table(bits, layout)
        if count == 0:
            return
        if not self.config.per_dim:
            yield 0, count, constriction.stream.model.Categorical(probs, perfect=False), None
            return
        family = constriction.stream.model.Categorical(perfect=False)
        step = max(1, BATCH_VALUES // probs.shape[1])
        for a in range(0, count, step):
            b = min(count, a + step)
            yield a, b, family, np.ascontiguousarray(probs[np.arange(a, b) % probs.shape[0]])

    def _table(self, bits: int, layout: Layout) -> np.ndarray:
        """Probabilities (2**bits,) for a global table, (D, 2**bits) per dimension, checked against the layout."""
        tables = artifacts.load(self.config.model).tables.get(str(bits))
        if tables is None:
            raise BaseNetworkError(f"base network {self.config.model} has no {bits}-bit tables; "
                                   "retrain with that width in train.quant_bits")
        counts = _counts(tables, self.config.stats, bits, self.config.model)
        probs = table_probabilities(counts, self.config.per_dim)
        if self.config.per_dim and any(shape[-1] != probs.shape[0] for shape in layout.values()):
            raise BaseNetworkError(f"base network {self.config.model} has per-dimension tables for {probs.shape[0]} "
                                   f"dimensions, its latents have {[s[-1] for s in layout.values()]}")
        return np.ascontiguousarray(probs, dtype=np.float64)

    def estimate_bits(self, symbols: Symbols, bits: int) -> float:
        """Cross-entropy of the symbols under the table: the ideal code length."""
        layout = {k: v.shape for k, v in symbols.items()}
        flat = np.concatenate([v.ravel() for v in symbols.values()])
        probs = self.probabilities(bits, layout)
        return float(-np.log2(probs[np.arange(flat.size), flat]).sum())
