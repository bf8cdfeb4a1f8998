"""The fixed-point context model, compiled: what decides every latent's probability.

Decode-only (Cool-chic's `armint.py` in spirit): integers in, integers out, no torch. Latents
are integers, weights are integers W scaled by 2**shift, biases integers scaled by
2**(shift + FRAC), activations integers scaled by 2**FRAC. One layer is

    h = floor((W x + b) / 2**shift), clipped to [0, ACT_LIMIT] (hidden) or [-ACT_LIMIT, ACT_LIMIT] (output)

The arithmetic is float64, which is exact while every product and every partial sum is an
integer below 2**53 in magnitude. `check_bounds` enforces that on a file's weights before any
latent is decoded: for every output row, sum_j |W_ij| * X_j + |b_i| < 2**53, where X_j bounds
the row's inputs (LATENT_LIMIT * 2**FRAC on the first layer, ACT_LIMIT on the others). Every
partial sum of that row, in any order, is then bounded by the same figure, so this kernel, a
BLAS of any blocking and the Python-integer definition give the same integers.

Numba is the compiler (through `inrz.kernel`): it ships as wheels for every platform numpy does
(no toolchain at install time) and keeps the kernel readable Python. The decoder's entry points
(`rangedec`, `render`, `latent_pyramid`) are `native`: their machine code is cached on disk
after the first decode, and later processes load it without importing numba.
"""
from __future__ import annotations

import numpy as np

from inrz import kernel

FRAC = 8  # fractional bits of context-model activations
ACT_LIMIT = float(2 ** 30)  # activations are clipped here
LATENT_LIMIT = 1 << 20  # |latent| a file may hold (a decoder refuses larger ones)
EXACT = float(2 ** 53)  # every sum of a layer stays strictly below this


def pack(Ws, bs, shift: int):
    """Integer layers (W (out, in), b (out,)) -> the flat arrays the kernels take."""
    dims = np.asarray([np.shape(Ws[0])[1]] + [np.shape(W)[0] for W in Ws], np.int64)
    W = np.concatenate([np.asarray(w, np.float64).ravel() for w in Ws])
    b = np.concatenate([np.asarray(v, np.float64).ravel() for v in bs])
    woff = np.concatenate([[0], np.cumsum([np.size(w) for w in Ws])]).astype(np.int64)
    boff = np.concatenate([[0], np.cumsum([np.size(v) for v in bs])]).astype(np.int64)
    return W, b, dims, woff, boff, float(2.0 ** -shift)


def row_bounds(Ws, bs) -> list[np.ndarray]:
    """Per layer, per output row: sum_j |W_ij| * X_j + |b_i|, in Python integers (no rounding)."""
    out = []
    for k, (W, b) in enumerate(zip(Ws, bs)):
        X = LATENT_LIMIT << FRAC if k == 0 else int(ACT_LIMIT)
        Wa = np.abs(np.asarray(W, np.int64)).astype(object)
        out.append(Wa.sum(axis=1) * X + np.abs(np.asarray(b, np.int64)).astype(object))
    return out


def within_bounds(Ws, bs) -> bool:
    """True when every sum the kernel forms is an exact float64 integer (see the module doc)."""
    return all(int(r.max(initial=0)) < int(EXACT) for r in row_bounds(Ws, bs))


