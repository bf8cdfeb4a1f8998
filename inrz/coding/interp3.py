"""The interpolation predictor (`inrz.coding.predictors`, SZ3's linear / cubic formulas) as one
compiled pass over a chunk's 3-D view (`inrz.coding.lattice3`): prediction from reconstructed
values, quantisation to the step grid, and reconstruction, point by point.

Compiled with numba (`nogil`): zarr's thread pool and Dask's worker threads run chunks in
parallel. Kernels keep no state between calls, so they are thread-safe. Every operation is an
IEEE add or a multiplication by an exact constant, in the order the numpy predictor uses, with
no fast-math contraction: on arrays of at most three axes the corrections and the
reconstruction equal `predictors._interpolate`'s bit for bit (the tests hold them equal).

Level-wise steps (QoZ, Liu et al. 2022; residual tag 0x13): the points of level l (coded in the
passes of h = 2**l, l = 0 the finest) are quantised on step / min(alpha**l, beta), a finer grid
for the few coarse points every finer prediction is built on. `TUNES` lists the (alpha, beta)
pairs a stream may name; pair 0 is the uniform step (tag 0x12). Every level's step stays at
most the uniform one, so the bound holds at every level.
"""
from __future__ import annotations

import functools

import numpy as np

from ..core.compiled import kernel
from .lattice3 import levels3, pass_box, view3_array

KMAX = 2.0**50  # as predictors.KMAX: corrections beyond are clipped (the value becomes an exception)
LEVELS = 64  # a 3-D view has at most 63 halvings
TUNES = ((1.0, 1.0), (1.25, 1.5), (1.25, 2.0), (1.5, 2.0), (1.5, 3.0), (1.75, 4.0), (2.0, 4.0))  # (alpha, beta)


def level_steps(step: float, tune: int = 0) -> np.ndarray:
    """The step of each level l: step / min(alpha**l, beta) for TUNES[tune], in float64
    arithmetic the encoder and every decoder repeat exactly (powers by repeated products)."""
    return _level_steps(float(step), tune).copy()


@functools.lru_cache(maxsize=256)
def _level_steps(step: float, tune: int) -> np.ndarray:
    """`level_steps`, cached and read only (the kernels below take it as it is)."""
    alpha, beta = TUNES[tune]
    out = np.empty(LEVELS, np.float64)
    factor = 1.0
    for level in range(LEVELS):
        out[level] = step / factor
        factor = min(factor * alpha, beta)
    out.flags.writeable = False
    return out


@kernel(cache=True, nogil=True, inline="always")
def _quantise(x, step):
    q = x / step
    if q > KMAX:
        return np.int64(KMAX)
    if q < -KMAX:
        return -np.int64(KMAX)
    if not q == q:  # NaN: the value is stored as an exception
        return np.int64(0)
    return np.int64(np.rint(q))


@kernel(cache=True, nogil=True, inline="always")
def _predict(rec, at, i, h, n, s, cubic):
    """Prediction of rec[at], the i-th point of a line of n with stride s (i an odd multiple of
    h), from the points h and 3h away along it (SZ3's formulas: cubic inside, quadratic one step
    from a border, linear, then extrapolation)."""
    a0 = rec[at - h * s]
    if i + h >= n:  # no right neighbour: extrapolate from the two on the left, or hold
        if i >= 3 * h:
            return 1.5 * a0 - 0.5 * rec[at - 3 * h * s]
        return a0
    a1 = rec[at + h * s]
    if cubic:
        if i + 3 * h < n:
            if i >= 3 * h:
                return (-rec[at - 3 * h * s] + 9.0 * a0 + 9.0 * a1 - rec[at + 3 * h * s]) * 0.0625
            return (3.0 * a0 + 6.0 * a1 - rec[at + 3 * h * s]) * 0.125
        if i >= 3 * h:
            return (-rec[at - 3 * h * s] + 6.0 * a0 + 3.0 * a1) * 0.125
    return (a0 + a1) * 0.5


