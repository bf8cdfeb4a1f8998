"""The GPU path, checked in one command that fits a lent GPU's window (about 8 minutes).

    python benchmarks/gpu_check.py --out results/gpu --budget-s 420      # on a machine with CUDA
    python benchmarks/gpu_check.py --smoke --out /tmp/gpu-smoke         # the same code, CPU, seconds

Parts, in order, each in its own try (a failure is recorded as text and the next part runs),
the JSON report (`OUT/gpu_check.json`) rewritten atomically after each one, so a timeout
still leaves every finished part:

- env: device, driver, torch build; which of inrz's dependencies are missing (said, not crashed);
- device_tests: the suite's `device`-marked tests with INRZ_DEVICE=<device> (`pytest -m device`);
- cross_device: c3, COIN and COIN++ files encoded on the device decode on the CPU to the same
  bytes; the golden CPU-encoded files (tests/golden) decode on the device to the same bytes;
- host_syncs: call sites in COIN's fit, COIN++'s meta-step and inner loop (and c3's fit,
  reported) that sync host and device every step (`_hostsync.py`);
- coin_step, coinpp_step: steps/s on the device against the same code on the host CPU;
- c3_anytime: c3 on kodim01-02 at 2 lambdas, as many steps as the window allows: PSNR and bpp
  of whole files against steps and seconds.

Every part records the device's peak memory. `--budget-s` bounds the whole run: each part gets a
slice of what is left, stops its own work at the slice's end, and later parts are marked
skipped when nothing is left; a watchdog ends the process 30 s past the budget regardless.
Exit status 0 when every part that ran passed, 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

# as `inrz.core.threads` does, before anything loads torch: OpenMP threads sleep rather than spin
# while they wait (spinning made each tiny CPU step ~100x slower on a busy machine)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
DATA = HERE.parents[1] / "shared" / "data"
#: what the check needs beyond inrz's own requirements (read from its installed metadata)
EXTRA_DISTRIBUTIONS = ("pillow", "pytest")
#: part -> share of the budget left when it starts (c3_anytime, last, takes whatever is left)
SHARES = {"env": 0.0, "device_tests": 0.18, "cross_device": 0.12, "host_syncs": 0.1, "coin_step": 0.22,
          "coinpp_step": 0.2, "c3_anytime": 1.0}
WATCHDOG_GRACE_S = 30.0
_WRITING = threading.Lock()


@dataclass(frozen=True)
class Plan:
    """What each part runs: the full GPU check, or the same code with tiny sizes (`--smoke`)."""
    smoke: bool = False
    test_select: tuple[str, ...] = ()  # pytest arguments narrowing the device-marked tests (-k ...)
    crop: int | None = None  # square crop of the Kodak images (None: whole 768x512 images)
    xdev_crop: int = 64  # square crop coded by each backend for the cross-device files ...
    xdev_steps: int = 300  # ... with this many fit steps
    sync_steps: int = 10  # hot loops run N and 2N steps
    coin_points: tuple = (16384, None)  # COIN's default random points per step, and all points (the paper)
    max_steps: int = 20000  # most steps of one timing run
    meta: dict = field(default_factory=lambda: {"latent_dim": 256, "batch_size": 16})  # COIN++ TrainConfig overrides
    c3_images: tuple[str, ...] = ("kodim01", "kodim02")
    c3_lambdas: tuple[float, ...] = (0.004, 0.001)
    c3_first_steps: int = 100  # then 200, 400, ... while the next fit fits
    c3_max_steps: int = 200_000


SMOKE = Plan(smoke=True, test_select=("-k", "golden_file and coin_fp16"), crop=32, xdev_crop=24,
             xdev_steps=5, sync_steps=3, coin_points=(256, None), max_steps=4,
             meta={"depth": 2, "width": 16, "latent_dim": 8, "patch": [8, 8], "batch_size": 4},
             c3_images=("kodim01",), c3_first_steps=3, c3_max_steps=6)


class Context:
    """What a part sees: the device, the plan, the data folder, its slice's end, and `say`."""

    def __init__(self, device, plan: Plan, data: Path, out: Path):
        self.device, self.plan, self.data, self.out = device, plan, data, out
        self.deadline = time.monotonic()
        self.peak: int | None = None  # the part's peak device memory, across the resets its runs make

    def note_peak(self, value: int | None) -> None:
        if value is not None:
            self.peak = max(self.peak or 0, value)

    def left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    @staticmethod
    def say(message: str) -> None:
        print(f"  {message}", flush=True)


