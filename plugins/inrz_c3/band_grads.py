"""Forward and backward of one band of the training step, written out by hand.

Autograd on a band built a graph of ~60 small ops, each allocating its output and a gradient
of the same size; these functions compute the same loss and gradients (`reference` is the
oracle, the tests compare to 1e-12) with the matrix products as single BLAS calls into
per-thread scratch buffers, elementwise work in place, and no graph:

- `rate_band`: the context model on a band of contexts and the discretised Laplace's bits,
  with the Laplace's derivatives in closed form;
- `synthesis_band`: the per-point MLP, kept points-major so that its output is already the
  channels-last layout the residual convolutions want, and the convolutions' backward
  through `aten.convolution_backward` (what autograd calls).

Scratch buffers live per thread (`scratch`): a band's task runs on one thread at a time, and
what a task returns never aliases them.
"""
from __future__ import annotations

import math
import threading

import numpy as np
import torch

from . import conv_kernels, rate_kernels

LN2 = math.log(2.0)
P_MIN = 2.0 ** -24  # probability floor of `model.laplace_bits`
_local = threading.local()


def scratch(name: str, shape, like: torch.Tensor) -> torch.Tensor:
    """A per-thread buffer of `shape` (contents undefined), reused across calls."""
    pool = _local.__dict__.setdefault("buffers", {})
    n = math.prod(shape)
    buf = pool.get(name)
    if buf is None or buf.numel() < n or buf.dtype != like.dtype or buf.device != like.device:
        buf = pool[name] = torch.empty(max(n, 1), dtype=like.dtype, device=like.device)
    return buf[:n].view(shape)


# ---------------- rate ----------------

def laplace_bits_grad(v, mu, log_b, valid: int | None = None):
    """`laplace_bits_grad_torch`, in one compiled pass on the CPU (`rate_kernels`)."""
    if v.device.type != "cpu":
        return laplace_bits_grad_torch(v, mu, log_b, valid)
    v, mu, log_b = v.contiguous(), mu.contiguous(), log_b.contiguous()
    g_v, g_lb = scratch("g_v", v.shape, v), scratch("g_lb", v.shape, v)
    bits = rate_kernels.laplace_bits_grad(v.numpy(), mu.numpy(), log_b.numpy(), v.numel() if valid is None else valid,
                                          g_v.numpy(), g_lb.numpy())
    return bits, g_v, g_lb


def laplace_bits_grad_torch(v, mu, log_b, valid: int | None = None):
    """Sum of `model.laplace_bits(v, mu, log_b)[:valid]` and its gradients (dv, dlog_b; dmu = -dv).

    With a = |v - mu|, b = exp(clamp(log_b)), E2 = exp(-(a + 1/2)/b) and E = exp(-|a - 1/2|/b):
    P = (E - E2)/2 off the mean's bin (a >= 1/2), 1 - (E + E2)/2 on it; on both sides
    dP/da = (E2 - E)/(2b) and b dP/db = (E (a - 1/2)/b - E2 (a + 1/2)/b)/2."""
    lb = log_b.clamp(-5.0, 5.0)
    b = torch.exp(lb)
    d = v - mu
    a = d.abs()
    hi = (a + 0.5).div_(b)
    e2 = torch.neg(hi).exp_()
    t = (a - 0.5).div_(b)  # the nearer bin edge's distance, signed: < 0 on the mean's bin
    e = torch.abs(t).neg_().exp_()
    near = torch.add(e, e2).mul_(-0.5).add_(1.0)
    p = torch.where(a < 0.5, near, torch.sub(e, e2).mul_(0.5))
    keep = p >= P_MIN
    bits = torch.log2(p.clamp_min_(P_MIN))
    k = torch.reciprocal(p).mul_(-0.5 / LN2).mul_(keep)  # d bits / dP, halved
    if valid is not None:  # the zero tail of a folded 1-D grid costs nothing
        bits = bits[:valid]
        k[valid:] = 0.0
    g_v = torch.sub(e2, e).div_(b).mul_(k).mul_(torch.sign(d))
    g_lb = t.mul_(e).sub_(hi.mul_(e2)).mul_(k).mul_(lb == log_b)  # clamp passes the gradient inside [-5, 5]
    return -float(bits.sum()), g_v, g_lb


