"""COIN++ on real 32x32 images: meta-learning helps, range coding is real, base networks are
checked, and a fresh process decodes what this one encoded."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from inrz import Codec, decode, grid_coordinates
from inrz_coinpp import artifacts
from inrz_coinpp.config import TrainConfig
from inrz_coinpp.data import TrainData, random_patches
from inrz_coinpp.loop import evaluate, train

from .conftest import data_file

pytestmark = pytest.mark.slow  # meta-trains a base network for the module (150 outer steps)


@pytest.fixture(scope="module")
def images():
    data = np.load(data_file("cifar10", "cifar10_test_100.npz"))["images"].astype(np.float32) / 255.0
    return list(data[:80]), list(data[80:])  # (32, 32, 3) features in [0, 1]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def base(images, models_dir, tmp_path_factory):
    cfg = TrainConfig(dataset={"id": "folder", "path": "."}, patch=[16, 16], depth=3, width=32, latent_dim=16,
                      w0=30.0, steps=150, batch_size=16, outer_lr=1e-3, val_every=50, val_patches=32,
                      checkpoint_every=50, stats_patches=2048, quant_bits=[4, 6])
    net = train(cfg, TrainData(*images, {"test": True}), 0, __import__("torch").device("cpu"),
                tmp_path_factory.mktemp("train"), log=lambda m: None)
    artifacts.save(net, models_dir)
    return net


@pytest.fixture
def use_models(models_dir, monkeypatch):
    monkeypatch.setenv(artifacts.MODELS_ENV, str(models_dir))
    artifacts._load_cached.cache_clear()


def held_out_patches(images, n=64):
    return random_patches(images[1], [16, 16], n, np.random.default_rng(5))


def test_inner_steps_improve_psnr_on_held_out_images(base, images):
    import torch

    model = base.model()
    x = torch.from_numpy(grid_coordinates([16, 16]).reshape(-1, 2))
    y = torch.from_numpy(held_out_patches(images))
    at0, at3, at10 = (evaluate(model, x, y, k, 1e-2) for k in (0, 3, 10))
    assert at3 > at0 + 1.0, (at0, at3)
    assert at10 >= at3, (at3, at10)


def coinpp_codec(host, net, per_dim=False, bits=6, table_per_dim=None):
    modality = host.create("modality", "image")
    stats = "per_dim" if per_dim else "global"
    table_per_dim = per_dim if table_per_dim is None else table_per_dim
    return Codec(modality, host.create("backend", {"id": "coinpp", "model": net.hash}),
                 host.create("quantizer", {"id": "latent_uniform", "model": net.hash, "bits": bits, "per_dim": per_dim}),
                 host.create("entropy", {"id": "table", "model": net.hash, "per_dim": table_per_dim, "stats": stats}))


def test_round_trip_and_fresh_process_decode(base, images, host, use_models, models_dir, tmp_path):
    modality = host.create("modality", "image")
    signal = modality.from_array((images[1][0] * 255).round().astype(np.uint8))
    data = coinpp_codec(host, base).encode(signal).data
    assert data == coinpp_codec(host, base).encode(signal).data
    here = decode(data, host).signal.data
    (tmp_path / "a.inrz").write_bytes(data)
    script = ("import sys, numpy as np, inrz; "
              "sys.stdout.write(inrz.decompress(open(sys.argv[1], 'rb').read()).tobytes().hex())")
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "a.inrz")], capture_output=True, text=True,
                         env={**__import__("os").environ, artifacts.MODELS_ENV: str(models_dir)}, check=True)
    assert bytes.fromhex(out.stdout) == here.tobytes()


def test_wrong_or_missing_base_network_is_a_clear_error(base, images, host, use_models, models_dir):
    import json

    modality = host.create("modality", "image")
    signal = modality.from_array((images[1][0] * 255).round().astype(np.uint8))
    data = coinpp_codec(host, base).encode(signal).data
    from inrz.container import format as container

    header, sections = container.read(data)
    header["backend"]["model"] = header["quantizer"]["model"] = header["entropy"]["model"] = "0123456789abcdef"
    with pytest.raises(artifacts.BaseNetworkError, match="0123456789abcdef"):
        decode(container.write(header, sections), host)
    # a network whose files were altered is refused too
    (models_dir / base.hash / "config.json").write_text(json.dumps({"tampered": True}))
    artifacts._load_cached.cache_clear()
    try:
        with pytest.raises(artifacts.BaseNetworkError, match="corrupt"):
            decode(data, host)
    finally:
        artifacts.save(base, models_dir)
        artifacts._load_cached.cache_clear()


def test_range_coding_matches_cross_entropy_and_beats_fixed_width(base, images, host, use_models):
    from inrz import pack_bits

    codec = coinpp_codec(host, base)
    symbols = held_out_symbols(codec, images)
    table = host.create("entropy", {"id": "table", "model": base.hash})
    coded = len(table.encode(symbols, 6))
    estimate = table.estimate_bits(symbols, 6) / 8
    assert coded <= estimate * 1.02 + 8, (coded, estimate)
    assert coded < len(pack_bits(symbols["latents"], 6))


def held_out_symbols(codec, images):
    x = np.stack(images[1][:20])  # (20, 32, 32, 3)
    results = codec.backend.encode(grid_coordinates([32, 32]), x, __import__("inrz").EncodeContext())
    latents = np.concatenate([r.tensors["latents"] for r in results])
    return codec.quantizer.quantize({"latents": latents})[0]


@pytest.mark.parametrize("stats_per_dim", [False, True])
def test_per_dimension_tables_no_larger_than_global_on_held_out(base, images, host, use_models, stats_per_dim):
    per_dim = coinpp_codec(host, base, per_dim=stats_per_dim, table_per_dim=True)
    glob = coinpp_codec(host, base, per_dim=stats_per_dim, table_per_dim=False)
    symbols = held_out_symbols(glob, images)  # the same symbols, coded with either table
    size_d, size_g = len(per_dim.entropy.encode(symbols, 6)), len(glob.entropy.encode(symbols, 6))
    assert size_d <= size_g, (size_d, size_g)
