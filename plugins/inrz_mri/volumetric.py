"""What a radiology archive runs on stored voxels, through imagecodecs (one thread each):

- `sperr_volume`: SPERR on the whole 3-D volume at a point-wise (max abs) error bound in the
  voxel's unit; `at_error` codes at a given bound, quality q sets it to span * 2^(-q/4);
- `jpegls_slices`: JPEG-LS (CharLS) per slice, lossless or near-lossless: NEAR = the max error
  (the DICOM transfer syntaxes 1.2.840.10008.1.2.4.80/81);
- `htj2k_slices`: High-Throughput JPEG 2000 (OpenJPH) per slice, reversible (lossless, DICOM
  1.2.840.10008.1.2.4.201) or irreversible with a quantisation step set by quality;
- `jpeg2000_lossless_slices`: JPEG 2000 reversible 5/3 (OpenJPEG) per slice (DICOM .4.90);
- `nifti_gzip`: the volume as a NIfTI-1 file gzipped (what a .nii.gz holds), the lossless reference.

Slice codecs take the stored integers themselves (no normalisation: lossless means the stored
values); integer types they cannot hold are offset by the volume's minimum, kept in 8 bytes.
Float volumes are refused with the reason. Every byte a codec writes is counted; the decoder is
told the original's shape and dtype, as a NIfTI header would.
"""
from __future__ import annotations

import gzip
import importlib
import importlib.util
import struct
from typing import ClassVar

import numpy as np
from pydantic import Field

from inrz import Baseline, BaselineResult, ComponentConfig, MissingDependencyError, Signal, read_uvarint, uvarint

from .baselines import from_slices, slice_axis, to_slices
from .volume import MriError


def codecs(feature: str):
    """imagecodecs with `feature` (e.g. 'SPERR'), or `MissingDependencyError`."""
    if reason := _missing(feature):
        raise MissingDependencyError(reason)
    return importlib.import_module("imagecodecs")


def _missing(feature: str) -> str | None:
    if importlib.util.find_spec("imagecodecs") is None:
        return "imagecodecs is not installed: pip install imagecodecs (or 'inrz[mri]')"
    if not getattr(getattr(importlib.import_module("imagecodecs"), feature, None), "available", False):
        return f"this imagecodecs build has no {feature}: pip install -U imagecodecs"
    return None


def _library(name: str) -> str:
    ic = importlib.import_module("imagecodecs")
    return f"{getattr(ic, f'{name}_version')()} via imagecodecs {ic.__version__}"


class Lossless(Baseline):
    """One setting: the size is what it is, whatever the target (reported beside the lossy codecs)."""

    modalities = ("mri",)
    quality_range = (1, 1)

    def at_size(self, signal: Signal, target_bytes: int) -> BaselineResult:
        data = self.encode(signal, 1)
        return BaselineResult(data, self.decode(data, signal), 1)


# --- SPERR on the volume ------------------------------------------------------------------------

