"""The predictor of `inrz.coding.multidim`: a point of category S at level h (S: the axes along
which its index is an odd multiple of h) is predicted by a weighted mean of SZ3's 1-D
interpolations (cubic or linear, `inrz.coding.interp3`'s formulas) along the axes of S, from
points decoded before it (HPEZ, Liu et al. 2024). Weights are quarters (`WEIGHTS`); the
encoder picks weights and cubic / linear per (level, category) by the order-0 entropy of the
corrections on a sample of the category's points (`choose`), all of whose inputs are decoded.

Only IEEE adds and multiplications by exact constants, and one division by the weights' sum,
in a fixed order, no fast-math: the decoder repeats the encoder's predictions bit for bit.
The choice is the encoder's alone (the decoder reads it), and integer-valued
(`C_LOG_C` is a fixed-point table), so the same input gives the same bytes everywhere.
`level_steps`: the step of each level (QoZ, Liu et al. 2022: finer steps on the coarse levels
every finer prediction is built on). numba's disk cache is keyed on the caller's file only:
after editing this file or `mdctx`, touch `multidim.py`.
"""
from __future__ import annotations

import math

import numpy as np

from ..core.compiled import kernel
from .ctxkernel import _bitlength
from .interp3 import _predict as axis_prediction
from .interp3 import _quantise as quantise

KMAX = 2.0**50  # corrections beyond are clipped (the value becomes an exception), as interp3.KMAX
SAMPLE = 2048  # points of a category the encoder's choice looks at, at most
WIDE = 63  # corrections beyond +-WIDE are pooled in the choice's histogram
TUNES = ((1.0, 1.0), (1.25, 1.5), (1.5, 2.0), (2.0, 4.0))  # (alpha, beta) of `level_steps`


def _weights() -> tuple[np.ndarray, np.ndarray]:
    """WEIGHTS[c, o]: option o's weights (quarters) on the three axes for category c of
    `mdctx.CAT_MASKS`; COUNT[c]: its options (1, 5 or 15)."""
    table = np.zeros((7, 15, 3), np.int64)
    count = np.zeros(7, np.int64)
    for c, mask in enumerate((1, 2, 4, 3, 5, 6, 7)):
        axes = [a for a in range(3) if mask >> a & 1]
        if len(axes) == 1:
            opts = [(4,)]
        elif len(axes) == 2:
            opts = [(w, 4 - w) for w in range(5)]
        else:
            opts = [(u, v, 4 - u - v) for u in range(5) for v in range(5 - u)]
        for o, ws in enumerate(opts):
            for a, w in zip(axes, ws):
                table[c, o, a] = w
        count[c] = len(opts)
    return table, count


WEIGHTS, COUNT = _weights()
DEFAULT = np.array([1, 1, 1, 5, 5, 5, 9], np.int64)  # cubic, equal weights ((1, 2, 1) for three axes)
C_LOG_C = np.array([0] + [round(c * math.log2(c) * 65536) for c in range(1, SAMPLE + 1)], np.int64)


def _factors(tune: int) -> list[float]:
    alpha, beta = TUNES[tune]
    out, factor = [], 1.0
    for _ in range(64):
        out.append(factor)
        factor = min(factor * alpha, beta)
    return out


FACTORS = np.array([_factors(t) for t in range(len(TUNES))], np.float64)


def level_steps(step: float, tune: int) -> np.ndarray:
    """Level l's step: step / min(alpha**l, beta) for TUNES[tune] (QoZ's level-wise error
    bounds), the factor by repeated products, so every decoder repeats it exactly (for a float
    step one IEEE division per level, numpy's as Python's)."""
    if isinstance(step, float):
        return step / FACTORS[tune]
    return np.array([step / f for f in _factors(tune)], np.float64)


@kernel(cache=True, nogil=True)
def combine(p0, p1, p2, v0, v1, v2, mask, w0, w1, w2):
    """The weighted mean of the axis predictions p (axes of `mask`; v: the axis has a point h
    after, an interpolation rather than an extrapolation) over the weighted axes with one; else
    the plain mean of the axes with one; else the weighted mean of all."""
    m0, m1, m2 = mask & 1, (mask >> 1) & 1, (mask >> 2) & 1
    total, weight = 0.0, 0
    if m0 and v0 and w0:
        total += w0 * p0
        weight += w0
    if m1 and v1 and w1:
        total += w1 * p1
        weight += w1
    if m2 and v2 and w2:
        total += w2 * p2
        weight += w2
    if weight > 0:
        return total / weight
    if m0 and v0:
        total += p0
        weight += 1
    if m1 and v1:
        total += p1
        weight += 1
    if m2 and v2:
        total += p2
        weight += 1
    if weight > 0:
        return total / weight
    if m0 and w0:
        total += w0 * p0
        weight += w0
    if m1 and w1:
        total += w1 * p1
        weight += w1
    if m2 and w2:
        total += w2 * p2
        weight += w2
    return total / weight


@kernel(cache=True, nogil=True)
def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


