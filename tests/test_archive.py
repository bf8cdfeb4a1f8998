"""Embedding: the numcodecs and zarr codecs, and error-bounded mode's guarantee."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import inrz
from inrz.archive.config import canonical, decode_array, encode_array

from .conftest import data_file

numcodecs = pytest.importorskip("numcodecs")

FAST = {"backend": {"id": "coin", "depth": 1, "width": 4, "steps": 2}}  # the bound must hold for any INR


@pytest.fixture(scope="module")
def t2m():
    return np.load(data_file("climate", "era5_t2m_2019-03_uk.npz"))["t2m"]  # (744, 33, 49) float32, K


def test_numcodecs_registry_round_trip(t2m):
    codec = numcodecs.get_codec({"id": "inrz", "max_abs_error": 0.25, **FAST})
    config = codec.get_config()
    assert json.loads(json.dumps(config)) == config and config["id"] == "inrz"
    assert numcodecs.get_codec(config).get_config() == config
    data = codec.encode(t2m[0])
    out = codec.decode(data)
    assert out.dtype == t2m.dtype and out.shape == t2m[0].shape
    assert np.abs(out.astype(np.float64) - t2m[0]).max() <= 0.25
    buf = np.empty_like(t2m[0])
    codec.decode(data, out=buf)
    assert np.array_equal(buf, out)


def test_same_chunk_same_bytes(t2m):
    cfg = canonical({"max_abs_error": 0.1, **FAST})
    assert encode_array(t2m[3], cfg) == encode_array(t2m[3], cfg)


SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=9)
arrays = st.one_of(
    hnp.arrays(st.sampled_from([np.float32, np.float64]), SHAPES,
               elements={"allow_nan": False, "allow_infinity": False, "min_value": -1e4, "max_value": 1e4,
                         "allow_subnormal": False}),
    hnp.arrays(st.sampled_from([np.int16, np.uint8, np.int32]), SHAPES),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(array=arrays, bound=st.floats(1e-6, 50.0))
def test_error_bound_is_never_exceeded(array, bound):
    """With a network fitted on every chunk (the residual-only cases: tests/test_archive_chunks.py, 1000+)."""
    out = decode_array(encode_array(array, canonical({"max_abs_error": bound, **FAST})))
    assert out.dtype == array.dtype and out.shape == array.shape
    assert np.abs(out.astype(np.float64) - array.astype(np.float64)).max() <= bound


def _real_grids():
    xr = pytest.importorskip("xarray")
    grids = [np.load(data_file("climate", "era5_t2m_2019-03_uk.npz"))["t2m"][0]]
    for name in ("era5_t2m_2019-03_uk.nc", "eraint_uvz_monthly_global.nc", "ccsm_b003_TS_monthly_global_64x128.nc",
                 "t2m_global_1x1.nc"):
        with xr.open_dataset(data_file("climate", name), decode_times=False) as ds:
            for var in ds.data_vars:
                values = ds[var].values
                grids.append(values.reshape(-1, *values.shape[-2:])[0])
    return grids


@pytest.mark.slow  # a 50-step fit per variable of every real grid (70-180 s)
def test_error_bound_holds_on_every_real_grid():
    for grid in _real_grids():
        bound = 1e-3 * float(grid.max() - grid.min())
        out = decode_array(encode_array(grid, canonical({"max_abs_error": bound,
                                                         "backend": {"id": "coin", "bpp": 2.0, "steps": 50}})))
        assert np.abs(out.astype(np.float64) - grid.astype(np.float64)).max() <= bound


def test_zarr_store_reads_back_within_bound_in_a_fresh_process(t2m, tmp_path):
    zarr = pytest.importorskip("zarr")
    from inrz import InrzZarrCodec

    path = tmp_path / "t2m.zarr"
    arr = zarr.create_array(str(path), shape=(4, 33, 49), chunks=(1, 33, 49), dtype="float32",
                            serializer=InrzZarrCodec(max_abs_error=0.2, **FAST), compressors=None)
    arr[:] = t2m[:4]
    script = ("import sys, zarr, numpy as np; a = zarr.open_array(sys.argv[1], mode='r'); "
              "sys.stdout.write(np.asarray(a[:]).tobytes().hex())")
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True)
    back = np.frombuffer(bytes.fromhex(done.stdout), np.float32).reshape(4, 33, 49)
    assert np.abs(back.astype(np.float64) - t2m[:4]).max() <= 0.2


def test_xarray_example_writes_and_reads_back_within_bound(tmp_path):
    pytest.importorskip("xarray")
    pytest.importorskip("zarr")
    example = __import__("pathlib").Path(__file__).parents[1] / "examples" / "xarray" / "era5_to_zarr.py"
    nc = data_file("climate", "era5_t2m_2019-03_uk.nc")
    done = subprocess.run([sys.executable, str(example), str(nc), "--chunks", "1", "--steps", "5", "--bound", "0.2",
                           "--store", str(tmp_path / "s.zarr")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "max abs error" in done.stdout


def test_the_xarray_example_reads_no_path_outside_the_clone_by_default():
    """Issue 13, friction 6: without arguments it read ../shared/data; now xarray's tutorial dataset."""
    example = __import__("pathlib").Path(__file__).parents[1] / "examples" / "xarray" / "era5_to_zarr.py"
    text = example.read_text()
    assert "parents[" not in text and "shared" not in text and "xr.tutorial.open_dataset" in text


@pytest.mark.parametrize("config, field", [({"max_abs_eror": 0.1}, "max_abs_eror"),
                                           ({"bpp_search": "all"}, "bpp_search")])
