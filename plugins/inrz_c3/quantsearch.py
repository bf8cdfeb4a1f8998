"""After fitting: round the latents, then choose each weight group's quantization step.

Each group's step (context model, upsampling, synthesis, residual convolutions) is a power of
two chosen to minimise D + lambda * R, R = latent bits + weight bits, measured on the integer
model exactly as it will be coded. The context model only changes the rate and the other
groups only the distortion, so each candidate needs one kind of evaluation.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from . import bitstream, model
from .arch import Architecture

SHIFTS = range(4, 13)
FINE = 12  # the step groups are held at while another group is searched


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


def distortion(weights: dict, levels: list[np.ndarray], target: torch.Tensor, a: Architecture, periodic) -> float:
    """MSE of the decoder's output, evaluated in float32 (a choice between steps, not the decode)."""
    w = {k: torch.from_numpy(v).float() for k, v in weights.items()}
    out = model.render(w, [torch.from_numpy(l).float() for l in levels], a, periodic).clamp(0, 1)
    return float(((out - target.float().cpu()) ** 2).mean())


def choose_shifts(params: dict, levels: list[np.ndarray], target: torch.Tensor, a: Architecture, periodic,
                  lmbda: float, base: dict | None = None) -> dict[str, int]:
    points = math.prod(target.shape[1:])
    chosen = {g: FINE for g in bitstream.GROUPS}
    best = None
    for s in reversed(SHIFTS):  # the context model: rate only; from fine to coarse, unimodal in practice
        w = quantized_weights(params, {**chosen, "arm": s})
        bits = bitstream.latent_bits(levels, bitstream.arm_layers(w, s, a), a) + group_bits(w, "arm", s, base)
        if best is not None and bits > best[0]:
            break
        best = (bits, s)
    chosen["arm"] = best[1]
    for group in ("syn", "res", "up"):  # decoder groups: distortion (and their own bits)
        best = None
        for s in reversed(SHIFTS):  # from fine to coarse; the cost is unimodal in practice
            w = quantized_weights(params, {**chosen, group: s})
            cost = distortion(w, levels, target, a, periodic) + lmbda * group_bits(w, group, s, base) / points
            if best is not None and cost > best[0]:
                break
            best = (cost, s)
        chosen[group] = best[1]
    return chosen
