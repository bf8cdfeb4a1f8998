"""COIN (Dupont et al. 2021): overfit one SIREN per datum and store its weights.

Architectures come from the paper's fixed architectures (named by their shape, `10x28`; inrz 0.1
named them by their rate on the paper's data (393,216 points, 3 channels), `0.3bpp`, which files and old specs may
still hold), an explicit depth x width, or a bits-per-point budget solved by `architecture_for_bpp`.
A rate on any datum is rate control's job (`target_bpp`), which walks `fine_ladder`.

Fitting is Adam on the exact MSE gradient, computed in chunks
(`model.loss_and_grad`), over all points per step (the paper) or, by default, over
`points_per_step` random points: a step then costs the same on a thousand points and on ten million,
and a CPU makes thousands of them in a minute. The lr follows a cosine decay (or stays
constant, the paper), and the weights with the lowest loss on all points are kept (checked at
every step with full batches, at `CHECKPOINTS` points along the fit with random ones).

Rate knob: the network's bits-per-point budget. The ladder sizes networks for `COIN_LADDER`'s
budgets, and the payload is predicted before fitting (weights x the quantizer's bits); the fine
ladder lists every depth x width near a payload, a few percent apart, for rate targets.
"""
from __future__ import annotations

import math
from typing import ClassVar, Literal, Sequence

import numpy as np
from pydantic import Field, ValidationInfo, field_validator, model_validator

from inrz import (Backend, ComponentConfig, EncodeContext, EncodeResult, EntropyModel, Quantizer, Rung, SpecError,
                  Tensors)

from .shapes import W0, SirenShape

#: the paper's fixed architectures, named by shape: name -> (depth, width)
ARCHITECTURES: dict[str, tuple[int, int]] = {
    "5x20": (5, 20), "5x30": (5, 30), "10x28": (10, 28), "10x40": (10, 40), "13x49": (13, 49),
}
MAX_WIDTH = 4096  # hidden units; a budget needing more is a mistake (or a hostile header)
#: inrz 0.1's names for them: their rate on the paper's 393,216-point data at 16-bit weights, and on nothing else
LEGACY_PRESETS: dict[str, str] = {"0.07bpp": "5x20", "0.15bpp": "5x30", "0.3bpp": "10x28", "0.6bpp": "10x40",
                                  "1.2bpp": "13x49"}
PresetName = Literal["5x20", "5x30", "10x28", "10x40", "13x49", "0.07bpp", "0.15bpp", "0.3bpp", "0.6bpp", "1.2bpp"]
DEFAULT_ARCHITECTURE = "10x28"
DEFAULT_STEPS = 1000  # CPU-sized fits (about a minute for 393,216 points x 3 channels); the paper: 50,000 on a GPU
DEFAULT_LR = 1e-3  # at width LR_WIDTH: converges in hundreds of steps; the paper's 2e-4 suits 50,000
LR_WIDTH = 28  # wider networks get DEFAULT_LR * LR_WIDTH / width (see `Coin.learning_rate`)
DEFAULT_POINTS = 16384  # random points per step (None: all, the paper)
CHECKPOINTS = 5  # loss checks along a fit on random points (the best weights seen are kept)
EVAL_POINTS = 1 << 16  # ... on this many fixed random points (all of them if fewer): cheap on any size
FINE_DEPTHS = 3  # the fine ladder tries depths from 2x this below to this above the one `architecture_for_bpp` picks
FINE_SPAN = 0.5  # ... and networks down to this fraction of the payload asked for
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
    while SirenShape(d_in, d_out, depth, width + 1).num_params() <= budget:
        width += 1  # at most once: isqrt's floor is exact, the division's is off by less than one
    while width > 0 and SirenShape(d_in, d_out, depth, width).num_params() > budget:
        width -= 1  # likewise at most once
    return width


class CoinConfig(ComponentConfig):
    preset: PresetName | None = None  # a paper architecture by shape (None: 10x28 unless depth/width or bpp)
    depth: int | None = Field(None, ge=1, le=64)  # sine layers; with `width`, overrides preset
    width: int | None = Field(None, ge=1, le=MAX_WIDTH)  # hidden units per layer
    bpp: float | None = Field(None, gt=0, le=1024)  # or: size the network for this budget (16-bit weights, no header)
    steps: int = Field(DEFAULT_STEPS, ge=1)  # Adam steps: CPU-sized (the paper: 50,000 on a GPU)
    lr: float | None = Field(None, gt=0)  # Adam learning rate; None: 1e-3, scaled down for networks wider than 28
    w0: float = Field(W0, gt=0, le=1e4)  # sine frequency (paper)
    points_per_step: int | None = Field(DEFAULT_POINTS, ge=64)  # random points per step; None: all points (paper)
    schedule: Literal["cosine", "constant"] = "cosine"  # lr decays to 0 over the fit, or stays (paper)
    chunk: int = Field(8192, ge=64)  # points per chunk in the fit step (cache-sized on CPUs)

    @field_validator("preset")
    @classmethod
    def _no_rate_names_in_new_specs(cls, value, info: ValidationInfo):
        """Files and old specs may hold the rate-named presets; a spec being written is told what they are."""
        if value in LEGACY_PRESETS and (info.context or {}).get("new_spec"):
            raise ValueError(f"{value!r} is the old name of the fixed {LEGACY_PRESETS[value]} architecture, which "
                             f"gives {value} only on the paper's 393,216-point data: write preset: {LEGACY_PRESETS[value]} for that "
                             f"architecture, or target_bpp: {value.removesuffix('bpp')} for that rate on any datum")
        return value

    @model_validator(mode="after")
    def _depth_and_width_together(self):
        if (self.depth is None) != (self.width is None):
            raise ValueError("set both depth and width, or neither")
        return self