def missing_distributions() -> list[str]:
    """inrz's required distributions (and the check's) that are not installed."""
    from importlib import metadata

    try:
        required = [r for r in metadata.requires("inrz") or [] if "extra ==" not in r]
    except metadata.PackageNotFoundError:
        return ["inrz (pip install -e . here; on a lent GPU machine the wheel in .gpu/whl)"]
    names = [re.match(r"[A-Za-z0-9_.-]+", r).group(0) for r in required] + list(EXTRA_DISTRIBUTIONS)
    missing = []
    for name in names:
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
    return missing


def environment() -> dict:
    """The device, driver and torch build, and what is missing (no inrz import needed)."""
    missing = missing_distributions()
    info = {"python": platform.python_version(), "argv": sys.argv, "missing": missing}
    try:
        import torch  # noqa: F401 - first on its own: a missing or broken torch is named as such

        from inrz.core.device import device_info, resolve_device

        info.update(device_info(resolve_device("auto")))
        from inrz import PluginHost

        host = PluginHost()
        info["backends"] = host.registry.names("backend")
        info["modalities"] = host.registry.names("modality")
    except Exception as exc:  # noqa: BLE001 - said, not raised: the point is to see what is missing
        info["inrz_error"] = f"{type(exc).__name__}: {exc}"
    print(f"  device {info.get('name', info.get('device'))} (capability {info.get('capability')}, driver "
          f"{info.get('driver')}), torch {info.get('torch')} (CUDA {info.get('torch_cuda')}, cuDNN {info.get('cudnn')}), "
          f"python {info['python']}, backends {info.get('backends')}", flush=True)
    for name in missing:
        print(f"MISSING: python package {name!r}: pip install it (on a lent GPU machine, which cannot reach "
              "PyPI, carry wheels: results/gpu/README.md)", flush=True)
    if "inrz_error" in info:
        print(f"MISSING: inrz does not import: {info['inrz_error']}", flush=True)
    return {"status": "fail" if missing or "inrz_error" in info else "ok", **info}


def _parts():
    import _gpu_parts
    import _gpu_speed

    return {"env": lambda ctx: environment(), "device_tests": _gpu_parts.device_tests,
            "cross_device": _gpu_parts.cross_device, "host_syncs": _gpu_parts.host_syncs,
            "coin_step": _gpu_speed.coin_step, "coinpp_step": _gpu_speed.coinpp_step,
            "c3_anytime": _gpu_speed.c3_anytime}


def write_json(path: Path, report: dict) -> None:
    """Atomically: a reader (or a killed run) sees the previous whole file or the new one."""
    with _WRITING:  # the watchdog's thread may write too
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(report, indent=1, default=str))
        os.replace(tmp, path)


def run_part(name: str, fn, ctx: Context) -> dict:
    """One part in its own try, with its time and the device's peak memory."""
    from inrz.core.device import peak_memory_bytes, reset_peak_memory

    print(f"[{name}] {ctx.left():.0f} s", flush=True)
    start = time.monotonic()
    try:
        ctx.peak = None
        reset_peak_memory(ctx.device)
        result = fn(ctx)
    except Exception as exc:  # noqa: BLE001 - recorded; the other parts still run
        result = {"status": "error", "error": f"{type(exc).__name__}: {exc}",
                  "traceback": traceback.format_exc().splitlines()[-12:]}
        print(f"  ERROR {result['error']}", flush=True)
    try:
        ctx.note_peak(peak_memory_bytes(ctx.device))
        result["peak_gpu_bytes"] = ctx.peak
    except Exception as exc:  # noqa: BLE001 - a broken device must not lose the part's result
        result["peak_gpu_bytes"] = f"unreadable: {exc}"
    result["seconds"] = round(time.monotonic() - start, 2)
    print(f"  -> {result['status']} in {result['seconds']} s", flush=True)
    return result


