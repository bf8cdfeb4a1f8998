"""Write an xarray Dataset to zarr with the inrz codec, read it back, check the error bound.

    python examples/xarray/era5_to_zarr.py [NETCDF] [--variable t2m] [--bound 0.1] [--store /tmp/t2m.zarr]

Each (24, lat, lon) chunk, a day of hourly (or four days of 6-hourly) temperature, is one COIN
fit plus a residual that keeps every value within `--bound` of the original, in the
variable's units. Without NETCDF the script uses xarray's own tutorial dataset
`air_temperature` (NCEP reanalysis, 6-hourly, 25 x 53), which xarray downloads and caches
(it needs `pooch` and a network connection); with one, any NetCDF file with a
(time, lat, lon) variable. Needs `pip install 'inrz[era5,archive]'`.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
import xarray as xr

from inrz import InrzError, InrzZarrCodec

TUTORIAL = "air_temperature"  # xarray.tutorial's real reanalysis sample


def open_source(path: str | None) -> xr.Dataset:
    """The NetCDF file given, else xarray's tutorial dataset (downloaded once into xarray's cache)."""
    if path:
        return xr.open_dataset(path)
    try:
        return xr.tutorial.open_dataset(TUTORIAL)
    except Exception as exc:  # noqa: BLE001 - pooch missing, no network: say what to do instead
        raise SystemExit(f"cannot fetch xarray's tutorial dataset {TUTORIAL!r} ({type(exc).__name__}: {exc}); "
                         "pass a NetCDF file instead, e.g. python examples/xarray/era5_to_zarr.py t2m.nc") from exc


def pick_variable(ds: xr.Dataset, name: str | None) -> str:
    names = [str(v) for v in ds.data_vars if ds[v].ndim == 3]
    if name is None and len(names) == 1:
        return names[0]
    if name in names:
        return name
    raise SystemExit(f"choose a (time, lat, lon) variable with --variable: {', '.join(names) or 'none in this file'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("netcdf", nargs="?", default=None, help=f"a NetCDF file (default: xarray's {TUTORIAL!r})")
    ap.add_argument("--variable", default=None, help="the (time, lat, lon) variable (default: the only one)")
    ap.add_argument("--bound", type=float, default=0.1, help="maximum absolute error, in the variable's units")
    ap.add_argument("--store", default="/tmp/inrz-era5.zarr")
    ap.add_argument("--chunks", type=int, default=2, help="how many 24-step chunks to write")
    ap.add_argument("--steps", type=int, default=300, help="COIN fit steps per chunk")
    args = ap.parse_args(argv)

    source = open_source(args.netcdf)
    name = pick_variable(source, args.variable)
    ds = source[[name]].isel({source[name].dims[0]: slice(0, 24 * args.chunks)}).load()
    ds[name] = ds[name].astype(np.float32)
    chunks = (24, *ds[name].shape[1:])
    codec = InrzZarrCodec(max_abs_error=args.bound, backend={"id": "coin", "bpp": 1.0, "steps": args.steps, "lr": 1e-3})
    shutil.rmtree(args.store, ignore_errors=True)
    ds.to_zarr(args.store, zarr_format=3, mode="w",
               encoding={name: {"serializer": codec, "compressors": None, "chunks": chunks}})

    back = xr.open_zarr(args.store).load()
    err = float(np.abs(back[name].values.astype(np.float64) - ds[name].values).max())
    stored = sum(f.stat().st_size for f in Path(args.store).rglob("*") if f.is_file() and f"{name}/c" in str(f))
    print(f"{name}: {ds[name].nbytes} bytes of float32 -> {stored} bytes of chunks (ratio "
          f"{ds[name].nbytes / stored:.2f}), max abs error {err:.4f} (bound {args.bound}), units "
          f"{back[name].attrs.get('units')}")
    if err > args.bound:
        raise InrzError(f"the error bound does not hold: {err} > {args.bound}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
