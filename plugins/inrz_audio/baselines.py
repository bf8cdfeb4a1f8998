"""MP3, Opus, Vorbis and FLAC through soundfile: the classical codecs inrz audio is compared with.

Lossy codecs are driven by libsndfile's `compression_level` (0 = largest file, 1 = smallest),
mapped from quality 0..100 so `Baseline.at_size` can bisect it to a byte budget. A codec that
accepts only some sample rates (Opus: 8/12/16/24/48 kHz; MP3: the MPEG rates) codes the
signal resampled (band-limited, by FFT) to the next rate it accepts and resamples the decode
back, as `opusenc` does, so every rate is compared and the resampling counts against it.
FLAC ignores the budget: it is the lossless size reference.
"""
from __future__ import annotations

import io
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from inrz import Baseline, BaselineResult, ComponentConfig, MissingDependencyError, Signal

from .modality import AudioError, from_unit, sf, to_unit, writable

MPEG_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
#: samples LAME (576) + mpg123 (529) add in front when a frame is too small for the gapless tag
MP3_DELAY = 1105


def subtype_available(fmt: str, subtype: str) -> str | None:
    """None if this libsndfile writes `fmt`/`subtype`, else why not."""
    try:
        soundfile = sf()
    except MissingDependencyError as exc:
        return str(exc)
    if subtype not in soundfile.available_subtypes(fmt):
        return (f"libsndfile {soundfile.__libsndfile_version__} was built without {fmt}/{subtype}; install "
                "soundfile >= 0.12 (its wheels bundle libsndfile >= 1.1 with MP3 and Opus)")
    return None


