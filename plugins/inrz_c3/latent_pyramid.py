"""The decoder's latent pyramid without torch: every level upsampled to the finest grid and
stacked (`pyramid`), compiled (numba, no GIL) and run in rows on inrz's worker threads, float64,
in `upsample.up_axis`'s order of operations (see `render`). `top_stage` computes the last stage
from the coarser levels alone, so it can run while the finest level is still being decoded.
"""
from __future__ import annotations

import math
import threading

import numpy as np

from inrz import kernel

from .bands import run, split

TAPS, PAD = 4, 2  # upsample.TAPS / upsample.PAD


# ---------------- upsampling ----------------

@kernel(cache=True, nogil=True, native=True)
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


@kernel(cache=True, nogil=True, native=True)
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
        run(_up_last, (s, k, periodic, d), split(outer, 2 * m))
    else:
        s, d = src.reshape(outer, shape[axis], inner), dst.reshape(outer, m, inner)
        run(_up_into, (s, k, periodic, d), split(outer, 2 * m * inner))


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


def _fresh(key, shape: tuple) -> np.ndarray:
    """`_buffer`'s signature, a new array each time (for arrays that outlive the call)."""
    return np.empty(shape)


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
    empty = _buffer if scratch else _fresh
    u = np.asarray(levels[-1], np.float64)[None]
    for l in range(len(levels) - 2, -1, -1):
        stage = empty(("stage", l), (len(levels) - l,) + tuple(levels[l].shape))
        _double_into(u, kernels[l], periodic, stage[1:], empty, l)
        stage[0] = levels[l]
        u = stage
    return u


def top_stage(coarser: list[np.ndarray], shape: tuple, kernels: np.ndarray, periodic) -> np.ndarray:
    """The last stage of `pyramid(levels, ...)` (levels = [level 0 of `shape`] + coarser) but
    for level 0's row, from the coarser levels only: it can run while level 0 is still being
    decoded, and `pyramid(levels, ..., top=this)` completes it. A fresh array (it outlives the call)."""
    stage = np.empty((len(coarser) + 1,) + tuple(shape))
    if coarser:
        _double_into(pyramid(coarser, kernels[1:], periodic), kernels[0], periodic, stage[1:], _fresh, 0)
    return stage


def _double_into(u: np.ndarray, kernel: np.ndarray, periodic, dst: np.ndarray, empty, level: int) -> None:
    """dst (channels, *shape) = u (channels, *coarser) doubled on every axis and cut to shape,
    axis by axis (intermediates from `empty(("axis", level, axis), shape)`)."""
    k = np.ascontiguousarray(kernel, np.float64)
    shape = dst.shape[1:]
    src = u
    for axis in range(1, u.ndim):
        last = axis == u.ndim - 1
        out = dst if last else empty(("axis", level, axis), src.shape[:axis] + (shape[axis - 1],) + src.shape[axis + 1:])
        _up_axis(src, k, axis, shape[axis - 1], bool(periodic[axis - 1]), out)
        src = out
