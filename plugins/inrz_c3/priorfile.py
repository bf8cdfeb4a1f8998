"""The shipped priors as a decoder reads them: the file, its tag, its tensors; no torch.

`prior.py` (the encoder's side) trains and loads priors as torch tensors; a reader needs only
the weights a payload was coded against, at float32 precision as `prior.base` gives them
(tests keep the two equal).
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


def path_for(preset: str, channels: int) -> Path:
    return FOLDER / f"{preset}-{channels}ch.json"


@functools.lru_cache(maxsize=16)
def _digest(path: str) -> bytes:
    return hashlib.sha256(Path(path).read_bytes()).digest()[:4]


@functools.lru_cache(maxsize=16)
def _weights(path: str) -> dict[str, np.ndarray]:
    data = json.loads(Path(path).read_text())
    return {k: np.asarray(v, np.float32).astype(np.float64) for k, v in data["weights"].items()}


def tag(preset: str, channels: int) -> bytes | None:
    """The 4 bytes that name the shipped prior in a file (None: no prior for this preset)."""
    path = path_for(preset, channels)
    return _digest(str(path)) if path.exists() else None


def base(preset: str, a: Architecture) -> tuple[bytes, dict[str, np.ndarray]] | None:
    """(tag, weights): the prior's tensors whose shapes fit `a` (`prior.base`)."""
    path = path_for(preset, a.channels)
    if not path.exists():
        return None
    shapes = weight_shapes(a)
    weights = {k: v for k, v in _weights(str(path)).items() if k in shapes and v.shape == tuple(shapes[k])}
    return _digest(str(path)), weights


def base_finder(preset: str, a: Architecture):
    """For the reader: the base a file's tag names, or a ContainerError saying which is missing."""
    def find(wanted: bytes) -> dict[str, np.ndarray]:
        found = base(preset, a)
        if found is None or found[0] != wanted:
            have = found[0].hex() if found else "none"
            raise ContainerError(f"the c3 payload is coded against prior {wanted.hex()} of preset {preset!r}; "
                                 f"this installation has {have}")
        return found[1]
    return find
