"""The GPU check (benchmarks/gpu_check.py) in its CPU smoke mode, so it cannot rot between the
rare runs on a lent GPU, and the `device`-marked tests it runs there: every backend's encode and
decode on the configured device (`INRZ_DEVICE=cuda pytest -m device`; the CPU by default).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from inrz import Codec, PluginHost, decode
from inrz.core.device import configured_device, peak_memory_bytes, reset_peak_memory
from inrz.pipeline.defaults import codec_sections

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
GOLDEN = sorted((Path(__file__).parent / "golden").glob("*.inrz"))


@pytest.fixture(scope="module")
def device() -> torch.device:
    return configured_device()


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    """COIN++'s example base network is written here, not into the user's cache."""
    monkeypatch.setenv("INRZ_MODELS_DIR", str(tmp_path / "models"))


@pytest.fixture(scope="module")
def gpu_check():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import gpu_check

        yield gpu_check
    finally:
        sys.path.remove(str(BENCHMARKS))


def _crop(host):
    """16x16 real pixels shipped with the image plugin: the device machine has no ../shared/data."""
    image = host.create("modality", "image")
    return image, type(image).example_signal()


@pytest.mark.device
@pytest.mark.parametrize("backend", PluginHost().registry.names("backend"))
def test_backend_encodes_and_decodes_on_the_configured_device(backend, device, models_dir):
    host = PluginHost()
    image, signal = _crop(host)
    example = host.registry.get("backend", backend).example_codec(image, signal)
    if example is None:
        pytest.skip(f"backend {backend!r} has no example codec")
    sections = {**codec_sections(image), **example}
    reset_peak_memory(device)
    data = Codec.from_sections(host, image, sections, device).encode(signal).data
    on_device, again = decode(data, host, device).signal.data, decode(data, host, device).signal.data
    on_cpu = decode(data, host, "cpu").signal.data
    assert on_device.shape == signal.data.shape and on_device.dtype == signal.data.dtype
    assert on_device.tobytes() == again.tobytes()
    # float evaluation order differs between devices: a rounded value may move by one level
    assert np.abs(on_device.astype(int) - on_cpu.astype(int)).max() <= 1
    if device.type == "cuda":
        assert peak_memory_bytes(device) > 0  # the work really ran on the GPU


@pytest.mark.device
@pytest.mark.parametrize("path", GOLDEN, ids=[p.name for p in GOLDEN])
def test_golden_file_decodes_on_the_configured_device(path, device):
    from PIL import Image

    decoded = decode(path.read_bytes(), PluginHost(), device)
    got = decoded.signal.data
    png = path.with_name(path.name.replace(".inrz", ".expected.png"))
    npy = path.with_name(path.name.replace(".inrz", ".expected.npy"))
    want = np.asarray(Image.open(png)) if png.exists() else np.load(npy, allow_pickle=False)
    assert got.shape == want.shape
    bound = decoded.header.get("error_bound", {}).get("max_abs_error", 1)  # else one level of float rounding
    assert np.abs(got.astype(np.float64) - want.astype(np.float64)).max() <= bound


def test_smoke_mode_runs_every_part_on_the_cpu(gpu_check, tmp_path, models_dir):
    assert gpu_check.main(["--smoke", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    parts = report["parts"]
    assert report["passed"] and report["complete"], {k: v.get("error") for k, v in parts.items()}
    assert parts["device_tests"]["tests"] >= 1 and parts["device_tests"]["failures"] == 0
    xdev = parts["cross_device"]
    assert set(xdev["encoded_on_device"]) == {"coin", "coinpp", "c3"} and len(xdev["golden_on_device"]) == len(GOLDEN)
    assert xdev["all_identical"] and xdev["all_deterministic"]  # CPU against CPU: must be exact
    loops = parts["host_syncs"]["loops"]
    for name in ("coin_fit_random_points", "coin_fit_all_points", "coinpp_meta_step", "coinpp_inner_loop"):
        assert loops[name]["per_step"] == 0, (name, loops[name]["per_step_sites"])
    for name in ("coin_step", "coinpp_step"):
        assert all(run["steps_per_s_with_fixed_costs"] > 0 for run in parts[name]["runs"])
    for curve in parts["c3_anytime"]["curves"].values():
        assert [run["steps"] for run in curve["runs"]][:1] == [3] and curve["last_decodes_identically_on_cpu"]
        assert all(np.isfinite(run["psnr"]) and run["bpp"] > 0 for run in curve["runs"])
        assert curve["training_curve"][-1]["step"] == curve["runs"][-1]["steps"]


def test_a_per_step_sync_in_a_hot_loop_is_found(gpu_check):
    """COIN's progress callback reads the loss every step (float(loss.min())): the counter must
    name that line as one sync per step, and the quiet fit (no callback) as none."""
    import inrz
    from _hostsync import per_step_syncs

    host = PluginHost()
    image, signal = _crop(host)

    def fit(progress):
        return lambda steps: inrz.compress(signal.data, modality="image", device="cpu", host=host, backend="coin",
                                           depth=2, width=8, steps=steps, points_per_step=64, progress=progress)
    noisy = per_step_syncs(fit(lambda *args: None), 5, torch.device("cpu"))
    assert noisy["per_step"] == 1 and list(noisy["per_step_sites"])[0].startswith("inrz_coin/fit.py:")
    assert per_step_syncs(fit(None), 5, torch.device("cpu"))["per_step"] == 0


def test_the_cpu_allocation_finder_names_inrz_lines(gpu_check):
    """On CUDA it counts ops from inrz's lines that make CPU tensors; forced on the CPU, where every
    tensor is one, it must see COIN's per-step draw of points at its line in inrz_coin/fit.py."""
    import inrz
    from _hostsync import per_step_syncs

    host = PluginHost()
    image, signal = _crop(host)
    found = per_step_syncs(lambda steps: inrz.compress(signal.data, modality="image", device="cpu", host=host,
                                                       backend="coin", depth=2, width=8, steps=steps,
                                                       points_per_step=64), 3, torch.device("cpu"), allocations=True)
    assert any(site.startswith("inrz_coin/fit.py:") and "randint" in site for site in found["cpu_allocation_sites"])
    assert found["cpu_allocations_per_step"] > 0


def test_cross_device_tolerance_is_none_for_exact_decoders(gpu_check):
    from _gpu_parts import _tolerance

    image = np.zeros((2, 2, 3), np.uint8)
    assert _tolerance({"backend": {"id": "c3"}}, image) == 0.0
    assert _tolerance({"backend": {"id": "coin"}}, image) == 1.0  # a float network: one level of rounding
    bounded = {"backend": {"id": "coin"}, "error_bound": {"max_abs_error": 0.2}}
    assert _tolerance(bounded, image.astype(np.float32)) == pytest.approx(0.4)


def test_a_spent_budget_skips_parts_and_still_writes_the_report(gpu_check, tmp_path):
    assert gpu_check.main(["--smoke", "--out", str(tmp_path), "--budget-s", "0", "--parts", "env,c3_anytime"]) == 0
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert report["parts"]["c3_anytime"]["status"] == "skipped" and not report["complete"]
    assert report["parts"]["env"]["torch"] == torch.__version__
