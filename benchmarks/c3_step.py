"""Latent-grid backend (c3): seconds per training iteration at each complexity preset on a
768x512 image, against a straightforward implementation of the same model (whole-image
autograd, `inrz_c3.reference`) and, with `--against REV`, against the training step of an
earlier git revision, both measured in the same run; the step's achieved FLOP/s next to the
machine's matmul peak measured in the same run; minor page faults per step; the decode time.

    python benchmarks/c3_step.py [--image 1] [--repeats 5] [--presets fast medium high] [--against REV]

The blocked step runs its bands on Python threads with torch set to one thread each
(`--workers`, default 2: torch.set_num_threads(1) and two worker threads); the straightforward
one uses torch's own intra-op threads, timed at 1 and 2 and the better kept. The revision's
step is timed interleaved with ours (one step each in turn), so load from other processes
hits both alike. All compute the same loss and gradients (tests/test_c3.py checks that).
FLOPs are counted as 6 x MAC per point x points (forward, and twice that for the backward).
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from PIL import Image

from _common import data_path, git_tree, median, table
from inrz_c3 import arch, bitstream, fit, model, quantsearch, reference, train_step, upsample


def timed(fn, repeats: int) -> float:
    return median(timed_runs(fn, repeats))


def image(index: int) -> torch.Tensor:
    x = np.asarray(Image.open(data_path("kodak", f"kodim{index:02d}.png")).convert("RGB"), np.float32) / 255
    return torch.from_numpy(x).permute(2, 0, 1).contiguous()


def revision(rev: str):
    """`inrz_c3` as it was at git revision `rev`, imported under another name (inrz_c3_<rev>)."""
    folder = git_tree(rev, "plugins/inrz_c3")
    name = f"inrz_c3_{rev.replace('-', '_').replace('.', '_')}"
    (folder / "plugins" / "inrz_c3").rename(folder / name)
    sys.path.insert(0, str(folder))
    return {m: importlib.import_module(f"{name}.{m}") for m in ("train_step", "fit", "arch", "upsample")}


def matmul_peak(threads: int, n: int = 1024, repeats: int = 5) -> float:
    """FLOP/s of a float32 n^3 matmul on `threads` torch threads: the machine's attainable peak."""
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    best = min(timed_runs(lambda: torch.mm(a, b), repeats))
    torch.set_num_threads(1)
    return 2 * n ** 3 / best


def timed_runs(fn, repeats: int) -> list[float]:
    fn()  # warm-up (allocator, oneDNN primitive cache)
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def blocked_step(mods, target, preset: str, pool):
    """A closure running one training step of the given implementation (modules by name)."""
    shape = tuple(target.shape[1:])
    a = mods["arch"].architecture(preset, shape, 3)
    levels = mods["upsample"].level_shapes(shape, a.levels)
    params = mods["fit"].init_params(a, shape, 0, "cpu")
    params["y"].normal_(0, 1.5, generator=torch.Generator().manual_seed(0))  # latents as after some training
    gen = torch.Generator().manual_seed(0)
    step = mods["train_step"].loss_and_grad
    extra = {"ws": mods["train_step"].Workspace()} if "ws" in inspect.signature(step).parameters else {}
    return lambda: step(params, a, levels, target, (False, False), "soft", 0.2, 0.004, gen, pool=pool, **extra), \
        (a, params, levels)


