"""Compiled 2x upsampling along one axis and its backward, for training on the CPU.

`upsample.up_axis` in torch pads the input, forms eight shifted products, stacks the two
phases and reshapes: five full-size temporaries per axis, a third of a medium-preset step on
768x512. These kernels do the same arithmetic in one pass each, reading the clamped (or
wrapped) source rows in place of a padded copy:

    out[j] = sum_t k[j % 2, t] * z[src(j // 2 + j % 2 + t - PAD)],   j < m (m <= 2n: outputs kept)

and the backward gathers, for every padded source position q, the outputs that read it, then
folds the padding back onto the samples it copied (`upsample._fold_pad`). The kernel gradient
is accumulated in float64. Arrays are viewed as (A, n, B): the axis in the middle, B = 1 for
the last axis, which has kernels of its own (a unit-stride inner loop either way).
"""
from __future__ import annotations

import numpy as np

from inrz import kernel

TAPS = 4
PAD = 2


@kernel(cache=True, nogil=True)
def _src(q, n, periodic):
    """The source sample at padded position q (q - PAD, clamped or wrapped into [0, n))."""
    s = q - PAD
    if periodic:
        return s % n
    return min(max(s, 0), n - 1)


@kernel(cache=True, nogil=True)
def _outside(lo, hi, n):
    """The indices of range(n) outside [lo, hi) (hi >= lo): the edges a kernel's fast loop skips."""
    out = np.empty(max(0, min(lo, n)) + max(0, n - max(hi, lo)), np.int64)
    c = 0
    for j in range(min(lo, n)):
        out[c] = j
        c += 1
    for j in range(max(hi, lo), n):
        out[c] = j
        c += 1
    return out


@kernel(cache=True, nogil=True)
def forward(z, k, periodic, out):
    """z (A, n, B) -> out (A, m, B): the first m samples of z doubled on the middle axis."""
    A, n, B = z.shape
    m = out.shape[1]
    for a in range(A):
        for j in range(m):
            i, ph = j >> 1, j & 1
            k0, k1, k2, k3 = k[ph, 0], k[ph, 1], k[ph, 2], k[ph, 3]
            r0, r1 = z[a, _src(i + ph, n, periodic)], z[a, _src(i + ph + 1, n, periodic)]
            r2, r3 = z[a, _src(i + ph + 2, n, periodic)], z[a, _src(i + ph + 3, n, periodic)]
            o = out[a, j]
            for b in range(B):
                o[b] = ((r0[b] * k0 + r1[b] * k1) + r2[b] * k2) + r3[b] * k3


