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
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..core.component import format_validation_error
from ..core.device import resolve_device
from ..core.errors import SpecError
from ..core.host import PluginHost
from ..pipeline.codec import Codec
from ..pipeline.defaults import codec_sections
from ..signal.ndarray import NdArray
from ..pipeline.decode import decode
from ..pipeline.sizesearch import smallest_bounded


_NDARRAY = codec_sections(NdArray())  # chunks are coded with the ndarray modality: its defaults are ours


class ArchiveConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # any pipeline (coinpp: + model)
    backend: dict[str, Any] = _NDARRAY["backend"]
    quantizer: dict[str, Any] = _NDARRAY["quantizer"]
    entropy: dict[str, Any] = _NDARRAY["entropy"]
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
    return Codec.from_sections(host, host.create("modality", "ndarray"), cfg.model_dump(), resolve_device(cfg.device),
                               cfg.seed, cfg.max_abs_error)


def canonical(config: dict[str, Any]) -> str:
    """Validated, defaults filled, stable key order: the cache key and the stored config.
    A typo is a `SpecError` naming the field and the settings there are."""
    try:
        checked = ArchiveConfig.model_validate(config)
    except ValidationError as exc:
        raise SpecError(f"{format_validation_error(exc, prefix='inrz codec config')}; settings: "
                        f"{', '.join(ArchiveConfig.model_fields)}") from exc
    return json.dumps(checked.model_dump(mode="json"), sort_keys=True)


def encode_array(array: np.ndarray, config_json: str) -> bytes:
    codec = _codec(config_json)
    signal = codec.modality.from_array(np.ascontiguousarray(array))
    search = json.loads(config_json)["bpp_search"]
    if search:
        return smallest_bounded(codec, signal, None if search == "ladder" else search)[0].data
    return codec.encode(signal).data


def decode_array(data: bytes) -> np.ndarray:
    return decode(bytes(data), _host()).signal.data
