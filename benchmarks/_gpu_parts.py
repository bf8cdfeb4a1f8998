"""gpu_check's correctness parts: the device-marked tests, bit-exact decoding across devices,
and host syncs in the hot loops. Each part takes the run's `Context` and returns a JSON-able
dict; `status` in it is "ok" or "fail" (an exception is recorded by the runner as "error").
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import torch
from _hostsync import per_step_syncs

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
CPU = torch.device("cpu")


def device_tests(ctx) -> dict:
    """`pytest -m device` with INRZ_DEVICE set to the device, in a subprocess bounded by the slice."""
    files = device_test_files()
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", "-m", "device", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
               "--continue-on-collection-errors", *ctx.plan.test_select, *files]
        # third-party pytest plugins stay unloaded (faster start; the device tests need none of them)
        env = {**os.environ, "INRZ_DEVICE": str(ctx.device), "INRZ_MODELS_DIR": str(Path(tmp) / "models"),
               "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        try:
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=ctx.left())
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
            return {"status": "fail", "error": f"pytest ran past its {exc.timeout:.0f} s slice",
                    "command": " ".join(cmd), "output_tail": out.strip().splitlines()[-15:]}
        counts = _junit_counts(junit) if junit.exists() else {}
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
    ok = counts.get("passed", 0) > 0 and counts["failures"] == counts["errors"] == 0
    ctx.say(f"device tests on {ctx.device}: {counts} (pytest exit {proc.returncode})")
    return {"status": "ok" if ok else "fail", "exit_code": proc.returncode, **counts, "output_tail": tail,
            "command": " ".join(cmd)}


def device_test_files() -> list[str]:
    """The suite's test modules that mark tests `device` (collecting only them saves the import of
    every other module, and of packages the device machine may lack)."""
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("test_*.py")
                  if "mark.device" in p.read_text(encoding="utf-8", errors="replace"))


def _junit_counts(path: Path) -> dict:
    """Test counts from pytest's JUnit XML; modules that failed to import (a package missing on
    the device machine) are listed apart, since their device tests could not even be collected."""
    counts = {"tests": 0, "passed": 0, "failures": 0, "errors": 0, "skipped": 0, "not_collected": []}
    for case in ET.parse(path).getroot().iter("testcase"):
        error = case.find("error")
        if error is not None and "collection failure" in (error.get("message") or ""):
            counts["not_collected"].append(f"{case.get('classname')}.{case.get('name')}".strip("."))
            continue
        counts["tests"] += 1
        kind = next((k for k in ("failure", "error", "skipped") if case.find(k) is not None), None)
        counts[{"failure": "failures", "error": "errors", "skipped": "skipped", None: "passed"}[kind]] += 1
    return counts


# --- bit-exact decoding across devices ---------------------------------------------------------
def cross_device(ctx) -> dict:
    """The golden CPU-encoded files decode on the device to the same bytes as on the CPU (and as
    stored); files encoded on the device decode on the CPU to the same bytes as on the device."""
    import inrz

    host = inrz.PluginHost()
    image = host.create("modality", "image")
    size = ctx.plan.xdev_crop
    signal = image.from_array(image.load(ctx.data / "kodak" / "kodim23.png").data[100:100 + size, 200:200 + size])
    golden = {}
    for path in sorted(GOLDEN.glob("*.inrz")):
        if ctx.left() <= 0:
            break
        golden[path.name] = row = _guarded(lambda: _golden_row(host, path, ctx.device))
        ctx.say(f"golden {path.name} on {ctx.device}: identical to cpu={row['identical']} (max diff "
                f"{row.get('max_abs_diff')}, tolerated {row.get('tolerated')}), to stored={row.get('identical_to_stored')} "
                f"{row.get('error', '')}")
    encoded = {}
    for name, sections in _tiny_codecs(host, image, signal, ctx.plan.xdev_steps).items():
        if ctx.left() <= 0:
            break
        encoded[name] = row = _guarded(lambda: _encoded_row(host, image, sections, signal, ctx.device))
        ctx.say(f"encoded on {ctx.device}, decoded on cpu: {name}: identical={row['identical']} "
                f"max_diff={row.get('max_abs_diff')} tolerated={row.get('tolerated')} "
                f"deterministic={row.get('deterministic_encode')} {row.get('error', '')}")
    rows = [*encoded.values(), *golden.values()]
    off = [name for name, r in {**encoded, **golden}.items() if not r.get("tolerated")]
    return {"status": "fail" if off else "ok", "beyond_tolerance": off, "all_identical": all(r["identical"] for r in rows),
            "all_deterministic": all(r.get("deterministic_encode") for r in encoded.values()),
            "encoded_on_device": encoded, "golden_on_device": golden, "complete": ctx.left() > 0}


def _guarded(fn) -> dict:
    """fn()'s row, or the error as text (one file's failure must not lose the others)."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - recorded in the report
        return {"identical": False, "error": f"{type(exc).__name__}: {exc}"}


