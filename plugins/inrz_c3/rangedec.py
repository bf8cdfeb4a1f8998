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


MASK64 = (1 << 64) - 1


def start(words: np.ndarray) -> np.ndarray:
    """State after reading the first two words (the 'point'). Plain Python, like `finish`: each
    compiled function costs a process its first call (numba loading its machine code)."""
    n = int(words.shape[0])
    point = 0
    for i in range(2):
        point = (point << 32) | (int(words[i]) if i < n else 0)
    st = np.zeros(6, np.uint64)
    st[RANGE], st[POINT], st[POS], st[MISSING] = MASK64, point, min(n, 2), 2 - min(n, 2)
    return st


@njit(cache=True, nogil=True)
def symbol(words, st, cdf, row):
    """Decode one symbol with cumulative frequencies cdf[row] (cdf: (tables, ALPHABET + 1)); -1 on
    corrupt data, -2 when it needs a second word past the end (an encoder's seal leaves at most
    one unread)."""
    s, lower, rng, point, pos, missing = _step(words, cdf, row, st[LOWER], st[RANGE], st[POINT], st[POS], st[MISSING])
    st[LOWER], st[RANGE], st[POINT], st[POS], st[MISSING] = lower, rng, point, pos, missing
    if s >= 0:
        st[COUNT] += np.uint64(1)
    return s


@njit(cache=True, nogil=True)
def _step(words, cdf, row, lower, rng, point, pos, missing):
    """`symbol` on a state held in locals (registers in a kernel's loop): (symbol or error code,
    lower, range, point, next word, words missing)."""
    scale = rng >> np.uint64(24)
    x = point - lower  # the quantile q = x // scale, compared as x >= c * scale (no division)
    if x >= scale << np.uint64(24):
        return -1, lower, rng, point, pos, missing
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
                return -2, lower, rng, point, pos, missing
    return s, lower, rng, point, pos, missing


def finish(words: np.ndarray, st: np.ndarray) -> bool:
    """True when the stream ends exactly where the encoder's seal put its end (u64 sums wrap, as
    in the decoder)."""
    n = int(words.shape[0])
    lower, rng, point, pos, missing, count = (int(v) for v in st)
    if count == 0:
        return n == 0
    point_word = ((lower + 0xFFFFFFFF) & MASK64) >> 32
    upper_word = ((lower + rng) & MASK64) >> 32
    return pos == n and missing == (0 if upper_word == point_word else 1) and point == (point_word << 32) & MASK64


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
def _find(cdf, row, x, scale):
    """The symbol s with cdf[row, s] <= q < cdf[row, s + 1] for the quantile q = x // scale,
    tested as cdf * scale <= x (floor(x / scale) >= c exactly when x >= c * scale; a 64-bit
    division per symbol is the slowest step otherwise). cdf rises strictly from 0 to 2**24 > q,
    so s is unique (the bisection's): a short walk out from the centre symbol, where most symbols
    are, then a bisection."""
    s = K + 1
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


