"""The `ndarray` modality: any numeric numpy array, every axis a grid axis, one feature.

This is what archive codecs (numcodecs, zarr) hand us: chunks of scientific arrays without
file formats or metadata. Values are scaled by the chunk's own min/max (kept in `meta`), so
the network sees [0, 1] and the output is cast back to the array's dtype.
"""
from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..core import fields
from ..core.errors import ContainerError, InrzError
from ..core.fsutil import atomic_write
from .modality import Modality, Signal


#: the dtypes this modality codes (and the only ones its decoder accepts)
DTYPE_NAMES = {d.name for d in fields.NUMERIC_DTYPES.values()}


class NdArray(Modality):
    id = "ndarray"
    extensions = (".npy",)
    unit = "value"

    @classmethod
    def example_signal(cls) -> Signal:
        """A 12x16 float32 patch of an analytic field (no data files in the core)."""
        y, x = np.meshgrid(np.linspace(0, 3, 12), np.linspace(0, 4, 16), indexing="ij")
        return cls().from_array((280 + 10 * np.sin(x) * np.cos(y)).astype(np.float32))

    def load(self, path: str | Path) -> Signal:
        """A `.npy` file, mapped first: a header declaring more data than the file holds is
        refused before anything is allocated."""
        try:
            mapped = np.load(path, mmap_mode="r", allow_pickle=False)
            if not isinstance(mapped, np.ndarray):  # an .npz archive
                mapped.close()
                raise ValueError("it is an .npz archive; save one array with np.save")
            array = np.array(mapped)
            del mapped
        except (OSError, ValueError, EOFError) as exc:  # EOFError: an empty file
            raise InrzError(f"cannot read {path} as a .npy array: {exc}") from exc
        return self.from_array(array)

    def save(self, signal: Signal, path: str | Path) -> None:
        buf = io.BytesIO()
        np.save(buf, signal.data, allow_pickle=False)
        atomic_write(path, buf.getvalue())

    def from_array(self, array: np.ndarray, meta: dict[str, Any] | None = None) -> Signal:
        array = np.asarray(array)
        if array.dtype.newbyteorder("=").name not in DTYPE_NAMES or array.ndim == 0 or array.size == 0:
            raise InrzError(f"the ndarray modality codes non-empty arrays of {', '.join(sorted(DTYPE_NAMES))}; got "
                            f"{array.dtype} {array.shape}")
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise InrzError("the array holds NaN or infinity; fill or mask them before compressing")
        array = array.astype(array.dtype.newbyteorder("=")) if array.dtype.byteorder == ">" else array
        lo, hi = float(array.min()), float(array.max())
        if not np.isfinite(hi - lo):
            raise InrzError(f"the array's values span [{lo:g}, {hi:g}], wider than float64 can hold as one range; "
                            "scale the array down (e.g. divide by 2) before compressing")
        return Signal(array, {**(meta or {}), "shape": list(array.shape), "dtype": array.dtype.str, "range": [lo, hi]})

    def check_header(self, meta, norm, grid_shape, d_out) -> None:
        """Shape = grid, one channel, a numeric dtype, and a finite normalisation that stays in the dtype's range."""
        shape = fields.int_list(meta, "shape", "meta", length=len(grid_shape))
        if shape != list(grid_shape) or d_out != 1:
            raise ContainerError(f"header meta.shape {shape} with {d_out} channels does not match grid {list(grid_shape)}")
        dtype = fields.dtype(meta, "dtype", "meta")
        fields.number_list(meta, "range", "meta", length=2)
        lo, span = fields.number(norm, "lo", "norm"), fields.number(norm, "span", "norm", positive=True)
        top = float(np.finfo(dtype).max) if dtype.kind == "f" else math.inf
        if not (abs(lo) <= top and abs(lo + span) <= top):
            raise ContainerError(f"header norm lo={lo!r}, span={span!r} leaves the range of {dtype.name}")

    def grid_shape(self, signal: Signal) -> tuple[int, ...]:
        return tuple(signal.data.shape)

    def to_features(self, signal: Signal) -> tuple[np.ndarray, dict[str, Any]]:
        lo, hi = signal.meta["range"]
        span = hi - lo if hi > lo else 1.0
        features = ((signal.data.astype(np.float64) - lo) / span).astype(np.float32)[..., None]
        return features, {"lo": lo, "span": span}

    def from_features(self, features: np.ndarray, meta: dict[str, Any], norm: dict[str, Any]) -> Signal:
        values = np.clip(features[..., 0].astype(np.float64), 0.0, 1.0) * norm["span"] + norm["lo"]
        return Signal(cast(values, np.dtype(meta["dtype"])), dict(meta, shape=list(values.shape)))

    def peak(self, meta: dict[str, Any]) -> float:
        lo, hi = meta["range"]
        return hi - lo if hi > lo else 1.0

    def num_points(self, signal: Signal) -> int:
        return int(signal.data.size)

    @classmethod
    def default_codec(cls) -> dict[str, dict[str, Any]]:
        """The default backend (COIN's network) at a quarter bit per value, fitted for 500 steps:
        sized for archive chunks on a CPU (the numcodecs and zarr codecs' defaults too)."""
        return {"backend": {"bpp": 0.25, "steps": 500, "lr": 1e-3}}


def cast(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """float64 -> dtype, rounding and clipping for integers (never wrapping around).

    The largest int64 and uint64 are not float64 numbers (2**63 - 1 rounds up to 2**63, which
    overflows to -2**63), so values at or above the first float past the range saturate
    explicitly instead of through the float cast."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        rounded = np.rint(np.asarray(values, np.float64))
        top = float(info.max) if float(info.max) < info.max + 1 else np.nextafter(float(info.max), 0.0)
        with np.errstate(invalid="ignore"):  # a NaN (an overflowed prediction) becomes an exception downstream
            out = np.clip(rounded, info.min, top).astype(dtype)
        out[rounded > top] = info.max
        return out
    if dtype.kind == "b":
        return values >= 0.5
    return values.astype(dtype)
