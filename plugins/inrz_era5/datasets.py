"""Datasets of climate fields: every time step of a NetCDF file (or Zarr store) is a datum.

inrz datasets list files, so each selected step is written once as its own small NetCDF file
(all coordinates, attributes and packing kept) under `<cache>/climate/<source>-<hash>/`, the
way `cifar10` writes PNGs. A datum is then an ordinary file: runs key and resume on it, the
`climate` modality reads it, and `inrz decompress` writes the same kind of file back.
The hash covers the source's bytes and every setting here, so a change re-extracts.

`stride` subsamples (the COIN++ paper's 46x90 ERA5 grids are the 0.25-degree grid with stride
16); `grid` interpolates linearly onto evenly spaced axes over the same extent (the whole
circle for global longitudes), e.g. a 64x128 Gaussian grid onto 46x90.
"""
from __future__ import annotations

import calendar
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from inrz import (ComponentConfig, Dataset, DatasetError, DatasetItem, MissingDependencyError, cache_dir, resolve,
                  sha256_of)

from . import grid, netcdf

FORMAT = 1  # bump when the extracted files change, so old extractions are not reused


class StepsConfig(ComponentConfig):
    path: str  # a NetCDF file, a Zarr store, or a folder of them (relative to the spec file)
    glob: str = "*.nc"  # files taken from a folder
    variable: str | None = None  # None: the one data variable on a lat/lon grid
    time_dim: str | None = None  # whose steps are data; None: the one dim besides lat/lon left after `select`
    select: dict[str, int | float | str] = {}  # fix other dims by label, e.g. {level: 500}
    start: int = 0  # steps [start:stop:every] of each file (Python slice semantics)
    stop: int | None = None
    every: int = Field(1, ge=1)
    stride: list[int] = Field([1, 1], min_length=2, max_length=2)  # keep every n-th [lat, lon] (46x90: [16, 16])
    grid: list[int] | None = Field(None, min_length=2, max_length=2)  # [nlat, nlon]: linear regrid after stride
    cache_dir: str | None = None  # where extracted steps go (<cache>/climate/); None: inrz's cache dir


