"""The synthesis's 3x3 residual convolutions on 2-D grids, forward and backward, compiled for
training on the CPU (`band_grads.synthesis_band`; torch's convolutions stay the definition and
run on other devices and grids).

These layers map a few channels (the output's, 1 or 3) to as many: oneDNN spends most of its
time on layout changes and on a weight gradient blocked for wide layers. Here each output row
is built in cache from shifted input rows (the inner loop runs along the row, in SIMD lanes)
and the weight gradient is a dot product of each gradient row with the shifted input rows it
touched, in float64. Arrays are channels-first (C, H, W); convolutions are "valid" (H - 2, W - 2).
"""
from __future__ import annotations

import numpy as np

from inrz import kernel


@kernel(cache=True, nogil=True)
def forward(x, w, b, out):
    """out (O, H - 2, W - 2) = b + sum over c, dy, dx of w[o, c, dy, dx] * x[c, y + dy, x + dx]."""
    O, C = w.shape[0], w.shape[1]
    H, W = out.shape[1], out.shape[2]
    for y in range(H):
        for o in range(O):
            r = out[o, y]
            bo = b[o]
            for j in range(W):
                r[j] = bo
            for c in range(C):
                for dy in range(3):
                    s = x[c, y + dy]
                    w0, w1, w2 = w[o, c, dy, 0], w[o, c, dy, 1], w[o, c, dy, 2]
                    for j in range(W):
                        r[j] += (w0 * s[j] + w1 * s[j + 1]) + w2 * s[j + 2]


@kernel(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def backward(g, x, w, gx, gw, gb):
    """Adjoint of `forward` for the output gradient g (O, H - 2, W - 2): gx (C, H, W), gw
    (O, C, 3, 3) float64 and gb (O,) float64, all overwritten."""
    O, C = w.shape[0], w.shape[1]
    H, W = g.shape[1], g.shape[2]
    gx[:] = 0.0
    acc = np.zeros((O, C, 3, 3))
    accb = np.zeros(O)
    for y in range(H):
        for o in range(O):
            r = g[o, y]
            t = 0.0
            for j in range(W):
                t += r[j]
            accb[o] += t
            for c in range(C):
                for dy in range(3):
                    s, d = x[c, y + dy], gx[c, y + dy]
                    w0, w1, w2 = w[o, c, dy, 0], w[o, c, dy, 1], w[o, c, dy, 2]
                    a0 = a1 = a2 = 0.0
                    for j in range(W):
                        gj = r[j]
                        a0 += gj * s[j]
                        a1 += gj * s[j + 1]
                        a2 += gj * s[j + 2]
                    acc[o, c, dy, 0] += a0
                    acc[o, c, dy, 1] += a1
                    acc[o, c, dy, 2] += a2
                    for j in range(W):
                        d[j] += w0 * r[j]
                    for j in range(W):
                        d[j + 1] += w1 * r[j]
                    for j in range(W):
                        d[j + 2] += w2 * r[j]
    gw[:] = acc
    gb[:] = accb
