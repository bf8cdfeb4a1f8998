"""constriction's queue range coder (u32 words, u64 state, 24-bit probabilities), decoded
strictly: a stream with words dropped or appended never decodes "successfully".

constriction's decoder cannot tell where a stream ends: it reads zeros past the last word,
and its `maybe_exhausted()` is only a necessary condition (a word appended after a one-word
seal passes it). Two strict decoders close that gap:

- `ExactDecoder` (any constriction model) re-encodes every decoded symbol under the same model,
  in lockstep: as soon as the re-encoded stream must grow past the words given, the stream has
  run off its end; `finish()` compares the re-encoded stream with the words given. The encoder
  is deterministic, so every stream an encoder wrote passes, however its calls were grouped.
  Re-encoding costs about as much as the range decoding itself, the cheap part of a decoder.
- The compiled decoder (`queue_start`, `queue_symbol` / `queue_step`, `queue_end`), for
  categorical models given as cumulative frequencies: constriction's decoder written out, so a
  kernel decodes a whole grid in one call without the GIL. A word needed past the end is an
  error (an encoder's seal leaves at most one unread), and after the last symbol the stream must
  hold exactly the words the seal writes: the point word `(lower + 2**32 - 1) >> 32`, then one
  zero word if `(lower + range) >> 32` equals it.

Use (plugins too: `inrz.ExactDecoder`):

    dec = ExactDecoder(read_words(data, "the payload"), "the payload")
    symbols = dec.decode(model, count)          # any of constriction's decode signatures
    dec.finish()                                # before trusting anything decoded
"""
from __future__ import annotations

import constriction
import numpy as np

from ...core.compiled import kernel
from .errors import CORRUPT, NOT_WORDS, OK, PAST_END, TRAILING, corrupt

MASK64 = (1 << 64) - 1
# the compiled decoder's state, one uint64 array: lower, range, point, next word, words read past the end, symbols
LOWER, RANGE, POINT, POS, MISSING, COUNT = range(6)


def read_words(data: bytes, what: str = "range-coded data") -> np.ndarray:
    """The little-endian u32 words of `data`; a length that is not a whole number of words is
    a `ContainerError` naming `what`."""
    if len(data) % 4:
        raise corrupt(NOT_WORDS, what, f"{len(data)} bytes")
    return np.frombuffer(data, "<u4").astype(np.uint32)


def queue_encoder():
    """An encoder of the queue format (constriction's `RangeEncoder`: `encode(symbols, model,
    *params)`, `get_compressed()`): the only one inrz's coders construct."""
    return constriction.stream.queue.RangeEncoder()


class QueueDecoder:
    """constriction's decoder over `words`, with a corrupt stream reported as `ContainerError`
    (constriction asserts on data no encoder writes) but no check of where the stream ends:
    reference decoders use it; a file's decoder uses `ExactDecoder`."""

    def __init__(self, words: np.ndarray, what: str = "range-coded data"):
        self.words = np.ascontiguousarray(words, np.uint32)
        self.what = what
        self._dec = constriction.stream.queue.RangeDecoder(self.words)

    def decode(self, model, *args) -> np.ndarray:
        """constriction's `RangeDecoder.decode(model, *args)`: a count for a fixed model, or
        per-symbol parameters for a model family; the symbols as an int32 array."""
        try:
            return np.atleast_1d(np.asarray(self._dec.decode(model, *args), np.int32))
        except AssertionError as exc:  # constriction's word for "no encoder writes these words"
            raise corrupt(CORRUPT, self.what) from exc


class ExactDecoder(QueueDecoder):
    """A range decoder over `words` that refuses any stream its symbols do not re-encode to."""

    def __init__(self, words: np.ndarray, what: str = "range-coded data"):
        super().__init__(words, what)
        self._enc = queue_encoder()
        self._finished = False

    def decode(self, model, *args) -> np.ndarray:
        if self._finished:
            raise RuntimeError("ExactDecoder.decode after finish()")  # the caller's bug, not the file's
        symbols = super().decode(model, *args)
        if symbols.size:
            count = () if len(args) == 1 and not np.ndim(args[0]) else args  # a fixed model takes no count
            self._enc.encode(symbols, model, *count)
        # the final stream is at least one word longer than what is flushed now (bulk + held words)
        if self._enc.num_words() - 1 > self.words.size:
            raise corrupt(PAST_END, self.what)
        return symbols

    def finish(self) -> None:
        """`ContainerError` unless the words are exactly the encoding of what was decoded."""
        self._finished = True
        again = self._enc.get_compressed()
        if again.size != self.words.size or not np.array_equal(again, self.words):
            raise corrupt(TRAILING if again.size < self.words.size else
                          PAST_END if again.size > self.words.size else CORRUPT, self.what)


# ---------------- the compiled strict decoder (categorical models as cumulative frequencies) ----------------

