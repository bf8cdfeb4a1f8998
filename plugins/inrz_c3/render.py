"""The decoder's renderer without torch: latent pyramid -> upsampling -> synthesis, compiled
(numba, no GIL) and run in row bands on inrz's worker threads, float64 throughout (as
`model.render`, which stays the training-side definition).

The same operations in the same order as `upsample.up_axis` and `model.synthesis`, every sum
accumulated in the same sequence (no fused multiply-adds); only the products inside a matrix
product or a convolution may be grouped differently from torch's kernels, so values agree to
float64 rounding (~1e-15 relative), not bit for bit. Every output sample is computed by one
task from inputs no task writes, so the bits do not depend on the thread count. The format
promises the latents and weights exactly; the rendered signal to within one step of its 8-bit
output (tests).

Grids of 1 and 2 axes run as 3-axis grids with leading axes of one sample. The stack the
synthesis reads is computed whole (`latent_pyramid.pyramid`). Where no convolution spans the first axis (every
1- and 2-axis grid), the synthesis then runs in bands of rows (`_synth_rows`): the MLP on the
band's rows of the padded grid, then each convolution, in buffers that stay in cache (no
full-size intermediate arrays: less memory traffic and fewer page faults). Otherwise the
per-point MLP writes straight into the residual convolutions' padded input (the MLP is per
point, so padding its output equals padding its input), then each convolution runs over row
bands.

`scale` renders at another resolution (the latent pyramid resampled before synthesis, see
`resample`) and `region` renders a window of the output grid only.
"""
from __future__ import annotations

import numpy as np

from inrz import kernel

from .bands import run, split
from .latent_pyramid import pyramid

BLOCK = 256  # points per MLP block (its hidden layer stays in L1)
BAND = 32  # rows per band of the fused synthesis (`_synth_rows`): its buffers stay in L2


def _as3(shape) -> tuple[int, int, int]:
    return (1,) * (3 - len(shape)) + tuple(shape)


# ---------------- synthesis ----------------

@kernel(cache=True, nogil=True, native=True)
def _mlp_into(u, W, b, dims, woff, boff, out, pads, lo, hi):
    """Points lo..hi of u (L, Z, Y, X) (C order) -> out (channels, Z + 2 pz, Y + 2 py, X + 2 px)
    at offset `pads`: per point W_k h + b_k, ReLU between layers (layer k's W at W[woff[k]:],
    (dims[k+1], dims[k]) row-major), each output summed over its inputs in order, then the bias
    (`_mlp_block`)."""
    Y, X = u.shape[2], u.shape[3]
    width = 0
    for d in dims:
        width = max(width, d)
    h0, h1 = np.empty((width, BLOCK)), np.empty((width, BLOCK))
    p = lo
    while p < hi:
        row, x = p // X, p % X
        z, y = row // Y, row % Y
        m = min(hi - p, X - x, BLOCK)
        for c in range(u.shape[0]):
            src = u[c, z, y]
            for q in range(m):
                h0[c, q] = src[x + q]
        _mlp_block(h0, h1, m, W, b, dims, woff, boff)
        last = dims.shape[0] - 2
        res = h0 if last % 2 == 1 else h1
        for o in range(dims[last + 1]):
            dst = out[o, z + pads[0], y + pads[1]]
            for q in range(m):
                dst[x + pads[2] + q] = res[o, q]
        p += m


@kernel(cache=True, nogil=True)
def _mlp_block(h0, h1, m, W, b, dims, woff, boff):
    """The MLP on the first m columns of h0, layers ping-ponging between h0 and h1. Inputs are
    added four at a time, each sum in the sequence 0 + w_0 x_0 + w_1 x_1 + ... (as one at a time)."""
    last = dims.shape[0] - 2
    for k in range(last + 1):
        src, dst = (h0, h1) if k % 2 == 0 else (h1, h0)
        din = dims[k]
        for o in range(dims[k + 1]):
            row = woff[k] + o * din
            d = dst[o]
            for q in range(m):
                d[q] = 0.0
            i = 0
            while i + 4 <= din:
                w0, w1, w2, w3 = W[row + i], W[row + i + 1], W[row + i + 2], W[row + i + 3]
                s0, s1, s2, s3 = src[i], src[i + 1], src[i + 2], src[i + 3]
                for q in range(m):
                    d[q] = (((d[q] + w0 * s0[q]) + w1 * s1[q]) + w2 * s2[q]) + w3 * s3[q]
                i += 4
            while i < din:
                w, s = W[row + i], src[i]
                for q in range(m):
                    d[q] = d[q] + w * s[q]
                i += 1
            bo = b[boff[k] + o]
            if k < last:
                for q in range(m):
                    d[q] = max(d[q] + bo, 0.0)
            else:
                for q in range(m):
                    d[q] = d[q] + bo


