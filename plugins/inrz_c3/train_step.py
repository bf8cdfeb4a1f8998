"""One training step of the latent-grid model, blocked for CPU caches.

Loss = MSE(synthesis(upsample(q(latents))), target) + lambda * bits(q(latents)) / points.
The two expensive stages run on bands of the first axis sized to stay in cache:
- rate: the context model on one band of a latent grid (plus the causal halo above it);
- synthesis: the per-point MLP and residual convolutions on one band (plus a halo);
each band's forward and backward are written out (`band_grads`), into per-thread scratch
buffers, so no graph and no full-size temporaries exist. A band writes the gradient of the
rows it owns straight into the step's gradient grid and hands back only its halo's, which is
added afterwards in band order: the gradients are the same bits with any number of workers.
The upsampling between the stages is linear and has a hand-written backward (`upsample`).
Whole-grid buffers live in a `Workspace` that a fit keeps from step to step.
"""
from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F

from . import context, upsample
from .band_grads import rate_band, synthesis_band
from .model import arm_grid, pad_spatial, fold_spatial, softround, split_levels


class Workspace:
    """Whole-grid buffers reused across the steps of one fit (contents undefined between uses)."""

    def __init__(self):
        self.buffers: dict[str, torch.Tensor] = {}

    def get(self, name: str, shape, like: torch.Tensor) -> torch.Tensor:
        buf = self.buffers.get(name)
        if buf is None or buf.shape != tuple(shape) or buf.dtype != like.dtype or buf.device != like.device:
            buf = self.buffers[name] = torch.empty(shape, dtype=like.dtype, device=like.device)
        return buf


def _softround(x: torch.Tensor, t: float) -> tuple[torch.Tensor, torch.Tensor]:
    """`model.softround(x, t)` (the same ops, so the same bits) and its derivative."""
    m = torch.floor(x) + 0.5
    r = torch.tanh((x - m) / t)
    value = m + 0.5 * r / math.tanh(0.5 / t)
    return value, r.square_().neg_().add_(1.0).mul_(0.5 / t / math.tanh(0.5 / t))


