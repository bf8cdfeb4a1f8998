"""Tensor shapes of a latent-grid model, without torch: what the reader needs to parse a file.
`fit.weight_shapes` and `upsample.level_shapes` are the same functions (a test keeps them equal)."""
from __future__ import annotations

import math

from .arch import Architecture

TAPS = 4  # upsampling filter taps per phase (`upsample.TAPS`)


def level_shapes(shape, levels: int) -> list[tuple[int, ...]]:
    return [tuple(math.ceil(n / 2 ** l) for n in shape) for l in range(levels)]


def weight_shapes(a: Architecture) -> dict[str, tuple[int, ...]]:
    """Every network tensor's shape (the names are the bitstream's)."""
    shapes = {"up": (max(1, a.levels - 1), 2, TAPS)}
    for i, (di, do) in enumerate(a.arm_dims()[:-1]):
        shapes[f"arm{i}.W"], shapes[f"arm{i}.b"] = (do, di), (do,)
    di, do = a.arm_dims()[-1]
    shapes["armo.W"], shapes["armo.b"] = (do, di), (do,)
    for i, (di, do) in enumerate(a.syn_dims()):
        shapes[f"syn{i}.W"], shapes[f"syn{i}.b"] = (do, di), (do,)
    for i in range(a.res_layers):
        shapes[f"res{i}.W"], shapes[f"res{i}.b"] = (a.channels, a.channels, *([3] * a.ndim)), (a.channels,)
    return shapes
