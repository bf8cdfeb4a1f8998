"""Range coding of integer latents with the fixed-point context model.

Everything that decides a probability is integer arithmetic: latents are integers, context
model weights are integers times 2**-shift, activations are integers times 2**-FRAC, all held
in float64 where every product and sum is an exact integer below 2**53 (`armint` states and
checks the bound), so any machine, thread count or summation order gives the same bits. The
predicted mean and log-scale select one of the frozen tables in `tables`; symbols beyond the
table's range escape to Exp-Golomb bits. Latents are coded in wavefronts (`context.wavefronts`).
The range coder, the escape codes and the errors of a corrupt stream are inrz's
(`inrz.rangecoder`); what is c3's is which table codes which symbol.

This is the encoder's side (symbols, rate estimates, the encoder) and the
per-wavefront reference decoder the tests check the compiled one (`rangedec`, `payload`)
against. The context model itself is `armint`'s compiled kernel for both, so the encoder's
rate estimate and the decoder cannot disagree; `reference.arm_forward_int` is its oracle.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from inrz import rangecoder

from . import armint, context, tables
from .armint import ACT_LIMIT, FRAC  # noqa: F401  (re-exported: fixed-point constants)

SYMBOL_OFFSET = tables.K + 1


@dataclass
class IntLayer:
    W: "torch.Tensor"  # (out, in) integers as float64, scaled by 2**shift
    b: "torch.Tensor"  # (out, 1) integers as float64, scaled by 2**(shift + FRAC)
    shift: int


def int_layer(W_int: np.ndarray, b_int: np.ndarray, shift: int) -> IntLayer:
    import torch  # the encoder's side only

    return IntLayer(torch.from_numpy(np.asarray(W_int, np.float64)),
                    torch.from_numpy(np.asarray(b_int, np.float64).reshape(-1, 1)), shift)


def packed(layers: list[IntLayer]):
    """The compiled kernel's arrays of a fixed-point context model."""
    return armint.pack([l.W.numpy() for l in layers], [l.b.numpy().ravel() for l in layers], layers[0].shift)


def arm_forward_int(ctx: np.ndarray, layers: list[IntLayer]) -> tuple[np.ndarray, np.ndarray]:
    """ctx (C, n) integer latents -> (mean, log-scale) (n,), integers with FRAC fractional bits:
    the decoder's compiled kernel (`armint`), so the encoder's rate estimate is what decodes."""
    return armint.forward_batch(np.ascontiguousarray(ctx, dtype=np.int64), *packed(layers))


def table_bins(mean_fp: np.ndarray, logb_fp: np.ndarray):
    """Rounded mean, scale bin and mean-offset bin from fixed-point predictions (all exact)."""
    one = float(2 ** FRAC)
    centre = np.floor((mean_fp + one / 2) / one)
    frac = mean_fp - centre * one  # in [-one/2, one/2)
    fbin = np.floor((frac + one / 2) / (one / tables.MEAN_BINS)).astype(np.int64)
    sbin = np.floor(logb_fp / (one / tables.SCALE_STEP)).astype(np.int64) + tables.SCALE_ZERO
    np.clip(sbin, 0, tables.SCALE_BINS - 1, out=sbin)
    return centre.astype(np.int64), sbin, fbin


