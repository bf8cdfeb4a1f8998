"""Overfit one latent-grid model to one datum: a plain loop, as in nanoGPT's train.py.

Phases follow C3 / Cool-chic: additive uniform noise first, then soft rounding with a
temperature annealed geometrically, then hard rounding with a straight-through gradient;
Adam with a cosine learning-rate decay, latents at a higher rate than the networks.
"""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields

import torch

from . import upsample
from .arch import Architecture
from .shapes import weight_shapes  # noqa: F401  (one definition, shared with the torch-free reader)
from .train_step import Workspace, loss_and_grad


@dataclass(frozen=True)
class Schedule:
    steps: int = 2000
    lr: float = 0.08  # latents
    lr_net: float = 0.01  # context model, upsampling and synthesis weights
    lr_level_gain: float = 1.0  # latents of level l move at lr * gain**l (coarse grids faster when > 1)
    noise_frac: float = 0.1  # first phase: additive uniform noise
    hard_frac: float = 0.9  # last phase: hard rounding, straight-through gradient
    t_start: float = 0.3  # soft-rounding temperature, annealed geometrically in between
    t_end: float = 0.1

    @classmethod
    def from_settings(cls, settings: dict) -> "Schedule":
        """The schedule a backend config sets (its fields of these names; the config holds their
        bounds and must keep their defaults, tests/test_c3.py): taken by name, never by position."""
        return cls(**{f.name: settings[f.name] for f in fields(cls)})

    def phase(self, i: int) -> tuple[str, float]:
        frac = i / self.steps
        if frac < self.noise_frac:
            return "noise", self.t_start
        if frac >= self.hard_frac:
            return "hard", 0.0
        a = (frac - self.noise_frac) / max(1e-9, self.hard_frac - self.noise_frac)
        return "soft", self.t_start * (self.t_end / self.t_start) ** a

    def lr_scale(self, i: int) -> float:
        return 0.5 * (1 + math.cos(math.pi * i / self.steps))


#: residual convolutions start as identity, at zero weights, but those behind a ReLU (all but the
#: last) with this small positive bias: a ReLU passes no gradient at 0, so a layer at exactly zero
#: would never train; here it is open everywhere and outputs a constant 0.001 until it learns.
RES_BIAS = 1e-3


def init_params(a: Architecture, shape, seed: int, device) -> dict[str, torch.Tensor]:
    """Zero latents, bicubic upsampling, PyTorch-default uniform init for the MLPs, a context
    model that starts at mean 0 / scale 1 and residual convolutions that start as identity
    (plus `RES_BIAS` behind their ReLUs)."""
    g = torch.Generator().manual_seed(seed)
    levels = upsample.level_shapes(shape, a.levels)
    p = {"y": torch.zeros(sum(math.prod(s) for s in levels))}
    for name, s in weight_shapes(a).items():
        if name == "up":
            p[name] = upsample.bicubic_kernel()[None].repeat(s[0], 1, 1)
        elif name.startswith("res") and name.endswith(".b") and name != f"res{a.res_layers - 1}.b":
            p[name] = torch.full(s, RES_BIAS)
        elif name.startswith(("armo", "res")):
            p[name] = torch.zeros(s)
        else:
            fan_in = s[1] if name.endswith(".W") else weight_shapes(a)[name[:-2] + ".W"][1]
            p[name] = (torch.rand(s, generator=g) * 2 - 1) / math.sqrt(fan_in)
    return {k: v.to(device).contiguous() for k, v in p.items()}


def initial_params(a: Architecture, shape, seed: int, device, prior: dict | None = None) -> dict[str, torch.Tensor]:
    """The fit's starting point: `init_params`, with the prior's tensors where shapes agree. A
    residual layer the prior holds at exactly zero never trained there (a ReLU at 0 passes no
    gradient: the first medium prior's res0), so it keeps its random start instead."""
    p = init_params(a, shape, seed, device)
    for k, v in (prior or {}).items():
        dead = k.startswith("res") and not prior[k.split(".")[0] + ".W"].any()
        if k in p and k != "y" and p[k].shape == v.shape and not dead:
            p[k] = v.to(device).clone()
    return p