def run(args, report: dict, path: Path) -> dict:
    """Every selected part within the budget; the report written after each."""
    plan = SMOKE if args.smoke else Plan()
    end = time.monotonic() + args.budget_s
    print("[env]", flush=True)
    report["parts"]["env"] = environment()
    write_json(path, report)
    try:
        from inrz.core.device import resolve_device

        ctx, parts = Context(resolve_device(args.device), plan, args.data, args.out), _parts()
    except Exception as exc:  # noqa: BLE001 - no part can run: say why in the report
        report["error"] = f"{type(exc).__name__}: {exc} (see the env part for what is missing)"
        return report
    report["device"] = str(ctx.device)
    for name, fn in parts.items():
        if name == "env" or name not in args.parts:
            continue
        left = end - time.monotonic()
        if left < 1.0:
            report["parts"][name] = {"status": "skipped", "reason": "the time budget was spent"}
        else:
            ctx.deadline = time.monotonic() + left * SHARES[name]
            report["running"] = name  # what the watchdog names, should it fire
            report["parts"][name] = run_part(name, fn, ctx)
            report.pop("running")
        write_json(path, report)
    return report


def _watchdog(budget_s: float, path: Path, report: dict) -> None:
    """Past the budget and its grace, write what there is and end the process (a part stuck in
    one long kernel or a hung device cannot outlive the window)."""
    def fire():
        report["stopped"] = f"watchdog: {budget_s + WATCHDOG_GRACE_S:.0f} s passed in {report.get('running')}"
        try:
            write_json(path, report)
        except RuntimeError:  # the main thread changed the report mid-dump: the file keeps the last whole one
            pass
        print(f"STOPPED by the watchdog; partial report in {path}", flush=True)
        os._exit(3)
    timer = threading.Timer(budget_s + WATCHDOG_GRACE_S, fire)
    timer.daemon = True
    timer.start()


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True, help="folder for gpu_check.json")
    p.add_argument("--budget-s", type=float, default=420.0, help="seconds for the whole run (default 420)")
    p.add_argument("--device", default=None, help="device to check (default: auto; cpu with --smoke)")
    p.add_argument("--smoke", action="store_true", help="the same code on the CPU with tiny sizes (seconds)")
    p.add_argument("--parts", default=",".join(SHARES), help=f"comma-separated subset of {','.join(SHARES)}")
    p.add_argument("--data", type=Path, default=DATA, help="the shared data folder (kodak/ in it)")
    args = p.parse_args(argv)
    args.device = args.device or ("cpu" if args.smoke else "auto")
    args.parts = [s.strip() for s in args.parts.split(",") if s.strip()]
    unknown = sorted(set(args.parts) - set(SHARES))
    if unknown:
        p.error(f"unknown parts {unknown}; choose from {','.join(SHARES)}")
    return args


def main(argv=None, watchdog: bool = False) -> int:
    args = parse(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "gpu_check.json"
    report = {"smoke": args.smoke, "budget_s": args.budget_s, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                     time.gmtime()), "parts": {}}
    if watchdog:
        _watchdog(args.budget_s, path, report)
    start = time.monotonic()
    run(args, report, path)
    report["seconds"] = round(time.monotonic() - start, 2)
    statuses = {name: part["status"] for name, part in report["parts"].items()}
    report["passed"] = "error" not in report and all(s in ("ok", "skipped") for s in statuses.values())
    report["complete"] = all(name in report["parts"] and report["parts"][name]["status"] != "skipped"
                             for name in args.parts)
    write_json(path, report)
    print(f"\n{json.dumps(statuses)}\n{'PASSED' if report['passed'] else 'FAILED'} in {report['seconds']} s; "
          f"report: {path}", flush=True)
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main(watchdog=True))
