"""JPEG, WebP, JPEG 2000 and AVIF through Pillow, the classical codecs inrz images are compared with.

Each codec writes to memory and counts every byte it produced (JPEG 2000 as a raw codestream,
without the JP2 box wrapper). Decoding converts back to the original's mode, so metrics
compare like with like. JPEG and WebP are 8-bit formats: a 16-bit image raises `ImageError`
rather than being quietly reduced to 8 bits (which would flatter them); JPEG 2000 codes
16-bit grayscale natively.
"""
from __future__ import annotations

import io
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from inrz import Baseline, ComponentConfig, MissingDependencyError, Signal, require

from .modality import ImageError, array_to_image, check_array, image_to_array, pil


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

    def save_options(self, quality: int, image) -> dict:
        return {"quality": quality / 10, "method": self.config.method, "lossless": False}


class Jpeg2000Config(ComponentConfig):
    irreversible: bool = True  # the lossy 9/7 wavelet (False: the reversible 5/3 one)
    max_ratio: float = Field(400.0, gt=1)  # compression ratio at the lowest quality
    min_ratio: float = Field(2.0, gt=1)  # compression ratio at the highest quality


class Jpeg2000(PillowBaseline):
    """JPEG 2000 (OpenJPEG via Pillow); quality 1..1000 maps geometrically onto a target ratio
    (steps of 0.5 % in size, so the match to a file's size costs it nothing measurable)."""

    id = "jpeg2000"
    Config: ClassVar = Jpeg2000Config
    quality_range = (1, 1000)
    version = 2
    format = "JPEG2000"
    modes = ("L", "LA", "RGB", "RGBA", "I;16")

    @classmethod
    def available(cls) -> str | None:
        return pillow_feature("jpg_2000", "OpenJPEG")

    def ratio(self, quality: int) -> float:
        """Raw size / coded size: max_ratio at the lowest quality down to min_ratio at the highest."""
        lo, hi = self.quality_range
        t = (quality - lo) / (hi - lo)
        return float(self.config.max_ratio * (self.config.min_ratio / self.config.max_ratio) ** t)

    def save_options(self, quality: int, image) -> dict:
        # OpenJPEG needs each side >= 2**(resolutions - 1); 6 levels is its default for large images
        levels = int(min(6, 1 + np.floor(np.log2(max(1, min(image.size))))))
        return {"quality_mode": "rates", "quality_layers": [self.ratio(quality)], "irreversible":
                self.config.irreversible, "num_resolutions": levels, "no_jp2": True}


class AvifConfig(ComponentConfig):
    speed: int = Field(4, ge=0, le=10)  # encoder effort (libavif): 0 is slowest and smallest, 10 fastest
    subsampling: Literal["4:4:4", "4:2:2", "4:2:0"] = "4:2:0"  # chroma subsampling (libavif's default)


class Avif(PillowBaseline):
    """AVIF (AV1 intra via libavif in Pillow), quality 0..100, where Pillow was built with it."""

    id = "avif"
    Config: ClassVar = AvifConfig
    quality_range = (0, 100)
    format = "AVIF"
    modes = ("L", "RGB", "RGBA")

    @classmethod
    def available(cls) -> str | None:
        return pillow_feature("avif", "libavif")

    def save_options(self, quality: int, image) -> dict:
        return {"quality": quality, "speed": self.config.speed, "subsampling": self.config.subsampling}