def interleaved(fns: dict, repeats: int) -> dict:
    """Median seconds and minor page faults per call of each function, called in turn."""
    for fn in fns.values():
        fn()
    times, faults = {k: [] for k in fns}, {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            f0, t0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
            faults[k].append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
    return {k: (median(times[k]), median(faults[k])) for k in fns}


def step_times(target: torch.Tensor, preset: str, workers: int, repeats: int, against) -> dict:
    torch.set_num_threads(1)
    pool = ThreadPoolExecutor(workers) if workers > 1 else None
    ours, (a, params, levels) = blocked_step({m: globals()[m] for m in ("train_step", "fit", "arch", "upsample")},
                                             target, preset, pool)
    fns = {"ours": ours}
    if against:
        fns["rev"] = blocked_step(against, target, preset, pool)[0]
    measured = interleaved(fns, repeats)
    if pool:
        pool.shutdown()
    points = target.shape[1] * target.shape[2]
    row = {"preset": preset, "mac_per_px": round(a.macs_per_point()), "ours_s": measured["ours"][0],
           "GFLOP/s": 6 * a.macs_per_point() * points / measured["ours"][0] / 1e9, "faults": measured["ours"][1],
           "_a": a, "_params": params, "_levels": levels}
    if against:
        row.update({"rev_s": measured["rev"][0], "rev_faults": measured["rev"][1],
                    "vs_rev": measured["rev"][0] / measured["ours"][0]})
    row.update(straightforward_times(target, a, params, levels, repeats))
    row["speedup"] = row["straightforward_s"] / row["ours_s"]
    return row


def straightforward_times(target, a, params, levels, repeats: int) -> dict:
    ref = {k: v.clone().requires_grad_() for k, v in params.items()}
    gen = torch.Generator().manual_seed(0)

    def straightforward():
        for v in ref.values():
            v.grad = None
        reference.loss(ref, a, levels, target, (False, False), "soft", 0.2, 0.004, gen)[0].backward()

    naive = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        naive[threads] = median(timed_runs(straightforward, max(1, repeats // 2)))
    torch.set_num_threads(1)
    best = min(naive, key=naive.get)
    return {"straightforward_s": naive[best], "its_threads": best}


def decode_times(target: torch.Tensor, row: dict, repeats: int) -> dict:
    """Entropy decoding (fixed-point context model, wavefronts) and synthesis (float64)."""
    a, params, shapes = row["_a"], row["_params"], row["_levels"]
    levels = [l.round().to(torch.int64).numpy() for l in model.split_levels(params["y"], shapes)]
    shifts = {g: 8 for g in bitstream.GROUPS}
    tensors = {f"latents.{l}": v for l, v in enumerate(levels)}
    tensors.update(quantsearch.quantized_weights(params, shifts))
    tensors["shifts"] = np.asarray([shifts[g] for g in bitstream.GROUPS])
    layout = {k: tuple(np.shape(v)) for k, v in tensors.items()}
    data = bitstream.encode(tensors, layout, a)
    torch.set_num_threads(2)
    entropy = timed(lambda: bitstream.decode(data, layout, a), repeats)
    w = {k: torch.from_numpy(v) for k, v in tensors.items() if not k.startswith("latents") and k != "shifts"}
    lv = [torch.from_numpy(l).double() for l in levels]
    synth = timed(lambda: model.render(w, lv, a, (False, False)), repeats)
    return {"entropy_decode_s": entropy, "synthesis_s": synth, "decode_s": entropy + synth,
            "payload_kB": len(data) / 1000}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--image", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--presets", nargs="+", default=list(arch.PRESETS))
    p.add_argument("--against", help="a git revision whose training step is timed interleaved with ours")
    p.add_argument("--no-decode", action="store_true", help="skip the decode timings")
    args = p.parse_args()
    target = image(args.image)
    against = revision(args.against) if args.against else None
    peak = matmul_peak(args.workers)
    rows = []
    for preset in args.presets:
        row = step_times(target, preset, args.workers, args.repeats, against)
        if not args.no_decode:
            row.update(decode_times(target, row, max(1, args.repeats // 2)))
        row["%peak"] = 100 * row["GFLOP/s"] * 1e9 / peak
        rows.append({k: v for k, v in row.items() if not k.startswith("_")})
        print(f"{preset}: done", flush=True)
    print(f"kodim{args.image:02d} {tuple(target.shape[1:])}, blocked step on {args.workers} worker threads with "
          f"torch.set_num_threads(1), torch {torch.__version__}, median of {args.repeats}; matmul peak "
          f"({args.workers} torch threads, float32 1024^3) {peak / 1e9:.1f} GFLOP/s"
          + (f"; rev = {args.against}, timed interleaved with ours" if against else ""))
    cols = ["preset", "mac_per_px", "ours_s", "GFLOP/s", "%peak", "faults"]
    cols += ["rev_s", "rev_faults", "vs_rev"] if against else []
    cols += ["straightforward_s", "its_threads", "speedup"]
    cols += [] if args.no_decode else ["entropy_decode_s", "synthesis_s", "decode_s", "payload_kB"]
    print(table(rows, cols))


if __name__ == "__main__":
    main()
