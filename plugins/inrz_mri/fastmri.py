"""FastMRI volumes: the `reconstruction_rss` (multicoil) or `reconstruction_esc` (singlecoil)
image dataset of an `.h5` file, `(slices, height, width)` float32, read through h5py.

h5py is optional and imported only here, when an `.h5` file is read or written, so a missing
h5py is a `MissingDependencyError` naming the extra rather than a failure to load the plugin.
The file's scalar attributes (acquisition, max, norm, patient_id) are kept in `meta["attrs"]`;
k-space and the ISMRMRD header are not (they are not part of the image being compressed).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from inrz import ContainerError, require

from .volume import MriError

H5_SUFFIXES = (".h5", ".hdf5")


def h5py():
    return require("h5py", "mri")


def is_h5(path: str | Path) -> bool:
    return Path(path).suffix.lower() in H5_SUFFIXES


def read_fastmri(path: str | Path, key: str) -> tuple[np.ndarray, dict[str, Any]]:
    """The image dataset `key` and the meta that rebuilds the file."""
    lib = h5py()
    try:
        with lib.File(str(path), "r") as f:
            if key not in f:
                raise MriError(f"{path} has no {key!r} dataset (it has {', '.join(sorted(f)) or 'none'}); FastMRI "
                               "test-set files hold only k-space; set the modality's h5_key (e.g. "
                               "reconstruction_esc for singlecoil files)")
            stored = np.asarray(f[key][()])
            attrs = {name: _json(value) for name, value in f.attrs.items()}
    except OSError as exc:
        raise MriError(f"cannot read FastMRI file {path}: {exc}") from exc
    data = stored.astype(stored.dtype.newbyteorder("="), copy=False)
    meta = {"format": "fastmri", "h5_key": key, "attrs": {k: v for k, v in attrs.items() if v is not None},
            "disk_dtype": stored.dtype.str}
    return data, meta


def write_fastmri(data: np.ndarray, meta: dict[str, Any], path: str | Path) -> None:
    lib = h5py()
    disk = np.dtype(meta.get("disk_dtype", data.dtype.str))
    try:
        with lib.File(str(path), "w") as f:
            f.create_dataset(meta.get("h5_key", "reconstruction_rss"), data=data.astype(disk, copy=False))
            for name, value in meta.get("attrs", {}).items():
                f.attrs[name] = value
    except OSError as exc:
        raise MriError(f"cannot write FastMRI file {path}: {exc}") from exc


def check_fastmri_meta(meta: dict[str, Any]) -> None:
    """What `write_fastmri` reads from a container header: a dataset name and scalar attributes."""
    key, attrs = meta.get("h5_key", "reconstruction_rss"), meta.get("attrs", {})
    scalar = (str, int, float, bool)
    if not isinstance(key, str) or not key or not isinstance(attrs, dict) or not all(
            isinstance(v, scalar) for v in attrs.values()):
        raise ContainerError("header meta.h5_key must be a name and meta.attrs an object of scalars")


def _json(value) -> Any:
    """A scalar attribute as a JSON value; arrays and other objects are dropped (None)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, str):
        return value
    value = np.asarray(value)
    if value.ndim == 0 and value.dtype.kind in "biuf":
        item = value.item()
        return None if isinstance(item, float) and not np.isfinite(item) else item
    return None
