"""Write an xarray Dataset to zarr with the inrz codec, read it back, check the error bound.

    python examples/xarray/era5_to_zarr.py [NETCDF] [--bound 0.1] [--store /tmp/t2m.zarr]

Each (24, 33, 49) chunk, a day of hourly 2 m temperature, is one COIN fit plus a residual
that keeps every value within `--bound` kelvin. Needs `pip install 'inrz[era5,archive]'`.
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import xarray as xr

from inrz import InrzZarrCodec

DEFAULT = Path(__file__).resolve().parents[3] / "shared" / "data" / "climate" / "era5_t2m_2019-03_uk.nc"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("netcdf", nargs="?", default=str(DEFAULT))
    ap.add_argument("--bound", type=float, default=0.1, help="maximum absolute error, in the variable's units")
    ap.add_argument("--store", default="/tmp/inrz-era5.zarr")
    ap.add_argument("--days", type=int, default=2, help="how many 24-hour chunks to write")
    ap.add_argument("--steps", type=int, default=300, help="COIN fit steps per chunk")
    args = ap.parse_args()

    ds = xr.open_dataset(args.netcdf)[["t2m"]].isel(time=slice(0, 24 * args.days)).load()
    codec = InrzZarrCodec(max_abs_error=args.bound, backend={"id": "coin", "bpp": 1.0, "steps": args.steps, "lr": 1e-3})
    shutil.rmtree(args.store, ignore_errors=True)
    ds.to_zarr(args.store, zarr_format=3, mode="w",
               encoding={"t2m": {"serializer": codec, "compressors": None, "chunks": (24, 33, 49)}})

    back = xr.open_zarr(args.store).load()
    err = float(np.abs(back["t2m"].values.astype(np.float64) - ds["t2m"].values).max())
    stored = sum(f.stat().st_size for f in Path(args.store).rglob("*") if f.is_file() and "t2m/c" in str(f))
    print(f"{ds['t2m'].nbytes} bytes of float32 -> {stored} bytes of chunks (ratio {ds['t2m'].nbytes / stored:.2f}), "
          f"max abs error {err:.4f} K (bound {args.bound} K), units {back['t2m'].attrs.get('units')}")
    assert err <= args.bound


if __name__ == "__main__":
    main()
