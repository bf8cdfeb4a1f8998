"""Error-bounded coding: an approximation (an INR's output, or a constant) plus a coded
residual, so every decoded value is within a stated maximum absolute error of the original.

The encoder decodes its own container exactly as a decoder will and codes the residual
r = original - approx on a step just under twice the bound (the margin absorbs float
rounding of a network between machines): a predictor (`inrz.coding.predictors`) guesses each
value from those decoded before it, and the integer corrections are range coded under an
adaptive context model (`inrz.coding.ctxkernel`); which predictors are coded, the smallest
kept: `inrz.coding.contest`. Values the result still misses (rounding to the dtype, absurdly
small bounds) are stored exactly as exceptions.

Sections: `residual` = tag, predictor kind, predictor axes, then the coder's stream;
`exceptions` (only when there are any) = position gaps (`intframe.encode_ints`) + raw values.
Tags: 0x12 (written now): compiled interpolation (`inrz.coding.interp3`) and the compiled
binary context coder (`inrz.coding.ctxkernel`), both on the chunk's 3-D lattice view, no GIL;
0x13 (written now, where it codes smaller): the same with level-wise steps, a fourth byte
naming them (`interp3.TUNES`); 0x14 (written now, where it codes smaller): multi-dimensional
interpolation and its own context coder (`inrz.coding.multidim`), its payload after the tag;
0x11 (written until issue 24): numpy predictors and the constriction context coder
(`inrz.coding.ctxcoder`), still read. A `residual` starting with 1, 2, 4 or 8 is the first
coder's (zigzag planes + zstd), still read.
"""
from __future__ import annotations

import functools
from typing import Any, Literal

import numpy as np

from ..core import fields
from ..core.compiled import kernel
from ..core.errors import ContainerError
from ..signal.ndarray import cast
from . import contest, ctxcoder, ctxkernel, interp3, intframe, multidim
from .predictors import KINDS, Predictor

MARGIN = 1e-3  # step = 2 * bound * (1 - MARGIN)
TAG = 0x12  # what the encoder writes: uniform steps
TAG_TUNED = 0x13  # what the encoder writes: level-wise steps (`interp3.level_steps`), one byte more
TAG_MULTIDIM = 0x14  # what the encoder writes: multi-dimensional interpolation (`inrz.coding.multidim`)
TAG_NUMPY = 0x11  # read only
Effort = Literal["fast", "best"]


def residual_sections(original: np.ndarray, approx: np.ndarray, bound: float, keep: np.ndarray | None = None,
                      effort: Effort = "fast") -> tuple[dict, dict[str, bytes]]:
    """Header entry and sections that bring `approx` within `bound` of `original` wherever
    `keep` is True (elsewhere the values are stored on their own, `inrz.coding.specials`)."""
    step = 2.0 * bound * (1.0 - MARGIN)
    r = original.astype(np.float64) - approx.astype(np.float64)
    coded = []
    ranked, values = contest.ranked_counted(r, step, keep)
    entrants = contest.contenders(ranked, effort, r.size, values)
    for p, done in contest.contest(r, step, keep, entrants):
        if p == contest.MULTIDIM:
            payload, rec = multidim.encode(r, step, keep)
            coded.append((bytes([TAG_MULTIDIM]) + payload, rec))
            continue
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


def _misses(original: np.ndarray, approx: np.ndarray, rec: np.ndarray, bound: float,
            keep: np.ndarray | None) -> np.ndarray:
    """Flat positions (where `keep`) whose value as decoded, approx + rec cast to the dtype,
    is beyond `bound` of the original or NaN; compiled for float32 / float64 chunks."""
    if original.dtype in (np.float32, np.float64) and approx.dtype in (np.float32, np.float64):
        out = np.empty(original.size, np.int64)
        mask = _KEEP_ALL if keep is None else np.ascontiguousarray(keep, np.bool_).reshape(-1)
        n = _misses_float(np.ascontiguousarray(original).reshape(-1), np.ascontiguousarray(approx).reshape(-1),
                          np.ascontiguousarray(rec, np.float64).reshape(-1), float(bound), mask, keep is not None,
                          np.empty(1, original.dtype), out)
        return out[:n]
    fixed = cast(approx.astype(np.float64) + rec, original.dtype)
    ok = abs_diff(fixed, original) <= bound  # False for NaN too
    return np.flatnonzero(~ok.ravel() if keep is None else (keep & ~ok).ravel())


