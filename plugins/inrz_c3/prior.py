"""Learned initial weights (a "prior") for the per-datum fit: the encoder's head start.

A fit from random networks spends its first few hundred steps finding a synthesis and a
context model that make sense at all; starting from networks trained jointly on a few other
images (each with its own latents, the networks shared) lets the latents move the right way
from step one (cf. Tancik et al., CVPR 2021, learned initialisations for coordinate-based
networks). Every weight is still fitted and stored; a fit from the prior moves most weights a
little, so the file codes them as differences from the prior's (`bitstream`, format 2) and names
the prior by a tag, the first bytes of its file's SHA-256: a shipped prior is part of the format
and is never edited in place (a new one gets a new file), and a reader without that prior
refuses the file with a ContainerError instead of decoding garbage.

Priors ship as JSON (`priors/<preset>-<channels>ch-<tag>.json`: name -> nested lists; which
one the encoder starts from, and how retired ones still decode: `priorfile`) and are made with
`tools/train_c3_prior.py` from a recorded corpus that no evaluation uses (it refuses evaluation
data by path and by hash; the first medium-3ch prior, 477d7e8d, predates that check: it was
trained on test images, and is kept only so that files coded against it decode).
"""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from . import priorfile
from .arch import Architecture
from .fit import Schedule, fit_shared, init_params

@functools.lru_cache(maxsize=16)
def _load(path: str) -> dict[str, torch.Tensor]:
    data = json.loads(Path(path).read_text())
    return {k: torch.tensor(v, dtype=torch.float32) for k, v in data["weights"].items()}


def load(preset: str, a: Architecture, path: Path | None = None) -> dict[str, torch.Tensor] | None:
    """The default prior for this preset and channel count (or the prior file `path`), with the
    tensors whose shapes fit `a` (a grid with fewer levels uses the prior's MLP and context model
    but not its first layer)."""
    path = path or priorfile.path_for(preset, a.channels, a.ndim)
    if path is None:
        return None
    template = init_params(a, (1,) * a.ndim, 0, "cpu")
    return {k: v.clone() for k, v in _load(str(path)).items() if k in template and template[k].shape == v.shape}


def tag(preset: str, channels: int) -> bytes | None:
    """The 4 bytes that name the default prior in a file (None: no prior for this preset)."""
    return priorfile.tag(preset, channels)


def base(preset: str, a: Architecture) -> tuple[bytes, dict[str, np.ndarray]] | None:
    """(tag, weights) the bitstream codes a file's weights against: the prior's tensors that fit `a`."""
    weights = load(preset, a)
    if weights is None:
        return None
    return tag(preset, a.channels), {k: v.double().numpy() for k, v in weights.items()}


def train(targets: list[torch.Tensor], a: Architecture, schedule: Schedule, lmbda: float, seed: int = 0,
          log=print) -> dict[str, torch.Tensor]:
    """Networks shared by all `targets` (each (channels, *shape), one shape), each with its own
    latents: `fit.fit_shared`, the encoder's own loop, keeping the networks."""
    def progress(step: int, steps: int, figures: dict) -> None:
        if log and step % 100 == 0:
            log(f"step {step}: mean train psnr {figures['psnr']:.2f} dB")

    params = fit_shared(targets, a, schedule, lmbda, (False,) * a.ndim, seed, progress=progress)
    return {k: v for k, v in params[0].items() if k != "y"}


def save(weights: dict[str, torch.Tensor], folder: Path, preset: str, channels: int, about: dict) -> Path:
    """Write a prior into `folder` under its content-addressed name (`priorfile.file_name`); a
    shipped prior is never overwritten, and the encoder's default changes only in `priorfile.DEFAULT`."""
    data = json.dumps({"about": about, "weights": {k: v.tolist() for k, v in sorted(weights.items())}},
                      separators=(",", ":")).encode()
    path = folder / priorfile.file_name(preset, channels, hashlib.sha256(data).digest()[:4])
    folder.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(data)
    return path
