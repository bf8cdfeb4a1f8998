"""Classical codecs for volumes: JPEG and JPEG 2000 slice by slice (Pillow), and zstd of the
raw voxels as the lossless reference.

The slice codecs normalise the volume exactly as the `mri` modality does (clip at the same
percentile, scale `(lo, hi)` to [0, 1]), quantise to 8 bits (JPEG) or 16 bits (JPEG 2000 by
default), and code every 2-D slice along one axis with one shared quality, which
`Baseline.at_size` bisects to the rate of the inrz file. The byte string holds everything
the decoder needs: `lo` and `hi` (two float64), then per slice a LEB128 length and the
codestream; every byte is counted. 4-D volumes are coded as one slice per (position, time).
"""
from __future__ import annotations

import io
import struct
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from inrz import (Baseline, BaselineResult, ComponentConfig, MissingDependencyError, Signal, read_uvarint, require,
                  uvarint)

from .volume import denormalize, intensity_range, normalize


def pillow_feature(feature: str, library: str) -> str | None:
    """None if Pillow is installed with `feature` (a `PIL.features` name), else why not."""
    try:
        features = require("PIL.features", "image")
    except MissingDependencyError as exc:
        return str(exc)
    if not features.check(feature):
        return f"Pillow was built without {feature} support ({library}); install a Pillow wheel that includes it"
    return None


def slice_axis(shape, axis: int | None) -> int:
    """The spatial axis to slice along: `axis`, else the shortest (ties: the last), giving the fewest, largest slices."""
    if axis is not None:
        return axis
    spatial = list(shape[:3])
    return max(i for i, n in enumerate(spatial) if n == min(spatial))


def to_slices(volume: np.ndarray, axis: int) -> np.ndarray:
    """`(x, y, z[, t])` -> `(slices, p, q)`: one 2-D image per position along `axis` (and per time point)."""
    v = np.moveaxis(volume, axis, 0)  # (n, p, q, *rest)
    n, p, q = v.shape[:3]
    v = v.reshape(n, p, q, -1)  # (n, p, q, r)
    return np.ascontiguousarray(np.moveaxis(v, 3, 1).reshape(-1, p, q))  # (n * r, p, q)


def from_slices(slices: np.ndarray, shape, axis: int) -> np.ndarray:
    """Inverse of `to_slices` for a volume of `shape`."""
    moved = [shape[axis]] + [n for i, n in enumerate(shape[:3]) if i != axis] + list(shape[3:])
    n, p, q = moved[:3]
    v = np.moveaxis(slices.reshape(n, -1, p, q), 1, 3)  # (n, p, q, r)
    return np.moveaxis(v.reshape(moved), 0, axis)


class SliceConfig(ComponentConfig):
    axis: int | None = Field(None, ge=0, le=2)  # spatial axis to slice along; None: the shortest (ties: the last)
    clip_percentile: float = Field(99.99, gt=50, le=100)  # as the mri modality's (keep them equal)


class SliceCodec(Baseline):
    """Shared plumbing: normalise, quantise, code each slice with Pillow, and back."""

    modalities = ("mri",)

    def sample_bits(self) -> int:
        """Bits per sample of the slices handed to Pillow."""
        return 8

    def encode(self, signal: Signal, quality: int) -> bytes:
        lo, hi = intensity_range(signal.data, self.config.clip_percentile)
        levels = (1 << self.sample_bits()) - 1
        x = normalize(signal.data, lo, hi)
        slices = np.rint(to_slices(x, slice_axis(x.shape, self.config.axis)) * levels)
        slices = slices.astype(np.uint8 if self.sample_bits() == 8 else np.uint16)
        out = bytearray(struct.pack("<dd", lo, hi))
        for image in slices:
            stream = self.code_slice(image, quality)
            out += uvarint(len(stream)) + stream
        return bytes(out)

    def decode(self, data: bytes, original: Signal) -> Signal:
        lo, hi = struct.unpack_from("<dd", data)
        shape = original.data.shape
        axis = slice_axis(shape, self.config.axis)
        count = shape[axis] * int(np.prod(shape[3:], dtype=np.int64))
        images, pos = [], 16
        while pos < len(data):
            size, pos = read_uvarint(data, pos, "a slice stream's length field")
            images.append(self.decode_slice(data[pos:pos + size]))
            pos += size
        slices = np.stack(images).astype(np.float64) / ((1 << self.sample_bits()) - 1)
        if len(slices) != count:
            raise ValueError(f"{self.id}: decoded {len(slices)} slices, expected {count}")
        volume = from_slices(slices, shape, axis)
        return Signal(denormalize(volume, lo, hi, original.data.dtype), dict(original.meta))

    def code_slice(self, image: np.ndarray, quality: int) -> bytes:
        raise NotImplementedError

    def decode_slice(self, stream: bytes) -> np.ndarray:
        Image = require("PIL.Image", "image")
        with Image.open(io.BytesIO(stream)) as im:
            return np.asarray(im)


