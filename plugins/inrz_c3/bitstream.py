"""The coded form of a fitted latent-grid model: integer weights and latents, range coded.

Payload layout (one container section, `c3`):
    u8 format version (1 or 2)
    format 2 only: 4-byte tag of the base the weights are coded against (zeros: none; see `prior.tag`)
    per weight group (arm, up, syn, res): u8 shift (weights are integers * 2**-shift), u8 scale bin
    uvarint length of the escape bit stream, then its bytes
    range coder words (u32 little endian): every group's weights, then the latent levels from the
    coarsest to the finest, each in wavefront order
Weights are coded with a zero-mean discretised Laplace of the stated scale bin, as integers minus
the base's integers at the same step (a fit from the shipped prior moves most weights a little);
latents with the fixed-point context model (`coding`).
"""
from __future__ import annotations

import numpy as np

from inrz import ContainerError, InrzError, rangecoder, uvarint

from . import armint, coding, tables
from .arch import FOLD, Architecture

FORMAT = 2
READS = (1, 2)
NO_BASE = bytes(4)
GROUPS = ("arm", "up", "syn", "res")
MAX_SHIFT = 20
ZERO_MEAN_BIN = tables.MEAN_BINS // 2


def group_of(name: str) -> str:
    return next(g for g in GROUPS if name.startswith(g))


def group_keys(names, group: str) -> list[str]:
    """Weight names of a group in coding order (layer by layer, weight before bias)."""
    keys = [k for k in names if not k.startswith("latents") and k != "shifts" and group_of(k) == group]
    return sorted(keys, key=lambda k: (k.split(".")[0], 0 if k.endswith(".W") or "." not in k else 1))


def weight_scale(name: str, shift: int) -> float:
    """Integer = value * scale: context-model biases carry FRAC more fractional bits (see coding)."""
    extra = coding.FRAC if group_of(name) == "arm" and name.endswith(".b") else 0
    return float(2.0 ** (shift + extra))


def to_ints(value: np.ndarray, name: str, shift: int) -> np.ndarray:
    return np.rint(np.asarray(value, np.float64) * weight_scale(name, shift)).astype(np.int64)


def from_ints(ints: np.ndarray, name: str, shift: int) -> np.ndarray:
    return ints.astype(np.float64) / weight_scale(name, shift)


def base_ints(base: dict | None, name: str, shift: int, shape) -> np.ndarray | int:
    """The integers a weight is coded relative to: its base's at the same step (0 without one)."""
    if base is None or name not in base:
        return 0
    value = np.asarray(base[name], np.float64)
    if value.shape != tuple(shape):
        raise ContainerError(f"the c3 base has {name} of shape {value.shape}, not {tuple(shape)}")
    return to_ints(value, name, shift)


def group_ints(weights: dict, keys: list[str], shift: int, base: dict | None = None) -> np.ndarray:
    """A group's weights as the integers the coder sees (minus the base's), in coding order."""
    if not keys:
        return np.zeros(0, np.int64)
    return np.concatenate([(to_ints(weights[k], k, shift) - base_ints(base, k, shift, np.shape(weights[k]))).ravel()
                           for k in keys])


def arm_layers(weights: dict, shift: int, a: Architecture) -> list[coding.IntLayer]:
    """The fixed-point context model from (already quantized) float weights."""
    names = [f"arm{i}" for i in range(a.arm_layers)] + ["armo"]
    return [coding.int_layer(to_ints(weights[f"{n}.W"], f"{n}.W", shift), to_ints(weights[f"{n}.b"], f"{n}.b", shift),
                             shift) for n in names]


def check_bounds(tensors: dict, shift: int, a: Architecture) -> None:
    """Refuse to write what a decoder would refuse: latents beyond armint.LATENT_LIMIT, or a
    context model whose sums could leave the exact float64 range (`armint`)."""
    for l in range(a.levels):
        if np.abs(np.asarray(tensors[f"latents.{l}"], np.int64)).max(initial=0) > armint.LATENT_LIMIT:
            raise InrzError(f"c3 latents of level {l} exceed +-{armint.LATENT_LIMIT}: not codable")
    names = [f"arm{i}" for i in range(a.arm_layers)] + ["armo"]
    if not armint.within_bounds([to_ints(tensors[f"{n}.W"], f"{n}.W", shift) for n in names],
                                [to_ints(tensors[f"{n}.b"], f"{n}.b", shift) for n in names]):
        raise InrzError("the c3 context model's weights at this shift exceed the exactness bound: not codable")


