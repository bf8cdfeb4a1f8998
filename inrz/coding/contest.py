"""Which predictors the error-bounded residual (`inrz.coding.errorbound`) codes. The candidate
predictors are ranked by the order-0 entropy of their corrections on a central block (compiled:
`inrz.coding.ranking`). `effort="fast"` (the archive's default) codes the first, or, where that
interpolates a chunk of at least TUNE_FROM values ranked at fewer than MULTIDIM_BELOW bits per
value, the multi-dimensional interpolation (tag 0x14) instead. `effort="best"`
holds a contest decided by coded size: the first three, and where the first interpolates a chunk
of at least TUNE_FROM values its level-wise steps (tag 0x13) and the multi-dimensional
interpolation (`inrz.coding.multidim`, tag 0x14). The entropy is only a proxy of the context
coder's size: on benchmarks/archive.py's grids it misjudged level-wise steps by 3-10 %, and on
one of them put per-plane linear interpolation 1.2 % ahead of plain linear interpolation, which
codes 14 % smaller. On `benchmarks/archive_speed.py`'s 64 cells (one thread, idle 2-core machine), the
contest costs encoding speed: 32.0 MB/s for the first alone, 24.9 with the level-wise steps
beside it, 25.0 with a second predictor within 5 % of the first, 6.8 for `effort="best"`
(whose zstd runs at level 19 too).
"""
from __future__ import annotations

import dataclasses
import functools
import math
from typing import Literal

import numpy as np

from ..core.compiled import kernel
from . import ctxkernel, interp3, multidim, ranking
from .lattice3 import view3
from .predictors import KINDS, Predictor, _round, candidates, lorenzo_forward

SAMPLE = 1 << 18  # predictors are ranked on a central block of at most this many values
TUNE_FROM = 1 << 12  # chunks of fewer values try neither level-wise steps nor multi-dimensional interpolation
# (few levels: on 33 x 49 fields level-wise steps saved 0.1-0.5 %)
CONTEST_SAMPLE = SAMPLE  # contenders are compared on a central block of at most this many values (1 << 16
# misjudged one benchmark grid at 1e-1 of its range: 14 % larger)
TUNED = 1  # the level-wise steps tried, `interp3.TUNES[TUNED]`
MULTIDIM = "multidim"  # the contender `inrz.coding.multidim` codes
MULTIDIM_BELOW = 1.0  # effort "fast": multi-dimensional interpolation replaces the first predictor where that
# interpolates a chunk of at least TUNE_FROM values whose ranking costs fewer bits per value than this (a
# smooth field at a loose bound, where it codes 5-50 % smaller; at tight bounds it gained ~1 % for 3-7x the
# encoding time). Tuned on tools/archive_tuning_set (tools/tune_archive_gate.py), not on the benchmark's grids
Contender = tuple[Predictor | str, tuple | None]
Effort = Literal["fast", "best"]


def contenders(ranked: list[tuple[Predictor, tuple | None, float]], effort: Effort, size: int,
               ranked_values: int | None = None) -> list[Contender]:
    """What is coded to pick the smallest (see the module's docstring); `ranked`: `ranked_costs`,
    whose costs are bits on `ranked_values` values (`ranked_counted`)."""
    first = ranked[0][0]
    tunable = first.kind != "lorenzo" and size >= TUNE_FROM
    if effort != "best":
        if tunable and ranked_values and ranked[0][2] < MULTIDIM_BELOW * ranked_values:
            return [(MULTIDIM, None)]
        return [ranked[0][:2]]
    out: list[Contender] = [(p, done) for p, done, _ in ranked[:3]]
    if tunable:
        out += [(dataclasses.replace(first, tune=TUNED), None), (MULTIDIM, None)]
    return out


def contest(r: np.ndarray, step: float, keep: np.ndarray | None, entrants: list[Contender]) -> list[Contender]:
    """The contenders to code in full: all of them on an array of at most CONTEST_SAMPLE values
    (the sizes decide); on a larger one, the one that codes smallest on a central block of
    that many values."""
    if len(entrants) == 1:
        return entrants
    block = centre(r.shape, CONTEST_SAMPLE)
    if r[block].size == r.size:
        return entrants
    kb = None if keep is None else keep[block]
    sizes = [size(p, r[block], step, kb) for p, _ in entrants]
    return [entrants[sizes.index(min(sizes))]]


def size(p: Predictor | str, r: np.ndarray, step: float, keep: np.ndarray | None) -> int:
    """Bytes of the stream contender p codes r into (without the section's head)."""
    if p == MULTIDIM:
        return len(multidim.encode(r, step, keep)[0])
    return len(ctxkernel.encode(p.encode(r, step, keep)[0]))


def ranked(r: np.ndarray, step: float, keep: np.ndarray | None) -> list[tuple[Predictor, tuple | None]]:
    """The predictors, likeliest first, ranked on a central block (the whole array if the
    block tells them apart no better than chance, as in an empty background); with the
    whole array's corrections for the first where the block was the whole array. Compiled
    (`inrz.coding.ranking`); the same figures as `ranked_numpy`, which stays for arrays
    with more than three axes longer than one."""
    return [(p, done) for p, done, _ in ranked_costs(r, step, keep)]


