"""The shipped priors as a decoder reads them: the files, their tags, their tensors; no torch.

A file names the prior its weights are coded against by a tag, the first 4 bytes of the prior
file's SHA-256. Every prior ever shipped stays in `priors/`, byte for byte, so files coded
against it keep decoding; the encoder starts from the one `DEFAULT` names for its preset and
channel count. Priors are stored as `<preset>-<channels>ch-<tag>.json` (the first one, 477d7e8d,
predates that and keeps its name `medium-3ch.json`; it was trained on test images and is no
longer anyone's default). `prior.py` (the encoder's side) trains and loads priors as torch
tensors; a reader needs only the weights a payload was coded against, at float32 precision as
`prior.base` gives them (tests keep the two equal).
"""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import numpy as np

from inrz import ContainerError

from .arch import Architecture
from .shapes import weight_shapes

FOLDER = Path(__file__).parent / "priors"

#: the prior the encoder starts from, per (preset, channels): a file in FOLDER (none: random networks)
DEFAULT = {("medium", 3): "medium-3ch-542acea8.json", ("fast", 3): "fast-3ch-d0bf1595.json",
           ("high", 3): "high-3ch-fa1476f6.json", ("medium", 1): "medium-1ch-ba2765d0.json",
           ("fast", 1): "fast-1ch-86b45c64.json", ("high", 1): "high-1ch-6f428585.json"}


def path_for(preset: str, channels: int, ndim: int = 2) -> Path | None:
    """The default prior's file for this preset and channel count, or None. Priors are trained
    on photographs, so they serve 2-D grids only: audio, volumes and the sphere start from random
    networks (an image's context model has the shapes of theirs, but was never measured there)."""
    name = DEFAULT.get((preset, channels)) if ndim == 2 else None
    return FOLDER / name if name else None


def file_name(preset: str, channels: int, tag: bytes) -> str:
    """Where a new prior with this tag is stored."""
    return f"{preset}-{channels}ch-{tag.hex()}.json"


def shipped(preset: str, channels: int) -> dict[bytes, Path]:
    """Every prior shipped for this preset and channel count, by tag (the default and the retired)."""
    return {digest(p): p for p in sorted(FOLDER.glob(f"{preset}-{channels}ch*.json"))}


def digest(path: Path) -> bytes:
    """A prior file's tag: the first 4 bytes of its SHA-256."""
    return _digest(str(path))


@functools.lru_cache(maxsize=32)
def _digest(path: str) -> bytes:
    return hashlib.sha256(Path(path).read_bytes()).digest()[:4]


@functools.lru_cache(maxsize=32)
def _weights(path: str) -> dict[str, np.ndarray]:
    data = json.loads(Path(path).read_text())
    return {k: np.asarray(v, np.float32).astype(np.float64) for k, v in data["weights"].items()}


def tag(preset: str, channels: int) -> bytes | None:
    """The 4 bytes that name the default prior in a file (None: no prior for this preset)."""
    path = path_for(preset, channels)
    return digest(path) if path else None


def weights_of(path: Path, a: Architecture) -> dict[str, np.ndarray]:
    """A prior file's tensors whose shapes fit `a` (a grid with fewer levels uses the prior's MLP
    and context model but not its first layer)."""
    shapes = weight_shapes(a)
    return {k: v for k, v in _weights(str(path)).items() if k in shapes and v.shape == tuple(shapes[k])}


def base(preset: str, a: Architecture) -> tuple[bytes, dict[str, np.ndarray]] | None:
    """(tag, weights): the default prior's tensors whose shapes fit `a` (`prior.base`)."""
    path = path_for(preset, a.channels, a.ndim)
    return None if path is None else (digest(path), weights_of(path, a))


def base_finder(preset: str, a: Architecture):
    """For the reader: the base a file's tag names (any prior ever shipped for this layout), or a
    ContainerError saying which is missing."""
    def find(wanted: bytes) -> dict[str, np.ndarray]:
        have = shipped(preset, a.channels)
        if wanted not in have:
            known = ", ".join(t.hex() for t in have) or "none"
            raise ContainerError(f"the c3 payload is coded against prior {wanted.hex()} of preset {preset!r} "
                                 f"({a.channels} channels); this installation has {known}: install the inrz "
                                 f"version that wrote it, or one that ships that prior")
        return weights_of(have[wanted], a)
    return find