class NetcdfSteps(Dataset):
    """One datum per time step of a variable on a lat/lon grid, from NetCDF files or Zarr stores."""

    id = "netcdf_steps"
    Config: ClassVar = StepsConfig

    def items(self, base_dir: Path | None = None) -> list[DatasetItem]:
        root = cache_dir(self.config.cache_dir) / "climate"
        out = []
        for source in self.sources(base_dir):
            folder = root / f"{source.name.split('.')[0]}-{self.key(source)}"
            out += [DatasetItem(name, folder / f"{name}.nc") for name in self._extracted(source, folder)]
        return out

    def sources(self, base_dir: Path | None) -> list[Path]:
        path = resolve(self.config.path, base_dir)
        if path.is_file() or netcdf.is_zarr(path):
            return [path]
        if not path.is_dir():
            raise DatasetError(f"climate data {path} does not exist (a NetCDF file, Zarr store or folder)")
        files = sorted(p for p in path.glob(self.config.glob) if p.is_file() or netcdf.is_zarr(p))
        if not files:
            raise DatasetError(f"no files match {self.config.glob!r} in {path}")
        return files

    def key(self, source: Path) -> str:
        settings = self.config.model_dump(mode="json", exclude={"path", "glob", "cache_dir"})
        digest = hashlib.sha256(json.dumps([FORMAT, _content_hash(source), settings], sort_keys=True).encode())
        return digest.hexdigest()[:16]

    def _extracted(self, source: Path, folder: Path) -> list[str]:
        """The step names in `folder`, extracting them first (into a temp folder, then renamed)."""
        index = folder / "steps.json"
        if not index.exists():
            tmp = folder.with_name(f".{folder.name}.{os.getpid()}.part")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            try:
                names = self._extract(source, tmp)
                (tmp / "steps.json").write_text(json.dumps(names))
                if not index.exists():
                    shutil.rmtree(folder, ignore_errors=True)
                    os.replace(tmp, folder)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        return json.loads(index.read_text())

    def _extract(self, source: Path, out: Path) -> list[str]:
        with netcdf.open_source(source) as ds:
            da = ds[netcdf.pick_variable(ds, self.config.variable)]
            try:
                da = da.sel(self.config.select) if self.config.select else da
            except (KeyError, ValueError) as exc:
                raise DatasetError(f"{source}: cannot select {self.config.select}: {exc}") from exc
            dim = self._time_dim(da, source)
            c = self.config
            indices = list(range(da.sizes[dim])[c.start:c.stop:c.every]) if dim else [None]
            if not indices:
                raise DatasetError(f"{source}: steps [{self.config.start}:{self.config.stop}] select nothing "
                                   f"({dim} has {da.sizes[dim]})")
            names = []
            for i in indices:
                step = (da.isel({dim: slice(i, i + 1)}) if dim else da).load()
                names.append(f"{source.name.split('.')[0]}_t{i:05d}" if dim else source.name.split(".")[0])
                netcdf.write(netcdf.to_signal(self._reshape(step), ds.attrs), out / f"{names[-1]}.nc")
        return names

    def _time_dim(self, da, source: Path) -> str | None:
        lat, lon = netcdf.find_latlon(da)
        if self.config.time_dim is not None:
            if self.config.time_dim not in da.dims:
                raise DatasetError(f"{source}: {da.name!r} has no dim {self.config.time_dim!r} "
                                   f"(dims: {tuple(da.dims)})")
            return self.config.time_dim
        many = [str(d) for d in da.dims if d not in (lat, lon) and da.sizes[d] > 1]
        if len(many) > 1:
            raise DatasetError(f"{source}: {da.name!r} has several dims besides lat/lon ({', '.join(many)}); set "
                               "`time_dim` and fix the others with `select`, e.g. select: {level: 500}")
        return many[0] if many else None

    def _reshape(self, da):
        """Subsample by `stride`, then regrid to `grid`, keeping the variable's dtype and attributes."""
        lat, lon = netcdf.find_latlon(da)
        if self.config.stride != [1, 1]:
            da = da.isel({lat: slice(None, None, self.config.stride[0]), lon: slice(None, None, self.config.stride[1])})
        return regrid(da, lat, lon, self.config.grid) if self.config.grid else da


def regrid(da, lat: str, lon: str, shape: list[int]):
    """Linear interpolation onto `shape` evenly spaced (lat, lon) over the same extent."""
    xr = netcdf.xarray()
    order = [d for d in da.dims if d not in (lat, lon)] + [lat, lon]
    values = np.asarray(da.transpose(*order).values, np.float64)
    periodic = grid.is_global(np.asarray(da[lon].values, np.float64))
    coords = {}
    for axis, name, n, wrap in ((-2, lat, shape[0], False), (-1, lon, shape[1], periodic)):
        old = np.asarray(da[name].values)
        new = grid.even_axis(old, n, wrap, old.dtype)
        values = grid.regrid_axis(values, axis % values.ndim, old, new, wrap)
        coords[name] = xr.Variable([name], new, attrs=da[name].attrs, encoding=da[name].encoding)
    others = {str(c): da[c] for c in da.coords if lat not in da[c].dims and lon not in da[c].dims}
    out = xr.DataArray(values.astype(da.dtype), dims=order, coords={**others, **coords}, name=da.name, attrs=da.attrs)
    out.encoding = dict(da.encoding)
    return out.transpose(*da.dims)


