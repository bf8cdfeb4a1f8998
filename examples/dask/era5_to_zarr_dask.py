"""Write an xarray Dataset with dask chunks to zarr through the inrz codec, in parallel on a
`dask.distributed` LocalCluster, then read it back and check the error bound.

    python examples/dask/era5_to_zarr_dask.py [NETCDF] [--workers 2] [--bound 0.1] [--preset fast]

Each worker is a process with one torch thread (`inrz.TorchThreads`, and OMP_NUM_THREADS=1
in its environment), so two workers on two cores do not oversubscribe them. Zarr chunks
that do not divide the array are padded with NaN (xarray's fill value): those values are
kept exactly. Needs `pip install 'inrz[era5,dask]'`.
"""
from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import numpy as np
import xarray as xr
from distributed import Client, LocalCluster

from inrz import InrzZarrCodec, TorchThreads

DEFAULT = Path(__file__).resolve().parents[3] / "shared" / "data" / "climate" / "era5_t2m_2019-03_uk.nc"


def write(ds: xr.Dataset, store: str, workers: int, codec: InrzZarrCodec, chunks: tuple[int, ...]) -> float:
    """Seconds to write `ds` (dask-chunked along time) to `store` on a fresh LocalCluster."""
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           env={"OMP_NUM_THREADS": "1"})
    with cluster, Client(cluster) as client:
        client.register_plugin(TorchThreads(1))
        start = time.perf_counter()
        ds.chunk({"time": chunks[0]}).to_zarr(store, zarr_format=3, mode="w", encoding={
            name: {"serializer": codec, "compressors": None, "chunks": chunks} for name in ds.data_vars})
        return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("netcdf", nargs="?", default=str(DEFAULT))
    ap.add_argument("--bound", type=float, default=0.1, help="maximum absolute error, in the variable's units")
    ap.add_argument("--store", default="/tmp/inrz-era5-dask.zarr")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--hours", type=int, default=96)
    ap.add_argument("--chunks", type=int, nargs="+", default=[10, 16, 16], help="zarr chunk shape (time, lat, lon)")
    ap.add_argument("--preset", choices=["fast", "best"], default="fast")
    args = ap.parse_args()

    ds = xr.open_dataset(args.netcdf)[["t2m"]].isel(time=slice(0, args.hours)).load()
    codec = InrzZarrCodec(max_abs_error=args.bound, preset=args.preset)
    shutil.rmtree(args.store, ignore_errors=True)
    seconds = write(ds, args.store, args.workers, codec, tuple(args.chunks))

    back = xr.open_zarr(args.store).load()
    err = float(np.abs(back["t2m"].values.astype(np.float64) - ds["t2m"].values).max())
    stored = sum(f.stat().st_size for f in Path(args.store).rglob("*") if f.is_file() and "t2m/c" in str(f))
    print(f"{ds['t2m'].nbytes} bytes of float32 -> {stored} bytes of chunks (ratio {ds['t2m'].nbytes / stored:.2f}) "
          f"in {seconds:.2f} s on {args.workers} workers ({ds['t2m'].nbytes / seconds / 1e6:.2f} MB/s, cluster start "
          f"excluded), max abs error {err:.4f} K (bound {args.bound} K)")
    assert err <= args.bound


if __name__ == "__main__":
    main()
