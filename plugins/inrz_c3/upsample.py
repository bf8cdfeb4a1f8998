"""Learned 2x upsampling of latent grids along every axis, with a hand-written backward.

Each stage doubles every axis with a 4-tap polyphase filter per phase (initialised to
bicubic), applied axis by axis. The backward is written out because autograd would
allocate a full-size zero gradient for every shifted slice; here it is a handful of
in-place axpys on contiguous arrays, which is what keeps a training step memory-light.
Axes flagged periodic (longitude) wrap around instead of repeating their edge.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from . import upsample_kernels as kern

TAPS = 4
PAD = 2  # samples of padding on each side of an axis


def cubic(t: float, a: float = -0.75) -> float:
    t = abs(t)
    if t <= 1:
        return (a + 2) * t ** 3 - (a + 3) * t ** 2 + 1
    if t < 2:
        return a * t ** 3 - 5 * a * t ** 2 + 8 * a * t - 4 * a
    return 0.0


def bicubic_kernel() -> torch.Tensor:
    """(2, 4): even outputs sit 1/4 sample before an input (taps at -2..1), odd ones 1/4 after."""
    even = [cubic(1.75), cubic(0.75), cubic(0.25), cubic(1.25)]
    return torch.tensor([even, even[::-1]], dtype=torch.float32)


def _pad(z: torch.Tensor, axis: int, periodic: bool) -> torch.Tensor:
    n = z.shape[axis]
    if periodic:
        return torch.cat([z.narrow(axis, n - PAD, PAD), z, z.narrow(axis, 0, PAD)], axis)
    sizes = [PAD if i == axis else -1 for i in range(z.dim())]
    return torch.cat([z.narrow(axis, 0, 1).expand(sizes), z, z.narrow(axis, n - 1, 1).expand(sizes)], axis)


def _fold_pad(g: torch.Tensor, axis: int, periodic: bool) -> torch.Tensor:
    """Adjoint of `_pad`: padding gradients go back to the samples they copied."""
    n = g.shape[axis] - 2 * PAD
    out = g.narrow(axis, PAD, n).clone()
    before, after = g.narrow(axis, 0, PAD), g.narrow(axis, PAD + n, PAD)
    if periodic:
        out.narrow(axis, n - PAD, PAD).add_(before)
        out.narrow(axis, 0, PAD).add_(after)
    else:
        out.narrow(axis, 0, 1).add_(before.sum(axis, keepdim=True))
        out.narrow(axis, n - 1, 1).add_(after.sum(axis, keepdim=True))
    return out


def _view3(x: torch.Tensor, axis: int) -> tuple[int, int, int]:
    """x's shape as (A, n, B) around `axis` (x contiguous)."""
    return math.prod(x.shape[:axis]), x.shape[axis], math.prod(x.shape[axis + 1:])


def up_axis(z: torch.Tensor, k: torch.Tensor, axis: int, periodic: bool, m: int | None = None,
            out: torch.Tensor | None = None) -> torch.Tensor:
    """The first m (default: all 2n) samples of z doubled on `axis` with the (2, TAPS) kernel k
    (into `out` when given). On the CPU one compiled pass (`upsample_kernels`); elsewhere torch
    ops on a padded copy."""
    n = z.shape[axis]
    m = 2 * n if m is None else m
    if z.device.type != "cpu":
        r = up_axis_torch(z, k, axis, periodic).narrow(axis, 0, m)
        return r if out is None else out.copy_(r)
    z = z.contiguous()
    if out is None:
        out = torch.empty(z.shape[:axis] + (m,) + z.shape[axis + 1:], dtype=z.dtype)
    A, _, B = _view3(z, axis)
    kk = k.detach().to(z.dtype).numpy()
    if B == 1:
        kern.forward_last(z.numpy().reshape(A, n), kk, periodic, out.numpy().reshape(A, m))
    else:
        kern.forward(z.numpy().reshape(A, n, B), kk, periodic, out.numpy().reshape(A, m, B))
    return out


def up_axis_torch(z: torch.Tensor, k: torch.Tensor, axis: int, periodic: bool) -> torch.Tensor:
    """`up_axis` (all 2n samples) in torch ops, for any device. Slices along `axis` are
    contiguous blocks for any axis, so no transposes are needed."""
    shape = list(z.shape)
    shape[axis] = 2 * z.shape[axis]
    taps = k.tolist()
    zp = _pad(z, axis, periodic)
    n = z.shape[axis]
    even = zp.narrow(axis, 0, n) * taps[0][0]
    odd = zp.narrow(axis, 1, n) * taps[1][0]
    for i in range(1, TAPS):
        even.add_(zp.narrow(axis, i, n), alpha=taps[0][i])
        odd.add_(zp.narrow(axis, 1 + i, n), alpha=taps[1][i])
    return torch.stack([even, odd], axis + 1).reshape(shape)  # (..., n, 2, ...) -> interleaved


