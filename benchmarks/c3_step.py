"""Latent-grid backend (c3): seconds per training iteration at each complexity preset on a
768x512 image, against a straightforward implementation of the same model (whole-image
autograd, `inrz_c3.reference`) measured in the same run, and the decode time.

    python benchmarks/c3_step.py [--image 1] [--repeats 5] [--presets fast medium high]

The blocked step runs its bands on Python threads with one torch thread each (`--workers`);
the straightforward one uses torch's own intra-op threads, timed at 1 and 2 and the better
kept. Both compute the same loss and gradients (tests/test_c3.py checks that). Take figures
on an idle machine: both implementations collapse when another process holds a core.
"""
from __future__ import annotations

import argparse
import math
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from PIL import Image

from _common import data_path, median, table
from inrz_c3 import arch, bitstream, fit, model, quantsearch, reference, train_step, upsample


def timed(fn, repeats: int) -> float:
    fn()  # warm-up (allocator, oneDNN primitive cache)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return median(times)


def image(index: int) -> torch.Tensor:
    x = np.asarray(Image.open(data_path("kodak", f"kodim{index:02d}.png")).convert("RGB"), np.float32) / 255
    return torch.from_numpy(x).permute(2, 0, 1).contiguous()


def step_times(target: torch.Tensor, preset: str, workers: int, repeats: int) -> dict:
    shape = tuple(target.shape[1:])
    a = arch.architecture(preset, shape, 3)
    levels = upsample.level_shapes(shape, a.levels)
    params = fit.init_params(a, shape, 0, "cpu")
    params["y"].normal_(0, 1.5, generator=torch.Generator().manual_seed(0))  # latents as after some training
    gen = torch.Generator().manual_seed(0)

    def ours():
        train_step.loss_and_grad(params, a, levels, target, (False, False), "soft", 0.2, 0.004, gen, pool=pool)

    torch.set_num_threads(1)
    pool = ThreadPoolExecutor(workers) if workers > 1 else None
    blocked = timed(ours, repeats)
    if pool:
        pool.shutdown()
    ref = {k: v.clone().requires_grad_() for k, v in params.items()}

    def straightforward():
        for v in ref.values():
            v.grad = None
        reference.loss(ref, a, levels, target, (False, False), "soft", 0.2, 0.004, gen)[0].backward()

    naive = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        naive[threads] = timed(straightforward, max(1, repeats // 2))
    best = min(naive, key=naive.get)
    return {"preset": preset, "mac_per_px": round(a.macs_per_point()), "ours_s": blocked,
            "straightforward_s": naive[best], "its_threads": best, "speedup": naive[best] / blocked,
            "_a": a, "_params": params, "_levels": levels}


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
    args = p.parse_args()
    target = image(args.image)
    rows = []
    for preset in args.presets:
        row = step_times(target, preset, args.workers, args.repeats)
        row.update(decode_times(target, row, max(1, args.repeats // 2)))
        rows.append({k: v for k, v in row.items() if not k.startswith("_")})
        print(f"{preset}: done", flush=True)
    print(f"kodim{args.image:02d} {tuple(target.shape[1:])}, blocked step on {args.workers} worker threads, "
          f"torch {torch.__version__}, median of {args.repeats}")
    print(table(rows, ["preset", "mac_per_px", "ours_s", "straightforward_s", "its_threads", "speedup",
                       "entropy_decode_s", "synthesis_s", "decode_s", "payload_kB"]))


if __name__ == "__main__":
    main()
