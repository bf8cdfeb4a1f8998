"""Small inputs for conformance checks: signals from a path, an array or `example_signal()`,
center crops that keep fits fast, and a tiny COIN codec.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from ..host.manager import get_host
from ..pipeline.codec import Codec
from ..signal.modality import Modality, Signal
from ._expect import expect, name

#: grid points a smoke fit or a tiny signal is cropped to: a second or two of CPU per fit
MAX_POINTS = 4096


def as_signal(modality: Modality, sample: str | Path | Signal | np.ndarray | None) -> Signal:
    """A `Signal` from a file path, an array (`from_array`), a Signal, or None (`example_signal()`)."""
    if sample is None:
        sample = type(modality).example_signal()
        expect(sample is not None, name(modality), "no sample given and example_signal() returns None",
               "pass a small sample file, or override the classmethod example_signal() to return a tiny Signal")
    if isinstance(sample, (str, Path)):
        return modality.load(sample)
    if isinstance(sample, np.ndarray):
        return modality.from_array(sample)
    expect(isinstance(sample, Signal), name(modality), f"expected a path, an array or a Signal, got "
           f"{type(sample).__name__}", "pass the sample as a path, a numpy array or an inrz.Signal")
    return sample


def crop_slices(grid: tuple[int, ...], max_points: int = MAX_POINTS) -> tuple[slice, ...]:
    """Centered slices of `grid` with at most about `max_points` points (every axis shrunk alike)."""
    side = max(1, int(max_points ** (1.0 / max(1, len(grid)))))
    out = []
    for n in grid:
        keep = min(n, side)
        start = (n - keep) // 2
        out.append(slice(start, start + keep))
    return tuple(out)


def crop_signal(modality: Modality, signal: Signal, max_points: int = MAX_POINTS) -> Signal:
    """A center crop rebuilt with `from_array` (grid axes are taken to lead the data's axes)."""
    grid = tuple(modality.grid_shape(signal))
    if int(np.prod(grid)) <= max_points or tuple(signal.data.shape[:len(grid)]) != grid:
        return signal
    cropped = np.ascontiguousarray(signal.data[crop_slices(grid, max_points)])
    meta: dict[str, Any] = {k: v for k, v in signal.meta.items() if k != "shape"}
    return modality.from_array(cropped, meta)


def tiny_signal(modality: Modality, sample: str | Path | Signal | np.ndarray | None = None,
                max_points: int = MAX_POINTS) -> Signal:
    """A sample (default: the modality's `example_signal()`) cropped to at most `max_points`."""
    return crop_signal(modality, as_signal(modality, sample), max_points)


def tiny_codec(modality: Modality, host=None, *, steps: int = 20, depth: int = 2, width: int = 16,
               quantizer: str | dict = "fp16", entropy: str | dict = "zstd", seed: int = 0) -> Codec:
    """The default backend (COIN, plugin `inrz_coin`) with a depth x width SIREN on CPU: seconds
    per fit, for round-trip checks."""
    host = host or get_host()
    backend = host.create("backend", {"depth": depth, "width": width, "steps": steps, "lr": 1e-3})
    return Codec(modality, backend, host.create("quantizer", quantizer), host.create("entropy", entropy), seed=seed)


@contextmanager
def one_thread() -> Iterator[None]:
    """Tiny fits run fastest on one thread, and never oversubscribe a shared CI machine
    (two torch threads on a busy 2-core box can be 20x slower than one)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
