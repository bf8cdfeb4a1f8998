"""The decoder's renderer without torch: latent pyramid -> upsampling -> synthesis, in numpy and
numba, float64 throughout (as `model.render`, which stays the training-side definition).

The same operations in the same order as `upsample.up_axis` and `model.synthesis`; sums inside
a matrix product or a convolution may be grouped differently from torch's kernels, so values
agree to float64 rounding (~1e-15 relative), not bit for bit. The format promises the latents
and weights exactly; the rendered signal to within one step of its 8-bit output (tests).

`scale` renders at another resolution (the latent pyramid resampled before synthesis, see
`resample_levels`) and `region` renders a window of the output grid only.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

TAPS, PAD = 4, 2  # upsample.TAPS / upsample.PAD


def _pad(z: np.ndarray, axis: int, width: int, periodic: bool) -> np.ndarray:
    """z with `width` samples more on each end of `axis`: wrapped, or the edge sample repeated."""
    n = z.shape[axis]
    idx = np.arange(-width, n + width)
    return np.take(z, idx % n if periodic else np.clip(idx, 0, n - 1), axis=axis)


@njit(cache=True, nogil=True)
def _up(zp, k):
    """zp (outer, n + 2 PAD, inner), already padded -> (outer, 2n, inner): output 2j + ph =
    sum_i k[ph, i] * zp[j + ph + i] (`upsample.up_axis`, the same order of the sum)."""
    outer, n, inner = zp.shape[0], zp.shape[1] - 2 * PAD, zp.shape[2]
    out = np.empty((outer, 2 * n, inner))
    if inner == 1:  # the last axis: the loop runs along the row
        for o in range(outer):
            for ph in range(2):
                k0, k1, k2, k3 = k[ph, 0], k[ph, 1], k[ph, 2], k[ph, 3]
                for j in range(n):
                    out[o, 2 * j + ph, 0] = (((zp[o, j + ph, 0] * k0 + zp[o, j + ph + 1, 0] * k1)
                                              + zp[o, j + ph + 2, 0] * k2) + zp[o, j + ph + 3, 0] * k3)
        return out
    for o in range(outer):
        for j in range(n):
            for ph in range(2):
                k0, k1, k2, k3 = k[ph, 0], k[ph, 1], k[ph, 2], k[ph, 3]
                for v in range(inner):
                    out[o, 2 * j + ph, v] = (((zp[o, j + ph, v] * k0 + zp[o, j + ph + 1, v] * k1)
                                              + zp[o, j + ph + 2, v] * k2) + zp[o, j + ph + 3, v] * k3)
    return out


def up_axis(z: np.ndarray, k: np.ndarray, axis: int, periodic: bool) -> np.ndarray:
    """Double `axis` of z with the polyphase taps k (2, 4)."""
    shape = z.shape
    zp = _pad(z, axis, PAD, periodic)
    flat = zp.reshape(math.prod(shape[:axis]), shape[axis] + 2 * PAD, math.prod(shape[axis + 1:]))
    out = _up(flat, np.ascontiguousarray(k, np.float64))
    return out.reshape(shape[:axis] + (2 * shape[axis],) + shape[axis + 1:])


def pyramid(levels: list[np.ndarray], kernels: np.ndarray, periodic) -> np.ndarray:
    """Levels (finest first) -> (L, *shape_0) (`upsample.upsample_pyramid`)."""
    u = levels[-1][None].astype(np.float64)
    for l in range(len(levels) - 2, -1, -1):
        for axis in range(1, u.ndim):
            u = up_axis(u, kernels[l], axis, periodic[axis - 1])
        crop = (slice(None),) + tuple(slice(0, n) for n in levels[l].shape)
        u = np.concatenate([levels[l][None].astype(np.float64), u[crop]], 0)
    return u


@njit(cache=True, nogil=True)
def _conv3(x, W, b, relu):
    """x (C, Z, Y, X) -> x[inner] + f(conv(x) + b): valid convolution with W (C, C, kz, ky, kx)
    (kernel extent 1 on axes the grid does not have), ReLU'd unless it is the last layer."""
    C, Z, Y, X = x.shape
    kz, ky, kx = W.shape[2], W.shape[3], W.shape[4]
    oz, oy, ox = Z - kz + 1, Y - ky + 1, X - kx + 1
    out = np.empty((C, oz, oy, ox))
    acc = np.empty(ox)
    for o in range(C):
        for z in range(oz):
            for y in range(oy):
                acc[:] = b[o]
                for i in range(C):
                    for dz in range(kz):
                        for dy in range(ky):
                            row = x[i, z + dz, y + dy]
                            for dx in range(kx):
                                w = W[o, i, dz, dy, dx]
                                for v in range(ox):
                                    acc[v] += w * row[v + dx]
                centre = x[o, z + kz // 2, y + ky // 2]
                for v in range(ox):
                    c = max(acc[v], 0.0) if relu else acc[v]
                    out[o, z, y, v] = centre[v + kx // 2] + c
    return out


@njit(cache=True, nogil=True)
def _mlp(u, W, b, dims, woff, boff, block):
    """u (L, n) -> (channels, n): per point W_k h + b_k, ReLU between layers (layer k's W at
    W[woff[k]:], (dims[k+1], dims[k]) row-major); points in blocks, the inner SIMD loop, so the
    hidden layer stays in cache."""
    n = u.shape[1]
    last = dims.shape[0] - 2
    out = np.empty((dims[last + 1], n))
    width = dims.max()
    h0, h1 = np.empty((width, block)), np.empty((width, block))
    for s in range(0, n, block):
        m = min(block, n - s)
        for c in range(u.shape[0]):
            for p in range(m):
                h0[c, p] = u[c, s + p]
        for k in range(last + 1):
            src, dst = (h0, h1) if k % 2 == 0 else (h1, h0)
            for o in range(dims[k + 1]):
                for p in range(m):
                    dst[o, p] = 0.0
                for i in range(dims[k]):
                    w = W[woff[k] + o * dims[k] + i]
                    for p in range(m):
                        dst[o, p] += w * src[i, p]
                bo = b[boff[k] + o]
                for p in range(m):
                    v = dst[o, p] + bo
                    dst[o, p] = max(v, 0.0) if k < last else v
                if k == last:
                    for p in range(m):
                        out[o, s + p] = dst[o, p]
    return out


def synthesis(u: np.ndarray, w: dict, n_mlp: int, res_layers: int) -> np.ndarray:
    """(levels, *padded) -> (channels, *shape) (`model.synthesis`): MLP per point, then valid
    residual convolutions (u carries `res_layers` points of padding per side)."""
    spatial = u.shape[1:]
    Ws = [np.asarray(w[f"syn{i}.W"], np.float64) for i in range(n_mlp)]
    bs = [np.asarray(w[f"syn{i}.b"], np.float64) for i in range(n_mlp)]
    dims = np.asarray([Ws[0].shape[1]] + [W.shape[0] for W in Ws], np.int64)
    woff = np.concatenate([[0], np.cumsum([W.size for W in Ws])]).astype(np.int64)
    boff = np.concatenate([[0], np.cumsum([v.size for v in bs])]).astype(np.int64)
    h = _mlp(np.ascontiguousarray(u.reshape(u.shape[0], -1)), np.concatenate([W.ravel() for W in Ws]),
             np.concatenate(bs), dims, woff, boff, 1024)
    ndim = len(spatial)
    x = np.ascontiguousarray(h.reshape((h.shape[0],) + (1,) * (3 - ndim) + spatial))
    for i in range(res_layers):
        Wr = w[f"res{i}.W"]
        Wr = np.ascontiguousarray(Wr.reshape(Wr.shape[:2] + (1,) * (3 - ndim) + Wr.shape[2:]))
        x = _conv3(x, Wr, np.ascontiguousarray(w[f"res{i}.b"]), i < res_layers - 1)
    return x.reshape((x.shape[0],) + x.shape[4 - ndim:] if ndim < 3 else x.shape)


def pad_spatial(x: np.ndarray, width: int, periodic) -> np.ndarray:
    for axis, wrap in enumerate(periodic, start=1):
        x = _pad(x, axis, width, wrap)
    return x


def render(w: dict, levels: list[np.ndarray], n_mlp: int, res_layers: int, periodic, band: int = 65536) -> np.ndarray:
    """Decoder output (channels, *shape) from integer latent levels and float64 weights."""
    U = pyramid(levels, w["up"], periodic)
    R = res_layers
    Up = pad_spatial(U, R, periodic) if R else U
    n0 = U.shape[1]
    rows = max(1, band // max(1, math.prod(U.shape[2:])))
    return np.concatenate([synthesis(Up[:, r0:min(n0, r0 + rows) + 2 * R], w, n_mlp, R)
                           for r0 in range(0, n0, rows)], 1)