def _golden_row(host, path: Path, device: torch.device) -> dict:
    row = _compare_decodes(host, path.read_bytes(), CPU, device)
    row.update(_against_stored(path, row.pop("_other")))
    return row


def _encoded_row(host, image, sections: dict, signal, device: torch.device) -> dict:
    import inrz

    codec = inrz.Codec.from_sections(host, image, sections, device)
    data = codec.encode(signal).data
    row = _compare_decodes(host, data, device, CPU)
    del row["_other"]
    row.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest()[:16],
               deterministic_encode=codec.encode(signal).data == data)
    return row


def _tiny_codecs(host, image, signal, steps: int) -> dict[str, dict]:
    """c3, COIN and COIN++ sections for a small crop (COIN++: a base network trained for 2 steps)."""
    from inrz.pipeline.defaults import codec_sections

    base = codec_sections(image)
    coinpp = {**base, **host.registry.get("backend", "coinpp").example_codec(image, signal)}
    return {"coin": {**base, "backend": {"id": "coin", "depth": 3, "width": 16, "steps": steps}},
            "coinpp": coinpp,
            "c3": {**base, "backend": {"id": "c3", "preset": "fast", "steps": steps, "lmbda": 0.004}}}


#: backends whose decoder is exact by design (integer / fixed-point, rendered the same everywhere)
EXACT_BACKENDS = ("c3",)


def _compare_decodes(host, data: bytes, first: torch.device, second: torch.device) -> dict:
    """Decode on both devices; `identical`: the decoded arrays have the same bytes. `tolerated`:
    the difference a decoder may show across devices (none for exact backends; one level of an
    integer output or, error-bounded, twice the bound, for float networks)."""
    from inrz import decode

    decoded = decode(data, host, first)
    a, b = decoded.signal.data, decode(data, host, second).signal.data
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64)) if a.shape == b.shape else np.array([np.inf])
    tolerance = _tolerance(decoded.header, a)
    worst = float(diff.max(initial=0.0))
    return {"identical": a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes(),
            "max_abs_diff": worst, "values_differing": int((diff != 0).sum()), "backend": decoded.header["backend"]["id"],
            "tolerance": tolerance, "tolerated": worst <= tolerance, "_other": b}


def _tolerance(header: dict, out: np.ndarray) -> float:
    if header["backend"]["id"] in EXACT_BACKENDS:
        return 0.0
    if header.get("error_bound"):
        return 2 * float(header["error_bound"]["max_abs_error"])
    if out.dtype.kind in "iub":
        return 1.0
    return 1e-4 * max(1.0, float(np.abs(out).max(initial=0.0)))


def _against_stored(path: Path, got: np.ndarray) -> dict:
    """The device's decode of a golden file against the output stored beside it."""
    png = path.with_name(path.name.replace(".inrz", ".expected.png"))
    npy = path.with_name(path.name.replace(".inrz", ".expected.npy"))
    if png.exists():
        from PIL import Image

        want = np.asarray(Image.open(png))
    elif npy.exists():
        want = np.load(npy, allow_pickle=False)
    else:
        return {"identical_to_stored": None}
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64)) if got.shape == want.shape else np.array([np.inf])
    return {"identical_to_stored": got.shape == want.shape and got.tobytes() == want.tobytes(),
            "max_abs_diff_to_stored": float(diff.max(initial=0.0))}


