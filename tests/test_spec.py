"""YAML specs: valid ones load, every mistake is a `SpecError` naming `file:line: field`.

Line numbers are checked exactly: the point of the format is that a user can jump to the
offending key. Every shipped spec under `specs/` must validate (no network: datasets are
only validated, never listed).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from inrz import PluginHost, SpecError
from inrz.runs.spec import Spec, load_spec, spec_hash

SPECS = sorted((Path(__file__).resolve().parents[1] / "specs").glob("*.yaml"))

VALID = """\
name: demo
dataset: {id: folder, path: ., glob: "*.png"}
modality: {id: image}
backend:
  id: coin
  steps: 10
"""


@pytest.fixture(scope="module")
def host() -> PluginHost:
    return PluginHost()


@pytest.fixture
def write(tmp_path):
    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


def spec_error(path: Path, host: PluginHost, overrides: list[str] = ()) -> str:
    with pytest.raises(SpecError) as info:
        load_spec(path, list(overrides), host)
    return str(info.value)


def test_valid_spec_loads(write, host):
    spec = load_spec(write(VALID), host=host)
    assert isinstance(spec, Spec)
    assert spec.name == "demo"
    assert spec.dataset == {"id": "folder", "path": ".", "glob": "*.png"}
    assert spec.modality == {"id": "image"}
    assert spec.backend == {"id": "coin", "steps": 10}
    assert spec.quantizer == {"id": "fp16"} and spec.entropy == {"id": "zstd"}  # documented defaults


def test_unknown_top_level_key_names_file_line_and_field(write, host):
    path = write(VALID + "# a comment\nbogus_key: 1\n")
    message = spec_error(path, host)
    assert f"{path}:8: bogus_key:" in message
    assert "Extra inputs are not permitted" in message


def test_bad_component_setting_names_nested_field_and_its_line(write, host):
    path = write(VALID.replace("steps: 10", "steps: -3"))
    message = spec_error(path, host)
    assert re.search(rf"^{re.escape(str(path))}:6: backend\.steps: .*greater than or equal to 1", message, re.M)


def test_unknown_setting_of_a_plugin_component_is_reported_like_a_core_one(write, host):
    path = write(VALID + "baselines:\n  - {id: jpeg}\n  - {id: webp, method: 9}\n")
    message = spec_error(path, host)
    assert f"{path}:9: baselines.1.method:" in message


def test_unknown_backend_id_lists_available_ones(write, host):
    path = write(VALID.replace("id: coin", "id: coinn"))
    message = spec_error(path, host)
    assert f"{path}:5: backend.id:" in message
    assert "'coinn'" in message and re.search(r"available: .*\bcoin\b", message)


def test_component_without_id_lists_available_ones(write, host):
    path = write("name: demo\ndataset: {path: .}\n")
    message = spec_error(path, host)
    assert f"{path}:2: dataset.id: missing" in message
    assert "folder" in message


def test_unknown_metric_is_reported_before_any_fit(write, host):
    path = write(VALID + "metrics:\n  - psnr\n  - psnrr\n")
    message = spec_error(path, host)
    assert f"{path}:9: metrics.1: unknown metric 'psnrr'" in message
    assert "psnr" in message.split("available:")[1]


def test_missing_dataset_is_reported(write, host):
    path = write("name: demo\nbackend: {id: coin}\n")
    message = spec_error(path, host)
    assert f"{path}:1: dataset: Field required" in message


def test_invalid_yaml_reports_a_line(write, host):
    path = write("name: demo\ndataset: {id: folder, path: .}\nbackend: [coin\nseed: 1\n")
    message = spec_error(path, host)
    assert re.match(rf"{re.escape(str(path))}:4: invalid YAML", message)


def test_a_spec_must_be_a_mapping(write, host):
    assert "must be a mapping" in spec_error(write("- just\n- a list\n"), host)


def test_missing_file_is_a_spec_error(tmp_path, host):
    path = tmp_path / "absent.yaml"
    assert str(path) in spec_error(path, host)


def test_override_sets_a_nested_value(write, host):
    spec = load_spec(write(VALID), ["backend.steps=2000", "seed=7"], host)
    assert spec.backend["steps"] == 2000
    assert spec.seed == 7


def test_override_replaces_a_bad_value_from_the_file(write, host):
    spec = load_spec(write(VALID.replace("steps: 10", "steps: -3")), ["backend.steps=5"], host)
    assert spec.backend["steps"] == 5


@pytest.mark.parametrize("override", ["backend.steps=-1", "backend.steps=many"])
def test_wrong_override_is_reported_as_the_set_flag(write, host, override):
    message = spec_error(write(VALID), host, [override])
    assert message.startswith("--set backend.steps: backend.steps:")


def test_override_without_equals_sign_says_what_is_expected(write, host):
    assert "expected field.path=value" in spec_error(write(VALID), host, ["backend.steps"])


def test_override_through_a_scalar_is_reported(write, host):
    message = spec_error(write(VALID), host, ["name.x=1"])
    assert message.startswith("--set name.x: name is not a mapping")


def test_spec_hash_is_stable_and_tracks_results_affecting_fields(write, host):
    base = load_spec(write(VALID), host=host)
    assert spec_hash(base) == spec_hash(load_spec(write(VALID, "copy.yaml"), host=host))
    assert re.fullmatch(r"[0-9a-f]{16}", spec_hash(base))
    renamed = load_spec(write(VALID), ["name=other", "description=changed", "output=elsewhere"], host)
    assert spec_hash(renamed) == spec_hash(base)
    for override in ["backend.steps=11", "seed=1", "quantizer.id=uniform", "batch_size=2"]:
        assert spec_hash(load_spec(write(VALID), [override], host)) != spec_hash(base), override


@pytest.mark.parametrize("path", SPECS, ids=[p.name for p in SPECS])
def test_shipped_specs_validate(path, host):
    spec = load_spec(path, host=host)
    assert spec.name == path.stem


def test_specs_are_shipped():
    assert SPECS, "no specs/*.yaml found next to tests/"


def test_override_of_a_defaulted_section_keeps_the_default_id(write, host):
    spec = load_spec(write("name: demo\ndataset: {id: folder, path: .}\n"), ["backend.steps=3", "entropy.level=3"], host)
    assert spec.backend == {"id": "coin", "steps": 3}
    assert spec.entropy == {"id": "zstd", "level": 3}


def test_override_of_a_list_item(write, host):
    path = write(VALID + "baselines:\n  - {id: jpeg}\n")
    assert load_spec(path, ["baselines.0.optimize=false"], host).baselines == [{"id": "jpeg", "optimize": False}]
    assert spec_error(path, host, ["baselines.0.method=1"]).startswith("--set baselines.0.method: baselines.0.method:")
    for bad in ["baselines.3.id=webp", "baselines.first.id=webp"]:
        assert "baselines has 1 items; use an index 0..0" in spec_error(path, host, [bad])
