"""Images through Pillow: 8-bit L/LA/RGB/RGBA and 16-bit grayscale, as `(H, W, C)` arrays.

Every mode Pillow reads is brought to one of a few *native* modes that round-trip exactly
through `save` (palette and 1-bit images are expanded, 32-bit integer images that fit are
narrowed to 16 bits), so what inrz compresses is exactly what a user gets back.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from inrz import ContainerError, FormatChange, InrzError, Modality, Signal, atomic_write, fields, missing, require

from . import png

#: array dtype -> {channels: the Pillow mode that stores it}; None: no Pillow mode can write it
NATIVE_MODES: dict[str, dict[int, str | None]] = {
    "uint8": {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"},
    "uint16": {1: "I;16", 2: None, 3: None, 4: None},
}
#: Pillow modes read by converting to a native mode first (the conversion is exact or defined by Pillow)
CONVERT_ON_LOAD = {"1": "L", "PA": "RGBA", "La": "LA", "RGBa": "RGBA", "RGBX": "RGB",
                   "CMYK": "RGB", "YCbCr": "RGB", "LAB": "RGB", "HSV": "RGB"}
PEAKS = {"uint8": 255, "uint16": 65535}
QUANTIZE_ROWS = 1 << 15  # values per block of `quantize`: its float temporary stays in cache


def quantize(features: np.ndarray, peak: float, dtype) -> np.ndarray:
    """rint(clip(features, 0, 1) * peak) as `dtype`, in blocks of rows through one small float
    temporary: the same values as the whole-array expression, without its three full-size float
    arrays (each a fresh allocation whose pages fault on first touch)."""
    out = np.empty(features.shape, dtype)
    flat_in = features.reshape(features.shape[0], -1)
    flat_out = out.reshape(out.shape[0], -1)
    rows = max(1, QUANTIZE_ROWS // max(1, flat_in.shape[1]))
    tmp = np.empty((min(rows, flat_in.shape[0]), flat_in.shape[1]), np.result_type(features.dtype, np.float32))
    for lo in range(0, flat_in.shape[0], rows):
        block, t = flat_in[lo:lo + rows], tmp[:min(rows, flat_in.shape[0] - lo)]
        np.clip(block, 0.0, 1.0, out=t)
        np.multiply(t, peak, out=t)
        np.rint(t, out=t)
        flat_out[lo:lo + rows] = t
    return out
#: Pillow formats whose writers lose information by default (palettes, DCT or wavelet quantisation)
LOSSY_FORMATS = frozenset({"JPEG", "MPO", "WEBP", "AVIF", "HEIF", "GIF"})


class ImageError(InrzError):
    """An image cannot be read, wrapped or written (unsupported mode, dtype or shape)."""


def pil():
    """Pillow's `Image` module, imported only when an image is touched."""
    return require("PIL.Image", "image")


def format_for(path: str | Path) -> str:
    """The Pillow format a file name's suffix names (PNG if none or unknown). The common formats'
    plugins (`Image.preinit`: PNG, JPEG, BMP, GIF, PPM) answer first; every other plugin is
    imported (`Image.init`, as `registered_extensions` always does) only for another suffix,
    which keeps ~0.1 s off writing a JPEG."""
    suffix = Path(path).suffix.lower()
    if suffix in ("", ".png"):  # answered without Pillow: PNGs are written by `png` (~20 ms of imports saved)
        return "PNG"
    Image = pil()
    Image.preinit()
    if suffix not in Image.EXTENSION:
        Image.init()
    return Image.EXTENSION.get(suffix, "PNG")


