"""The discretised Laplace's bits and their derivatives in one compiled pass, for training on
the CPU (`band_grads.laplace_bits_grad` is the definition and what other devices run).

In torch the same formulas take about twenty elementwise ops over a band, each writing a
full-size temporary; here each latent's bits and its two derivatives come from one visit.
"""
from __future__ import annotations

import math

import numpy as np

from inrz import kernel

LN2 = math.log(2.0)
P_MIN = 2.0 ** -24  # `model.laplace_bits`'s probability floor


@kernel(cache=True, nogil=True)
def laplace_bits_grad(v, mu, log_b, valid, g_v, g_lb):
    """-sum(log2 P(v[:valid])) in float64; g_v, g_lb (overwritten): the derivatives of that
    sum with respect to v and log_b (zero past `valid`), as `band_grads.laplace_bits_grad`."""
    n = v.shape[0]
    total = 0.0
    for i in range(n):
        x = log_b[i]
        lb = min(max(x, -5.0), 5.0)
        b = math.exp(lb)
        d = v[i] - mu[i]
        a = abs(d)
        hi = (a + 0.5) / b
        e2 = math.exp(-hi)
        t = (a - 0.5) / b
        e = math.exp(-abs(t))
        p = 1.0 - 0.5 * (e + e2) if a < 0.5 else 0.5 * (e - e2)
        k = 0.0  # d bits / dP, halved; 0 under the floor (clamped) and past `valid` (free)
        if i < valid:
            total += math.log2(max(p, P_MIN))
            if p >= P_MIN:
                k = -0.5 / LN2 / p
        sign = 1.0 if d > 0 else (-1.0 if d < 0 else 0.0)
        g_v[i] = (e2 - e) / b * k * sign
        g_lb[i] = (t * e - hi * e2) * k if lb == x else 0.0  # the clamp passes the gradient inside [-5, 5]
    return -total


@kernel(cache=True, nogil=True)
def gather(band, starts, ctx):
    """ctx (C, rows, W)[j] = the window of the 2-D padded band at starts[j] (row, column)."""
    C, rows, W = ctx.shape
    for j in range(C):
        r0, c0 = starts[j, 0], starts[j, 1]
        for r in range(rows):
            src, dst = band[r0 + r], ctx[j, r]
            for x in range(W):
                dst[x] = src[c0 + x]


@kernel(cache=True, nogil=True)
def scatter(g_ctx, starts, centre, g_v, scale, g_band):
    """The band's gradient (overwritten): scale * g_v (rows, W) on the centre window, plus each
    context's gradient g_ctx[j] on its window, added in context order."""
    C, rows, W = g_ctx.shape
    g_band[:] = 0.0
    r0, c0 = centre[0], centre[1]
    for r in range(rows):
        dst, src = g_band[r0 + r], g_v[r]
        for x in range(W):
            dst[c0 + x] = src[x] * scale
    for j in range(C):
        r0, c0 = starts[j, 0], starts[j, 1]
        for r in range(rows):
            dst, src = g_band[r0 + r], g_ctx[j, r]
            for x in range(W):
                dst[c0 + x] += src[x]
