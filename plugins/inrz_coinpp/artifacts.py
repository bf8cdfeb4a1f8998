"""Base network artifacts for COIN++: what sender and receiver must share.

An artifact is a folder `<models dir>/<hash>/` with `weights.safetensors` (the modulated
SIREN) and `config.json` (architecture, patch size, quantizer statistics, entropy tables as
integer counts, training data description, validation metrics). Its name is the content hash
of both files, so a container that records the hash can only be decoded with the same
network. The models dir is `$INRZ_MODELS_DIR`, else `<cache dir>/models`.

torch (the weights, the network) is imported where weights are read or written, not with this
module: the latent coders that read an artifact's tables register in every process, also in
one that decodes a c3 file without torch.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import safetensors

from inrz import BaseNetworkError, atomic_write, cache_dir

from .shapes import ModulatedShape

if TYPE_CHECKING:
    import torch

    from .model import ModulatedSiren

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
        from .model import ModulatedSiren  # torch, lazily: see the module docstring

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
    import safetensors.torch  # torch, lazily: see the module docstring

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
    import safetensors.torch  # torch, lazily: see the module docstring

    try:
        data = json.loads(config)
        state = safetensors.torch.load(weights)
    except (ValueError, safetensors.SafetensorError) as exc:
        raise BaseNetworkError(f"base network folder {folder} is unreadable: {exc}") from exc
    shape = _checked(data, state, folder)
    return BaseNetwork(shape, data["patch"], state, data["stats"], data["tables"], data["info"], got)


def _checked(data, state: dict[str, torch.Tensor], folder: str) -> ModulatedShape:
    """An artifact's config and weights as `save` writes them. The hash proves the folder is
    intact, not that its author was honest: a folder copied from anyone is checked like a file."""
    import torch  # lazily: see the module docstring

    def bad(problem: str) -> BaseNetworkError:
        return BaseNetworkError(f"base network folder {folder} is malformed: {problem}")

    if not isinstance(data, dict) or not {"shape", "patch", "stats", "tables", "info"} <= set(data):
        raise bad("config.json lacks shape, patch, stats, tables or info")
    s = data["shape"]
    ints = ("d_in", "d_out", "depth", "width", "latent_dim")
    if not (isinstance(s, dict) and set(s) == {*ints, "w0"} and all(_int_in(s[k], 1, 1 << 16) for k in ints)
            and isinstance(s["w0"], (int, float)) and not isinstance(s["w0"], bool) and 0 < s["w0"] < 1e6):
        raise bad(f"config shape {str(s)[:80]} is not an architecture")
    shape = ModulatedShape(**s)
    patch = data["patch"]
    if not (isinstance(patch, list) and 1 <= len(patch) <= 8 and all(_int_in(n, 1, 1 << 20) for n in patch)):
        raise bad(f"config patch {str(patch)[:80]} is not a patch shape")
    if {k: tuple(v.shape) for k, v in state.items()} != _weight_shapes(shape) or any(
            v.dtype != torch.float32 for v in state.values()):
        raise bad("weights.safetensors does not hold this architecture's float32 weights")
    if not all(bool(torch.isfinite(v).all()) for v in state.values()):
        raise bad("weights.safetensors holds NaN or infinite weights")
    if not (isinstance(data["stats"], dict) and isinstance(data["tables"], dict) and isinstance(data["info"], dict)):
        raise bad("config stats, tables and info must be objects")
    return shape


def _weight_shapes(s: ModulatedShape) -> dict[str, tuple[int, ...]]:
    """The state dict names and shapes `ModulatedSiren(s)` has, without building it."""
    dims = [s.d_in] + [s.width] * s.depth + [s.d_out]
    out = {}
    for i in range(len(dims) - 1):
        out[f"linears.{i}.weight"], out[f"linears.{i}.bias"] = (dims[i + 1], dims[i]), (dims[i + 1],)
    out["latent_to_shift.weight"], out["latent_to_shift.bias"] = (s.depth * s.width, s.latent_dim), (s.depth * s.width,)
    return out


def _int_in(value, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def load(hash: str, directory: str | Path | None = None) -> BaseNetwork:
    if not hash or not all(c in "0123456789abcdef" for c in hash):
        raise BaseNetworkError(f"invalid base network hash {hash!r}")
    return _load_cached(str(models_dir(directory) / hash), hash)


def list_models(directory: str | Path | None = None) -> list[dict[str, Any]]:
    """Every artifact in the models dir, with its architecture and validation figures."""
    root = models_dir(directory)
    out = []
    for folder in sorted(root.glob("*/config.json")) if root.is_dir() else []:
        try:
            data = json.loads(folder.read_text())
            out.append({"hash": folder.parent.name, "shape": data["shape"], "patch": data["patch"], **data["info"]})
        except (OSError, ValueError, KeyError, TypeError) as exc:  # a damaged folder is listed as such
            out.append({"hash": folder.parent.name, "error": f"unreadable config.json: {exc}"})
    return out
