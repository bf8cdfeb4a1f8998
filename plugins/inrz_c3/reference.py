"""A straightforward implementation of the same model and loss: whole-grid autograd, contexts
stacked from shifted copies, upsampling by functional ops, one thread pool for nothing. It is
the tests' oracle for `train_step` (equal losses and gradients) and the baseline that
`benchmarks/c3_step.py` times the blocked step against.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import context
from .model import arm_bits, arm_grid, pad_spatial, softround, split_levels, synthesis


def up_last(z: torch.Tensor, k: torch.Tensor, periodic: bool) -> torch.Tensor:
    n = z.shape[-1]
    if periodic:
        zp = torch.cat([z[..., -2:], z, z[..., :2]], -1)
    else:
        zp = torch.cat([z[..., :1], z[..., :1], z, z[..., -1:], z[..., -1:]], -1)
    even = sum(k[0, i] * zp[..., i:i + n] for i in range(4))
    odd = sum(k[1, i] * zp[..., 1 + i:1 + i + n] for i in range(4))
    return torch.stack([even, odd], -1).reshape(*z.shape[:-1], 2 * n)


def pyramid(levels, kernels, periodic) -> torch.Tensor:
    u = levels[-1][None]
    for l in range(len(levels) - 2, -1, -1):
        x = u
        for axis in range(1, x.dim()):
            x = up_last(x.movedim(axis, -1), kernels[l], periodic[axis - 1]).movedim(-1, axis)
        crop = (slice(None),) + tuple(slice(0, n) for n in levels[l].shape)
        u = torch.cat([levels[l][None], x[crop]], 0)
    return u


def loss(params: dict, a, shapes, target: torch.Tensor, periodic, mode: str, t: float, lmbda: float, gen=None):
    """(loss, mse, bits) with autograd through everything; same definition as `train_step`."""
    y = params["y"]
    if mode == "hard":
        q = y + (torch.round(y) - y).detach()
    else:
        noise = torch.rand(y.shape, generator=gen, dtype=y.dtype, device=y.device) - 0.5
        q = y + noise if mode == "noise" else softround(softround(y, t) + noise, t)
    levels = split_levels(q, shapes)
    pads = context.pad_widths(a.offsets)
    bits = 0
    for level in levels:
        grid = arm_grid(level, a)
        padded = F.pad(grid, [p for pair in reversed(pads) for p in pair])
        bits = bits + arm_bits(padded, grid.shape[0], grid.shape, pads, params, a,
                               level.numel() if a.ndim == 1 else None)
    U = pyramid(levels, params["up"], periodic)
    x = synthesis(pad_spatial(U, a.res_layers, periodic) if a.res_layers else U, params, a)
    mse = ((x - target) ** 2).mean()
    points = math.prod(shapes[0])
    return mse + lmbda * bits / points, mse, bits