@kernel(cache=True, nogil=True, fastmath={"contract"})
def forward_cols(h, n, W, b, dims, woff, boff, inv):
    """Points in columns: h (2 * max(dims), >= n) holds the contexts (scaled by 2**FRAC) in rows
    0..dims[0] of its first n columns; on return rows `out`, `out + 1` hold mean and log-scale.
    Layers ping-pong between the two halves of h; the loop over points is the inner one, so it
    runs in SIMD lanes, four inputs per pass. Every product and partial sum is an exact integer
    (the bound), so fused multiply-adds and any grouping give the same integers."""
    half = h.shape[0] // 2
    n_layers = dims.shape[0] - 1
    src = 0
    for k in range(n_layers):
        din, dout = dims[k], dims[k + 1]
        dst = half - src
        lo = -ACT_LIMIT if k == n_layers - 1 else 0.0
        for o in range(dout):
            acc = h[dst + o]
            bo = b[boff[k] + o]
            row = woff[k] + o * din
            i = 0
            if din >= 4:
                w0, w1, w2, w3 = W[row], W[row + 1], W[row + 2], W[row + 3]
                s0, s1, s2, s3 = h[src], h[src + 1], h[src + 2], h[src + 3]
                for p in range(n):
                    acc[p] = bo + w0 * s0[p] + w1 * s1[p] + w2 * s2[p] + w3 * s3[p]
                i = 4
            else:
                for p in range(n):
                    acc[p] = bo
            while i + 4 <= din:
                w0, w1, w2, w3 = W[row + i], W[row + i + 1], W[row + i + 2], W[row + i + 3]
                s0, s1, s2, s3 = h[src + i], h[src + i + 1], h[src + i + 2], h[src + i + 3]
                for p in range(n):
                    acc[p] += w0 * s0[p] + w1 * s1[p] + w2 * s2[p] + w3 * s3[p]
                i += 4
            while i < din:
                w, s0 = W[row + i], h[src + i]
                for p in range(n):
                    acc[p] += w * s0[p]
                i += 1
            for p in range(n):
                acc[p] = min(max(np.floor(acc[p] * inv), lo), ACT_LIMIT)
        src = dst
    return src


def scratch(dims, n: int) -> np.ndarray:
    """Room for n points; rows 8 doubles past a multiple of 4 kB apart (rows exactly 4 kB apart
    alias in the L1 cache and in store-to-load forwarding: 2x slower kernels)."""
    return np.empty((2 * max(int(dims.max()), 2), (n // 512 + 1) * 512 + 8))


@kernel(cache=True, nogil=True)
def _forward_batch(ctx, h, W, b, dims, woff, boff, inv, mean, logb):
    step = h.shape[1]
    one = float(1 << FRAC)
    for s in range(0, ctx.shape[1], step):
        n = min(step, ctx.shape[1] - s)
        for c in range(dims[0]):
            for p in range(n):
                h[c, p] = ctx[c, s + p] * one
        out = forward_cols(h, n, W, b, dims, woff, boff, inv)
        for p in range(n):
            mean[s + p], logb[s + p] = h[out, p], h[out + 1, p]


def forward_batch(ctx, W, b, dims, woff, boff, inv):
    """ctx (C, n) int64 latents -> (mean, log-scale) (n,) float64 integers with FRAC fractional bits."""
    ctx = np.ascontiguousarray(ctx, np.int64)
    mean, logb = np.empty(ctx.shape[1]), np.empty(ctx.shape[1])
    _forward_batch(ctx, scratch(dims, 4096), W, b, dims, woff, boff, inv, mean, logb)
    return mean, logb


@kernel(cache=True, nogil=True)
def bins(mean, logb):
    """Rounded mean, scale bin and mean-offset bin of one prediction (integer arithmetic).
    Equals `coding.table_bins`: centre = floor((m + 1/2) in FRAC units), fbin by 1/16, sbin by 1/8."""
    m, l = np.int64(mean), np.int64(logb)
    centre = (m + (1 << (FRAC - 1))) >> FRAC
    frac = m - (centre << FRAC)
    fbin = (frac + (1 << (FRAC - 1))) >> (FRAC - 4)  # MEAN_BINS = 16
    sbin = (l >> (FRAC - 3)) + 40  # SCALE_STEP = 8, SCALE_ZERO = 40
    return centre, min(max(sbin, 0), 79), fbin  # SCALE_BINS = 80


@kernel(cache=True, nogil=True)
def bins_batch(mean, logb):
    n = mean.shape[0]
    centre, sbin, fbin = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    for p in range(n):
        centre[p], sbin[p], fbin[p] = bins(mean[p], logb[p])
    return centre, sbin, fbin
