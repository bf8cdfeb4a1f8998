"""Error-bounded coding: an approximation (an INR's output, or a constant) plus a coded
residual, so every decoded value is within a stated maximum absolute error of the original.

The encoder decodes its own container exactly as a decoder will and codes the residual
r = original - approx on a step just under twice the bound (the margin absorbs float
rounding of a network between machines): a predictor (`inrz.coding.predictors`) guesses each
value from those decoded before it, and the integer corrections are range coded under an
adaptive context model (`inrz.coding.ctxkernel`). Of the predictors, the one whose
corrections have the lowest entropy is coded, and beside it the second where its entropy is
within 5 % (`effort="best"`: the best three) and the first's level-wise steps
(`interp3.level_steps`); the smallest is kept. Values the result still misses (rounding to the dtype, absurdly small
bounds) are stored exactly as exceptions.

Sections: `residual` = tag, predictor kind, predictor axes, then the coder's stream;
`exceptions` (only when there are any) = position gaps (`intframe.encode_ints`) + raw values.
Tags: 0x12 (written now): compiled interpolation (`inrz.coding.interp3`) and the compiled
binary context coder (`inrz.coding.ctxkernel`), both on the chunk's 3-D lattice view, no GIL;
0x13 (written now, where it codes smaller): the same with level-wise steps, a fourth byte
naming them (`interp3.TUNES`);
0x11 (written until issue 24): numpy predictors and the constriction context coder
(`inrz.coding.ctxcoder`), still read. A `residual` starting with 1, 2, 4 or 8 is the first
coder's (zigzag planes + zstd), still read.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any, Literal

import numpy as np
from numba import njit

from ..core import fields
from ..core.errors import ContainerError
from ..signal.ndarray import cast
from . import ctxcoder, ctxkernel, interp3, intframe, ranking
from .lattice3 import view3
from .predictors import Predictor, _round, candidates, lorenzo_forward

MARGIN = 1e-3  # step = 2 * bound * (1 - MARGIN)
SAMPLE = 1 << 18  # predictors are ranked on a central block of at most this many values
CLOSE = 0.05  # a second predictor whose ranking cost is within this of the first's is coded too
TUNE_SAMPLE = SAMPLE  # contenders are compared on a central block of at most this many values (1 << 16 misjudged
# ERA-Interim v at 1e-1 of its range: 14 % larger)
TAG = 0x12  # what the encoder writes: uniform steps
TAG_TUNED = 0x13  # what the encoder writes: level-wise steps (`interp3.level_steps`), one byte more
TAG_NUMPY = 0x11  # read only
TUNED = 1  # the level-wise steps the encoder tries, `interp3.TUNES[TUNED]`
KINDS = ("linear", "cubic", "lorenzo")
Effort = Literal["fast", "best"]


def residual_sections(original: np.ndarray, approx: np.ndarray, bound: float, keep: np.ndarray | None = None,
                      effort: Effort = "fast") -> tuple[dict, dict[str, bytes]]:
    """Header entry and sections that bring `approx` within `bound` of `original` wherever
    `keep` is True (elsewhere the values are stored on their own, `inrz.coding.specials`)."""
    step = 2.0 * bound * (1.0 - MARGIN)
    r = original.astype(np.float64) - approx.astype(np.float64)
    coded = []
    for p, done in _contest(r, step, keep, _contenders(_ranked_costs(r, step, keep), effort)):
        k, rec = done or p.encode(r, step, keep)
        coded.append((_section(p, k), rec))
    residual, rec = min(coded, key=lambda c: len(c[0]))
    miss = _misses(original, approx, rec, bound, keep)
    header = {"max_abs_error": bound, "step": step, "exceptions": int(miss.size)}
    sections = {"residual": residual}
    if miss.size:
        sections["exceptions"] = intframe.encode_ints(np.diff(miss, prepend=0)) + original.ravel()[miss].tobytes()
    return header, sections


def _section(p: Predictor, k: np.ndarray) -> bytes:
    """The `residual` section of predictor p's corrections k: tag, predictor kind, axes (and
    for level-wise steps the TUNES index), then the context coder's stream."""
    head = [TAG, KINDS.index(p.kind), p.axes] if not p.tune else [TAG_TUNED, KINDS.index(p.kind), p.axes, p.tune]
    return bytes(head) + ctxkernel.encode(k)


