"""Rendering a c3 file at another resolution or in a window: the latent pyramid (the upsampled
stack the synthesis reads, one channel per level) is resampled at the output's sample
positions, then the synthesis runs there only.

Positions are fractional native indices per axis (`positions_from_coords`). Sampling is cubic
convolution (Keys, a = -0.75, the kernel the learned upsampling starts from), separable, the
edge sample repeated (or the axis wrapped) past the ends. At an integer position its weights
are exactly (0, 1, 0, 0), so a window at native scale copies the stack exactly: a region
decode equals the same window of the full decode, bit for bit. The residual convolutions need
`res_layers` samples on each side of the window; they are sampled too (the true neighbours
inside the grid, the usual padding at its ends), so windows join without seams.
"""
from __future__ import annotations

import numpy as np

from . import latent_pyramid, render


def _cubic(t: np.ndarray, a: float = -0.75) -> np.ndarray:
    t = np.abs(t)
    near = ((a + 2) * t - (a + 3)) * t * t + 1
    far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return np.where(t <= 1, near, np.where(t < 2, far, 0.0))


def sample_axis(u: np.ndarray, axis: int, pos: np.ndarray, periodic: bool) -> np.ndarray:
    """u sampled along `axis` at fractional indices `pos` (cubic convolution)."""
    n = u.shape[axis]
    pos = np.asarray(pos, np.float64)
    if not periodic:  # past the ends: the edge sample; then only the rows the taps reach are kept
        pos = np.clip(pos, 0.0, n - 1.0)
        lo, hi = max(0, int(np.floor(pos.min())) - 1), min(n, int(np.floor(pos.max())) + 3)
        u = u[(slice(None),) * axis + (slice(lo, hi),)]
        pos, n = pos - lo, hi - lo
    base = np.floor(pos).astype(np.int64)
    frac = pos - base
    if not frac.any():  # integer positions (a window at native scale): a copy
        return np.take(u, base % n if periodic else base, axis=axis)
    out = None
    for k in (-1, 0, 1, 2):
        idx = base + k
        idx = idx % n if periodic else np.clip(idx, 0, n - 1)
        w = _cubic(frac - k)
        shape = [1] * u.ndim
        shape[axis] = w.size
        term = np.take(u, idx, axis=axis) * w.reshape(shape)
        out = term if out is None else out + term
    return out


def positions_from_coords(coords: np.ndarray, grid, reference: np.ndarray | None = None) -> list[np.ndarray]:
    """Fractional native index per output sample, per axis, from rectilinear coordinates; an axis
    runs from its first to its last native coordinate (`reference`: the modality's coordinates
    of the native grid, e.g. audio's [-5, 5]; default [-1, 1], `inrz.grid_coordinates`).
    Indices within 1e-4 of an integer are snapped to it (float32)."""
    out = []
    for k, n in enumerate(grid):
        line = _axis_line(coords, k, len(grid))
        lo, hi = (-1.0, 1.0) if reference is None else (float(_axis_line(reference, k, len(grid))[0]),
                                                       float(_axis_line(reference, k, len(grid))[-1]))
        pos = (line - lo) / (hi - lo) * (n - 1) if n > 1 and hi != lo else np.zeros_like(line)
        near = np.round(pos)
        out.append(np.where(np.abs(pos - near) < 1e-4, near, pos))
    return out


def _axis_line(coords: np.ndarray, k: int, ndim: int) -> np.ndarray:
    return np.asarray(coords[(0,) * k + (slice(None),) + (0,) * (ndim - k - 1) + (k,)], np.float64)


def render_at(w: dict, levels: list[np.ndarray], n_mlp: int, res_layers: int, periodic,
              positions: list[np.ndarray]) -> np.ndarray:
    """(channels, *output grid): the stack resampled at `positions` (+ res_layers per side), then
    the synthesis. Positions one apart along an axis keep that axis at native scale."""
    U = latent_pyramid.pyramid(levels, w["up"], periodic)
    R = res_layers
    exts = []
    for pos in positions:
        step = (pos[-1] - pos[0]) / (pos.size - 1) if pos.size > 1 else 1.0
        exts.append(np.concatenate([pos[0] - step * np.arange(R, 0, -1), pos, pos[-1] + step * np.arange(1, R + 1)]))
    for axis, ext in enumerate(exts, start=1):  # every axis cut to the rows its taps reach first
        U = sample_axis(U, axis, ext, periodic[axis - 1]) if periodic[axis - 1] else U
        if not periodic[axis - 1]:
            n = U.shape[axis]
            clipped = np.clip(ext, 0.0, n - 1.0)
            lo, hi = max(0, int(np.floor(clipped.min())) - 1), min(n, int(np.floor(clipped.max())) + 3)
            U = U[(slice(None),) * axis + (slice(lo, hi),)]
            exts[axis - 1] = clipped - lo
    for axis, ext in enumerate(exts, start=1):
        if not periodic[axis - 1]:
            U = sample_axis(U, axis, ext, False)
    return render.synthesis(np.ascontiguousarray(U), w, n_mlp, R)
