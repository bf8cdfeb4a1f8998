"""Compressing never trains (issue 26): a spec whose model is still to be trained, or names a
base network that is not there, stops with an error that says `inrz train`, before any fit,
and no training code runs on the way. Training happens where a spec is prepared
(`Backend.prepare`, called by `inrz run`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import inrz

SPEC = """name: untrained
dataset: {{id: folder, path: .}}
modality: {{id: ndarray}}
train: {{dataset: {{id: folder, path: .}}, patch: [8, 8]}}
backend: {{id: coinpp, model: {model}}}
quantizer: {{id: latent_uniform, model: {model}, bits: 5}}
entropy: {{id: table, model: {model}}}
"""


@pytest.fixture
def no_training(monkeypatch):
    """Training, entered in any way, fails the test."""
    import importlib

    def trains(*args, **kwargs):
        raise AssertionError("compress entered training")

    for module, name in [("inrz_coinpp.loop", "train"), ("inrz_coinpp.training", "train_from_spec"),
                         ("inrz.runs.prepare", "prepare_spec")]:
        monkeypatch.setattr(importlib.import_module(module), name, trains)


@pytest.mark.parametrize("model", ["auto", "0123456789abcdef"])
def test_compress_with_an_untrained_coinpp_spec_says_inrz_train(model, tmp_path, monkeypatch, no_training):
    monkeypatch.setenv("INRZ_MODELS_DIR", str(tmp_path / "models"))
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(model=model))
    with pytest.raises(inrz.InrzError, match="inrz train") as caught:
        inrz.compress(np.zeros((8, 8, 1), np.float32), spec=spec)
    assert isinstance(caught.value, (inrz.SpecError, inrz.BaseNetworkError))


# ---------------- where training does happen: Backend.prepare, called by `inrz run` ----------------

def write_spec(tmp_path, model: str):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(model=model) + "compare:\n  - {label: coin, backend: {id: coin, depth: 2, width: 8}}\n")
    return spec


def test_coinpp_prepares_model_auto_with_the_network_trained_for_the_spec(tmp_path, monkeypatch):
    import inrz_coinpp.training as training
    from inrz.runs import prepare
    from inrz.runs import spec as specs

    calls = []
    monkeypatch.setattr(training, "train_from_spec", lambda *args, **kwargs: calls.append(args) or "0123456789abcdef")
    path = write_spec(tmp_path, "auto")
    host = inrz.get_host()
    prepared = prepare.prepare_spec(specs.load_spec(path, host=host), path, host, log=lambda message: None)
    assert len(calls) == 1  # one training for every section that asked
    assert [prepared.backend["model"], prepared.quantizer["model"], prepared.entropy["model"]] == ["0123456789abcdef"] * 3
    assert prepared.compare[0].backend == {"id": "coin", "depth": 2, "width": 8}  # COIN has nothing to prepare


def test_a_spec_with_nothing_to_prepare_trains_nothing(tmp_path, monkeypatch):
    import inrz_coinpp.training as training
    from inrz.runs import prepare
    from inrz.runs import spec as specs

    monkeypatch.setattr(training, "train_from_spec", lambda *args, **kwargs: pytest.fail("trained"))
    path = write_spec(tmp_path, "0123456789abcdef")
    host = inrz.get_host()
    spec = specs.load_spec(path, host=host)
    assert prepare.prepare_spec(spec, path, host).model_dump() == spec.model_dump()


def test_the_default_prepare_returns_the_sections_unchanged():
    sections = {"backend": {"id": "x"}, "quantizer": {"id": "fp16"}, "entropy": {"id": "zstd"}}
    ctx = inrz.PrepareContext(None, Path("spec.yaml"), None, items=lambda *field: pytest.fail("read a dataset"))
    assert inrz.Backend.prepare(sections, ctx) == sections
