"""The one-file commands as a user meets them (issue 13, friction 6): `inrz info` tells the rate,
the resolved network and where the bytes go, survives a closed pipe; `--threads`; a format
change on decompress is stated, a lossy one refused unless asked for; `--region` speaks of the
file's own axes; shipped specs are found from any directory."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

import inrz
from inrz.cli.main import build_parser, main

from .conftest import data_file


@pytest.fixture(scope="module")
def encoded(host, tmp_path_factory):
    """A 64 x 96 Kodak crop coded with a network sized for 2 bits per pixel, 5 steps."""
    image = host.create("modality", "image")
    folder = tmp_path_factory.mktemp("info")
    png = folder / "crop.png"
    image.save(image.from_array(image.load(data_file("kodak", "kodim15.png")).data[100:164, 200:296]), png)
    out = folder / "crop.inrz"
    assert main(["compress", str(png), "-o", str(out), "--steps", "5", "--set", "backend.bpp=2.0"]) == 0
    return out


def test_info_shows_rate_resolved_network_and_bytes(encoded, capsys):
    assert main(["info", str(encoded)]) == 0
    text = capsys.readouterr().out
    size = encoded.stat().st_size
    assert f"{size} bytes, {8 * size / (64 * 96):.4f} bits per pixel" in text
    assert "resolved   network SIREN" in text and "depth " in text and "parameters " in text
    assert "grid       64 x 96 (y, x)" in text and "section:payload" in text


def test_info_json_has_everything(encoded, capsys):
    assert main(["info", str(encoded), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["file_bytes"] == encoded.stat().st_size == sum(facts["bytes"].values())
    assert facts["architecture"]["depth"] >= 1 and facts["architecture"]["width"] >= 2  # not `depth: null`
    assert facts["bpp"] == pytest.approx(8 * facts["file_bytes"] / (64 * 96))
    assert facts["header"]["backend"]["bpp"] == 2.0


def test_info_survives_a_closed_pipe(encoded):
    """`inrz info x.inrz | head` ended in BrokenPipeError."""
    proc = subprocess.Popen([sys.executable, "-m", "inrz", "info", str(encoded), "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before inrz writes a byte
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "BrokenPipeError" not in err and "Traceback" not in err


def test_threads_sets_torchs_thread_count(encoded):
    before = torch.get_num_threads()
    try:
        assert main(["info", str(encoded), "--threads", "1"]) == 0
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    assert main(["info", str(encoded), "--threads", "0"]) == 2


def test_a_lossy_format_change_is_refused_unless_asked_for(encoded, tmp_path, capsys):
    """`-o out.jpg` silently re-encoded a PNG to JPEG."""
    assert main(["decompress", str(encoded), "-o", str(tmp_path / "out.jpg")]) == 2
    assert "re-encode it as JPEG, which is lossy" in capsys.readouterr().err
    assert not (tmp_path / "out.jpg").exists()
    assert main(["decompress", str(encoded), "-o", str(tmp_path / "out.jpg"), "--convert"]) == 0
    assert "converted PNG -> JPEG" in capsys.readouterr().err
    assert main(["decompress", str(encoded), "-o", str(tmp_path / "out.tif")]) == 0  # lossless: done, and said
    assert "converted PNG -> TIFF" in capsys.readouterr().err
    assert main(["decompress", str(encoded), "-o", str(tmp_path / "out.png")]) == 0
    assert "converted" not in capsys.readouterr().err


def test_region_help_and_errors_speak_of_the_files_axes(encoded, capsys):
    helptext = build_parser()._subparsers._group_actions[0].choices["decompress"].format_help()
    assert "y0:y1" not in helptext and "per grid axis" in helptext
    assert main(["decompress", str(encoded), "-o", "/dev/null", "--region", "0:10"]) == 1
    assert "region has 1 axes, the signal has 2 (y, x)" in capsys.readouterr().err
    assert main(["decompress", str(encoded), "-o", "/dev/null", "--region", "0:10,90:120"]) == 1
    assert "outside axis x (0:96)" in capsys.readouterr().err


def test_shipped_specs_are_found_from_any_directory(tmp_path, monkeypatch, host):
    """`codec_from_spec("specs/kodak-quick.yaml")` worked only from the repository root."""
    monkeypatch.chdir(tmp_path)
    codec = inrz.codec_from_spec("specs/kodak-quick.yaml", path_hint="x.png", host=host)
    assert codec.backend.config.steps == 500
    assert inrz.codec_from_spec("kodak-quick", path_hint="x.png", host=host).backend == codec.backend
    with pytest.raises(inrz.SpecError, match="shipped specs: .*kodak-quick"):
        inrz.codec_from_spec("no-such-spec", host=host)
