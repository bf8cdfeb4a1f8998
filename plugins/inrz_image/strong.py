"""AVIF, JPEG XL and JPEG 2000 at the settings a user who wants the smallest file runs, through
`imagecodecs` (one wheel that carries libavif with aom, libjxl and OpenJPEG, so every machine
codes with the same library versions).

Why not Pillow: its AVIF plugin writes 4:2:0 at speed 4 by default, and its JPEG 2000 writer
never applies the colour transform unless told; on the README's main job (kodim01-04 at
0.21 bpp) that undercounted AVIF by 0.3 dB and JPEG 2000 by 1.6 dB. Each codec here is
bisected on a fine knob (see `quality_range`), so the match to a file's size costs it nothing
measurable:

- AVIF: libavif's quality 0..100 (aom's 64 quantizers), 4:4:4, speed 2 (a spec setting).
- JPEG XL: the Butteraugli distance, 1,000 geometric steps from 25 down to 0.05, effort 7.
- JPEG 2000: OpenJPEG's PSNR-targeted rate allocation, in 0.05 dB steps, 9/7 wavelet with
  the multi-component (colour) transform, raw codestream (no JP2 boxes).
"""
from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from inrz import Baseline, ComponentConfig, MissingDependencyError, Signal, require

from .modality import ImageError, check_array


def imagecodecs():
    return require("imagecodecs", "image")


def codec_missing(name: str, library: str) -> str | None:
    """None if imagecodecs is installed with codec `name` (`imagecodecs.AVIF`, ...), else why not."""
    try:
        module = imagecodecs()
    except MissingDependencyError as exc:
        return str(exc)
    codec = getattr(module, name, None)
    if codec is None or not codec.available:
        return f"imagecodecs {module.__version__} was built without {library}; install a wheel that includes it"
    return None


def library_version(key: str, label: str) -> str | None:
    """'libavif 1.4.0 via imagecodecs 2026.3.6', from imagecodecs' own version table."""
    try:
        module = imagecodecs()
    except MissingDependencyError:
        return None
    found = module.version(dict).get(key)
    return f"{label} {found or 'unknown version'} via imagecodecs {module.__version__}"


class ArrayCodecBaseline(Baseline):
    """Shared plumbing: the signal's `(H, W, C)` array -> bytes -> the same shape and dtype."""

    modalities = ("image",)
    #: channel counts (and dtypes) the codec stores; others raise `ImageError`
    channels: ClassVar[tuple[int, ...]] = (1, 3, 4)
    dtypes: ClassVar[tuple[str, ...]] = ("uint8",)

    def pixels(self, signal: Signal) -> np.ndarray:
        data = check_array(signal.data)
        if data.shape[-1] not in self.channels or data.dtype.name not in self.dtypes:
            raise ImageError(f"{self.id} baseline cannot code {data.dtype} images with {data.shape[-1]} channels; "
                             f"it supports {', '.join(self.dtypes)} with {self.channels} channels")
        return np.ascontiguousarray(data[..., 0] if data.shape[-1] == 1 else data)

    def encode(self, signal: Signal, quality: int) -> bytes:
        return bytes(self.encode_array(self.pixels(signal), quality))

    def encode_array(self, pixels: np.ndarray, quality: int) -> bytes:
        raise NotImplementedError

    def decode_array(self, data: bytes) -> np.ndarray:
        raise NotImplementedError

    def decode(self, data: bytes, original: Signal) -> Signal:
        return self.decode_pixels(np.asarray(self.decode_array(data)), original)

    def decode_pixels(self, decoded: np.ndarray, original: Signal) -> Signal:
        """Decoded pixels as a signal of the original's shape and dtype (refused if they differ)."""
        shape, dtype = original.data.shape, original.data.dtype
        if decoded.ndim == 2:
            decoded = decoded[..., None]
        if decoded.shape[:2] + (decoded.shape[-1],) != tuple(shape[:2]) + (check_array(original.data).shape[-1],):
            raise ImageError(f"{self.id} decoded shape {decoded.shape}, expected {shape}")
        return Signal(decoded.astype(dtype).reshape(shape), dict(original.meta))


class AvifConfig(ComponentConfig):
    speed: int = Field(2, ge=0, le=10)  # aom's effort: 0 slowest and smallest; 2 is CompressAI-class slow
    subsampling: Literal["4:4:4", "4:2:2", "4:2:0"] = "4:4:4"  # chroma (4:4:4: what PSNR on RGB rewards)


