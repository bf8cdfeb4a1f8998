"""Predictor ranking of the error-bounded residual (`inrz.coding.errorbound`), compiled: every
candidate predictor is run on the ranking block in one call without the GIL, each one's
corrections counted straight into a histogram, so no candidate's corrections are materialised
and no Python runs per candidate.

The cost of a candidate is `contest.entropy`'s: the order-0 entropy in bits of its
corrections, those beyond +-WIDE pooled at 24 extra bits each, summed over the same histogram
in the same order, so the figures (and with them the ranking and the bytes) are those of the
numpy ranking it replaces, bit for bit.

Candidates are rows of an int64 table: (kind, transposed, slices, mask), kind 0 linear / 1 cubic
interpolation (`inrz.coding.interp3`, on the block or on its transposed copy, `slices`: planes
of the first axis on their own), 2 Lorenzo differencing the 3-D view's axes in `mask`. With
`keep_best`, the corrections and reconstruction of the cheapest candidate (the first of equal
ones) are kept, in that candidate's own layout.
"""
from __future__ import annotations

import numpy as np

from ..core.compiled import kernel
from .interp3 import LEVELS, _run, _run_slices
from .lattice3 import view3

WIDE = 4096  # corrections beyond +-WIDE are pooled (24 bits extra each)
KMAX = 2.0**50  # as predictors.KMAX


@kernel(cache=True, nogil=True)
def entropy_bits(counts, n, lo=0, hi=2 * WIDE):
    """Order-0 entropy in bits of `n` symbols of histogram `counts` (2 WIDE + 1 bins, the two
    end bins pooling everything beyond), plus 24 bits per pooled symbol; `lo`, `hi`: the
    first and last bins that may be nonzero (the sum over them, in order, is the same)."""
    bits = 0.0
    for b in range(lo, hi + 1):
        c = counts[b]
        if c > 0:
            bits -= c * np.log2(c / n)
    return bits + 24.0 * (counts[0] + counts[2 * WIDE])


@kernel(cache=True, nogil=True, inline="always")
def _bin(v):
    return min(max(v, -WIDE), WIDE) + WIDE


@kernel(cache=True, nogil=True)
def _grid(r, q, step):
    """q = the residual rounded to the step grid (as `predictors._round(r / step)`)."""
    for i in range(r.size):
        x = r[i] / step
        if x > KMAX:
            x = KMAX
        elif x < -KMAX:
            x = -KMAX
        q[i] = np.int64(np.rint(x))


@kernel(cache=True, nogil=True, inline="always")
def _lorenzo_at(q, i0, i1, i2, n1, n2, mask):
    """The Lorenzo difference at (i0, i1, i2): sum over the subsets of `mask`'s axes of
    (-1)^|subset| q at the point one back along them (0 outside the array)."""
    total = np.int64(0)
    for sub in range(8):
        if sub & ~mask:
            continue
        j0, j1, j2 = i0 - (sub & 1), i1 - ((sub >> 1) & 1), i2 - ((sub >> 2) & 1)
        if j0 < 0 or j1 < 0 or j2 < 0:
            continue
        v = q[(j0 * n1 + j1) * n2 + j2]
        odd = ((sub & 1) + ((sub >> 1) & 1) + ((sub >> 2) & 1)) & 1
        total += -v if odd else v
    return total


@kernel(cache=True, nogil=True)
def _lorenzo(shape, q, mask, k):
    n0, n1, n2 = shape[0], shape[1], shape[2]
    at = 0
    for i0 in range(n0):
        for i1 in range(n1):
            for i2 in range(n2):
                k[at] = _lorenzo_at(q, i0, i1, i2, n1, n2, mask)
                at += 1


def lorenzo(r: np.ndarray, step: float, axes: int) -> tuple[np.ndarray, np.ndarray]:
    """`predictors.Predictor("lorenzo", axes).encode(r, step)` for arrays of at most three axes
    longer than one: the corrections (int64) and reconstruction (float64), compiled."""
    shape = np.array(view3(r.shape), np.int64)
    live = [a for a, n in enumerate(r.shape) if n > 1]
    mask = sum(1 << (3 - len(live) + j) for j, a in enumerate(live) if axes >> a & 1)
    flat = np.ascontiguousarray(r, np.float64).reshape(-1)
    q, k, rec = np.empty(flat.size, np.int64), np.empty(flat.size, np.int64), np.empty(flat.size, np.float64)
    _lorenzo_encode(shape, flat, float(step), mask, q, k, rec)
    return k.reshape(r.shape), rec.reshape(r.shape)


@kernel(cache=True, nogil=True)
def _lorenzo_encode(shape, r, step, mask, q, k, rec):
    _grid(r, q, step)
    _lorenzo(shape, q, mask, k)
    for i in range(q.size):
        rec[i] = q[i] * step


@kernel(cache=True, nogil=True)
def _histogram(k, counts):
    """counts[bin] += 1 for each of k; the first and last bins touched."""
    lo, hi = 2 * WIDE, 0
    for v in k:
        b = _bin(v)
        counts[b] += 1
        lo = min(lo, b)
        hi = max(hi, b)
    return lo, hi


@kernel(cache=True, nogil=True)
def costs(table, shape, r, shape_t, r_t, keep, keep_t, use_keep, step, keep_best, best_k, best_rec):
    """Each candidate's cost in bits; with `keep_best`, the cheapest one's corrections and
    reconstruction in best_k / best_rec (the index of that candidate is returned too)."""
    n = r.size
    out = np.empty(table.shape[0], np.float64)
    counts = np.zeros(2 * WIDE + 1, np.int64)
    k, rec = np.empty(n, np.int64), np.empty(n, np.float64)
    q = np.empty(0, np.int64)
    steps = np.full(LEVELS, step)  # uniform: the ranking compares predictors at tag 0x12's steps
    best = -1
    for c in range(table.shape[0]):
        kind, transposed, slices, mask = table[c, 0], table[c, 1], table[c, 2], table[c, 3]
        if kind == 2:
            if q.size == 0:
                q = np.empty(n, np.int64)
                _grid(r, q, step)
            _lorenzo(shape, q, mask, k)
        else:
            sh, src, kp = (shape_t, r_t, keep_t) if transposed else (shape, r, keep)
            if slices:
                _run_slices(sh, src, k, rec, kp, steps, kind == 1, True, use_keep)
            else:
                _run(sh, src, k, rec, kp, steps, kind == 1, True, use_keep)
        lo, hi = _histogram(k, counts)
        out[c] = entropy_bits(counts, n, lo, hi)
        counts[lo:hi + 1] = 0
        if keep_best and (best < 0 or out[c] < out[best]):
            best = c
            best_k[:] = k
            if kind == 2:
                for i in range(n):
                    best_rec[i] = q[i] * step
            else:
                best_rec[:] = rec
    return out, best