def level_gains(levels, gain: float, device) -> torch.Tensor | None:
    if gain == 1.0:
        return None
    return torch.cat([torch.full((math.prod(s),), gain ** l, device=device) for l, s in enumerate(levels)])


def fit(target: torch.Tensor, a: Architecture, schedule: Schedule, lmbda: float, periodic, seed: int = 0,
        workers: int = 1, band: int = 32768, progress=None, prior: dict | None = None) -> dict[str, torch.Tensor]:
    """Trained parameters for `target` (channels, *shape) in [0, 1]; latents not yet rounded.
    `workers` > 1 runs each step's bands on that many threads (each torch op single-threaded);
    the result is the same to the bit whatever the number of workers. `prior`: initial network
    weights (see `prior.py`) replacing the random ones where shapes agree."""
    return fit_shared([target], a, schedule, lmbda, periodic, seed, workers, band, progress, prior)[0]


def fit_shared(targets: list[torch.Tensor], a: Architecture, schedule: Schedule, lmbda: float, periodic,
               seed: int = 0, workers: int = 1, band: int = 32768, progress=None,
               prior: dict | None = None) -> list[dict[str, torch.Tensor]]:
    """`fit` of several targets of one shape at once, each with its own latents and all sharing
    one set of networks, which follow the mean of their gradients (how a prior is trained,
    `prior.train`); one parameter dict per target, the network tensors shared between them.
    With one target this is `fit`, to the bit. `progress` gets the targets' mean PSNR and bpp."""
    shape = tuple(targets[0].shape[1:])
    levels = upsample.level_shapes(shape, a.levels)
    nets = initial_params(a, shape, seed, targets[0].device, prior)
    first = nets.pop("y")
    latents = [first] + [torch.zeros_like(first) for _ in targets[1:]]
    gain = level_gains(levels, schedule.lr_level_gain, targets[0].device)  # Adam on z = y / gain: y moves gain x faster
    gen = torch.Generator(device=targets[0].device).manual_seed(seed)
    opt = torch.optim.Adam([{"params": latents, "lr": schedule.lr},
                            {"params": list(nets.values()), "lr": schedule.lr_net}])
    base = [group["lr"] for group in opt.param_groups]
    pool = ThreadPoolExecutor(workers) if workers > 1 else None
    ws = Workspace()  # whole-grid buffers kept from step to step (the targets share a shape and take turns)
    try:
        for i in range(schedule.steps):
            mode, t = schedule.phase(i)
            for group, lr in zip(opt.param_groups, base):
                group["lr"] = lr * schedule.lr_scale(i)
            total = {k: torch.zeros_like(v) for k, v in nets.items()} if len(targets) > 1 else None
            psnr = bpp = 0.0
            for y, target in zip(latents, targets):
                _, mse, bits = loss_and_grad({"y": y, **nets}, a, levels, target, periodic, mode, t, lmbda, gen,
                                             band, pool, ws)
                if total is not None:
                    for k, v in nets.items():
                        total[k] += v.grad
                psnr += -10 * math.log10(max(mse, 1e-12)) / len(targets)
                bpp += bits / math.prod(shape) / len(targets)
            if total is not None:
                for k, v in nets.items():
                    v.grad = total[k] / len(targets)
            if gain is not None:  # Adam's step is scale-free: y = gain * z, so dz = gain * dy and y moves gain*lr
                with torch.no_grad():
                    for y in latents:
                        y.div_(gain)
                        y.grad.mul_(gain)
            opt.step()
            if gain is not None:
                with torch.no_grad():
                    for y in latents:
                        y.mul_(gain)
            if progress:
                progress(i + 1, schedule.steps, {"psnr": psnr, "bpp": bpp})
    finally:
        if pool:
            pool.shutdown()
    nets = {k: v.detach() for k, v in nets.items()}
    return [{"y": y.detach(), **nets} for y in latents]
