"""The bytes inrz writes do not change by accident: a fixed set of encodings (every built-in
modality, both backends, each quantizer and entropy model, error-bounded mode) is hashed and
compared with hashes recorded by an earlier version on the same torch build and kind of CPU.

Fits are float computations, and torch's CPU kernels pick their blocking (and so their summation
order) by the torch build, the CPU vendor and its vector extensions: the hashes are only
comparable where all three match the recording machine (the test says so and skips elsewhere;
CI once ran on another CPU and 4 of the 10 fits moved by an ulp). Record them, only on purpose, with

    python -m tests.test_encoding_bytes --write

The error-bounded archive cases fit no network (the fit gate finds none that can pay on them; the
test checks the path each took), so their bytes come from integer and numba code alone and are
pinned in `encodings_archive.json` for every machine, without the CPU-kind skip.
"""
from __future__ import annotations

import hashlib
import json
import platform
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from inrz import Codec, PluginHost
from inrz.testing import tiny_codec, tiny_signal

from .conftest import DATA

PINNED = Path(__file__).parent / "golden" / "encodings.json"
PINNED_ARCHIVE = Path(__file__).parent / "golden" / "encodings_archive.json"
EXAMPLE_MODALITIES = ("audio", "climate", "mri", "ndarray")


def machine() -> str:
    """What decides torch's CPU kernel choice: architecture, vendor and model, vector extensions."""
    info = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    vector = sorted(f for f in info.get("flags", "").split() if f.startswith(("avx", "amx", "fma", "sse4")))
    return " | ".join([platform.machine(), info.get("vendor_id", "?"), info.get("model name", platform.processor()),
                       torch.backends.cpu.get_cpu_capability(), " ".join(vector)])


def _coin(host, modality, quantizer, entropy, **backend) -> Codec:
    backend = {"id": "coin", "depth": 3, "width": 12, "steps": 30, "lr": 1e-3, **backend}
    return Codec(modality, host.create("backend", backend), host.create("quantizer", quantizer),
                 host.create("entropy", entropy))


def _image_cases(host) -> dict[str, bytes]:
    image = host.create("modality", "image")
    crop = image.from_array(image.load(DATA / "kodak" / "kodim15.png").data[200:232, 300:332])
    return {
        "image-coin-fp16-zstd": _coin(host, image, "fp16", "zstd").encode(crop).data,
        "image-coin-uniform8-raw": _coin(host, image, {"id": "uniform", "bits": 8}, "raw").encode(crop).data,
        "image-coin-bpp4-uniform6-zstd": _coin(host, image, {"id": "uniform", "bits": 6}, "zstd", depth=None,
                                               width=None, bpp=4.0).encode(crop).data,
    }


def _example_cases(host) -> dict[str, bytes]:
    out = {}
    for id in EXAMPLE_MODALITIES:
        modality = host.create("modality", id)
        out[f"{id}-example-tiny-codec"] = tiny_codec(modality, host, steps=10).encode(tiny_signal(modality)).data
    return out


def _archive_cases() -> dict[str, bytes]:
    from inrz.archive.config import canonical, encode_array

    t2m = np.load(DATA / "climate" / "era5_t2m_2019-03_uk.npz")["t2m"]
    fast = {"id": "coin", "bpp": 0.25, "steps": 10, "lr": 1e-3}
    return {
        "ndarray-bounded": encode_array(t2m[0], canonical({"max_abs_error": 0.2, "backend": fast})),
        "ndarray-bounded-bpp-search": encode_array(t2m[:2], canonical({"max_abs_error": 0.2, "backend": fast,
                                                                       "bpp_search": [0.25, 2.0]})),
    }