def quantize(y: torch.Tensor, mode: str, t: float, gen, pool=None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """`model.quantize` with the soft-rounding derivative in closed form: q and dq/dy (None: 1),
    soft rounding in chunks on `pool`'s workers (elementwise, so the same bits)."""
    if mode == "hard":
        return torch.round(y), None
    noise = torch.rand(y.shape, generator=gen, dtype=y.dtype, device=y.device).sub_(0.5)
    if mode == "noise":
        return noise.add_(y), None
    q, dq = torch.empty_like(y), torch.empty_like(y)

    def chunk(sl: slice):
        s, ds = _softround(y[sl], t)
        q[sl], d2 = _softround(s.add_(noise[sl]), t)
        torch.mul(ds, d2, out=dq[sl])

    if pool is None:
        chunk(slice(None))
    else:
        step = max(1, -(-y.numel() // 4))  # a few chunks per worker
        list(pool.map(chunk, [slice(i, i + step) for i in range(0, y.numel(), step)]))
    return q, dq


def synthesis_tasks(Up, target, w, a, scale: float, band: int, gUp):
    """One task per band of the first axis; each returns (sse, weight grads, (start, halo grad))."""
    R = a.res_layers
    n0 = target.shape[1]
    rows = max(1, band // max(1, math.prod(target.shape[2:])))

    def task(r0: int, r1: int):
        sse, grads, gu = synthesis_band(Up[:, r0:r1 + 2 * R], target[:, r0:r1], w, a, scale)
        gu = gu.view(Up.shape[0], r1 - r0 + 2 * R, *Up.shape[2:])
        gUp[:, r0 + 2 * R:r1 + 2 * R] = gu[:, 2 * R:]  # rows no other band writes
        return sse, grads, (r0, gu[:, :2 * R].clone())

    return [functools.partial(task, r0, min(n0, r0 + rows)) for r0 in range(0, n0, rows)]


def rate_tasks(levels, w, a, scale: float, band: int, ws: Workspace):
    """One task per band of each latent grid; each returns (bits, weight grads, (level, start,
    halo grad)), writing the gradient of its own rows into the level's padded gradient grid."""
    pads = context.pad_widths(a.offsets)
    lead = pads[0][0]
    tasks, grids = [], []
    for index, level in enumerate(levels):
        grid = arm_grid(level, a)
        padded = F.pad(grid, [p for pair in reversed(pads) for p in pair])
        gpad = ws.get(f"gpad{index}", padded.shape, padded)
        grids.append((gpad, grid.shape))
        per_row = max(1, grid[0].numel())
        rows = max(1, band // per_row)

        def task(padded, gpad, shape, r0, r1, valid, index=index):
            bits, grads, g = rate_band(padded[r0:r1 + lead], r1 - r0, shape, pads, w, a, scale, valid)
            gpad[r0 + lead:r1 + lead] = g[lead:]
            return bits, grads, (index, r0, g[:lead].clone())

        for r0 in range(0, grid.shape[0], rows):
            r1 = min(grid.shape[0], r0 + rows)
            valid = level.numel() - r0 * per_row if a.ndim == 1 and r1 * per_row > level.numel() else None
            tasks.append(functools.partial(task, padded, gpad, grid.shape, r0, r1, valid))
    return tasks, grids


def level_grads(results, grids, levels, a) -> list[torch.Tensor]:
    """Add the rate tasks' halo gradients in task order; each level's gradient (views)."""
    pads = context.pad_widths(a.offsets)
    lead = pads[0][0]
    for gpad, _ in grids:
        gpad[:lead] = 0.0
    for _, _, (index, r0, g) in results:
        grids[index][0][r0:r0 + lead] += g
    out = []
    for (gpad, shape), level in zip(grids, levels):
        g = gpad[tuple(slice(p[0], p[0] + n) for p, n in zip(pads, shape))]
        out.append(g.reshape(-1)[:level.numel()].view(level.shape) if a.ndim == 1 else g)
    return out


def reduce_weight_grads(results, params: dict) -> None:
    """Sum per-task weight gradients in task order (deterministic for any number of workers)."""
    for _, grads, _ in results:
        for k, g in grads.items():
            params[k].grad = g.clone() if params[k].grad is None else params[k].grad.add_(g)


def loss_and_grad(params: dict, a, shapes, target: torch.Tensor, periodic, mode: str, t: float, lmbda: float,
                  gen=None, band: int = 32768, pool=None, ws: Workspace | None = None):
    """Sets `.grad` of every tensor in `params` (latents `y` flat, the rest weights) for
    loss = mse + lmbda * bits / points; returns (loss, mse, bits). `pool` (an executor whose
    workers each run torch with one thread) runs the bands while this thread upsamples and
    runs the upsampling's backward; results are reduced in band order, so the gradients are the
    same bits with any number of workers. `ws`: the fit's whole-grid buffers (fresh when None)."""
    submit = (lambda tasks: [pool.submit(f) for f in tasks]) if pool is not None else (lambda tasks: tasks)
    collect = (lambda futures: [f.result() for f in futures]) if pool is not None else (lambda ts: [f() for f in ts])
    ws = ws or Workspace()
    points = math.prod(shapes[0])
    y = params["y"]
    with torch.no_grad():
        for k, v in params.items():
            v.grad = None if k != "y" else v.grad
        w = {k: v.detach() for k, v in params.items() if k not in ("y", "up")}
        q, dq = quantize(y.detach(), mode, t, gen, pool)
        levels = split_levels(q, shapes)
        r_tasks, grids = rate_tasks(levels, w, a, lmbda / points, band, ws)
        half = len(r_tasks) // 2
        r_futures = submit(r_tasks[:half])  # the rate needs no upsampling: it runs meanwhile
        kernels = params["up"].detach()
        U, caches = upsample.upsample_pyramid(levels, kernels, periodic)
        R = a.res_layers
        Up = pad_spatial(U, R, periodic, ws.get("Up", (U.shape[0], *(n + 2 * R for n in U.shape[1:])), U)) if R else U
        gUp = ws.get("gUp", Up.shape, Up)
        s_futures = submit(synthesis_tasks(Up, target, w, a, 1.0 / (a.channels * points), band, gUp))
        r_futures += submit(r_tasks[half:])  # ... and while this thread runs the upsampling's backward
        s_res = collect(s_futures)
        gUp[:, :2 * R] = 0.0
        for _, _, (r0, g) in s_res:
            gUp[:, r0:r0 + 2 * R] += g
        gU = fold_spatial(gUp, R, periodic, inplace=True) if R else gUp
        g_dist, g_kernels = upsample.upsample_pyramid_backward(gU, levels, caches, kernels, periodic)
        r_res = collect(r_futures)
        reduce_weight_grads(r_res + s_res, params)
        gq = y.grad if y.grad is not None and y.grad.shape == y.shape else torch.empty_like(y)
        for g, gr, gd in zip(split_levels(gq, shapes), level_grads(r_res, grids, levels, a), g_dist):
            torch.add(gr, gd, out=g)
        y.grad = gq if dq is None else gq.mul_(dq)
        params["up"].grad = g_kernels
        bits = float(sum(r[0] for r in r_res))
        sse = float(sum(r[0] for r in s_res))
    mse = sse / (a.channels * points)
    return mse + lmbda * bits / points, mse, bits
