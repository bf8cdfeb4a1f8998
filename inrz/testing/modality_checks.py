"""Conformance checks for a `Modality`: file and feature round trips, coordinates, a smoke fit.

Each check raises `AssertionError` saying what is wrong and what to change; the contract
they test is the module docstring of `inrz/signal/modality.py`.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from ..backends.base import EncodeContext
from ..host.manager import get_host
from ..signal.modality import Modality, Signal
from ._expect import expect, json_round_trip, name
from .samples import MAX_POINTS, as_signal, crop_slices, one_thread

#: float data may move by this fraction of its per-channel range through float32 features
FLOAT_TOLERANCE = 2.0**-20


def check_modality(modality: Modality, sample: str | Path | Signal | np.ndarray | None = None, *,
                   float_tolerance: float = FLOAT_TOLERANCE) -> Signal:
    """Run every modality check on one sample (a lossless file, a Signal, an array, or None for
    `example_signal()`); returns the signal that was checked."""
    signal = as_signal(modality, sample)
    suffix = Path(sample).suffix if isinstance(sample, (str, Path)) else None
    json_round_trip(signal.meta, name(modality), "Signal.meta")
    check_file_round_trip(modality, signal, suffix)
    check_feature_round_trip(modality, signal, float_tolerance)
    check_coordinates(modality, signal)
    return signal


def check_file_round_trip(modality: Modality, signal: Signal, suffix: str | None = None) -> Signal:
    """`save` then `load` gives back the same shape, dtype, values and metadata."""
    who = name(modality)
    suffix = suffix if suffix is not None else (modality.extensions[0] if modality.extensions else "")
    with tempfile.TemporaryDirectory(prefix="inrz-check-") as tmp:
        path = Path(tmp) / f"round_trip{suffix}"
        modality.save(signal, path)
        expect(path.exists(), who, f"save() wrote nothing at {path}", "write the file at exactly the path given")
        back = modality.load(path)
    fix = "save() must write everything load() reads back (use a lossless format for the sample)"
    _same_array(who, "load(save(signal))", signal.data, back.data, fix)
    expect(json_round_trip(back.meta, who, "loaded meta") == json_round_trip(signal.meta, who, "meta"), who,
           f"metadata changed in save/load: {signal.meta!r} -> {back.meta!r}", fix)
    return back


def check_feature_round_trip(modality: Modality, signal: Signal, float_tolerance: float = FLOAT_TOLERANCE) -> None:
    """Features are float32 `(*grid, C)` in [0, 1]; `from_features` inverts them (exactly for
    integer data, within float32 precision for float data) from JSON-decoded meta and norm."""
    who = name(modality)
    features, norm = modality.to_features(signal)
    grid = tuple(modality.grid_shape(signal))
    expect(isinstance(features, np.ndarray) and features.dtype == np.float32, who,
           f"to_features returned {type(features).__name__} of dtype {getattr(features, 'dtype', None)}",
           "return a float32 numpy array (astype(np.float32)): the backends fit float32")
    expect(features.ndim == len(grid) + 1 and features.shape[:-1] == grid, who,
           f"features have shape {features.shape}, expected (*grid_shape, channels) with grid_shape {grid}",
           "make grid_shape(signal) and to_features agree: features are (*grid, channels)")
    expect(bool(np.isfinite(features).all()), who, "features contain NaN or inf", "fill or reject missing values")
    lo, hi = float(features.min(initial=0.0)), float(features.max(initial=0.0))
    expect(lo >= 0.0 and hi <= 1.0, who, f"features span [{lo}, {hi}], outside [0, 1]",
           "normalise with the data's min/max (or its dtype's range) and store them in `norm`")
    meta = json_round_trip(signal.meta, who, "meta")
    norm = json_round_trip(norm, who, "the normalisation returned by to_features")
    back = modality.from_features(features.copy(), meta, norm)
    _same_array(who, "from_features(to_features(signal))", signal.data, back.data,
                "from_features must invert to_features from the meta and norm alone (clamp, scale, cast)",
                float_tolerance)


def check_coordinates(modality: Modality, signal: Signal) -> np.ndarray:
    """`coordinates(grid)` is float32 `(*grid, d_in)`, finite, one distinct point per grid point."""
    who = name(modality)
    grid = tuple(modality.grid_shape(signal))
    coords = modality.coordinates(grid, meta=json_round_trip(signal.meta, who, "meta"))
    expect(isinstance(coords, np.ndarray) and coords.dtype == np.float32, who,
           f"coordinates are {getattr(coords, 'dtype', type(coords).__name__)}", "return float32 coordinates")
    expect(coords.ndim == len(grid) + 1 and coords.shape[:-1] == grid and coords.shape[-1] >= 1, who,
           f"coordinates have shape {coords.shape}, expected (*{grid}, d_in)", "return one d_in-vector per grid point")
    expect(bool(np.isfinite(coords).all()), who, "coordinates contain NaN or inf", "keep coordinates finite")
    flat = coords.reshape(-1, coords.shape[-1])
    expect(len(np.unique(flat, axis=0)) == len(flat), who, "two grid points share a coordinate",
           "give every grid point its own coordinate (the network cannot tell them apart otherwise)")
    expect(modality.num_points(signal) > 0 and modality.peak(signal.meta) > 0, who,
           "num_points() or peak() is not positive", "count grid points; peak is the largest representable value")
    return coords


def check_smoke_fit(modality: Modality, signal: Signal, host=None, *, steps: int = 100, depth: int = 2,
                    width: int = 16, max_points: int = MAX_POINTS, max_seconds: float = 60.0) -> tuple[float, float]:
    """A tiny COIN fit on CPU (on a center crop of the features) must at least halve the error
    of a 1-step fit; returns (mse after 1 step, mse after `steps`) on the [0, 1] features."""
    who = name(modality)
    features, _ = modality.to_features(signal)
    features = np.ascontiguousarray(features[crop_slices(features.shape[:-1], max_points)], dtype=np.float32)
    expect(float(features.std()) > 1e-3, who, "the sample is (nearly) constant: nothing to fit",
           "smoke-fit a sample with structure")
    coords = modality.coordinates(features.shape[:-1], meta=signal.meta)
    start = time.perf_counter()
    with one_thread():
        one = _fit_mse(host, coords, features, 1, depth, width)
        many = _fit_mse(host, coords, features, steps, depth, width)
    seconds = time.perf_counter() - start
    expect(many <= 0.5 * one, who, f"{steps} steps reduced the feature mse only from {one:.4g} to {many:.4g}",
           "check that coordinates and features line up (same grid order) and that features vary in [0, 1]")
    expect(seconds <= max_seconds, who, f"the smoke fit took {seconds:.1f} s", "smoke-fit a smaller sample")
    return one, many


def _fit_mse(host, coords: np.ndarray, features: np.ndarray, steps: int, depth: int, width: int) -> float:
    # the default backend (COIN, plugin `inrz_coin`), with the paper's full-batch fit: the check
    # does not move with CPU defaults
    config = {"depth": depth, "width": width, "steps": steps, "lr": 1e-3, "points_per_step": None,
              "schedule": "constant"}
    backend = (host or get_host()).create("backend", config)
    ctx = EncodeContext(seed=0)
    result = backend.encode(coords, features[None], ctx)[0]
    out = backend.decode(result.tensors, coords, features.shape[-1], ctx)  # (*grid, C)
    return float(np.mean((out.astype(np.float64) - features) ** 2))


def _same_array(who: str, what: str, want: np.ndarray, got: np.ndarray, fix: str, float_tolerance: float = 0.0) -> None:
    """Equal shape and dtype; equal values for integer data, within the tolerance for floats."""
    got = np.asarray(got)
    expect(got.shape == want.shape, who, f"{what} has shape {got.shape}, expected {want.shape}", fix)
    expect(got.dtype == want.dtype, who, f"{what} has dtype {got.dtype}, expected {want.dtype}", fix)
    if want.dtype.kind != "f" or float_tolerance == 0.0:
        same = np.array_equal(got, want, equal_nan=want.dtype.kind in "fc")
        expect(same, who, f"{what} differs at {int(np.sum(got != want))} of {want.size} values", fix)
        return
    grid_axes = tuple(range(want.ndim - 1))
    span = np.nanmax(want, axis=grid_axes) - np.nanmin(want, axis=grid_axes) if want.ndim > 1 else np.ptp(want)
    allowed = float_tolerance * span.astype(np.float64) + 2 * np.spacing(np.abs(want)).astype(np.float64)
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    worst = float(np.nanmax(err - allowed)) if want.size else 0.0
    expect(worst <= 0, who, f"{what} is off by up to {float(np.nanmax(err)):.3g} (allowed: {float_tolerance:.2g} "
           "of the channel's range plus 2 ulp)", fix)
