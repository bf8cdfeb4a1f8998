"""COIN (Dupont et al. 2021): overfit one SIREN per datum and store its weights.

Architectures come from the paper's presets (named by their bpp on the paper's 768x512 benchmark images
at 16 bits per weight), an explicit depth x width, or a bits-per-point budget solved by
`architecture_for_bpp`. Fitting is Adam on the exact full-batch MSE gradient, computed in
chunks (`inrz.nets.siren.loss_and_grad`); the weights with the lowest loss seen are kept.

Rate knob: the network's bits-per-point budget. The ladder sizes networks for `COIN_LADDER`'s
budgets, and the payload is predicted before fitting (weights x the quantizer's bits).
"""
from __future__ import annotations

import math
from typing import ClassVar, Literal, Sequence

import numpy as np
import torch
from pydantic import Field, model_validator

from ..coding.entropy import EntropyModel
from ..coding.quantize import Quantizer
from ..core.component import ComponentConfig
from ..core.errors import SpecError
from ..nets import siren
from ..signal.metrics import psnr
from .base import Backend, EncodeContext, EncodeResult, Rung, Tensors

#: the paper's image architectures: name -> (depth, width)
PRESETS: dict[str, tuple[int, int]] = {
    "0.07bpp": (5, 20), "0.15bpp": (5, 30), "0.3bpp": (10, 28), "0.6bpp": (10, 40), "1.2bpp": (13, 49),
}
MAX_WIDTH = 4096  # hidden units; a budget needing more is a mistake (or a hostile header)
#: the rate ladder: bits-per-point budgets networks are sized for, smallest file first
COIN_LADDER = (0.02, 0.04, 0.07, 0.1, 0.15, 0.2, 0.3, 0.45, 0.6, 0.9, 1.2, 1.8, 2.4, 3.6, 4.8, 8.0)


def architecture_for_bpp(bpp: float, num_points: int, d_in: int, d_out: int, weight_bits: int = 16) -> tuple[int, int]:
    """The widest network within `bpp` bits per point, at the depth the paper used nearby.

    Depth starts from the presets (5 layers at <= 0.15 bpp, 10 up to 0.6, 13 above) and shrinks
    until the widest network that fits is at least 2.5 times as wide as it is deep (the presets'
    shape: 5x20 ... 13x49), so small data get shallow, wide networks rather than deep, thin ones.
    """
    budget = math.floor(bpp * num_points / weight_bits)  # whole weights; bpp and points are bounded, so finite
    for depth in range(5 if bpp <= 0.15 else 10 if bpp <= 0.6 else 13, 0, -1):
        width = _max_width(budget, depth, d_in, d_out)
        if width > MAX_WIDTH:
            raise ValueError(f"{bpp} bpp on {num_points} points asks for a SIREN wider than {MAX_WIDTH}")
        if width >= max(2.0, 2.5 * depth) or (depth == 1 and width >= 2):
            return depth, width
    raise ValueError(f"no SIREN fits {bpp} bpp on {num_points} points")


def _max_width(budget: int, depth: int, d_in: int, d_out: int) -> int:
    """The largest width whose network has at most `budget` weights, in exact integers.

    params(w) = (depth-1) w^2 + (d_in + depth + d_out) w + d_out, so w is the floor of the
    positive root, and `isqrt` gives it exactly; one step corrects the rounding."""
    a, b, c = depth - 1, d_in + depth + d_out, budget - d_out
    if c < b + a:  # not even width 1
        return 0
    width = (math.isqrt(b * b + 4 * a * c) - b) // (2 * a) if a else c // b
    while siren.SirenShape(d_in, d_out, depth, width + 1).num_params() <= budget:
        width += 1  # at most once: isqrt's floor is exact, the division's is off by less than one
    while width > 0 and siren.SirenShape(d_in, d_out, depth, width).num_params() > budget:
        width -= 1  # likewise at most once
    return width


class CoinConfig(ComponentConfig):
    preset: Literal["0.07bpp", "0.15bpp", "0.3bpp", "0.6bpp", "1.2bpp"] | None = "0.3bpp"  # paper architecture
    depth: int | None = Field(None, ge=1, le=64)  # sine layers; with `width`, overrides preset
    width: int | None = Field(None, ge=1, le=MAX_WIDTH)  # hidden units per layer
    bpp: float | None = Field(None, gt=0, le=1024)  # or: size the network for this budget (16-bit weights)
    steps: int = Field(50_000, ge=1)  # Adam steps (paper: 50k)
    lr: float = Field(2e-4, gt=0)  # Adam learning rate (paper)
    w0: float = Field(siren.W0, gt=0, le=1e4)  # sine frequency (paper)
    chunk: int = Field(8192, ge=64)  # points per chunk in the fit step (cache-sized on CPUs)

    @model_validator(mode="after")
    def _depth_and_width_together(self):
        if (self.depth is None) != (self.width is None):
            raise ValueError("set both depth and width, or neither")
        return self


