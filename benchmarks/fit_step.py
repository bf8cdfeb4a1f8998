"""COIN fit step: inrz's chunked exact-gradient step vs the paper code's naive full-batch step.

Same image (kodim15, 768x512), same architecture (10x28, w0 30), same init, same Adam, same
process. Prints per-step time for both, the ratio, and the largest loss difference over the
first 20 steps (the trajectories must agree: the gradient is the same, only computed in chunks).

    python benchmarks/fit_step.py [--steps 20] [--chunk 8192] [--depth 10 --width 28]
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
from _common import data_path, median, table
from PIL import Image

from inrz import grid_coordinates
from inrz.nets import siren


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


def run_inrz(params, x, y, steps, lr, w0, chunk):
    flat = [t.clone() for pair in params for t in pair]
    pairs = [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]
    opt = torch.optim.Adam(flat, lr=lr)
    losses, times = [], []
    for _ in range(steps):
        start = _now()
        loss, grads = siren.loss_and_grad(pairs, x[None], y[None], w0, chunk)
        for t, g in zip(flat, (g for pair in grads for g in pair)):
            t.grad = g
        opt.step()
        times.append(_now() - start)
        losses.append(float(loss[0]))
    return losses, times


def _now() -> float:
    return time.perf_counter()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", default=str(data_path("kodak", "kodim15.png")))
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--chunk", type=int, default=8192)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--width", type=int, default=28)
    args = ap.parse_args()
    img = np.asarray(Image.open(args.image).convert("RGB"), dtype=np.float32) / 255.0
    x = torch.from_numpy(grid_coordinates(img.shape[:2]).reshape(-1, 2))
    y = torch.from_numpy(img.reshape(-1, 3))
    shape = siren.SirenShape(2, 3, args.depth, args.width, 30.0)
    params = siren.init_params(shape, 1, torch.Generator().manual_seed(0))
    naive_losses, naive_times = run_naive(naive_model(params, 30.0), x, y, args.steps, 2e-4)
    ours_losses, ours_times = run_inrz(params, x, y, args.steps, 2e-4, 30.0, args.chunk)
    # the first steps include allocator warm-up; compare medians
    rows = [
        {"step": "naive full batch (paper code)", "median_s": median(naive_times), "min_s": min(naive_times)},
        {"step": f"inrz chunked (chunk {args.chunk})", "median_s": median(ours_times), "min_s": min(ours_times)},
    ]
    print(f"image {args.image} ({img.shape[1]}x{img.shape[0]}), SIREN {args.depth}x{args.width}, "
          f"{shape.num_params()} params, {args.steps} steps, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print(table(rows, ["step", "median_s", "min_s"]))
    print(f"speed-up (median naive / median inrz): {median(naive_times) / median(ours_times):.2f}x")
    diff = max(abs(a - b) for a, b in zip(naive_losses, ours_losses))
    print(f"loss trajectory: max |naive - inrz| over {args.steps} steps = {diff:.2e} "
          f"(first {naive_losses[0]:.6f} -> last {naive_losses[-1]:.6f}, "
          f"PSNR {-10 * math.log10(naive_losses[-1]):.2f} dB)")


if __name__ == "__main__":
    main()
