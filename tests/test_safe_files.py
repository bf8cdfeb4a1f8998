"""Files inrz reads that it did not write in this process: training checkpoints (safetensors +
JSON), base network folders (checked, not only hashed), CIFAR's pickled batches (parsed,
never unpickled)."""
from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import safetensors.torch
import torch

from inrz import BaseNetworkError, CheckpointError, DatasetError
from inrz_coinpp import artifacts
from inrz.signal.grid import grid_coordinates
from inrz_coinpp import checkpoint
from inrz_coinpp.config import TrainConfig
from inrz_coinpp.data import TrainData
from inrz_coinpp.loop import train
from inrz_image.batches import read_batch


def tiny_training(steps: int) -> tuple[TrainConfig, TrainData]:
    rng = np.random.default_rng(0)
    images = [rng.random((16, 16, 1), dtype=np.float32) for _ in range(3)]
    cfg = TrainConfig(dataset={"id": "x"}, patch=[8, 8], depth=2, width=16, latent_dim=4, steps=steps, batch_size=4,
                      val_every=3, checkpoint_every=3, val_patches=4, stats_patches=16, quant_bits=[3])
    return cfg, TrainData(images[:2], images[2:], {"sha256": "x"}, grid_coordinates)


def run(cfg, data, workdir):
    return train(cfg, data, 0, torch.device("cpu"), workdir, log=lambda message: None)


def test_a_resumed_training_ends_where_an_uninterrupted_one_does(tmp_path):
    cfg, data = tiny_training(6)
    whole = run(cfg, data, tmp_path / "a")
    run(cfg.model_copy(update={"steps": 3}), data, tmp_path / "b")  # stops after its step-3 checkpoint
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [checkpoint.NAME]
    resumed = run(cfg, data, tmp_path / "b")
    assert all(torch.equal(whole.state[k], resumed.state[k]) for k in whole.state)
    assert whole.info["history"] == resumed.info["history"]


def test_a_checkpoint_of_another_network_is_refused(tmp_path):
    cfg, data = tiny_training(3)
    run(cfg, data, tmp_path)
    with pytest.raises(CheckpointError, match="tensors are not this network's"):
        run(cfg.model_copy(update={"width": 8, "steps": 6}), data, tmp_path)


def test_a_checkpoint_whose_metadata_is_tampered_is_refused(tmp_path):
    cfg, data = tiny_training(3)
    run(cfg, data, tmp_path)
    path = tmp_path / checkpoint.NAME
    tensors = safetensors.torch.load(path.read_bytes())
    path.write_bytes(safetensors.torch.save(tensors, metadata={"inrz": json.dumps({"step": "zero"})}))
    with pytest.raises(CheckpointError, match="metadata is not an inrz checkpoint's"):
        run(cfg.model_copy(update={"steps": 6}), data, tmp_path)


@pytest.fixture
def saved_net(tmp_path):
    cfg, data = tiny_training(1)
    net = run(cfg, data, tmp_path / "work")
    return artifacts.save(net, tmp_path / "models"), tmp_path / "models"


def forge(models, config: dict, state: dict) -> str:
    """A base network folder whose hash matches its (dishonest) content, as anyone can make."""
    weights, text = safetensors.torch.save(state), json.dumps(config).encode()
    digest = artifacts.content_hash(weights, text)
    (models / digest).mkdir()
    (models / digest / "weights.safetensors").write_bytes(weights)
    (models / digest / "config.json").write_bytes(text)
    return digest


@pytest.mark.parametrize("change", ["huge-width", "extra-key", "wrong-weights", "nan-weights", "not-json"])
def test_a_forged_base_network_folder_is_refused(saved_net, change):
    digest, models = saved_net
    config = json.loads((models / digest / "config.json").read_text())
    state = safetensors.torch.load((models / digest / "weights.safetensors").read_bytes())
    if change == "huge-width":
        config["shape"]["width"] = 10**6
    elif change == "extra-key":
        config["shape"]["evil"] = 1
    elif change == "wrong-weights":
        state = {k: v[..., :1].contiguous() for k, v in state.items()}
    elif change == "nan-weights":
        state = {k: torch.full_like(v, float("nan")) for k, v in state.items()}
    if change == "not-json":
        weights = (models / digest / "weights.safetensors").read_bytes()
        forged = artifacts.content_hash(weights, b"{not json")
        (models / forged).mkdir()
        (models / forged / "weights.safetensors").write_bytes(weights)
        (models / forged / "config.json").write_bytes(b"{not json")
    else:
        forged = forge(models, config, state)
    with pytest.raises(BaseNetworkError, match="unreadable|malformed"):
        artifacts.load(forged, models)
    assert any(m.get("error") or m["hash"] for m in artifacts.list_models(models))


@pytest.mark.parametrize("protocol", range(6))
def test_cifar_batches_of_every_pickle_protocol_read_without_unpickling(tmp_path, protocol):
    images = np.random.default_rng(protocol).integers(0, 256, (5, 3072), dtype=np.uint8)
    batch = {b"batch_label": b"testing batch 1 of 1", b"labels": [3, 1, 4, 1, 5], b"data": images,
             b"filenames": [b"a.png"] * 5}
    (tmp_path / "b").write_bytes(pickle.dumps(batch, protocol=protocol))
    out = read_batch(tmp_path / "b")
    assert np.array_equal(out[b"data"], images) and out[b"labels"] == [3, 1, 4, 1, 5]
    assert out[b"batch_label"] == b"testing batch 1 of 1"


@pytest.mark.parametrize("data", [b"", b"\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01", b"\x80\x02B\xff\xff\xff\xff",
                                  pickle.dumps(print, protocol=2), pickle.dumps({b"data": set()}, protocol=4)],
                         ids=["empty", "truncated", "length-past-the-end", "a-function", "a-set"])
def test_malformed_or_foreign_batches_are_dataset_errors(tmp_path, data):
    (tmp_path / "b").write_bytes(data)
    with pytest.raises(DatasetError):
        read_batch(tmp_path / "b")
