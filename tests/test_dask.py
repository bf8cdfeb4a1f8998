"""Dask: an xarray Dataset with dask chunks written to zarr through the inrz codec on a
LocalCluster of 2 worker processes (one torch thread each), read back in a fresh process."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from .conftest import data_file

BOUND = 0.1
READ_BACK = ("import sys, numpy as np, xarray as xr; ds = xr.open_zarr(sys.argv[1]).load(); "
             "sys.stdout.write(ds['t2m'].values.astype('<f4').tobytes().hex())")


def test_dask_writes_zarr_through_inrz_on_two_workers(tmp_path):
    distributed = pytest.importorskip("distributed")
    xr = pytest.importorskip("xarray")
    pytest.importorskip("zarr")
    from inrz import InrzZarrCodec, TorchThreads

    t2m = np.load(data_file("climate", "era5_t2m_2019-03_uk.npz"))["t2m"][:48]
    ds = xr.Dataset({"t2m": (("time", "lat", "lon"), t2m)}).chunk({"time": 10})  # 48 = 4 x 10 + 8: padded edges
    codec = InrzZarrCodec(max_abs_error=BOUND, backend={"id": "coin", "depth": 1, "width": 8, "steps": 10})
    store = str(tmp_path / "t2m.zarr")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       env={"OMP_NUM_THREADS": "1"})
    with cluster, distributed.Client(cluster) as client:
        client.register_plugin(TorchThreads(1))
        threads = client.run(lambda: __import__("torch").get_num_threads())
        assert len(threads) == 2 and set(threads.values()) == {1}
        with distributed.get_task_stream(client) as stream:
            ds.to_zarr(store, zarr_format=3, mode="w",
                       encoding={"t2m": {"serializer": codec, "compressors": None, "chunks": (10, 16, 16)}})
        assert len({task["worker"] for task in stream.data}) == 2  # both workers coded chunks
    done = subprocess.run([sys.executable, "-c", READ_BACK, store], capture_output=True, text=True, check=True)
    back = np.frombuffer(bytes.fromhex(done.stdout), "<f4").reshape(t2m.shape)
    assert np.abs(back.astype(np.float64) - t2m).max() <= BOUND