def fold(level: np.ndarray, a: Architecture) -> tuple[np.ndarray, int | None]:
    """The grid the context model codes and how many of its points are real (1-D levels are
    folded into rows of FOLD points; see `model.arm_grid`)."""
    if a.ndim != 1:
        return level, None
    n = level.shape[0]
    if n <= FOLD:
        return level.reshape(1, n), n
    out = np.zeros(-(-n // FOLD) * FOLD, level.dtype)
    out[:n] = level
    return out.reshape(-1, FOLD), n


def weight_bin(ints: np.ndarray) -> tuple[int, float]:
    """The scale bin coding zero-mean integers in the fewest bits, and that many bits."""
    if ints.size == 0:
        return tables.SCALE_ZERO, 0.0
    logp = coding.log2_table()[:, ZERO_MEAN_BIN, :]
    sym, esc = coding.to_symbols(ints.ravel(), np.zeros(ints.size, np.int64))
    cost = -logp[:, sym].sum(axis=1) + sum(coding.golomb_bits(int(e)) for e in esc)
    best = int(np.argmin(cost))
    return best, float(cost[best])


def latent_bits(levels: list[np.ndarray], layers, a: Architecture) -> float:
    """Ideal code length of integer latents under the fixed-point context model."""
    total = 0.0
    for level in levels:
        grid, valid = fold(level, a)
        sym, esc, sbin, fbin = coding.grid_symbols(grid, layers, a.offsets, valid)
        total += coding.code_length(sym, esc, sbin, fbin)
    return total


def encode(tensors: dict, layout: dict, a: Architecture, base: tuple[bytes, dict] | None = None) -> bytes:
    """`base`: (tag, weights) the weights are coded relative to, or None."""
    import constriction

    shifts = dict(zip(GROUPS, (int(s) for s in tensors["shifts"])))
    enc = rangecoder.queue_encoder()
    escapes = rangecoder.GolombWriter()
    tag, weights = base if base is not None else (NO_BASE, None)
    head = bytearray([FORMAT]) + tag
    family = constriction.stream.model.Categorical(perfect=False)
    for group in GROUPS:
        ints = group_ints(tensors, group_keys(layout, group), shifts[group], weights)
        sbin, _ = weight_bin(ints)
        head += bytes([shifts[group], sbin])
        if ints.size:
            sym, esc = coding.to_symbols(ints, np.zeros(ints.size, np.int64))
            enc.encode(sym, family, _rows(sbin, ints.size))
            escapes.golomb(esc)
    check_bounds(tensors, shifts["arm"], a)
    layers = arm_layers(tensors, shifts["arm"], a)
    for l in range(a.levels - 1, -1, -1):
        grid, valid = fold(np.asarray(tensors[f"latents.{l}"], np.int64), a)
        coding.encode_grid(grid, layers, a.offsets, enc, escapes, valid)
    esc_bytes = escapes.getvalue()
    return bytes(head) + uvarint(len(esc_bytes)) + esc_bytes + enc.get_compressed().astype("<u4").tobytes()


def decode(data: bytes, layout: dict, a: Architecture, find_base=None, meanwhile=None) -> dict:
    """Inverse of `encode`: the tensors (latent levels as int64, weights as float64, shifts).
    `find_base(tag)`: the base weights a format-2 payload names (raises ContainerError if unknown).
    `meanwhile`: work to run while the finest level decodes (`payload.decode`).
    The compiled decoder (`payload`); `reference.decode_payload` is the one it replaced."""
    from . import payload

    return payload.decode(data, layout, a, find_base, meanwhile)


def _rows(sbin: int, n: int) -> np.ndarray:
    row = tables.probability_table()[sbin, ZERO_MEAN_BIN]
    return np.ascontiguousarray(np.broadcast_to(row, (n, row.size)))
