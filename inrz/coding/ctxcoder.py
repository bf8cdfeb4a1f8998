"""Range coding of an integer array (the error-bound corrections) under an adaptive context model.

Symbols are visited in the passes of `inrz.coding.lattice`. A symbol's context is the mean
magnitude of the already decoded symbols around it (the two lattice planes it lies between,
3 wide along every other axis), in 19 classes: corrections cluster where a field is rough.
Each class keeps counts of the symbols coded so far, blended with the pooled counts of all
classes; the model is refreshed after every block (blocks grow with what has been seen), so
no table is stored and a small chunk pays almost nothing to learn. Everything that decides
a probability is integer arithmetic plus exactly rounded float64 divisions in a fixed order,
identical on every machine; constriction turns those into its fixed-point model.

Values beyond +-M (M chosen per array, stored) are coded as an escape symbol followed by
their zigzag bytes (`rangecoder.encode_zigzag`).

Frame: u16 M, u32 word count W, W little-endian u32 words of the range coder: exactly the
words the encoder writes (`inrz.coding.rangecoder`), so words dropped or appended are refused.
"""
from __future__ import annotations

import constriction
import numpy as np

from ..core.errors import ContainerError
from .lattice import passes, sources, targets
from .rangecoder import ExactDecoder, decode_zigzag, encode_zigzag, queue_encoder, read_words

#: class boundaries on 8 x the mean neighbour magnitude (|k| capped at CAP)
THRESHOLDS = np.array([1, 2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 90, 128, 181, 256, 362, 512])
CLASSES = len(THRESHOLDS) + 1
CAP = 1 << 16
ALPHA, BETA = 0.5, 32.0  # pooled table: add-ALPHA; a class's table: BETA pseudo-counts of the pooled one
MIN_BLOCK, MAX_BLOCK = 256, 8192
MAX_M = 4095
MAX_ESCAPE = 1 << 62  # no correction is larger (predictors clip at 2**50 steps)
_CAT = constriction.stream.model.Categorical


def choose_m(k: np.ndarray) -> int:
    """The alphabet half-width: 99.9% of the values inside it."""
    counts = np.bincount(np.minimum(np.abs(k.ravel()), MAX_M).astype(np.intp), minlength=MAX_M + 1)
    return max(1, int(np.searchsorted(np.cumsum(counts), 0.999 * k.size)))


def encode(k: np.ndarray) -> bytes:
    m = choose_m(k)
    model = _Model(m)
    enc = queue_encoder()
    mag = np.minimum(np.abs(k), CAP)
    for t, ctx in _schedule(k.shape, mag):
        values = k[t].ravel()
        for start, stop in model.blocks(values.size):
            v, c = values[start:stop], ctx[start:stop]
            symbols = np.where(np.abs(v) <= m, v + m, 2 * m + 1)
            for cls, probs in model.tables(c):
                sel = c == cls
                enc.encode(symbols[sel].astype(np.int32), _CAT(probs, perfect=False))
                encode_zigzag(enc, v[sel][symbols[sel] == 2 * m + 1])
            model.update(c, symbols)
    words = enc.get_compressed()
    return m.to_bytes(2, "little") + len(words).to_bytes(4, "little") + words.astype("<u4").tobytes()


def decode(data: bytes, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of `encode` for an array of `shape`; `ContainerError` for a malformed frame."""
    if len(data) < 6:
        raise ContainerError("error-bound residual frame is truncated")
    m, count = int.from_bytes(data[:2], "little"), int.from_bytes(data[2:6], "little")
    if not 1 <= m <= MAX_M or len(data) != 6 + 4 * count:
        raise ContainerError("error-bound residual frame has a bad alphabet or length")
    dec = ExactDecoder(read_words(data[6:]), "the error-bound residual's range-coded stream")
    k = _decode_symbols(dec, m, shape)
    dec.finish()  # no word missing, none left over
    return k


def _decode_symbols(dec, m: int, shape: tuple[int, ...]) -> np.ndarray:
    model = _Model(m)
    k = np.zeros(shape, np.int64)
    mag = np.zeros(shape, np.int64)
    for t, ctx in _schedule(shape, mag):
        out = np.empty(ctx.size, np.int64)
        for start, stop in model.blocks(ctx.size):
            c = ctx[start:stop]
            symbols = np.empty(c.size, np.int64)
            for cls, probs in model.tables(c):
                sel = np.flatnonzero(c == cls)
                s = np.asarray(dec.decode(_CAT(probs, perfect=False), sel.size), np.int64)
                symbols[sel] = s
                values = s - m
                esc = s == 2 * m + 1
                values[esc] = decode_zigzag(dec, int(esc.sum()), m, MAX_ESCAPE)
                out[start + sel] = values
            model.update(c, symbols)
        k[t] = out.reshape(k[t].shape)
        mag[t] = np.minimum(np.abs(k[t]), CAP)
    return k


def _schedule(shape, mag):
    """(targets, contexts) per pass; `mag` must hold the decoded magnitudes of earlier passes
    when the generator is resumed (the decoder fills it in between)."""
    nd = len(shape)
    for h, d in passes(shape):
        t = targets(nd, h, d)
        if d < 0:
            yield t, np.zeros(mag[t].size, np.int64)
            continue
        yield t, _contexts(mag[sources(nd, h, d)], d)


def _contexts(S: np.ndarray, d: int) -> np.ndarray:
    """Class of every odd index along d of S, from the even planes on both sides."""
    E = _box(np.take(S, np.arange(0, S.shape[d], 2), axis=d), d)
    nt = S.shape[d] // 2
    act = np.array(_along(E, d, 0, nt))
    if E.shape[d] > 1:  # the plane after each target (the last target may have none)
        upto = min(nt, E.shape[d] - 1)
        _along(act, d, 0, upto)[...] += _along(E, d, 1, upto + 1)
    cells = 2 * 3 ** (S.ndim - 1)
    return np.searchsorted(THRESHOLDS, act.ravel() * 8 // cells, side="right")


def _box(E: np.ndarray, d: int) -> np.ndarray:
    """3-wide sums along every axis but d (zero outside)."""
    for a in range(E.ndim):
        if a != d and E.shape[a] > 1:
            out = E.copy()
            _along(out, a, 1, None)[...] += _along(E, a, 0, -1)
            _along(out, a, 0, -1)[...] += _along(E, a, 1, None)
            E = out
    return E


def _along(a: np.ndarray, axis: int, start, stop) -> np.ndarray:
    index = [slice(None)] * a.ndim
    index[axis] = slice(start, stop)
    return a[tuple(index)]


class _Model:
    """Counts per class and pooled; probabilities from them in one fixed order of operations."""

    def __init__(self, m: int):
        self.size = 2 * m + 2
        self.counts = np.zeros((CLASSES, self.size), np.int64)
        self.seen = 0

    def blocks(self, n: int):
        start = 0
        while start < n:
            size = min(MAX_BLOCK, max(MIN_BLOCK, self.seen // 2))
            yield start, min(n, start + size)
            self.seen += min(n, start + size) - start
            start += size

    def tables(self, classes: np.ndarray):
        pooled = self.counts.sum(axis=0)
        base = (pooled.astype(np.float64) + ALPHA) / float(int(pooled.sum()) + ALPHA * self.size)
        for cls in np.unique(classes):
            row = self.counts[cls]
            yield cls, (row.astype(np.float64) + BETA * base) / float(int(row.sum()) + BETA)

    def update(self, classes: np.ndarray, symbols: np.ndarray) -> None:
        np.add.at(self.counts, (classes, symbols), 1)

