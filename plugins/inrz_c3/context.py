"""Causal neighbourhoods on grids of any number of axes, and the decoding schedule they allow.

A latent is predicted from already-coded neighbours in raster order. The decoder cannot go
one latent at a time (hundreds of thousands of Python steps), so latents are decoded in
wavefronts: all points with the same `t = sum(a_i * p_i)` at once, where the slopes `a` are
chosen so that every neighbour of a point lies on an earlier wavefront.
"""
from __future__ import annotations

import functools
import itertools
import math

import numpy as np


@functools.lru_cache(maxsize=None)
def causal_offsets(ndim: int, count: int) -> tuple[tuple[int, ...], ...]:
    """The `count` nearest neighbours that come before a point in raster order, nearest
    first (ties in lexicographic order), e.g. 2-D: (-1,0), (0,-1), (-1,-1), (-1,1), ..."""
    radius = 1
    while True:
        cube = itertools.product(range(-radius, radius + 1), repeat=ndim)
        near = [o for o in cube if _before(o) and sum(v * v for v in o) <= radius * radius]
        if len(near) >= count:  # every point outside the ball is farther than all of these
            return tuple(sorted(near, key=lambda o: (sum(v * v for v in o), o))[:count])
        radius += 1


def _before(o: tuple[int, ...]) -> bool:
    """True when offset `o` points to an earlier point in raster (C) order."""
    for v in o:
        if v:
            return v < 0
    return False


def wavefront_slopes(offsets) -> tuple[int, ...]:
    """Integer slopes `a` (last one 1) with `a . o <= -1` for every offset `o`: the smallest
    per axis, from the last axis to the first, so wavefronts are as few as possible."""
    ndim = len(offsets[0])
    a = [1] * ndim
    for i in range(ndim - 2, -1, -1):
        for o in offsets:
            if next(j for j, v in enumerate(o) if v) == i:  # o_i < 0 and o_j = 0 before it
                rest = sum(a[j] * o[j] for j in range(i + 1, ndim))
                a[i] = max(a[i], -(-(rest + 1) // -o[i]))
    return tuple(a)


def pad_widths(offsets) -> list[tuple[int, int]]:
    """Zero padding (before, after) per axis so every neighbour of every point is in range."""
    ndim = len(offsets[0])
    return [(max(0, -min(o[i] for o in offsets)), max(0, max(o[i] for o in offsets))) for i in range(ndim)]


def wavefronts(shape, slopes) -> list[np.ndarray]:
    """Flat (C-order) indices of the grid points of each wavefront, in decoding order."""
    grids = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    t = sum(a * g for a, g in zip(slopes, grids)).ravel()
    order = np.argsort(t, kind="stable")
    counts = np.bincount(t)
    return np.split(order, np.cumsum(counts)[:-1])
