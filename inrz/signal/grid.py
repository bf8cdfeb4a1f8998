"""Regular coordinate grids: where an INR is evaluated unless a modality says otherwise."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def grid_coordinates(grid_shape: Sequence[int], region: Sequence[tuple[float, float]] | None = None) -> np.ndarray:
    """A regular grid on [-1, 1] per axis (pixel centres at the ends), float32 `(*grid, d)`;
    `region` gives (lo, hi) per axis in that frame, for rendering a part of the signal."""
    region = region or [(-1.0, 1.0)] * len(grid_shape)
    axes = [np.linspace(lo, hi, n, dtype=np.float32) if n > 1 else np.array([(lo + hi) / 2], np.float32)
            for n, (lo, hi) in zip(grid_shape, region)]
    shape = tuple(len(a) for a in axes)
    out = np.empty((*shape, len(shape)), np.float32)  # filled axis by axis: no meshgrid, stack or cast copies
    for i, axis in enumerate(axes):
        out[..., i] = axis.reshape([len(axis) if j == i else 1 for j in range(len(shape))])
    return out