# --- host syncs in hot loops -------------------------------------------------------------------
def host_syncs(ctx) -> dict:
    """Each hot loop for N and 2N steps: call sites whose syncs grow with the steps. COIN's fit
    and COIN++'s meta-step and inner loop must have none; c3 (a plugin) is reported."""
    loops = {"coin_fit_random_points": (_coin_fit(ctx, 256), True),
             "coin_fit_all_points": (_coin_fit(ctx, None), True),
             "coinpp_meta_step": (_meta_steps(ctx), True),
             "coinpp_inner_loop": (_inner_loop(ctx), True),
             "c3_fit": (_c3_fit(ctx), False)}
    out, failing = {}, []
    for name, (run, required) in loops.items():
        if ctx.left() <= 0:
            out[name] = {"skipped": "out of time"}
            continue
        try:
            row = per_step_syncs(run, ctx.plan.sync_steps, ctx.device)
        except Exception as exc:  # noqa: BLE001 - one loop's failure must not lose the others
            out[name] = {"error": f"{type(exc).__name__}: {exc}", "required_clean": required}
            failing += [name] if required else []
            ctx.say(f"host syncs in {name}: ERROR {out[name]['error']}")
            continue
        row["required_clean"] = required
        row["clean"] = row["per_step"] == 0 and not row["torch_detector_per_step"] and \
            not row["cpu_allocations_per_step"]
        if required and not row["clean"]:
            failing.append(name)
        out[name] = row
        ctx.say(f"host syncs per step in {name}: {row['per_step']:g} {row['per_step_sites'] or ''}"
                f"{_extra(row)}"
                f"{'' if row['clean'] or required else ' (plugin: reported, not required)'}")
    return {"status": "fail" if failing else "ok", "failing": failing, "loops": out}


def _extra(row: dict) -> str:
    """What the CUDA-only detectors found, if they ran and found anything."""
    out = ""
    if row["torch_detector_per_step"]:
        out += f"; torch's sync detector: {row['torch_detector_sites']}"
    if row["cpu_allocations_per_step"]:
        out += f"; CPU tensors made per step: {row['cpu_allocation_sites']}"
    return out


def _crop(ctx, size: int = 32):
    import inrz

    host = inrz.PluginHost()
    image = host.create("modality", "image")
    return host, image, image.from_array(image.load(ctx.data / "kodak" / "kodim01.png").data[:size, :size])


def _coin_fit(ctx, points: int | None):
    import inrz

    host, image, signal = _crop(ctx)

    def run(steps: int) -> None:
        inrz.compress(signal.data, modality="image", device=str(ctx.device), host=host, backend="coin",
                      depth=2, width=16, steps=steps, points_per_step=points)
    return run


def _c3_fit(ctx):
    import inrz

    host, image, signal = _crop(ctx)

    def run(steps: int) -> None:
        inrz.compress(signal.data, modality="image", device=str(ctx.device), host=host, backend="c3", preset="fast",
                      steps=steps)
    return run


def _modulated(ctx, batch: int = 4, patch: int = 8):
    """A small modulated SIREN, a batch of patches and their coordinates, all on the device."""
    from inrz import grid_coordinates
    from inrz_coinpp.model import ModulatedShape, ModulatedSiren

    model = ModulatedSiren(ModulatedShape(2, 3, 2, 16, 8, 30.0)).to(ctx.device)
    x = torch.from_numpy(np.asarray(grid_coordinates([patch, patch]), np.float32).reshape(-1, 2)).to(ctx.device)
    y = torch.rand(batch, patch * patch, 3, generator=torch.Generator().manual_seed(0)).to(ctx.device)
    return model, x, y


def _meta_steps(ctx):
    from inrz_coinpp.config import TrainConfig
    from inrz_coinpp.loop import meta_step

    cfg = TrainConfig(dataset={"id": "none"})

    def run(steps: int) -> None:
        model, x, y = _modulated(ctx)
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        for _ in range(steps):
            meta_step(model, model, opt, x, y, cfg)
    return run


def _inner_loop(ctx):
    from inrz_coinpp.model import inner_loop

    def run(steps: int) -> None:
        model, x, y = _modulated(ctx)
        inner_loop(model, x, y, steps, 1e-2, second_order=False).cpu()
    return run


def timed(fn, device: torch.device) -> float:
    """Seconds `fn()` takes, the device's queue drained before and after."""
    from inrz.core.device import synchronize

    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    return time.perf_counter() - start