class SperrVolume(Baseline):
    """SPERR 3-D (4-D volumes: time merged into the last axis) at a max abs error in voxel units."""

    id = "sperr_volume"
    modalities = ("mri",)
    quality_range = (1, 512)  # the bound in 2**(1/32) steps (~2 % in size): matched finely to a file's size
    version = 2  # 2: steps of 2**(1/32), not 2**(1/4) (which left SPERR 15-18 % below the target size)

    @classmethod
    def available(cls) -> str | None:
        return _missing("SPERR")

    @classmethod
    def library(cls) -> str:
        return _library("sperr")

    def bound(self, data: np.ndarray, quality: int) -> float:
        return float(max(np.ptp(data), 1e-30) * 2.0 ** (-quality / 32))

    def encode(self, signal: Signal, quality: int) -> bytes:
        return self.encode_bound(signal.data, self.bound(signal.data, quality))

    def encode_bound(self, data: np.ndarray, bound: float) -> bytes:
        x = np.ascontiguousarray(data.reshape(*data.shape[:2], -1))  # (x, y, z * t)
        if x.dtype.kind in "iu":  # rint of a value within k = floor(bound) stays within k; below 1 it is exact
            x, bound = x.astype(np.float64), float(np.floor(bound)) if bound >= 1 else 0.49
        elif x.dtype.itemsize < 8:  # SPERR checks in float64, then rounds: leave that half step
            bound -= 0.5 * float(np.spacing(np.abs(x).max().astype(x.dtype)))
        return bytes(codecs("SPERR").sperr_encode(x, bound, "pwe", numthreads=1))

    def decode(self, data: bytes, original: Signal) -> Signal:
        values = codecs("SPERR").sperr_decode(data, numthreads=1).reshape(original.data.shape)
        dtype = original.data.dtype
        if dtype.kind in "iu":
            values = np.clip(np.rint(values), np.iinfo(dtype).min, np.iinfo(dtype).max)
        return Signal(values.astype(dtype), dict(original.meta))

    def at_error(self, signal: Signal, max_abs_error: float) -> BaselineResult:
        data = self.encode_bound(signal.data, max_abs_error)
        return BaselineResult(data, self.decode(data, signal), 0)


# --- slice codecs on the stored integers ----------------------------------------------------------

class NativeSlicesConfig(ComponentConfig):
    axis: int | None = Field(None, ge=0, le=2)  # spatial axis to slice along; None: the shortest (ties: the last)


class NativeSlices(Baseline):
    """Integer slices as stored, offset into the codec's range; per slice a LEB128 length and the stream."""

    Config: ClassVar = NativeSlicesConfig
    modalities = ("mri",)
    feature: ClassVar[str] = ""
    kinds: ClassVar[tuple[str, ...]] = ("uint8", "uint16")  # what the codec takes; others are offset

    @classmethod
    def available(cls) -> str | None:
        return _missing(cls.feature)

    @classmethod
    def library(cls) -> str:
        return _library(cls.feature.lower())

    def encode(self, signal: Signal, quality: int) -> bytes:
        data = signal.data
        if data.dtype.kind not in "iu":
            raise MriError(f"{self.id} codes stored integers; this volume is {data.dtype} (use sperr_volume)")
        slices, offset = self.native(data)
        out = bytearray(struct.pack("<q", offset))
        for image in slices:
            stream = self.code_slice(np.ascontiguousarray(image), quality)
            out += uvarint(len(stream)) + stream
        return bytes(out)

    def native(self, data: np.ndarray) -> tuple[np.ndarray, int]:
        """(slices, offset): the slices in a type the codec takes, and what was subtracted to get there."""
        axis = slice_axis(data.shape, self.config.axis)
        if data.dtype.name in self.kinds:
            return to_slices(data, axis), 0
        offset = int(data.min())
        span = int(data.max()) - offset
        if span >= 1 << 16:
            raise MriError(f"{self.id}: the volume spans {span + 1} values, more than 16 bits")
        kind = np.uint8 if span < 256 and "uint8" in self.kinds else np.uint16
        return to_slices((data.astype(np.int64) - offset).astype(kind), axis), offset

    def decode(self, data: bytes, original: Signal) -> Signal:
        (offset,), pos, images = struct.unpack_from("<q", data), 8, []
        while pos < len(data):
            size, pos = read_uvarint(data, pos, "a slice stream's length field")
            images.append(self.decode_slice(data[pos:pos + size]))
            pos += size
        shape, dtype = original.data.shape, original.data.dtype
        volume = from_slices(np.stack(images).astype(np.int64) + offset, shape, slice_axis(shape, self.config.axis))
        return Signal(np.clip(volume, np.iinfo(dtype).min, np.iinfo(dtype).max).astype(dtype), dict(original.meta))

    def code_slice(self, image: np.ndarray, quality: int) -> bytes:
        raise NotImplementedError

    def decode_slice(self, stream: bytes) -> np.ndarray:
        raise NotImplementedError


