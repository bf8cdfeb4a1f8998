"""NetCDF (and Zarr) through xarray: one variable's (lat, lon) field <-> a `Signal` whose `meta`
rebuilds the file: dims in file order, coordinates (compact for regular axes), attributes,
packing (dtype, _FillValue, scale_factor, add_offset) and global attributes.

Files are opened with `decode_times=False`: times stay the numbers and `units` the file has,
so a time axis xarray cannot decode ("days since 0000-00-00") round-trips like any other.
xarray and a NetCDF engine are imported only when a file is touched (`inrz[era5]`).
"""
from __future__ import annotations

import importlib.util
import math
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np

from inrz import ContainerError, InrzError, MissingDependencyError, Signal, require

from .grid import axis_values, encode_axis

LAT_NAMES = ("lat", "latitude", "lats", "nav_lat", "rlat")
LON_NAMES = ("lon", "longitude", "lons", "nav_lon", "rlon")
#: packing kept from a variable's encoding; everything else (chunks, compression, source) is the writer's choice
PACKING = ("dtype", "_FillValue", "missing_value", "scale_factor", "add_offset")
#: attributes kept with `attrs: cf` (variables, then the file): what a reader needs to interpret the numbers
CF_ATTRS = ("units", "long_name", "standard_name", "calendar", "axis", "positive", "valid_min", "valid_max",
            "valid_range")
CF_GLOBAL_ATTRS = ("Conventions", "license", "licence")
AttrsMode = Literal["all", "cf"]


class ClimateError(InrzError):
    """A climate file cannot be read as a (lat, lon) field, or a field cannot be written."""


def xarray():
    return require("xarray", "era5")


def engine() -> str:
    """The NetCDF4 engine to read and write with: netCDF4, else h5netcdf."""
    for module, name in (("netCDF4", "netcdf4"), ("h5netcdf", "h5netcdf")):
        if importlib.util.find_spec(module) is not None:
            return name
    raise MissingDependencyError("reading and writing NetCDF needs netCDF4 (or h5netcdf): pip install 'inrz[era5]'")


def is_zarr(path: Path) -> bool:
    return path.suffix == ".zarr" or (path / "zarr.json").exists() or (path / ".zgroup").exists()


def open_source(path: str | Path):
    """An xarray Dataset of a NetCDF file or a Zarr store (times not decoded)."""
    xr, path = xarray(), Path(path)
    if is_zarr(path) and importlib.util.find_spec("zarr") is None:
        raise MissingDependencyError(f"{path} is a Zarr store: pip install zarr")
    try:
        return xr.open_dataset(path, engine="zarr" if is_zarr(path) else engine(), decode_times=False,
                               decode_timedelta=False)
    except (OSError, ValueError, KeyError) as exc:
        raise ClimateError(f"cannot read {path} as NetCDF/Zarr: {exc}") from exc


def pick_variable(ds, variable: str | None) -> str:
    """`variable`, or the one data variable on a lat/lon grid (errors list the candidates)."""
    gridded = [str(v) for v in ds.data_vars if find_latlon(ds[v], strict=False)]
    if variable is not None:
        if variable not in ds.data_vars:
            raise ClimateError(f"no variable {variable!r}; the file has {', '.join(map(str, ds.data_vars))}")
        return variable
    if len(gridded) != 1:
        raise ClimateError(f"the file has {len(gridded)} variables on a lat/lon grid ({', '.join(gridded) or 'none'}); "
                           "choose one with `variable:` in the modality (and dataset) config")
    return gridded[0]


def _is_axis(da, dim: str, names: tuple[str, ...], units: str) -> bool:
    attrs = da[dim].attrs if dim in da.coords else {}
    return (dim.lower() in names or str(attrs.get("units", "")).lower() in (units, units.replace("s_", "_"))
            or attrs.get("standard_name") == names[1])


