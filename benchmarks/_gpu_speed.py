"""gpu_check's speed parts: COIN's fit step and COIN++'s meta-step on the device against the
same code on the host CPU (steps per second), and c3's anytime curve on Kodak images.

Each run fits within its share of the part's time slice: a short run first, whose time sizes
the next one (a fit's fixed costs make that first estimate pessimistic, so runs end early).
"""
from __future__ import annotations

import time

import numpy as np
import torch
from _gpu_parts import CPU, timed


def _devices(ctx) -> list[torch.device]:
    """The device under test, then the host CPU (once, when the device is the CPU)."""
    return [ctx.device] if ctx.device == CPU else [ctx.device, CPU]


def _peak(ctx, device: torch.device, fn):
    """fn()'s result and the device's peak allocated bytes during it (None off CUDA); the part's
    peak so far is noted first, since the counter is reset."""
    from inrz.core.device import peak_memory_bytes, reset_peak_memory

    ctx.note_peak(peak_memory_bytes(device))
    reset_peak_memory(device)
    out = fn()
    peak = peak_memory_bytes(device)
    ctx.note_peak(peak)
    return out, peak


# --- COIN fit step ------------------------------------------------------------------------------
def coin_step(ctx) -> dict:
    """Steps per second of COIN's fit (kodim01, 10x28, the default random points and all points
    per step), by the difference of two fits' times, so fixed costs cancel."""
    import inrz

    host = inrz.PluginHost()
    image = host.create("modality", "image")
    data = image.load(ctx.data / "kodak" / "kodim01.png").data
    signal = image.from_array(data if ctx.plan.crop is None else data[:ctx.plan.crop, :ctx.plan.crop])
    rows = []
    devices, modes = _devices(ctx), ctx.plan.coin_points
    for i, (points, device) in enumerate((p, d) for p in modes for d in devices):
        share = ctx.left() / (len(modes) * len(devices) - i)
        codec = inrz.codec_for(image, preset="10x28", device=str(device), host=host, points_per_step=points)
        row = _rate(ctx, lambda n: codec_steps(codec, n).encode(signal), device, share)
        row.update(device=str(device), points_per_step=points or int(np.prod(signal.data.shape[:2])))
        rows.append(row)
        ctx.say(f"COIN fit step on {device}, {row['points_per_step']} points/step: {_fmt(row)}")
    return {"status": "ok", "image": "kodim01", "grid": list(signal.data.shape[:2]), "architecture": "10x28",
            "runs": rows, "speedup": _speedups(rows, "points_per_step")}


def codec_steps(codec, steps: int):
    import dataclasses

    return dataclasses.replace(codec, backend=type(codec.backend)({**codec.backend.get_config(), "steps": steps}))


def _rate(ctx, run, device: torch.device, share_s: float) -> dict:
    """Steps/s of `run(n)` from t(1 + k) - t(1), after a warm-up step; k sized to the share (the
    first run's time includes fixed costs, so k errs short). No time for that: the warm-up alone."""
    warm = timed(lambda: run(1), device)  # first use: kernels load, caches fill
    if share_s < 3 * warm:
        return {"steps": [1], "seconds": [round(warm, 4)], "warmup_s": round(warm, 3), "steps_per_s": None,
                "steps_per_s_with_fixed_costs": 1 / warm, "peak_gpu_bytes": None, "short_of_time": True}
    first, peak = _peak(ctx, device, lambda: timed(lambda: run(1), device))
    k = int(max(1, min(ctx.plan.max_steps, (share_s - warm - first) * 0.6 / max(first, 1e-6))))
    second = timed(lambda: run(1 + k), device)
    spent = second - first  # k steps' time; noise can swamp it when k steps take less than the fixed costs
    return {"steps": [1, 1 + k], "seconds": [round(first, 4), round(second, 4)], "warmup_s": round(warm, 3),
            "steps_per_s": k / spent if spent > 0 else None, "steps_per_s_with_fixed_costs": (1 + k) / second,
            "peak_gpu_bytes": peak}


def _fmt(row: dict) -> str:
    rate = row["steps_per_s"]
    return (f"{rate:.2f} steps/s" if rate else "steps too fast to time apart from fixed costs") + \
        f" ({row['steps_per_s_with_fixed_costs']:.2f} with them), peak {row['peak_gpu_bytes']} bytes"


def _speedups(rows: list[dict], key: str) -> dict:
    """Device steps/s over CPU steps/s, per setting."""
    out = {}
    for row in rows:
        cpu = next((r for r in rows if r[key] == row[key] and r["device"] == "cpu"), None)
        if cpu and row["device"] != "cpu" and cpu["steps_per_s"] and row["steps_per_s"]:
            out[str(row[key])] = round(row["steps_per_s"] / cpu["steps_per_s"], 2)
    return out


