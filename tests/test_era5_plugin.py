"""The climate plugin on real grids (../shared/data/climate): NetCDF round trips, sphere
coordinates, normalisation, the conformance kit, COIN and a tiny COIN++ through the codec,
baselines, datasets, and the message when xarray is missing."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from inrz import Codec, MissingDependencyError, decode
from inrz_coinpp import artifacts
from inrz.testing import (check_config_round_trip, check_container_round_trip, check_feature_round_trip, check_metric,
                          check_modality, check_smoke_fit, check_spec, example_component)

from .conftest import data_file

pytest.importorskip("xarray")
pytestmark = pytest.mark.filterwarnings("ignore::xarray.SerializationWarning")

UK = ("climate", "era5_t2m_2019-03_uk.nc")
CCSM = ("climate", "ccsm_b003_TS_monthly_global_64x128.nc")
ERAINT = ("climate", "eraint_uvz_monthly_global.nc")
GLOBAL_1X1 = ("climate", "t2m_global_1x1.nc")
PLUGIN = "era5"


@pytest.fixture(scope="module", autouse=True)
def cache(tmp_path_factory):
    """Extracted steps go to one temp cache for the module (each source is extracted once)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INRZ_CACHE_DIR", str(tmp_path_factory.mktemp("era5-cache")))
        yield


@pytest.fixture(scope="module")
def climate(host):
    return host.create("modality", {"id": "climate", "attrs": "cf"})


def steps(host, *parts, **settings):
    return host.create("dataset", {"id": "netcdf_steps", "path": str(data_file(*parts)), **settings}).items()


@pytest.fixture(scope="module")
def global_46x90(host, cache):
    """CCSM surface temperature, first 12 months, regridded to the paper's 46x90 grid."""
    return steps(host, *CCSM, grid=[46, 90], stop=12)


def open_nc(path):
    import xarray as xr

    return xr.open_dataset(path, decode_times=False)


def test_netcdf_round_trip_keeps_coordinates_attributes_units_and_dtype(host, tmp_path):
    modality = host.create("modality", {"id": "climate", "time_index": 5})
    signal = modality.load(data_file(*UK))
    assert signal.data.shape == (33, 49, 1) and signal.data.dtype == np.float32
    assert signal.meta["lat"] == {**signal.meta["lat"], "start": 58.0, "step": -0.25, "count": 33}  # compact axis
    modality.save(signal, tmp_path / "out.nc")
    with open_nc(data_file(*UK)) as src, open_nc(tmp_path / "out.nc") as out:
        want, got = src["t2m"].isel(time=slice(5, 6)), out["t2m"]
        assert got.dims == want.dims and got.dtype == want.dtype == np.float32
        np.testing.assert_array_equal(got.values, want.values)
        for name in ("time", "latitude", "longitude"):
            np.testing.assert_array_equal(got[name].values, want[name].values)
            assert got[name].dtype == want[name].dtype and got[name].attrs == want[name].attrs
        assert got.attrs["units"] == "K" and set(got.attrs) == set(want.attrs)
        assert out.attrs["license"] == src.attrs["license"]


def test_packed_int16_variable_is_written_packed(host, climate, tmp_path):
    """ERA-Interim geopotential is int16 with scale_factor/add_offset: values in m2 s-2, file in int16."""
    item = steps(host, *ERAINT, variable="z", select={"level": 500}, stride=[4, 4])[1]
    signal = host.create("modality", "climate").load(item.path)
    assert signal.data.dtype == np.float64 and signal.meta["encoding"]["dtype"] == "int16"
    climate.save(signal, tmp_path / "z.nc")
    with open_nc(data_file(*ERAINT)) as src, open_nc(tmp_path / "z.nc") as out:
        assert out["z"].encoding["dtype"] == np.int16 and out["z"].attrs["units"] == "m**2 s**-2"
        np.testing.assert_array_equal(out["z"].values[0], src["z"].sel(level=500).values[1, ::4, ::4])
        assert int(out["level"]) == 500 and int(out["month"][0]) == 7


def test_sphere_coordinates_are_unit_vectors_right_at_poles_and_equator(host):
    modality = host.create("modality", "climate")
    signal = modality.load(data_file(*GLOBAL_1X1))  # lat -90..90 by 1, lon 0..359
    coords = modality.coordinates(modality.grid_shape(signal), meta=signal.meta)
    assert coords.shape == (181, 360, 3) and coords.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(coords, axis=-1), 1.0, atol=1e-6)
    np.testing.assert_allclose(coords[0], np.tile([0, 0, -1], (360, 1)), atol=1e-6)  # south pole, every lon
    np.testing.assert_allclose(coords[-1], np.tile([0, 0, 1], (360, 1)), atol=1e-6)
    np.testing.assert_allclose(coords[90, 0], [1, 0, 0], atol=1e-6)  # equator, lon 0
    np.testing.assert_allclose(coords[90, 90], [0, 1, 0], atol=1e-6)  # equator, lon 90 E
    # a rendering over the whole grid at half resolution spans the same extent
    half = modality.coordinates((91, 180), [(-1.0, 1.0), (-1.0, 1.0)], signal.meta)
    np.testing.assert_allclose(half[[0, -1], 0], coords[[0, -1], 0], atol=1e-6)
    assert host.create("modality", {"id": "climate", "coordinates": "grid"}).coordinates((4, 5), meta=signal.meta
                                                                                         ).shape == (4, 5, 2)


