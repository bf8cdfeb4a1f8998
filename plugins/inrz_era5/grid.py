"""Latitude/longitude axes: compact metadata, positions of any rendering, sphere coordinates,
and the regridding the datasets use to make paper-style 46x90 grids.

An axis travels in the container header, so a regular one is stored as `start`, `step`,
`count` (three numbers) and only an irregular one (a Gaussian grid) as its full list of
values. Either form rebuilds the exact values in the axis dtype (`axis_values`).
Nothing here imports xarray: coordinates are needed on the decoding side too.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from inrz import ContainerError, fields

#: dtypes an axis is stored in (netCDF coordinates are floats, sometimes integers)
AXIS_DTYPES = ("float32", "float64", "int16", "int32", "int64")


def encode_axis(name: str, values: np.ndarray, attrs: dict | None = None, encoding: dict | None = None) -> dict:
    """An axis as JSON: regular axes as start/step/count, others as values (exact in their dtype)."""
    values = np.asarray(values)
    out: dict[str, Any] = {"name": name, "dtype": values.dtype.name}
    start = float(values[0]) if values.size else 0.0
    step = (float(values[-1]) - start) / (values.size - 1) if values.size > 1 else 0.0
    if np.array_equal(_regular(start, step, values.size, values.dtype), values):
        out.update(start=start, step=step, count=int(values.size))
    else:
        out["values"] = [v.item() for v in values]
    if attrs:
        out["attrs"] = attrs
    if encoding:
        out["encoding"] = encoding
    return out


def _regular(start: float, step: float, count: int, dtype) -> np.ndarray:
    """The one formula regular axes are built with, so that encoding and decoding agree bit for bit."""
    return (start + step * np.arange(count, dtype=np.float64)).astype(dtype)


def axis_values(axis: dict) -> np.ndarray:
    """The axis values in their own dtype."""
    if "values" in axis:
        return np.asarray(axis["values"], dtype=axis["dtype"])
    return _regular(axis["start"], axis["step"], axis["count"], axis["dtype"])


def check_axis(axis: Any, n: int, where: str) -> None:
    """An axis from a container header: a name, a numeric dtype, and `n` values or start/step/count=n."""
    ok = isinstance(axis, dict) and isinstance(axis.get("name"), str) and axis.get("dtype") in AXIS_DTYPES
    if ok and "values" in axis:
        values = axis["values"]
        ok = isinstance(values, list) and len(values) == n and all(_degrees(v) for v in values)
    elif ok:
        start, step = axis.get("start"), axis.get("step")
        ok = _degrees(start) and _degrees(step) and axis.get("count") == n and _degrees(start + step * n)
    if not ok:
        raise ContainerError(f"header {where} must be an axis of {n} points (name, dtype, values or start/step/count)")


def _degrees(value: Any) -> bool:
    """A coordinate a lat/lon axis can hold: finite, and within a million degrees (sane arithmetic)."""
    return fields.finite(value) and abs(value) <= 1e6


def axis_count(axis: dict) -> int:
    return int(axis["count"]) if "count" in axis else len(axis["values"])


def positions(native: np.ndarray, n: int, region: tuple[float, float] | None = None) -> np.ndarray:
    """Degrees at `n` points of an axis: with `region` (lo, hi) in the [-1, 1] frame of the native
    axis (the core's rendering convention), evenly spaced there; without, the first `n` native
    points (the grid itself, or one patch anchored at the origin, extrapolated past the end)."""
    native = np.asarray(native, dtype=np.float64)
    if region is None:
        index = np.arange(n, dtype=np.float64)
    else:
        lo, hi = region
        t = np.linspace(lo, hi, n) if n > 1 else np.array([(lo + hi) / 2])
        index = (t + 1.0) / 2.0 * (len(native) - 1)
    return at_index(native, index)


def at_index(native: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Linear interpolation at fractional indices; linear extrapolation beyond both ends."""
    if len(native) == 1:
        return np.full(index.shape, native[0])
    i0 = np.clip(np.floor(index).astype(np.int64), 0, len(native) - 2)
    w = index - i0
    return native[i0] * (1.0 - w) + native[i0 + 1] * w


def is_global_lon(lon_deg: np.ndarray) -> bool:
    """True for a regular longitude axis whose points circle the globe exactly once."""
    lon = np.asarray(lon_deg, np.float64)
    if lon.size < 3:
        return False
    step = np.diff(lon)
    regular = np.allclose(step, step[0], rtol=1e-6, atol=1e-9)
    return bool(regular and abs(abs(step[0]) * lon.size - 360.0) < 1e-6 * 360.0)


def sphere(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    """(cos lat cos lon, cos lat sin lon, sin lat) on the (lat, lon) mesh: float32 `(nlat, nlon, 3)`.

    Unit vectors, so a network sees the globe as it is: no seam at the date line and the
    poles are single points (every longitude of a pole row maps to (0, 0, +-1)).
    """
    lat = np.deg2rad(np.asarray(lat_deg, np.float64))[:, None]
    lon = np.deg2rad(np.asarray(lon_deg, np.float64))[None, :]
    xyz = np.stack(np.broadcast_arrays(np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)), -1)
    return xyz.astype(np.float32)


def lat_weights(lat_deg: np.ndarray) -> np.ndarray:
    """cos(latitude) per row (WeatherBench's weighting), clipped at 0 for rounding past the poles."""
    return np.clip(np.cos(np.deg2rad(np.asarray(lat_deg, np.float64))), 0.0, None)


def is_global(lon: np.ndarray) -> bool:
    """Whether a regular longitude axis closes the circle (the next point after the last is the first + 360)."""
    if len(lon) < 2:
        return False
    step = (float(lon[-1]) - float(lon[0])) / (len(lon) - 1)
    return math.isclose(abs(step) * len(lon), 360.0, rel_tol=1e-4)


# --- regridding (datasets) ---------------------------------------------------------------------

def even_axis(old: np.ndarray, n: int, periodic: bool, dtype) -> np.ndarray:
    """`n` evenly spaced values over the extent of `old` (the whole circle when `periodic`),
    built so that `encode_axis` stores them compactly (ends exact in `dtype`)."""
    start = float(np.asarray(old[0]).astype(dtype))
    if periodic:
        step = math.copysign(360.0 / n, float(old[-1]) - float(old[0]))
    else:
        step = (float(np.asarray(old[-1]).astype(dtype)) - start) / (n - 1) if n > 1 else 0.0
    return _regular(start, step, n, dtype)


def regrid_axis(data: np.ndarray, axis: int, old: np.ndarray, new: np.ndarray, periodic: bool) -> np.ndarray:
    """Linear interpolation of `data` along `axis` from axis values `old` to `new` (a periodic
    longitude axis wraps from its last point to its first)."""
    old, new = np.asarray(old, np.float64), np.asarray(new, np.float64)
    if len(old) < 2:
        raise ValueError("cannot regrid an axis of one point")
    if periodic:
        old_step = (old[-1] - old[0]) / (len(old) - 1)
        index = ((new - old[0]) / old_step) % len(old)  # in [0, len(old)): index len(old) is the wrapped copy
        data = np.concatenate([data, np.take(data, [0], axis=axis)], axis=axis)
    else:
        index = at_index_inverse(old, new)
    return _interp_along(data, axis, index)


def at_index_inverse(old: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Fractional indices of `values` on a monotonic axis (increasing or decreasing)."""
    sign = 1.0 if old[-1] >= old[0] else -1.0
    return np.interp(sign * values, sign * old, np.arange(len(old), dtype=np.float64))


def _interp_along(data: np.ndarray, axis: int, index: np.ndarray) -> np.ndarray:
    i0 = np.clip(np.floor(index).astype(np.int64), 0, data.shape[axis] - 2)
    w = (index - i0).reshape([-1 if a == axis else 1 for a in range(data.ndim)])
    a0, a1 = np.take(data, i0, axis=axis), np.take(data, i0 + 1, axis=axis)
    return a0 * (1.0 - w) + a1 * w


def default_axes(nlat: int, nlon: int) -> tuple[dict, dict]:
    """A global grid of cell centres for arrays given without coordinates (the Python API)."""
    lat = _regular(-90.0 + 90.0 / nlat, 180.0 / nlat, nlat, np.float64)
    lon = _regular(0.0, 360.0 / nlon, nlon, np.float64)
    return (encode_axis("lat", lat, {"units": "degrees_north"}), encode_axis("lon", lon, {"units": "degrees_east"}))