@kernel(cache=True, nogil=True)
def forward_last(z, k, periodic, out):
    """`forward` on the last axis: z (A, n) -> out (A, m)."""
    A, n = z.shape
    m = out.shape[1]
    lo, hi = PAD, max(PAD, min(n - PAD, (m - 1) // 2 + 1))  # outputs 2i, 2i+1 with every tap inside: i in [lo, hi)
    ke0, ke1, ke2, ke3 = k[0, 0], k[0, 1], k[0, 2], k[0, 3]
    ko0, ko1, ko2, ko3 = k[1, 0], k[1, 1], k[1, 2], k[1, 3]
    both = min(hi, m // 2)  # i below this keep both outputs (2i + 1 < m)
    edges = _outside(2 * lo, 2 * hi, m)  # the outputs the fast loop leaves out
    for a in range(A):
        x, y = z[a], out[a]
        for i in range(lo, both):  # no branch in the loop: it vectorises
            y[2 * i] = ((x[i - 2] * ke0 + x[i - 1] * ke1) + x[i] * ke2) + x[i + 1] * ke3
            y[2 * i + 1] = ((x[i - 1] * ko0 + x[i] * ko1) + x[i + 1] * ko2) + x[i + 2] * ko3
        for i in range(max(lo, both), hi):  # an odd m's last even output
            y[2 * i] = ((x[i - 2] * ke0 + x[i - 1] * ke1) + x[i] * ke2) + x[i + 1] * ke3
        for j in edges:
            i, ph = j >> 1, j & 1
            y[j] = ((x[_src(i + ph, n, periodic)] * k[ph, 0] + x[_src(i + ph + 1, n, periodic)] * k[ph, 1])
                    + x[_src(i + ph + 2, n, periodic)] * k[ph, 2]) + x[_src(i + ph + 3, n, periodic)] * k[ph, 3]


@kernel(cache=True, nogil=True)
def backward(g, z, k, periodic, gz, gk):
    """Adjoint of `forward`: g (A, m, B) -> gz (A, n, B) (overwritten); gk (2, TAPS) float64
    (overwritten) = sum over outputs of g * the source sample each tap read."""
    A, n, B = z.shape
    m = g.shape[1]
    gz[:] = 0.0
    lanes = np.zeros((2, TAPS, B))
    row = np.empty(B, gz.dtype)
    ke0, ke1, ke2, ke3 = k[0, 0], k[0, 1], k[0, 2], k[0, 3]
    ko0, ko1, ko2, ko3 = k[1, 0], k[1, 1], k[1, 2], k[1, 3]
    # padded positions q whose 8 readers (i = q - t - ph) all exist and which fold onto no other sample
    lo, hi = 2 * PAD, max(2 * PAD, min(n, (m - 2) // 2 + 1))
    for a in range(A):
        for q in range(lo, hi):  # as `backward_last`'s interior, a row at a time
            d = gz[a, q - PAD]
            y0, y1, y2, y3 = g[a, 2 * q], g[a, 2 * q - 2], g[a, 2 * q - 4], g[a, 2 * q - 6]
            v0, v1, v2, v3 = g[a, 2 * q - 1], g[a, 2 * q - 3], g[a, 2 * q - 5], g[a, 2 * q - 7]
            for b in range(B):
                d[b] += (((ke0 * y0[b] + ke1 * y1[b]) + (ke2 * y2[b] + ke3 * y3[b]))
                         + ((ko0 * v0[b] + ko1 * v1[b]) + (ko2 * v2[b] + ko3 * v3[b])))
        for q in _outside(lo, hi, n + 2 * PAD):  # padded position q is read by output (i, ph) at tap t = q - i - ph
            for b in range(B):
                row[b] = 0.0
            for ph in range(2):
                for t in range(TAPS):
                    i = q - ph - t
                    if i < 0 or i >= n or 2 * i + ph >= m:
                        continue
                    kt = k[ph, t]
                    gr = g[a, 2 * i + ph]
                    for b in range(B):
                        row[b] += kt * gr[b]
            d = gz[a, _src(q, n, periodic)]
            for b in range(B):
                d[b] += row[b]
        for j in range(m):  # per-lane sums (lanes[ph, t, b]): a vector loop, no serial reduction
            i, ph = j >> 1, j & 1
            gr = g[a, j]
            for t in range(TAPS):
                zr = z[a, _src(i + ph + t, n, periodic)]
                lane = lanes[ph, t]
                for b in range(B):
                    lane[b] += gr[b] * zr[b]
    for ph in range(2):
        for t in range(TAPS):
            gk[ph, t] = lanes[ph, t].sum()


@kernel(cache=True, nogil=True)
def backward_last(g, z, k, periodic, gz, gk):
    """`backward` on the last axis: g (A, m), z (A, n), gz (A, n)."""
    A, n = z.shape
    m = g.shape[1]
    gz[:] = 0.0
    acc = np.zeros((2, TAPS))  # the edge outputs' kernel gradient
    lanes = np.zeros((2 * TAPS, n))  # the interior's, per input position i (a vector loop over i)
    ke0, ke1, ke2, ke3 = k[0, 0], k[0, 1], k[0, 2], k[0, 3]
    ko0, ko1, ko2, ko3 = k[1, 0], k[1, 1], k[1, 2], k[1, 3]
    # padded positions q whose 8 readers (i = q - t - ph, t < 4, ph < 2) all exist: i in [q - 4, q]
    lo, hi = 2 * PAD, max(2 * PAD, min(n, (m - 2) // 2 + 1))
    inner_end = max(PAD, min(n - PAD, m // 2))  # outputs 2i, 2i + 1 with every tap inside: PAD <= i < inner_end
    edge_q, edge_j = _outside(lo, hi, n + 2 * PAD), _outside(2 * PAD, 2 * inner_end, m)
    # a row's outputs by phase, 4 samples late: ye[4 + i] = y[2i], yo[4 + i] = y[2i + 1]. Loops below
    # count from 0 so that every index is provably >= 0: numba then drops its negative-index
    # wraparound, which kept the interior loop scalar (alone it runs 2.5x faster; the kernel as a
    # whole did not move, its per-lane sums below dominate)
    ye, yo = np.zeros((m + 1) // 2 + 4, g.dtype), np.zeros(m // 2 + 4, g.dtype)
    for a in range(A):
        y, x, d = g[a], z[a], gz[a]
        for i in range(m // 2):
            ye[4 + i], yo[4 + i] = y[2 * i], y[2 * i + 1]
        if m % 2:
            ye[4 + m // 2] = y[m - 1]
        for r in range(hi - lo):  # interior q = lo + r: q - PAD is a sample itself (no fold)
            q = r + lo + 4  # shifted by 4 (lo = 2 * PAD = 4)
            d[r + lo - PAD] += (((ke0 * ye[q] + ke1 * ye[q - 1]) + (ke2 * ye[q - 2] + ke3 * ye[q - 3]))
                                + ((ko0 * yo[q - 1] + ko1 * yo[q - 2]) + (ko2 * yo[q - 3] + ko3 * yo[q - 4])))
        for q in edge_q:
            s = 0.0
            for ph in range(2):
                for t in range(TAPS):
                    i = q - ph - t
                    if 0 <= i < n and 2 * i + ph < m:
                        s += k[ph, t] * y[2 * i + ph]
            d[_src(q, n, periodic)] += s
        e0, e1, e2, e3, o0, o1, o2, o3 = lanes[0], lanes[1], lanes[2], lanes[3], lanes[4], lanes[5], lanes[6], lanes[7]
        for r in range(inner_end - PAD):  # i = PAD + r: every tap inside the row, both phases kept; per i
            ge, go = ye[r + PAD + 4], yo[r + PAD + 4]
            e0[r] += ge * x[r]
            e1[r] += ge * x[r + 1]
            e2[r] += ge * x[r + 2]
            e3[r] += ge * x[r + 3]
            o0[r] += go * x[r + 1]
            o1[r] += go * x[r + 2]
            o2[r] += go * x[r + 3]
            o3[r] += go * x[r + 4]
        for j in edge_j:  # the outputs the loop above left out
            i, ph = j >> 1, j & 1
            for t in range(TAPS):
                acc[ph, t] += y[j] * x[_src(i + ph + t, n, periodic)]
    for ph in range(2):
        for t in range(TAPS):
            gk[ph, t] = acc[ph, t] + lanes[4 * ph + t].sum()