def image_to_array(im) -> np.ndarray:
    """A Pillow image as a native `(H, W, C)` uint8 or uint16 array (see module docstring)."""
    mode = im.mode
    if mode == "P":
        mode = "RGBA" if "transparency" in im.info else "RGB"
        im = im.convert(mode)
    elif mode in CONVERT_ON_LOAD:
        im = im.convert(CONVERT_ON_LOAD[mode])
    if im.mode in ("I;16", "I;16L", "I;16B", "I"):
        return _sixteen_bit(np.asarray(im), im.mode)
    if im.mode not in NATIVE_MODES["uint8"].values():
        raise ImageError(f"unsupported Pillow image mode {im.mode!r}; convert the image to L, LA, RGB, RGBA "
                         "or 16-bit grayscale first")
    data = np.asarray(im, dtype=np.uint8)
    return data[..., None] if data.ndim == 2 else data


def _sixteen_bit(values: np.ndarray, mode: str) -> np.ndarray:
    """Integer grayscale as uint16; 32-bit "I" images only when every value fits (no silent wrap)."""
    if values.size and (values.min() < 0 or values.max() > 65535):
        raise ImageError(f"{mode!r} image has values in [{values.min()}, {values.max()}], outside the 16-bit "
                         "range [0, 65535] that inrz images support")
    return values.astype(np.uint16)[..., None]


def array_to_image(data: np.ndarray):
    """A native `(H, W, C)` array as a Pillow image in the mode that stores it losslessly."""
    mode = native_mode(data)
    if mode is None:
        raise ImageError(f"Pillow cannot write {data.dtype} images with {data.shape[-1]} channels (16-bit is "
                         "grayscale only); save the array with numpy or convert it to 8-bit")
    if mode == "I;16":
        return pil().fromarray(np.ascontiguousarray(data[..., 0], dtype="<u2"))
    return pil().fromarray(np.ascontiguousarray(data[..., 0] if data.shape[-1] == 1 else data))


def native_mode(data: np.ndarray) -> str | None:
    return NATIVE_MODES[data.dtype.name][data.shape[-1]]


def check_array(array: np.ndarray) -> np.ndarray:
    """`(H, W)` or `(H, W, C)`, C in 1..4, uint8 or uint16 -> `(H, W, C)`; a clear error otherwise."""
    array = np.asarray(array)
    if array.dtype.name not in NATIVE_MODES:
        raise ImageError(f"image arrays must be uint8 or uint16, got {array.dtype}; for floats in [0, 1] use "
                         "np.rint(np.clip(x, 0, 1) * 255).astype(np.uint8)")
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or not 1 <= array.shape[-1] <= 4 or 0 in array.shape:
        raise ImageError(f"image arrays must be (H, W) or (H, W, C) with C in 1..4 channels and H, W > 0, "
                         f"got shape {tuple(array.shape)}")
    return array


def image_meta(data: np.ndarray, fmt: str = "PNG") -> dict[str, Any]:
    return {"shape": list(data.shape), "dtype": data.dtype.name, "mode": native_mode(data), "format": fmt}


