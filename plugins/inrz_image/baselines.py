"""JPEG and WebP through Pillow (libjpeg-turbo, libwebp), at their strongest common settings:
JPEG 4:2:0 with optimised Huffman tables, WebP at method 6 with a fractional quality. AVIF,
JPEG XL and JPEG 2000 live in `strong` (imagecodecs), HEVC in `hevc` (pillow-heif).

Each codec writes to memory and counts every byte it produced. Decoding converts back to the
original's mode, so metrics compare like with like. JPEG and WebP are 8-bit formats: a 16-bit
image raises `ImageError` rather than being quietly reduced to 8 bits (which would flatter them).
"""
from __future__ import annotations

import io
from typing import ClassVar, Literal

from pydantic import Field

from inrz import Baseline, ComponentConfig, MissingDependencyError, Signal, require

from .modality import ImageError, array_to_image, check_array, image_to_array, pil


def pillow_library(feature: str, label: str) -> str | None:
    """'libwebp 1.6.0 via Pillow 13.0.0' (None without Pillow)."""
    try:
        features, image = require("PIL.features", "image"), pil()
    except MissingDependencyError:
        return None
    return f"{label} {features.version(feature) or 'unknown version'} via Pillow {image.__version__}"


def pillow_feature(feature: str, library: str) -> str | None:
    """None if Pillow is installed with `feature` (a `PIL.features` name), else why not."""
    try:
        features = require("PIL.features", "image")
    except MissingDependencyError as exc:
        return str(exc)
    if not features.check(feature):
        return f"Pillow was built without {feature} support ({library}); install a Pillow wheel that includes it"
    return None


class PillowBaseline(Baseline):
    """Shared plumbing: signal -> Pillow image -> bytes, and back to the original's mode and shape."""

    modalities = ("image",)
    #: the Pillow format name given to `Image.save`
    format: ClassVar[str] = ""
    #: Pillow modes the codec stores (others raise `ImageError`)
    modes: ClassVar[tuple[str, ...]] = ()

    def encode(self, signal: Signal, quality: int) -> bytes:
        image = array_to_image(check_array(signal.data))
        if image.mode not in self.modes:
            raise ImageError(f"{self.id} baseline cannot code {image.mode!r} images ({signal.data.dtype}, "
                             f"{signal.data.shape[-1]} channels); it supports {', '.join(self.modes)}")
        out = io.BytesIO()
        image.save(out, format=self.format, **self.save_options(quality, image))
        return out.getvalue()

    def save_options(self, quality: int, image) -> dict:
        raise NotImplementedError

    def decode(self, data: bytes, original: Signal) -> Signal:
        target = array_to_image(check_array(original.data)).mode
        with pil().open(io.BytesIO(data)) as image:
            image = image if image.mode == target else image.convert(target)
            decoded = image_to_array(image).astype(original.data.dtype)
        decoded = decoded.reshape(decoded.shape[:2] + original.data.shape[2:])  # (H, W) originals stay 2-D
        if decoded.shape != original.data.shape:
            raise ImageError(f"{self.id} decoded shape {decoded.shape}, expected {original.data.shape}")
        return Signal(decoded, dict(original.meta))


class JpegConfig(ComponentConfig):
    subsampling: Literal["4:4:4", "4:2:2", "4:2:0"] = "4:2:0"  # chroma subsampling (libjpeg's default)
    optimize: bool = True  # optimised Huffman tables: smaller files, same pixels


class Jpeg(PillowBaseline):
    """Baseline JPEG (libjpeg via Pillow), quality 1..95 (above 95 libjpeg only wastes bytes)."""

    id = "jpeg"
    Config: ClassVar = JpegConfig
    quality_range = (1, 95)
    format = "JPEG"
    modes = ("L", "RGB")

    @classmethod
    def available(cls) -> str | None:
        return pillow_feature("jpg", "libjpeg")

    @classmethod
    def library(cls) -> str | None:
        return pillow_library("libjpeg_turbo", "libjpeg-turbo")

    def save_options(self, quality: int, image) -> dict:
        return {"quality": quality, "subsampling": self.config.subsampling, "optimize": self.config.optimize}


class WebpConfig(ComponentConfig):
    method: int = Field(6, ge=0, le=6)  # encoder effort: 6 is slowest and smallest


class Webp(PillowBaseline):
    """Lossy WebP (libwebp via Pillow); alpha is kept (coded losslessly). The quality is searched in
    tenths (0..1000 for libwebp's 0..100): libwebp takes a fractional quality, and its whole steps
    are too coarse at low rates to match a file's size (kodim01: 0.123 bpp at 0, 0.218 at 1)."""

    id = "webp"
    Config: ClassVar = WebpConfig
    quality_range = (0, 1000)
    version = 2
    format = "WEBP"
    modes = ("L", "LA", "RGB", "RGBA")

    @classmethod
    def available(cls) -> str | None:
        return pillow_feature("webp", "libwebp")

    @classmethod
    def library(cls) -> str | None:
        return pillow_library("webp", "libwebp")

    def save_options(self, quality: int, image) -> dict:
        return {"quality": quality / 10, "method": self.config.method, "lossless": False}