_KEEP_ALL = np.ones(1, np.bool_)  # `_misses_float`'s mask where there is none (read only, shared)
_KEEP_ALL.flags.writeable = False


@kernel(cache=True, nogil=True)
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
    tag = data[0] if data else None
    tagged = tag in (TAG, TAG_TUNED, TAG_MULTIDIM, TAG_NUMPY)
    if tag == TAG_MULTIDIM:
        fixed = _add(approx, multidim.decode(data[1:], approx.shape, step))
    elif tagged:
        predictor = _predictor(bytes(data[:4]))
        k = (ctxkernel if predictor.compiled else ctxcoder).decode(data[4 if predictor.tune else 3:], approx.shape)
        fixed = _add(approx, predictor.decode(k, step))
    else:
        q, _ = intframe.decode_ints(data, approx.size)
        fixed = apply(approx, q, step, approx.dtype).ravel()
    if count or "exceptions" in sections or not tagged:
        _exceptions(fixed, sections, count, approx.dtype)
    if fixed.dtype.kind == "f" and _damaged(fixed, approx):
        raise ContainerError("the error-bound residual or exceptions make values NaN or infinite: the file is damaged")
    return fixed.reshape(approx.shape)


def _add(approx: np.ndarray, rec: np.ndarray) -> np.ndarray:
    """cast(approx + rec) to approx's dtype, flat (as `cast` does it; compiled for float32 /
    float64, whose cast is numpy's round to nearest)."""
    if approx.dtype not in (np.float32, np.float64):
        return cast(approx.astype(np.float64) + rec, approx.dtype).ravel()
    out = np.empty(approx.size, approx.dtype)
    _add_float(np.ascontiguousarray(approx).reshape(-1), np.ascontiguousarray(rec, np.float64).reshape(-1), out)
    return out


@kernel(cache=True, nogil=True)
def _add_float(approx, rec, out):
    for i in range(out.size):
        out[i] = np.float64(approx[i]) + rec[i]


def _damaged(fixed: np.ndarray, approx: np.ndarray) -> bool:
    """Whether a decoded value (`fixed`: float, flat) is NaN or infinite where the approximation
    is finite; compiled for float32 / float64."""
    flat = np.ascontiguousarray(approx).reshape(-1)
    if approx.dtype in (np.float32, np.float64):
        return _damaged_float(fixed, flat)
    return not np.isfinite(fixed[np.isfinite(flat)]).all()


@kernel(cache=True, nogil=True)
def _damaged_float(fixed, approx):
    for i in range(fixed.size):
        if np.isfinite(approx[i]) and not np.isfinite(fixed[i]):
            return True
    return False


@functools.lru_cache(maxsize=256)
def _predictor(head: bytes) -> Predictor:
    """The predictor a tagged `residual` section names in its first (up to) 4 bytes; cached
    (`ContainerError`s are not)."""
    compiled = head[0] != TAG_NUMPY
    if len(head) < 3 or head[1] >= len(KINDS):
        raise ContainerError("error-bound residual names no known predictor")
    if head[0] != TAG_TUNED:
        return Predictor(KINDS[head[1]], head[2], compiled)
    if len(head) < 4 or KINDS[head[1]] == "lorenzo" or not 0 < head[3] < len(interp3.TUNES):
        raise ContainerError("error-bound residual names no known level-wise steps for its predictor")
    return Predictor(KINDS[head[1]], head[2], compiled, head[3])


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