def test_a_codec_config_typo_is_an_inrz_error(config, field):
    """Issue 13, friction 6: a numcodecs config typo raised pydantic's ValidationError."""
    numcodecs = pytest.importorskip("numcodecs")
    with pytest.raises(inrz.SpecError, match=f"inrz codec config: {field}.*settings: backend"):
        numcodecs.get_codec({"id": "inrz", **config})


def test_bpp_search_keeps_the_smallest_file_within_bound(t2m):
    from inrz.pipeline.sizesearch import smallest_bounded

    budgets = [0.25, 2.0]
    base = {"max_abs_error": 0.2, "backend": {"id": "coin", "bpp": 0.25, "steps": 20, "lr": 1e-3}}
    chosen = encode_array(t2m[:4], canonical({**base, "bpp_search": budgets}))
    singles = [encode_array(t2m[:4], canonical({**base, "backend": {**base["backend"], "bpp": b}})) for b in budgets]
    assert len(chosen) == min(len(s) for s in singles)
    assert np.abs(decode_array(chosen).astype(np.float64) - t2m[:4]).max() <= 0.2
    with pytest.raises(Exception, match="error-bounded"):
        from inrz import Codec
        from inrz import PluginHost

        host = PluginHost()
        codec = Codec(host.create("modality", "ndarray"), host.create("backend", {"id": "coin", "steps": 1}),
                      host.create("quantizer", "fp16"), host.create("entropy", "zstd"))
        smallest_bounded(codec, codec.modality.from_array(t2m[0]), [0.5])


@pytest.mark.slow  # full 300-step fits of two days of ERA5
def test_zarr_store_beats_quantized_zstd_at_the_same_bound(t2m, tmp_path):
    """Two days of hourly ERA5 t2m at 0.1 K: the inrz store is smaller than zstd on values
    quantized to the same bound (measured 9.9x vs 8.9x of float32 in benchmarks/archive.py)."""
    zarr = pytest.importorskip("zarr")
    import zstandard

    from inrz import InrzZarrCodec

    bound, days = 0.1, t2m[:48]
    codec = InrzZarrCodec(max_abs_error=bound, bpp_search=[0.1, 0.25],
                          backend={"id": "coin", "bpp": 0.25, "steps": 300, "lr": 1e-3})
    arr = zarr.create_array(str(tmp_path / "s.zarr"), shape=days.shape, chunks=(24, 33, 49), dtype="float32",
                            serializer=codec, compressors=None)
    arr[:] = days
    ours = sum(f.stat().st_size for f in (tmp_path / "s.zarr" / "c").rglob("*") if f.is_file())
    assert ours > 0
    theirs = 0
    for chunk in (days[:24], days[24:]):
        q = np.rint((chunk.astype(np.float64) - chunk.min()) / (2 * bound)).astype(np.int32)
        theirs += len(zstandard.ZstdCompressor(level=19).compress(q.tobytes())) + 16
    assert np.abs(np.asarray(arr[:], np.float64) - days).max() <= bound
    print(f"inrz store {ours} B, quantized zstd {theirs} B, float32 {days.nbytes} B")
    assert ours < theirs, (ours, theirs)


def _loop_running() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def test_zarr_codec_codes_off_the_event_loop_and_in_batches(t2m, monkeypatch):
    zarr = pytest.importorskip("zarr")
    from inrz import InrzZarrCodec
    from inrz.archive import zarr_codec

    calls = []
    encode, decode = zarr_codec.encode_arrays, zarr_codec.decode_array
    monkeypatch.setattr(zarr_codec, "encode_arrays", lambda arrays, *a: (calls.append(("enc", len(arrays),
                                                                                       _loop_running())),
                                                                         encode(arrays, *a))[1])
    monkeypatch.setattr(zarr_codec, "decode_array", lambda data, *a: (calls.append(("dec", 1, _loop_running())),
                                                                      decode(data, *a))[1])
    with zarr.config.set({"codec_pipeline.batch_size": 4}):
        arr = zarr.create_array(zarr.storage.MemoryStore(), shape=(8, 33, 49), chunks=(1, 33, 49), dtype="float32",
                                serializer=InrzZarrCodec(max_abs_error=0.1, preset="fast"), compressors=None)
        arr[:] = t2m[:8]
        back = np.asarray(arr[:])
    assert np.abs(back.astype(np.float64) - t2m[:8]).max() <= 0.1
    assert calls and not any(on_loop for _, _, on_loop in calls)  # zarr's loop never runs a fit
    assert max(n for kind, n, _ in calls if kind == "enc") == 4  # a batch of chunks is coded in one call


def test_xarray_edge_chunks_padded_with_nan_are_stored(t2m, tmp_path):
    """The issue: `to_zarr(chunks=(5, 16, 16))` on 12 steps failed on zarr's NaN padding."""
    xr = pytest.importorskip("xarray")
    pytest.importorskip("zarr")
    from inrz import InrzZarrCodec

    ds = xr.Dataset({"t2m": (("time", "lat", "lon"), t2m[:12])})
    ds.to_zarr(tmp_path / "s.zarr", zarr_format=3, encoding={"t2m": {
        "serializer": InrzZarrCodec(max_abs_error=0.1, preset="fast"), "compressors": None, "chunks": (5, 16, 16)}})
    back = xr.open_zarr(tmp_path / "s.zarr").load()["t2m"].values
    assert np.abs(back.astype(np.float64) - t2m[:12]).max() <= 0.1