def find_latlon(da, strict: bool = True) -> tuple[str, str] | None:
    """The names of the latitude and longitude dims (by name, CF units or standard_name)."""
    lat = [d for d in da.dims if _is_axis(da, str(d), LAT_NAMES, "degrees_north")]
    lon = [d for d in da.dims if _is_axis(da, str(d), LON_NAMES, "degrees_east")]
    if len(lat) == 1 and len(lon) == 1:
        return str(lat[0]), str(lon[0])
    if strict:
        raise ClimateError(f"variable {da.name!r} with dims {tuple(da.dims)} is not on a lat/lon grid: the climate "
                           "modality needs 1-D latitude and longitude dimensions (regrid curvilinear data first)")
    return None


def select_step(da, time_index: int | None):
    """The one step of a variable: dims other than lat/lon must have one value, or be the single
    dim `time_index` picks from (kept as a length-1 dim so the file keeps its shape)."""
    lat, lon = find_latlon(da)
    many = [str(d) for d in da.dims if d not in (lat, lon) and da.sizes[d] > 1]
    if not many:
        return da
    if len(many) == 1 and time_index is not None:
        if not -da.sizes[many[0]] <= time_index < da.sizes[many[0]]:
            raise ClimateError(f"time_index {time_index} is outside {many[0]} (length {da.sizes[many[0]]})")
        index = time_index % da.sizes[many[0]]
        return da.isel({many[0]: slice(index, index + 1)})
    sizes = ", ".join(f"{d}={da.sizes[d]}" for d in many)
    raise ClimateError(f"variable {da.name!r} has several steps ({sizes}); pick one with the modality's `time_index` "
                       "(one extra dim) or list every step as a datum with the `netcdf_steps` dataset "
                       "(`select:` fixes the other dims)")


def to_signal(da, global_attrs: dict, attrs: AttrsMode = "all") -> Signal:
    """A single-step variable as `Signal((nlat, nlon, 1) in its decoded dtype, meta)`."""
    lat, lon = find_latlon(da)
    others = [str(d) for d in da.dims if d not in (lat, lon)]
    if any(da.sizes[d] != 1 for d in others):
        da = select_step(da, None)  # raises with instructions
    data = np.asarray(da.transpose(*others, lat, lon).values).reshape(da.sizes[lat], da.sizes[lon], 1)
    meta: dict[str, Any] = {"variable": str(da.name), "dims": [str(d) for d in da.dims], "shape": list(data.shape),
                            "dtype": data.dtype.name}
    meta["lat"], meta["lon"] = (_axis(da[name], attrs) for name in (lat, lon))
    coords = {str(c): _coord(da[c], attrs) for c in da.coords
              if c not in (lat, lon) and set(da[c].dims) <= set(others)}
    _put(meta, "coords", coords)
    _put(meta, "attrs", _attrs(da.attrs, attrs, CF_ATTRS))
    _put(meta, "encoding", _packing(da.encoding, data.dtype))
    _put(meta, "global_attrs", _attrs(global_attrs, attrs, CF_GLOBAL_ATTRS))
    return Signal(data, meta)


def _put(meta: dict, key: str, value: dict) -> None:
    """Empty entries are left out: every header byte counts in the rate."""
    if value:
        meta[key] = value


def _axis(coord, attrs: AttrsMode) -> dict:
    return encode_axis(str(coord.name), np.asarray(coord.values), _attrs(coord.attrs, attrs, CF_ATTRS),
                       _packing(coord.encoding, coord.dtype))


def _coord(coord, attrs: AttrsMode) -> dict:
    out: dict[str, Any] = {"dims": [str(d) for d in coord.dims], "dtype": coord.dtype.name,
                           "values": [v.item() for v in np.asarray(coord.values).ravel()]}
    _put(out, "attrs", _attrs(coord.attrs, attrs, CF_ATTRS))
    _put(out, "encoding", _packing(coord.encoding, coord.dtype))
    return out


def _attrs(attrs: dict, mode: AttrsMode, keep: tuple[str, ...]) -> dict:
    return {str(k): json_value(v) for k, v in attrs.items() if mode == "all" or k in keep}


