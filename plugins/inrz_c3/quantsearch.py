"""After fitting: round the latents, then choose each weight group's quantization step.

Each group's step (context model, upsampling, synthesis, residual convolutions) is a power of
two chosen to minimise D + lambda * R, R = latent bits + weight bits, measured on the integer
model exactly as it will be coded. The context model only changes the rate and the other
groups only the distortion, so each candidate needs one kind of evaluation. Each group walks from
the middle of the range to a minimum (`search`), and the synthesis and residual candidates share
one upsampling of the latents. The cost is nearly unimodal in the step; where it is not, a scan
from the finest step stopped at the first local minimum (the residual layers' step 10 on Kodak
kodim01-03, where 8 costs less), which the walk from the middle passes by.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from . import bitstream, model
from .arch import Architecture

SHIFTS = range(4, 13)
FINE = 12  # the step groups are held at while another group is searched
START = 8  # where each group's search starts (the middle of SHIFTS)


def quantized_weights(params: dict, shifts: dict[str, int]) -> dict[str, np.ndarray]:
    """Float64 weights exactly as the decoder will see them."""
    out = {}
    for name, value in params.items():
        if name == "y":
            continue
        shift = shifts[bitstream.group_of(name)]
        out[name] = bitstream.from_ints(bitstream.to_ints(value.detach().cpu().double().numpy(), name, shift), name,
                                        shift)
    return out


def group_bits(weights: dict[str, np.ndarray], group: str, shift: int, base: dict | None = None) -> float:
    """Coded size of a group's weights at a step (relative to `base`'s weights, as `bitstream` codes them)."""
    keys = bitstream.group_keys(weights, group)
    return bitstream.weight_bin(bitstream.group_ints(weights, keys, shift, base))[1] if keys else 0.0


def distortion(weights: dict, levels: list[np.ndarray], target: torch.Tensor, a: Architecture, periodic,
               upsampled: torch.Tensor | None = None) -> float:
    """MSE of the decoder's output, evaluated in float32 (a choice between steps, not the decode).
    `upsampled`: `model.upsampled`'s result for these weights, when the caller has it."""
    w = {k: torch.from_numpy(v).float() for k, v in weights.items()}
    if upsampled is None:
        upsampled = model.upsampled(w, [torch.from_numpy(l).float() for l in levels], a, periodic)
    out = model.synthesized(upsampled, w, a).clamp(0, 1)
    return float(((out - target.float().cpu()) ** 2).mean())


def search(cost, start: int = START) -> int:
    """The step in `SHIFTS` of least `cost`, walking from `start` to coarser steps while the cost
    does not rise, else to finer ones while it falls: the minimum of a unimodal cost (ties go to the
    coarser step), in 3-5 evaluations where a scan from the finest step took up to 9."""
    seen: dict[int, float] = {}

    def c(s: int) -> float:
        if s not in seen:
            seen[s] = cost(s)
        return seen[s]

    s = start
    if s - 1 in SHIFTS and c(s - 1) <= c(s):
        while s - 1 in SHIFTS and c(s - 1) <= c(s):
            s -= 1
        return s
    while s + 1 in SHIFTS and c(s + 1) < c(s):
        s += 1
    return s


def choose_shifts(params: dict, levels: list[np.ndarray], target: torch.Tensor, a: Architecture, periodic,
                  lmbda: float, base: dict | None = None) -> dict[str, int]:
    points = math.prod(target.shape[1:])
    chosen = {g: FINE for g in bitstream.GROUPS}

    def arm_cost(s: int) -> float:  # the context model: rate only
        w = quantized_weights(params, {**chosen, "arm": s})
        return bitstream.latent_bits(levels, bitstream.arm_layers(w, s, a), a) + group_bits(w, "arm", s, base)

    chosen["arm"] = search(arm_cost)
    # the synthesis and residual searches keep the upsampling at FINE: one upsampled pyramid serves both
    fine = {k: torch.from_numpy(v).float() for k, v in quantized_weights(params, chosen).items()}
    fixed_up = model.upsampled(fine, [torch.from_numpy(l).float() for l in levels], a, periodic)
    for group in ("syn", "res", "up"):  # decoder groups: distortion (and their own bits)
        def cost(s: int, group=group) -> float:
            w = quantized_weights(params, {**chosen, group: s})
            d = distortion(w, levels, target, a, periodic, None if group == "up" else fixed_up)
            return d + lmbda * group_bits(w, group, s, base) / points

        chosen[group] = search(cost)
    return chosen