def resample(x: np.ndarray, frames: int) -> np.ndarray:
    """Band-limited resampling of `(n, C)` to `frames` rows by zero-padding/truncating the spectrum."""
    if frames == len(x):
        return x
    spectrum = np.fft.rfft(x, axis=0)
    out = np.zeros((frames // 2 + 1, x.shape[1]), complex)
    keep = min(len(spectrum), len(out))
    out[:keep] = spectrum[:keep]
    return np.fft.irfft(out, frames, axis=0) * (frames / len(x))


def libsndfile_version() -> str | None:
    """'libsndfile 1.2.2 via soundfile 0.14.0' (None without soundfile): every codec here is libsndfile's."""
    try:
        module = sf()
    except MissingDependencyError:
        return None
    return f"libsndfile {module.__libsndfile_version__} via soundfile {module.__version__}"


class LossyBaseline(Baseline):
    """A libsndfile lossy codec bisected through compression_level = (100 - quality) / 100 * max_level."""

    modalities = ("audio",)
    quality_range = (0, 100)
    format: ClassVar[str] = ""
    subtype: ClassVar[str] = ""
    rates: ClassVar[tuple[int, ...]] = ()  # sample rates the codec takes (empty: any)
    max_channels: ClassVar[int] = 8
    max_level: ClassVar[float] = 1.0  # LAME refuses compression_level 1.0

    @classmethod
    def available(cls) -> str | None:
        return subtype_available(cls.format, cls.subtype)

    @classmethod
    def library(cls) -> str | None:
        return libsndfile_version()

    def coding_rate(self, samplerate: int) -> int:
        if not self.rates or samplerate in self.rates:
            return samplerate
        return next((r for r in self.rates if r > samplerate), self.rates[-1])

    def encode(self, signal: Signal, quality: int) -> bytes:
        meta = signal.meta
        if meta["channels"] > self.max_channels:
            raise AudioError(f"{self.id} codes at most {self.max_channels} channels, the signal has {meta['channels']}")
        rate = self.coding_rate(meta["samplerate"])
        data = writable(signal.data, meta) if rate == meta["samplerate"] else \
            resample(to_unit(signal.data, meta), round(len(signal.data) * rate / meta["samplerate"]))
        out = io.BytesIO()
        sf().write(out, data, rate, format=self.format, subtype=self.subtype, **self.options(quality))
        return out.getvalue()

    def options(self, quality: int) -> dict:
        lo, hi = self.quality_range
        return {"compression_level": (hi - quality) / (hi - lo) * self.max_level}

    def decode(self, data: bytes, original: Signal) -> Signal:
        meta = original.meta
        x, rate = sf().read(io.BytesIO(data), dtype="float64", always_2d=True)
        x = self.align(x, round(meta["frames"] * rate / meta["samplerate"]))
        x = resample(x, meta["frames"]) if rate != meta["samplerate"] else x
        return Signal(from_unit(x, meta), dict(meta))

    def align(self, x: np.ndarray, frames: int) -> np.ndarray:
        """Exactly `frames` rows: drop the codec's delay if the decoder kept it, pad with silence if short."""
        return np.pad(x[:frames], [(0, max(0, frames - len(x))), (0, 0)])


class Mp3Config(ComponentConfig):
    # CONSTANT spans 8-160 kbps at 16 kHz; VARIABLE only ~23-60 kbps there
    bitrate_mode: Literal["CONSTANT", "AVERAGE", "VARIABLE"] = "CONSTANT"


class Mp3(LossyBaseline):
    """MP3 (LAME via libsndfile); constant bitrate reaches the lowest rates (8 kbps at 16 kHz)."""

    id = "mp3"
    Config: ClassVar = Mp3Config
    format, subtype, rates, max_channels, max_level = "MP3", "MPEG_LAYER_III", MPEG_RATES, 2, 0.99

    def options(self, quality: int) -> dict:
        return {**super().options(quality), "bitrate_mode": self.config.bitrate_mode}

    def align(self, x: np.ndarray, frames: int) -> np.ndarray:
        start = MP3_DELAY if len(x) >= frames + MP3_DELAY else 0  # no gapless tag: the decoder kept the delay
        return super().align(x[start:], frames)


class Opus(LossyBaseline):
    """Opus in Ogg (libopus via libsndfile); other rates are resampled to the next Opus rate."""

    id = "opus"
    format, subtype, rates, max_channels = "OGG", "OPUS", OPUS_RATES, 8


class Vorbis(LossyBaseline):
    """Ogg Vorbis (libvorbis via libsndfile); its quality floor is ~35 kbps at 16 kHz."""

    id = "vorbis"
    format, subtype, max_channels = "OGG", "VORBIS", 8


class FlacConfig(ComponentConfig):
    level: float = Field(1.0, ge=0, le=1)  # libsndfile compression_level: 1.0 = FLAC level 8 (smallest)


class Flac(Baseline):
    """Lossless FLAC at its best compression: the size any lossy rate should be read against.

    Ignores the byte budget. 16-bit and <= 24-bit integer audio is exact; float or 32-bit audio
    is stored at 24 bits, the most FLAC holds (near-lossless, and said so by its metrics).
    """

    id = "flac"
    Config: ClassVar = FlacConfig
    modalities = ("audio",)
    quality_range = (0, 0)

    @classmethod
    def available(cls) -> str | None:
        return subtype_available("FLAC", "PCM_24")

    @classmethod
    def library(cls) -> str | None:
        return libsndfile_version()

    def encode(self, signal: Signal, quality: int) -> bytes:
        meta = signal.meta
        exact16 = signal.data.dtype == np.int16
        data = signal.data if exact16 else np.rint(np.clip(to_unit(signal.data, meta), -1, 1 - 2**-23) * 2**23)
        data = data if exact16 else (data.astype(np.int32) << 8)  # 24-bit values, left-justified for libsndfile
        out = io.BytesIO()
        sf().write(out, data, meta["samplerate"], format="FLAC", subtype="PCM_16" if exact16 else "PCM_24",
                   compression_level=self.config.level)
        return out.getvalue()

    def decode(self, data: bytes, original: Signal) -> Signal:
        x, _ = sf().read(io.BytesIO(data), dtype="float64", always_2d=True)
        return Signal(from_unit(x, original.meta), dict(original.meta))

    def at_size(self, signal: Signal, target_bytes: int) -> BaselineResult:
        data = self.encode(signal, 0)
        return BaselineResult(data, self.decode(data, signal), 0)
