"""The latent-grid model as functions: quantization, the rate of a band of latents under the
context model, upsampling (see `upsample`) and the synthesis. Training (`train_step`) and
decoding (`render`) evaluate the same functions, so they cannot drift apart.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import arch as arch_mod
from . import upsample

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def softround(x: torch.Tensor, t: float) -> torch.Tensor:
    """Agustsson & Theis (2020): a differentiable staircase, hard rounding as t -> 0."""
    m = torch.floor(x) + 0.5
    return m + 0.5 * torch.tanh((x - m) / t) / math.tanh(0.5 / t)


def laplace_bits(v: torch.Tensor, mu: torch.Tensor, log_b: torch.Tensor) -> torch.Tensor:
    """-log2 P(v) for integers v under a Laplace(mu, exp(log_b)) integrated over [v-1/2, v+1/2]."""
    b = torch.exp(log_b.clamp(-5.0, 5.0))
    d = (v - mu).abs()
    lo = (d - 0.5).clamp_min(0.0) / b
    hi = (d + 0.5) / b
    # both bin edges on one side of the mean: P = (e^-lo - e^-hi)/2; straddling: 1 - (e^-lo' + e^-hi)/2
    inside = d < 0.5
    far = 0.5 * (torch.exp(-lo) - torch.exp(-hi))
    near = 1.0 - 0.5 * (torch.exp(-(0.5 - d).clamp_min(0.0) / b) + torch.exp(-hi))
    p = torch.where(inside, near, far)
    return -torch.log2(p.clamp_min(2.0 ** -24))


def quantize(y: torch.Tensor, mode: str, t: float, gen: torch.Generator | None):
    """Quantized latents and d(quantized)/dy (None means 1): noise, soft rounding, or hard (STE)."""
    if mode == "hard":
        return torch.round(y), None
    noise = torch.rand(y.shape, generator=gen, dtype=y.dtype, device=y.device) - 0.5
    if mode == "noise":
        return y + noise, None
    with torch.enable_grad():
        leaf = y.detach().requires_grad_()
        q = softround(softround(leaf, t) + noise, t)
        (dq,) = torch.autograd.grad(q.sum(), leaf)
    return q.detach(), dq


# ---------------- padding of spatial axes (edge or periodic) ----------------

def pad_spatial(x: torch.Tensor, width: int, periodic, out: torch.Tensor | None = None) -> torch.Tensor:
    """(C, *shape) padded by `width` on every spatial axis: wrap on periodic axes, else edge
    (into `out`, (C, *(shape + 2 width)), when given)."""
    if out is not None:
        return _pad_into(x, width, periodic, out)
    for axis, wrap in enumerate(periodic, start=1):
        n = x.shape[axis]
        if wrap:
            parts = [x.narrow(axis, n - width, width), x, x.narrow(axis, 0, width)]
        else:
            sizes = [width if i == axis else -1 for i in range(x.dim())]
            parts = [x.narrow(axis, 0, 1).expand(sizes), x, x.narrow(axis, n - 1, 1).expand(sizes)]
        x = torch.cat(parts, axis)
    return x


def _pad_into(x: torch.Tensor, width: int, periodic, out: torch.Tensor) -> torch.Tensor:
    """`pad_spatial` in place: the interior, then each axis's margins over the axes padded before it."""
    inner = out
    for axis in range(1, x.dim()):
        inner = inner.narrow(axis, width, x.shape[axis])
    inner.copy_(x)
    for axis, wrap in enumerate(periodic, start=1):
        slab = out
        for other in range(axis + 1, x.dim()):
            slab = slab.narrow(other, width, x.shape[other])
        n = x.shape[axis]
        body, before = slab.narrow(axis, width, n), slab.narrow(axis, 0, width)
        after = slab.narrow(axis, width + n, width)
        if wrap:
            before.copy_(body.narrow(axis, n - width, width))
            after.copy_(body.narrow(axis, 0, width))
        else:
            before.copy_(body.narrow(axis, 0, 1).expand_as(before))
            after.copy_(body.narrow(axis, n - 1, 1).expand_as(after))
    return out


def fold_spatial(g: torch.Tensor, width: int, periodic, inplace: bool = False) -> torch.Tensor:
    """Adjoint of `pad_spatial` (`inplace`: adds the margins into g and returns a view of it)."""
    for axis in range(len(periodic), 0, -1):
        wrap = periodic[axis - 1]
        n = g.shape[axis] - 2 * width
        out = g.narrow(axis, width, n) if inplace else g.narrow(axis, width, n).clone()
        before, after = g.narrow(axis, 0, width), g.narrow(axis, width + n, width)
        if wrap:
            out.narrow(axis, n - width, width).add_(before)
            out.narrow(axis, 0, width).add_(after)
        else:
            out.narrow(axis, 0, 1).add_(before.sum(axis, keepdim=True))
            out.narrow(axis, n - 1, 1).add_(after.sum(axis, keepdim=True))
        g = out
    return g