def ranked_costs(r: np.ndarray, step: float, keep: np.ndarray | None) -> list[tuple[Predictor, tuple | None, float]]:
    """`ranked` with each predictor's ranking cost (bits on the block)."""
    return ranked_counted(r, step, keep)[0]


def ranked_counted(r: np.ndarray, step: float,
                   keep: np.ndarray | None) -> tuple[list[tuple[Predictor, tuple | None, float]], int]:
    """`ranked_costs`, and how many values its costs are bits on: the central block's, or the
    whole array's where the block told the predictors apart no better than chance."""
    options, block, compiled = _ranking_plan(r.shape)
    if not compiled:
        return _ranked_numpy_costs(r, step, keep)
    costs, done = _rank_block(r, step, keep, block, options)
    if len(set(costs)) == 1 and r.size > SAMPLE:
        block = tuple(slice(None) for _ in r.shape)
        costs, done = _rank_block(r, step, keep, block, options)
    order = sorted(range(len(options)), key=costs.__getitem__)
    return [(options[i], done[i], costs[i]) for i in order], r[block].size


@functools.lru_cache(maxsize=256)
def _ranking_plan(shape: tuple[int, ...]) -> tuple[tuple[Predictor, ...], tuple[slice, ...], bool]:
    """The candidates for chunks of `shape`, their central ranking block, and whether the
    compiled ranking takes that block (at most three axes longer than one): cached per shape,
    as the chunks of a store share one."""
    block = centre(shape)
    lengths = [len(range(n)[b]) for n, b in zip(shape, block)]
    return tuple(candidates(shape, compiled=True)), block, sum(n > 1 for n in lengths) <= 3


def _rank_block(r: np.ndarray, step: float, keep: np.ndarray | None, block: tuple[slice, ...],
                options: tuple[Predictor, ...]) -> tuple[list[float], list[tuple | None]]:
    """Every option's cost on `r[block]` in one compiled call, and the cheapest one's
    corrections and reconstruction where the block is the whole array."""
    rb = r[block]
    whole = rb.size == r.size
    table, shape, shape_t, transposed = _rank_table(r.shape, rb.shape)
    flat = np.ascontiguousarray(rb, np.float64).reshape(-1)
    kb = None if keep is None else keep[block]
    mask = interp3.KEEP_ALL if kb is None else np.ascontiguousarray(kb, np.uint8).reshape(-1)
    flat_t, mask_t = flat, mask
    if transposed:
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
def _rank_table(whole: tuple[int, ...], shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """`ranking.costs`' table of the candidates for an array of shape `whole` (`_ranking_plan`),
    on a block of `shape`, its 3-D view and its transpose's (read only: cached per shape, chunks of
    a store share it), and whether a candidate runs on the transposed block."""
    ndim, options = len(whole), _ranking_plan(whole)[0]
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
    return (*out, bool(table[:, 1].any()))


def ranked_numpy(r: np.ndarray, step: float, keep: np.ndarray | None) -> list[tuple[Predictor, tuple | None]]:
    """`ranked` in numpy, candidate by candidate (any number of axes)."""
    return [(p, done) for p, done, _ in _ranked_numpy_costs(r, step, keep)[0]]


def _ranked_numpy_costs(r: np.ndarray, step: float,
                        keep: np.ndarray | None) -> tuple[list[tuple[Predictor, tuple | None, float]], int]:
    """`ranked_counted` in numpy."""
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
        return [entropy(k) for k, _ in coded], coded if rb.size == r.size else [None] * len(options)

    options = candidates(r.shape, compiled=True)
    block = centre(r.shape)
    costs, done = run(block)
    if len(set(costs)) == 1 and r.size > SAMPLE:
        block = tuple(slice(None) for _ in r.shape)
        costs, done = run(block)
    return [(options[i], done[i], costs[i]) for i in sorted(range(len(options)), key=lambda i: costs[i])], r[block].size


def centre(shape: tuple[int, ...], size: int = SAMPLE) -> tuple[slice, ...]:
    """A block around the middle of at most `size` values, the longest axes shortened first."""
    lengths = list(shape)
    while math.prod(lengths) > size:
        longest = lengths.index(max(lengths))
        lengths[longest] = (lengths[longest] + 1) // 2
    return tuple(slice((n - m) // 2, (n - m) // 2 + m) for n, m in zip(shape, lengths))


def entropy(k: np.ndarray) -> float:
    """Order-0 entropy in bits of the corrections (those beyond +-WIDE pooled, plus 24 bits
    each): the ranking proxy (compiled: `ranking.entropy_bits`)."""
    return _entropy_bits(np.ascontiguousarray(k).reshape(-1))


@kernel(cache=True, nogil=True)
def _entropy_bits(flat):
    counts = np.zeros(2 * WIDE + 1, np.int64)
    for v in flat:
        counts[min(max(v, -WIDE), WIDE) + WIDE] += 1
    return ranking.entropy_bits(counts, flat.size)


WIDE = ranking.WIDE


