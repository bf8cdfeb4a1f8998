"""Compiled range decoding of a c3 payload: weights, then latent grids, then an exact end.

Decode-only. The words are those of `constriction.stream.queue.RangeEncoder` (u32 words, u64
state, 24-bit probabilities) with the categorical model `tables.coder_cdf` describes; this is
that decoder, written out so a whole grid decodes in one compiled call, and made strict:

* a word the decoder would need past the end of the stream is an error (constriction reads
  zeros there, so a file with dropped words decoded "successfully");
* after the last symbol the stream must hold exactly the words the encoder's seal writes: the
  point word `(lower + 2**32 - 1) >> 32`, then one zero word if `(lower + range) >> 32` equals
  it; anything after that is refused, as is a seal that does not match;
* the escape bit stream must be used up to its zero padding bits (fewer than 8).

Kernels return an error code (`ERRORS`); the caller raises the typed error.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .armint import FRAC, LATENT_LIMIT, bins, forward_cols

OK, BAD_RANGE, BAD_ESCAPE, TOO_LARGE, PAST_END = 0, 1, 2, 3, 4
ERRORS = {BAD_RANGE: "the latent-grid range-coded stream is corrupt (a quantile outside the model)",
          BAD_ESCAPE: "latent-grid escape stream is truncated or corrupt",
          TOO_LARGE: f"the latent-grid payload holds a latent beyond +-{LATENT_LIMIT} (corrupt or not a c3 file)",
          PAST_END: "the latent-grid range-coded stream ends before its last symbol (truncated)"}
MAX_ESCAPE_BITS = 40
K = 31  # tables.K: symbols -K..K around the rounded mean, an escape on each side
ESCAPE_RIGHT = 2 * K + 2
MEAN_BINS = 16  # tables.MEAN_BINS: cdf rows are scale bin * MEAN_BINS + mean bin

# decoder state, one uint64 array: lower, range, point, next word, words read past the end, symbols
LOWER, RANGE, POINT, POS, MISSING, COUNT = range(6)


@njit(cache=True, nogil=True)
def start(words):
    """State after reading the first two words (the 'point')."""
    st = np.zeros(6, np.uint64)
    st[RANGE] = np.uint64(0xFFFFFFFFFFFFFFFF)
    point = np.uint64(0)
    n = words.shape[0]
    for i in range(2):
        point = point << np.uint64(32)
        if i < n:
            point |= np.uint64(words[i])
    st[POINT] = point
    st[POS] = np.uint64(min(n, 2))
    st[MISSING] = np.uint64(2 - min(n, 2))
    return st


@njit(cache=True, nogil=True)
def symbol(words, st, cdf, row):
    """Decode one symbol with cumulative frequencies cdf[row] (cdf: (tables, ALPHABET + 1)); -1 on
    corrupt data, -2 when it needs a second word past the end (an encoder's seal leaves at most
    one unread)."""
    scale = st[RANGE] >> np.uint64(24)
    q = (st[POINT] - st[LOWER]) // scale
    if q >= np.uint64(1 << 24):
        return -1
    qi = np.int64(q)
    lo, hi = 0, cdf.shape[1] - 1
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if cdf[row, mid] <= qi:
            lo = mid
        else:
            hi = mid
    st[LOWER] = st[LOWER] + scale * np.uint64(cdf[row, lo])
    rng = scale * np.uint64(cdf[row, lo + 1] - cdf[row, lo])
    if rng < np.uint64(1 << 32):
        st[LOWER] = st[LOWER] << np.uint64(32)
        rng = rng << np.uint64(32)
        point = st[POINT] << np.uint64(32)
        pos = st[POS]
        if pos < np.uint64(words.shape[0]):
            point |= np.uint64(words[np.int64(pos)])
            st[POS] = pos + np.uint64(1)
        else:
            st[MISSING] += np.uint64(1)
            if st[MISSING] > np.uint64(1):
                return -2
        st[POINT] = point
    st[RANGE] = rng
    st[COUNT] += np.uint64(1)
    return lo


@njit(cache=True, nogil=True)
def finish(words, st):
    """True when the stream ends exactly where the encoder's seal put its end."""
    n = np.uint64(words.shape[0])
    if st[COUNT] == 0:
        return n == 0
    point_word = (st[LOWER] + np.uint64(0xFFFFFFFF)) >> np.uint64(32)
    upper_word = (st[LOWER] + st[RANGE]) >> np.uint64(32)
    missing = np.uint64(0) if upper_word == point_word else np.uint64(1)
    return st[POS] == n and st[MISSING] == missing and st[POINT] == (point_word << np.uint64(32))