def mlp_forward(h: torch.Tensor, w: dict, names: list[str], tag: str) -> list[torch.Tensor]:
    """Activations of a ReLU MLP on (features, points) (layers `names`, the last one linear):
    [input, hidden..., output], each but the input a scratch buffer."""
    acts = [h]
    for i, name in enumerate(names):
        W, bias = w[name + ".W"], w[name + ".b"]
        h = torch.addmm(bias[:, None], W, h, out=scratch(f"{tag}{i}", (W.shape[0], h.shape[1]), h))
        if i < len(names) - 1:
            h.clamp_min_(0.0)
        acts.append(h)
    return acts


def mlp_backward(g: torch.Tensor, acts: list, w: dict, names: list[str], grads: dict, tag: str) -> torch.Tensor:
    """Backward of `mlp_forward` from the output gradient `g` (features, points); weight gradients
    into `grads`; returns the input gradient (a scratch buffer)."""
    for i in range(len(names) - 1, -1, -1):
        W, h = w[names[i] + ".W"], acts[i]
        # (out, points) @ (points, in): BLAS is faster with the operand of fewer rows on the left
        grads[names[i] + ".W"] = torch.mm(g, h.t()) if g.shape[0] <= h.shape[0] else torch.mm(h, g.t()).t()
        grads[names[i] + ".b"] = g.sum(1)
        gin = torch.mm(W.t(), g, out=scratch(f"{tag}g{i}", (W.shape[1], g.shape[1]), g))
        if i > 0:  # ReLU: pass where the activation is positive
            torch.ops.aten.threshold_backward.grad_input(gin, h, 0.0, grad_input=gin)
        g = gin
    return g


def arm_names(a) -> list[str]:
    return [f"arm{i}" for i in range(a.arm_layers)] + ["armo"]


def rate_band(band: torch.Tensor, rows: int, shape, pads, w: dict, a, scale: float, valid: int | None = None):
    """Bits of `rows` first-axis slices of a padded band (causal halo first) and their gradients
    scaled by `scale`: (bits, weight grads, grad of the band (a scratch buffer))."""
    lead = pads[0][0]
    n = rows * math.prod(shape[1:])
    windows = [(slice(lead + o[0], lead + o[0] + rows),) + tuple(
        slice(p[0] + oi, p[0] + oi + m) for oi, p, m in zip(o[1:], pads[1:], shape[1:])) for o in a.offsets]
    ctx = scratch("ctx", (len(windows), rows, *shape[1:]), band)  # (context, rows, *rest)
    compiled = band.device.type == "cpu" and band.dim() == 2  # `rate_kernels.gather` / `scatter`
    if compiled:
        starts = np.asarray([[idx[0].start, idx[1].start] for idx in windows], np.int64)
        rate_kernels.gather(band.numpy(), starts, ctx.numpy())
    else:
        for j, idx in enumerate(windows):
            ctx[j].copy_(band[idx])
    acts = mlp_forward(ctx.view(-1, n), w, arm_names(a), "arm")
    center = (slice(lead, lead + rows),) + tuple(slice(p[0], p[0] + m) for p, m in zip(pads[1:], shape[1:]))
    v = band[center].reshape(n)
    bits, g_v, g_lb = laplace_bits_grad(v, acts[-1][0], acts[-1][1], valid)
    go = scratch("go", (2, n), band)  # (2, points): d/d mu, d/d log_b
    torch.mul(g_v, -scale, out=go[0])
    torch.mul(g_lb, scale, out=go[1])
    grads = {}
    g_ctx = mlp_backward(go, acts, w, arm_names(a), grads, "arm").view(ctx.shape)
    g_band = scratch("g_band", band.shape, band)
    if compiled:
        rate_kernels.scatter(g_ctx.numpy(), starts, np.asarray([lead, pads[1][0]], np.int64),
                             g_v.view(rows, *shape[1:]).numpy(), scale, g_band.numpy())
        return bits, grads, g_band
    g_band.zero_()
    g_band[center] = g_v.mul_(scale).view(rows, *shape[1:])
    for j, idx in enumerate(windows):
        g_band[idx] += g_ctx[j]
    return bits, grads, g_band


