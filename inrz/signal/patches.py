"""Split an array of any number of grid axes into equal patches and merge them back.

Used by patch-based backends (COIN++) and any modality: the grid is padded at the end of
each axis to a multiple of the patch size (edge mode), and the padding is recorded so that
`merge` crops it off again.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def pad_amounts(grid_shape: Sequence[int], patch: Sequence[int]) -> list[int]:
    return [(-n) % p for n, p in zip(grid_shape, patch)]


def split(array: np.ndarray, patch: Sequence[int]) -> tuple[np.ndarray, list[int]]:
    """`(*grid, C)` -> `(num_patches, *patch, C)` in C order over the patch grid, plus padding."""
    grid = array.shape[:-1]
    if len(patch) != len(grid):
        raise ValueError(f"patch {tuple(patch)} has {len(patch)} axes, grid {grid} has {len(grid)}")
    pad = pad_amounts(grid, patch)
    padded = np.pad(array, [(0, p) for p in pad] + [(0, 0)], mode="edge")
    counts = [n // p for n, p in zip(padded.shape[:-1], patch)]
    d = len(grid)
    # (c0, p0, c1, p1, ..., C) -> (c0, c1, ..., p0, p1, ..., C)
    shaped = padded.reshape([v for cp in zip(counts, patch) for v in cp] + [array.shape[-1]])
    order = list(range(0, 2 * d, 2)) + list(range(1, 2 * d, 2)) + [2 * d]
    return shaped.transpose(order).reshape([-1, *patch, array.shape[-1]]), pad


def merge(patches: np.ndarray, grid_shape: Sequence[int]) -> np.ndarray:
    """Inverse of `split`: `(num_patches, *patch, C)` -> `(*grid_shape, C)` with padding cropped."""
    patch = patches.shape[1:-1]
    d = len(patch)
    pad = pad_amounts(grid_shape, patch)
    counts = [(n + p) // q for n, p, q in zip(grid_shape, pad, patch)]
    shaped = patches.reshape(counts + list(patch) + [patches.shape[-1]])
    order = [v for i in range(d) for v in (i, d + i)] + [2 * d]
    full = shaped.transpose(order).reshape([c * q for c, q in zip(counts, patch)] + [patches.shape[-1]])
    return full[tuple(slice(0, n) for n in grid_shape)]
