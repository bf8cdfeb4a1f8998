"""`inrz run` end to end on real images: report files, rates from file sizes, resume."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from inrz.pipeline import codec as codec_module
from inrz.runs.run import run

from .conftest import data_file

SPEC = """
name: tiny
seed: 0
device: cpu
dataset: {{id: folder, path: {folder}, glob: "000[0-2].jpg"}}
modality: {{id: image}}
backend: {{id: coin, depth: 2, width: 12, steps: 20}}
baselines: [{{id: jpeg}}, {{id: webp}}]
output: {out}
"""


@pytest.fixture
def spec(tmp_path):
    folder = data_file("cifar10", "test_jpg", "airplane")
    path = tmp_path / "tiny.yaml"
    path.write_text(SPEC.format(folder=folder, out=tmp_path / "out"))
    return path


def test_run_writes_report_with_inrz_and_jpeg_side_by_side(spec, host):
    results = run(spec, host=host, progress=False)
    out = spec.parent / "out"
    for name in ("results.json", "results.csv", "report.md", "rd.png"):
        assert (out / name).stat().st_size > 0
    assert [r["name"] for r in results["items"]] == ["0000", "0001", "0002"]
    for r in results["items"]:
        container = out / "containers" / f"{r['name']}.inrz"
        assert r["inrz"]["bpp"] == 8 * container.stat().st_size / (32 * 32)  # whole file counted
        assert r["inrz"]["psnr"] > 0 and r["baselines"]["jpeg"]["psnr"] > 0
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert {row["codec"] for row in rows} == {"inrz", "jpeg", "webp"}
    env = json.loads((out / "results.json").read_text())["environment"]
    assert env["device"] == "cpu" and len(env["spec_hash"]) == 16 and env["torch"]


def test_rerun_resumes_and_redoes_only_missing_items(spec, host, monkeypatch):
    run(spec, host=host, progress=False)
    out = spec.parent / "out"
    (out / "items" / "0001.json").unlink()  # as if the run was killed before this item finished
    encoded = []
    original = codec_module.Codec.encode_batch

    def counting(self, signals, progress=None):
        encoded.append(len(signals))
        return original(self, signals, progress)

    monkeypatch.setattr(codec_module.Codec, "encode_batch", counting)
    results = run(spec, host=host, progress=False)
    assert encoded == [1] and len(results["items"]) == 3


def test_changed_spec_invalidates_finished_items(spec, host, monkeypatch):
    run(spec, host=host, progress=False)
    calls = []
    original = codec_module.Codec.encode_batch
    monkeypatch.setattr(codec_module.Codec, "encode_batch",
                        lambda self, s, progress=None: calls.append(len(s)) or original(self, s, progress))
    run(spec, ["backend.steps=21"], host=host, progress=False)
    assert sum(calls) == 3


CLIMATE = """
name: t2m
seed: 0
device: cpu
dataset: {{id: netcdf_steps, path: {nc}, stop: 2, cache_dir: {cache}}}
modality: {{id: climate}}
backend: {{id: coin, depth: 2, width: 8, steps: 5}}
output: {out}
"""

AUDIO = """
name: speech
seed: 0
device: cpu
dataset: {{id: folder, path: {folder}, glob: "librispeech_1272-141231-0002.flac"}}
modality: {{id: audio, first_seconds: 0.05}}
backend: {{id: coin, depth: 2, width: 8, steps: 5}}
output: {out}
"""


def run_spec(tmp_path, text: str, host, **paths) -> tuple[dict, str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    spec = tmp_path / "spec.yaml"
    spec.write_text(text.format(out=tmp_path / "out", **paths))
    results = run(spec, host=host, progress=False)
    assert (tmp_path / "out" / "rd.png").stat().st_size > 0
    return results, (tmp_path / "out" / "report.md").read_text()


def test_reports_speak_the_modalitys_units(tmp_path, host):
    """A climate run reports bits per grid point and RMSE in kelvin; an audio run leads with kbit/s."""
    pytest.importorskip("xarray")
    results, report = run_spec(tmp_path / "c", CLIMATE, host, nc=data_file("climate", "era5_t2m_2019-03_uk.nc"),
                               cache=tmp_path / "cache")
    assert results["labels"]["metrics"]["field_rmse"] == "K" and "field_rmse (K)" in report
    assert "bpp (bits per grid point)" in report and "## Per item (bpp (bits per grid point) / field_rmse (K))" in report
    results, report = run_spec(tmp_path / "a", AUDIO, host, folder=data_file("audio"))
    assert results["labels"]["rate"] == "kbps" and "kbps (kbit/s)" in report and "psnr (dB)" in report
    assert report.index("kbps (kbit/s)") < report.index("bpp (bits per sample)")  # the modality's rate leads


def test_a_changed_backend_provenance_re_runs_finished_items(spec, host, monkeypatch):
    """The resume key holds what produced a record: a new shipped prior (or a backend's code
    version) re-codes every item, an unchanged one resumes without a single fit."""
    from inrz.backends.base import Backend

    run(spec, host=host, progress=False)
    calls = []
    original = codec_module.Codec.encode_batch
    monkeypatch.setattr(codec_module.Codec, "encode_batch",
                        lambda self, s, progress=None: calls.append(len(s)) or original(self, s, progress))
    run(spec, host=host, progress=False)
    assert calls == []  # same code, same priors: resumed
    monkeypatch.setattr(Backend, "provenance", lambda self: {"version": self.version, "priors": {3: "00c0ffee"}})
    run(spec, host=host, progress=False)
    assert sum(calls) == 3


def test_the_c3_prior_tag_is_part_of_the_resume_key(host, monkeypatch):
    import inrz_c3.priorfile

    from inrz.runs.run import Point, _producer
    from inrz.runs.spec import Spec

    spec = Spec.model_validate({"name": "k", "dataset": {"id": "folder", "path": "."}, "modality": {"id": "image"},
                                "backend": {"id": "c3"}})
    point = Point.all(spec)[0]
    before = _producer(spec, host, point)
    assert _producer(spec, host, point) == before
    monkeypatch.setattr(inrz_c3.priorfile, "tag", lambda preset, channels: b"\x01\x02\x03\x04" if channels == 3 else None)
    assert _producer(spec, host, point) != before


def test_a_batch_of_rgb_and_greyscale_images_fits_each_shape_together(tmp_path, host):
    """`batch_size: 2` over a folder that mixes an RGB and a greyscale image of one size: the
    two cannot stack into one fit (their features have 3 and 1 channels), so each shape is
    fitted on its own, and every item gets its container (this was an internal error)."""
    import numpy as np
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    rgb = np.asarray(Image.open(data_file("cifar10", "test_jpg", "airplane", "0000.jpg")))
    Image.fromarray(rgb).save(folder / "a_rgb.png")
    Image.fromarray(rgb[..., 1]).save(folder / "b_grey.png")
    Image.fromarray(rgb[::-1]).save(folder / "c_rgb.png")
    spec = tmp_path / "mixed.yaml"
    spec.write_text(SPEC.replace('glob: "000[0-2].jpg"', 'glob: "*.png"').format(folder=folder, out=tmp_path / "out")
                    .replace("baselines: [{id: jpeg}, {id: webp}]", "batch_size: 2\nbaselines: [{id: jpeg}]"))
    results = run(spec, host=host, progress=False)
    assert [r["name"] for r in results["items"]] == ["a_rgb", "b_grey", "c_rgb"]
    import inrz

    for r in results["items"]:
        data = (tmp_path / "out" / "containers" / f"{r['name']}.inrz").read_bytes()
        source = np.asarray(Image.open(folder / f"{r['name']}.png"))
        assert np.squeeze(np.asarray(inrz.decompress(data))).shape == source.shape  # each decodes to its own shape
        assert r["inrz"]["bpp"] == 8 * len(data) / (32 * 32)


def test_encode_batch_refuses_signals_of_different_channels_with_a_typed_error(host):
    import numpy as np

    from inrz import InrzError, Signal, codec_for

    codec = codec_for("image", steps=2, device="cpu", host=host)
    rgb = Signal(np.zeros((8, 8, 3), np.uint8), {})
    grey = Signal(np.zeros((8, 8, 1), np.uint8), {})
    with pytest.raises(InrzError, match="one shape"):
        codec.encode_batch([rgb, grey])
