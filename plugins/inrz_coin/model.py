"""SIREN (Sitzmann et al. 2020) batched over a leading instance axis, with a chunked fit step.

Parameters are plain tensors `W: (B, out, in)`, `b: (B, out)` so B networks (images,
patches) are evaluated with one `bmm` per layer. Hidden layers compute `sin(w0 (W h + b))`;
the last layer is linear, as in COIN.

`loss_and_grad` computes the full-batch MSE gradient chunk by chunk with a hand-written
backward pass: each chunk's activations stay in cache and no autograd graph is built, which
is what makes the fit step fast on a CPU while giving the same gradient as full batch.
"""
from __future__ import annotations

import math
import threading

import torch

from inrz import threads

from .shapes import W0, SirenShape  # noqa: F401  (the shape lives apart from torch; re-exported)

Params = list[tuple[torch.Tensor, torch.Tensor]]  # [(W (B, out, in), b (B, out)), ...]


def init_params(shape: SirenShape, batch: int, generator: torch.Generator, device=None) -> Params:
    """Sitzmann init (first layer U(-1/in, 1/in), others U(-sqrt(6/in)/w0, ...)), biases alike (COIN).

    Every instance gets the same draw from `generator`, so a datum's init does not depend on
    which batch it was fitted in.
    """
    params = []
    for layer, (fan_in, fan_out) in enumerate(shape.layer_dims()):
        bound = 1.0 / fan_in if layer == 0 else math.sqrt(6.0 / fan_in) / shape.w0
        W = (torch.rand(fan_out, fan_in, generator=generator) * 2 - 1) * bound
        b = (torch.rand(fan_out, generator=generator) * 2 - 1) * bound
        params.append((W.expand(batch, -1, -1).contiguous().to(device), b.expand(batch, -1).contiguous().to(device)))
    return params


def forward(params: Params, x: torch.Tensor, w0: float) -> torch.Tensor:
    """x: (B, N, d_in) -> (B, N, d_out)."""
    h = x
    for W, b in params[:-1]:
        h = torch.sin(torch.baddbmm(b.unsqueeze(1), h, W.transpose(1, 2), beta=w0, alpha=w0))  # (B, N, width)
    W, b = params[-1]
    return torch.baddbmm(b.unsqueeze(1), h, W.transpose(1, 2))


@torch.no_grad()
def predict(params: Params, x: torch.Tensor, w0: float, chunk: int = 65536) -> torch.Tensor:
    """Chunked forward pass for decoding: x (B, N, d_in) -> (B, N, d_out)."""
    return torch.cat([forward(params, x[:, s:s + chunk], w0) for s in range(0, x.shape[1], chunk)], dim=1)


@torch.no_grad()
def loss_and_grad(params: Params, x: torch.Tensor, y: torch.Tensor, w0: float, chunk: int) -> tuple[torch.Tensor, Params]:
    """Per-instance MSE (mean over points and channels) and its exact gradient, chunk by chunk.

    x: (B, N, d_in), y: (B, N, d_out). Returns loss (B,) and grads shaped like `params`.
    Chunks are independent, so they run on inrz's worker threads (`core.threads`), and their
    gradients are summed in chunk order: the same bits whatever the thread count.
    """
    B, N, d_out = y.shape
    scale = 2.0 / (N * d_out)
    weights = [torch.cat([W, b.unsqueeze(2)], dim=2) for W, b in params]  # (B, out, in + 1)
    weights = [Wb * w0 for Wb in weights[:-1]] + [weights[-1]]  # hidden layers compute a = w0 (W h + b)
    scratch: dict[int, list[torch.Tensor]] = {}  # each thread's activation buffers, for this call only
    parts = threads.map_ordered(lambda s: _chunk_loss_and_grad(weights, x, y, w0, s, min(chunk, N - s),
                                                               _buffers(scratch, x, B, weights, min(chunk, N)), scale),
                                range(0, N, chunk))
    sq_err, grads = parts[0]
    for part_err, part in parts[1:]:
        sq_err += part_err
        for g, p in zip(grads, part):
            g.add_(p)
    return (sq_err / (N * d_out)).to(y.dtype), [(g[..., :-1], g[..., -1]) for g in grads]


def _chunk_loss_and_grad(weights: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor, w0: float, s: int, c: int,
                         buffers: list[torch.Tensor], scale: float) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """One chunk's squared error (B,) and gradient terms, with a hand-written backward pass.

    Activations are kept feature-major, (B, features, points), with a constant-one row, so
    `[W b] @ [h; 1]` is one GEMM with a long inner dimension, `sin` writes contiguous rows,
    and one more GEMM gives weight and bias gradients together.
    """
    hs = [buf[..., :c] for buf in buffers]  # (B, in + 1, c), last row ones
    grads = [torch.zeros_like(Wb) for Wb in weights]
    hs[0][:, :-1] = x[:, s:s + c].transpose(1, 2)
    pre = []
    for layer, Wb in enumerate(weights[:-1]):
        a = torch.bmm(Wb, hs[layer])  # (B, width, c) = w0 (W h + b)
        pre.append(a)
        torch.sin(a, out=hs[layer + 1][:, :-1])
    g = torch.bmm(weights[-1], hs[-1]).sub_(y[:, s:s + c].transpose(1, 2))  # (B, d_out, c)
    sq_err = g.square().sum(dim=(1, 2), dtype=torch.float64)
    g.mul_(scale)
    grads[-1].baddbmm_(g, hs[-1].transpose(1, 2))
    gh = torch.bmm(weights[-1][..., :-1].transpose(1, 2), g)  # (B, width, c)
    for layer in range(len(weights) - 2, -1, -1):
        ga = pre[layer].cos_().mul_(gh)  # (B, width, c) d loss / d a
        grads[layer].baddbmm_(ga, hs[layer].transpose(1, 2), alpha=w0)  # da/dW = w0 h, da/db = w0
        if layer > 0:
            gh = torch.bmm(weights[layer][..., :-1].transpose(1, 2), ga)  # weights are pre-scaled: w0 W
    return sq_err, grads


def _buffers(scratch: dict, like: torch.Tensor, batch: int, weights: list[torch.Tensor], cols: int) -> list[torch.Tensor]:
    """The calling thread's activation buffers (B, in + 1, cols) per layer, last row ones:
    allocated once per thread and call (as one step needs), freed when the call returns."""
    me = threading.get_ident()
    if me not in scratch:
        scratch[me] = [_ones(like, batch, Wb.shape[2], cols) for Wb in weights]
    return scratch[me]


def _ones(like: torch.Tensor, batch: int, rows: int, cols: int) -> torch.Tensor:
    buf = like.new_empty(batch, rows, cols)
    buf[:, -1] = 1.0
    return buf
