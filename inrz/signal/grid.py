"""Regular coordinate grids: where an INR is evaluated unless a modality says otherwise."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def grid_coordinates(grid_shape: Sequence[int], region: Sequence[tuple[float, float]] | None = None) -> np.ndarray:
    """A regular grid on [-1, 1] per axis (pixel centres at the ends), float32 `(*grid, d)`;
    `region` gives (lo, hi) per axis in that frame, for rendering a part of the signal."""
    region = region or [(-1.0, 1.0)] * len(grid_shape)
    axes = []
    for n, (lo, hi) in zip(grid_shape, region):
        axes.append(np.linspace(lo, hi, n, dtype=np.float32) if n > 1 else np.array([(lo + hi) / 2], np.float32))
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack(mesh, axis=-1).astype(np.float32)
