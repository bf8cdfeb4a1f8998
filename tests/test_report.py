"""Reports users of CompressAI can read (issue 13, friction 4): results.json in CompressAI's
schema with one point per rate (`encoding_time`, `decoding_time`, `ms-ssim` for images), a spec
sweep gives the points, the baselines are matched to each point's files, Bjøntegaard deltas
come with it, and `inrz plot` merges runs (and CompressAI's own files) into RD curves."""
from __future__ import annotations

import json

import pytest

from inrz import get_host
from inrz.cli.main import main
from inrz.runs.run import run

from .conftest import data_file

SPEC = """
name: sweep
seed: 0
device: cpu
dataset: {{id: folder, path: {folder}, glob: "*.png"}}
modality: {{id: image}}
backend: {{id: coin, steps: 30, lr: 3.0e-3, points_per_step: 4096}}
sweep:
  - {{label: small, backend: {{depth: 2, width: {w0}}}}}
  - {{label: large, backend: {{depth: 3, width: {w1}}}}}
baselines: [{{id: jpeg}}, {{id: webp}}]
output: {out}
"""


@pytest.fixture(scope="module")
def two_runs(host, tmp_path_factory):
    """Two runs of one pipeline at different rates, on a 176 x 176 Kodak crop (MS-SSIM needs > 160 px)."""
    image = host.create("modality", "image")
    root = tmp_path_factory.mktemp("runs")
    (root / "images").mkdir()
    image.save(image.from_array(image.load(data_file("kodak", "kodim15.png")).data[150:326, 300:476]),
               root / "images" / "crop.png")
    out = []
    for name, (w0, w1) in (("a", (16, 24)), ("b", (28, 40))):
        spec = root / f"{name}.yaml"
        spec.write_text(SPEC.format(folder=root / "images", out=root / name, w0=w0, w1=w1))
        out.append((run(spec, host=host, progress=False), root / name))
    return out


def test_results_follow_compressais_schema_with_one_point_per_rate(two_runs):
    results, folder = two_runs[0]
    data = json.loads((folder / "results.json").read_text())
    assert data["name"] == "inrz-coin" and data["points"] == ["small", "large"]
    for key in ("bpp", "psnr", "ms-ssim", "encoding_time", "decoding_time"):
        assert len(data["results"][key]) == 2 and all(isinstance(v, float) for v in data["results"][key])
    assert "encode_seconds" not in data["results"]
    assert data["results"]["bpp"][0] < data["results"]["bpp"][1]
    for baseline in ("jpeg", "webp"):  # matched to each point's file: one point each, at or below its size
        figures = data["baselines"][baseline]["results"]
        assert len(figures["bpp"]) == 2
        for rate, quality, ours in zip(figures["bpp"], figures["quality"], data["results"]["bpp"]):
            assert rate <= ours or quality <= 1  # at or below the point's file, unless it cannot go that low
        assert len(data["baselines"][baseline]["results"]["ms-ssim"]) == 2


def test_results_carry_bd_figures_and_the_report_shows_them(two_runs):
    results, folder = two_runs[0]
    rows = {(r["codec"], r["anchor"]): r for r in results["bd"]}
    assert set(rows) == {("inrz-coin", "jpeg"), ("inrz-coin", "webp")}
    assert all(r["points"] == 2 and "bd_psnr" in r for r in rows.values())
    report = (folder / "report.md").read_text()
    assert "## Bjøntegaard delta" in report and "| inrz-coin | jpeg |" in report


