"""The timeseries plugin passes inrz's conformance kit. Written only with `inrz.testing` and
pytest, as a third-party plugin's tests would be; fixtures come from `-p inrz.testing.plugin`
(see this package's pyproject.toml, and the root one for the repository-wide run).
"""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("inrz_timeseries", reason="the example plugin is not installed: "
                    "pip install -e examples/inrz-timeseries")

from inrz.testing import (check_config_round_trip, check_container_round_trip, check_metric,  # noqa: E402
                          check_modality, check_smoke_fit, check_spec, tiny_codec)

HERE = Path(__file__).resolve().parent.parent
DATA = HERE / "data" / "era5_t2m_points.csv"
SPEC = HERE / "spec.yaml"


@pytest.fixture
def modality(inrz_host):
    return inrz_host.create("modality", "timeseries")


def test_plugin_is_loaded_through_its_entry_point(inrz_host):
    info = inrz_host.info["timeseries"]
    assert info.module == "inrz_timeseries"
    assert info.components == {"modality": ["timeseries"], "metric": ["rmse", "range_psnr"]}
    assert inrz_host.status("timeseries") == ("available", None)


def test_csv_file_round_trips(modality):
    signal = check_modality(modality, DATA)
    assert signal.data.shape == (744, 4) and signal.meta["columns"] == ["london", "cardiff", "edinburgh", "belfast"]


def test_example_signal_round_trips(modality):
    check_modality(modality)  # None: the modality's own example_signal()


@pytest.mark.parametrize("config", [{"id": "timeseries"}, {"id": "timeseries", "dtype": "float64"},
                                    {"id": "rmse"}, {"id": "range_psnr"}], ids=lambda c: "-".join(map(str, c.values())))
def test_config_round_trips(inrz_host, config):
    kind = "modality" if config["id"] == "timeseries" else "metric"
    check_config_round_trip(inrz_host.create(kind, config), inrz_host)


def test_smoke_fit_reduces_error(modality, inrz_host):
    check_smoke_fit(modality, modality.load(DATA), inrz_host)


def test_container_round_trip(modality, inrz_host, tiny_signal):
    check_container_round_trip(tiny_codec(modality, inrz_host, steps=10), tiny_signal(modality), inrz_host)


@pytest.mark.parametrize("metric", ["rmse", "range_psnr"])
def test_metrics_rank_a_noisy_decode_below_the_original(inrz_host, modality, metric):
    check_metric(inrz_host.create("metric", metric), modality.load(DATA), modality)


def test_spec_builds(inrz_host):
    spec = check_spec(SPEC, inrz_host)
    assert spec.modality == {"id": "timeseries"}


@pytest.mark.parametrize("text,message", [
    ("281.6,278.5\n281.4,278.6\n", "first row holds numbers; add a header row"),
    ("london,edinburgh\n281.6,278.5\n281.4\n", ":3: 1 values, the header names 2 columns"),
    ("london,edinburgh\n281.6,278.5\n281.4,n/a\n", ":3: not a row of numbers"),
    ("london,edinburgh\n281.6,278.5\n281.4,nan\n", "NaN or inf"),
    ("london\n", "at least one row of values"),
], ids=["no-header", "ragged", "text", "nan", "empty"])
def test_malformed_csv_says_what_is_wrong(modality, tmp_path, text, message):
    from inrz_timeseries import TimeseriesError

    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(TimeseriesError, match=message.replace("(", r"\(")):
        modality.load(path)