def _packing(encoding: dict, dtype) -> dict:
    """How values are stored on disk; `_FillValue: None` records that there is none (xarray
    would otherwise add NaN to every float variable it writes)."""
    out = {k: json_value(encoding[k]) for k in PACKING if k in encoding}
    if "dtype" in out and out["dtype"] == np.dtype(dtype).name:
        del out["dtype"]
    if "_FillValue" not in encoding and np.dtype(dtype).kind == "f":
        out["_FillValue"] = None
    return out


def json_value(value: Any) -> Any:
    """An attribute as JSON: numpy scalars and arrays as numbers and lists, NaN/inf as strings."""
    if isinstance(value, np.dtype):
        return value.name
    if isinstance(value, np.ndarray):
        if value.size == 1:
            return json_value(value.item())
        return [json_value(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # "nan", "inf", "-inf"
    return value


def _from_json_packing(encoding: dict) -> dict:
    out = dict(encoding)
    for key in ("_FillValue", "missing_value"):
        if isinstance(out.get(key), str):
            out[key] = float(out[key])
    return out


# --- writing -----------------------------------------------------------------------------------

def to_dataset(signal: Signal):
    """The xarray Dataset `save` writes: the variable in its file dims, coordinates, attributes."""
    xr, meta = xarray(), signal.meta
    lat, lon = meta["lat"], meta["lon"]
    others = [d for d in meta["dims"] if d not in (lat["name"], lon["name"])]
    data = np.asarray(signal.data)[..., 0].reshape([1] * len(others) + list(signal.data.shape[:2]))
    da = xr.DataArray(data, dims=others + [lat["name"], lon["name"]], name=meta["variable"],
                      attrs=dict(meta.get("attrs", {}))).transpose(*meta["dims"])
    for axis in (lat, lon):
        da = da.assign_coords({axis["name"]: _coord_array(xr, [axis["name"]], axis_values(axis), axis)})
    for name, c in meta.get("coords", {}).items():
        shape = [da.sizes[d] for d in c["dims"]]
        values = np.asarray(c["values"], c["dtype"]).reshape(shape)
        da = da.assign_coords({name: _coord_array(xr, c["dims"], values, c)})
    da.encoding = _from_json_packing(meta.get("encoding", {}))
    ds = da.to_dataset()
    ds.attrs = dict(meta.get("global_attrs", {}))
    return ds


def _coord_array(xr, dims: list[str], values: np.ndarray, c: dict):
    out = xr.Variable(dims, values, attrs=dict(c.get("attrs", {})))
    out.encoding = _from_json_packing(c.get("encoding", {}))
    return out


def check_names(meta: dict[str, Any]) -> None:
    """The names `save` writes, from a container header: the variable, its dims (with lat and lon)
    and attribute objects; anything else it reads raises `ClimateError` when written."""
    dims, names = meta.get("dims"), [meta.get(k, {}).get("name") for k in ("lat", "lon") if isinstance(meta.get(k), dict)]
    ok = isinstance(meta.get("variable"), str) and isinstance(dims, list) and all(isinstance(d, str) for d in dims)
    ok = ok and set(names) <= set(dims) and all(isinstance(meta.get(k, {}), dict) for k in
                                                 ("attrs", "coords", "encoding", "global_attrs"))
    if not ok:
        raise ContainerError("header meta must name the variable, its dims (lat and lon among them) and hold "
                             "attrs, coords and encoding as objects")


def write(signal: Signal, path: str | Path) -> None:
    """Write a NetCDF4 file (deterministic bytes for the same signal)."""
    try:
        ds = to_dataset(signal)
        with warnings.catch_warnings():  # packed ints without a _FillValue are what the source file had
            warnings.filterwarnings("ignore", "saving variable .* as an integer dtype without any _FillValue")
            ds.to_netcdf(path, engine=engine(), format="NETCDF4")
    except (OSError, ValueError, TypeError, OverflowError) as exc:
        raise ClimateError(f"cannot write {meta_name(signal)} to {path}: {exc}") from exc


def meta_name(signal: Signal) -> str:
    return f"{signal.meta.get('variable', 'field')} {tuple(signal.data.shape)} {signal.data.dtype}"