def synthesis(u: torch.Tensor, w: dict, a: arch_mod.Architecture) -> torch.Tensor:
    """(levels, *padded) -> (channels, *shape): MLP per point, then residual convolutions
    (valid, so the input carries `res_layers` points of padding on every side)."""
    spatial = u.shape[1:]
    h = u.reshape(u.shape[0], -1)
    n_mlp = len(a.syn_dims())
    for i in range(n_mlp):
        h = torch.addmm(w[f"syn{i}.b"][:, None], w[f"syn{i}.W"], h)
        if i < n_mlp - 1:
            h = torch.relu(h)
    x = h.view(a.channels, *spatial)[None]
    if a.res_layers and a.ndim in (2, 3):  # oneDNN's few-channel kernels are ~3x faster channels-last
        x = x.contiguous(memory_format=torch.channels_last if a.ndim == 2 else torch.channels_last_3d)
    conv = CONV[a.ndim]
    inner = (slice(None), slice(None)) + (slice(1, -1),) * a.ndim
    for i in range(a.res_layers):
        c = conv(x, w[f"res{i}.W"], w[f"res{i}.b"])
        x = x[inner] + (torch.relu(c) if i < a.res_layers - 1 else c)
    return x[0]


def arm_grid(level: torch.Tensor, a) -> torch.Tensor:
    """The grid the context model sees: 1-D levels folded into rows of FOLD points (zero tail)."""
    if a.ndim != 1:
        return level
    n = level.shape[0]
    rows = -(-n // arch_mod.FOLD) if n > arch_mod.FOLD else 1
    width = arch_mod.FOLD if n > arch_mod.FOLD else n
    return F.pad(level, (0, rows * width - n)).view(rows, width)


def arm_bits(band: torch.Tensor, rows: int, shape, pads, w: dict, a, valid: int | None = None) -> torch.Tensor:
    """Bits of the `rows` first-axis slices of a padded band (the causal halo comes first)."""
    lead = pads[0][0]
    ctx = []
    for o in a.offsets:
        idx = (slice(lead + o[0], lead + o[0] + rows),) + tuple(
            slice(p[0] + oi, p[0] + oi + n) for oi, p, n in zip(o[1:], pads[1:], shape[1:]))
        ctx.append(band[idx].reshape(-1))
    h = torch.stack(ctx)  # (context, points)
    for i in range(a.arm_layers):
        h = torch.relu(torch.addmm(w[f"arm{i}.b"][:, None], w[f"arm{i}.W"], h))
    o = torch.addmm(w["armo.b"][:, None], w["armo.W"], h)
    v = band[(slice(lead, lead + rows),) + tuple(slice(p[0], p[0] + n) for p, n in zip(pads[1:], shape[1:]))]
    bits = laplace_bits(v.reshape(-1), o[0], o[1])
    if valid is not None:
        bits = bits[:valid]
    return bits.sum()


def split_levels(flat: torch.Tensor, shapes) -> list[torch.Tensor]:
    out, o = [], 0
    for s in shapes:
        n = math.prod(s)
        out.append(flat[o:o + n].view(s))
        o += n
    return out




@torch.no_grad()
def render(w: dict, levels: list[torch.Tensor], a: arch_mod.Architecture, periodic, band: int = 65536) -> torch.Tensor:
    """Decoder output (channels, *shape) from integer-valued latent levels and weights (float64 in,
    float64 out: the decoder's arithmetic, deterministic to the last bit on one machine)."""
    return synthesized(upsampled(w, levels, a, periodic), w, a, band)


@torch.no_grad()
def upsampled(w: dict, levels: list[torch.Tensor], a: arch_mod.Architecture, periodic) -> torch.Tensor:
    """`render`'s first half: the upsampled latent pyramid, padded for the residual convolutions."""
    U, _ = upsample.upsample_pyramid(levels, w["up"], periodic)
    return pad_spatial(U, a.res_layers, periodic) if a.res_layers else U


@torch.no_grad()
def synthesized(Up: torch.Tensor, w: dict, a: arch_mod.Architecture, band: int = 65536) -> torch.Tensor:
    """`render`'s second half: synthesis of `upsampled`'s result, in bands of about `band` points."""
    R = a.res_layers
    n0 = Up.shape[1] - 2 * R
    rows = max(1, band // max(1, math.prod(n - 2 * R for n in Up.shape[2:])))
    return torch.cat([synthesis(Up[:, r0:min(n0, r0 + rows) + 2 * R], w, a) for r0 in range(0, n0, rows)], 1)
