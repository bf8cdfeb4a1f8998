"""The backend contract.

A backend MUST:
- `encode(coords, features, ctx)`: fit one representation per datum of a batch that shares
  one grid (coords `(*grid, d_in)`, features `(B, *grid, d_out)` in [0, 1]) and return, per
  datum, the named float tensors to store;
- `layout(grid_shape, d_in, d_out)`: the names and shapes of those tensors, derivable from
  the config and the header alone (so they are never stored);
- `decode(tensors, coords, d_out, ctx)`: evaluate the representation at any coordinates
  `(*grid', d_in)` -> `(*grid', d_out)`, the same on every device up to float rounding.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import torch

from ..core.component import Component
from ..signal.modality import grid_coordinates

Tensors = dict[str, np.ndarray]
Progress = Callable[[int, int, dict[str, float]], None]  # (step, total, figures)


@dataclass
class EncodeContext:
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    seed: int = 0
    progress: Progress | None = None
    #: the modality's coordinates for a grid shape (patch-based backends ask for one patch's)
    coordinates: Callable[[Sequence[int]], np.ndarray] = grid_coordinates


@dataclass
class EncodeResult:
    tensors: Tensors
    info: dict[str, Any] = field(default_factory=dict)  # e.g. best training PSNR, steps run


class Backend(Component):
    kind = "backend"

    def encode(self, coords: np.ndarray, features: np.ndarray, ctx: EncodeContext) -> list[EncodeResult]:
        raise NotImplementedError

    def layout(self, grid_shape: Sequence[int], d_in: int, d_out: int) -> dict[str, tuple[int, ...]]:
        raise NotImplementedError

    def decode(self, tensors: Tensors, coords: np.ndarray, d_out: int, ctx: EncodeContext) -> np.ndarray:
        raise NotImplementedError
