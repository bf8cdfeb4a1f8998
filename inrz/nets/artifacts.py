"""Base network artifacts for COIN++: what sender and receiver must share.

An artifact is a folder `<models dir>/<hash>/` with `weights.safetensors` (the modulated
SIREN) and `config.json` (architecture, patch size, quantizer statistics, entropy tables as
integer counts, training data description, validation metrics). Its name is the content hash
of both files, so a container that records the hash can only be decoded with the same
network. The models dir is `$INRZ_MODELS_DIR`, else `<cache dir>/models`.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import safetensors.torch
import torch

from ..core.errors import BaseNetworkError
from ..core.fsutil import atomic_write
from ..core.paths import cache_dir
from .modulated import ModulatedShape, ModulatedSiren

MODELS_ENV = "INRZ_MODELS_DIR"
__all__ = ["MODELS_ENV", "BaseNetwork", "BaseNetworkError", "content_hash", "list_models", "load", "models_dir", "save"]


@dataclass
class BaseNetwork:
    shape: ModulatedShape
    patch: list[int]
    state: dict[str, torch.Tensor]
    stats: dict[str, Any] = field(default_factory=dict)  # latent mean/std, global and per dimension
    tables: dict[str, Any] = field(default_factory=dict)  # "<bits>" -> {"global": counts, "per_dim": counts}
    info: dict[str, Any] = field(default_factory=dict)  # training data, steps, validation PSNR
    hash: str = ""

    def model(self, device=None) -> ModulatedSiren:
        net = ModulatedSiren(self.shape)
        net.load_state_dict(self.state)
        return net.to(device).eval()

    def config_json(self) -> bytes:
        data = {"shape": asdict(self.shape), "patch": self.patch, "stats": self.stats, "tables": self.tables,
                "info": self.info}
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def models_dir(override: str | Path | None = None) -> Path:
    """`override`, else `$INRZ_MODELS_DIR`, else `<cache dir>/models`."""
    if override:
        return Path(override).expanduser()
    if os.environ.get(MODELS_ENV):
        return Path(os.environ[MODELS_ENV]).expanduser()
    return cache_dir() / "models"


def _weights_bytes(state: dict[str, torch.Tensor]) -> bytes:
    return safetensors.torch.save({k: v.detach().cpu().contiguous() for k, v in sorted(state.items())})


def content_hash(weights: bytes, config: bytes) -> str:
    return hashlib.sha256(hashlib.sha256(weights).digest() + hashlib.sha256(config).digest()).hexdigest()[:16]


def save(net: BaseNetwork, directory: str | Path | None = None) -> str:
    """Write the artifact atomically and return its hash (also set on `net`)."""
    weights, config = _weights_bytes(net.state), net.config_json()
    net.hash = content_hash(weights, config)
    folder = models_dir(directory) / net.hash
    atomic_write(folder / "weights.safetensors", weights)
    atomic_write(folder / "config.json", config)
    return net.hash


@functools.lru_cache(maxsize=8)
def _load_cached(folder: str, expected: str) -> BaseNetwork:
    try:
        weights = (Path(folder) / "weights.safetensors").read_bytes()
        config = (Path(folder) / "config.json").read_bytes()
    except OSError as exc:
        raise BaseNetworkError(
            f"base network {expected} is not in {Path(folder).parent}: this file was encoded with it; copy the "
            f"folder {expected}/ from the encoder's models dir (or set ${MODELS_ENV}), or run `inrz train` with "
            f"the same spec"
        ) from exc
    got = content_hash(weights, config)
    if got != expected:
        raise BaseNetworkError(f"base network folder {folder} is corrupt: its content hash is {got}, not {expected}")
    data = json.loads(config)
    return BaseNetwork(ModulatedShape(**data["shape"]), data["patch"], safetensors.torch.load(weights), data["stats"],
                       data["tables"], data["info"], got)


def load(hash: str, directory: str | Path | None = None) -> BaseNetwork:
    if not hash or not all(c in "0123456789abcdef" for c in hash):
        raise BaseNetworkError(f"invalid base network hash {hash!r}")
    return _load_cached(str(models_dir(directory) / hash), hash)


def list_models(directory: str | Path | None = None) -> list[dict[str, Any]]:
    """Every artifact in the models dir, with its architecture and validation figures."""
    root = models_dir(directory)
    out = []
    for folder in sorted(root.glob("*/config.json")) if root.is_dir() else []:
        data = json.loads(folder.read_text())
        out.append({"hash": folder.parent.name, "shape": data["shape"], "patch": data["patch"], **data["info"]})
    return out
