"""What the numcodecs and zarr codecs share: one JSON config -> one inrz `Codec` for arrays.

A chunk is coded on its own with the `ndarray` modality and decodes without the config
(`inrz.archive.chunks`). Codecs are cached per config, so repeated chunks don't rebuild
components.
"""
from __future__ import annotations

import dataclasses
import functools
import json
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..core import threads
from ..core.component import format_validation_error
from ..core.device import resolve_device
from ..core.errors import SpecError
from ..host.manager import PluginHost
from ..pipeline.codec import Codec
from ..pipeline.defaults import codec_sections
from ..signal.ndarray import NdArray
from . import chunks
from .limits import FrameLimits

_NDARRAY = codec_sections(NdArray())  # chunks are coded with the ndarray modality: its defaults are ours


class ArchiveConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    # any pipeline (coinpp: + model)
    backend: dict[str, Any] = _NDARRAY["backend"]
    quantizer: dict[str, Any] = _NDARRAY["quantizer"]
    entropy: dict[str, Any] = _NDARRAY["entropy"]
    max_abs_error: float | None = Field(None, gt=0)  # error-bounded mode: no decoded value further off
    # error-bounded mode: code each of these settings of the backend's rate knob (COIN: bpp budgets; COIN++: latent
    # bits), or every rung of its ladder ("ladder"), and keep the smallest file (the residual alone always competes)
    bpp_search: list[float] | Literal["ladder"] | None = None
    # "fast": sized for throughput, no network is fitted (prediction + range coding of the residual alone);
    # "best": every rung of the backend's ladder, and the three likeliest residual predictors coded
    preset: Literal["fast", "best"] | None = None
    # how hard the residual's predictor is searched: "fast" (the default, and with preset fast) codes the ranked
    # predictor, or the multi-dimensional interpolation on a smooth chunk at a loose bound; "best" (the default with
    # preset best) codes the three likeliest, level-wise steps and the multi-dimensional interpolation and keeps the
    # smallest (inrz.coding.contest): smaller files, about a quarter of the encoding speed
    effort: Literal["fast", "best"] | None = None
    # seconds of encoding per call after which no further network rung is started (the one running
    # finishes); the best file so far is kept. Files then depend on the machine's speed. None: no limit
    time_budget_s: float | None = Field(None, gt=0)
    # values kept exactly besides NaN and +-Inf: CF `_FillValue` / `missing_value` (the zarr codec adds the array's)
    fill_values: list[float] = []
    seed: int = 0
    device: str = "cpu"  # chunks are small: the CPU is usually the right place

    def network(self) -> bool:
        """Whether chunks are fitted with the backend at all: only where the config asks for a
        network (preset best, a bpp_search, or a backend of its own), never by default. The
        estimate that gated the default's fits (archive.estimate) let some through on a 3-D
        benchmark grid (28 s of fitting for the residual's bytes) and no fitted network has won a
        chunk of benchmarks/archive.py's grids; it still gates the fits a config asks for."""
        if self.preset == "fast":
            return False
        return self.preset == "best" or self.bpp_search is not None or self.backend != _NDARRAY["backend"]

    def knobs(self) -> list[float] | str | None:
        return "ladder" if self.preset == "best" else self.bpp_search


@functools.lru_cache(maxsize=1)
def _host() -> PluginHost:
    return PluginHost(lazy=True)  # a chunk needs the ndarray modality and its backend, not every plugin


@functools.lru_cache(maxsize=32)
def _codec(config_json: str) -> tuple[ArchiveConfig, Codec]:
    cfg = ArchiveConfig.model_validate_json(config_json)
    host = _host()
    codec = Codec.from_sections(host, host.create("modality", "ndarray"), cfg.model_dump(), resolve_device(cfg.device),
                                cfg.seed, cfg.max_abs_error)
    return cfg, dataclasses.replace(codec, effort=cfg.effort or ("best" if cfg.preset == "best" else "fast"))


def canonical(config: dict[str, Any]) -> str:
    """Validated, defaults filled, stable key order: the cache key and the stored config.
    A typo is a `SpecError` naming the field and the settings there are."""
    try:
        checked = ArchiveConfig.model_validate(config)
    except ValidationError as exc:
        raise SpecError(f"{format_validation_error(exc, prefix='inrz codec config')}; settings: "
                        f"{', '.join(ArchiveConfig.model_fields)}") from exc
    return json.dumps(checked.model_dump(mode="json"), sort_keys=True)


def encode_array(array: np.ndarray, config_json: str, fill_values: tuple[float, ...] = ()) -> bytes:
    return encode_arrays([array], config_json, fill_values)[0]


def encode_arrays(arrays: list[np.ndarray], config_json: str, fill_values: tuple[float, ...] = ()) -> list[bytes]:
    """Many chunks at once: those of one shape are fitted together where the backend batches."""
    threads.configure()  # the CPUs this worker may use (a Dask worker's affinity or quota), once
    cfg, codec = _codec(config_json)
    return chunks.encode(arrays, codec, cfg.network(), cfg.knobs(), (*cfg.fill_values, *fill_values),
                         cfg.time_budget_s)


def decode_array(data: bytes, expected: int | None = None, dtype=None, limits: FrameLimits | None = None) -> np.ndarray:
    """`expected` and `dtype`: the chunk's number of values and dtype if known (zarr knows them,
    numcodecs does from `out=`): a chunk of other values is refused, not reinterpreted.
    `limits`: what a chunk may ask for (`inrz.archive.limits`; default from `INRZ_DECODE_LIMITS`)."""
    threads.configure()
    return chunks.decode(bytes(data), _host(), expected, dtype, limits)
