"""Audio through soundfile (libsndfile): every format it reads, any rate, any channel count.

A signal is `(frames, channels)` in a *native* dtype chosen from the file's subtype, so that
`save` writes back exactly what was read:

- int16 for 8/16-bit PCM and the other integer codings libsndfile widens to 16 bits
  (u-law, A-law, ADPCM, GSM...);
- int32 holding values in the subtype's own range for 20/24/32-bit PCM (a PCM_24 sample is
  in [-2**23, 2**23), not libsndfile's left-justified int32);
- float32 for FLOAT and lossy sources (Vorbis, Opus, MP3), float64 for DOUBLE.

Grid is time (frames), features are channels: `(x / full_scale + 1) / 2` in [0, 1], the
COIN++ convention, so PSNR with peak = 2 * full_scale is the paper's PSNR on [0, 1]. Time is
a coordinate in [-coord_scale, coord_scale] (COIN++ uses [-5, 5]); patch-based backends ask
for one patch's coordinates, so every patch spans that interval.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np
from pydantic import Field

from inrz import (ComponentConfig, ContainerError, FormatChange, InrzError, Modality, Placement, Signal, fields,
                  grid_coordinates, missing, require)

#: subtypes read as int32, with their bit depth (values are shifted down to that range)
INT32_BITS = {"PCM_24": 24, "PCM_32": 32, "ALAC_20": 20, "ALAC_24": 24, "ALAC_32": 32, "DWVW_24": 24}
#: subtypes read as floats: the file holds floats, or a lossy codec decodes to them
FLOAT_SUBTYPES = {"FLOAT": "float32", "DOUBLE": "float64", "VORBIS": "float32", "OPUS": "float32",
                  "MPEG_LAYER_I": "float32", "MPEG_LAYER_II": "float32", "MPEG_LAYER_III": "float32"}
#: subtype written for an array of each dtype when the metadata names none
DEFAULT_SUBTYPES = {"int16": "PCM_16", "int32": "PCM_32", "float32": "FLOAT", "float64": "DOUBLE"}
#: file suffixes soundfile does not map to a format name by itself
SUFFIX_FORMATS = {".opus": ("OGG", "OPUS"), ".oga": ("OGG", None), ".aif": ("AIFF", None), ".snd": ("AU", None)}


class AudioError(InrzError):
    """An audio file or array cannot be read, wrapped or written."""


def sf():
    """The soundfile module, imported only when audio is touched."""
    return require("soundfile", "audio")


def native_dtype(subtype: str) -> str:
    if subtype in FLOAT_SUBTYPES:
        return FLOAT_SUBTYPES[subtype]
    return "int32" if subtype in INT32_BITS else "int16"


def full_scale(meta: dict[str, Any]) -> float:
    """The amplitude that maps to 1.0: 2**(bits-1) for integers, 1.0 for floats."""
    dtype = meta["dtype"]
    if dtype.startswith("float"):
        return 1.0
    return float(2 ** (INT32_BITS.get(meta.get("subtype", ""), 32) - 1)) if dtype == "int32" else 32768.0


def to_unit(data: np.ndarray, meta: dict[str, Any]) -> np.ndarray:
    """Amplitudes as float64 in [-1, 1] (floats may exceed it)."""
    return data.astype(np.float64) / full_scale(meta)


def from_unit(x: np.ndarray, meta: dict[str, Any]) -> np.ndarray:
    """Inverse of `to_unit` in the native dtype: integers are rounded and clipped to their range."""
    if meta["dtype"].startswith("float"):
        return x.astype(meta["dtype"])
    scale = full_scale(meta)
    return np.clip(np.rint(x * scale), -scale, scale - 1).astype(meta["dtype"])


def writable(data: np.ndarray, meta: dict[str, Any]) -> np.ndarray:
    """Samples as libsndfile takes them: int32 left-justified again, other dtypes as they are."""
    return data << (32 - INT32_BITS.get(meta["subtype"], 32)) if data.dtype == np.int32 else data


def audio_meta(data: np.ndarray, samplerate: int, subtype: str, fmt: str) -> dict[str, Any]:
    return {"samplerate": int(samplerate), "channels": int(data.shape[1]), "frames": int(data.shape[0]),
            "subtype": subtype, "format": fmt, "dtype": data.dtype.name}


def check_array(array: np.ndarray, meta: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
    """`(frames,)` or `(frames, channels)` int16/int32/float32/float64 with a samplerate in `meta`."""
    data = np.asarray(array)
    data = data[:, None] if data.ndim == 1 else data
    if data.ndim != 2 or 0 in data.shape or data.dtype.name not in DEFAULT_SUBTYPES:
        raise AudioError(f"audio arrays must be (frames,) or (frames, channels), non-empty, of dtype int16, int32, "
                         f"float32 or float64; got {data.dtype} {tuple(np.shape(array))}")
    if not isinstance(meta.get("samplerate"), (int, np.integer)) or meta["samplerate"] <= 0:
        raise AudioError("audio arrays need meta={'samplerate': <Hz>}, e.g. from_array(x, {'samplerate': 16000})")
    subtype = meta.get("subtype") or DEFAULT_SUBTYPES[data.dtype.name]
    if native_dtype(subtype) != data.dtype.name:
        raise AudioError(f"subtype {subtype} is stored as {native_dtype(subtype)} arrays, got {data.dtype}")
    out = {**meta, **audio_meta(data, meta["samplerate"], subtype, meta.get("format") or "WAV")}
    scale = full_scale(out)
    if data.dtype == np.int32 and data.size and (data.min() < -scale or data.max() > scale - 1):
        raise AudioError(f"{subtype} samples must lie in [{-scale:.0f}, {scale - 1:.0f}]")
    return data, out


class AudioConfig(ComponentConfig):
    coord_scale: float = Field(5.0, gt=0, le=1e6)  # time coordinates span [-coord_scale, coord_scale] (COIN++: 5)
    first_seconds: float | None = Field(None, gt=0)  # read only the start of each file (COIN++: 3 s)


class AudioModality(Modality):
    """Audio as `(frames, channels)` arrays in the file's native dtype; see the module docstring."""

    id = "audio"
    Config: ClassVar = AudioConfig
    extensions = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".au", ".caf", ".w64")
    unit = "sample"
    default_metrics = ("psnr", "snr")

    @classmethod
    def available(cls) -> str | None:
        return missing("soundfile", "audio")

    @classmethod
    def example_signal(cls) -> Signal:
        from .example import example_samples

        data = example_samples()
        return Signal(data, audio_meta(data, 16000, "PCM_16", "WAV"))

    def load(self, path: str | Path) -> Signal:
        soundfile = sf()
        try:
            info = soundfile.info(str(path))
            frames = -1 if self.config.first_seconds is None else round(self.config.first_seconds * info.samplerate)
            dtype = native_dtype(info.subtype)
            data, rate = soundfile.read(str(path), frames=frames, dtype=dtype, always_2d=True)
        except (OSError, RuntimeError) as exc:  # LibsndfileError is a RuntimeError
            raise AudioError(f"cannot read audio {path}: {exc}") from exc
        if dtype == "int32":
            data = data >> (32 - INT32_BITS[info.subtype])  # libsndfile left-justifies; keep the true range
        return Signal(np.ascontiguousarray(data), audio_meta(data, rate, info.subtype, info.format))

    def save(self, signal: Signal, path: str | Path) -> None:
        """Write the format the suffix names (the original's if it names none), keeping the subtype if it fits."""
        soundfile, meta = sf(), signal.meta
        fmt, subtype = self._format_for(Path(path), meta)
        try:
            soundfile.write(str(path), writable(signal.data, meta), meta["samplerate"], subtype=subtype, format=fmt)
        except (OSError, RuntimeError, ValueError, TypeError) as exc:
            raise AudioError(f"cannot write {meta['subtype']} audio as {fmt}/{subtype} to {path}: {exc}") from exc

    def _format_for(self, path: Path, meta: dict[str, Any]) -> tuple[str, str]:
        soundfile = sf()
        fmt, subtype = SUFFIX_FORMATS.get(path.suffix.lower(), (path.suffix[1:].upper(), None))
        if fmt not in soundfile.available_formats():
            fmt = meta.get("format", "WAV")
        for candidate in (subtype, meta.get("subtype"), DEFAULT_SUBTYPES[meta["dtype"]]):
            if candidate and soundfile.check_format(fmt, candidate):
                return fmt, candidate
        return fmt, soundfile.default_subtype(fmt)

    def from_array(self, array: np.ndarray, meta: dict[str, Any] | None = None) -> Signal:
        """Wrap `(frames,)` or `(frames, channels)` samples; `meta` needs `samplerate`, may name subtype and format."""
        data, out = check_array(array, dict(meta or {}))
        return Signal(data, out)

    def to_features(self, signal: Signal) -> tuple[np.ndarray, dict[str, Any]]:
        """`(x / scale + 1) / 2`; float data beyond [-1, 1] widens `scale` so features stay in [0, 1]."""
        scale = full_scale(signal.meta)
        if signal.data.dtype.kind == "f" and signal.data.size:
            scale = max(scale, float(np.max(np.abs(signal.data))))
        features = (signal.data.astype(np.float64) / scale + 1.0) / 2.0
        return features.astype(np.float32), {"scale": scale}

    def from_features(self, features: np.ndarray, meta: dict[str, Any], norm: dict[str, Any]) -> Signal:
        """Clamp to [0, 1], scale back, round to the native dtype; frames follow `features` (renders may resize)."""
        if features.ndim != 2 or features.shape[-1] != meta["channels"]:
            raise AudioError(f"expected features (frames, {meta['channels']}), got shape {tuple(features.shape)}")
        x = (np.clip(features.astype(np.float64), 0.0, 1.0) * 2.0 - 1.0) * (norm["scale"] / full_scale(meta))
        data = from_unit(x, meta)
        return Signal(data, {**meta, "frames": int(data.shape[0])})

    def check_header(self, meta, norm, grid_shape, d_out) -> None:
        """One time axis of `frames`, `channels` = d_out, a native dtype and subtype, a positive rate and scale."""
        frames = fields.number(meta, "frames", "meta", integer=True, positive=True)
        channels = fields.number(meta, "channels", "meta", integer=True, positive=True)
        if list(grid_shape) != [frames] or channels != d_out:
            raise ContainerError(f"header meta (frames {frames}, channels {channels}) does not fit grid "
                                 f"{list(grid_shape)} with {d_out} channels")
        fields.number(meta, "samplerate", "meta", integer=True, positive=True, hi=2**31 - 1)
        dtype = fields.dtype(meta, "dtype", "meta", allowed=DEFAULT_SUBTYPES)
        subtype = fields.text(meta, "subtype", "meta")
        fields.text(meta, "format", "meta")
        if native_dtype(subtype) != dtype.name:
            raise ContainerError(f"header meta.subtype {subtype!r} is not stored as {dtype.name}")
        if dtype.kind == "f":  # the full scale (1.0), widened to the loudest sample when floats exceed it
            fields.number(norm, "scale", "norm", lo=1.0, hi=float(np.finfo(dtype).max))
        elif fields.number(norm, "scale", "norm") != full_scale(meta):  # integers: always their full scale
            raise ContainerError(f"header norm.scale must be {full_scale(meta):g}, the full scale of {subtype}")

    def coordinates(self, grid_shape: Sequence[int], region: Sequence[tuple[float, float]] | None = None,
                    meta: dict[str, Any] | None = None) -> np.ndarray:
        return grid_coordinates(grid_shape, region) * np.float32(self.config.coord_scale)

    def resized_meta(self, meta: dict[str, Any], grid_shape: Sequence[int],
                     placement: Sequence[Placement] | None = None) -> dict[str, Any]:
        """A rendering keeps its span of time: `--scale 2` doubles the sample rate (same duration),
        a region starts `start_seconds` into the original (the first rendered sample's time)."""
        frames = int(grid_shape[0])
        start = placement[0].start if placement else 0.0
        span = (placement[0].step * (frames - 1) + 1) if placement and frames > 1 else meta["frames"]
        out = {**meta, "frames": frames, "samplerate": max(1, round(meta["samplerate"] * frames / span))}
        if start:
            out["start_seconds"] = meta.get("start_seconds", 0.0) + start / meta["samplerate"]
        return out

    def axis_names(self, meta: dict[str, Any], ndim: int) -> tuple[str, ...]:
        return ("frame",)[:ndim] or super().axis_names(meta, ndim)

    def format_change(self, meta: dict[str, Any], path: str | Path) -> FormatChange | None:
        """Another container or subtype than the original's; lossy when the target codes lossily."""
        fmt, subtype = self._format_for(Path(path), meta)
        if (fmt, subtype) == (meta.get("format"), meta.get("subtype")):
            return None
        return FormatChange(f"{meta.get('format')}/{meta.get('subtype')}", f"{fmt}/{subtype}",
                            lossy=subtype in FLOAT_SUBTYPES and subtype not in ("FLOAT", "DOUBLE"))

    def peak(self, meta: dict[str, Any]) -> float:
        """Twice the full scale: PSNR on native samples equals the paper's PSNR on [0, 1] features."""
        return 2.0 * full_scale(meta)

    def seconds(self, meta: dict[str, Any]) -> float:
        return meta["frames"] / meta["samplerate"]

    def kbps(self, num_bytes: int, meta: dict[str, Any]) -> float:
        """The rate in kilobits per second (= bits per sample * samplerate / 1000)."""
        return 8.0 * num_bytes / self.seconds(meta) / 1000.0

    def rate_figures(self, num_bytes: int, meta: dict[str, Any]) -> dict[str, float]:
        return {"kbps": self.kbps(num_bytes, meta)}

    def rate_unit(self) -> tuple[str, str]:
        """Audio rates are read in kilobits per second."""
        return "kbps", "kbit/s"
