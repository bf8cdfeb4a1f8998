"""The latent-grid model's shape: complexity presets, the number of levels, the MAC count."""
from __future__ import annotations

import math
from dataclasses import dataclass

from . import context

FOLD = 1024  # 1-D grids longer than this are coded as rows of FOLD points (parallel decoding)
MAX_LEVELS = 7


@dataclass(frozen=True)
class Architecture:
    ndim: int  # grid axes (1 audio, 2 images and spherical fields, 3 volumes)
    channels: int  # features per point
    levels: int  # latent grids: full resolution down to 1/2**(levels-1) per axis
    context: int  # causal neighbours seen by the context model
    arm_hidden: int  # context model width
    arm_layers: int  # hidden layers of the context model
    syn_hidden: tuple[int, ...]  # widths of the per-point synthesis MLP
    res_layers: int  # residual convolutions (kernel 3 per axis) on the output channels

    @property
    def offsets(self) -> tuple[tuple[int, ...], ...]:
        """Context offsets on the grid the context model sees (1-D grids are folded into rows
        and see only the points before them in their row)."""
        if self.ndim == 1:
            return tuple((0, -k) for k in range(1, self.context + 1))
        return context.causal_offsets(self.ndim, self.context)

    def arm_dims(self) -> list[tuple[int, int]]:
        dims = [self.context] + [self.arm_hidden] * self.arm_layers + [2]
        return list(zip(dims[:-1], dims[1:]))

    def syn_dims(self) -> list[tuple[int, int]]:
        dims = [self.levels, *self.syn_hidden, self.channels]
        return list(zip(dims[:-1], dims[1:]))

    def macs_per_point(self) -> float:
        """Multiply-accumulates per grid point to decode (the context model counted per latent)."""
        latents = sum(2.0 ** (-self.ndim * l) for l in range(self.levels))
        arm = sum(i * o for i, o in self.arm_dims()) * latents
        syn = sum(i * o for i, o in self.syn_dims()) + self.res_layers * self.channels ** 2 * 3 ** self.ndim
        per_axis = sum(2.0 ** (a + 1 - self.ndim) for a in range(self.ndim))  # outputs per pass, per point
        up = sum((self.levels - l - 1) * 4 * per_axis * 2.0 ** (-self.ndim * l) for l in range(self.levels - 1))
        return arm + syn + up

    def describe(self) -> dict:
        return {"levels": self.levels, "context": self.context, "arm": [self.arm_hidden] * self.arm_layers,
                "synthesis": list(self.syn_hidden), "residual_convs": self.res_layers,
                "mac_per_point": round(self.macs_per_point())}


#: decoder complexity presets; MAC per pixel on RGB images at 7 levels: ~560 / ~940 / ~1800
PRESETS = {
    "fast": dict(context=8, arm_hidden=8, arm_layers=2, syn_hidden=(16,), res_layers=2),
    "medium": dict(context=12, arm_hidden=12, arm_layers=2, syn_hidden=(32,), res_layers=2),
    "high": dict(context=20, arm_hidden=20, arm_layers=2, syn_hidden=(48,), res_layers=2),
}


def levels_for(shape) -> int:
    """Levels down to a coarsest grid of a few points on the shortest axis (at most 7)."""
    return max(1, min(MAX_LEVELS, int(math.log2(max(1, min(shape)))) - 1))


def architecture(preset: str, shape, channels: int, levels: int | None = None) -> Architecture:
    return Architecture(len(shape), channels, levels or levels_for(shape), **PRESETS[preset])
