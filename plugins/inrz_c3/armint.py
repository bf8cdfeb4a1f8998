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

Numba is the compiler: it ships as wheels for every platform numpy does (no toolchain at install
time), keeps the kernel readable Python, and caches the machine code on disk so a decode process
pays no compile time after the first.
"""
from __future__ import annotations

import numpy as np
from numba import njit

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


@njit(cache=True, nogil=True)
def _forward(x, W, b, dims, woff, boff, inv, h0, h1):
    """One point: x (dims[0],) float64 context (already scaled by 2**FRAC) -> (mean, log-scale)."""
    src, dst = h0, h1
    for i in range(dims[0]):
        src[i] = x[i]
    n_layers = dims.shape[0] - 1
    for k in range(n_layers):
        din, dout = dims[k], dims[k + 1]
        lo = -ACT_LIMIT if k == n_layers - 1 else 0.0
        for o in range(dout):
            acc = b[boff[k] + o]
            row = woff[k] + o * din
            for i in range(din):
                acc += W[row + i] * src[i]
            v = np.floor(acc * inv)
            dst[o] = min(max(v, lo), ACT_LIMIT)
        src, dst = dst, src
    return src[0], src[1]


@njit(cache=True, nogil=True)
def forward_batch(ctx, W, b, dims, woff, boff, inv):
    """ctx (C, n) int64 latents -> (mean, log-scale) (n,) float64 integers with FRAC fractional bits."""
    width = max(dims.max(), 2)
    h0, h1, x = np.empty(width), np.empty(width), np.empty(dims[0])
    n = ctx.shape[1]
    mean, logb = np.empty(n), np.empty(n)
    one = float(1 << FRAC)
    for p in range(n):
        for c in range(dims[0]):
            x[c] = ctx[c, p] * one
        mean[p], logb[p] = _forward(x, W, b, dims, woff, boff, inv, h0, h1)
    return mean, logb


@njit(cache=True, nogil=True)
def bins(mean, logb):
    """Rounded mean, scale bin and mean-offset bin of one prediction (integer arithmetic).
    Equals `coding.table_bins`: centre = floor((m + 1/2) in FRAC units), fbin by 1/16, sbin by 1/8."""
    m, l = np.int64(mean), np.int64(logb)
    centre = (m + (1 << (FRAC - 1))) >> FRAC
    frac = m - (centre << FRAC)
    fbin = (frac + (1 << (FRAC - 1))) >> (FRAC - 4)  # MEAN_BINS = 16
    sbin = (l >> (FRAC - 3)) + 40  # SCALE_STEP = 8, SCALE_ZERO = 40
    return centre, min(max(sbin, 0), 79), fbin  # SCALE_BINS = 80


@njit(cache=True, nogil=True)
def bins_batch(mean, logb):
    n = mean.shape[0]
    centre, sbin, fbin = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    for p in range(n):
        centre[p], sbin[p], fbin[p] = bins(mean[p], logb[p])
    return centre, sbin, fbin
