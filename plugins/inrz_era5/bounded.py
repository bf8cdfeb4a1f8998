"""Error-bounded array codecs: SPERR, SZ3 and ZFP told one absolute bound, every decoded value
within it, one thread each. The era5 baselines, `benchmarks/archive.py` and the archive tests
compare inrz with these.

Bindings, chosen by `benchmarks/array_bindings.py` (results/archive/bindings.md): SZ3 through
pysz (SZ3 3.4: a larger ratio than imagecodecs' SZ3 3.3.2 on 29 of 32 climate arrays and
bounds, 1.5-3x faster), ZFP through imagecodecs (the same ZFP 1.0.1 as zfpy, identical bytes
and speed, and its version is reported), SPERR through imagecodecs (its only maintained binding).

What each codec is given: the array with its size-1 axes dropped (a user stores a 2-D field
as 2-D; ZFP would pad the missing axis to 4 values and SPERR aborts on a 3-D array of depth 1).
SPERR gets at most 3 axes (leading axes merged). SPERR checks its bound in float64 and then
rounds to float32, which can move a value half a float32 step further: it is told the bound
less that half step at the array's largest magnitude. Decoders are told shape and dtype, as a
file header would; every byte a codec returns is counted.
"""
from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.util

import numpy as np

from inrz import MissingDependencyError


class BoundedCodec:
    """One library's error-bounded mode: `encode(x, bound) -> bytes`, `decode(data, shape, dtype)`."""

    name: str = ""
    module: str = ""  # the import name
    pip: str = ""  # the PyPI name

    def available(self) -> str | None:
        """None, or why the codec cannot run here."""
        if importlib.util.find_spec(self.module) is None:
            return f"{self.module} is not installed: pip install {self.pip} (or 'inrz[era5]')"
        return None

    def lib(self):
        if reason := self.available():
            raise MissingDependencyError(reason)
        return importlib.import_module(self.module)

    def version(self) -> str:
        """The codec library and the binding, with versions: 'SPERR 0.8.4 via imagecodecs 2026.3.6'."""
        raise NotImplementedError

    def encode(self, x: np.ndarray, bound: float) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes, shape: tuple[int, ...], dtype) -> np.ndarray:
        raise NotImplementedError


def squeezed(x: np.ndarray, max_axes: int = 4) -> np.ndarray:
    """`x` without size-1 axes, at least 2-D, at most `max_axes` (leading axes merged), C-contiguous."""
    shape = [n for n in x.shape if n > 1] or [1]
    while len(shape) > max_axes:
        shape[:2] = [shape[0] * shape[1]]
    if len(shape) == 1:
        shape = [1, shape[0]]
    return np.ascontiguousarray(x.reshape(shape))


def floats(x: np.ndarray, bound: float) -> tuple[np.ndarray, float]:
    """What a float codec is handed for `x`: integers as float64 with a bound that rounding back
    cannot break (k = floor(bound) keeps rint within k; below 1, rint restores the value)."""
    if x.dtype.kind == "f":
        return x, bound
    return x.astype(np.float64), float(np.floor(bound)) if bound >= 1 else 0.49


def _imagecodecs_version(library: str) -> str:
    """'LIBRARY Y via imagecodecs X' from `imagecodecs.version()`."""
    ic = importlib.import_module("imagecodecs")
    parts = dict(p.strip().rsplit("-", 1) for p in ic.version().split(",") if "-" in p)
    return f"{library.upper()} {parts.get(library, '?')} via imagecodecs {ic.__version__}"


class Sperr(BoundedCodec):
    """SPERR (wavelets + SPECK + outlier correction) in point-wise-error mode, via imagecodecs."""

    name, module, pip = "sperr", "imagecodecs", "imagecodecs"

    def available(self) -> str | None:
        if reason := super().available():
            return reason
        if not getattr(importlib.import_module(self.module).SPERR, "available", False):
            return "this imagecodecs build has no SPERR: pip install -U imagecodecs"
        return None

    def version(self) -> str:
        return _imagecodecs_version("sperr")

    def encode(self, x: np.ndarray, bound: float) -> bytes:
        y = squeezed(x, 3)
        y, bound = floats(y, bound)
        tolerance = bound - 0.5 * float(np.spacing(np.abs(y).max(initial=0).astype(y.dtype)))
        return bytes(self.lib().sperr_encode(y, tolerance, "pwe", numthreads=1))

    def decode(self, data: bytes, shape, dtype) -> np.ndarray:
        return _back(self.lib().sperr_decode(data, numthreads=1), shape, dtype)


class Sz3(BoundedCodec):
    """SZ3 (interpolation / Lorenzo prediction, quantisation, Huffman + zstd), absolute bound, via pysz."""

    name, module, pip = "sz3", "pysz", "pysz"

    def version(self) -> str:
        """pysz's version and the SZ3 format version its streams carry (bytes 4-7 after the magic)."""
        probe = self.encode(np.arange(16, dtype=np.float32).reshape(4, 4), 0.5)
        patch, minor, major = probe[5], probe[6], probe[7]
        return f"SZ3 {major}.{minor}.{patch} (its stream's version) via pysz {importlib.metadata.version('pysz')}"

    def encode(self, x: np.ndarray, bound: float) -> bytes:
        pysz = self.lib()
        y = squeezed(x)
        y, bound = floats(y, bound)
        config = pysz.szConfig(y.shape)
        config.errorBoundMode, config.absErrorBound = pysz.szErrorBoundMode.ABS, bound
        config.openmp = False
        return pysz.sz.compress(y, config)[0].tobytes()

    def decode(self, data: bytes, shape, dtype) -> np.ndarray:
        dims = squeezed(np.empty(shape, np.uint8)).shape
        kind = np.dtype(dtype) if np.dtype(dtype).kind == "f" else np.dtype(np.float64)
        out = self.lib().sz.decompress(np.frombuffer(data, np.uint8), kind, dims)
        return _back(out[0] if isinstance(out, tuple) else out, shape, dtype)


class Zfp(BoundedCodec):
    """ZFP (block transform + embedded coding) in fixed-accuracy mode, via imagecodecs."""

    name, module, pip = "zfp", "imagecodecs", "imagecodecs"

    def version(self) -> str:
        return _imagecodecs_version("zfp")

    def encode(self, x: np.ndarray, bound: float) -> bytes:
        y = squeezed(x)
        y, bound = floats(y, bound)
        return bytes(self.lib().zfp_encode(y, bound, mode="accuracy", numthreads=1))

    def decode(self, data: bytes, shape, dtype) -> np.ndarray:
        return _back(self.lib().zfp_decode(data, numthreads=1), shape, dtype)


def _back(values: np.ndarray, shape, dtype) -> np.ndarray:
    """Decoded values in the caller's shape and dtype (integers rounded and clipped)."""
    dtype = np.dtype(dtype)
    values = np.asarray(values).reshape(shape)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        values = np.clip(np.rint(values), info.min, info.max)
    return values.astype(dtype, copy=False)


CODECS: dict[str, BoundedCodec] = {c.name: c for c in (Sperr(), Sz3(), Zfp())}


@functools.lru_cache(maxsize=None)
def versions() -> dict[str, str]:
    """Every codec's library and version, or why it is unavailable."""
    return {name: c.available() or c.version() for name, c in CODECS.items()}
