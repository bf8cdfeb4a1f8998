"""xarray through both faces of the archive codec, on the real climate grids: the zarr 3
array-to-bytes codec (`serializer=`) and the numcodecs codec (a zarr 2 `filters=` entry). Each
store is written with `to_zarr` and read back with `open_zarr` in a fresh Python that imports
only xarray and numpy: the codec is found through its entry point (`zarr.codecs`,
`numcodecs.codecs`), as any reader of the store finds it. Every value within the bound."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from .conftest import data_file

xr = pytest.importorskip("xarray")
zarr = pytest.importorskip("zarr")
numcodecs = pytest.importorskip("numcodecs")

REL = 1e-3  # of each variable's value range
READER = ("import sys, numpy as np, xarray as xr\n"
          "assert 'inrz' not in sys.modules\n"
          "for store, var, out in zip(*[iter(sys.argv[1:])] * 3):\n"
          "    np.save(out, xr.open_zarr(store).load()[var].values)\n")
ZARR3, ZARR2 = ("era5", "ccsm", "eraint", "global1x1"), ("era5", "ccsm")


def real(name: str) -> tuple[str, np.ndarray, tuple[int, ...], tuple[str, ...]]:
    """(variable, values, zarr chunks, dims) of a slice of one real grid; edge chunks are padded."""
    if name == "era5":
        values = np.load(data_file("climate", "era5_t2m_2019-03_uk.npz"))["t2m"][:30]
        return "t2m", values, (12, 16, 32), ("time", "lat", "lon")
    file, var, take, chunks = {
        "ccsm": ("ccsm_b003_TS_monthly_global_64x128.nc", "TS", slice(0, 12), (6, 64, 128)),
        "eraint": ("eraint_uvz_monthly_global.nc", "u", slice(0, 1), (1, 1, 241, 480)),
        "global1x1": ("t2m_global_1x1.nc", "T", slice(0, 1), (1, 100, 200)),
    }[name]
    with xr.open_dataset(data_file("climate", file), decode_times=False) as ds:
        values = ds[var].values[take]
        dims = tuple(str(d) for d in ds[var].dims)
    return var, values, chunks, dims


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """Every store written in this process (zarr 3 serializer; numcodecs as a zarr 2 filter), then
    read back by one fresh Python: {(format, name): (values, bound, read-back, store)}."""
    from inrz import InrzZarrCodec

    root, jobs, out = tmp_path_factory.mktemp("stores"), [], {}
    for fmt, names in ((3, ZARR3), (2, ZARR2)):
        for name in names:
            var, values, chunks, dims = real(name)
            bound = REL * float(np.nanmax(values) - np.nanmin(values))
            store = root / f"{name}.v{fmt}.zarr"
            config = {"max_abs_error": bound, "preset": "fast"}
            encoding = ({"serializer": InrzZarrCodec(**config)} if fmt == 3 else
                        {"filters": [numcodecs.get_codec({"id": "inrz", **config})]})
            xr.Dataset({var: (dims, values)}).to_zarr(store, zarr_format=fmt, encoding={var: {
                **encoding, "compressors": None, "chunks": chunks}})
            jobs += [str(store), var, str(root / f"{name}.v{fmt}.npy")]
            out[fmt, name] = (values, bound, root / f"{name}.v{fmt}.npy", store, var)
    done = subprocess.run([sys.executable, "-c", READER, *jobs], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return {key: (values, bound, np.load(npy), store, var) for key, (values, bound, npy, store, var) in out.items()}


def check(back: np.ndarray, values: np.ndarray, bound: float) -> None:
    assert back.shape == values.shape and back.dtype == values.dtype
    same_nan = np.isnan(back) == np.isnan(values)
    assert same_nan.all()
    err = np.abs(back.astype(np.float64) - values.astype(np.float64))[~np.isnan(values)]
    assert err.max() <= bound, (err.max(), bound)


@pytest.mark.parametrize("name", ZARR3)
def test_xarray_zarr3_serializer_round_trip_in_a_fresh_process(name, stores):
    values, bound, back, store, var = stores[3, name]
    meta = json.loads((store / var / "zarr.json").read_text())
    assert meta["codecs"] == [{"name": "inrz", "configuration": {**meta["codecs"][0]["configuration"],
                                                                 "max_abs_error": bound}}]
    check(back, values, bound)
    stored = sum(f.stat().st_size for f in (store / var / "c").rglob("*") if f.is_file())
    assert stored < values.nbytes / 3  # 1e-3 of the range: measured 5-20x on these grids


@pytest.mark.parametrize("name", ZARR2)
def test_xarray_zarr2_numcodecs_filter_round_trip_in_a_fresh_process(name, stores):
    values, bound, back, store, var = stores[2, name]
    meta = json.loads((store / var / ".zarray").read_text())
    assert meta["filters"][0]["id"] == "inrz" and meta["compressor"] is None
    check(back, values, bound)


def test_zarr3_and_numcodecs_faces_store_the_same_chunk_bytes(tmp_path):
    """One codec behind both faces: a chunk's bytes do not depend on which face wrote it."""
    from inrz import InrzZarrCodec

    var, values, _, dims = real("era5")
    chunk = values[:12, :16, :32]
    config = {"max_abs_error": 0.05, "preset": "fast"}
    ds = xr.Dataset({var: (dims, chunk)})
    ds.to_zarr(tmp_path / "v3.zarr", zarr_format=3, encoding={var: {
        "serializer": InrzZarrCodec(**config), "compressors": None, "chunks": chunk.shape}})
    ds.to_zarr(tmp_path / "v2.zarr", zarr_format=2, encoding={var: {
        "filters": [numcodecs.get_codec({"id": "inrz", **config})], "compressors": None, "chunks": chunk.shape}})
    v3 = (tmp_path / "v3.zarr" / var / "c" / "0" / "0" / "0").read_bytes()
    v2 = (tmp_path / "v2.zarr" / var / "0.0.0").read_bytes()
    assert v3 == v2 == numcodecs.get_codec({"id": "inrz", **config}).encode(chunk)


def test_a_fresh_process_finds_both_faces_by_name():
    script = ("import zarr.registry, numcodecs, sys\n"
              "z = zarr.registry.get_codec_class('inrz'); n = numcodecs.get_codec({'id': 'inrz', 'preset': 'fast'})\n"
              "print(z.__module__, type(n).__module__)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["inrz.archive.zarr_codec", "inrz.archive.numcodecs_codec"]