class JpeglsSlices(NativeSlices):
    """JPEG-LS per slice; quality q -> NEAR = 64 - q (64: lossless); `at_error` sets NEAR itself."""

    id, feature = "jpegls_slices", "JPEGLS"
    quality_range = (1, 64)

    def code_slice(self, image: np.ndarray, quality: int) -> bytes:
        return bytes(codecs(self.feature).jpegls_encode(image, level=self.quality_range[1] - quality))

    def decode_slice(self, stream: bytes) -> np.ndarray:
        return codecs(self.feature).jpegls_decode(stream)

    def at_error(self, signal: Signal, max_abs_error: float) -> BaselineResult:
        quality = self.quality_range[1] - min(int(np.floor(max_abs_error)), self.quality_range[1] - 1)
        data = self.encode(signal, quality)
        return BaselineResult(data, self.decode(data, signal), quality)


class Htj2kConfig(NativeSlicesConfig):
    lossless: bool = False  # reversible 5/3 wavelet (quality ignored); else the 9/7 one with a quantisation step
    min_step: float = Field(1e-4, gt=0)  # quantisation step at quality 100 (of the sample range)
    max_step: float = Field(0.5, gt=0)  # at quality 1


class Htj2kSlices(NativeSlices):
    """HTJ2K (OpenJPH) per slice; lossy quality 1..100 maps geometrically onto the quantisation step."""

    id, feature = "htj2k_slices", "HTJ2K"
    Config: ClassVar = Htj2kConfig
    quality_range = (1, 100)
    kinds = ("uint8", "uint16", "int16")

    def code_slice(self, image: np.ndarray, quality: int) -> bytes:
        ic = codecs(self.feature)
        if self.config.lossless:
            return bytes(ic.htj2k_encode(image, reversible=True))
        t = (quality - 1) / 99
        step = self.config.max_step * (self.config.min_step / self.config.max_step) ** t
        return bytes(ic.htj2k_encode(image, step, reversible=False))

    def decode_slice(self, stream: bytes) -> np.ndarray:
        return codecs(self.feature).htj2k_decode(stream)

    def at_size(self, signal: Signal, target_bytes: int) -> BaselineResult:
        if self.config.lossless:
            return Lossless.at_size(self, signal, target_bytes)
        return super().at_size(signal, target_bytes)


class Jpeg2000LosslessSlices(NativeSlices, Lossless):
    """JPEG 2000 reversible (OpenJPEG, raw codestreams) per slice."""

    id, feature = "jpeg2000_lossless_slices", "JPEG2K"
    kinds = ("uint8", "uint16", "int16")

    def code_slice(self, image: np.ndarray, quality: int) -> bytes:
        return bytes(codecs(self.feature).jpeg2k_encode(image, reversible=True, codecformat="j2k", numthreads=1))

    def decode_slice(self, stream: bytes) -> np.ndarray:
        return codecs(self.feature).jpeg2k_decode(stream, numthreads=1)


# --- the NIfTI's own gzip -------------------------------------------------------------------------

class NiftiGzipConfig(ComponentConfig):
    level: int = Field(6, ge=1, le=9)  # gzip's default level (nibabel writes .nii.gz at 1)


class NiftiGzip(Lossless):
    """The volume as a NIfTI-1 file (348-byte header, 4 bytes of extension flags, voxels), gzipped."""

    id = "nifti_gzip"
    Config: ClassVar = NiftiGzipConfig

    @classmethod
    def library(cls) -> str:
        import zlib

        return f"zlib {zlib.ZLIB_RUNTIME_VERSION} (gzip level per config)"

    def encode(self, signal: Signal, quality: int) -> bytes:
        from .nifti import nib

        image = nib().Nifti1Image(np.asarray(signal.data), np.eye(4))
        return gzip.compress(image.to_bytes(), compresslevel=self.config.level, mtime=0)

    def decode(self, data: bytes, original: Signal) -> Signal:
        from .nifti import nib

        image = nib().Nifti1Image.from_bytes(gzip.decompress(data))
        return Signal(np.asarray(image.dataobj).astype(original.data.dtype), dict(original.meta))
