"""COIN++'s network shape and the paper's inner-loop constants, without torch: what the
backend's config, layout and rate ladder need, so registering COIN++ (every `inrz` import,
every decode) does not load torch. The network itself is `model.py`.
"""
from __future__ import annotations

from dataclasses import dataclass

#: the paper's inner loop (k SGD steps on the latents from zero), when training and when encoding
INNER_STEPS = 3
INNER_LR = 1e-2


@dataclass(frozen=True)
class ModulatedShape:
    d_in: int
    d_out: int
    depth: int  # sine layers
    width: int  # hidden units per layer
    latent_dim: int  # numbers stored per datum/patch
    w0: float  # sine frequency