def _contenders(ranked: list[tuple[Predictor, tuple | None, float]],
                effort: Effort) -> list[tuple[Predictor, tuple | None]]:
    """What is coded to pick the smallest: the first-ranked predictor; the second too where its
    ranking cost is within CLOSE of the first's (`effort="best"`: the first three); and the
    first's level-wise steps (`interp3.TUNES[TUNED]`) where it interpolates. The order-0
    entropy that ranks the predictors is only a proxy of the context coder's size: on the
    climate grids it misjudged level-wise steps by 3-10 %, and it put CCSM TS's per-plane linear
    interpolation 1.2 % ahead of plain linear interpolation, which codes 14 % smaller."""
    count = 3 if effort == "best" else 2 if len(ranked) > 1 and ranked[1][2] <= ranked[0][2] * (1 + CLOSE) else 1
    out = [(p, done) for p, done, _ in ranked[:count]]
    if out[0][0].kind != "lorenzo":
        out.append((dataclasses.replace(out[0][0], tune=TUNED), None))
    return out


def _contest(r: np.ndarray, step: float, keep: np.ndarray | None,
             contenders: list[tuple[Predictor, tuple | None]]) -> list[tuple[Predictor, tuple | None]]:
    """The contenders to code in full: all of them on an array of at most TUNE_SAMPLE values
    (the sizes decide); on a larger one, the one that codes smallest on a central block of
    that many values."""
    block = _centre(r.shape, TUNE_SAMPLE)
    if len(contenders) == 1 or r[block].size == r.size:
        return contenders
    kb = None if keep is None else keep[block]
    sizes = [len(ctxkernel.encode(p.encode(r[block], step, kb)[0])) for p, _ in contenders]
    return [contenders[sizes.index(min(sizes))]]


def _misses(original: np.ndarray, approx: np.ndarray, rec: np.ndarray, bound: float,
            keep: np.ndarray | None) -> np.ndarray:
    """Flat positions (where `keep`) whose value as decoded, approx + rec cast to the dtype,
    is beyond `bound` of the original or NaN; compiled for float32 / float64 chunks."""
    if original.dtype in (np.float32, np.float64) and approx.dtype in (np.float32, np.float64):
        out = np.empty(original.size, np.int64)
        mask = np.ones(1, np.bool_) if keep is None else np.ascontiguousarray(keep, np.bool_).reshape(-1)
        n = _misses_float(np.ascontiguousarray(original).reshape(-1), np.ascontiguousarray(approx).reshape(-1),
                          np.ascontiguousarray(rec, np.float64).reshape(-1), float(bound), mask, keep is not None,
                          np.empty(1, original.dtype), out)
        return out[:n]
    fixed = cast(approx.astype(np.float64) + rec, original.dtype)
    ok = abs_diff(fixed, original) <= bound  # False for NaN too
    return np.flatnonzero(~ok.ravel() if keep is None else (keep & ~ok).ravel())


@njit(cache=True, nogil=True)
def _misses_float(original, approx, rec, bound, keep, use_keep, one, out):
    """`_misses` in one pass; `one` (a value of the chunk's dtype) rounds as numpy's cast does."""
    n = 0
    for i in range(original.size):
        one[0] = np.float64(approx[i]) + rec[i]
        if not abs(np.float64(one[0]) - np.float64(original[i])) <= bound and (not use_keep or keep[i]):
            out[n] = i
            n += 1
    return n


def abs_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| elementwise, exact for 64-bit integers too (float64 cannot tell 2**63 - 1 from
    2**63, which would let a missed value pass the check): the difference of two integers of
    one dtype always fits uint64."""
    if a.dtype.kind in "iu":
        wide = np.int64 if a.dtype.kind == "i" else np.uint64
        a64, b64 = a.astype(wide), b.astype(wide)
        return np.maximum(a64, b64).astype(np.uint64) - np.minimum(a64, b64).astype(np.uint64)  # exact mod 2**64
    return np.abs(a.astype(np.float64) - b.astype(np.float64))


def _ranked(r: np.ndarray, step: float, keep: np.ndarray | None) -> list[tuple[Predictor, tuple | None]]:
    """The predictors, likeliest first, ranked on a central block (the whole array if the
    block tells them apart no better than chance, as in an empty background); with the
    whole array's corrections for the first where the block was the whole array. Compiled
    (`inrz.coding.ranking`); the same figures as `_ranked_numpy`, which stays for arrays
    with more than three axes longer than one."""
    return [(p, done) for p, done, _ in _ranked_costs(r, step, keep)]


def _ranked_costs(r: np.ndarray, step: float, keep: np.ndarray | None) -> list[tuple[Predictor, tuple | None, float]]:
    """`_ranked` with each predictor's ranking cost (bits on the block)."""
    options = candidates(r.shape, compiled=True)
    block = _centre(r.shape)
    if sum(n > 1 for n in r[block].shape) > 3:
        return _ranked_numpy_costs(r, step, keep)
    costs, done = _rank_block(r, step, keep, block, options)
    if len(set(costs)) == 1 and r.size > SAMPLE:
        block = tuple(slice(None) for _ in r.shape)
        costs, done = _rank_block(r, step, keep, block, options)
    return [(options[i], done[i], costs[i]) for i in sorted(range(len(options)), key=lambda i: costs[i])]


