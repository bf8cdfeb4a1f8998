"""Volume arrays and their intensity normalisation, shared by the modality, the slice-wise
baselines and the `psnr_norm` metric (so all three see the same [0, 1] intensities).

MRI intensities have no fixed scale (arbitrary scanner units, int16 or float) and a few very
bright voxels (vessels, fat, artefacts) can stretch the range many-fold, which would leave
the bulk of the tissue in a sliver of [0, 1]. So a volume is clipped at a high percentile
(99.99 by default) and `(lo, hi)` = (minimum, clip point) is scaled to [0, 1]. Both are actual
voxel values (numpy's "higher" percentile method): integers for integer volumes, so the
mapping inverts exactly below the clip point. A volume of fewer than 1 / (1 - q/100) voxels
(10,000 at 99.99) is never clipped.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from inrz import ContainerError, InrzError

#: the dtypes volumes are held in (and the only ones the decoder accepts)
VOLUME_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32",
                 "float64")


class MriError(InrzError):
    """A volume cannot be read, wrapped or written (unsupported format, shape, dtype or values)."""


def check_volume(array: np.ndarray) -> np.ndarray:
    """A 3-D or 4-D integer or float array in native byte order, with finite values; else `MriError`."""
    data = np.asarray(array)
    if data.ndim not in (3, 4) or 0 in data.shape:
        raise MriError(f"MRI volumes must be 3-D (x, y, z) or 4-D (x, y, z, t) and non-empty, got shape "
                       f"{tuple(data.shape)}; add or drop axes first (e.g. volume[..., None] for one slice)")
    if data.dtype.kind not in "iuf" or data.dtype.itemsize > 8:
        raise MriError(f"MRI volumes must hold integers or floats, got {data.dtype} (complex and RGB NIfTI "
                       "volumes are not supported: code magnitude/phase or each colour as its own volume)")
    if not data.dtype.isnative:
        data = data.astype(data.dtype.newbyteorder("="))  # numpy and torch arithmetic want native order
    if data.dtype.kind == "f" and not np.isfinite(data).all():
        bad = int(np.sum(~np.isfinite(data)))
        raise MriError(f"the volume has {bad} NaN or infinite voxels, which inrz cannot code; replace them first "
                       "(e.g. np.nan_to_num(volume))")
    return data


def check_disk_dtype(value) -> None:
    """A header's on-disk dtype: a volume dtype in any byte order (NIfTI files are often big-endian)."""
    ok = isinstance(value, str) and len(value) >= 2 and value[0] in "<>|=" and any(
        value[1:] == np.dtype(name).str[1:] for name in VOLUME_DTYPES)
    if not ok:
        raise ContainerError(f"header meta.disk_dtype must be a volume dtype such as '<i2' or '>f4', got {value!r:.60}")


def intensity_range(data: np.ndarray, percentile: float) -> tuple[float, float]:
    """`(lo, hi)`: the minimum and the `percentile`-th percentile (an actual voxel value), as Python numbers."""
    flat = data.reshape(-1)
    hi = np.max(flat) if percentile >= 100 else np.percentile(flat, percentile, method="higher")
    return np.min(flat).item(), np.asarray(hi, data.dtype).item()


def normalize(data: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """float32 in [0, 1]: `data` clipped to `[lo, hi]` and scaled (zeros if the volume is constant)."""
    if hi <= lo:
        return np.zeros(data.shape, np.float32)
    clipped = np.clip(data, lo, hi).astype(np.float64)
    return ((clipped - lo) / (hi - lo)).astype(np.float32)


def denormalize(x: np.ndarray, lo: float, hi: float, dtype: str | np.dtype) -> np.ndarray:
    """Invert `normalize` to `dtype`: clamp to [0, 1], scale, round for integers, clamp to the dtype's range."""
    dtype = np.dtype(dtype)
    values = np.clip(np.asarray(x, np.float64), 0.0, 1.0) * (hi - lo) + lo
    info = np.iinfo(dtype) if dtype.kind in "iu" else np.finfo(dtype)
    if dtype.kind in "iu":
        values = np.rint(values)
    return np.clip(values, info.min, info.max).astype(dtype)


def center_crop(shape: Sequence[int], max_shape: Sequence[int]) -> tuple[list[int], tuple[slice, ...]]:
    """Start indices and slices of a centered crop of the leading axes to at most `max_shape`."""
    starts = [(n - min(n, m)) // 2 for n, m in zip(shape, max_shape)]
    return starts, tuple(slice(s, s + min(n, m)) for s, n, m in zip(starts, shape, max_shape))


def volume_meta(data: np.ndarray, meta: dict) -> dict:
    """`meta` with the facts that always come from the array: shape, dtype, data range, on-disk dtype."""
    disk = np.dtype(meta.get("disk_dtype", data.dtype.str))
    if disk.newbyteorder("=") != data.dtype:  # a new array type: it is stored as itself
        disk = data.dtype
    return {**meta, "shape": list(data.shape), "dtype": data.dtype.name, "disk_dtype": disk.str,
            "range": [np.min(data).item(), np.max(data).item()]}
