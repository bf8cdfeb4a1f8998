"""Checks for values read from a container header, for the codec and for modalities.

A header is JSON from a file: any key may be missing or hold any JSON value (a string where
a number belongs, 1e308, a list nested a thousand deep). Each helper returns the value when
it has the expected type and range and raises `ContainerError` naming the field otherwise,
so a modality's `check_header` is a few lines and `from_features` can trust what it reads.
"""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from .errors import ContainerError

#: the numeric dtypes inrz writes, by their numpy `str` (little-endian or byte-order free)
NUMERIC_DTYPES = {np.dtype(t).str: np.dtype(t) for t in ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
                                                           "uint32", "uint64", "float16", "float32", "float64")}
NUMERIC_NAMES = tuple(d.name for d in NUMERIC_DTYPES.values())
MAX_AXIS = 1 << 32
FLOAT_MAX = float(np.finfo(np.float64).max)  # no grid axis is longer (a sanity bound; the decode limits are tighter)


def finite(value: Any) -> bool:
    """A JSON number that is a finite float too (ints beyond 1e308 overflow when used as floats)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return abs(value) <= FLOAT_MAX if isinstance(value, int) else math.isfinite(value)


def _fail(where: str, expected: str, value: Any):
    shown = repr(value)
    raise ContainerError(f"header {where}: expected {expected}, got {shown[:80]}{'...' if len(shown) > 80 else ''}")


def mapping(obj: dict, key: str, where: str) -> dict:
    value = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(value, dict):
        _fail(f"{where}.{key}", "an object", value)
    return value


def number(obj: dict, key: str, where: str, *, lo: float = -math.inf, hi: float = math.inf,
           integer: bool = False, positive: bool = False, default: Any = ...) -> float | int:
    """A finite number (an int if `integer`) in [lo, hi] (and > 0 if `positive`)."""
    if default is not ... and (not isinstance(obj, dict) or key not in obj):
        return default
    value = obj.get(key) if isinstance(obj, dict) else None
    ok = finite(value) and (isinstance(value, int) or not integer) and lo <= value <= hi
    if not ok or (positive and value <= 0):
        bounds = f" in [{lo:g}, {hi:g}]" if (lo, hi) != (-math.inf, math.inf) else ""
        _fail(f"{where}.{key}", f"a finite {'positive ' if positive else ''}{'integer' if integer else 'number'}{bounds}",
              value)
    return value if integer or isinstance(value, float) else float(value)  # 10**301 stays usable by numpy


def text(obj: dict, key: str, where: str, choices: Iterable[str] | None = None, default: Any = ...) -> str:
    if default is not ... and (not isinstance(obj, dict) or key not in obj):
        return default
    value = obj.get(key) if isinstance(obj, dict) else None
    allowed = None if choices is None else set(choices)
    if not isinstance(value, str) or (allowed is not None and value not in allowed):
        _fail(f"{where}.{key}", "a string" if allowed is None else f"one of {sorted(allowed)}", value)
    return value


def int_list(obj: dict, key: str, where: str, *, length: int | None = None, lo: int = 1, hi: int = MAX_AXIS) -> list[int]:
    """A list of integers in [lo, hi] (of `length` items if given)."""
    value = obj.get(key) if isinstance(obj, dict) else None
    ok = isinstance(value, list) and (length is None or len(value) == length) and all(
        isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi for v in value)
    if not ok:
        _fail(f"{where}.{key}", f"a list of {length or ''}{' ' if length else ''}integers in [{lo}, {hi}]", value)
    return value


def number_list(obj: dict, key: str, where: str, *, length: int | None = None) -> list[float]:
    """A list of finite numbers (of `length` items if given)."""
    value = obj.get(key) if isinstance(obj, dict) else None
    ok = isinstance(value, list) and (length is None or len(value) == length) and all(map(finite, value))
    if not ok:
        _fail(f"{where}.{key}", f"a list of {length or ''}{' ' if length else ''}finite numbers", value)
    return value


def dtype(obj: dict, key: str, where: str, allowed: Iterable[str] | None = None) -> np.dtype:
    """One of the numeric dtypes inrz writes (by numpy name, e.g. "uint8", or `str`, e.g. "<f4"),
    limited to `allowed` names if given; never `np.dtype(...)` of an arbitrary string."""
    value = obj.get(key) if isinstance(obj, dict) else None
    by_name = {d.name: d for d in NUMERIC_DTYPES.values()}  # the same dtypes by name
    found = (NUMERIC_DTYPES.get(value) or by_name.get(value)) if isinstance(value, str) else None
    if found is None or (allowed is not None and found.name not in set(allowed)):
        names = sorted(allowed) if allowed is not None else sorted(by_name)
        _fail(f"{where}.{key}", f"a numeric dtype ({', '.join(names)})", value)
    return found