@njit(cache=True, nogil=True)
def golomb(bits, bst):
    """One Exp-Golomb value from the escape bits at bst[0]; -1 when truncated or corrupt."""
    pos, n = bst[0], bits.shape[0]
    zeros = 0
    while True:
        if pos + zeros >= n or zeros > MAX_ESCAPE_BITS:
            return -1
        if bits[pos + zeros]:
            break
        zeros += 1
    end = pos + 2 * zeros + 1
    if end > n:
        return -1
    value = 0
    for i in range(pos + zeros, end):
        value = (value << 1) | np.int64(bits[i])
    bst[0] = end
    return value - 1


@njit(cache=True, nogil=True)
def _value(sym, centre, bits, bst):
    """Latent (or weight) of a decoded symbol; escapes read their magnitude. Error: -2**62."""
    r = np.int64(sym) - (K + 1)
    if sym == 0 or sym == ESCAPE_RIGHT:
        extra = golomb(bits, bst)
        if extra < 0:
            return -(1 << 62)
        r = extra + K + 1 if sym else -(extra + K + 1)
    return centre + r


@njit(cache=True, nogil=True)
def decode_flat(words, st, bits, bst, cdf, row, n, out):
    """n zero-mean integers coded with table cdf[row] (the weights); returns an error code."""
    for i in range(n):
        s = symbol(words, st, cdf, row)
        if s < 0:
            return BAD_RANGE if s == -1 else PAST_END
        v = _value(s, 0, bits, bst)
        if v == -(1 << 62):
            return BAD_ESCAPE
        out[i] = v
    return OK


@njit(cache=True, nogil=True)
def decode_grid(words, st, bits, bst, cdf, padded, pos, starts, deltas, h, W, b, dims, woff, boff, inv):
    """Latents at padded flat positions `pos` (coding order), contexts at `pos + deltas`. Points
    pos[starts[f]:starts[f + 1]] form wavefront f: their contexts are all known before it, so the
    context model runs on the whole front at once (`forward_cols`, skipping the points whose
    context is all zeros: their prediction is computed once), then its symbols decode in order."""
    C = deltas.shape[0]
    one = float(1 << FRAC)
    for c in range(C):  # a point whose neighbours are all zero (common) gets this prediction
        h[c, 0] = 0.0
    out = forward_cols(h, 1, W, b, dims, woff, boff, inv)
    m0, l0 = h[out, 0], h[out + 1, 0]
    slot = np.empty(h.shape[1], np.int64)
    for f in range(starts.shape[0] - 1):
        s0, n = starts[f], starts[f + 1] - starts[f]
        m = 0
        for j in range(n):
            at = pos[s0 + j]
            nonzero = False
            for c in range(C):
                if padded[at + deltas[c]] != 0:
                    nonzero = True
                    break
            slot[j] = m if nonzero else -1
            if nonzero:
                for c in range(C):
                    h[c, m] = padded[at + deltas[c]] * one
                m += 1
        out = forward_cols(h, m, W, b, dims, woff, boff, inv)
        for j in range(n):
            k = slot[j]
            centre, sbin, fbin = bins(m0, l0) if k < 0 else bins(h[out, k], h[out + 1, k])
            s = symbol(words, st, cdf, sbin * MEAN_BINS + fbin)
            if s < 0:
                return BAD_RANGE if s == -1 else PAST_END
            v = _value(s, centre, bits, bst)
            if v == -(1 << 62):
                return BAD_ESCAPE
            if v > LATENT_LIMIT or v < -LATENT_LIMIT:
                return TOO_LARGE
            padded[pos[s0 + j]] = v
    return OK
