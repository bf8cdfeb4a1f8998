"""The `c3` backend: per datum, a hierarchy of latent grids, learned upsampling, a small
synthesis network and an autoregressive context model (C3 / Cool-chic class), for grids of
1, 2 or 3 axes.

Encoding fits the model to the datum (`fit`), rounds the latents, picks each weight group's
quantization step (`quantsearch`) and range codes everything itself (`bitstream`): it declares `coding = ()`, so its codec holds no
quantizer or entropy model and its headers store none. Decoding is exact integer arithmetic up to
the synthesis, which runs in float64, and imports no torch: the decoder's modules (`payload`,
`render`, `priorfile`, `shapes`) stand apart from the encoder's, which load when encoding.
"""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar, Literal, Sequence

import numpy as np
from pydantic import Field

from inrz import Backend, ComponentConfig, ContainerError, EncodeContext, EncodeResult, InrzError, Rung, SpecError

from . import bitstream, priorfile
from .arch import MAX_LEVELS, PRESETS, Architecture, architecture
from .shapes import level_shapes, weight_shapes

#: the rate knob: lambda in loss = MSE + lambda * bits per point, from the smallest file to the largest
LAMBDAS = (0.05, 0.025, 0.012, 0.006, 0.003, 0.0015, 0.0008, 0.0004, 0.0002, 0.0001)
SECTION = "c3"


class C3Config(ComponentConfig):
    preset: Literal["fast", "medium", "high"] = "medium"  # decoder complexity (MAC per point: `inrz info`)
    lmbda: float = Field(0.004, gt=0, le=100)  # rate-distortion trade-off: MSE + lmbda * bits per point
    steps: int = Field(2000, ge=1, le=10_000_000)  # training iterations (C3 / Cool-chic: 10k-100k+ on GPUs)
    lr: float = Field(0.08, gt=0, le=10)  # Adam learning rate of the latents
    lr_net: float = Field(0.01, gt=0, le=10)  # ... of the networks
    lr_level_gain: float = Field(1.0, gt=0, le=4)  # latents of level l learn at lr * gain**l
    noise_frac: float = Field(0.1, ge=0, le=1)  # share of steps with additive noise (then soft rounding)
    hard_frac: float = Field(0.9, ge=0, le=1)  # steps before hard rounding with a straight-through gradient
    t_start: float = Field(0.3, gt=0, le=1)  # soft-rounding temperature at the start of that phase ...
    t_end: float = Field(0.1, gt=0, le=1)  # ... and at its end (annealed geometrically)
    levels: int | None = Field(None, ge=1, le=MAX_LEVELS)  # latent grids (default: from the grid size)
    prior: bool = True  # start from the shipped networks for this preset, if any (encoder only; see prior.py)
    threads: int | None = Field(None, ge=1, le=1024)  # CPU threads (default: torch's); no effect on results
    band: int = Field(32768, ge=64, le=1 << 24)  # points per training band (cache-sized); no effect on results


