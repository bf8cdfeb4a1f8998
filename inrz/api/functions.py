"""The Python API: arrays or paths in, bytes out, and back. No global state beyond the
default `PluginHost`; pass `host=` to use an isolated one.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from .. import container
from ..backends.base import Progress
from ..coding import specials
from ..coding.specials import Specials
from ..core import threads
from ..core.device import resolve_device
from ..core.errors import InrzError, SpecError
from ..host.manager import PluginHost, get_host
from ..pipeline.codec import Codec
from ..pipeline.decode import Decoded, decode
from ..pipeline.defaults import check_settings, codec_sections, rate_preset
from ..pipeline.limits import DecodeLimits
from ..pipeline.progress import progress_callback
from .reading import decompress, read_header  # re-exported: callers import them from here too
from ..pipeline.ratecontrol import encode_to_target
from ..runs.spec import Spec, load_spec
from ..signal import select
from ..signal.modality import Modality, Signal


def _host(host: PluginHost | None) -> PluginHost:
    return host or get_host()


def modality_for_path(path: str | Path, host: PluginHost | None = None) -> Modality:
    """The modality whose `extensions` end the file's name."""
    return select.modality_for_path(path, _host(host))


def codec_from_spec(spec: str | Path | Spec, overrides: list[str] = (), path_hint: str | Path | None = None,
                    device: str | None = None, host=None) -> Codec:
    """The codec a spec describes (its dataset is ignored)."""
    host = _host(host)
    if not isinstance(spec, Spec):
        spec = load_spec(spec, overrides, host)
    _refuse_untrained(spec)
    if spec.modality is not None:
        modality = host.create("modality", spec.modality)
    elif path_hint is not None:
        modality = modality_for_path(path_hint, host)
    else:
        raise InrzError("the spec sets no modality and there is no file to infer it from")
    return Codec.from_sections(host, modality, spec.model_dump(include={"backend", "quantizer", "entropy"}),
                               resolve_device(device or spec.device), spec.seed)


def _refuse_untrained(spec: Spec) -> None:
    """Coding never trains: a model the spec leaves to be trained (`model: auto`) is an error
    that says how to train it, ahead of every fit."""
    for section in ("backend", "quantizer", "entropy"):
        if getattr(spec, section).get("model") == "auto":
            raise SpecError(f"{section}.model: auto: compressing never trains a model; train it first with "
                            f"`inrz train SPEC` and put the hash it prints in the spec (`inrz run SPEC` trains it "
                            "for you)")


def codec_for(modality: Modality | str, *, preset: str | None = None, steps: int | None = None,
              backend: str | None = None, device: str = "auto", seed: int = 0, host=None,
              **settings: Any) -> Codec:
    """The modality's default pipeline (`Modality.default_codec()` over the core defaults), or a
    backend's fixed preset (COIN: `10x28`); `steps` and any other keyword set the backend's
    settings (`lr=`, `depth=`, ...); `backend` names another backend (`"c3"`: its defaults, and
    `preset` is then its preset). Rate presets (`0.3bpp`) are targets: give them to `compress`."""
    host = _host(host)
    if isinstance(modality, str):
        modality = host.create("modality", modality)
    if rate_preset(preset) is not None:
        raise SpecError(f"preset {preset!r} is a rate, met on each datum when encoding: use "
                        f"inrz.compress(..., preset={preset!r}) or target_bpp=; codec_for builds fixed configurations")
    sections = codec_sections(modality, preset, steps, settings, backend, host)
    check_settings(host, sections["backend"], {**settings, **({} if steps is None else {"steps": steps})})
    return Codec.from_sections(host, modality, sections, resolve_device(device), seed)


def codec_from_preset(preset: str, modality: Modality | str, steps: int | None = None, device: str = "auto",
                      seed: int = 0, host=None) -> Codec:
    """A backend's fixed preset (COIN's paper architectures by shape), with the modality's quantizer and entropy."""
    return codec_for(modality, preset=preset, steps=steps, device=device, seed=seed, host=host)


