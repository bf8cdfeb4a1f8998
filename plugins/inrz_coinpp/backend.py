"""COIN++ (Dupont et al. 2022): a meta-learned base network shared by sender and receiver;
each patch of a datum is stored as a latent vector found by a few SGD steps from zero.

The base network is an artifact named by its content hash (`artifacts.py`), recorded
in the container header through this backend's config, so decoding with another network fails.

Rate knob: the bit width of the latent quantizer (`BITS_LADDER`). Range coding makes the
size of a width hard to tell before coding, so there is no prediction: rate control bisects.
"""
from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import ClassVar, Sequence

import numpy as np
from pydantic import Field

from inrz import (Backend, ComponentConfig, EncodeContext, EncodeResult, EntropyModel, InrzError, PrepareContext,
                  Quantizer, Rung, SpecError, Tensors, merge_patches, split_patches)

from . import artifacts
from .config import TrainConfig
from .data import TrainData
from .shapes import INNER_LR, INNER_STEPS

AUTO = "auto"  # `model: auto` in a spec: train a base network from its `train:` section
#: the rate ladder: latent bit widths, smallest file first (the paper sweeps 3-8)
BITS_LADDER = (3, 4, 5, 6, 7, 8)


class CoinPPConfig(ComponentConfig):
    model: str  # base network hash (`inrz train` prints it; `auto` in a spec trains one)
    inner_steps: int = Field(INNER_STEPS, ge=0, le=10_000)  # SGD steps on the latents when encoding (paper: 3)
    inner_lr: float = Field(INNER_LR, gt=0)  # inner-loop learning rate (paper)
    memory_mb: int = Field(1024, ge=16, le=1 << 20)  # activation budget: patches are fitted in chunks within it