# ---------------- synthesis ----------------

CONV = {1: torch.nn.functional.conv1d, 2: torch.nn.functional.conv2d, 3: torch.nn.functional.conv3d}
LAST = {2: torch.channels_last, 3: torch.channels_last_3d}


def synthesis_band(u: torch.Tensor, target: torch.Tensor, w: dict, a, scale: float):
    """Squared error of `model.synthesis` on a padded band u (levels, *padded) against target
    (channels, *shape) and its gradients scaled by `scale`: (sse, weight grads, grad of u
    (levels, points) as a scratch buffer)."""
    names = [f"syn{i}" for i in range(len(a.syn_dims()))]
    acts = mlp_forward(u.reshape(u.shape[0], -1), w, names, "syn")
    x = acts[-1].view(a.channels, *u.shape[1:])[None]
    compiled = a.ndim == 2 and x.device.type == "cpu"  # `conv_kernels`; else torch's (channels-last)
    if a.res_layers and a.ndim in LAST and not compiled:  # oneDNN's few-channel kernels are ~3x faster channels-last
        x = x.contiguous(memory_format=LAST[a.ndim])
    xs, cs = [x], []
    inner = (slice(None), slice(None)) + (slice(1, -1),) * a.ndim
    for i in range(a.res_layers):
        c = (_conv_compiled if compiled else CONV[a.ndim])(x, w[f"res{i}.W"], w[f"res{i}.b"])
        if i < a.res_layers - 1:
            c.clamp_min_(0.0)
        x = x[inner] + c
        xs.append(x)
        cs.append(c)
    diff = x[0].sub_(target)
    sse = torch.dot(diff.reshape(-1), diff.reshape(-1)) if diff.is_contiguous() else diff.square().sum()
    g = diff.mul_(2.0 * scale)[None]
    grads = {}
    for i in range(a.res_layers - 1, -1, -1):
        gc = g if i == a.res_layers - 1 else torch.ops.aten.threshold_backward(g, cs[i], 0.0)
        if compiled:
            gx, grads[f"res{i}.W"], grads[f"res{i}.b"] = _conv_backward_compiled(gc, xs[i], w[f"res{i}.W"])
        else:
            gx, grads[f"res{i}.W"], grads[f"res{i}.b"] = torch.ops.aten.convolution_backward(
                gc, xs[i], w[f"res{i}.W"], [a.channels], [1] * a.ndim, [0] * a.ndim, [1] * a.ndim, False,
                [0] * a.ndim, 1, [True, True, True])
        gx[inner] += g
        g = gx
    g = torch.ops.aten.contiguous(g[0])  # channels first again: BLAS is ~2x slower on the strided view
    gu = mlp_backward(g.view(a.channels, -1), acts, w, names, grads, "syn")
    return sse, grads, gu


def _conv_compiled(x: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """conv2d (valid, one image) by `conv_kernels.forward`."""
    x = x.contiguous()
    out = torch.empty(1, W.shape[0], x.shape[2] - 2, x.shape[3] - 2, dtype=x.dtype)
    conv_kernels.forward(x[0].numpy(), W.contiguous().numpy(), b.contiguous().numpy(), out[0].numpy())
    return out


def _conv_backward_compiled(g: torch.Tensor, x: torch.Tensor, W: torch.Tensor):
    """(grad input, grad weight, grad bias) of `_conv_compiled` by `conv_kernels.backward`."""
    g, x = g.contiguous(), x.contiguous()
    gx = torch.empty_like(x)
    gw, gb = np.empty(W.shape), np.empty(W.shape[0])
    conv_kernels.backward(g[0].numpy(), x[0].numpy(), W.contiguous().numpy(), gx[0].numpy(), gw, gb)
    return gx, torch.from_numpy(gw).to(x.dtype), torch.from_numpy(gb).to(x.dtype)