class C3(Backend):
    id = "c3"
    Config: ClassVar = C3Config
    version = 6  # 2: residual layers start open (bias 1e-3), so every tensor trains; 3: headers name no
    # quantizer, entropy model or fit setting; 4: compiled upsampling and rate kernels in the fit (other roundings);
    # 5: weight steps found by a walk from the middle (`quantsearch.search`; can pick another step);
    # 6: the upsampling kernels' gradient summed per vector lane (the fit rounds differently)
    coding = ()  # quantizes and range codes its own payload (`bitstream`)
    #: the fit's settings: a reader needs the preset and the levels only (the payload names its prior)
    encoder_only = frozenset({"lmbda", "steps", "lr", "lr_net", "lr_level_gain", "noise_frac", "hard_frac", "t_start",
                              "t_end", "prior", "threads", "band"})

    def provenance(self) -> dict:
        """The code version and the tags of the shipped priors this configuration starts from
        (a new prior changes the files, so finished run items code again)."""
        tags = {ch: priorfile.tag(self.config.preset, ch) for ch in (1, 2, 3, 4)} if self.config.prior else {}
        return {"version": self.version, "priors": {ch: t.hex() for ch, t in tags.items() if t}}

    def model_arch(self, grid: Sequence[int], channels: int) -> Architecture:
        """The model this configuration resolves to on a grid."""
        if not 1 <= len(grid) <= 3:
            raise SpecError(f"backend c3 codes grids of 1, 2 or 3 axes, not {len(grid)}")
        return architecture(self.config.preset, tuple(grid), channels, self.config.levels)

    def architecture(self, grid_shape: Sequence[int], d_in: int, d_out: int) -> dict:
        """The resolved model, for people (`inrz info`): levels, networks, MAC per point."""
        return {"preset": self.config.preset, **self.model_arch(grid_shape, d_out).describe()}

    def layout(self, grid_shape, d_in, d_out):
        a = self.model_arch(grid_shape, d_out)
        out = {f"latents.{l}": s for l, s in enumerate(level_shapes(grid_shape, a.levels))}
        out.update(weight_shapes(a))
        out["shifts"] = (len(bitstream.GROUPS),)
        return out

    # --- encoding ------------------------------------------------------------------------------
    def encode(self, coords, features, ctx: EncodeContext) -> list[EncodeResult]:
        import torch

        grid, channels = features.shape[1:-1], features.shape[-1]
        a = self.model_arch(grid, channels)
        periodic = ctx.periodic_for(len(grid))
        targets = [torch.from_numpy(np.ascontiguousarray(np.moveaxis(f, -1, 0))).float().to(ctx.device)
                   for f in features]
        threads = self.config.threads or torch.get_num_threads()
        if ctx.device.type != "cpu" or threads == 1:
            return [self._encode_one(t, a, periodic, ctx, 1) for t in targets]
        with _single_threaded_ops():  # parallelism comes from our threads, each op runs on one core
            if len(targets) == 1:
                return [self._encode_one(targets[0], a, periodic, ctx, threads)]
            with ThreadPoolExecutor(min(threads, len(targets))) as pool:  # one datum per thread
                return list(pool.map(lambda t: self._encode_one(t, a, periodic, ctx, 1), targets))

    def _encode_one(self, target: "torch.Tensor", a: Architecture, periodic, ctx: EncodeContext,
                    workers: int) -> EncodeResult:
        import torch

        from . import model, prior, quantsearch
        from .fit import Schedule, fit

        c = self.config
        schedule = Schedule.from_settings(c.model_dump())
        # priors are trained on photographs: a periodic grid (the sphere) starts from random networks
        start = prior.load(c.preset, a) if c.prior and not any(periodic) else None
        params = fit(target, a, schedule, c.lmbda, periodic, ctx.seed, workers, c.band, ctx.progress, start)
        shapes = level_shapes(target.shape[1:], a.levels)
        levels = [l.round().to(torch.int64).cpu().numpy() for l in model.split_levels(params["y"], shapes)]
        base = self._base(a)
        shifts = quantsearch.choose_shifts(params, levels, target, a, periodic, c.lmbda, base and base[1])
        tensors = {f"latents.{l}": v for l, v in enumerate(levels)}
        tensors.update(quantsearch.quantized_weights(params, shifts))
        tensors["shifts"] = np.asarray([shifts[g] for g in bitstream.GROUPS], np.int64)
        return EncodeResult(tensors, {"steps": c.steps, "shifts": shifts, "mac_per_point": round(a.macs_per_point())})

    # --- payload -------------------------------------------------------------------------------
    def pack_payload(self, tensors, layout, quantizer, entropy) -> dict[str, bytes]:
        a = self._arch_of(layout)
        return {SECTION: bitstream.encode(tensors, layout, a, self._cheaper_base(tensors, layout, a))}

    def unpack_payload(self, sections, layout, quantizer, entropy):
        if SECTION not in sections:
            raise ContainerError(f"the container has no {SECTION!r} section (written by another backend?)")
        from . import latent_pyramid

        a = self._arch_of(layout)

        def top(tensors):  # the renderer's last stage from the coarser levels, while the finest decodes
            made_from = [tensors[f"latents.{l}"].copy() for l in range(1, a.levels)] + [tensors["up"].copy()]
            return made_from, latent_pyramid.top_stage(made_from[:-1], layout["latents.0"], made_from[-1], (False,) * a.ndim)

        tensors = bitstream.decode(sections[SECTION], layout, a, priorfile.base_finder(self.config.preset, a), top)
        self._top = (tensors, tensors.pop("meanwhile", None))
        return tensors

    def _prepared_top(self, tensors, periodic):
        """`top_stage` of these tensors' coarser levels if `unpack_payload` made it from the
        same values (checked: ~0.3 ms at 768x512) on a grid without periodic axes, else None."""
        made_for, prepared = getattr(self, "_top", None) or (None, None)
        if prepared is None or made_for is not tensors or any(periodic):
            return None
        made_from, stage = prepared
        now = [tensors.get(f"latents.{l}") for l in range(1, len(made_from))] + [tensors.get("up")]
        return stage if all(np.array_equal(u, v) for u, v in zip(made_from, now)) else None

    def _base(self, a: Architecture):
        """The weights this encoder codes relative to: the prior it fitted from, if any."""
        return priorfile.base(self.config.preset, a) if self.config.prior else None

    def _cheaper_base(self, tensors, layout, a: Architecture):
        """The base, if coding against it takes fewer bits than coding the weights as they are."""
        base = self._base(a)
        if base is None:
            return None
        shifts = dict(zip(bitstream.GROUPS, (int(s) for s in tensors["shifts"])))

        def bits(weights):
            return sum(bitstream.weight_bin(bitstream.group_ints(tensors, bitstream.group_keys(layout, g), shifts[g],
                                                                 weights))[1] for g in bitstream.GROUPS)
        return base if bits(base[1]) < bits(None) else None

    def _arch_of(self, layout) -> Architecture:
        grid = layout["latents.0"]
        channels = layout[f"syn{len(PRESETS[self.config.preset]['syn_hidden'])}.W"][0]
        return self.model_arch(grid, channels)

    # --- decoding ------------------------------------------------------------------------------
    def decode(self, tensors, coords, d_out, ctx: EncodeContext) -> np.ndarray:
        """Rendered on the CPU in float64 by `render` (numpy and numba, no torch) on any device.
        Another grid than the file's (`--scale`, `--region`) resamples the latent pyramid at the
        requested samples before the synthesis (`resample`); on rectilinear coordinates only."""
        from . import render, resample

        native = tuple(tensors["latents.0"].shape)
        out_grid = tuple(coords.shape[:-1])
        a = self.model_arch(native, d_out)
        w = {k: np.asarray(v, np.float64) for k, v in tensors.items() if not k.startswith("latents") and k != "shifts"}
        levels = [np.asarray(tensors[f"latents.{l}"]) for l in range(a.levels)]  # integers: made float64 where used
        periodic = ctx.periodic_for(len(native))
        top, self._top = self._prepared_top(tensors, periodic), None  # used (native grid) or dropped
        positions = None
        if len(out_grid) != len(native):
            raise InrzError(f"c3 renders {len(native)}-axis grids, not {len(out_grid)}")
        reference = ctx.coordinates(native)  # the modality's own coordinates (audio: [-5, 5])
        if reference is coords or (out_grid == native and np.shape(reference) == coords.shape
                                   and np.array_equal(reference, coords)):
            positions = None  # the file's own grid: no resampling
        elif coords.shape[-1] == len(native):
            positions = resample.positions_from_coords(coords, native, np.asarray(reference))
        if positions is not None and not (out_grid == native and all(
                np.array_equal(p, np.arange(n)) for p, n in zip(positions, native))):
            out = resample.render_at(w, levels, len(a.syn_dims()), a.res_layers, periodic, positions)
        elif out_grid == native:
            out = render.render(w, levels, len(a.syn_dims()), a.res_layers, periodic, top=top)
        else:
            raise InrzError("this c3 container's coordinates are not a rectilinear grid: it decodes at its own "
                            "grid only (no --scale/--region)")
        if not np.isfinite(out).all():
            raise ContainerError("the c3 payload decodes to non-finite values (corrupt weights)")
        return np.moveaxis(out, 0, -1)

    def stored_numbers(self, layout) -> int:
        """The networks' weights: the latent grids are bounded by the grid (which the reader
        checks against the file size) and an all-zero grid costs a few bytes."""
        return sum(math.prod(s) for k, s in layout.items() if not k.startswith("latents."))

    def decode_cost(self, layout, points, d_in, d_out) -> float:
        """Multiply-adds of the context model, upsampling and synthesis (`inrz info`'s MAC/point)."""
        return float(points) * self._arch_of(layout).macs_per_point()

    # --- rate knobs ----------------------------------------------------------------------------
    def rate_ladder(self, quantizer, entropy, knobs=None) -> list[Rung]:
        """Lambda values from the smallest file to the largest (`knobs`: lambdas to use instead)."""
        values = sorted((float(k) for k in knobs), reverse=True) if knobs else LAMBDAS
        for v in values:
            if not 0 < v <= 100 or not math.isfinite(v):
                raise SpecError(f"backend c3: lambda {v} is outside (0, 100]")
        return [Rung(f"lmbda={v:g}", type(self)({**self.config.model_dump(), "lmbda": v})) for v in values]


class _single_threaded_ops:
    """torch's intra-op threads set to 1 while our own threads run, then restored."""

    def __enter__(self):
        import torch

        self.saved = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        import torch

        torch.set_num_threads(self.saved)