def _rank_block(r: np.ndarray, step: float, keep: np.ndarray | None, block: tuple[slice, ...],
                options: list[Predictor]) -> tuple[list[float], list[tuple | None]]:
    """Every option's cost on `r[block]` in one compiled call, and the cheapest one's
    corrections and reconstruction where the block is the whole array."""
    rb = r[block]
    whole = rb.size == r.size
    table, shape, shape_t = _rank_table(r.ndim, rb.shape, tuple(options))
    flat = np.ascontiguousarray(rb, np.float64).reshape(-1)
    kb = None if keep is None else keep[block]
    mask = np.ones(1, np.uint8) if kb is None else np.ascontiguousarray(kb, np.uint8).reshape(-1)
    flat_t, mask_t = flat, mask
    if table[:, 1].any():
        flat_t = np.ascontiguousarray(rb.T, np.float64).reshape(-1)
        mask_t = mask if kb is None else np.ascontiguousarray(kb.T, np.uint8).reshape(-1)
    best_k = np.empty(flat.size if whole else 0, np.int64)
    best_rec = np.empty(flat.size if whole else 0, np.float64)
    costs, best = ranking.costs(table, shape, flat, shape_t, flat_t, mask, mask_t, kb is not None, float(step), whole,
                                best_k, best_rec)
    done: list[tuple | None] = [None] * len(options)
    if whole:
        if table[best, 1]:
            done[best] = best_k.reshape(rb.T.shape).T, best_rec.reshape(rb.T.shape).T
        else:
            done[best] = best_k.reshape(rb.shape), best_rec.reshape(rb.shape)
    return costs.tolist(), done