def with_settings(codec: Codec, settings: dict[str, Any], host) -> Codec:
    """The codec with backend settings replaced (`steps=` on a spec's codec), each checked by name."""
    if not settings:
        return codec
    check_settings(host, codec.backend.get_config(), settings)
    return dataclasses.replace(codec, backend=host.create("backend", {**codec.backend.get_config(), **settings}))


def compress(data: np.ndarray | str | Path, codec: Codec | None = None, *, spec: str | Path | None = None,
             preset: str | None = None, modality: str | None = None, meta: dict[str, Any] | None = None,
             max_abs_error: float | None = None, target_bpp: float | None = None, target_psnr: float | None = None,
             progress: Progress | bool | None = None, device: str | None = None, backend: str | None = None,
             host=None, **settings: Any) -> bytes:
    """An array (give `modality=`, e.g. "ndarray") or a file as `.inrz` bytes, by `codec`, a
    `spec`'s codec or the modality's default (`backend=`, a fixed `preset`). Backend settings
    are keywords (`steps=`); a rate `preset` ("0.3bpp"), `target_bpp` or `target_psnr` is met on
    this datum; `max_abs_error` bounds every value's error; NaN/Inf in arrays are kept exactly;
    `progress` is a callback `(step, total, figures)` or True. Never trains (see `inrz train`)."""
    host = _host(host)
    threads.configure()
    target_bpp = _rate_target(preset, target_bpp)
    codec = with_settings(_codec_of_call(data, codec, spec, preset, modality, backend, device, host), settings, host)
    if max_abs_error is not None:
        codec = dataclasses.replace(codec, max_abs_error=max_abs_error)
    signal, kept = _signal_of(data, codec.modality, meta)
    with progress_callback(progress) as callback:
        if target_bpp is None and target_psnr is None:
            return codec.encode(signal, callback, specials=kept).data
        if kept is not None:
            raise InrzError("rate targets are for arrays without NaN/Inf: fill them first, or use max_abs_error")
        return encode_to_target(codec, signal, bpp=target_bpp, psnr=target_psnr, host=host, progress=callback)[0].data


def _codec_of_call(data, codec: Codec | None, spec, preset: str | None, modality: str | None, backend: str | None,
                   device: str | None, host: PluginHost) -> Codec:
    """The codec a `compress` call names: its own, its spec's, or the modality's default."""
    is_path = isinstance(data, (str, Path))
    if backend is not None and (codec is not None or spec is not None):
        raise SpecError(f"backend={backend!r} picks the default codec's backend; a codec or spec names its own")
    if codec is not None:
        return codec
    if spec is not None:
        return codec_from_spec(spec, path_hint=data if is_path else None, device=device, host=host)
    if modality is None and not is_path:
        raise InrzError("compressing an array needs `modality=` (a registered modality id, e.g. 'ndarray'), "
                        "a spec or a codec")
    mod = host.create("modality", modality) if modality else modality_for_path(data, host)
    fixed = None if rate_preset(preset) is not None else preset
    return codec_for(mod, preset=fixed, backend=backend, device=device or "auto", host=host)


def _signal_of(data, modality: Modality, meta: dict[str, Any] | None) -> tuple[Signal, Specials | None]:
    """The signal to code, and an array's NaN and +-Inf, kept exactly outside the model."""
    if isinstance(data, (str, Path)):
        return modality.load(data), None
    array, kept = specials.split(np.asarray(data))
    signal = modality.from_array(array, meta)
    if kept is not None and signal.data.shape != array.shape:
        raise InrzError(f"modality {modality.id!r} reshapes the array, so its NaN/Inf values cannot be "
                        "kept in place: fill them first")
    return signal, kept


def _rate_target(preset: str | None, target_bpp: float | None) -> float | None:
    """A rate preset is a rate target; naming two different ones is an error."""
    rate = rate_preset(preset)
    if rate is not None and target_bpp is not None and rate != target_bpp:
        raise SpecError(f"preset {preset!r} and target_bpp={target_bpp} ask for two rates; give one")
    return target_bpp if rate is None else rate


__all__ = ["Codec", "Decoded", "codec_for", "codec_from_preset", "codec_from_spec", "compress", "decode",
           "decompress", "modality_for_path", "read_header", "with_settings"]