class CoinPP(Backend):
    id = "coinpp"
    Config: ClassVar = CoinPPConfig

    @classmethod
    def prepare(cls, sections: dict[str, dict], ctx: PrepareContext) -> dict[str, dict]:
        """Every section's `model: auto` (backend, latent quantizer, tables) becomes the base
        network trained from the spec's `train:` section."""
        if not any(section.get("model") == AUTO for section in sections.values()):
            return sections
        from .training import train_from_spec  # torch: loaded when a spec asks for training

        digest = ctx.once("coinpp.train", lambda: train_from_spec(ctx))
        return {name: {**section, "model": digest} if section.get("model") == AUTO else section
                for name, section in sections.items()}

    @classmethod
    def train_datasets(cls, train: dict) -> dict[str, dict]:
        """The `train:` section is a `TrainConfig`; its `dataset` and `val_dataset` name datasets."""
        cfg = TrainConfig.model_validate(train)
        return {key: value for key in ("dataset", "val_dataset") if (value := getattr(cfg, key)) is not None}

    @classmethod
    def add_commands(cls, sub, common) -> None:
        from . import commands  # argparse only: the commands import torch when they run

        commands.add(sub, common)

    def network(self) -> artifacts.BaseNetwork:
        return artifacts.load(self.config.model)

    def layout(self, grid_shape, d_in, d_out):
        net = self.network()
        if len(grid_shape) != len(net.patch) or (d_in, d_out) != (net.shape.d_in, net.shape.d_out):
            raise SpecError(f"backend coinpp: base network {net.hash} codes {len(net.patch)}-D grids with "
                            f"{net.shape.d_in}-D coordinates and {net.shape.d_out} channels, not a {len(grid_shape)}-D "
                            f"grid with {d_in}-D coordinates and {d_out} channels")
        counts = [-(-n // p) for n, p in zip(grid_shape, net.patch)]
        return {"latents": (math.prod(counts), net.shape.latent_dim)}

    def decode_cost(self, layout, points, d_in, d_out) -> float:
        """The base network's weights once per point, and each latent's shifts once per patch."""
        s = self.network().shape
        per_point = s.d_in * s.width + (s.depth - 1) * s.width ** 2 + s.width * s.d_out
        return float(points) * per_point + layout["latents"][0] * s.latent_dim * s.depth * s.width

    def encode(self, coords, features, ctx: EncodeContext) -> list[EncodeResult]:
        import torch  # lazily: registering COIN++ (every decode, also of other backends) loads no torch

        from .model import inner_loop

        net = self.network()
        self._check(net, features.shape[1:-1], features.shape[-1])
        model = net.model(ctx.device)
        split = [split_patches(f, net.patch)[0] for f in features]  # each (P, *patch, C)
        counts = [len(s) for s in split]
        flat = np.concatenate(split).reshape(sum(counts), -1, features.shape[-1])  # (P_total, n, C)
        x = self._patch_coords(net, ctx)
        latents = []
        for start in range(0, len(flat), self._chunk(net)):
            y = torch.from_numpy(flat[start:start + self._chunk(net)]).to(ctx.device)
            z = inner_loop(model, x, y, self.config.inner_steps, self.config.inner_lr, second_order=False)
            latents.append(z.cpu().numpy().astype(np.float32))
            if ctx.progress:
                ctx.progress(min(start + self._chunk(net), len(flat)), len(flat), {})
        z_all = np.concatenate(latents)
        bounds = np.cumsum([0] + counts)
        return [EncodeResult({"latents": z_all[a:b]}, {"patches": int(b - a)}) for a, b in zip(bounds[:-1], bounds[1:])]

    def rate_ladder(self, quantizer: Quantizer, entropy: EntropyModel,
                    knobs: Sequence[float] | None = None) -> list[Rung]:
        """The same latents quantized to each bit width (a quantizer without `bits`: no knob)."""
        if "bits" not in quantizer.Config.model_fields:
            return []
        if any(b != int(b) for b in knobs or ()):
            raise SpecError(f"backend coinpp: its rate knob is the latent bit width, a whole number; got {list(knobs)}")
        return [Rung(f"bits={int(b)}", self, quantizer=type(quantizer)({**quantizer.get_config(), "bits": int(b)}))
                for b in sorted(knobs or BITS_LADDER)]

    @classmethod
    def example_codec(cls, modality, signal) -> dict:
        """A tiny base network trained for 2 steps on the signal itself (patches of up to 8 per
        axis), saved in the models dir, with its latent quantizer and range coder."""
        features = modality.to_features(signal)[0].astype(np.float32)
        cfg = TrainConfig(dataset={"id": "example"}, patch=[min(n, 8) for n in features.shape[:-1]], depth=2, width=16,
                          latent_dim=8, steps=2, batch_size=8, val_every=2, val_patches=8, stats_patches=64,
                          quant_bits=[3, 5])
        data = TrainData([features], [features], {"sha256": "example"},
                         lambda shape: modality.coordinates(shape, meta=signal.meta))
        import torch  # lazily (see `encode`)

        from .loop import train

        with tempfile.TemporaryDirectory() as work:
            digest = artifacts.save(train(cfg, data, 0, torch.device("cpu"), Path(work), log=lambda message: None))
        return {"backend": {"id": cls.id, "model": digest, "inner_steps": 2},
                "quantizer": {"id": "latent_uniform", "model": digest, "bits": 5},
                "entropy": {"id": "table", "model": digest}}

    def decode(self, tensors: Tensors, coords, d_out: int, ctx: EncodeContext) -> np.ndarray:
        import torch  # lazily (see `encode`)

        net = self.network()
        grid = coords.shape[:-1]
        model = net.model(ctx.device)
        if len(tensors["latents"]) != self.layout(grid, coords.shape[-1], d_out)["latents"][0]:
            raise InrzError("COIN++ decodes at the native grid only (--scale/--region are COIN features)")
        z = torch.from_numpy(np.ascontiguousarray(tensors["latents"])).to(ctx.device)
        x = self._patch_coords(net, ctx)
        outs = []
        with torch.no_grad():
            for start in range(0, len(z), self._chunk(net)):
                outs.append(model(x, z[start:start + self._chunk(net)]).cpu().numpy())
        flat = np.concatenate(outs).reshape(len(z), *net.patch, d_out)
        return merge_patches(flat, grid)

    def _patch_coords(self, net: artifacts.BaseNetwork, ctx: EncodeContext):
        """One patch's coordinates as a tensor (n, d_in), from the modality: every patch shares them."""
        import torch  # lazily (see `encode`)

        coords = np.asarray(ctx.coordinates(net.patch), np.float32)
        if coords.shape[-1] != net.shape.d_in:
            raise InrzError(f"base network {net.hash} takes {net.shape.d_in}-D coordinates, the modality gives "
                            f"{coords.shape[-1]}-D")
        return torch.from_numpy(np.ascontiguousarray(coords.reshape(-1, coords.shape[-1]))).to(ctx.device)

    def _chunk(self, net: artifacts.BaseNetwork) -> int:
        points = int(np.prod(net.patch))
        per_patch = points * net.shape.width * net.shape.depth * 16  # bytes of saved activations, roughly
        return max(1, self.config.memory_mb * 2**20 // per_patch)

    def _check(self, net: artifacts.BaseNetwork, grid: Sequence[int], d_out: int) -> None:
        if len(grid) != len(net.patch) or d_out != net.shape.d_out:
            raise InrzError(f"base network {net.hash} codes {len(net.patch)}-D patches with {net.shape.d_out} "
                            f"channels; this datum has a {len(grid)}-D grid with {d_out} channels")
