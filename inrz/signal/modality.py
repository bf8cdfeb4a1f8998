"""Modality adapters: a file <-> a `Signal` <-> coordinates and features on a grid.

A modality MUST:
- `load(path)` a file into a `Signal` whose `meta` is JSON-serialisable and holds everything
  `save` and `from_features` need to rebuild the file (shape, dtype, mode, rate, affine...);
- `to_features(signal)` return features of shape `(*grid, channels)` in [0, 1] plus the
  normalization it used (JSON-serialisable, stored in the container header);
- `from_features(features, meta, norm)` invert that exactly as a user will see it
  (clamped, rounded to the native dtype), so metrics are computed on what is delivered;
- `save(signal, path)` write the signal back in its native format.

A modality SHOULD `check_header(meta, norm, grid, d_out)`: refuse, with `ContainerError`, any
header value it does not write (a string where a number belongs, an infinite scale, a dtype
other than its own), since headers come from files; `inrz.fields` has the checks.

Coordinates default to a regular grid in [-1, 1] per axis; override `coordinates` for other
geometries (the sphere, time scaled to [-5, 5]...). Rendering at another resolution or a
region uses the same function, since an INR is defined everywhere.

A modality MAY:
- override the classmethod `example_signal()` to return a tiny real sample (a few hundred
  points), so the conformance kit (`inrz.testing`) and the core's conformance tests can
  check it without a sample file; the default None means "pass a sample yourself";
- say how reports present it: `rate_unit()` (the rate column and axis label, bits per `unit`
  by default, or one of its `rate_figures`, e.g. kbit/s), `value_unit(meta)` (the physical
  unit of the values, which labels metrics in native units: K, Pa), `default_metrics`;
- say which grid axes wrap around with `periodic_axes(meta)` (a global longitude axis), so
  grid-based backends pad them periodically instead of repeating the edge;
- override the classmethod `default_codec()`: the pipeline sections `inrz.compress` and
  `inrz compress` use for it when given neither a spec nor a preset;
- name its grid axes (`axis_names`, for `inrz info` and `--region` messages) and say when
  saving to a path changes the file format (`format_change`, so `inrz decompress` states a
  conversion and refuses a lossy one unless asked);
- place a rendering (`resized_meta` receives where the rendered grid sits on the native one,
  so a crop's affine, coordinates or start time are those of the crop);
- override the classmethod `available()` (see `inrz/core/component.py`) to say why it cannot run
  here, e.g. `return inrz.missing("h5py", "hdf5", "inrz-foo")`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np

from ..core.component import Component
from .grid import grid_coordinates


@dataclass(frozen=True)
class Placement:
    """Where a rendered grid axis sits on the native one: output sample i is at native index
    `start + i * step` (a crop starts elsewhere, `--scale 2` halves the step)."""

    start: float = 0.0
    step: float = 1.0


@dataclass(frozen=True)
class FormatChange:
    """Saving a signal to a path would write another format than the original's."""

    source: str  # e.g. "PNG"
    target: str  # e.g. "JPEG"
    lossy: bool  # the target format loses information the decoded signal has


@dataclass
class Signal:
    """A datum in its native form: the array a user has, plus what is needed to write it back."""

    data: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)


