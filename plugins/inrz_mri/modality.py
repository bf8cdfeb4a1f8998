"""MRI volumes: NIfTI-1/2 (`.nii`, `.nii.gz`) through nibabel and FastMRI `.h5` through h5py.

`Signal.data` is the volume as stored, `(x, y, z)` or `(x, y, z, t)`, in native byte order;
`meta` rebuilds the file (see `inrz_mri.nifti`) and records the data range for PSNR.

Grid and features. The grid is the three spatial axes, with coordinates in [-1, 1] per axis,
so a base network trained on 16^3 patches codes any volume. A 4-D volume's time points are,
by default, feature channels (`time: channels`): fMRI and multi-echo series are short and
strongly correlated over time, one network predicting all of them shares the spatial
structure, and 3-D patches stay 3-D. `time: grid` makes time a 4th grid axis instead (for
long series; COIN++ then needs a base network trained on 4-D patches).

Normalisation (`inrz_mri.volume`): clipped at `clip_percentile` and scaled from `(lo, hi)` to
[0, 1]; `(lo, hi)` goes into the container header as `norm`. `from_features` inverts it,
rounds integer types and clamps to the dtype's range, so decoded voxels above the clip point
come back as `hi`.

Metrics: `psnr` is in original units with the volume's data range (max - min, in `meta`) as
peak, which for a full-range 8-bit volume is 255; `psnr_norm` (`inrz_mri.metrics`) is the PSNR
of the normalised [0, 1] intensities, the figure COIN++ reports for FastMRI.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Sequence

import numpy as np
from pydantic import Field

from inrz import ComponentConfig, ContainerError, FormatChange, Modality, Placement, Signal, fields, missing

from . import nifti
from .fastmri import check_fastmri_meta, is_h5, read_fastmri, write_fastmri
from .volume import (VOLUME_DTYPES, MriError, center_crop, check_disk_dtype, check_volume, denormalize,
                     intensity_range, normalize, volume_meta)


class MriConfig(ComponentConfig):
    clip_percentile: float = Field(99.99, gt=50, le=100)  # intensities above this percentile are clipped (100: none)
    time: Literal["channels", "grid"] = "channels"  # 4-D volumes: time points as feature channels or a 4th grid axis
    #: center-crop (x, y, z) to at most this when a file is read, to keep CPU runs fast; the affine follows the crop
    max_shape: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=3, max_length=3)] | None = None
    h5_key: str = "reconstruction_rss"  # the FastMRI image dataset (reconstruction_esc for singlecoil files)


class MriModality(Modality):
    """3-D and 4-D MRI volumes; see the module docstring for the grid, normalisation and metrics."""

    id = "mri"
    Config: ClassVar = MriConfig
    extensions = (".nii", ".nii.gz", ".h5")
    unit = "voxel"
    default_metrics = ("psnr", "psnr_norm")

    @classmethod
    def available(cls) -> str | None:
        return missing("nibabel", "mri")

    @classmethod
    def default_codec(cls) -> dict[str, dict[str, Any]]:
        """A SIREN of 0.17 bits per voxel: volumes are large, and this is about the rate of the
        COIN++ MRI figures (specs/fastmri.yaml compares COIN there)."""
        return {"backend": {"id": "coin", "bpp": 0.17}}

    @classmethod
    def example_signal(cls) -> Signal | None:
        """The center 8^3 voxels of nibabel's own test volume (big-endian int16, 2 mm, SPM-normalised),
        small enough that the default 99.99th-percentile clip keeps every voxel."""
        try:
            from nibabel.testing import data_path
        except ImportError:
            return None
        path = Path(data_path) / "anatomical.nii"
        return cls({"max_shape": [8, 8, 8]}).load(path) if path.is_file() else None

    # --- files -----------------------------------------------------------------------------
    def load(self, path: str | Path) -> Signal:
        data, meta = read_fastmri(path, self.config.h5_key) if is_h5(path) else nifti.read_nifti(path)
        data = check_volume(data)
        if self.config.max_shape is not None:
            data, meta = crop(data, meta, self.config.max_shape)
        return Signal(data, finish_meta(data, meta))

    def save(self, signal: Signal, path: str | Path) -> None:
        """`.h5` writes a FastMRI-style file; any other name a NIfTI (`.nii`, `.nii.gz`) in the original's header."""
        data = check_volume(signal.data)
        (write_fastmri if is_h5(path) else nifti.write_nifti)(data, signal.meta, path)

    def from_array(self, array: np.ndarray, meta: dict[str, Any] | None = None) -> Signal:
        """Wrap a volume; `meta` may carry a NIfTI `header` (authoritative) or just an `affine` (default identity)."""
        data = check_volume(array)
        return Signal(data, finish_meta(data, dict(meta or {})))

    # --- grid and features -------------------------------------------------------------------
    def grid_shape(self, signal: Signal) -> tuple[int, ...]:
        axes = 4 if signal.data.ndim == 4 and self.config.time == "grid" else 3
        return tuple(signal.data.shape[:axes])

    def to_features(self, signal: Signal) -> tuple[np.ndarray, dict[str, Any]]:
        data = check_volume(signal.data)
        lo, hi = intensity_range(data, self.config.clip_percentile)
        grid = self.grid_shape(signal)
        features = normalize(data, lo, hi).reshape(*grid, -1)  # (*grid, C): C = 1, or t in channels mode
        return features, {"lo": lo, "hi": hi}

    def from_features(self, features: np.ndarray, meta: dict[str, Any], norm: dict[str, Any]) -> Signal:
        """Denormalise to the native dtype; the grid follows `features` (renders may be resized)."""
        native = list(meta["shape"])
        grid = features.shape[:-1]
        if features.ndim < 4 or features.shape[-1] != int(np.prod(native[len(grid):], dtype=np.int64)):
            raise MriError(f"features of shape {tuple(features.shape)} do not fit a volume of shape {native}")
        data = denormalize(features, norm["lo"], norm["hi"], meta["dtype"])
        data = data.reshape(*grid, *native[len(grid):])  # channel axis dropped for 3-D, time restored for 4-D
        return Signal(data, {**meta, "shape": list(data.shape)})

    def check_header(self, meta, norm, grid_shape, d_out) -> None:
        """A 3-D or 4-D shape that fits the grid and channels, a volume dtype, a finite (lo, hi), and
        NIfTI fields or FastMRI attributes of the types this plugin writes."""
        shape = fields.int_list(meta, "shape", "meta")
        grid = list(grid_shape)
        if not (3 <= len(grid) <= len(shape) <= 4 and shape[:len(grid)] == grid
                and int(np.prod(shape[len(grid):], dtype=np.int64)) == d_out):
            raise ContainerError(f"header meta.shape {shape} does not fit grid {grid} with {d_out} channels")
        fields.dtype(meta, "dtype", "meta", allowed=VOLUME_DTYPES)
        check_disk_dtype(meta.get("disk_dtype", meta["dtype"]))
        fields.number_list(meta, "range", "meta", length=2)
        lo, hi = fields.number(norm, "lo", "norm"), fields.number(norm, "hi", "norm")
        if not (lo <= hi and np.isfinite(hi - lo)):
            raise ContainerError(f"header norm lo={lo!r}, hi={hi!r} is not a finite range")
        fmt = fields.text(meta, "format", "meta", choices=(*nifti.FORMATS, "fastmri"))
        for key in ("scl_slope", "scl_inter"):
            fields.number(meta, key, "meta", default=None)
        if fmt in nifti.FORMATS:
            nifti.check_fields(meta)
        else:
            check_fastmri_meta(meta)

    def resized_meta(self, meta: dict[str, Any], grid_shape: Sequence[int],
                     placement: Sequence[Placement] | None = None) -> dict[str, Any]:
        """A rendering's NIfTI geometry: its first voxel moves to where the region starts and voxel
        sizes scale by the rendering's step, so it overlays the original in a viewer."""
        out = super().resized_meta(meta, grid_shape, placement)
        if "header" not in meta:
            return out
        if placement is None:  # the whole field of view
            placement = [Placement(0.0, (n - 1) / (m - 1) if m > 1 else 1.0) for n, m in zip(meta["shape"], grid_shape)]
        starts = [p.start for p in placement[:3]]
        shifted = nifti.shifted_fields(meta["header"], meta["shape"], starts) if any(starts) else meta["header"]
        out["header"] = nifti.scaled_fields(shifted, [p.step for p in placement])
        return {**out, **nifti.derived(out["header"], out["shape"])}

    def axis_names(self, meta: dict[str, Any], ndim: int) -> tuple[str, ...]:
        """Voxel axes i, j, k (x, y, z in a viewer's RAS terms), then t for a 4-D grid."""
        return ("x", "y", "z", "t")[:ndim]

    def format_change(self, meta: dict[str, Any], path: str | Path) -> FormatChange | None:
        """NIfTI and FastMRI .h5 hold the same voxels (both lossless); the change is stated."""
        source = "FastMRI h5" if meta.get("format") == "fastmri" else "NIfTI"
        target = "FastMRI h5" if is_h5(path) else "NIfTI"
        return None if source == target else FormatChange(source, target, lossy=False)

    def peak(self, meta: dict[str, Any]) -> float:
        lo, hi = meta.get("range", (0.0, 1.0))
        return float(hi - lo) or 1.0


def crop(data: np.ndarray, meta: dict[str, Any], max_shape: Sequence[int]) -> tuple[np.ndarray, dict[str, Any]]:
    """Center crop of the spatial axes; the NIfTI origin moves to the crop's first voxel."""
    starts, slices = center_crop(data.shape[:3], max_shape)
    out = data[slices]
    if "header" in meta and tuple(out.shape) != tuple(data.shape):
        meta = {**meta, "header": nifti.shifted_fields(meta["header"], data.shape, starts)}
    return np.ascontiguousarray(out), meta


def finish_meta(data: np.ndarray, meta: dict[str, Any]) -> dict[str, Any]:
    """Shape, dtype and range from the array; for NIfTI, a header (default if absent) and its derived affine."""
    meta = volume_meta(data, meta)
    if meta.setdefault("format", "nifti1") in nifti.FORMATS:
        if not meta.get("header"):
            meta["header"] = nifti.default_fields(data.shape, meta.get("affine"))
        meta.update(nifti.derived(meta["header"], data.shape))
        meta.setdefault("scl_slope", 1.0)
        meta.setdefault("scl_inter", 0.0)
    return meta
