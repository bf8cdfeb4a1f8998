"""The `climate` modality: one variable on a lat/lon grid at one time step (a NetCDF file),
as a `(nlat, nlon, 1)` array in physical units, coordinates on the unit sphere.

Why the sphere: a global field is continuous across the date line and single-valued at the
poles; (cos lat cos lon, cos lat sin lon, sin lat) gives the network exactly that geometry
(d_in = 3), as in COIN++'s ERA5 experiments. `coordinates: grid` keeps the core's [-1, 1]
grid instead, which suits small regional grids (a few degrees span little of the sphere).

Normalisation: features are `(x - lo) / (hi - lo)` with the field's own min/max (kept in
`meta["range"]`, which also makes `psnr` the PSNR of the normalised field) or a fixed
`value_range` shared by every datum. Missing values (NaN) are filled for the fit and put back
from a run-length list in the normalisation record.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal, Sequence

import numpy as np
from pydantic import Field, model_validator

from inrz import ComponentConfig, ContainerError, Modality, Placement, Signal, fields, missing

from . import grid, netcdf
from .netcdf import ClimateError


class ClimateConfig(ComponentConfig):
    variable: str | None = None  # variable to read; None: the file's one variable on a lat/lon grid
    time_index: int | None = None  # step to read from a file holding several (single-step files need none)
    coordinates: Literal["sphere", "grid"] = "sphere"  # unit-sphere xyz (d_in 3) or the core's [-1, 1] grid
    value_range: list[float] | None = Field(None, min_length=2, max_length=2)  # fixed [lo, hi]; None: per field
    attrs: Literal["all", "cf"] = "all"  # attributes carried in the header: all, or the CF essentials (smaller)

    @model_validator(mode="after")
    def _ordered_range(self):
        if self.value_range is not None and not self.value_range[0] < self.value_range[1]:
            raise ValueError("value_range must be [lo, hi] with lo < hi")
        return self


class ClimateModality(Modality):
    """A gridded field (2 m temperature, geopotential, ...) as `(nlat, nlon, 1)` in its units."""

    id = "climate"
    Config: ClassVar = ClimateConfig
    extensions = (".nc", ".nc4", ".netcdf")
    unit = "grid point"
    default_metrics = ("field_rmse", "lat_weighted_rmse", "psnr", "max_abs_error")

    @classmethod
    def available(cls) -> str | None:
        return missing("xarray", "era5")

    @classmethod
    def example_signal(cls) -> Signal | None:
        from .example import example_signal

        return example_signal()

    # --- file I/O -----------------------------------------------------------------------------
    def load(self, path: str | Path) -> Signal:
        with netcdf.open_source(path) as ds:
            name = netcdf.pick_variable(ds, self.config.variable)
            da = netcdf.select_step(ds[name], self.config.time_index).load()
            signal = netcdf.to_signal(da, ds.attrs, self.config.attrs)
        return self._with_range(signal)

    def save(self, signal: Signal, path: str | Path) -> None:
        netcdf.write(signal, path)

    def from_array(self, array: np.ndarray, meta: dict[str, Any] | None = None) -> Signal:
        """`(nlat, nlon)` or `(nlat, nlon, 1)`; without `lat`/`lon` in `meta`, a global grid of cell centres."""
        data = np.asarray(array)
        data = data[..., None] if data.ndim == 2 else data
        if data.ndim != 3 or data.shape[-1] != 1 or data.dtype.kind not in "fiu" or 0 in data.shape:
            raise ClimateError(f"climate arrays are (nlat, nlon) or (nlat, nlon, 1) numbers, got {data.dtype} "
                               f"{tuple(np.shape(array))}")
        meta = dict(meta or {})
        if "lat" not in meta or "lon" not in meta:
            meta["lat"], meta["lon"] = grid.default_axes(*data.shape[:2])
        counts = (grid.axis_count(meta["lat"]), grid.axis_count(meta["lon"]))
        if counts != data.shape[:2]:
            raise ClimateError(f"meta describes a {counts[0]}x{counts[1]} grid, the array is "
                               f"{data.shape[0]}x{data.shape[1]}; pass meta without lat/lon or matching axes")
        meta.setdefault("variable", "data")
        meta.setdefault("dims", [meta["lat"]["name"], meta["lon"]["name"]])
        meta.update(shape=list(data.shape), dtype=data.dtype.name)
        return self._with_range(Signal(data, meta))

    def _with_range(self, signal: Signal) -> Signal:
        """Record the field's min/max: the normalisation and the PSNR peak come from it."""
        valid = signal.data[np.isfinite(signal.data)] if signal.data.dtype.kind == "f" else signal.data
        if valid.size == 0:
            raise ClimateError(f"{netcdf.meta_name(signal)} has no finite value")
        signal.meta["range"] = [float(valid.min()), float(valid.max())]
        return signal

    # --- features -----------------------------------------------------------------------------
    def _lo_scale(self, meta: dict[str, Any]) -> tuple[float, float]:
        lo, hi = self.config.value_range or meta["range"]
        return float(lo), float(hi - lo) if hi > lo else 1.0

    def to_features(self, signal: Signal) -> tuple[np.ndarray, dict[str, Any]]:
        lo, scale = self._lo_scale(signal.meta)
        x = (signal.data.astype(np.float64) - lo) / scale  # (nlat, nlon, 1)
        nan = np.isnan(x)
        if self.config.value_range and (np.nanmin(x) < 0 or np.nanmax(x) > 1):
            raise ClimateError(f"values span {signal.meta['range']}, outside value_range {self.config.value_range}; "
                               "widen it (or set value_range: null to normalise each field by its own range)")
        norm: dict[str, Any] = {}
        if nan.any():
            x[nan] = np.nanmean(x)  # a neutral value for the fit; the mask is restored on decode
            norm["nan"] = {"grid": list(x.shape[:2]), "runs": nan_runs(nan.ravel())}
        return x.astype(np.float32), norm

    def from_features(self, features: np.ndarray, meta: dict[str, Any], norm: dict[str, Any]) -> Signal:
        """Clamp to [0, 1], rescale, restore missing values, cast to the native dtype."""
        if features.ndim != 3 or features.shape[-1] != 1:
            raise ClimateError(f"expected features (nlat, nlon, 1), got shape {tuple(features.shape)}")
        lo, scale = self._lo_scale(meta)
        x = lo + np.clip(features.astype(np.float64), 0.0, 1.0) * scale
        nan = norm.get("nan")
        if nan and list(x.shape[:2]) == nan["grid"]:
            x.reshape(-1)[runs_mask(nan["runs"], x.size)] = np.nan
        dtype = np.dtype(meta["dtype"])
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            x = np.clip(np.rint(np.nan_to_num(x)), info.min, info.max)
        return Signal(x.astype(dtype), {**meta, "shape": list(x.shape)})

    def check_header(self, meta, norm, grid_shape, d_out) -> None:
        """(nlat, nlon, 1) = grid, a numeric dtype, a finite range, lat/lon axes of the grid's
        lengths, the names `save` writes, and a missing-value mask inside the grid."""
        shape = fields.int_list(meta, "shape", "meta", length=3)
        if len(grid_shape) != 2 or shape != [*grid_shape, 1] or d_out != 1:
            raise ContainerError(f"header meta.shape {shape} does not fit grid {list(grid_shape)} with {d_out} channels")
        dtype = fields.dtype(meta, "dtype", "meta", allowed=[n for n in fields.NUMERIC_NAMES if n != "bool"])
        lo, hi = self.config.value_range or fields.number_list(meta, "range", "meta", length=2)
        top = float(np.finfo(dtype).max) if dtype.kind == "f" else fields.FLOAT_MAX
        if not (-top <= lo <= hi <= top and abs(float(hi) - float(lo)) <= fields.FLOAT_MAX):
            raise ContainerError(f"header meta.range or value_range [{lo!r}, {hi!r}] is not a finite range")
        if ("lat" in meta) != ("lon" in meta):
            raise ContainerError("header meta holds one of lat and lon without the other")
        for key, n in zip(("lat", "lon"), grid_shape):
            if key in meta:
                grid.check_axis(meta[key], n, f"meta.{key}")
        netcdf.check_names(meta)
        if "nan" in norm:
            check_nan_runs(fields.mapping(norm, "nan", "norm"), int(np.prod(grid_shape, dtype=np.int64)))

    # --- grid ----------------------------------------------------------------------------------
    def coordinates(self, grid_shape: Sequence[int], region: Sequence[tuple[float, float]] | None = None,
                    meta: dict[str, Any] | None = None) -> np.ndarray:
        """Sphere coordinates `(nlat, nlon, 3)` of the field's own lat/lon (see `grid.positions`
        for other shapes and regions); `coordinates: grid` gives the core's [-1, 1] grid."""
        if self.config.coordinates == "grid" or meta is None or "lat" not in meta:
            return super().coordinates(grid_shape, region, meta)
        if len(grid_shape) != 2:
            raise ClimateError(f"climate grids have 2 axes (lat, lon), got shape {tuple(grid_shape)}")
        lat, lon = (grid.positions(grid.axis_values(meta[k]), n, None if region is None else tuple(region[i]))
                    for i, (k, n) in enumerate(zip(("lat", "lon"), grid_shape)))
        return grid.sphere(lat, lon)

    def resized_meta(self, meta: dict[str, Any], grid_shape: Sequence[int],
                     placement: Sequence[Placement] | None = None) -> dict[str, Any]:
        """A rendering's lat/lon axes: the native axes interpolated where the rendered samples sit
        (a region's own coordinates, a finer grid's in-between ones), as the network was evaluated."""
        out = super().resized_meta(meta, grid_shape, placement)
        for i, (key, n) in enumerate(zip(("lat", "lon"), grid_shape)):
            axis = meta[key]
            native = grid.axis_values(axis)
            if placement is None:
                values = grid.positions(native, n, (-1.0, 1.0))
            else:
                values = grid.at_index(native.astype(np.float64), placement[i].start + placement[i].step * np.arange(n))
            values = values.astype(axis["dtype"])
            kept = {k: axis[k] for k in ("attrs", "encoding") if k in axis}
            out[key] = {**grid.encode_axis(axis["name"], values), **kept}
        return out

    def periodic_axes(self, meta: dict[str, Any]) -> tuple[bool, ...]:
        """Longitude wraps around when the grid circles the globe (its step times its count is 360°)."""
        return (False, grid.is_global_lon(grid.axis_values(meta["lon"])))
    def axis_names(self, meta: dict[str, Any], ndim: int) -> tuple[str, ...]:
        """The file's own latitude and longitude dimension names."""
        if "lat" in meta and "lon" in meta and ndim == 2:
            return meta["lat"]["name"], meta["lon"]["name"]
        return super().axis_names(meta, ndim)

    def value_unit(self, meta: dict[str, Any]) -> str | None:
        """The variable's CF `units` attribute (K for temperature), when the file has one."""
        units = meta.get("attrs", {}).get("units")
        return units if isinstance(units, str) and units else None

    def peak(self, meta: dict[str, Any]) -> float:
        """The normalisation's span, so `psnr` is the PSNR of the [0, 1] field (COIN++'s figure)."""
        if self.config.value_range is None and "range" not in meta:
            return 1.0
        return self._lo_scale(meta)[1]


def nan_runs(mask: np.ndarray) -> list[list[int]]:
    """[[start, length], ...] of the True runs of a flat mask: compact for land/sea masks."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [[int(s), int(e - s)] for s, e in zip(starts, ends)]


def check_nan_runs(nan: dict[str, Any], size: int) -> None:
    """A header's missing-value record: [start, length] runs inside a grid of `size` points."""
    runs = nan.get("runs")
    ok = isinstance(runs, list) and len(runs) <= size and all(
        isinstance(r, list) and len(r) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in r)
        and 0 <= r[0] and 0 < r[1] and r[0] + r[1] <= size for r in runs)
    fields.int_list(nan, "grid", "norm.nan", length=2)
    if not ok:
        raise ContainerError(f"header norm.nan.runs must be [start, length] runs inside the {size} grid points")


def runs_mask(runs: list[list[int]], size: int) -> np.ndarray:
    mask = np.zeros(size, bool)
    for start, length in runs:
        mask[start:start + length] = True
    return mask