class Modality(Component):
    kind = "modality"
    hook = "register_modalities"  # the plugin hook that registers this kind (`inrz.hookimpl`)
    #: file suffixes (lower case, with dot) this modality reads, used to pick it for a path
    extensions: ClassVar[tuple[str, ...]] = ()
    #: the name of one grid point in rate figures ("pixel" gives bits per pixel, bpp)
    unit: ClassVar[str] = "sample"
    #: metrics reported by default (ids of registered `Metric`s)
    default_metrics: ClassVar[tuple[str, ...]] = ("psnr",)

    @classmethod
    def example_signal(cls) -> Signal | None:
        """A tiny real sample for conformance checks, or None (the caller supplies one)."""
        return None

    # --- file I/O -----------------------------------------------------------------------
    def load(self, path: str | Path) -> Signal:
        raise NotImplementedError

    def save(self, signal: Signal, path: str | Path) -> None:
        raise NotImplementedError

    def from_array(self, array: np.ndarray, meta: dict[str, Any] | None = None) -> Signal:
        """Wrap an in-memory array (the Python API's entry point); override to validate."""
        return Signal(np.asarray(array), dict(meta or {}))

    # --- grid ----------------------------------------------------------------------------
    def grid_shape(self, signal: Signal) -> tuple[int, ...]:
        """The axes that become coordinates; default: all but the last (channel) axis."""
        return tuple(signal.data.shape[:-1])

    def to_features(self, signal: Signal) -> tuple[np.ndarray, dict[str, Any]]:
        raise NotImplementedError

    def from_features(self, features: np.ndarray, meta: dict[str, Any], norm: dict[str, Any]) -> Signal:
        raise NotImplementedError

    def check_header(self, meta: dict[str, Any], norm: dict[str, Any], grid_shape: Sequence[int], d_out: int) -> None:
        """Raise `inrz.ContainerError` unless `meta` and `norm` (from a container header, so from
        a file) hold what `from_features`, `coordinates`, `resized_meta` and `save` read, with
        types and ranges this modality writes, for this grid and channel count.

        Decoding calls it before computing anything; `inrz.fields` has helpers. The default
        checks nothing: a modality that reads header values SHOULD override it."""

    def coordinates(self, grid_shape: Sequence[int], region: Sequence[tuple[float, float]] | None = None,
                    meta: dict[str, Any] | None = None) -> np.ndarray:
        """Coordinates `(*grid_shape, d_in)`; `region` gives (lo, hi) per axis in the [-1, 1] frame."""
        return grid_coordinates(grid_shape, region)

    def resized_meta(self, meta: dict[str, Any], grid_shape: Sequence[int],
                     placement: Sequence[Placement] | None = None) -> dict[str, Any]:
        """Metadata for a rendering at another resolution or of a region (new width and height;
        modalities with geometry move and scale it by `placement`, one per grid axis)."""
        out = dict(meta)
        out["shape"] = list(grid_shape) + list(meta["shape"][len(grid_shape):])
        return out

    def axis_names(self, meta: dict[str, Any], ndim: int) -> tuple[str, ...]:
        """Names of the grid axes in order (what `--region` takes start:stop for)."""
        return tuple(f"axis{i}" for i in range(ndim))

    def format_change(self, meta: dict[str, Any], path: str | Path) -> FormatChange | None:
        """None if `save(signal, path)` writes the original's format, else what changes."""
        return None

    def peak(self, meta: dict[str, Any]) -> float:
        """The largest representable value, for PSNR (255 for 8-bit data)."""
        return 1.0

    def rate_figures(self, num_bytes: int, meta: dict[str, Any]) -> dict[str, float]:
        """Rates in the modality's own units for reports, next to bits per point (e.g. kbit/s)."""
        return {}

    def num_points(self, signal: Signal) -> int:
        """How many grid points the rate is normalised by (pixels for bpp)."""
        return int(np.prod(self.grid_shape(signal)))

    # --- presentation and defaults ---------------------------------------------------------
    def rate_unit(self) -> tuple[str, str]:
        """The rate reports lead with, as (results column, axis label): bits per `unit` unless
        the modality leads with one of its `rate_figures` (a key, and a label such as "kbit/s")."""
        return "bpp", f"bits per {self.unit}"

    def periodic_axes(self, meta: dict[str, Any]) -> tuple[bool, ...]:
        """Which grid axes wrap around (longitude on a global grid). Backends that work on the grid
        itself (latent grids, convolutions) pad those axes periodically; () means none do."""
        return ()

    def value_unit(self, meta: dict[str, Any]) -> str | None:
        """The physical unit of the values (e.g. "K"), labelling metrics in native units; None if unknown."""
        return None

    @classmethod
    def default_codec(cls) -> dict[str, dict[str, Any]]:
        """Pipeline sections (`backend`, `quantizer`, `entropy`) for this modality when the caller
        names none; sections left out are the core's (`inrz.pipeline.defaults.CORE_SECTIONS`),
        and a backend section without an `id` sets the default backend (`Backend.default`).
        The default is the default backend (COIN's network) sized for 1 bit per point, which
        suits data of any size (the paper's named presets are image architectures)."""
        return {"backend": {"bpp": 1.0}}