def _content_hash(path: Path) -> str:
    if path.is_file():
        return sha256_of(path)
    h = hashlib.sha256()  # a Zarr store: every file's name and bytes
    for p in sorted(q for q in path.rglob("*") if q.is_file()):
        h.update(str(p.relative_to(path)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


# --- ERA5 from the Copernicus Climate Data Store ------------------------------------------------

CDS_DATASET = "reanalysis-era5-single-levels"
CDS_HELP = ("https://cds.climate.copernicus.eu/how-to-api: create an account, accept the ERA5 licence, put your "
            "key in ~/.cdsapirc")


class Era5Config(StepsConfig):
    path: str | None = None  # folder of ERA5 NetCDF files (relative to the spec); downloads go here. None: cache
    glob: str | None = None  # use the local files matching this as they are; None: years x months, downloading gaps
    variable: str | None = "t2m"
    years: list[int] = [2019]
    months: list[int] = Field(default_factory=lambda: list(range(1, 13)))
    days: list[int] = Field(default_factory=lambda: list(range(1, 32)))  # days a month lacks are left out
    hours: list[int] = [0, 6, 12, 18]
    degrees: float = Field(4.0, gt=0)  # the CDS regrids to this spacing: 4.0 gives the paper's 46x90 grids


class Era5(NetcdfSteps):
    """ERA5 2 m temperature as global grids, one datum per hour: the months `years` x `months`
    as `era5_t2m_YYYY-MM.nc` under `path`, each downloaded with `cdsapi` unless it is there
    (a Copernicus Climate Data Store account is needed), or any local files matching `glob`.
    """

    id = "era5"
    Config: ClassVar = Era5Config
    cds_variable: ClassVar[str] = "2m_temperature"

    def sources(self, base_dir: Path | None) -> list[Path]:
        folder = resolve(self.config.path, base_dir) if self.config.path else cache_dir(self.config.cache_dir) / "era5"
        if self.config.glob is not None:
            files = sorted(folder.glob(self.config.glob)) if folder.is_dir() else []
            if not files:
                raise DatasetError(f"no ERA5 files match {self.config.glob!r} in {folder}; remove `glob` to download "
                                   "the months in `years` x `months`")
            return files
        wanted = {(y, m): folder / f"era5_t2m_{y}-{m:02d}.nc" for y in self.config.years for m in self.config.months}
        missing = {k: p for k, p in wanted.items() if not p.exists()}
        if missing:
            self.download(missing, folder)
        return list(wanted.values())

    def download(self, files: dict[tuple[int, int], Path], folder: Path) -> None:
        try:
            import cdsapi
        except ImportError as exc:
            raise MissingDependencyError(
                f"{len(files)} ERA5 month(s) are not in {folder} (e.g. {next(iter(files.values())).name}), and "
                f"downloading them needs cdsapi: pip install cdsapi, then {CDS_HELP}; or put NetCDF files there "
                "yourself (`glob:` uses any local files as they are; the `netcdf_steps` dataset reads any folder)"
            ) from exc
        folder.mkdir(parents=True, exist_ok=True)
        client = cdsapi.Client()
        for (year, month), target in files.items():
            self._retrieve(client, target, year, month)

    def _retrieve(self, client: Any, target: Path, year: int, month: int) -> None:
        request = {"product_type": ["reanalysis"], "variable": [self.cds_variable], "year": [str(year)],
                   "month": [f"{month:02d}"],
                   "day": [f"{d:02d}" for d in self.config.days if d <= calendar.monthrange(year, month)[1]],
                   "time": [f"{h:02d}:00" for h in self.config.hours], "grid": [self.config.degrees] * 2,
                   "data_format": "netcdf", "download_format": "unarchived"}
        tmp = target.with_name(target.name + ".part")
        try:
            client.retrieve(CDS_DATASET, request, str(tmp))
            os.replace(tmp, target)
        except Exception as exc:  # cdsapi raises bare Exceptions for HTTP, licence and queue errors
            raise DatasetError(f"ERA5 download of {target.name} failed: {exc}; check {CDS_HELP}") from exc
        finally:
            tmp.unlink(missing_ok=True)