class JpegSlicesConfig(SliceConfig):
    optimize: bool = True  # optimised Huffman tables: smaller files, same pixels


class JpegSlices(SliceCodec):
    """Baseline JPEG (libjpeg) of 8-bit slices, one quality 1..95 for all."""

    id = "jpeg_slices"
    Config: ClassVar = JpegSlicesConfig
    quality_range = (1, 95)

    @classmethod
    def available(cls) -> str | None:
        return pillow_feature("jpg", "libjpeg")

    @classmethod
    def library(cls) -> str:
        features = require("PIL.features", "image")
        turbo = features.version("libjpeg_turbo")
        name = f"libjpeg-turbo {turbo}" if turbo else f"libjpeg {features.version('jpg')}"
        return f"{name} via Pillow {features.version('pil')}"

    def code_slice(self, image: np.ndarray, quality: int) -> bytes:
        out = io.BytesIO()
        require("PIL.Image", "image").fromarray(image).save(out, format="JPEG", quality=quality,
                                                            optimize=self.config.optimize)
        return out.getvalue()


class Jpeg2000SlicesConfig(SliceConfig):
    bits: Literal[8, 16] = 16  # sample depth of the slices (16: no 8-bit rounding at high rates)
    irreversible: bool = True  # the lossy 9/7 wavelet (False: the reversible 5/3 one)
    max_ratio: float = Field(2000.0, gt=1)  # compression ratio at quality 1 (of `bits`-bit samples)
    min_ratio: float = Field(2.0, gt=1)  # compression ratio at quality 100


class Jpeg2000Slices(SliceCodec):
    """JPEG 2000 (OpenJPEG) raw codestreams of 8- or 16-bit slices; quality 1..100 maps
    geometrically onto a compression ratio, the same for every slice."""

    id = "jpeg2000_slices"
    Config: ClassVar = Jpeg2000SlicesConfig
    quality_range = (1, 100)

    @classmethod
    def available(cls) -> str | None:
        return pillow_feature("jpg_2000", "OpenJPEG")

    @classmethod
    def library(cls) -> str:
        features = require("PIL.features", "image")
        return f"OpenJPEG {features.version('jpg_2000')} via Pillow {features.version('pil')}"

    def sample_bits(self) -> int:
        return self.config.bits

    def ratio(self, quality: int) -> float:
        lo, hi = self.quality_range
        t = (quality - lo) / (hi - lo)
        return float(self.config.max_ratio * (self.config.min_ratio / self.config.max_ratio) ** t)

    def code_slice(self, image: np.ndarray, quality: int) -> bytes:
        # OpenJPEG needs each side >= 2**(resolutions - 1); 6 levels is its default for large images
        levels = int(min(6, 1 + np.floor(np.log2(max(1, min(image.shape))))))
        out = io.BytesIO()
        require("PIL.Image", "image").fromarray(image).save(
            out, format="JPEG2000", quality_mode="rates", quality_layers=[self.ratio(quality)],
            irreversible=self.config.irreversible, num_resolutions=levels, no_jp2=True)
        return out.getvalue()


class ZstdVoxelsConfig(ComponentConfig):
    level: int = Field(19, ge=1, le=22)  # zstd level (19: strong, still seconds for a whole brain)


class ZstdVoxels(Baseline):
    """The lossless reference: zstd of the raw voxels (native order, C order, no header)."""

    id = "zstd_voxels"
    Config: ClassVar = ZstdVoxelsConfig
    modalities = ("mri",)
    quality_range = (1, 22)

    @classmethod
    def library(cls) -> str:
        import zstandard

        return f"zstd {'.'.join(map(str, zstandard.ZSTD_VERSION))} via zstandard {zstandard.__version__}"

    def encode(self, signal: Signal, quality: int) -> bytes:
        import zstandard

        return zstandard.ZstdCompressor(level=quality).compress(np.ascontiguousarray(signal.data).tobytes())

    def decode(self, data: bytes, original: Signal) -> Signal:
        import zstandard

        raw = zstandard.ZstdDecompressor().decompress(data)
        voxels = np.frombuffer(raw, original.data.dtype).reshape(original.data.shape).copy()
        return Signal(voxels, dict(original.meta))

    def at_size(self, signal: Signal, target_bytes: int) -> BaselineResult:
        """Lossless: the size is what it is, whatever the target (reported next to the lossy codecs)."""
        data = self.encode(signal, self.config.level)
        return BaselineResult(data, self.decode(data, signal), self.config.level)
