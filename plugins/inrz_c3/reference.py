"""A straightforward implementation of the same model and loss: whole-grid autograd, contexts
stacked from shifted copies, upsampling by functional ops, one thread pool for nothing. It is
the tests' oracle for `train_step` (equal losses and gradients) and the baseline that
`benchmarks/c3_step.py` times the blocked step against. `arm_forward_int` and `decode_grid` are
the fixed-point context model and the latent decoder as first written (float64 GEMMs in torch,
constriction's decoder (`inrz.rangecoder.QueueDecoder`), one Python step per wavefront): the
oracle of the compiled decoder.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from inrz import rangecoder

from . import coding, context, tables
from .bitstream import GROUPS, _rows, arm_layers, base_ints, fold, from_ints, group_keys
from .model import arm_bits, arm_grid, pad_spatial, softround, split_levels, synthesis


def up_last(z: torch.Tensor, k: torch.Tensor, periodic: bool) -> torch.Tensor:
    n = z.shape[-1]
    if periodic:
        zp = torch.cat([z[..., -2:], z, z[..., :2]], -1)
    else:
        zp = torch.cat([z[..., :1], z[..., :1], z, z[..., -1:], z[..., -1:]], -1)
    even = sum(k[0, i] * zp[..., i:i + n] for i in range(4))
    odd = sum(k[1, i] * zp[..., 1 + i:1 + i + n] for i in range(4))
    return torch.stack([even, odd], -1).reshape(*z.shape[:-1], 2 * n)


def pyramid(levels, kernels, periodic) -> torch.Tensor:
    u = levels[-1][None]
    for l in range(len(levels) - 2, -1, -1):
        x = u
        for axis in range(1, x.dim()):
            x = up_last(x.movedim(axis, -1), kernels[l], periodic[axis - 1]).movedim(-1, axis)
        crop = (slice(None),) + tuple(slice(0, n) for n in levels[l].shape)
        u = torch.cat([levels[l][None], x[crop]], 0)
    return u


def loss(params: dict, a, shapes, target: torch.Tensor, periodic, mode: str, t: float, lmbda: float, gen=None):
    """(loss, mse, bits) with autograd through everything; same definition as `train_step`."""
    y = params["y"]
    if mode == "hard":
        q = y + (torch.round(y) - y).detach()
    else:
        noise = torch.rand(y.shape, generator=gen, dtype=y.dtype, device=y.device) - 0.5
        q = y + noise if mode == "noise" else softround(softround(y, t) + noise, t)
    levels = split_levels(q, shapes)
    pads = context.pad_widths(a.offsets)
    bits = 0
    for level in levels:
        grid = arm_grid(level, a)
        padded = F.pad(grid, [p for pair in reversed(pads) for p in pair])
        bits = bits + arm_bits(padded, grid.shape[0], grid.shape, pads, params, a,
                               level.numel() if a.ndim == 1 else None)
    U = pyramid(levels, params["up"], periodic)
    x = synthesis(pad_spatial(U, a.res_layers, periodic) if a.res_layers else U, params, a)
    mse = ((x - target) ** 2).mean()
    points = math.prod(shapes[0])
    return mse + lmbda * bits / points, mse, bits


def arm_forward_int(ctx, layers):
    """ctx (C, n) integer latents -> (mean, log-scale) (n,): feature-major float64 GEMMs (exact for
    integers within `armint`'s bounds, whatever order BLAS sums in)."""
    x = torch.from_numpy(np.ascontiguousarray(ctx, dtype=np.float64)).mul_(float(2 ** coding.FRAC))
    for i, layer in enumerate(layers):
        x = torch.addmm(layer.b, layer.W, x)
        x.mul_(float(2.0 ** -layer.shift)).floor_()  # exact power-of-two scaling, then floor
        x.clamp_(0.0 if i < len(layers) - 1 else -coding.ACT_LIMIT, coding.ACT_LIMIT)
    out = x.numpy()
    return out[0], out[1]


def decode_grid(shape, layers, offsets, decoder, escapes, valid=None):
    """One grid's latents from `decoder` (a `rangecoder.QueueDecoder`), wavefront by wavefront."""
    import constriction

    geo = coding.geometry(tuple(shape), offsets)
    padded = geo.empty()
    probs = tables.probability_table()
    family = constriction.stream.model.Categorical(perfect=False)
    for pts in coding.coding_order(tuple(shape), offsets, valid):
        mean, logb = arm_forward_int(geo.contexts(padded, pts), layers)
        centre, sbin, fbin = coding.table_bins(mean, logb)
        sym = decoder.decode(family, probs[sbin, fbin])
        padded[geo.base[pts]] = coding.from_symbols(sym, centre, escapes)
    return padded[geo.base].reshape(shape)


def decode_payload(data: bytes, layout: dict, a, find_base=None, meanwhile=None) -> dict:
    """`bitstream.decode` as first written: constriction's decoder, torch's GEMMs, one Python step
    per wavefront, no bounds or stream-end checks (the compiled decoder adds those). `meanwhile`
    as `payload.decode`'s, called in turn (no helper thread)."""
    import constriction

    from .payload import WHAT, parse_head

    base, shifts, sbins, n_esc, pos = parse_head(data, find_base)
    escapes = rangecoder.GolombReader(data[pos:pos + n_esc], WHAT)
    dec = rangecoder.QueueDecoder(rangecoder.read_words(data[pos + n_esc:], WHAT), WHAT)
    family = constriction.stream.model.Categorical(perfect=False)
    out = {"shifts": np.asarray([shifts[g] for g in GROUPS], np.int64)}
    for group in GROUPS:
        keys = group_keys(layout, group)
        sizes = [int(np.prod(layout[k])) for k in keys]
        if not sum(sizes):
            continue
        sym = dec.decode(family, _rows(sbins[group], sum(sizes)))
        flat = coding.from_symbols(sym, np.zeros(sym.size, np.int64), escapes)
        for k, chunk in zip(keys, np.split(flat, np.cumsum(sizes)[:-1])):
            ints = chunk.reshape(layout[k]) + base_ints(base, k, shifts[group], layout[k])
            out[k] = from_ints(ints, k, shifts[group])
    layers = arm_layers(out, shifts["arm"], a)
    for l in range(a.levels - 1, -1, -1):
        if l == 0 and meanwhile is not None:
            out["meanwhile"] = meanwhile(out)
        shape = layout[f"latents.{l}"]
        grid, valid = fold(np.zeros(shape, np.int64), a)
        values = decode_grid(grid.shape, layers, a.offsets, dec, escapes, valid)
        out[f"latents.{l}"] = values.reshape(-1)[:int(np.prod(shape))].reshape(shape)
    return out
