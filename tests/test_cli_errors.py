"""The CLI's error paths: every `InrzError` becomes one `inrz: error: ...` line on stderr and
the exit code of its class (2 spec, 3 container, 1 other), never a traceback.

Nothing here fits a network: every command fails before the first step.
"""
from __future__ import annotations

import pytest

from inrz.cli.main import main
from inrz.container import format as container


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert lines and lines[0].startswith("inrz: error: "), err
    assert "Traceback" not in err
    return err


def test_decompress_missing_file_exits_3_naming_the_path(tmp_path, capsys):
    missing = tmp_path / "nowhere" / "missing.inrz"
    code, out, err = run_cli(capsys, "decompress", missing, "-o", tmp_path / "out.png")
    assert code == 3
    assert str(missing) in assert_one_error_line(err)
    assert "No such file" in err
    assert not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("payload", [b"\x89PNG\r\n\x1a\n" + bytes(range(200)), b"garbage that is not a container"],
                         ids=["png-bytes", "text"])
def test_decompress_non_container_exits_3(tmp_path, capsys, payload):
    path = tmp_path / "random.inrz"
    path.write_bytes(payload)
    code, _, err = run_cli(capsys, "decompress", path, "-o", tmp_path / "out.png")
    assert code == 3
    assert "not an .inrz file" in assert_one_error_line(err)
    assert not (tmp_path / "out.png").exists()


def test_decompress_empty_file_exits_3(tmp_path, capsys):
    path = tmp_path / "empty.inrz"
    path.write_bytes(b"")
    code, _, err = run_cli(capsys, "decompress", path, "-o", tmp_path / "out.png")
    assert code == 3 and "not an .inrz file (empty)" in assert_one_error_line(err)


def test_info_of_truncated_container_exits_3(tmp_path, capsys):
    path = tmp_path / "cut.inrz"
    path.write_bytes(container.write({"modality": {"id": "image"}}, {"payload": b"x" * 40})[:-5])
    code, _, err = run_cli(capsys, "info", path)
    assert code == 3 and "checksum mismatch" in assert_one_error_line(err)


def test_decompress_container_from_a_missing_plugin_names_the_component(tmp_path, capsys):
    header = {"modality": {"id": "test_no_such_modality"}, "backend": {"id": "coin"}, "quantizer": {"id": "fp16"},
              "entropy": {"id": "zstd"}, "meta": {}, "norm": {}, "grid": [2, 2], "d_in": 2, "d_out": 1}
    path = tmp_path / "alien.inrz"
    path.write_bytes(container.write(header, {"payload": b""}))
    code, _, err = run_cli(capsys, "decompress", path, "-o", tmp_path / "out.png")
    assert code == 3
    assert_one_error_line(err)
    assert "cannot rebuild the modality" in err and "'test_no_such_modality'" in err and "available:" in err and "image" in err


def test_decompress_bad_region_says_the_expected_form(tmp_path, capsys):
    path = tmp_path / "any.inrz"
    path.write_bytes(container.write({}, {}))
    code, _, err = run_cli(capsys, "decompress", path, "-o", tmp_path / "o.png", "--region", "a:b")
    assert code == 1
    assert "expected start:stop per axis" in assert_one_error_line(err)


def test_run_malformed_spec_exits_2_with_file_and_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # results/<name> would be created here
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: bad\ndataset: {id: folder, path: .}\nbackend:\n  id: coin\n  steps: 0\n")
    code, out, err = run_cli(capsys, "run", spec)
    assert code == 2
    assert f"{spec}:5: backend.steps:" in assert_one_error_line(err)
    assert out == ""
    assert not (tmp_path / "results").exists()


def test_run_invalid_yaml_exits_2_with_a_line(tmp_path, capsys):
    spec = tmp_path / "broken.yaml"
    spec.write_text("name: broken\ndataset: {id: folder\n")
    code, _, err = run_cli(capsys, "run", spec)
    assert code == 2
    assert f"{spec}:3: invalid YAML" in assert_one_error_line(err)


def test_run_bad_override_exits_2_naming_the_flag(tmp_path, capsys):
    spec = tmp_path / "ok.yaml"
    spec.write_text("name: ok\ndataset: {id: folder, path: .}\n")
    code, _, err = run_cli(capsys, "run", spec, "--set", "backend.steps=-5")
    assert code == 2
    assert "--set backend.steps: backend.steps:" in assert_one_error_line(err)


def test_run_missing_spec_exits_2(tmp_path, capsys):
    code, _, err = run_cli(capsys, "run", tmp_path / "absent.yaml")
    assert code == 2 and "cannot read spec" in assert_one_error_line(err)


@pytest.mark.parametrize("name", ["data.xyz", "noextension"])
def test_compress_unsupported_suffix_lists_known_suffixes(tmp_path, capsys, name):
    source = tmp_path / name
    source.write_bytes(b"\0" * 16)
    code, _, err = run_cli(capsys, "compress", source, "-o", tmp_path / "out.inrz")
    assert code != 0
    assert_one_error_line(err)
    assert "no modality reads" in err and str(source) in err
    assert "known suffixes:" in err and ".png" in err.split("known suffixes:")[1]
    assert not (tmp_path / "out.inrz").exists()


def test_compress_with_malformed_spec_exits_2(tmp_path, capsys):
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: bad\ndataset: {id: folder, path: .}\nquantizer: {id: uniform, bits: 40}\n")
    code, _, err = run_cli(capsys, "compress", tmp_path / "x.png", "-o", tmp_path / "x.inrz", "--spec", spec)
    assert code == 2
    assert f"{spec}:3: quantizer.bits:" in assert_one_error_line(err)


def test_usage_errors_exit_2_through_argparse(capsys):
    with pytest.raises(SystemExit) as info:
        main(["decompress"])
    assert info.value.code == 2
    assert "required" in capsys.readouterr().err


# ---------------- several inputs in one process ----------------

GOLDEN_C3 = sorted((__import__("pathlib").Path(__file__).parent / "golden").glob("c3_*.inrz"))


def test_decompress_of_several_files_writes_each_as_alone(tmp_path, capsys):
    import numpy as np
    from PIL import Image

    pattern = str(tmp_path / "all" / "{stem}.png")
    (tmp_path / "all").mkdir()
    code, _, err = run_cli(capsys, "decompress", *GOLDEN_C3, "-o", pattern)
    assert code == 0, err
    for path in GOLDEN_C3:
        alone = tmp_path / f"alone_{path.stem}.png"
        assert run_cli(capsys, "decompress", path, "-o", alone)[0] == 0
        together = tmp_path / "all" / f"{path.stem}.png"
        assert np.array_equal(np.asarray(Image.open(together)), np.asarray(Image.open(alone)))


@pytest.mark.parametrize("output,message", [("{stem}", None), ("out.png", "need an output pattern holding {stem}"),
                                            ("{stem}_{n}.png", "the only placeholder is {stem}")])
def test_decompress_of_several_files_refuses_a_bad_pattern_before_decoding(tmp_path, capsys, output, message):
    first, second = tmp_path / "a" / "x.inrz", tmp_path / "b" / "x.inrz"  # the same stem
    for path, source in ((first, GOLDEN_C3[0]), (second, GOLDEN_C3[1])):
        path.parent.mkdir()
        path.write_bytes(source.read_bytes())
    code, _, err = run_cli(capsys, "decompress", first, second, "-o", tmp_path / (output + ("" if message else ".png")))
    assert code == 2
    assert (message or "would both be written to") in assert_one_error_line(err)
    assert not list(tmp_path.glob("*.png"))  # nothing decoded, nothing written
