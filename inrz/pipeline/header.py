"""The header fields the codec reads, checked before anything is computed from them.

`docs/format.md` lists them. A header is JSON from a file, so each field is checked for its
type and range here; the modality checks its own `meta` and `norm` (`Modality.check_header`),
and `inrz.pipeline.limits` checks that the work they ask for is in proportion to the file.
"""
from __future__ import annotations

import math
from typing import Any

from ..core import fields
from ..core.errors import ContainerError, SpecError

MAX_AXES = 16  # grid axes (modalities use 1 to 4)
MAX_CHANNELS = 1 << 16  # d_in and d_out
#: section names reserved for the error-bounded mode (`inrz.coding.errorbound`)
BOUND_SECTIONS = ("residual", "exceptions")


def header_fields(header: dict[str, Any]) -> tuple[list[int], int, int, dict[str, Any], dict[str, Any]]:
    """The header fields the codec reads (grid, d_in, d_out, meta, norm), checked before use."""
    grid = header.get("grid")
    if not (isinstance(grid, list) and 0 < len(grid) <= MAX_AXES and all(_positive_int(n, fields.MAX_AXIS)
                                                                         for n in grid)):
        raise ContainerError(f"header grid must be a non-empty list of at most {MAX_AXES} positive integers "
                             f"(each at most {fields.MAX_AXIS}), got {_short(grid)}")
    for key in ("d_in", "d_out"):
        if not _positive_int(header.get(key), MAX_CHANNELS):
            raise ContainerError(f"header {key} must be a positive integer (at most {MAX_CHANNELS}), got "
                                 f"{_short(header.get(key))}")
    for key in ("meta", "norm"):
        if not isinstance(header.get(key), dict):
            raise ContainerError(f"header {key} must be an object, got {type(header.get(key)).__name__}")
    return grid, header["d_in"], header["d_out"], header["meta"], header["norm"]


def num_values(grid: list[int], d_out: int) -> int:
    """Decoded values: grid points times channels (exact, however large)."""
    return math.prod(grid) * d_out


def is_bounded(header: dict[str, Any], sections: dict[str, bytes]) -> bool:
    """Whether the file is error-bounded. Its `error_bound` entry and its sections come together:
    sections without the entry mean the guarantee was removed, and that is refused."""
    found = [name for name in BOUND_SECTIONS if name in sections]
    if found and "error_bound" not in header:
        raise ContainerError(f"the file holds error-bound sections ({', '.join(found)}) but its header has no "
                             "error_bound entry: the error guarantee was removed (the file is edited or damaged)")
    return "error_bound" in header


def layout_of(backend, grid: list[int], d_in: int, d_out: int) -> dict[str, tuple[int, ...]]:
    """The backend's layout for the header's grid; a config that cannot code it is a bad file."""
    try:
        return backend.layout(grid, d_in, d_out)
    except SpecError as exc:
        raise ContainerError(f"the header's backend config cannot code its own grid {_short(grid)}: {exc}") from exc


def _positive_int(value: Any, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= hi


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "..."