# --- COIN++ meta-step ---------------------------------------------------------------------------
def coinpp_step(ctx) -> dict:
    """Steps per second of COIN++'s outer step on a batch already on the device: specs/cifar10.yaml's
    network (10x512, 256-dim latents, 32x32 patches, 3 inner steps) on 16 patches, so that the
    host CPU makes a few steps in its share too (tiny in smoke mode)."""
    from inrz import grid_coordinates
    from inrz_coinpp.model import ModulatedShape, ModulatedSiren
    from inrz_coinpp.config import TrainConfig
    from inrz_coinpp.data import random_patches
    from inrz_coinpp.loop import meta_step
    from PIL import Image

    cfg = TrainConfig(dataset={"id": "kodak"}, **ctx.plan.meta)
    image = np.asarray(Image.open(ctx.data / "kodak" / "kodim01.png"), np.float32) / 255
    batch = random_patches([image], cfg.patch, cfg.batch_size, np.random.default_rng(0))  # (B, n, 3)
    coords = np.asarray(grid_coordinates(cfg.patch), np.float32).reshape(-1, len(cfg.patch))
    rows = []
    for i, device in enumerate(_devices(ctx)):
        share = ctx.left() / (len(_devices(ctx)) - i)
        torch.manual_seed(0)
        model = ModulatedSiren(ModulatedShape(2, 3, cfg.depth, cfg.width, cfg.latent_dim, cfg.w0)).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.outer_lr)
        x, y = torch.from_numpy(coords).to(device), torch.from_numpy(batch).to(device)

        def steps(n: int) -> None:
            for _ in range(n):
                meta_step(model, model, opt, x, y, cfg)
        row = _rate(ctx, steps, device, share)
        row["device"] = str(device)
        rows.append(row)
        ctx.say(f"COIN++ meta-step on {device}: {_fmt(row)}")
    return {"status": "ok", "config": {k: getattr(cfg, k) for k in ("depth", "width", "latent_dim", "patch",
                                                                    "batch_size", "inner_steps")},
            "runs": rows, "speedup": _speedups([{**r, "setting": "meta"} for r in rows], "setting").get("meta")}


# --- c3 anytime curve -----------------------------------------------------------------------------
class _OutOfTime(Exception):
    pass


def c3_anytime(ctx) -> dict:
    """c3 (medium preset) on each image at each lambda: fits of doubling step counts while the
    next fits its share; each point is a whole file (bpp of every byte, PSNR decoded)."""
    import inrz

    host = inrz.PluginHost()
    image = host.create("modality", "image")
    pairs = [(name, lmbda) for name in ctx.plan.c3_images for lmbda in ctx.plan.c3_lambdas]
    out = {}
    for i, (name, lmbda) in enumerate(pairs):
        data = image.load(ctx.data / "kodak" / f"{name}.png").data
        signal = image.from_array(data if ctx.plan.crop is None else data[:ctx.plan.crop, :ctx.plan.crop])
        deadline = time.monotonic() + ctx.left() / (len(pairs) - i)
        out[f"{name}@{lmbda:g}"] = _c3_curve(ctx, host, image, signal, lmbda, deadline)
    coded = sum(1 for curve in out.values() for run in curve["runs"] if "psnr" in run)
    return {"status": "ok" if coded else "fail", "preset": "medium", "device": str(ctx.device), "coded_points": coded,
            **({} if coded else {"error": "no fit finished within its share of the time: raise --budget-s"}),
            "curves": out}


def _c3_curve(ctx, host, image, signal, lmbda: float, deadline: float) -> dict:
    """Fits at first_steps, 2x, 4x, ... while 2x the last fit's time is left; the last one is
    also decoded on the CPU (identical bytes?) and keeps its per-step training curve."""
    import inrz

    points, n, runs, trace = [], ctx.plan.c3_first_steps, [], []
    while n <= ctx.plan.c3_max_steps:
        codec = inrz.codec_for(image, backend="c3", device=str(ctx.device), host=host, steps=n, lmbda=lmbda)
        trace = []
        start = time.perf_counter()
        try:
            encoded, peak = _peak(ctx, ctx.device, lambda: codec.encode(signal, _tracer(trace, start, deadline)))
        except _OutOfTime:
            runs.append({"steps": n, "stopped_at_step": trace[-1][0] if trace else 0, "out_of_time": True})
            break
        seconds = time.perf_counter() - start
        decoded = inrz.decode(encoded.data, host, ctx.device).signal.data
        runs.append(_c3_point(signal.data, decoded, encoded, n, seconds, peak))
        points.append((encoded.data, decoded))
        ctx.say(f"c3 lambda {lmbda:g} {n} steps: {runs[-1]['psnr']:.2f} dB at {runs[-1]['bpp']:.4f} bpp "
                f"in {seconds:.1f} s")
        if time.monotonic() + 2.2 * seconds > deadline:
            break
        n *= 2
    result = {"lambda": lmbda, "runs": runs, "training_curve": _thin(trace, 100)}
    if points:
        data, on_device = points[-1]
        on_cpu = inrz.decode(data, host, CPU).signal.data
        result["last_decodes_identically_on_cpu"] = on_cpu.tobytes() == on_device.tobytes()
    return result


def _tracer(trace: list, start: float, deadline: float):
    """A progress callback recording (step, seconds, training psnr, training bpp); stops the fit
    (cleanly, by an exception the caller catches) once the deadline has passed."""
    def progress(step, total, figures):
        trace.append((step, round(time.perf_counter() - start, 3), figures.get("psnr"), figures.get("bpp")))
        if time.monotonic() > deadline:
            raise _OutOfTime
    return progress


def _c3_point(original: np.ndarray, decoded: np.ndarray, encoded, steps: int, seconds: float, peak) -> dict:
    from inrz import psnr

    err = (original.astype(np.float64) - decoded.astype(np.float64)) / 255.0
    pixels = int(np.prod(original.shape[:2]))
    return {"steps": steps, "seconds": round(seconds, 3), "psnr": float(psnr(float(np.mean(err ** 2)))),
            "bpp": 8 * len(encoded.data) / pixels, "payload_bpp": 8 * encoded.payload_bytes / pixels,
            "bytes": len(encoded.data), "peak_gpu_bytes": peak}


def _thin(trace: list, keep: int) -> list[dict]:
    """At most `keep` evenly spaced entries of the per-step curve (and the last)."""
    if not trace:
        return []
    idx = sorted(set(np.linspace(0, len(trace) - 1, min(keep, len(trace))).astype(int).tolist()))
    return [dict(zip(("step", "seconds", "train_psnr", "train_bpp"), trace[i])) for i in idx]