@kernel(cache=True, nogil=True)
def fast_quantise(x, step, inv):
    """quantise(x, step) through x * inv (inv = 1 / step) where that provably rounds alike: |q| < 2**30,
    so x * inv is within 2**-21 of x / step, and q at least 1e-4 from a half; else by the division."""
    q = x * inv
    n = np.rint(q)
    if abs(q) < 1073741824.0 and abs(q - n) < 0.4999:
        return np.int64(n)
    return quantise(x, step)


@kernel(cache=True, nogil=True)
def choose(r, rec, keep, use_keep, shape, strides, base, h, c, mask, step, counts, extra):
    """option * 2 + cubic for category c (`mask`) at level h: the smallest order-0 entropy of
    the corrections (fixed point) over at most SAMPLE of its points, every m-th in C order (m
    prime to the rows, so the sample spreads over them); ties to the first option, linear first.
    counts (at least (30, 2 * WIDE + 1)) and extra (30): the caller's buffers, all zero (left so)."""
    lo0, lo1, lo2 = (h if mask & 1 else 0), (h if mask & 2 else 0), (h if mask & 4 else 0)
    n0, n1, n2, s0, s1 = shape[0], shape[1], shape[2], strides[0], strides[1]
    c0, c1, c2 = (n0 - 1 - lo0) // (2 * h) + 1, (n1 - 1 - lo1) // (2 * h) + 1, (n2 - 1 - lo2) // (2 * h) + 1
    total = c0 * c1 * c2
    m = max(1, -(-total // SAMPLE))
    while m > 1 and _gcd(m, c2) != 1:
        m += 1
    nopt, inv = COUNT[c], 1.0 / step if 1e-300 < abs(step) < 1e300 else np.nan  # NaN: divide
    n, low, high, q0, q1, q2 = 0, 2 * WIDE, 0, 0, 0, 0
    for _ in range(0, total, m):
        if n == SAMPLE:
            break
        i0, i1, i2 = lo0 + 2 * h * q0, lo1 + 2 * h * q1, lo2 + 2 * h * q2
        q2 += m  # the next point's place in the category's grid, without a division per point
        if q2 >= c2:
            carry = q2 // c2
            q2 -= carry * c2
            q1 += carry
            if q1 >= c1:
                carry = q1 // c1
                q1 -= carry * c1
                q0 += carry
        at = base + i0 * s0 + i1 * s1 + i2
        if use_keep and keep[at] == 0:
            continue
        n += 1
        v0, v1, v2 = i0 + h < n0, i1 + h < n1, i2 + h < n2
        inside = (v0 or not mask & 1) and (v1 or not mask & 2) and (v2 or not mask & 4)
        x = r[at]
        for cubic in range(2):
            p0 = axis_prediction(rec, at, i0, h, n0, s0, cubic) if mask & 1 else 0.0
            p1 = axis_prediction(rec, at, i1, h, n1, s1, cubic) if mask & 2 else 0.0
            p2 = axis_prediction(rec, at, i2, h, n2, 1, cubic) if mask & 4 else 0.0
            for o in range(nopt):
                w0, w1, w2 = WEIGHTS[c, o, 0], WEIGHTS[c, o, 1], WEIGHTS[c, o, 2]
                if inside:  # `combine`'s first case, its weights summing to 4: the same sums
                    acc = 0.0
                    if w0:
                        acc += w0 * p0
                    if w1:
                        acc += w1 * p1
                    if w2:
                        acc += w2 * p2
                    pred = acc * 0.25
                else:  # `combine`, inline (a call here costs the whole loop registers)
                    acc, wt = 0.0, 0
                    if mask & 1 and v0 and w0:
                        acc, wt = acc + w0 * p0, wt + w0
                    if mask & 2 and v1 and w1:
                        acc, wt = acc + w1 * p1, wt + w1
                    if mask & 4 and v2 and w2:
                        acc, wt = acc + w2 * p2, wt + w2
                    if wt == 0:
                        if mask & 1 and v0:
                            acc, wt = acc + p0, wt + 1
                        if mask & 2 and v1:
                            acc, wt = acc + p1, wt + 1
                        if mask & 4 and v2:
                            acc, wt = acc + p2, wt + 1
                    if wt == 0:
                        if mask & 1 and w0:
                            acc, wt = acc + w0 * p0, wt + w0
                        if mask & 2 and w1:
                            acc, wt = acc + w1 * p1, wt + w1
                        if mask & 4 and w2:
                            acc, wt = acc + w2 * p2, wt + w2
                    pred = acc / wt
                k = fast_quantise(x - pred, step, inv)
                j = o * 2 + cubic
                b = k + WIDE
                if not -WIDE <= k <= WIDE:
                    b = 0
                    extra[j] += 2 * 65536 * _bitlength(k if k > 0 else -k)
                counts[j, b] += 1
                low, high = min(low, b), max(high, b)
    best, choice = np.int64(0), 0
    for j in range(2 * nopt):  # n log n - sum c log c, less the n log n all options share
        cost = extra[j]
        extra[j] = 0
        for b in range(low, high + 1):
            cost -= C_LOG_C[counts[j, b]]
            counts[j, b] = 0
        if j == 0 or cost < best:
            best, choice = cost, j
    return choice
