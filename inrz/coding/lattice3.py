"""The coarse-to-fine lattice of `inrz.coding.lattice` on a 3-D view of a chunk, for the compiled
kernels (`inrz.coding.interp3`, `inrz.coding.ctxkernel`).

A chunk of any number of axes is seen as (n0, n1, n2): axes of length one are dropped (they
hold no pass), more than three remaining axes merge the leading ones into the first (a
C-order reshape, no copy), fewer are padded with leading ones. Encoder and decoder derive the
view from the chunk's shape alone. On arrays of at most three axes the passes and their point
order are exactly those of `inrz.coding.lattice`.
"""
from __future__ import annotations

import functools
import math
from typing import Sequence

import numpy as np

from ..core.compiled import kernel


def view3(shape: Sequence[int]) -> tuple[int, int, int]:
    live = [int(n) for n in shape if n != 1]
    if len(live) > 3:
        live = [math.prod(live[:-2]), *live[-2:]]
    return tuple([1] * (3 - len(live)) + live)  # type: ignore[return-value]


def view3_array(shape: Sequence[int]) -> np.ndarray:
    """`view3(shape)` as the int64 array the kernels take: cached per shape and read only (the
    chunks of a store share one shape; building it costs more than a small chunk's kernel call)."""
    return _view3_array(tuple(int(n) for n in shape))


@functools.lru_cache(maxsize=256)
def _view3_array(shape: tuple[int, ...]) -> np.ndarray:
    out = np.array(view3(shape), np.int64)
    out.flags.writeable = False
    return out


@kernel(cache=True, nogil=True)
def levels3(n0, n1, n2):
    """L: the number of halvings that take the largest axis down to one point."""
    m = max(n0, max(n1, n2)) - 1
    bits = 0
    while m > 0:
        m >>= 1
        bits += 1
    return bits


@kernel(cache=True, nogil=True)
def pass_box(n, h, d):
    """Start and stride along each axis of the points pass (h, d) visits (d < 0: the anchor)."""
    start = np.zeros(3, np.int64)
    stride = np.empty(3, np.int64)
    for a in range(3):
        if d < 0:
            stride[a] = h
        elif a < d:
            stride[a] = h
        elif a == d:
            start[a] = h
            stride[a] = 2 * h
        else:
            stride[a] = 2 * h
    return start, stride
