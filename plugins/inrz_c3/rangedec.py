"""Compiled range decoding of a c3 payload: weights, then latent grids.

Decode-only. The words are those of inrz's queue range coder with the categorical model
`tables.coder_cdf` describes; its strict compiled decoder (`inrz.rangecoder.queue_step`: no
word read past the end, an exact end checked by `queue_end`) and the Exp-Golomb escape reader
(`golomb`) run inside these kernels, so a whole grid decodes in one compiled call. What is c3's
own is the grid walk and the context model that picks each symbol's table.

Kernels return an error code from `inrz.rangecoder`'s table; `payload` raises it.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from inrz import rangecoder

from .armint import FRAC, LATENT_LIMIT, bins, forward_cols

OK, BAD_ESCAPE, TOO_LARGE = rangecoder.OK, rangecoder.BAD_ESCAPE, rangecoder.TOO_LARGE
# compiled functions of the range coder, as globals the kernels call
step, golomb, load, store = rangecoder.queue_step, rangecoder.golomb, rangecoder.queue_load, rangecoder.queue_store
K = 31  # tables.K: symbols -K..K around the rounded mean, an escape on each side
ESCAPE_RIGHT = 2 * K + 2
MEAN_BINS = 16  # tables.MEAN_BINS: cdf rows are scale bin * MEAN_BINS + mean bin


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
    lower, rng, point, pos, missing = load(st)
    code = OK
    count = 0
    for i in range(n):
        s, lower, rng, point, pos, missing = step(words, cdf, row, lower, rng, point, pos, missing)
        if s < 0:
            code = -s
            break
        count += 1
        v = _value(s, 0, bits, bst)
        if v == -(1 << 62):
            code = BAD_ESCAPE
            break
        out[i] = v
    store(st, lower, rng, point, pos, missing, count)
    return code


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
    lower, rng, point, pos, missing = load(st)
    count = 0
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
            s, lower, rng, point, pos, missing = step(words, cdf, rj, lower, rng, point, pos, missing)
            if s < 0:
                code = -s
                break
            count += 1
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
    store(st, lower, rng, point, pos, missing, count)
    return code