def _coinpp_case(host, models_dir: Path) -> dict[str, bytes]:
    """A tiny base network trained here (4 steps, under a second: training is deterministic too, and
    this keeps COIN++ in the default tier, whose meta-training tests are marked slow), then one image."""
    from inrz_coinpp import artifacts
    from inrz_coinpp.config import TrainConfig
    from inrz_coinpp.data import TrainData
    from inrz_coinpp.loop import train

    images = np.load(DATA / "cifar10" / "cifar10_test_100.npz")["images"]
    features = list(images[:12].astype(np.float32) / 255.0)
    cfg = TrainConfig(dataset={"id": "folder", "path": "."}, patch=[16, 16], depth=2, width=16, latent_dim=8,
                      w0=30.0, steps=4, batch_size=4, outer_lr=1e-3, val_every=2, val_patches=8, checkpoint_every=2,
                      stats_patches=64, quant_bits=[5])
    net = train(cfg, TrainData(features[:10], features[10:], {"pinned": True}), 0, torch.device("cpu"),
                models_dir / "work", log=lambda m: None)
    digest = artifacts.save(net, models_dir)
    image = host.create("modality", "image")
    codec = Codec(image, host.create("backend", {"id": "coinpp", "model": digest}),
                  host.create("quantizer", {"id": "latent_uniform", "model": digest, "bits": 5}),
                  host.create("entropy", {"id": "table", "model": digest}))
    return {"image-coinpp-latent5-table": codec.encode(image.from_array(images[12])).data}


def encodings(models_dir: Path) -> dict[str, bytes]:
    """Every pinned case, fitted on one thread (the thread count changes float summation order)."""
    host = PluginHost()
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return {**_image_cases(host), **_example_cases(host), **_coinpp_case(host, models_dir)}
    finally:
        torch.set_num_threads(before)


def digests(models_dir: Path) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in encodings(models_dir).items()}


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    from inrz_coinpp import artifacts

    monkeypatch.setenv(artifacts.MODELS_ENV, str(tmp_path))
    artifacts._load_cached.cache_clear()
    yield tmp_path
    artifacts._load_cached.cache_clear()


def test_encodings_are_byte_identical_to_the_recorded_ones(models_dir):
    if not (DATA / "kodak" / "kodim15.png").exists():
        pytest.skip(f"real test data not found: {DATA}")
    pinned = json.loads(PINNED.read_text())
    if pinned["torch"] != torch.__version__:
        pytest.skip(f"hashes were recorded with torch {pinned['torch']}, this is {torch.__version__}")
    if pinned["machine"] != machine():
        pytest.skip(f"hashes were recorded on a CPU of another kind ({pinned['machine']}), this is {machine()}")
    got = digests(models_dir)
    changed = sorted(name for name in pinned["sha256"] if got.get(name) != pinned["sha256"][name])
    assert set(got) == set(pinned["sha256"]) and not changed, f"these encodings changed: {changed}"


def archive_digests() -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in _archive_cases().items()}


def test_archive_encodings_are_byte_identical_on_every_machine():
    from inrz.archive import frames

    if not (DATA / "climate" / "era5_t2m_2019-03_uk.npz").exists():
        pytest.skip(f"real test data not found: {DATA}")
    cases = _archive_cases()
    assert {name: frames.path(data) for name, data in cases.items()} == {name: "residual/cubic" for name in cases}
    pinned = json.loads(PINNED_ARCHIVE.read_text())["sha256"]
    got = {name: hashlib.sha256(data).hexdigest() for name, data in cases.items()}
    changed = sorted(name for name in pinned if got.get(name) != pinned[name])
    assert set(got) == set(pinned) and not changed, f"these encodings changed: {changed}"


if __name__ == "__main__" and "--write-archive" in sys.argv:
    PINNED_ARCHIVE.write_text(json.dumps({"sha256": archive_digests()}, indent=1, sort_keys=True) + "\n")
    print(f"wrote the archive hashes to {PINNED_ARCHIVE}")

if __name__ == "__main__" and "--write" in sys.argv:
    import tempfile

    from inrz_coinpp import artifacts

    with tempfile.TemporaryDirectory() as tmp:
        import os

        os.environ[artifacts.MODELS_ENV] = tmp
        record = {"torch": torch.__version__, "machine": machine(), "sha256": digests(Path(tmp))}
    PINNED.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(record['sha256'])} hashes to {PINNED}")
