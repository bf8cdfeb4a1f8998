"""COIN's fit and evaluation: the torch half of `backend.py`, imported only when a COIN datum is
encoded or decoded, so registering COIN loads no torch.

Fitting is Adam on the exact MSE gradient, computed in chunks (`model.loss_and_grad`),
keeping the weights with the lowest loss on all points (see `backend.py`'s docstring).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from inrz import EncodeContext, EncodeResult, Tensors, psnr

from . import model as siren
from .backend import CHECKPOINTS, EVAL_POINTS, Coin


def encode(backend: Coin, coords: np.ndarray, features: np.ndarray, ctx: EncodeContext) -> list[EncodeResult]:
    B, grid, d_out = features.shape[0], features.shape[1:-1], features.shape[-1]
    shape = backend.shape(grid, coords.shape[-1], d_out)
    x = torch.from_numpy(coords.reshape(1, -1, coords.shape[-1])).to(ctx.device).expand(B, -1, -1)  # (B, N, d_in)
    y = torch.from_numpy(features.reshape(B, -1, d_out)).to(ctx.device)  # (B, N, d_out)
    params, best_loss, steps = fit(backend, shape, x, y, ctx)
    return [EncodeResult(_to_tensors(params, i), {"fit_psnr": psnr(float(best_loss[i])), "steps": steps})
            for i in range(B)]


def fit(backend: Coin, shape: siren.SirenShape, x: torch.Tensor, y: torch.Tensor, ctx: EncodeContext):
    c = backend.config
    params = siren.init_params(shape, x.shape[0], torch.Generator().manual_seed(ctx.seed), ctx.device)
    flat = [t for pair in params for t in pair]
    lr = backend.learning_rate(shape.width)
    opt = torch.optim.Adam(flat, lr=lr)
    best = [t.clone() for t in flat]
    best_loss = torch.full((x.shape[0],), math.inf, device=x.device)
    sample = _sampler(x.shape[1], c.points_per_step, ctx.seed, x.device)
    check = max(1, c.steps // CHECKPOINTS)
    held = _sampler(x.shape[1], EVAL_POINTS, ctx.seed + 1, x.device)()  # None: every point
    xe, ye = (x, y) if held is None or _every_point(c.points_per_step, x.shape[1]) else (x[:, held], y[:, held])
    for step in range(c.steps):
        idx = sample()  # None: every point
        xb, yb = (x, y) if idx is None else (x[:, idx], y[:, idx])  # (B, n, d_in), (B, n, d_out)
        loss, grads = siren.loss_and_grad(params, xb, yb, shape.w0, c.chunk)  # loss (B,) before this update
        if idx is None:
            _keep_best(best, flat, best_loss, loss)
        elif step % check == 0:
            _keep_best(best, flat, best_loss, _full_loss(params, xe, ye, shape.w0))
        for t, g in zip(flat, (g for pair in grads for g in pair)):
            t.grad = g
        if c.schedule == "cosine":
            opt.param_groups[0]["lr"] = lr * 0.5 * (1.0 + math.cos(math.pi * step / c.steps))
        opt.step()
        if ctx.progress:
            ctx.progress(step + 1, c.steps, {"psnr": psnr(float(loss.min()))})
    _keep_best(best, flat, best_loss, _full_loss(params, xe, ye, shape.w0))
    return _pairs(best), best_loss.cpu(), c.steps


def _to_tensors(params: siren.Params, i: int) -> Tensors:
    out = {}
    for layer, (W, b) in enumerate(params):
        out[f"l{layer}.W"] = W[i].detach().cpu().numpy().astype(np.float32)
        out[f"l{layer}.b"] = b[i].detach().cpu().numpy().astype(np.float32)
    return out


def decode(tensors: Tensors, coords: np.ndarray, d_out: int, ctx: EncodeContext, w0: float) -> np.ndarray:
    n_layers = len(tensors) // 2
    params = [(torch.from_numpy(np.ascontiguousarray(tensors[f"l{i}.W"]))[None].to(ctx.device),
               torch.from_numpy(np.ascontiguousarray(tensors[f"l{i}.b"]))[None].to(ctx.device))
              for i in range(n_layers)]
    x = torch.from_numpy(np.ascontiguousarray(coords.reshape(1, -1, coords.shape[-1]))).to(ctx.device)
    out = siren.predict(params, x, w0)  # (1, N, d_out)
    return out[0].cpu().numpy().reshape(*coords.shape[:-1], d_out)


def _sampler(n: int, per_step: int | None, seed: int, device):
    """Indices of the points each step fits (the same draws for a seed), or None for all of them.

    Drawn on the device by its own generator: no host-to-device copy per step (on the CPU the
    draws are those of `torch.Generator().manual_seed(seed + 1)`, as before)."""
    if _every_point(per_step, n):
        return lambda: None
    generator = torch.Generator(device=device).manual_seed(seed + 1)
    return lambda: torch.randint(0, n, (per_step,), generator=generator, device=device)


def _every_point(per_step: int | None, n: int) -> bool:
    """Whether every step sees every point (full batches: the loss needs no separate check)."""
    return per_step is None or per_step >= n


def _full_loss(params: siren.Params, x: torch.Tensor, y: torch.Tensor, w0: float) -> torch.Tensor:
    """MSE on the points given (every point, or a fixed random subset of many), per datum (B,)."""
    return ((siren.predict(params, x, w0) - y) ** 2).mean(dim=(1, 2))


@torch.no_grad()
def _keep_best(best: list[torch.Tensor], current: list[torch.Tensor], best_loss: torch.Tensor, loss: torch.Tensor) -> None:
    """Copy each datum's weights whose loss improved; selected on the device, never asking the
    host whether any did (a full-batch fit calls this every step: no sync per step on a GPU)."""
    improved = loss < best_loss  # (B,)
    best_loss.copy_(torch.where(improved, loss, best_loss))
    for b, t in zip(best, current):
        b.copy_(torch.where(improved.view(-1, *[1] * (t.dim() - 1)), t, b))


def _pairs(flat: list[torch.Tensor]) -> siren.Params:
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]
