"""Which networks the archive codec fits: only where a quick estimate says one may pay, and
(`time_budget_s`) no rung started once the budget is spent.

In error-bounded mode a network's file is its weights plus the residual that brings it within
the bound, and it is kept only if smaller than the best plain coding. A fit costs hundreds of
optimizer steps; this estimate costs two FFTs and one residual coding. It stands a generous best
case in for the network: the chunk's k-term approximation in the cosine basis (the k largest
DCT-II terms, k = the rung's predicted payload bits / 16, as many as the weights a 16-bit
quantizer stores, their positions free), whose residual is coded by the coder a network's residual goes
through, plus the rung's container header (exact) and its weights at `WEIGHTS` of their predicted
size. A rung is fitted only where that estimate is below the best file so far.

`WEIGHTS` = 0.9: the weights a fit stores cost their predicted size after the entropy stage
(measured: fp16 + zstd, 1,058 predicted -> 1,061 bytes on a 24 x 33 x 49 float32 grid; 50 -> 59 on
33 x 49 chunks). The size search's own `PRUNE` = 0.5 let the fit through on whole 3-D test arrays at
1e-2 and 1e-1 of the range, where the fitted file was 1.5-3x the plain coding (issue 24); so did
k = bits / 8 (twice the weights) on a 12 x 64 x 128 array at 1e-2 (estimate 11,752 bytes, plain 12,330).

It is an estimate, not a proof: a network could in principle beat the cosine terms. So it is
checked: tests/test_archive_estimate.py fits networks on real grids and asserts that the
estimate stays below the file each fit really makes, and that a chunk the estimate lets
through is fitted.
"""
from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from ..coding import errorbound
from ..coding.specials import Specials
from ..core.errors import SpecError
from ..pipeline.ladder import Variant, describe, header_bits, payload_bits
from ..pipeline.sizesearch import improve
from ..signal.modality import Signal

#: above this many values the estimate is not made and the rungs are fitted as before (the
#: mirrored FFT holds 2**ndim times the chunk as complex64)
MAX_VALUES = 1 << 22
WEIGHTS = 0.9  # of a rung's predicted payload the estimate counts (see above)


def cosine_approx(x: np.ndarray, k: int) -> np.ndarray:
    """`x` (float64) approximated by its `k` largest cosine-basis terms: the DCT-II of each axis is
    the FFT of the array mirrored along it, where each term appears 2**ndim times."""
    shape = x.shape
    y = np.asarray(x, np.float32).reshape([n for n in shape if n > 1] or [1])
    for axis in range(y.ndim):
        y = np.concatenate([y, np.flip(y, axis)], axis)
    spectrum = np.fft.fftn(y)
    keep = k * (1 << y.ndim)
    if keep < spectrum.size:
        magnitude = np.abs(spectrum).ravel()
        cut = np.partition(magnitude, spectrum.size - keep)[spectrum.size - keep]
        spectrum[np.abs(spectrum) < cut] = 0
    back = np.fft.ifftn(spectrum).real[tuple(slice(0, n) for n in (y.shape[i] // 2 for i in range(y.ndim)))]
    return back.astype(np.float64).reshape(shape)


def network_floor(filled: np.ndarray, keep: np.ndarray | None, bound: float, header_bits: int, bits: float,
                  effort) -> int:
    """Estimated bytes of the smallest file a network of `bits` predicted payload bits could make:
    its container's header (exact), `WEIGHTS` of the payload, and the residual of the k-term
    cosine approximation, k = bits / 16."""
    fixed = int((header_bits + WEIGHTS * bits) / 8)
    k = max(1, int(bits // 16))
    if k >= filled.size:  # as many terms as values: the residual could vanish
        return fixed
    approx = cosine_approx(filled.astype(np.float64), k)
    _, sections = errorbound.residual_sections(filled, approx, bound, keep, effort)
    return fixed + sum(len(s) for s in sections.values())


def rung_costs(signal: Signal, rungs: Sequence[Variant]) -> list[tuple[int, float | None]]:
    """(header bits, predicted payload bits or None) of each rung that can code grids of this
    signal's shape (the size search skips the others too)."""
    if not rungs:
        return []
    datum, out = describe(rungs[0].codec, signal), []
    for variant in rungs:
        try:
            out.append((header_bits(variant.codec, datum), payload_bits(variant, datum)))
        except SpecError:
            continue
    return out


def worth_fitting(filled: np.ndarray, specials: Specials | None, best: int, costs: Sequence[tuple[int, float | None]],
                  bound: float, effort) -> bool:
    """True if some rung's estimated floor is below `best` bytes (or no estimate can be made)."""
    if filled.size > MAX_VALUES:
        return True
    keep = None if specials is None else ~specials.mask
    return any(bits is None or network_floor(filled, keep, bound, head, bits, effort) < best for head, bits in costs)


def promising(todo: list[int], signals: list[Signal], kept: list, fills: list[np.ndarray], best: list[bytes],
              rungs: Sequence[Variant], bound: float, effort) -> tuple[list[int], list[Signal], list]:
    """The chunks of one grid shape (`todo` indexes `best`) some rung may pay for, and their signals
    and specials; the others keep their best plain coding without a fit."""
    costs = rung_costs(signals[0], rungs) if signals else []
    picked = [j for j, i in enumerate(todo) if worth_fitting(fills[j], kept[j], len(best[i]), costs, bound, effort)]
    return [todo[j] for j in picked], [signals[j] for j in picked], [kept[j] for j in picked]


def search(signals: list[Signal], rungs: Sequence[Variant], sizes: list[int], kept: list,
           deadline: float | None) -> list:
    """`improve` rung by rung, smallest first, starting no rung after `deadline` (time.monotonic):
    a rung already started finishes, so a call can overrun by one rung's fit."""
    found: list = [None] * len(signals)
    sizes = list(sizes)
    for variant in rungs if signals else ():
        if deadline is not None and time.monotonic() >= deadline:
            break
        for j, better in enumerate(improve(signals, [variant], sizes, kept)):
            if better is not None:
                found[j], sizes[j] = better, len(better[0].data)
    return found
