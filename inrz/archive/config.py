"""What the numcodecs and zarr codecs share: one JSON config -> one inrz `Codec` for arrays.

A chunk is coded on its own with the `ndarray` modality; its container carries everything
needed to decode it (the base network hash for COIN++), so chunks decompress without the
config. Codecs are cached per config, so repeated chunks don't rebuild components.
"""
from __future__ import annotations

import functools
import json
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..core.device import resolve_device
from ..core.host import PluginHost
from ..pipeline.codec import Codec
from ..pipeline.decode import decode
from ..pipeline.sizesearch import smallest_bounded


class ArchiveConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: dict[str, Any] = {"id": "coin", "bpp": 0.25, "steps": 500, "lr": 1e-3}  # any backend (coinpp: + model)
    quantizer: dict[str, Any] = {"id": "fp16"}
    entropy: dict[str, Any] = {"id": "zstd"}
    max_abs_error: float | None = Field(None, gt=0)  # error-bounded mode: no decoded value further off
    # error-bounded mode: code each of these settings of the backend's rate knob (COIN: bpp budgets; COIN++: latent
    # bits), or every rung of its ladder ("ladder"), and keep the smallest file
    bpp_search: list[float] | Literal["ladder"] | None = None
    seed: int = 0
    device: str = "cpu"  # chunks are small: the CPU is usually the right place


@functools.lru_cache(maxsize=1)
def _host() -> PluginHost:
    return PluginHost()


@functools.lru_cache(maxsize=32)
def _codec(config_json: str) -> Codec:
    cfg = ArchiveConfig.model_validate_json(config_json)
    host = _host()
    return Codec(host.create("modality", "ndarray"), host.create("backend", cfg.backend),
                 host.create("quantizer", cfg.quantizer), host.create("entropy", cfg.entropy),
                 resolve_device(cfg.device), cfg.seed, cfg.max_abs_error)


def canonical(config: dict[str, Any]) -> str:
    """Validated, defaults filled, stable key order: the cache key and the stored config."""
    return json.dumps(ArchiveConfig.model_validate(config).model_dump(mode="json"), sort_keys=True)


def encode_array(array: np.ndarray, config_json: str) -> bytes:
    codec = _codec(config_json)
    signal = codec.modality.from_array(np.ascontiguousarray(array))
    search = json.loads(config_json)["bpp_search"]
    if search:
        return smallest_bounded(codec, signal, None if search == "ladder" else search)[0].data
    return codec.encode(signal).data


def decode_array(data: bytes) -> np.ndarray:
    return decode(bytes(data), _host()).signal.data
