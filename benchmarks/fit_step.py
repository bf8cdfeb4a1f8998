"""COIN fit step: inrz's chunked exact-gradient step vs the paper code's naive full-batch step.

Same image (kodim15, 768x512), same architecture (10x28, w0 30), same init, same Adam, same
process. Prints per-step time for both, the ratio, and the largest loss difference over the
first steps (the trajectories must agree: the gradient is the same, only computed in chunks).

`--load N` also runs every step while N competing CPU-bound processes spin (what a shared
server or a busy Dask worker looks like) and prints each step's time idle and under load.
The row "torch intra-op threads" is the same chunked step scheduled as before inrz's worker
threads (`inrz.core.threads`): every small operation a parallel region of torch's threads.
"Idle" means no competitor of ours: run it on an otherwise idle machine for idle figures.

    python benchmarks/fit_step.py [--steps 20] [--chunk 8192] [--depth 10 --width 28] [--load 1] [--threads N]
"""
from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from contextlib import contextmanager

import numpy as np
import torch
from _common import data_path, median, table
from PIL import Image

from inrz import grid_coordinates, threads
from inrz_coin import model as siren


class NaiveSirenLayer(torch.nn.Module):
    """As in the COIN reference code: Linear, then sin(w0 x) (identity on the last layer)."""

    def __init__(self, fan_in, fan_out, w0, last=False):
        super().__init__()
        self.linear, self.w0, self.last = torch.nn.Linear(fan_in, fan_out), w0, last

    def forward(self, x):
        x = self.linear(x)
        return x if self.last else torch.sin(self.w0 * x)


def naive_model(params: siren.Params, w0: float) -> torch.nn.Sequential:
    layers = []
    for i, (W, b) in enumerate(params):
        layer = NaiveSirenLayer(W.shape[2], W.shape[1], w0, last=i == len(params) - 1)
        with torch.no_grad():
            layer.linear.weight.copy_(W[0])
            layer.linear.bias.copy_(b[0])
        layers.append(layer)
    return torch.nn.Sequential(*layers)


def run_naive(model, x, y, steps, lr):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses, times = [], []
    for _ in range(steps):
        start = _now()
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        times.append(_now() - start)
        losses.append(loss.item())
    return losses, times


def run_inrz(params, x, y, steps, lr, w0, chunk, step=siren.loss_and_grad):
    flat = [t.clone() for pair in params for t in pair]
    pairs = [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]
    opt = torch.optim.Adam(flat, lr=lr)
    losses, times = [], []
    for _ in range(steps):
        start = _now()
        loss, grads = step(pairs, x[None], y[None], w0, chunk)
        for t, g in zip(flat, (g for pair in grads for g in pair)):
            t.grad = g
        opt.step()
        times.append(_now() - start)
        losses.append(float(loss[0]))
    return losses, times


def intra_op_step(params, x, y, w0, chunk):
    """The same chunked step, each chunk in turn on the calling thread with torch's own threads
    (how inrz scheduled it before `inrz.core.threads`)."""
    B, N, d_out = y.shape
    weights = [torch.cat([W, b.unsqueeze(2)], dim=2) for W, b in params]
    weights = [Wb * w0 for Wb in weights[:-1]] + [weights[-1]]
    buffers = siren._buffers({}, x, B, weights, min(chunk, N))
    parts = [siren._chunk_loss_and_grad(weights, x, y, w0, s, min(chunk, N - s), buffers, 2.0 / (N * d_out))
             for s in range(0, N, chunk)]
    sq_err, grads = parts[0]
    for e, part in parts[1:]:
        sq_err += e
        for g, p in zip(grads, part):
            g.add_(p)
    return (sq_err / (N * d_out)).float(), [(g[..., :-1], g[..., -1]) for g in grads]


@contextmanager
def competing(n: int):
    """n CPU-bound processes (pure-Python spin loops) for the duration of the block."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        time.sleep(0.5 if n else 0.0)  # let them reach the scheduler
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def _now() -> float:
    return time.perf_counter()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", default=str(data_path("kodak", "kodim15.png")))
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--chunk", type=int, default=8192)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--width", type=int, default=28)
    ap.add_argument("--load", type=int, default=0, help="also time every step with this many competing processes")
    ap.add_argument("--threads", type=int, default=None, help="inrz's thread count (default: the available CPUs)")
    args = ap.parse_args()
    n_threads = threads.configure(args.threads)
    img = np.asarray(Image.open(args.image).convert("RGB"), dtype=np.float32) / 255.0
    x = torch.from_numpy(grid_coordinates(img.shape[:2]).reshape(-1, 2))
    y = torch.from_numpy(img.reshape(-1, 3))
    shape = siren.SirenShape(2, 3, args.depth, args.width, 30.0)
    params = siren.init_params(shape, 1, torch.Generator().manual_seed(0))
    steps = {
        "naive full batch (paper code)": lambda: run_naive(naive_model(params, 30.0), x, y, args.steps, 2e-4),
        f"inrz chunked (chunk {args.chunk})": lambda: run_inrz(params, x, y, args.steps, 2e-4, 30.0, args.chunk),
        "inrz chunked, torch intra-op threads": lambda: run_inrz(params, x, y, args.steps, 2e-4, 30.0, args.chunk,
                                                                 intra_op_step),
    }
    conditions = ["idle"] + ([f"load {args.load}"] if args.load else [])
    times, losses = {}, {}
    for condition in conditions:
        with competing(args.load if condition != "idle" else 0):
            for name, run in steps.items():
                losses[name], times[name, condition] = run()
    rows = []
    for name in steps:
        row = {"step": name}
        for condition in conditions:
            row[f"{condition} median_s"] = median(times[name, condition])
            row[f"{condition} min_s"] = min(times[name, condition])
        if args.load:
            row["load / idle"] = median(times[name, conditions[1]]) / median(times[name, "idle"])
        rows.append(row)
    naive, ours = list(steps)[:2]
    print(f"image {args.image} ({img.shape[1]}x{img.shape[0]}), SIREN {args.depth}x{args.width}, "
          f"{shape.num_params()} params, {args.steps} steps, torch {torch.__version__}, {n_threads} threads "
          f"(available CPUs {threads.available_cpus()}), OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, "
          f"competing processes: {args.load}")
    print(table(rows, list(rows[0])))
    for condition in conditions:
        print(f"speed-up {condition} (median naive / median inrz): "
              f"{median(times[naive, condition]) / median(times[ours, condition]):.2f}x")
    diff = max(abs(a - b) for a, b in zip(losses[naive], losses[ours]))
    print(f"loss trajectory: max |naive - inrz| over {args.steps} steps = {diff:.2e} "
          f"(first {losses[naive][0]:.6f} -> last {losses[naive][-1]:.6f}, "
          f"PSNR {-10 * math.log10(losses[naive][-1]):.2f} dB)")


if __name__ == "__main__":
    main()
