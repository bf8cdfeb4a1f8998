"""COIN++ brings its own commands (`CoinPP.add_commands`): `inrz train SPEC` trains a base
network from the spec's `train:` section (once per spec and data) and `inrz models` lists
what was trained; without the coinpp plugin the `inrz` command has neither (issue 26)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from inrz.cli.main import build_parser, main

SPEC = """name: tiny
dataset: {{id: folder, path: {folder}, glob: "*.npy"}}
modality: {{id: ndarray}}
train: {{dataset: {{id: folder, path: {folder}, glob: "*.npy"}}, patch: [8, 8], depth: 2, width: 8, latent_dim: 4,
        steps: 2, batch_size: 4, val_every: 2, val_patches: 4, stats_patches: 16, quant_bits: [3]}}
backend: {{id: coinpp, model: auto}}
quantizer: {{id: latent_uniform, model: auto, bits: 3}}
entropy: {{id: table, model: auto}}
output: {out}
"""


@pytest.fixture
def spec(tmp_path, monkeypatch):
    monkeypatch.setenv("INRZ_MODELS_DIR", str(tmp_path / "models"))
    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        np.save(data / f"{i}.npy", rng.random((16, 16), dtype=np.float32))
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.format(folder=data, out=tmp_path / "out"))
    return path


def test_inrz_train_trains_once_and_inrz_models_lists_it(spec, capsys):
    assert main(["models"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["train", str(spec)]) == 0
    digest = capsys.readouterr().out.strip()
    assert len(digest) == 16 and int(digest, 16) >= 0
    assert main(["train", str(spec)]) == 0  # the same spec and data: found, not trained again
    again = capsys.readouterr()
    assert again.out.strip() == digest and "already trained" in again.err
    assert main(["models"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [m["hash"] for m in listed] == [digest] and "history" not in listed[0]


def test_a_bad_train_section_is_reported_where_it_is(spec, capsys):
    spec.write_text(spec.read_text().replace("steps: 2", "steps: -2"))
    assert main(["train", str(spec)]) != 0
    assert "train.steps" in capsys.readouterr().err


def test_the_commands_come_with_the_plugin(monkeypatch):
    import inrz.host.manager as manager

    def subcommands() -> set[str]:
        monkeypatch.setattr(manager, "_default", None)
        action = next(a for a in build_parser()._actions if a.dest == "command")
        return set(action.choices)

    monkeypatch.setenv("INRZ_PLUGINS", "coin")
    assert not {"train", "models"} & subcommands()
    monkeypatch.setenv("INRZ_PLUGINS", "coin,coinpp")
    assert {"train", "models", "compress", "run"} <= subcommands()
