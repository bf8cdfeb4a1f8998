"""HEVC intra (the codec inside BPG and HEIC): x265 through libheif's Python binding
`pillow-heif`, 4:4:4 at x265's `veryslow` preset unless set. Files are HEIF containers, so
the ~300 bytes of box overhead count, as they would for a user's file (BPG's header is smaller;
at 0.2 bpp on a 768x512 image the difference is ~3 % of the rate).
"""
from __future__ import annotations

import io
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from inrz import Baseline, MissingDependencyError, ComponentConfig, Signal, require

from .modality import ImageError, check_array


def heif():
    return require("pillow_heif", "image")


class HevcConfig(ComponentConfig):
    preset: Literal["medium", "slow", "slower", "veryslow", "placebo"] = "veryslow"  # x265 effort
    subsampling: Literal["4:4:4", "4:2:0"] = "4:4:4"  # chroma


class Hevc(Baseline):
    """HEVC intra via libheif/x265 (pillow-heif), quality 0..100 (libheif's mapping onto x265's CRF)."""

    id = "hevc"
    Config: ClassVar = HevcConfig
    modalities = ("image",)
    quality_range = (0, 100)

    @classmethod
    def available(cls) -> str | None:
        try:
            module = heif()
        except MissingDependencyError as exc:
            return str(exc)
        if "x265" not in module.libheif_info().get("encoders", {}):
            return "pillow-heif was built without the x265 encoder; install a wheel that includes it"
        return None

    @classmethod
    def library(cls) -> str | None:
        try:
            module = heif()
        except MissingDependencyError:
            return None
        info = module.libheif_info()
        return f"{info['encoders'].get('x265', 'x265')} via libheif {info['libheif']}, pillow-heif {module.__version__}"

    def encode(self, signal: Signal, quality: int) -> bytes:
        data = check_array(signal.data)
        if data.dtype != np.uint8 or data.shape[-1] != 3:
            raise ImageError(f"hevc baseline cannot code {data.dtype} images with {data.shape[-1]} channels; "
                             "it supports 8-bit RGB")
        image = heif().from_bytes(mode="RGB", size=(data.shape[1], data.shape[0]), data=np.ascontiguousarray(data).tobytes())
        out = io.BytesIO()
        image.save(out, quality=quality, chroma=self.config.subsampling.replace(":", "")[:3],
                   enc_params={"preset": self.config.preset})
        return out.getvalue()

    def decode(self, data: bytes, original: Signal) -> Signal:
        decoded = np.asarray(heif().open_heif(io.BytesIO(data), convert_hdr_to_8bit=True))
        if decoded.shape != original.data.shape:
            raise ImageError(f"hevc decoded shape {decoded.shape}, expected {original.data.shape}")
        return Signal(decoded.astype(original.data.dtype), dict(original.meta))