class ImageModality(Modality):
    """Images as `(H, W, C)` uint8/uint16 arrays; features are `data / peak` in [0, 1]."""

    id = "image"
    extensions = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".ppm", ".pgm")
    unit = "pixel"
    default_metrics = ("psnr", "ms-ssim")

    @classmethod
    def available(cls) -> str | None:
        return missing("PIL.Image", "image")

    @classmethod
    def example_signal(cls) -> Signal | None:
        """16 x 16 RGB pixels of kodim15 (`inrz_image.example`)."""
        from .example import example_pixels

        return cls().from_array(example_pixels())

    @classmethod
    def default_codec(cls) -> dict[str, dict[str, Any]]:
        """A SIREN sized for 0.3 bits per pixel on each image (10x28 on the paper's 768x512 images), fp16, zstd."""
        return {"backend": {"id": "coin", "bpp": 0.3}}

    def axis_names(self, meta: dict[str, Any], ndim: int) -> tuple[str, ...]:
        return ("y", "x")[:ndim]

    def format_change(self, meta: dict[str, Any], path: str | Path) -> FormatChange | None:
        """The Pillow format the suffix names (PNG if none) against the original's; lossy ones are flagged."""
        target = format_for(path)
        source = meta.get("format", "PNG")
        return None if target == source else FormatChange(source, target, lossy=target in LOSSY_FORMATS)

    def load(self, path: str | Path) -> Signal:
        """Every way Pillow reports an unreadable file becomes an `ImageError` naming it: OSError
        (missing, unknown format, truncated), SyntaxError and ValueError (broken chunks or
        headers), EOFError, and the decompression-bomb guard for images over 2 x
        `PIL.Image.MAX_IMAGE_PIXELS` pixels."""
        Image = pil()
        try:
            with Image.open(path) as im:
                data, fmt = image_to_array(im), im.format or "PNG"
        except Image.DecompressionBombError as exc:
            raise ImageError(f"cannot read image {path}: {exc}; if you trust the file, raise "
                             "PIL.Image.MAX_IMAGE_PIXELS before compressing it") from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageError(f"cannot read image {path}: {type(exc).__name__}: {exc}") from exc
        return Signal(data, image_meta(data, fmt))

    def save(self, signal: Signal, path: str | Path) -> None:
        """Write in the format the suffix names (PNG if none), in the signal's mode and bit depth."""
        path = Path(path)
        fmt = format_for(path)
        data = check_array(signal.data)
        try:
            if fmt == "PNG" and native_mode(data) is not None:  # our writer: Pillow's size in about half the time
                atomic_write(path, png.encode(data))
            else:
                array_to_image(data).save(path, format=fmt)
        except (OSError, ValueError, KeyError) as exc:  # e.g. RGBA or 16-bit to JPEG
            raise ImageError(f"cannot write {signal.data.dtype} image of shape {signal.data.shape} as {fmt} "
                             f"to {path}: {exc}; use .png, which stores every image inrz reads") from exc

    def from_array(self, array: np.ndarray, meta: dict[str, Any] | None = None) -> Signal:
        """Validate and wrap an array; shape, dtype and mode always come from the array itself."""
        data = check_array(array)
        return Signal(data, {**(meta or {}), **image_meta(data, (meta or {}).get("format", "PNG"))})

    def to_features(self, signal: Signal) -> tuple[np.ndarray, dict[str, Any]]:
        data = check_array(signal.data)
        peak = PEAKS[data.dtype.name]
        return data.astype(np.float32) / np.float32(peak), {"peak": peak}

    def from_features(self, features: np.ndarray, meta: dict[str, Any], norm: dict[str, Any]) -> Signal:
        """Clamp, scale and round to the native dtype; the shape follows `features` (renders may be resized)."""
        if features.ndim != 3 or features.shape[-1] != meta["shape"][-1]:
            raise ImageError(f"expected features (H, W, {meta['shape'][-1]}), got shape {tuple(features.shape)}")
        peak = norm.get("peak", self.peak(meta))
        return Signal(quantize(features, peak, meta["dtype"]), {**meta, "shape": list(features.shape)})

    def check_header(self, meta, norm, grid_shape, d_out) -> None:
        """(H, W, C) = grid + channels with C in 1..4, uint8 or uint16, a positive peak."""
        shape = fields.int_list(meta, "shape", "meta", length=3)
        if len(grid_shape) != 2 or shape != [*grid_shape, d_out] or not 1 <= d_out <= 4:
            raise ContainerError(f"header meta.shape {shape} does not fit grid {list(grid_shape)} with {d_out} "
                                 "channels (images have 1 to 4)")
        dtype = fields.dtype(meta, "dtype", "meta", allowed=PEAKS)
        peak = fields.number(norm, "peak", "norm", positive=True, default=None)
        if peak is not None and peak != PEAKS[dtype.name]:  # the encoder writes the dtype's peak, nothing else
            raise ContainerError(f"header norm.peak must be {PEAKS[dtype.name]} for {dtype.name} images, got {peak!r}")

    def peak(self, meta: dict[str, Any]) -> float:
        return PEAKS.get(meta.get("dtype", "uint8"), 255)
