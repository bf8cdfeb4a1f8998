"""One training step of the latent-grid model, blocked for CPU caches.

Loss = MSE(synthesis(upsample(q(latents))), target) + lambda * bits(q(latents)) / points.
The three expensive stages run on bands of the first axis sized to stay in cache:
- rate: the context model on one band of a latent grid (plus the causal halo above it);
- synthesis: the per-point MLP and residual convolutions on one band (plus a halo);
autograd runs inside a band only, on a detached copy of the band, so no graph and no
full-size gradient buffers ever exist; band gradients are added into one flat buffer.
The upsampling between them is linear and has a hand-written backward (`upsample`).
"""
from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F

from . import context, upsample
from .model import arm_bits, arm_grid, pad_spatial, fold_spatial, quantize, split_levels, synthesis


def synthesis_tasks(Up: torch.Tensor, target: torch.Tensor, w: dict, a, scale: float, band: int):
    """One task per band of the first axis: (sse, weight grads, (start, stop, input grad))."""
    R = a.res_layers
    n0 = target.shape[1]
    per_row = math.prod(target.shape[2:])
    rows = max(1, band // max(1, per_row))
    names = sorted(k for k in w if k.startswith(("syn", "res")))

    def task(r0: int, r1: int):
        leaf = Up[:, r0:r1 + 2 * R].detach().requires_grad_()
        with torch.enable_grad():
            err = (synthesis(leaf, w, a) - target[:, r0:r1]).square().sum()
            grads = torch.autograd.grad(err * scale, [leaf] + [w[k] for k in names])
        return err.detach(), dict(zip(names, grads[1:])), (r0, r1 + 2 * R, grads[0])

    return [functools.partial(task, r0, min(n0, r0 + rows)) for r0 in range(0, n0, rows)]


def rate_tasks(levels: list[torch.Tensor], w: dict, a, scale: float, band: int):
    """One task per band of each latent grid: (bits, weight grads, (level, start, stop, grad))."""
    pads = context.pad_widths(a.offsets)
    lead = pads[0][0]
    names = sorted(k for k in w if k.startswith("arm"))
    tasks, padded_grids = [], []
    for index, level in enumerate(levels):
        grid = arm_grid(level, a)
        padded = F.pad(grid, [p for pair in reversed(pads) for p in pair])
        padded_grids.append((padded, grid.shape))
        per_row = max(1, grid[0].numel())
        rows = max(1, band // per_row)
        n_valid = level.numel()

        def task(index, padded, shape, r0, r1, valid):
            leaf = padded[r0:r1 + lead].detach().requires_grad_()
            with torch.enable_grad():
                bits = arm_bits(leaf, r1 - r0, shape, pads, w, a, valid)
                grads = torch.autograd.grad(bits * scale, [leaf] + [w[k] for k in names])
            return bits.detach(), dict(zip(names, grads[1:])), (index, r0, r1 + lead, grads[0])

        for r0 in range(0, grid.shape[0], rows):
            r1 = min(grid.shape[0], r0 + rows)
            valid = n_valid - r0 * per_row if a.ndim == 1 and r1 * per_row > n_valid else None
            tasks.append(functools.partial(task, index, padded, grid.shape, r0, r1, valid))
    return tasks, padded_grids


def level_grads(results, padded_grids, levels, a) -> list[torch.Tensor]:
    """Scatter the band gradients of the rate tasks back onto each level, in task order."""
    pads = context.pad_widths(a.offsets)
    gpads = [torch.zeros_like(p) for p, _ in padded_grids]
    for _, _, (index, r0, r1, g) in results:
        gpads[index][r0:r1] += g
    out = []
    for gpad, (_, shape), level in zip(gpads, padded_grids, levels):
        g = gpad[tuple(slice(p[0], p[0] + n) for p, n in zip(pads, shape))]
        out.append(g.reshape(-1)[:level.numel()].view(level.shape) if a.ndim == 1 else g)
    return out


def reduce_weight_grads(results, w: dict) -> None:
    """Sum per-task weight gradients in task order (deterministic for any number of workers)."""
    for _, grads, _ in results:
        for k, g in grads.items():
            w[k].grad = g.clone() if w[k].grad is None else w[k].grad.add_(g)


def loss_and_grad(params: dict, a, shapes, target: torch.Tensor, periodic, mode: str, t: float, lmbda: float,
                  gen=None, band: int = 32768, pool=None):
    """Sets `.grad` of every tensor in `params` (latents `y` flat, the rest weights) for
    loss = mse + lmbda * bits / points; returns (loss, mse, bits). `pool` (an executor whose
    workers each run torch with one thread) runs the bands concurrently; results are reduced
    in band order, so the gradients are the same bits with any number of workers."""
    run = (lambda tasks: list(pool.map(lambda f: f(), tasks))) if pool is not None else (lambda ts: [f() for f in ts])
    points = math.prod(shapes[0])
    for v in params.values():
        v.grad = None
    w = {k: v.requires_grad_() for k, v in params.items() if k not in ("y", "up")}
    with torch.no_grad():
        q, dq = quantize(params["y"].detach(), mode, t, gen)
    levels = split_levels(q, shapes)
    kernels = params["up"].detach()
    with torch.no_grad():
        U, caches = upsample.upsample_pyramid(levels, kernels, periodic)
        R = a.res_layers
        Up = pad_spatial(U, R, periodic) if R else U
    r_tasks, padded_grids = rate_tasks(levels, w, a, lmbda / points, band)
    s_tasks = synthesis_tasks(Up, target, w, a, 1.0 / (a.channels * points), band)
    results = run(r_tasks + s_tasks)
    r_res, s_res = results[:len(r_tasks)], results[len(r_tasks):]
    with torch.no_grad():
        reduce_weight_grads(results, w)
        bits = float(sum(r[0] for r in r_res))
        sse = float(sum(r[0] for r in s_res))
        g_rate = level_grads(r_res, padded_grids, levels, a)
        gUp = torch.zeros_like(Up)
        for _, _, (r0, r1, g) in s_res:
            gUp[:, r0:r1] += g
        gU = fold_spatial(gUp, R, periodic) if R else gUp
        g_dist, g_kernels = upsample.upsample_pyramid_backward(gU, levels, caches, kernels, periodic)
        gq = torch.cat([(gr + gd).reshape(-1) for gr, gd in zip(g_rate, g_dist)])
        params["y"].grad = gq if dq is None else gq * dq
        params["up"].grad = g_kernels
    mse = sse / (a.channels * points)
    return mse + lmbda * bits / points, mse, bits
