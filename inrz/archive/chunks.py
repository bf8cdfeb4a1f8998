"""How the archive codecs code chunks: per chunk, the smallest of every candidate that keeps
the promise, so any chunk is valid and none is larger than its best plain coding.

Error-bounded mode, per chunk:

1. NaN, +-Inf and fill values are split off and kept exactly (`inrz.coding.specials`);
2. the plain codings are measured: one value if all values are equal (NaN chunks included),
   the raw values, and zstd of the raw values (level 19; level 3 with preset "fast"; skipped where
   zstd of a sample says it would be well over the residual's size, `frames.packed_may_win`);
3. the residual alone around a constant, in a compact frame (`inrz.archive.frames`);
4. where the config asks for a network (preset "best", a `bpp_search`, or a backend of its own:
   `ArchiveConfig.network`; the default fits none), the backend's rungs
   (`pipeline.sizesearch.improve`): chunks of one shape are fitted together, and a rung is
   skipped where it cannot win; only chunks that a quick estimate says a network may pay for
   are fitted at all (`inrz.archive.estimate`);

and the smallest is kept. Without a bound the network's (lossy) container is kept, except
for constant chunks, and chunks no network can code are stored losslessly.
"""
from __future__ import annotations

import math
import time
from collections import defaultdict
from typing import Sequence

import numpy as np

from .. import container
from ..coding import errorbound
from ..core import fields
from ..coding.specials import Specials, split
from ..core.errors import ContainerError, SpecError
from ..pipeline.codec import Codec
from ..pipeline.decode import decode as decode_container
from ..pipeline.sizesearch import rungs_for
from . import estimate, frames
from .limits import FrameLimits


def encode(arrays: Sequence[np.ndarray], codec: Codec, network: bool, knobs, fill_values: Sequence[float],
           budget: float | None = None) -> list[bytes]:
    """`budget`: seconds after which no further network rung is started (None: no limit)."""
    deadline = None if budget is None else time.monotonic() + budget
    out: list[bytes] = [b""] * len(arrays)
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, array in enumerate(arrays):
        groups[np.shape(array)].append(i)
    for members in groups.values():
        chunk = [_native(arrays[i]) for i in members]
        coded = (_bounded(chunk, codec, network, knobs, fill_values, deadline) if codec.max_abs_error is not None
                 else _lossy(chunk, codec, fill_values))
        for i, data in zip(members, coded):
            out[i] = data
    return out


def decode(data: bytes, host, expected: int | None = None, dtype=None, limits: FrameLimits | None = None) -> np.ndarray:
    """A chunk from its bytes; `expected` and `dtype`: its number of values and its dtype, when
    the caller knows them (zarr's metadata, a numcodecs `out=` buffer): a chunk holding other
    values is refused before it is decoded, never reinterpreted."""
    limits = limits or FrameLimits.from_env()
    if frames.is_frame(data):
        return frames.decode(data, expected, dtype, limits)
    _check_container(container.read_header(data), expected, dtype)  # before the grid is rendered
    out = decode_container(data, host, limits=limits.container_limits()).signal.data
    if (expected is not None and out.size != expected) or (dtype is not None and not frames.same_type(out.dtype, dtype)):
        raise ContainerError(f"the chunk's container decodes to {out.size} {out.dtype.name} values, the chunk has "
                             f"{expected} {np.dtype(dtype).name if dtype is not None else ''}")
    return out


def _check_container(header: dict, expected: int | None, dtype) -> None:
    """A chunk's container is the ndarray modality's, for `expected` values of `dtype` where known."""
    modality, meta, grid = header.get("modality"), header.get("meta"), header.get("grid")
    if not isinstance(modality, dict) or modality.get("id") != "ndarray" or not isinstance(meta, dict):
        raise ContainerError(f"the chunk's container is not an array's (modality {modality!r}); archive chunks are")
    if expected is not None and (not isinstance(grid, list) or not all(isinstance(n, int) for n in grid)
                                 or math.prod(grid) != expected):
        raise ContainerError(f"the chunk's container is for a grid of {grid!r}, the chunk has {expected} values")
    if dtype is not None:
        own = fields.dtype(meta, "dtype", "meta")
        if not frames.same_type(own, np.dtype(dtype)):
            raise ContainerError(f"the chunk's container holds {own.name} values, the chunk is {np.dtype(dtype).name}")


def _native(array) -> np.ndarray:
    array = np.ascontiguousarray(array)
    if array.dtype.kind not in "biuf" or array.size == 0:
        raise SpecError(f"the archive codecs code non-empty numeric chunks, got {array.dtype} {array.shape}")
    return array.astype(array.dtype.newbyteorder("=")) if array.dtype.byteorder == ">" else array


def _bounded(arrays, codec: Codec, network: bool, knobs, fill_values, deadline: float | None = None) -> list[bytes]:
    level = 19 if network or codec.effort == "best" else 3
    best, todo, signals, kept, fills = [], [], [], [], []
    for array in arrays:
        if (frame := frames.constant(array)) is not None:
            best.append(frame)
            continue
        filled, specials = split(array, fill_values)
        coded = _residual(array, filled, specials, codec)
        candidates = [coded]
        if frames.packed_may_win(array, level, len(coded)):  # zstd of the values is not tried where it cannot win
            candidates.insert(0, frames.packed(array, level))
        smallest = min(candidates, key=len)  # the raw values win ties, and are only written where they win
        best.append(frames.raw(array) if frames.raw_size(array) <= len(smallest) else smallest)
        todo.append(len(best) - 1)
        if network:  # the modality's signal (normalised copies) only where a network may be fitted
            signals.append(codec.modality.from_array(filled))
        kept.append(specials)
        fills.append(filled)
    if network and todo:  # fitted only where a quick estimate says a network may pay (archive.estimate)
        rungs = rungs_for(codec, knobs)
        todo, signals, kept = estimate.promising(todo, signals, kept, fills, best, rungs, codec.max_abs_error,
                                                 codec.effort)
        found = estimate.search(signals, rungs, [len(best[i]) for i in todo], kept, deadline)
        for i, better in zip(todo, found):
            if better is not None:
                best[i] = better[0].data
    return best


def _residual(array: np.ndarray, filled: np.ndarray, specials: Specials | None, codec: Codec) -> bytes:
    """The residual alone, around the chunk's first value (its anchor then costs nothing)."""
    origin = filled.reshape(-1)[0]
    keep = None if specials is None else ~specials.mask
    header, sections = errorbound.residual_sections(filled, np.full(filled.shape, origin, filled.dtype),
                                                    codec.max_abs_error, keep, codec.effort)
    return frames.residual(array, origin, header, sections, specials.section if specials else b"")


def _lossy(arrays, codec: Codec, fill_values) -> list[bytes]:
    out = []
    for array in arrays:
        if (frame := frames.constant(array)) is not None:
            out.append(frame)
            continue
        filled, specials = split(array, fill_values)
        try:
            out.append(codec.encode(codec.modality.from_array(filled), specials=specials).data)
        except SpecError:  # no network is small enough for this chunk: keep it losslessly
            out.append(min(frames.raw(array), frames.packed(array, 19), key=len))
    return out