def to_symbols(values: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Table symbols of `values - centre`, and the magnitudes past the table's range (escapes)."""
    r = values - centre
    sym = np.clip(r, -tables.K - 1, tables.K + 1) + SYMBOL_OFFSET
    escapes = np.abs(r[(r < -tables.K) | (r > tables.K)]) - tables.K - 1
    return sym.astype(np.int32), escapes


def from_symbols(sym: np.ndarray, centre: np.ndarray, escapes: rangecoder.GolombReader) -> np.ndarray:
    """Inverse of `to_symbols`, reading escaped magnitudes in order."""
    r = sym.astype(np.int64) - SYMBOL_OFFSET
    for i in np.flatnonzero((sym == 0) | (sym == tables.ALPHABET - 1)):
        extra = escapes.golomb() + tables.K + 1
        r[i] = extra if sym[i] else -extra
    return centre + r


def code_length(sym: np.ndarray, escapes: np.ndarray, sbin: np.ndarray, fbin: np.ndarray) -> float:
    """Ideal bits of symbols under their tables plus their escapes (for the encoder's choices)."""
    logp = log2_table()
    return float(-logp[sbin, fbin, sym].sum() + sum(golomb_bits(int(e)) for e in escapes))


_LOG2 = None


def log2_table() -> np.ndarray:
    global _LOG2
    if _LOG2 is None:
        _LOG2 = np.log2(tables.probability_table())
    return _LOG2


def golomb_bits(value: int) -> int:
    return 2 * (value + 1).bit_length() - 1


# ---------------- latent grids ----------------

class GridGeometry:
    """Flat-index arithmetic on a zero-padded grid: contexts are gathers, no unfold copies."""

    def __init__(self, shape, offsets):
        self.shape = tuple(shape)
        pads = context.pad_widths(offsets)
        self.padded = tuple(n + a + b for n, (a, b) in zip(shape, pads))
        strides = np.cumprod((self.padded[1:] + (1,))[::-1])[::-1]
        inner = np.meshgrid(*[np.arange(n) + a for n, (a, _) in zip(shape, pads)], indexing="ij")
        self.base = sum(g.astype(np.int64) * s for g, s in zip(inner, strides)).ravel()  # C order
        self.deltas = np.asarray([int(np.dot(o, strides)) for o in offsets], np.int64)

    def empty(self) -> np.ndarray:
        return np.zeros(int(np.prod(self.padded)), np.int64)

    def contexts(self, padded_flat: np.ndarray, points: np.ndarray) -> np.ndarray:
        """(C, len(points)) neighbour values of the given (flat, unpadded C-order) points."""
        return padded_flat[self.deltas[:, None] + self.base[points][None, :]]


@functools.lru_cache(maxsize=64)
def coding_order(shape, offsets, valid: int | None) -> list[np.ndarray]:
    """Wavefronts of flat indices; a folded 1-D grid's zero tail (index >= valid) is not coded."""
    fronts = context.wavefronts(shape, context.wavefront_slopes(offsets))
    if valid is not None:
        fronts = [f[f < valid] for f in fronts]
    return [f for f in fronts if f.size]


@functools.lru_cache(maxsize=64)
def _flat_order(shape, offsets, valid):
    return np.concatenate(coding_order(shape, offsets, valid))


@functools.lru_cache(maxsize=64)
def geometry(shape, offsets) -> "GridGeometry":
    return GridGeometry(shape, offsets)


def grid_symbols(values: np.ndarray, layers, offsets, valid: int | None = None):
    """Symbols, escapes and table bins of a grid, in coding order (vectorised: the encoder knows
    every latent, so all contexts are gathered at once)."""
    geo = geometry(tuple(values.shape), offsets)
    padded = geo.empty()
    padded[geo.base] = values.ravel()
    order = _flat_order(tuple(values.shape), offsets, valid)
    mean, logb = arm_forward_int(geo.contexts(padded, order), layers)
    centre, sbin, fbin = table_bins(mean, logb)
    sym, escapes = to_symbols(values.ravel()[order], centre)  # escapes in coding order
    return sym, escapes, sbin, fbin


def encode_grid(values: np.ndarray, layers, offsets, encoder, escapes: rangecoder.GolombWriter,
                valid: int | None = None, chunk: int = 65536) -> None:
    import constriction

    sym, esc, sbin, fbin = grid_symbols(values, layers, offsets, valid)
    family = constriction.stream.model.Categorical(perfect=False)
    probs = tables.probability_table()
    for s in range(0, sym.size, chunk):
        encoder.encode(sym[s:s + chunk], family, probs[sbin[s:s + chunk], fbin[s:s + chunk]])
    escapes.golomb(esc)


def decode_grid(shape, layers, offsets, decoder, escapes: rangecoder.GolombReader,
                valid: int | None = None) -> np.ndarray:
    """The per-wavefront reference decoder (`decoder`: a `rangecoder.QueueDecoder`): `reference.decode_grid`."""
    from .reference import decode_grid

    return decode_grid(shape, layers, offsets, decoder, escapes, valid)