class Coin(Backend):
    id = "coin"
    Config: ClassVar = CoinConfig

    def shape(self, grid_shape: Sequence[int], d_in: int, d_out: int) -> siren.SirenShape:
        c = self.config
        if c.depth is not None:
            depth, width = c.depth, c.width
        elif c.bpp is not None:
            try:
                depth, width = architecture_for_bpp(c.bpp, math.prod(grid_shape), d_in, d_out)
            except ValueError as exc:  # user input, not a bug: say what to change
                raise SpecError(f"backend coin: {exc}; raise `bpp` or set `depth` and `width`") from exc
        else:
            depth, width = PRESETS[c.preset or "0.3bpp"]
        return siren.SirenShape(d_in, d_out, depth, width, c.w0)

    def layout(self, grid_shape, d_in, d_out):
        out = {}
        for i, (fan_in, fan_out) in enumerate(self.shape(grid_shape, d_in, d_out).layer_dims()):
            out[f"l{i}.W"], out[f"l{i}.b"] = (fan_out, fan_in), (fan_out,)
        return out

    def encode(self, coords, features, ctx: EncodeContext) -> list[EncodeResult]:
        B, grid, d_out = features.shape[0], features.shape[1:-1], features.shape[-1]
        shape = self.shape(grid, coords.shape[-1], d_out)
        x = torch.from_numpy(coords.reshape(1, -1, coords.shape[-1])).to(ctx.device).expand(B, -1, -1)  # (B, N, d_in)
        y = torch.from_numpy(features.reshape(B, -1, d_out)).to(ctx.device)  # (B, N, d_out)
        params, best_loss, steps = self._fit(shape, x, y, ctx)
        return [EncodeResult(self._to_tensors(params, i), {"fit_psnr": psnr(float(best_loss[i])), "steps": steps})
                for i in range(B)]

    def _fit(self, shape: siren.SirenShape, x: torch.Tensor, y: torch.Tensor, ctx: EncodeContext):
        c = self.config
        params = siren.init_params(shape, x.shape[0], torch.Generator().manual_seed(ctx.seed), ctx.device)
        flat = [t for pair in params for t in pair]
        opt = torch.optim.Adam(flat, lr=c.lr)
        best = [t.clone() for t in flat]
        best_loss = torch.full((x.shape[0],), math.inf, device=x.device)
        for step in range(c.steps):
            loss, grads = siren.loss_and_grad(params, x, y, shape.w0, c.chunk)  # loss (B,) before this update
            _keep_best(best, flat, best_loss, loss)
            for t, g in zip(flat, (g for pair in grads for g in pair)):
                t.grad = g
            opt.step()
            if ctx.progress:
                ctx.progress(step + 1, c.steps, {"psnr": psnr(float(loss.min()))})
        final = ((siren.predict(params, x, shape.w0) - y) ** 2).mean(dim=(1, 2))
        _keep_best(best, flat, best_loss, final)
        return _pairs(best), best_loss.cpu(), c.steps

    def _to_tensors(self, params: siren.Params, i: int) -> Tensors:
        out = {}
        for layer, (W, b) in enumerate(params):
            out[f"l{layer}.W"] = W[i].detach().cpu().numpy().astype(np.float32)
            out[f"l{layer}.b"] = b[i].detach().cpu().numpy().astype(np.float32)
        return out

    def rate_ladder(self, quantizer: Quantizer, entropy: EntropyModel,
                    knobs: Sequence[float] | None = None) -> list[Rung]:
        """Networks sized for each budget (bits per point at 16-bit weights), smallest first."""
        return [Rung(f"bpp={bpp:g}", self.with_budget(bpp)) for bpp in sorted(knobs or COIN_LADDER)]

    def with_budget(self, bpp: float) -> "Coin":
        """This configuration with its network sized for `bpp` bits per point instead."""
        return type(self)({**self.get_config(), "bpp": bpp, "depth": None, "width": None})

    def predicted_payload_bits(self, grid_shape, d_in, d_out, quantizer: Quantizer) -> float:
        """Every weight at the quantizer's width (entropy coding only shrinks that)."""
        return sum(math.prod(s) for s in self.layout(grid_shape, d_in, d_out).values()) * quantizer.bits

    @classmethod
    def example_codec(cls, modality, signal) -> dict:
        """A 2 x 8 SIREN fitted for 4 steps: a container of a few hundred bytes."""
        return {"backend": {"id": cls.id, "depth": 2, "width": 8, "steps": 4, "lr": 1e-3}}

    def decode_cost(self, layout, points, d_in, d_out) -> float:
        """Every weight once per point."""
        return float(points) * sum(math.prod(shape) for shape in layout.values())

    def decode(self, tensors: Tensors, coords: np.ndarray, d_out: int, ctx: EncodeContext) -> np.ndarray:
        n_layers = len(tensors) // 2
        params = [(torch.from_numpy(np.ascontiguousarray(tensors[f"l{i}.W"]))[None].to(ctx.device),
                   torch.from_numpy(np.ascontiguousarray(tensors[f"l{i}.b"]))[None].to(ctx.device))
                  for i in range(n_layers)]
        x = torch.from_numpy(np.ascontiguousarray(coords.reshape(1, -1, coords.shape[-1]))).to(ctx.device)
        out = siren.predict(params, x, self.config.w0)  # (1, N, d_out)
        return out[0].cpu().numpy().reshape(*coords.shape[:-1], d_out)


@torch.no_grad()
def _keep_best(best: list[torch.Tensor], current: list[torch.Tensor], best_loss: torch.Tensor, loss: torch.Tensor) -> None:
    improved = loss < best_loss
    if not bool(improved.any()):
        return
    best_loss[improved] = loss[improved]
    for b, t in zip(best, current):
        b[improved] = t[improved]


def _pairs(flat: list[torch.Tensor]) -> siren.Params:
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]
