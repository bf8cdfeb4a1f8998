"""Compressing never trains (issue 26): a spec whose model is still to be trained, or names a
base network that is not there, stops with an error that says `inrz train`, before any fit,
and no training code runs on the way."""
from __future__ import annotations

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

    for module, name in [("inrz.train.loop", "train"), ("inrz.runs.training", "train_from_spec"),
                         ("inrz.runs.training", "resolve_auto_models")]:
        monkeypatch.setattr(importlib.import_module(module), name, trains)


@pytest.mark.parametrize("model", ["auto", "0123456789abcdef"])
def test_compress_with_an_untrained_coinpp_spec_says_inrz_train(model, tmp_path, monkeypatch, no_training):
    monkeypatch.setenv("INRZ_MODELS_DIR", str(tmp_path / "models"))
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(model=model))
    with pytest.raises(inrz.InrzError, match="inrz train") as caught:
        inrz.compress(np.zeros((8, 8, 1), np.float32), spec=spec)
    assert isinstance(caught.value, (inrz.SpecError, inrz.BaseNetworkError))