def test_normalisation_round_trips_with_missing_values_and_fixed_range(host, global_46x90):
    signal = host.create("modality", "climate").load(global_46x90[0].path)
    check_feature_round_trip(host.create("modality", "climate"), signal)
    holes = signal.data.copy()
    holes[10:14, 20:40] = np.nan  # e.g. a land mask on sea-surface temperature
    fixed = host.create("modality", {"id": "climate", "value_range": [180.0, 330.0]})
    sparse = fixed.from_array(holes, {k: v for k, v in signal.meta.items() if k != "shape"})
    features, norm = fixed.to_features(sparse)
    assert np.isfinite(features).all() and norm["nan"]["runs"][0] == [10 * 90 + 20, 20]
    back = fixed.from_features(features, json.loads(json.dumps(sparse.meta)), json.loads(json.dumps(norm)))
    np.testing.assert_array_equal(np.isnan(back.data), np.isnan(holes))
    np.testing.assert_allclose(back.data, holes, atol=150 * 2**-20)
    assert fixed.peak(sparse.meta) == 150.0


@pytest.mark.parametrize("sample", [UK, CCSM], ids=["era5-uk", "ccsm-global"])
def test_conformance_on_real_files(host, sample):
    modality = host.create("modality", {"id": "climate", "time_index": 0})
    check_modality(modality, data_file(*sample))


def test_conformance_example_signal_metrics_and_configs(host):
    modality = host.create("modality", "climate")
    signal = check_modality(modality, None)
    check_smoke_fit(modality, signal, host)
    for metric in ("field_rmse", "lat_weighted_rmse", "psnr"):
        check_metric(host.create("metric", metric), signal, modality)
    for kind in host.registry.bases:
        for id in host.registry.names(kind):
            if host.registry.entries(kind)[id].plugin == PLUGIN:
                check_config_round_trip(example_component(host.registry.get(kind, id)), host)


def test_lat_weighted_rmse_weights_rows_by_cos_latitude(host):
    modality = host.create("modality", "climate")
    signal = modality.load(data_file(*GLOBAL_1X1))
    polar = signal.data.copy()
    polar[:5] += 1.0  # 1 K error on the five southernmost rows only
    decoded = modality.from_array(polar, signal.meta)
    plain = host.create("metric", "field_rmse").compute(signal, decoded, modality)
    weighted = host.create("metric", "lat_weighted_rmse").compute(signal, decoded, modality)
    cos = np.cos(np.deg2rad(np.arange(-90.0, 91.0))).clip(0)
    assert plain == pytest.approx(np.sqrt(5 / 181), rel=1e-5)
    assert weighted == pytest.approx(np.sqrt(cos[:5].sum() / cos.sum()), rel=1e-5) and weighted < plain / 4


def test_coin_through_the_codec_reports_rmse_in_kelvin(host, climate, global_46x90, tmp_path):
    signal = climate.load(global_46x90[0].path)
    codec = Codec(climate, host.create("backend", {"id": "coin", "depth": 3, "width": 24, "steps": 150, "lr": 2e-3}),
                  host.create("quantizer", {"id": "uniform", "bits": 8}), host.create("entropy", "zstd"))
    encoded = check_container_round_trip(codec, signal, host)
    decoded = decode(encoded.data, host).signal
    rmse = host.create("metric", "lat_weighted_rmse").compute(signal, decoded, climate)
    bits = 8 * len(encoded.data) / climate.num_points(signal)
    print(f"\nCOIN 3x24, 150 steps, 8-bit: {len(encoded.data)} bytes = {bits:.3f} bits/grid point "
          f"(x{32 / bits:.0f} vs float32), lat-weighted RMSE {rmse:.2f} K")
    assert rmse < 12.0 and bits < 32
    climate.save(decoded, tmp_path / "coin.nc")
    with open_nc(tmp_path / "coin.nc") as out:
        assert out["TS"].shape == (1, 46, 90) and out["TS"].dtype == np.float32 and out["TS"].attrs["units"] == "K"
    fine = decode(encoded.data, host, scale=2).signal  # an INR renders anywhere: a 2-degree grid, same extent
    climate.save(fine, tmp_path / "fine.nc")
    with open_nc(tmp_path / "fine.nc") as out:
        assert out["TS"].shape == (1, 92, 180)
        np.testing.assert_allclose(out["lat"].values[[0, -1]], [-87.8638, 87.8638], atol=1e-3)
        np.testing.assert_allclose(out["lon"].values[[0, -1]], [0.0, 356.0], atol=1e-3)