def test_inrz_plot_merges_two_runs_into_curves_with_bd_rates(two_runs, tmp_path, capsys):
    (_, a), (_, b) = two_runs
    out = tmp_path / "merged.png"
    assert main(["plot", str(a / "results.json"), str(b / "results.json"), "-o", str(out), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    jpeg = next(r for r in rows if r["anchor"] == "jpeg")
    assert jpeg["codec"] == "inrz-coin" and jpeg["points"] == 4  # two runs of two points: one cubic fit
    assert isinstance(jpeg["bd_psnr"], float)


def test_inrz_plot_reads_compressais_own_files(two_runs, tmp_path, capsys):
    """A CompressAI results file (its schema: name, results) merges in as another curve."""
    (_, a), _ = two_runs
    theirs = tmp_path / "bmshj2018-factorized.json"
    theirs.write_text(json.dumps({"name": "bmshj2018-factorized", "description": "CompressAI",
                                  "results": {"bpp": [0.2, 0.4, 0.8], "psnr": [27.0, 30.0, 33.5]}}))
    assert main(["plot", str(a / "results.json"), str(theirs), "-o", str(tmp_path / "p.png"), "--json"]) == 0
    codecs = {r["codec"] for r in json.loads(capsys.readouterr().out)}
    assert codecs == {"inrz-coin", "bmshj2018-factorized"}


def test_inrz_plot_says_which_figures_a_file_has(two_runs, tmp_path, capsys):
    (_, a), _ = two_runs
    assert main(["plot", str(a / "results.json"), "-o", str(tmp_path / "p.png"), "--metric", "lpips"]) == 1
    assert "figures in the files:" in capsys.readouterr().err


def test_inrz_plot_refuses_runs_over_different_items(two_runs, tmp_path, capsys):
    """Means over different images are not points of one curve: a BD fit to them is meaningless."""
    (_, a), (_, b) = two_runs
    other = json.loads((b / "results.json").read_text())
    for item in other["items"]:
        item["name"] = "kodim99"
    (tmp_path / "other.json").write_text(json.dumps(other))
    args = ["plot", str(a / "results.json"), str(tmp_path / "other.json"), "-o", str(tmp_path / "p.png"), "--json"]
    assert main(args) == 1
    assert "cover different data" in capsys.readouterr().err and not (tmp_path / "p.png").exists()
    assert main([*args, "--mixed-items"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == [] and "no BD figures" in captured.err
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


def test_a_baseline_that_cannot_get_as_small_is_flagged_in_the_report(two_runs, tmp_path):
    """JPEG's smallest 176 x 176 file (~700 bytes) is larger than a 2x4 SIREN's: not equal size."""
    folder = two_runs[0][1].parent / "images"
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC.format(folder=folder, out=tmp_path / "out", w0=4, w1=4).replace("- {label: large", "#"))
    results = run(spec, progress=False)
    record = json.loads((tmp_path / "out" / "results.json").read_text())["items"][0]
    assert record["baselines"]["jpeg"]["bytes"] > record["inrz"]["bytes"]
    assert record["baselines"]["jpeg"]["above_target"] is True
    report = (tmp_path / "out" / "report.md").read_text()
    assert "Not at equal size" in report and "jpeg on 1 of 1" in report
    assert results["results"]["bpp"][0] < results["baselines"]["jpeg"]["results"]["bpp"][0]


def test_a_resumed_run_rematches_only_the_baselines_whose_code_changed(two_runs, tmp_path, monkeypatch):
    """Baselines carry a version: a finished item whose baseline got newer is matched again to its
    stored file (the network is not refitted); an unchanged version leaves the record alone."""
    folder = two_runs[0][1].parent / "images"
    spec = tmp_path / "one.yaml"
    spec.write_text(SPEC.format(folder=folder, out=tmp_path / "out", w0=16, w1=16).replace("- {label: large", "#"))
    run(spec, progress=False)
    path = tmp_path / "out" / "items" / "crop@0.json"
    first = json.loads(path.read_text())
    assert first["baseline_versions"] == {"jpeg": 1, "webp": 2}
    edited = {**first, "baselines": {**first["baselines"], "webp": {"bytes": -1}, "jpeg": {"bytes": -2}}}
    path.write_text(json.dumps(edited))
    run(spec, progress=False)
    assert json.loads(path.read_text())["baselines"]["webp"] == {"bytes": -1}  # same versions: kept as is
    webp = type(get_host().create("baseline", "webp"))
    monkeypatch.setattr(webp, "version", 3)
    run(spec, progress=False)
    again = json.loads(path.read_text())
    assert again["baseline_versions"] == {"jpeg": 1, "webp": 3}
    assert again["baselines"]["webp"] == first["baselines"]["webp"] and again["baselines"]["jpeg"] == first[
        "baselines"]["jpeg"]
    assert again["inrz"] == first["inrz"]  # same encoding time: nothing was refitted


def test_bd_over_fewer_than_four_points_says_so_and_libraries_are_listed(two_runs):
    results, folder = two_runs[0]
    report = (folder / "report.md").read_text()
    assert "(2 points)" in report  # two rate points: a line, not a Bjøntegaard curve
    libraries = results["environment"]["baseline_libraries"]
    assert set(libraries) == {"jpeg", "webp"} and all("Pillow" in v for v in libraries.values())
    assert "## Classical codecs" in report and libraries["webp"] in report


def test_published_anchors_are_drawn_listed_and_never_in_bd(two_runs, tmp_path, capsys):
    from inrz.runs import curves, plot, report as report_mod

    results, folder = two_runs[0]
    anchor = {"name": "VTM", "source": "org/repo@abc:results/vtm.json", "licence": "BSD", "convention": "mean PSNR",
              "bpp": [0.1, 0.3, 0.6, 1.0], "psnr": [28.0, 31.0, 34.0, 37.0]}
    data = {**json.loads((folder / "results.json").read_text()), "anchors": [anchor]}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    loaded = curves.from_results(data)
    assert [c.name for c in loaded if c.kind == curves.PUBLISHED] == ["VTM (published)"]
    assert all("VTM" not in (r["codec"], r["anchor"]) for r in curves.bd_table(loaded, "bpp", "psnr"))
    assert main(["plot", str(path), "-o", str(tmp_path / "p.png"), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all("VTM" not in (r["codec"], r["anchor"]) for r in rows)
    text = report_mod.markdown(type("S", (), {"name": "s", "description": ""})(), report_mod.summary(data["items"]),
                               data["items"], data["environment"], anchors=[anchor])
    assert "## Published reference curves" in text and "`org/repo@abc:results/vtm.json`" in text
    assert plot.few_points({"points": 2}) == " (2 points)" and plot.few_points({"points": 4}) == ""