def up_axis_backward(g: torch.Tensor, z: torch.Tensor, k: torch.Tensor, axis: int, periodic: bool):
    """Adjoint of `up_axis` at input z, g holding the gradient of the m samples kept:
    (grad input, grad kernel (2, TAPS))."""
    n, m = z.shape[axis], g.shape[axis]
    if g.device.type != "cpu":
        if m < 2 * n:  # the samples cut off had no gradient
            g = torch.cat([g, g.new_zeros(g.shape[:axis] + (2 * n - m,) + g.shape[axis + 1:])], axis)
        return up_axis_backward_torch(g, z, k, axis, periodic)
    g, z = g.contiguous(), z.contiguous()
    gz = torch.empty_like(z)
    gk = np.empty((2, TAPS))
    A, _, B = _view3(z, axis)
    kk = k.detach().to(z.dtype).numpy()
    if B == 1:
        kern.backward_last(g.numpy().reshape(A, m), z.numpy().reshape(A, n), kk, periodic, gz.numpy().reshape(A, n), gk)
    else:
        kern.backward(g.numpy().reshape(A, m, B), z.numpy().reshape(A, n, B), kk, periodic, gz.numpy().reshape(A, n, B),
                      gk)
    return gz, torch.from_numpy(gk).to(g.dtype)


def up_axis_backward_torch(g: torch.Tensor, z: torch.Tensor, k: torch.Tensor, axis: int, periodic: bool):
    """`up_axis_backward` (all 2n samples) in torch ops, for any device."""
    taps = k.tolist()
    zp = _pad(z, axis, periodic)
    n = g.shape[axis] // 2
    shape = list(g.shape)
    shape[axis:axis + 1] = [n, 2]
    gv = g.reshape(shape)
    ge, go = gv.select(axis + 1, 0), gv.select(axis + 1, 1)
    gzp = torch.zeros_like(zp)
    gk = torch.empty(2, TAPS, dtype=g.dtype, device=g.device)
    for i in range(TAPS):
        gzp.narrow(axis, i, n).add_(ge, alpha=taps[0][i])
        gzp.narrow(axis, 1 + i, n).add_(go, alpha=taps[1][i])
        gk[0, i] = torch.sum(ge * zp.narrow(axis, i, n))
        gk[1, i] = torch.sum(go * zp.narrow(axis, 1 + i, n))
    return _fold_pad(gzp, axis, periodic), gk


def up2(x: torch.Tensor, k: torch.Tensor, periodic, out: torch.Tensor) -> list:
    """(C, *shape) doubled on every spatial axis and cut to out's shape (C, *cut), into `out`,
    one pass per axis (each keeping only the samples the cut keeps); returns each pass's input
    (the backward's cache)."""
    cache = []
    for axis in range(1, x.dim()):
        cache.append(x)
        x = up_axis(x, k, axis, periodic[axis - 1], out.shape[axis], out if axis == x.dim() - 1 else None)
    return cache


def up2_backward(g: torch.Tensor, cache: list, k: torch.Tensor, periodic):
    gk_total = torch.zeros_like(k)
    for axis in range(g.dim() - 1, 0, -1):
        g, gk = up_axis_backward(g, cache[axis - 1], k, axis, periodic[axis - 1])
        gk_total += gk
    return g, gk_total


def upsample_pyramid(levels: list[torch.Tensor], kernels: torch.Tensor, periodic):
    """Latent levels (finest first, each `shape_l`) -> stack (L, *shape_0): coarsest level
    upsampled stage by stage, each stage adding the next finer level as a channel (the
    upsampled stack written in place behind it)."""
    caches = []
    u = levels[-1][None]
    for l in range(len(levels) - 2, -1, -1):
        stage = torch.empty((u.shape[0] + 1, *levels[l].shape), dtype=u.dtype, device=u.device)
        stage[0] = levels[l]
        caches.append(up2(u, kernels[l], periodic, stage[1:]))
        u = stage
    return u, caches


def upsample_pyramid_backward(gU: torch.Tensor, levels, caches, kernels, periodic):
    """Gradients of the level grids (list, finest first) and of the kernels."""
    glevels = [None] * len(levels)
    gkernels = torch.zeros_like(kernels)
    g = gU
    for l in range(len(levels) - 1):
        glevels[l] = g[0]
        g, gkernels[l] = up2_backward(g[1:], caches[len(levels) - 2 - l], kernels[l], periodic)
    glevels[-1] = g[0]
    return glevels, gkernels


def level_shapes(shape, levels: int) -> list[tuple[int, ...]]:
    return [tuple(math.ceil(n / 2 ** l) for n in shape) for l in range(levels)]
