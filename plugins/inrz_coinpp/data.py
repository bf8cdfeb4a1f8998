"""What the training loop eats: feature arrays of any grid, cut into random patches."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from inrz import grid_coordinates


@dataclass
class TrainData:
    train: list[np.ndarray]  # features (*grid, C) in [0, 1]
    val: list[np.ndarray]
    description: dict[str, Any]  # what the data was (recorded in the artifact)
    #: coordinates of one patch (the modality's; a regular [-1, 1] grid by default)
    coordinates: Callable[[list[int]], np.ndarray] = grid_coordinates


def random_patches(arrays: list[np.ndarray], patch: list[int], count: int, gen: np.random.Generator) -> np.ndarray:
    """`count` random crops (count, prod(patch), C); arrays smaller than a patch are edge padded."""
    out = []
    for i in gen.integers(0, len(arrays), count):
        a = arrays[i]
        pad = [(0, max(0, p - n)) for n, p in zip(a.shape[:-1], patch)] + [(0, 0)]
        a = np.pad(a, pad, mode="edge") if any(p[1] for p in pad) else a
        starts = [int(gen.integers(0, n - p + 1)) for n, p in zip(a.shape[:-1], patch)]
        out.append(a[tuple(slice(s, s + p) for s, p in zip(starts, patch))].reshape(-1, a.shape[-1]))
    return np.stack(out).astype(np.float32)
