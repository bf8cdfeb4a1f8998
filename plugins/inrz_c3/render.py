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
synthesis reads is computed whole (`pyramid`). Where no convolution spans the first axis (every
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

import math
import threading

import numpy as np
from numba import njit

from inrz import threads

TAPS, PAD = 4, 2  # upsample.TAPS / upsample.PAD
BLOCK = 256  # points per MLP block (its hidden layer stays in L1)
BAND = 32  # rows per band of the fused synthesis (`_synth_rows`): its buffers stay in L2
TASK_WORK = 1 << 18  # about this many multiply-adds per task (~0.1-1 ms)


# ---------------- worker threads ----------------

def _run(kernel, args: tuple, ranges: list[tuple[int, int]]) -> None:
    """kernel(*args, lo, hi) for every range, on up to `threads.workers()` threads (the kernels
    release the GIL and write disjoint outputs)."""
    n = min(threads.workers(), len(ranges))
    if n <= 1:
        for lo, hi in ranges:
            kernel(*args, lo, hi)
        return
    pool = threads.executor("c3", n)
    for future in [pool.submit(kernel, *args, lo, hi) for lo, hi in ranges]:
        future.result()


def _split(n: int, work_per_item: int) -> list[tuple[int, int]]:
    """[0, n) in ranges of about TASK_WORK multiply-adds, at least one per worker when n allows."""
    parts = max(1, min(n, max(threads.workers(), n * work_per_item // TASK_WORK)))
    bounds = [n * i // parts for i in range(parts + 1)]
    return [(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]


def _split_bands(n: int, work_per_item: int) -> list[tuple[int, int]]:
    """`_split` in whole bands of BAND rows (a band recomputes the rows its convolutions reach
    past it, so it must not be cut smaller)."""
    bands = -(-n // BAND)
    parts = max(1, min(bands, max(threads.workers(), n * work_per_item // TASK_WORK)))
    bounds = [min(n, BAND * (bands * i // parts)) for i in range(parts + 1)]
    return [(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]


def _as3(shape) -> tuple[int, int, int]:
    return (1,) * (3 - len(shape)) + tuple(shape)


# ---------------- upsampling ----------------

@njit(cache=True, nogil=True)
def _up_into(src, k, periodic, dst, lo, hi):
    """src (outer, n, inner) -> dst (outer, m, inner), m <= 2n, for outer rows lo..hi: output
    2j + ph = sum_i k[ph, i] * src[j + ph + i - PAD] with the index clamped to the axis (or
    wrapped), summed in `upsample.up_axis`'s order. The first m outputs of the 2n."""
    n, inner, m = src.shape[1], src.shape[2], dst.shape[1]
    idx = np.empty((m, TAPS), np.int64)
    for j in range(m):
        for i in range(TAPS):
            p = (j >> 1) + (j & 1) + i - PAD
            idx[j, i] = p % n if periodic else min(max(p, 0), n - 1)
    for o in range(lo, hi):
        for j in range(m):
            ph = j & 1
            k0, k1, k2, k3 = k[ph, 0], k[ph, 1], k[ph, 2], k[ph, 3]
            r0, r1, r2, r3 = src[o, idx[j, 0]], src[o, idx[j, 1]], src[o, idx[j, 2]], src[o, idx[j, 3]]
            out = dst[o, j]
            for v in range(inner):
                out[v] = ((r0[v] * k0 + r1[v] * k1) + r2[v] * k2) + r3[v] * k3


@njit(cache=True, nogil=True)
def _up_last(src, k, periodic, dst, lo, hi):
    """`_up_into` along the last (contiguous) axis: src (rows, n), dst (rows, m)."""
    n, m = src.shape[1], dst.shape[1]
    ke = (k[0, 0], k[0, 1], k[0, 2], k[0, 3])
    ko = (k[1, 0], k[1, 1], k[1, 2], k[1, 3])
    first = min(PAD, m // 2)  # outputs 2j, 2j + 1 with every tap inside the row: PAD <= j < n - PAD
    stop = max(first, min(m // 2, n - PAD))
    for o in range(lo, hi):
        x, y = src[o], dst[o]
        for j in range(first, stop):
            y[2 * j] = ((x[j - 2] * ke[0] + x[j - 1] * ke[1]) + x[j] * ke[2]) + x[j + 1] * ke[3]
            y[2 * j + 1] = ((x[j - 1] * ko[0] + x[j] * ko[1]) + x[j + 1] * ko[2]) + x[j + 2] * ko[3]
        for jj in range(m):
            j = jj >> 1
            if first <= j < stop:
                continue
            ph = jj & 1
            acc = 0.0
            for i in range(TAPS):
                p = j + ph + i - PAD
                p = p % n if periodic else min(max(p, 0), n - 1)
                acc = x[p] * k[ph, i] if i == 0 else acc + x[p] * k[ph, i]
            y[jj] = acc


def _up_axis(src: np.ndarray, k: np.ndarray, axis: int, m: int, periodic: bool, dst: np.ndarray) -> None:
    """dst (src's shape with `m` samples on `axis`) = the first m samples of src doubled on `axis`."""
    shape = src.shape
    outer, inner = math.prod(shape[:axis]), math.prod(shape[axis + 1:])
    if inner == 1:
        s, d = src.reshape(outer, shape[axis]), dst.reshape(outer, m)
        _run(_up_last, (s, k, periodic, d), _split(outer, 2 * m))
    else:
        s, d = src.reshape(outer, shape[axis], inner), dst.reshape(outer, m, inner)
        _run(_up_into, (s, k, periodic, d), _split(outer, 2 * m * inner))


# ---------------- reusable buffers ----------------

SCRATCH_BYTES = 1 << 26  # per thread, the renderer keeps intermediate arrays up to this many bytes
_scratch = threading.local()


def _buffer(key, shape: tuple) -> np.ndarray:
    """An uninitialised float64 array for an intermediate that never leaves this module, reused
    by the next render on this thread when its shape matches. A fresh array of tens of MB costs
    a page fault per 4 KiB page on first touch (in decode_bench: ~2,200 faults, ~10 ms of the
    pyramid's ~24 ms at 768x512); reusing it costs none. Up to SCRATCH_BYTES per thread are kept
    (larger renders allocate as usual); `release_scratch` frees them."""
    kept = getattr(_scratch, "arrays", None)
    if kept is None:
        kept = _scratch.arrays = {}
    old = kept.get(key)
    if old is not None and old.shape == shape:
        return old
    out = np.empty(shape)
    kept.pop(key, None)
    if out.nbytes + sum(a.nbytes for a in kept.values()) <= SCRATCH_BYTES:
        kept[key] = out
    return out


def release_scratch() -> None:
    """Free the buffers this thread's renders keep (`_buffer`)."""
    _scratch.arrays = {}


def pyramid(levels: list[np.ndarray], kernels: np.ndarray, periodic, scratch: bool = False,
            top: np.ndarray | None = None) -> np.ndarray:
    """Levels (finest first, integers or floats) -> float64 (L, *shape_0)
    (`upsample.upsample_pyramid`): stage l stacks level l on the previous stage doubled on every
    axis and cut to level l's shape. `scratch`: the stages live in this thread's reusable
    buffers (`_buffer`), so the result is valid only until the thread's next such call. `top`:
    the last stage with its doubled part already computed (`top_stage` of these levels):
    level 0 is put in and it is returned."""
    if top is not None:
        top[0] = levels[0]
        return top
    empty = (lambda key, shape: _buffer(key, shape)) if scratch else (lambda key, shape: np.empty(shape))
    u = np.asarray(levels[-1], np.float64)[None]
    for l in range(len(levels) - 2, -1, -1):
        stage = empty(("stage", l), (len(levels) - l,) + tuple(levels[l].shape))
        _double_into(u, kernels[l], periodic, stage[1:], lambda key, shape: empty(key + (l,), shape))
        stage[0] = levels[l]
        u = stage
    return u


def top_stage(coarser: list[np.ndarray], shape: tuple, kernels: np.ndarray, periodic) -> np.ndarray:
    """The last stage of `pyramid(levels, ...)` (levels = [level 0 of `shape`] + coarser) but
    for level 0's row, from the coarser levels only: it can run while level 0 is still being
    decoded, and `pyramid(levels, ..., top=this)` completes it. A fresh array (it outlives the call)."""
    stage = np.empty((len(coarser) + 1,) + tuple(shape))
    if coarser:
        _double_into(pyramid(coarser, kernels[1:], periodic), kernels[0], periodic, stage[1:],
                     lambda key, shape: np.empty(shape))
    return stage


def _double_into(u: np.ndarray, kernel: np.ndarray, periodic, dst: np.ndarray, empty) -> None:
    """dst (channels, *shape) = u (channels, *coarser) doubled on every axis and cut to shape,
    axis by axis (intermediates from `empty(key, shape)`)."""
    k = np.ascontiguousarray(kernel, np.float64)
    shape = dst.shape[1:]
    src = u
    for axis in range(1, u.ndim):
        last = axis == u.ndim - 1
        out = dst if last else empty(("axis", axis), src.shape[:axis] + (shape[axis - 1],) + src.shape[axis + 1:])
        _up_axis(src, k, axis, shape[axis - 1], bool(periodic[axis - 1]), out)
        src = out


# ---------------- synthesis ----------------

@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
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
        _run(_synth_rows, (u, W, b, dims, woff, boff, Wr, br, pads, np.asarray(periodic, np.bool_), out),
             _split_bands(shape[0] * shape[1], work))
        return out
    shape = (Z + 2 * pads[0], Y + 2 * pads[1], X + 2 * pads[2])
    x = _last_layer(shape, channels) if res_layers == 0 else np.empty((channels,) + shape)
    _run(_mlp_into, (u, W, b, dims, woff, boff, x, pads), _split(Z * Y * X, int(dims[1:].sum())))
    if pads.any():
        _pad_borders(x, pads, np.asarray(periodic, np.bool_))
    for i in range(res_layers):
        Wr = np.asarray(w[f"res{i}.W"], np.float64)
        Wr = np.ascontiguousarray(Wr.reshape(Wr.shape[:2] + (1,) * (5 - Wr.ndim) + Wr.shape[2:]))
        kz, ky, kx = Wr.shape[2:]
        shape = (x.shape[1] - kz + 1, x.shape[2] - ky + 1, x.shape[3] - kx + 1)
        out = _last_layer(shape, channels) if i == res_layers - 1 else np.empty((channels,) + shape)
        _run(_conv_rows, (x, Wr, np.ascontiguousarray(w[f"res{i}.b"], np.float64), i < res_layers - 1, out),
             _split(shape[0] * shape[1], shape[2] * channels * channels * kz * ky * kx))
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
    `top_stage` of these levels and kernels, computed beforehand)."""
    U = pyramid(levels, w["up"], periodic, scratch=True, top=top)  # consumed here, by the synthesis
    spatial = U.shape[1:]
    lead = 3 - len(spatial)
    pads = [0] * lead + [res_layers] * len(spatial)
    x = _synthesise(U.reshape((U.shape[0],) + _as3(spatial)), w, n_mlp, res_layers, pads,
                    (False,) * lead + tuple(bool(p) for p in periodic))
    return x.reshape((x.shape[0],) + spatial)