class Coin(Backend):
    id = "coin"
    Config: ClassVar = CoinConfig
    default = True  # what a pipeline means when it names no backend (`Backend.default`)

    def shape(self, grid_shape: Sequence[int], d_in: int, d_out: int) -> SirenShape:
        c = self.config
        if c.depth is not None:
            depth, width = c.depth, c.width
        elif c.bpp is not None:
            try:
                depth, width = architecture_for_bpp(c.bpp, math.prod(grid_shape), d_in, d_out)
            except ValueError as exc:  # user input, not a bug: say what to change
                raise SpecError(f"backend coin: {exc}; raise `bpp` or set `depth` and `width`") from exc
        else:
            name = c.preset or DEFAULT_ARCHITECTURE
            depth, width = ARCHITECTURES[LEGACY_PRESETS.get(name, name)]
        return SirenShape(d_in, d_out, depth, width, c.w0)

    def architecture(self, grid_shape, d_in, d_out) -> dict:
        """The resolved network, for `inrz info`: depth x width, sine frequency, weight count."""
        shape = self.shape(grid_shape, d_in, d_out)
        return {"network": f"SIREN {shape.depth}x{shape.width}", "depth": shape.depth, "width": shape.width,
                "w0": shape.w0, "parameters": shape.num_params()}

    def layout(self, grid_shape, d_in, d_out):
        out = {}
        for i, (fan_in, fan_out) in enumerate(self.shape(grid_shape, d_in, d_out).layer_dims()):
            out[f"l{i}.W"], out[f"l{i}.b"] = (fan_out, fan_in), (fan_out,)
        return out

    def encode(self, coords, features, ctx: EncodeContext) -> list[EncodeResult]:
        from . import fit  # torch, loaded by encoders only (a decode of another backend never needs it)

        return fit.encode(self, coords, features, ctx)

    def learning_rate(self, width: int) -> float:
        """The configured lr, or DEFAULT_LR scaled by LR_WIDTH / width for wider networks.

        Adam moves every weight by about lr, while a SIREN's hidden weights are initialised at
        about 1/(w0 * width): the relative change of a pre-activation grows with the width, and
        a wide network at 1e-3 never leaves its start (a 10x96 network on an 8.7 million-point
        grid stayed at 10 dB for 400 steps; at 2e-4 it reached 27.9 dB in 200)."""
        if self.config.lr is not None:
            return self.config.lr
        return DEFAULT_LR * min(1.0, LR_WIDTH / width)

    def rate_ladder(self, quantizer: Quantizer, entropy: EntropyModel,
                    knobs: Sequence[float] | None = None) -> list[Rung]:
        """Networks sized for each budget (bits per point at 16-bit weights), smallest first."""
        return [Rung(f"bpp={bpp:g}", self.with_budget(bpp)) for bpp in sorted(knobs or COIN_LADDER)]

    def fine_ladder(self, grid_shape, d_in, d_out, quantizer: Quantizer, max_payload_bits: float) -> list[Rung]:
        """Every depth x width whose weights take between FINE_SPAN and 1 times `max_payload_bits`,
        at depths from six below to three above the one `architecture_for_bpp` picks (none thinner than
        1.5 x deep), smallest first: 1-4% apart, where one depth alone steps by 2/width (7% at width 28)."""
        points, bits = int(np.prod(grid_shape)), quantizer.bits
        try:
            centre, _ = architecture_for_bpp(max_payload_bits * 16 / bits / points, points, d_in, d_out)
        except ValueError:
            return []
        budget, shapes = max_payload_bits / bits, {}
        for depth in range(max(1, centre - 2 * FINE_DEPTHS), centre + FINE_DEPTHS + 1):
            for width in range(max(2, _max_width(int(budget), depth, d_in, d_out)), 1, -1):
                params = SirenShape(d_in, d_out, depth, width).num_params()
                if params < FINE_SPAN * budget:
                    break
                if params <= budget and (width >= 1.5 * depth or depth == 1):
                    shapes.setdefault(params, (depth, width))
        return [Rung(f"{d}x{w}", self.with_shape(d, w)) for _, (d, w) in sorted(shapes.items())]

    def with_shape(self, depth: int, width: int) -> "Coin":
        """This configuration with a depth x width network instead."""
        return type(self)({**self.get_config(), "preset": None, "bpp": None, "depth": depth, "width": width})

    def with_budget(self, bpp: float) -> "Coin":
        """This configuration with its network sized for `bpp` bits per point instead."""
        return type(self)({**self.get_config(), "preset": None, "bpp": bpp, "depth": None, "width": None})

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
        from . import fit  # torch, loaded when a COIN file is decoded

        return fit.decode(tensors, coords, d_out, ctx, self.config.w0)
