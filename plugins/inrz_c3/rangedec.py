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

from inrz import kernel, rangecoder

from .armint import FRAC, LATENT_LIMIT, bins, forward_cols

OK, BAD_ESCAPE, TOO_LARGE = rangecoder.OK, rangecoder.BAD_ESCAPE, rangecoder.TOO_LARGE
# compiled functions of the range coder, as globals the kernels call. numba's on-disk cache of a
# kernel is keyed on its own file only: after editing armint.py or inrz/coding/rangecoder, touch
# this file (or delete plugins/inrz_c3/__pycache__/*.nbi, *.nbc), or the kernels keep the old code.
step, golomb, load, store = rangecoder.queue_step, rangecoder.golomb, rangecoder.queue_load, rangecoder.queue_store
K = 31  # tables.K: symbols -K..K around the rounded mean, an escape on each side
ESCAPE_RIGHT = 2 * K + 2
MEAN_BINS = 16  # tables.MEAN_BINS: cdf rows are scale bin * MEAN_BINS + mean bin


@kernel(cache=True, nogil=True, inline="always")
def _value(sym, centre, bits, bst):
    """Latent (or weight) of a decoded symbol; escapes read their magnitude. Error: -2**62."""
    r = np.int64(sym) - (K + 1)
    if sym == 0 or sym == ESCAPE_RIGHT:
        extra = golomb(bits, bst)
        if extra < 0:
            return -(1 << 62)
        r = extra + K + 1 if sym else -(extra + K + 1)
    return centre + r


@kernel(cache=True, nogil=True, native=True)
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


PROBES = 8  # slots a memo lookup or insertion tries before giving up


def memo_table(slots: int = 1 << 16) -> np.ndarray:
    """An empty context memo for `decode_grid` (slots: a power of two), to share only between
    grids decoded with the same context model and the same context offsets (those of one
    payload): rows (packed context, (centre << 16) | cdf row), key 0 when empty."""
    return np.zeros((slots, 2), np.int64)


@kernel(cache=True, nogil=True, inline="always")
def _slot(memo, key):
    return np.int64((np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(32)) & (memo.shape[0] - 1)


@kernel(cache=True, nogil=True, inline="always")
def _lookup(memo, key):
    """The slot of a packed context, or -1. A packed context holds the context's C values v,
    each as v + 2**(fb - 1) in fb bits (fb = min(8, 63 // C)): when every field fits, the
    packing is injective, so a slot whose key equals it was filled for this very context and
    holds what the context model computed for it, (centre << 16) | cdf row: the same integers
    as running the model again. Key 0 marks an empty slot; the kernel never looks it up."""
    i = _slot(memo, key)
    for _ in range(PROBES):
        k = memo[i, 0]
        if k == key:
            return i
        if k == 0:
            return -1
        i = (i + 1) & (memo.shape[0] - 1)
    return -1


@kernel(cache=True, nogil=True, inline="always")
def _insert(memo, key, value):
    """Add key -> value unless present or its probe run is full (the memo is only a cache)."""
    i = _slot(memo, key)
    for _ in range(PROBES):
        k = memo[i, 0]
        if k == key:
            return
        if k == 0:
            memo[i, 0], memo[i, 1] = key, value
            return
        i = (i + 1) & (memo.shape[0] - 1)


@kernel(cache=True, nogil=True, native=True)
def decode_grid(words, st, bits, bst, cdf, grid, slopes, valid, offsets, ring, h, W, b, dims, woff, boff, inv, memo):
    """One grid's latents into `grid` (3 axes, leading ones added), in coding order: wavefront
    t = slopes . p (slopes[2] == 1), inside it C order, skipping flat indices >= `valid`.

    The last `ring.shape[0]` wavefronts are kept skewed, ring[t % R, p0 + P0, p1 + P1] (P: the
    neighbourhood's reach on those axes, zeros around), so the neighbour at offset o of every
    point of wavefront t sits on wavefront t - lag, lag = -(slopes . o) >= 1, shifted by
    (o0, o1): a front's contexts are contiguous copies. Neighbours outside the grid read zeros
    (a slot is cleared before its wavefront is written). Every point looks its context up in
    `memo` (`_lookup`; the all-zero context, the commonest, is put there first), those not found
    run through the context model together (`forward_cols`) and are added; then the front's
    symbols decode in order."""
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
    key = np.empty(width, np.int64)  # their packed contexts (`_lookup`)
    wide = np.empty(width, np.int64)  # OR of the packed fields: no bit from `fb` up when all fit
    centre = np.empty(width, np.int64)  # their rounded mean and cdf row
    row = np.empty(width, np.int64)
    keep = np.empty(width, np.int64)  # the points the context model runs on
    base = np.empty(C, np.int64)  # per neighbour, where its run for the current p0 starts in `flat`
    S1, S2 = ring.shape[1], ring.shape[2]
    flat = ring.reshape(-1)
    packs = C <= 63  # a key has room for one bit a value at least
    fb = max(1, min(8, 63 // max(C, 1)))  # bits per packed context value
    half = np.int64(1) << (fb - 1)
    zkey = np.int64(0)
    for c in range(C if packs else 0):
        zkey |= half << (fb * c)
    if packs:
        _insert(memo, zkey, (zc << 16) | zero_row)  # the all-zero context, the commonest, first
    lower, rng, point, pos, missing = load(st)
    count = 0
    code = OK
    ring[:] = 0
    last = a0 * (n0 - 1) + a1 * (n1 - 1) + n2 - 1
    for t in range(last + 1):
        slot = t % R
        ring[slot] = 0
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
            for c in range(C):  # their contexts: runs of earlier wavefronts, from flat offsets
                base[c] = (((t - lag[c]) % R * S1 + p0 + P0 + offsets[c, 0]) * S2
                           + lo1 + P1 + offsets[c, 1] - first)
            for j in range(first, n):  # packed (`_lookup`)
                kj = np.int64(0)
                wj = np.int64(0)
                for c in range(C):
                    u = flat[base[c] + j] + half
                    kj |= u << (fb * c)
                    wj |= u
                key[j] = kj
                wide[j] = wj
        m = 0
        for j in range(n):  # all-zero contexts and memoised ones resolved, the rest packed to the left
            i = -1
            if packs and wide[j] >> fb == 0 and key[j] != 0:  # every value fits: the key is the context
                i = _lookup(memo, key[j])
            else:
                key[j] = 0  # not memoised
            if i >= 0:
                centre[j], row[j] = memo[i, 1] >> 16, memo[i, 1] & 0xFFFF
            else:
                keep[m] = j
                m += 1
        if m:
            for k in range(m):  # their contexts, from the ring
                j = keep[k]
                p0, p1 = front0[j], front1[j]
                for c in range(C):
                    h[c, k] = ring[(t - lag[c]) % R, p0 + P0 + offsets[c, 0], p1 + P1 + offsets[c, 1]] * one
            out = forward_cols(h, m, W, b, dims, woff, boff, inv)
            for k in range(m):
                j = keep[k]
                cj, sb, fbin = bins(h[out, k], h[out + 1, k])
                centre[j], row[j] = cj, sb * MEAN_BINS + fbin
                if key[j]:
                    _insert(memo, key[j], (cj << 16) | row[j])
        for j in range(n):
            cj, rj = centre[j], row[j]
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