class Avif(ArrayCodecBaseline):
    """AVIF (AV1 intra) with libavif and the aom encoder, 4:4:4 and speed 2 unless set."""

    id = "avif"
    Config: ClassVar = AvifConfig
    quality_range = (0, 100)
    version = 4  # 4: greyscale coded lossy (3 coded it losslessly); 3: imagecodecs, aom, 4:4:4, speed 2
    channels = (1, 3, 4)

    @classmethod
    def available(cls) -> str | None:
        return codec_missing("AVIF", "libavif")

    @classmethod
    def library(cls) -> str | None:
        return library_version("libavif", "libavif (aom encoder)")

    def at_size(self, signal: Signal, target_bytes: int, guess: int | None = None):
        """Bisect at a fast speed for a guess, then walk from it at the configured speed: ~3
        slow encodes instead of ~7 (the answer is the same as a bisection at the slow speed
        wherever size grows with quality, which a test checks)."""
        if guess is None and self.config.speed < self.GUESS_SPEED:
            fast = type(self)({**self.get_config(), "speed": self.GUESS_SPEED})
            guess = fast.at_size(signal, target_bytes).quality
        return super().at_size(signal, target_bytes, guess)

    GUESS_SPEED: ClassVar[int] = 8

    def encode_array(self, pixels: np.ndarray, quality: int) -> bytes:
        ic = imagecodecs()
        formats = {"4:4:4": ic.AVIF.PIXEL_FORMAT.YUV444, "4:2:2": ic.AVIF.PIXEL_FORMAT.YUV422,
                   "4:2:0": ic.AVIF.PIXEL_FORMAT.YUV420}
        fmt = formats[self.config.subsampling]
        if pixels.ndim == 2:  # monochrome AV1 (4:0:0). imagecodecs codes a 1-channel array losslessly
            # at every level; the grey plane given three times with the 4:0:0 format is coded at the level
            # asked and decodes to one channel
            pixels, fmt = np.repeat(pixels[..., None], 3, axis=2), ic.AVIF.PIXEL_FORMAT.YUV400
        return ic.avif_encode(pixels, level=quality, speed=self.config.speed, pixelformat=fmt,
                              codec=ic.AVIF.CODEC_CHOICE.AOM)

    def decode_array(self, data: bytes) -> np.ndarray:
        return imagecodecs().avif_decode(data)

    def decode(self, data: bytes, original: Signal) -> Signal:
        decoded = np.asarray(self.decode_array(data))
        if check_array(original.data).shape[-1] == 1 and decoded.ndim == 3 and decoded.shape[-1] == 3:
            decoded = decoded[..., 0]  # coded 4:0:0: imagecodecs may return it as three equal planes (small images)
        return self.decode_pixels(decoded, original)


class JpegXlConfig(ComponentConfig):
    effort: int = Field(7, ge=1, le=10)  # libjxl's default effort; 9-10 buy < 1 % at many times the time
    max_distance: float = Field(25.0, gt=0)  # Butteraugli distance at quality 0 (the smallest file)
    min_distance: float = Field(0.05, gt=0)  # ... and at the highest quality


class JpegXl(ArrayCodecBaseline):
    """JPEG XL (libjxl, VarDCT), the Butteraugli distance as the knob in 1,000 geometric steps."""

    id = "jpegxl"
    Config: ClassVar = JpegXlConfig
    quality_range = (0, 1000)
    channels = (1, 3, 4)
    dtypes = ("uint8", "uint16")

    @classmethod
    def available(cls) -> str | None:
        return codec_missing("JPEGXL", "libjxl")

    @classmethod
    def library(cls) -> str | None:
        return library_version("libjxl", "libjxl")

    def distance(self, quality: int) -> float:
        lo, hi = self.quality_range
        c = self.config
        return float(c.max_distance * (c.min_distance / c.max_distance) ** ((quality - lo) / (hi - lo)))

    def encode_array(self, pixels: np.ndarray, quality: int) -> bytes:
        return imagecodecs().jpegxl_encode(pixels, distance=self.distance(quality), effort=self.config.effort)

    def decode_array(self, data: bytes) -> np.ndarray:
        return imagecodecs().jpegxl_decode(data)


class Jpeg2000Config(ComponentConfig):
    colour_transform: bool = True  # the multi-component transform (RGB -> YCbCr) on 3-channel images
    irreversible: bool = True  # the lossy 9/7 wavelet (False: the reversible 5/3 one)
    min_psnr: float = Field(12.0, gt=0)  # OpenJPEG's target PSNR (dB) at the lowest quality
    step: float = Field(0.05, gt=0)  # dB per quality step: 1,000 steps up to min_psnr + 50 dB


class Jpeg2000(ArrayCodecBaseline):
    """JPEG 2000 (OpenJPEG) with the colour transform; the knob is the target PSNR of its rate
    allocation in 0.05 dB steps (a raw J2K codestream, every byte counted)."""

    id = "jpeg2000"
    Config: ClassVar = Jpeg2000Config
    quality_range = (0, 1000)
    version = 3  # 3: imagecodecs/OpenJPEG with the colour transform (2: Pillow, no transform)
    channels = (1, 2, 3, 4)
    dtypes = ("uint8", "uint16")

    @classmethod
    def available(cls) -> str | None:
        return codec_missing("JPEG2K", "OpenJPEG")

    @classmethod
    def library(cls) -> str | None:
        return library_version("openjpeg", "OpenJPEG")

    def encode_array(self, pixels: np.ndarray, quality: int) -> bytes:
        c = self.config
        # OpenJPEG needs each side >= 2**(resolutions - 1); 6 levels is its default for large images
        levels = int(min(6, 1 + np.floor(np.log2(max(1, min(pixels.shape[:2]))))))
        options: dict[str, Any] = {"codecformat": "J2K", "reversible": not c.irreversible, "resolutions": levels,
                                   "mct": bool(c.colour_transform and pixels.ndim == 3 and pixels.shape[-1] >= 3)}
        return imagecodecs().jpeg2k_encode(pixels, level=c.min_psnr + c.step * quality, **options)

    def decode_array(self, data: bytes) -> np.ndarray:
        return imagecodecs().jpeg2k_decode(data)