def _pad_borders(x: np.ndarray, pads, periodic) -> None:
    """Fill the `pads` samples on each side of every axis of x (C, Z, Y, X) from its interior:
    wrapped on periodic axes, else the edge sample repeated (axis by axis, as `model.pad_spatial`)."""
    for axis, (w, wrap) in enumerate(zip(pads, periodic), start=1):
        w = int(w)
        if not w:
            continue
        n = x.shape[axis] - 2 * w
        for at in (np.arange(w), np.arange(n + w, n + 2 * w)):
            src = at - w
            src = (src % n if wrap else np.clip(src, 0, n - 1)) + w
            index = (slice(None),) * axis + (at,)
            x[index] = np.take(x, src, axis=axis)


@kernel(cache=True, nogil=True, native=True)
def _conv_rows(x, W, b, relu, out, lo, hi):
    """Rows lo..hi (flat over (Z', Y')) of out (C, Z', Y', X') = x[centre] + f(conv(x) + b):
    valid convolution of x (C, Z, Y, X) with W (C, C, kz, ky, kx) (kernel extent 1 on axes the
    grid does not have), ReLU'd unless it is the last layer; each sum from the bias through
    inputs, then taps in order."""
    C = x.shape[0]
    kz, ky, kx = W.shape[2], W.shape[3], W.shape[4]
    oy, ox = out.shape[2], out.shape[3]
    acc = np.empty(ox)
    for r in range(lo, hi):
        z, y = r // oy, r % oy
        for o in range(C):
            for v in range(ox):
                acc[v] = b[o]
            for i in range(C):
                for dz in range(kz):
                    for dy in range(ky):
                        row = x[i, z + dz, y + dy]
                        if kx == 3:
                            w0, w1, w2 = W[o, i, dz, dy, 0], W[o, i, dz, dy, 1], W[o, i, dz, dy, 2]
                            for v in range(ox):
                                acc[v] = ((acc[v] + w0 * row[v]) + w1 * row[v + 1]) + w2 * row[v + 2]
                        else:
                            for dx in range(kx):
                                w = W[o, i, dz, dy, dx]
                                for v in range(ox):
                                    acc[v] = acc[v] + w * row[v + dx]
            centre = x[o, z + kz // 2, y + ky // 2]
            dst = out[o, z, y]
            for v in range(ox):
                c = max(acc[v], 0.0) if relu else acc[v]
                dst[v] = centre[v + kx // 2] + c


@kernel(cache=True, nogil=True, native=True)
def _synth_rows(u, W, b, dims, woff, boff, Wr, br, pads, periodic, out, lo, hi):
    """Output rows lo..hi (flat over (Z, Y')) of out (C, Z, Y', X'), the whole synthesis at once
    for residual convolutions that do not span the first axis (every 1- and 2-axis grid): in
    bands of up to BAND rows of one plane, the MLP on the band's rows of its padded output (the
    rows and columns past the ends from the clamped or wrapped points: the MLP is per point),
    then each convolution on the band, in buffers that stay in cache. Per sample, the same
    operations in the same order as `_mlp_into`, `_pad_borders` and `_conv_rows`: the same bits."""
    Y, X = u.shape[2], u.shape[3]
    R, C, ky, kx = Wr.shape[0], Wr.shape[1], Wr.shape[4], Wr.shape[5]
    py, px = pads[1], pads[2]
    Yo = out.shape[2]
    Xp = X + 2 * px
    hy = R * (ky - 1)  # rows of the MLP's output a band of final rows needs beyond its own
    width = 0
    for d in dims:
        width = max(width, d)
    h0, h1 = np.empty((width, BLOCK)), np.empty((width, BLOCK))
    last_mlp = dims.shape[0] - 2
    res = h0 if last_mlp % 2 == 1 else h1
    bufs = np.empty((2, C, BAND + hy, Xp))
    acc = np.empty(Xp)
    r = lo
    while r < hi:
        z, y0 = r // Yo, r % Yo
        n = min(BAND, hi - r, Yo - y0)
        a = bufs[0]
        for j in range(n + hy):  # the MLP, row y0 + j of its padded output
            p = y0 + j - py
            p = p % Y if periodic[1] else min(max(p, 0), Y - 1)
            x = 0
            while x < X:
                m = min(BLOCK, X - x)
                for c in range(u.shape[0]):
                    src = u[c, z, p]
                    for q in range(m):
                        h0[c, q] = src[x + q]
                _mlp_block(h0, h1, m, W, b, dims, woff, boff)
                for o in range(C):
                    dst = a[o, j]
                    for q in range(m):
                        dst[px + x + q] = res[o, q]
                x += m
            for o in range(C):
                row = a[o, j]
                for c in range(px):
                    left, right = c - px, X + c
                    left = left % X if periodic[2] else 0
                    right = right % X if periodic[2] else X - 1
                    row[c] = row[px + left]
                    row[px + X + c] = row[px + right]
        rows, cols = n + hy, Xp
        for k in range(R):  # the residual convolutions, valid, on the band
            src, dst = bufs[k % 2], bufs[1 - k % 2]
            rows, cols = rows - (ky - 1), cols - (kx - 1)
            final = k == R - 1
            for j in range(rows):
                for o in range(C):
                    for v in range(cols):
                        acc[v] = br[k, o]
                    for i in range(C):
                        for dy in range(ky):
                            row = src[i, j + dy]
                            if kx == 3:
                                w0, w1, w2 = Wr[k, o, i, 0, dy, 0], Wr[k, o, i, 0, dy, 1], Wr[k, o, i, 0, dy, 2]
                                for v in range(cols):
                                    acc[v] = ((acc[v] + w0 * row[v]) + w1 * row[v + 1]) + w2 * row[v + 2]
                            else:
                                for dx in range(kx):
                                    w = Wr[k, o, i, 0, dy, dx]
                                    for v in range(cols):
                                        acc[v] = acc[v] + w * row[v + dx]
                    centre = src[o, j + ky // 2]
                    if final:
                        target = out[o, z, y0 + j]
                        for v in range(cols):
                            target[v] = centre[v + kx // 2] + acc[v]
                    else:
                        target = dst[o, j]
                        for v in range(cols):
                            target[v] = centre[v + kx // 2] + max(acc[v], 0.0)
        r += n


def _mlp_weights(w: dict, n_mlp: int):
    Ws = [np.asarray(w[f"syn{i}.W"], np.float64) for i in range(n_mlp)]
    bs = [np.asarray(w[f"syn{i}.b"], np.float64) for i in range(n_mlp)]
    dims = np.asarray([Ws[0].shape[1]] + [W.shape[0] for W in Ws], np.int64)
    woff = np.concatenate([[0], np.cumsum([W.size for W in Ws])]).astype(np.int64)
    boff = np.concatenate([[0], np.cumsum([v.size for v in bs])]).astype(np.int64)
    return np.concatenate([W.ravel() for W in Ws]), np.concatenate(bs), dims, woff, boff


def _synthesise(u: np.ndarray, w: dict, n_mlp: int, res_layers: int, pads, periodic) -> np.ndarray:
    """u (L, Z, Y, X) -> (channels, Z', Y', X'): the MLP at every point of u into an array padded
    by `pads` (filled by `_pad_borders`), then `res_layers` valid residual convolutions (each
    shrinking the grid by one sample per side on the axes they span). The result is a view of a
    channels-last array (what the caller hands on, without a transposing copy)."""
    W, b, dims, woff, boff = _mlp_weights(w, n_mlp)
    channels = int(dims[-1])
    Z, Y, X = u.shape[1:]
    pads = np.asarray(pads, np.int64)
    Wr, br = _res_weights(w, res_layers)
    if res_layers and Wr.shape[0] == res_layers and Wr.shape[3] == 1 and not pads[0]:  # no convolution spans the first axis
        ky, kx = Wr.shape[4:]
        shape = (Z, Y + 2 * pads[1] - res_layers * (ky - 1), X + 2 * pads[2] - res_layers * (kx - 1))
        out = _last_layer(shape, channels)
        work = X * int(dims[1:].sum()) + shape[2] * res_layers * channels * channels * ky * kx
        # whole bands of BAND rows: a band recomputes the rows its convolutions reach past it
        run(_synth_rows, (u, W, b, dims, woff, boff, Wr, br, pads, np.asarray(periodic, np.bool_), out),
            split(shape[0] * shape[1], work, BAND))
        return out
    shape = (Z + 2 * pads[0], Y + 2 * pads[1], X + 2 * pads[2])
    x = _last_layer(shape, channels) if res_layers == 0 else np.empty((channels,) + shape)
    run(_mlp_into, (u, W, b, dims, woff, boff, x, pads), split(Z * Y * X, int(dims[1:].sum())))
    if pads.any():
        _pad_borders(x, pads, np.asarray(periodic, np.bool_))
    for i in range(res_layers):
        Wr = np.asarray(w[f"res{i}.W"], np.float64)
        Wr = np.ascontiguousarray(Wr.reshape(Wr.shape[:2] + (1,) * (5 - Wr.ndim) + Wr.shape[2:]))
        kz, ky, kx = Wr.shape[2:]
        shape = (x.shape[1] - kz + 1, x.shape[2] - ky + 1, x.shape[3] - kx + 1)
        out = _last_layer(shape, channels) if i == res_layers - 1 else np.empty((channels,) + shape)
        run(_conv_rows, (x, Wr, np.ascontiguousarray(w[f"res{i}.b"], np.float64), i < res_layers - 1, out),
             split(shape[0] * shape[1], shape[2] * channels * channels * kz * ky * kx))
        x = out
    return x


def _res_weights(w: dict, res_layers: int):
    """The residual convolutions' weights (R, C, C, kz, ky, kx) and biases (R, C), float64, or
    empty arrays when their kernels differ in shape."""
    Ws = [np.asarray(w[f"res{i}.W"], np.float64) for i in range(res_layers)]
    Ws = [W.reshape(W.shape[:2] + (1,) * (5 - W.ndim) + W.shape[2:]) for W in Ws]
    if not Ws or len({W.shape for W in Ws}) > 1:
        return np.zeros((0, 1, 1, 1, 1, 1)), np.zeros((0, 1))
    return (np.ascontiguousarray(np.stack(Ws)),
            np.ascontiguousarray(np.stack([np.asarray(w[f"res{i}.b"], np.float64) for i in range(res_layers)])))


def _last_layer(shape, channels: int) -> np.ndarray:
    """(channels, *shape), a view of a channels-last array."""
    return np.moveaxis(np.empty(tuple(shape) + (channels,)), -1, 0)


def synthesis(u: np.ndarray, w: dict, n_mlp: int, res_layers: int) -> np.ndarray:
    """(levels, *padded) -> (channels, *shape) (`model.synthesis`): MLP per point, then valid
    residual convolutions (u carries `res_layers` points of padding per side)."""
    spatial = u.shape[1:]
    u3 = np.ascontiguousarray(u.reshape((u.shape[0],) + _as3(spatial)), np.float64)
    x = _synthesise(u3, w, n_mlp, res_layers, (0, 0, 0), (False,) * 3)
    return x.reshape((x.shape[0],) + x.shape[4 - len(spatial):])


def render(w: dict, levels: list[np.ndarray], n_mlp: int, res_layers: int, periodic,
           top: np.ndarray | None = None) -> np.ndarray:
    """Decoder output (channels, *shape) from integer latent levels and float64 weights (`top`:
    `latent_pyramid.top_stage` of these levels and kernels, computed beforehand)."""
    U = pyramid(levels, w["up"], periodic, scratch=True, top=top)  # consumed here, by the synthesis
    spatial = U.shape[1:]
    lead = 3 - len(spatial)
    pads = [0] * lead + [res_layers] * len(spatial)
    x = _synthesise(U.reshape((U.shape[0],) + _as3(spatial)), w, n_mlp, res_layers, pads,
                    (False,) * lead + tuple(bool(p) for p in periodic))
    return x.reshape((x.shape[0],) + spatial)