@pytest.mark.slow  # meta-training
def test_tiny_coinpp_trains_and_codes_whole_global_grids(host, climate, global_46x90, tmp_path, monkeypatch):
    import torch

    from inrz_coinpp.config import TrainConfig
    from inrz_coinpp.data import TrainData
    from inrz_coinpp.loop import evaluate, train

    monkeypatch.setenv(artifacts.MODELS_ENV, str(tmp_path / "models"))
    artifacts._load_cached.cache_clear()
    signals = [climate.load(item.path) for item in global_46x90]
    feats = [climate.to_features(s)[0] for s in signals]
    cfg = TrainConfig(dataset={"id": "folder", "path": "."}, patch=[46, 90], depth=3, width=16, latent_dim=8,
                      w0=30.0, steps=25, batch_size=4, outer_lr=3e-3, val_every=25, val_patches=2,
                      checkpoint_every=25, stats_patches=10, quant_bits=[6])
    coords = lambda shape: climate.coordinates(shape, meta=signals[0].meta)  # noqa: E731
    net = train(cfg, TrainData(feats[:10], feats[10:], {"ccsm": "0:12"}, coords), 0, torch.device("cpu"),
                tmp_path / "train", log=lambda m: None)
    artifacts.save(net)
    assert net.shape.d_in == 3  # the base network sees sphere coordinates
    x = torch.from_numpy(coords([46, 90]).reshape(-1, 3))
    y = torch.from_numpy(np.stack(feats[10:]).reshape(2, -1, 1))
    assert evaluate(net.model(), x, y, 3, 1e-2) > evaluate(net.model(), x, y, 0, 1e-2)
    codec = Codec(climate, host.create("backend", {"id": "coinpp", "model": net.hash}),
                  host.create("quantizer", {"id": "latent_uniform", "model": net.hash, "bits": 6}),
                  host.create("entropy", {"id": "table", "model": net.hash}))
    encoded = check_container_round_trip(codec, signals[11], host)
    assert encoded.payload_bytes < 16  # one 8-dim latent for the whole globe
    decoded = decode(encoded.data, host).signal
    assert decoded.data.shape == (46, 90, 1)
    assert host.create("metric", "field_rmse").compute(signals[11], decoded, climate) < 15.0


@pytest.mark.parametrize("id", ["field_jpeg", "field_jpeg2000", "field_zstd", "zfp", "sz3", "sperr"])
def test_baselines_fit_the_size_and_decode_in_native_form(host, climate, global_46x90, id):
    baseline = host.create("baseline", id)
    if reason := baseline.available():
        pytest.skip(reason)
    signal = climate.load(global_46x90[0].path)
    result = baseline.at_size(signal, 2000)
    assert result.decoded.data.shape == signal.data.shape and result.decoded.data.dtype == signal.data.dtype
    rmse = host.create("metric", "field_rmse").compute(signal, result.decoded, climate)
    if id == "field_zstd":  # lossless: exact, whatever the target
        assert rmse == 0.0 and len(result.data) < signal.data.nbytes
    else:
        assert len(result.data) <= 2000 and rmse < 3.0
    if id in ("zfp", "sz3", "sperr"):  # error-bounded: at_error meets the error with the smallest file
        matched = baseline.at_error(signal, 0.5)
        assert host.create("metric", "field_rmse").compute(signal, matched.decoded, climate) <= 0.5


def test_datasets_list_steps_and_explain_downloads(host, tmp_path):
    items = steps(host, *UK, start=740)
    assert [i.name for i in items] == [f"era5_t2m_2019-03_uk_t{i:05d}" for i in range(740, 744)]
    config = {"id": "era5", "path": str(data_file(*UK).parent), "glob": "era5*.nc", "stop": 2}
    local = host.create("dataset", config).items()
    assert len(local) == 2 and local[0].path.suffix == ".nc"
    if "cdsapi" not in sys.modules:
        with pytest.raises(MissingDependencyError, match="era5_t2m_2020-01.nc.*cdsapi.*cdsapirc"):
            host.create("dataset", {"id": "era5", "path": str(tmp_path), "years": [2020]}).items()


def test_cpu_spec_builds(host):
    from pathlib import Path

    data_file(*CCSM)
    spec = check_spec(Path(__file__).parents[1] / "specs" / "era5-cpu.yaml", host)
    assert spec.modality["id"] == "climate"


def test_missing_xarray_says_which_extra(host, monkeypatch):
    monkeypatch.setitem(sys.modules, "xarray", None)  # import xarray now raises ImportError
    cls = host.registry.get("modality", "climate")
    assert "inrz[era5]" in cls.available()
    with pytest.raises(MissingDependencyError, match=r"inrz\[era5\]"):
        host.create("modality", "climate").load(data_file(*UK))