@njit(cache=True, nogil=True)
def decode_grid(words, st, bits, bst, cdf, grid, slopes, valid, offsets, ring, h, W, b, dims, woff, boff, inv):
    """One grid's latents into `grid` (3 axes, leading ones added), in coding order: wavefront
    t = slopes . p (slopes[2] == 1), inside it C order, skipping flat indices >= `valid`.

    The last `ring.shape[0]` wavefronts are kept skewed, ring[t % R, p0 + P0, p1 + P1] (P: the
    neighbourhood's reach on those axes, zeros around), so the neighbour at offset o of every
    point of wavefront t sits on wavefront t - lag, lag = -(slopes . o) >= 1, shifted by
    (o0, o1): a front's contexts are contiguous copies. Neighbours outside the grid read zeros
    (a slot is cleared before its wavefront is written). Points whose context is all zero take
    the prediction computed once; the rest run through the context model together
    (`forward_cols`); then the front's symbols decode in order."""
    C = offsets.shape[0]
    n0, n1, n2 = grid.shape[0], grid.shape[1], grid.shape[2]
    a0, a1 = slopes[0], slopes[1]
    R, P0, P1 = ring.shape[0], (ring.shape[1] - n0) // 2, (ring.shape[2] - n1) // 2
    one = float(1 << FRAC)
    lag = np.empty(C, np.int64)
    for c in range(C):
        lag[c] = -(a0 * offsets[c, 0] + a1 * offsets[c, 1] + offsets[c, 2])
    for c in range(C):
        h[c, 0] = 0.0
    out = forward_cols(h, 1, W, b, dims, woff, boff, inv)
    zc, zs, zf = bins(h[out, 0], h[out + 1, 0])
    zero_row = zs * MEAN_BINS + zf
    width = h.shape[1]
    front0 = np.empty(width, np.int64)  # (p0, p1) of the front's points, in coding order
    front1 = np.empty(width, np.int64)
    col = np.empty(width, np.int64)  # their column in h, or -1 for an all-zero context
    keep = np.empty(width, np.int64)
    nonzero = np.empty(width, np.bool_)
    lower, rng, point, pos, missing = st[LOWER], st[RANGE], st[POINT], st[POS], st[MISSING]
    count = np.uint64(0)
    code = OK
    ring[:] = 0.0
    last = a0 * (n0 - 1) + a1 * (n1 - 1) + n2 - 1
    for t in range(last + 1):
        slot = t % R
        ring[slot] = 0.0
        n = 0
        for p0 in range(n0):  # the front: for each p0 a run of p1 (p2 = t - a0 p0 - a1 p1)
            r = t - a0 * p0
            if r < 0:
                break
            lo1 = max(0, -((n2 - 1 - r) // a1))
            hi1 = min(n1 - 1, r // a1)
            first = n
            for p1 in range(lo1, hi1 + 1):  # the coded ones (the flat index is monotonic in p1,
                if (p0 * n1 + p1) * n2 + r - a1 * p1 < valid:  # so they are one run too)
                    front0[n], front1[n] = p0, p1
                    n += 1
            if n == first:
                continue
            lo1 = front1[first]
            for c in range(C):  # their contexts: runs of earlier wavefronts
                src = ring[(t - lag[c]) % R, p0 + P0 + offsets[c, 0]]
                hc = h[c]
                d = lo1 + P1 + offsets[c, 1] - first
                for j in range(first, n):
                    hc[j] = src[d + j]
        for j in range(n):  # all-zero contexts out, the rest packed to the left, row by row
            nonzero[j] = False
        for c in range(C):
            hc = h[c]
            for j in range(n):
                nonzero[j] |= hc[j] != 0.0
        m = 0
        for j in range(n):
            col[j] = m if nonzero[j] else -1
            if nonzero[j]:
                keep[m] = j
                m += 1
        if m:
            for c in range(C):
                hc = h[c]
                for k in range(m):
                    hc[k] = hc[keep[k]] * one
            out = forward_cols(h, m, W, b, dims, woff, boff, inv)
        for j in range(n):
            k = col[j]
            if k < 0:
                cj, rj = zc, zero_row
            else:
                cj, sb, fb = bins(h[out, k], h[out + 1, k])
                rj = sb * MEAN_BINS + fb
            s, lower, rng, point, pos, missing = _step(words, cdf, rj, lower, rng, point, pos, missing)
            if s < 0:
                code = BAD_RANGE if s == -1 else PAST_END
                break
            count += np.uint64(1)
            v = _value(s, cj, bits, bst)
            if v == -(1 << 62):
                code = BAD_ESCAPE
                break
            if v > LATENT_LIMIT or v < -LATENT_LIMIT:
                code = TOO_LARGE
                break
            p0, p1 = front0[j], front1[j]
            grid[p0, p1, t - a0 * p0 - a1 * p1] = v
            ring[slot, p0 + P0, p1 + P1] = v
        if code != OK:
            break
    st[LOWER], st[RANGE], st[POINT], st[POS], st[MISSING] = lower, rng, point, pos, missing
    st[COUNT] += count
    return code