@kernel(cache=True, nogil=True)
def _run(shape, r, k, rec, keep, steps, cubic, encode, use_keep):
    """One sweep over the passes of a chunk of `shape` (flat C-order arrays); encode: fill k
    from r (k = 0 where keep is 0), else read k. steps[l]: the step of level l (`level_steps`)."""
    n0, n1, n2 = shape[0], shape[1], shape[2]
    strides = np.array([n1 * n2, n2, 1], np.int64)
    level = levels3(n0, n1, n2)
    h = 1 << level
    step = steps[level]
    if encode:  # the anchor: the origin, predicted as 0
        k[0] = 0 if (use_keep and keep[0] == 0) else _quantise(r[0], step)
    rec[0] = k[0] * step
    while h > 1:
        h //= 2
        level -= 1
        step = steps[level]
        for d in range(3):
            n = shape[d]
            if n <= h:
                continue
            s = strides[d]
            start, stride = pass_box(shape, h, d)
            for i0 in range(start[0], n0, stride[0]):
                for i1 in range(start[1], n1, stride[1]):
                    base = i0 * strides[0] + i1 * n2
                    for i2 in range(start[2], n2, stride[2]):
                        at = base + i2
                        i = i0 if d == 0 else (i1 if d == 1 else i2)
                        pred = _predict(rec, at, i, h, n, s, cubic)
                        if encode:
                            if use_keep and keep[at] == 0:
                                k[at] = 0
                            else:
                                k[at] = _quantise(r[at] - pred, step)
                        rec[at] = pred + k[at] * step


@kernel(cache=True, nogil=True)
def _run_slices(shape, r, k, rec, keep, steps, cubic, encode, use_keep):
    """`_run` on each plane of the first axis on its own (2-D interpolation per plane, each with
    its own anchor): for thin leading axes whose planes lie far apart (levels, months)."""
    plane = shape[1] * shape[2]
    sub = np.array([1, shape[1], shape[2]], np.int64)
    for i0 in range(shape[0]):
        lo, hi = i0 * plane, (i0 + 1) * plane
        _run(sub, r[lo:hi] if encode else r, k[lo:hi], rec[lo:hi], keep[lo:hi] if use_keep else keep, steps, cubic,
             encode, use_keep)


def encode(r: np.ndarray, step: float, cubic: bool, keep: np.ndarray | None,
           slices: bool = False, tune: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Corrections (int64) and reconstruction (float64) of `r` seen as the 3-D `shape`
    (`lattice3.view3`); `keep`: where False the correction is 0 (the value is stored apart);
    `slices`: each plane of the view's first axis interpolated on its own; `tune`: the
    level-wise steps (`level_steps`)."""
    flat = np.ascontiguousarray(r, np.float64).reshape(-1)
    k = np.empty(flat.size, np.int64)
    rec = np.empty(flat.size, np.float64)
    mask = KEEP_ALL if keep is None else np.ascontiguousarray(keep, np.uint8).reshape(-1)
    (_run_slices if slices else _run)(view3_array(r.shape), flat, k, rec, mask, _level_steps(float(step), tune),
                                      bool(cubic), True, keep is not None)
    return k.reshape(r.shape), rec.reshape(r.shape)


def decode(k: np.ndarray, step: float, cubic: bool, slices: bool = False, tune: int = 0) -> np.ndarray:
    """The reconstruction from corrections `k` (int64, any shape)."""
    rec = np.empty(k.size, np.float64)
    (_run_slices if slices else _run)(view3_array(k.shape), NO_VALUES, np.ascontiguousarray(k, np.int64).reshape(-1),
                                      rec, KEEP_ALL, _level_steps(float(step), tune), bool(cubic), False, False)
    return rec.reshape(k.shape)


# what the kernels take where a mask or the residual is not used (read only, shared)
KEEP_ALL, NO_VALUES = np.ones(1, np.uint8), np.zeros(1, np.float64)
KEEP_ALL.flags.writeable = NO_VALUES.flags.writeable = False