@functools.lru_cache(maxsize=256)
def _rank_table(ndim: int, shape: tuple[int, ...],
                options: tuple[Predictor, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`ranking.costs`' candidate table for a block of `shape`, its 3-D view and its transpose's
    (read only: cached per shape, chunks of a store share it)."""
    live = [a for a, n in enumerate(shape) if n != 1]
    where = {a: 3 - len(live) + j for j, a in enumerate(live)}  # axis -> its axis in the 3-D view
    table = np.zeros((len(options), 4), np.int64)
    for row, p in zip(table, options):
        if p.kind == "lorenzo":
            row[:] = 2, 0, 0, sum(1 << where[a] for a in range(ndim) if p.axes >> a & 1 and a in where)
        else:
            row[:] = KINDS.index(p.kind), p.axes & 1, p.axes >> 1 & 1, 0
    out = table, np.array(view3(shape), np.int64), np.array(view3(shape[::-1]), np.int64)
    for a in out:
        a.flags.writeable = False
    return out


def _ranked_numpy(r: np.ndarray, step: float, keep: np.ndarray | None) -> list[tuple[Predictor, tuple | None]]:
    """`_ranked` in numpy, candidate by candidate (any number of axes)."""
    return [(p, done) for p, done, _ in _ranked_numpy_costs(r, step, keep)]


def _ranked_numpy_costs(r: np.ndarray, step: float,
                        keep: np.ndarray | None) -> list[tuple[Predictor, tuple | None, float]]:
    """`_ranked_costs` in numpy."""
    def run(block):
        rb, kb, grid = r[block], None if keep is None else keep[block], []
        coded = []
        for p in options:
            if p.kind != "lorenzo":
                coded.append(p.encode(rb, step, kb))
                continue
            if not grid:  # every Lorenzo predictor differences the same values rounded to the step grid
                q = _round(rb / step)
                grid[:] = [q, q.astype(np.float64) * step]
            coded.append((lorenzo_forward(grid[0], p.axes), grid[1]))
        return [_entropy(k) for k, _ in coded], coded if rb.size == r.size else [None] * len(options)

    options = candidates(r.shape, compiled=True)
    costs, done = run(_centre(r.shape))
    if len(set(costs)) == 1 and r.size > SAMPLE:
        costs, done = run(tuple(slice(None) for _ in r.shape))
    return [(options[i], done[i], costs[i]) for i in sorted(range(len(options)), key=lambda i: costs[i])]


def _centre(shape: tuple[int, ...], size: int = SAMPLE) -> tuple[slice, ...]:
    """A block around the middle of at most `size` values, the longest axes shortened first."""
    lengths = list(shape)
    while int(np.prod(lengths)) > size:
        longest = int(np.argmax(lengths))
        lengths[longest] = (lengths[longest] + 1) // 2
    return tuple(slice((n - m) // 2, (n - m) // 2 + m) for n, m in zip(shape, lengths))


def _entropy(k: np.ndarray) -> float:
    """Order-0 entropy in bits of the corrections (those beyond +-WIDE pooled, plus 24 bits
    each): the ranking proxy (compiled: `ranking.entropy_bits`)."""
    return _entropy_bits(np.ascontiguousarray(k).reshape(-1))


@njit(cache=True, nogil=True)
def _entropy_bits(flat):
    counts = np.zeros(2 * WIDE + 1, np.int64)
    for v in flat:
        counts[min(max(v, -WIDE), WIDE) + WIDE] += 1
    return ranking.entropy_bits(counts, flat.size)


WIDE = ranking.WIDE


def apply(approx: np.ndarray, q: np.ndarray, step: float, dtype: np.dtype) -> np.ndarray:
    """`approx` plus `q` steps, rounded and clipped to `dtype` as the decoder delivers it (first coder)."""
    return cast(approx.astype(np.float64) + q.reshape(approx.shape).astype(np.float64) * step, dtype)


def decode(approx: np.ndarray, info: dict[str, Any], sections: dict[str, bytes]) -> np.ndarray:
    """The error-bounded array from the approximation and the residual sections; anything in
    them that no encoder writes is a `ContainerError`."""
    step, count = check_info(info, approx.size)
    data = sections.get("residual")
    if data is None:
        raise ContainerError("error-bounded container has no 'residual' section")
    tagged = data[:1] in (bytes([TAG]), bytes([TAG_TUNED]), bytes([TAG_NUMPY]))
    if tagged:
        compiled = data[0] != TAG_NUMPY
        predictor = _predictor(data, compiled)
        k = (ctxkernel if compiled else ctxcoder).decode(data[4 if predictor.tune else 3:], approx.shape)
        fixed = cast(approx.astype(np.float64) + predictor.decode(k, step), approx.dtype).ravel()
    else:
        q, _ = intframe.decode_ints(data, approx.size)
        fixed = apply(approx, q, step, approx.dtype).ravel()
    if count or "exceptions" in sections or not tagged:
        _exceptions(fixed, sections, count, approx.dtype)
    if fixed.dtype.kind == "f" and not np.isfinite(fixed[np.isfinite(approx.ravel())]).all():
        raise ContainerError("the error-bound residual or exceptions make values NaN or infinite: the file is damaged")
    return fixed.reshape(approx.shape)


def _predictor(data: bytes, compiled: bool) -> Predictor:
    if len(data) < 3 or data[1] >= len(KINDS):
        raise ContainerError("error-bound residual names no known predictor")
    if data[0] != TAG_TUNED:
        return Predictor(KINDS[data[1]], data[2], compiled)
    if len(data) < 4 or KINDS[data[1]] == "lorenzo" or not 0 < data[3] < len(interp3.TUNES):
        raise ContainerError("error-bound residual names no known level-wise steps for its predictor")
    return Predictor(KINDS[data[1]], data[2], compiled, data[3])


def _exceptions(fixed: np.ndarray, sections: dict[str, bytes], count: int, dtype: np.dtype) -> None:
    if "exceptions" not in sections:
        raise ContainerError("error-bounded container has no 'exceptions' section")
    data = sections["exceptions"]
    gaps, used = intframe.decode_ints(data, count)
    values = data[used:]
    if len(values) != count * dtype.itemsize:
        raise ContainerError(f"error-bound exceptions hold {len(values)} bytes of values for {count} positions")
    positions = np.cumsum(gaps)
    if count and (gaps.min() < 0 or positions[-1] >= fixed.size):
        raise ContainerError("error-bound exception positions lie outside the array")
    fixed[positions] = np.frombuffer(values, dtype=dtype)


def check_info(info: Any, size: int) -> tuple[float, int]:
    """The header's `error_bound` entry: a positive finite bound, a step no larger than the
    bound allows (a larger one would void the guarantee), and 0..size exceptions."""
    if not isinstance(info, dict):
        raise ContainerError(f"header error_bound must be an object, got {type(info).__name__}")
    step, count, bound = info.get("step"), info.get("exceptions"), info.get("max_abs_error")
    if not _positive_finite(bound):
        raise ContainerError(f"header error_bound.max_abs_error must be a positive number, got {bound!r}")
    if not _positive_finite(step) or step > 2.0 * bound:
        raise ContainerError(f"header error_bound.step must be a positive number at most twice max_abs_error "
                             f"({bound!r}), got {step!r}")
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= size:
        raise ContainerError(f"header error_bound.exceptions must be an integer in 0..{size}, got {count!r}")
    return float(step), count


def _positive_finite(value: Any) -> bool:
    return fields.finite(value) and value > 0