def queue_start(words: np.ndarray) -> np.ndarray:
    """State after reading the first two words (the 'point'). Plain Python, like `queue_end`:
    each compiled function costs a process its first call (numba loading its machine code)."""
    n = int(words.shape[0])
    point = 0
    for i in range(2):
        point = (point << 32) | (int(words[i]) if i < n else 0)
    st = np.zeros(6, np.uint64)
    st[RANGE], st[POINT], st[POS], st[MISSING] = MASK64, point, min(n, 2), 2 - min(n, 2)
    return st


def queue_end(words: np.ndarray, st: np.ndarray) -> int:
    """`OK` when the stream ends exactly where the encoder's seal put its end (u64 sums wrap, as
    in the decoder); else `TRAILING`, `PAST_END` or `CORRUPT`."""
    n = int(words.shape[0])
    lower, rng, point, pos, missing, count = (int(v) for v in st)
    if count == 0:
        return OK if n == 0 else TRAILING
    point_word = ((lower + 0xFFFFFFFF) & MASK64) >> 32
    upper_word = ((lower + rng) & MASK64) >> 32
    need = 0 if upper_word == point_word else 1  # words the seal leaves unread
    if pos < n or missing < need:
        return TRAILING
    if missing > need:
        return PAST_END
    return OK if point == (point_word << 32) & MASK64 else CORRUPT


@kernel(cache=True, nogil=True)
def queue_load(st):
    """(lower, range, point, next word, words missing): the state into locals (registers in a
    kernel's loop); `queue_store` puts them back with the symbols decoded."""
    return st[LOWER], st[RANGE], st[POINT], st[POS], st[MISSING]


@kernel(cache=True, nogil=True)
def queue_store(st, lower, rng, point, pos, missing, count):
    st[LOWER], st[RANGE], st[POINT], st[POS], st[MISSING] = lower, rng, point, pos, missing
    st[COUNT] += np.uint64(count)


@kernel(cache=True, nogil=True)
def queue_symbol(words, st, cdf, row):
    """Decode one symbol with cumulative frequencies cdf[row] (cdf: (tables, alphabet + 1),
    rising strictly from 0 to 2**24); -CORRUPT or -PAST_END on a stream no encoder writes."""
    lower, rng, point, pos, missing = queue_load(st)
    s, lower, rng, point, pos, missing = queue_step(words, cdf, row, lower, rng, point, pos, missing)
    queue_store(st, lower, rng, point, pos, missing, 1 if s >= 0 else 0)
    return s


@kernel(cache=True, nogil=True, inline="always")
def queue_step(words, cdf, row, lower, rng, point, pos, missing):
    """`queue_symbol` on a state held in locals: (symbol or -error code, lower, range, point,
    next word, words missing)."""
    scale = rng >> np.uint64(24)
    x = point - lower  # the quantile q = x // scale, compared as x >= c * scale (no division)
    if x >= scale << np.uint64(24):
        return -CORRUPT, lower, rng, point, pos, missing
    s = _find(cdf, row, x, scale)
    lower = lower + scale * np.uint64(cdf[row, s])
    rng = scale * np.uint64(cdf[row, s + 1] - cdf[row, s])
    if rng < np.uint64(1 << 32):
        lower = lower << np.uint64(32)
        rng = rng << np.uint64(32)
        point = point << np.uint64(32)
        if pos < np.uint64(words.shape[0]):
            point |= np.uint64(words[np.int64(pos)])
            pos += np.uint64(1)
        else:
            missing += np.uint64(1)
            if missing > np.uint64(1):
                return -PAST_END, lower, rng, point, pos, missing
    return s, lower, rng, point, pos, missing


@kernel(cache=True, nogil=True, inline="always")
def _find(cdf, row, x, scale):
    """The symbol s with cdf[row, s] <= q < cdf[row, s + 1] for the quantile q = x // scale,
    tested as cdf * scale <= x (floor(x / scale) >= c exactly when x >= c * scale; a 64-bit
    division per symbol is the slowest step otherwise). cdf rises strictly, so s is unique (the
    bisection's): a short walk out from the middle symbol, where a centred model's symbols
    mostly are, then a bisection."""
    s = (cdf.shape[1] - 1) >> 1
    if np.uint64(cdf[row, s]) * scale <= x:
        for _ in range(4):
            if x < np.uint64(cdf[row, s + 1]) * scale:
                return s
            s += 1
        lo, hi = s, cdf.shape[1] - 1
    else:
        for _ in range(4):
            s -= 1
            if np.uint64(cdf[row, s]) * scale <= x:
                return s
        lo, hi = 0, s
    while hi - lo > 1:  # cdf[lo] <= q < cdf[hi]
        mid = (lo + hi) >> 1
        if np.uint64(cdf[row, mid]) * scale <= x:
            lo = mid
        else:
            hi = mid
    return lo
