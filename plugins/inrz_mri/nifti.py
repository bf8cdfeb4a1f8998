"""NIfTI-1 and NIfTI-2 volumes through nibabel, with the header a viewer needs to overlay a
decoded volume on the original.

`meta["header"]` keeps the raw header fields that place and describe the voxels (pixdim,
qform quaternion and offsets, sform rows, their codes, units, slice timing, intent,
description, display window) as JSON values, and writes them back verbatim: rebuilding them
from a 4x4 affine would round the quaternion and move the volume by float noise. `affine`
(nibabel's best affine) and `zooms` are derived copies for readers of `inrz info`.
`disk_dtype` is the stored type including byte order (`>i2` for big-endian int16), while
`Signal.data` is in native order. Scaled files keep their stored values and `scl_slope` /
`scl_inter`, so the dtype survives and a viewer shows the same intensities. NIfTI extensions
are not kept.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from inrz import ContainerError, fields, require

from .volume import MriError

#: raw header fields copied verbatim (scl_slope/scl_inter are read from the data proxy instead)
HEADER_FIELDS = ("dim_info", "intent_p1", "intent_p2", "intent_p3", "intent_code", "intent_name", "slice_start",
                 "slice_end", "slice_code", "slice_duration", "pixdim", "xyzt_units", "cal_min", "cal_max",
                 "toffset", "descrip", "aux_file", "qform_code", "quatern_b", "quatern_c", "quatern_d",
                 "qoffset_x", "qoffset_y", "qoffset_z", "sform_code", "srow_x", "srow_y", "srow_z")
FORMATS = ("nifti1", "nifti2")


def nib():
    """nibabel, imported when a volume is touched (the plugin loads without it)."""
    return require("nibabel", "mri")


def read_nifti(path: str | Path) -> tuple[np.ndarray, dict[str, Any]]:
    """The stored voxel values (native byte order) and the meta that rebuilds the file."""
    nibabel = nib()
    try:
        image = nibabel.load(str(path))
        if not isinstance(image, nibabel.Nifti1Image):  # Nifti2Image is a subclass
            raise MriError(f"{path} is a {type(image).__name__}, not a NIfTI-1/2 volume; convert it to .nii.gz first")
        proxy = image.dataobj
        stored = proxy.get_unscaled()  # on-disk dtype and byte order, before scl_slope/scl_inter; read here
    except (OSError, ValueError, EOFError, nibabel.filebasedimages.ImageFileError) as exc:  # OSError: truncated data
        raise MriError(f"cannot read NIfTI volume {path}: {exc}") from exc
    data = np.array(stored, dtype=stored.dtype.newbyteorder("="))
    meta = {"format": "nifti2" if isinstance(image, nibabel.Nifti2Image) else "nifti1",
            "disk_dtype": stored.dtype.str, "header": header_fields(image.header),
            "scl_slope": float(proxy.slope), "scl_inter": float(proxy.inter)}
    return data, meta


def write_nifti(data: np.ndarray, meta: dict[str, Any], path: str | Path) -> None:
    """Write `data` with the header in `meta` (a default header if it has none, e.g. FastMRI)."""
    nibabel = nib()
    cls = nibabel.Nifti2Image if meta.get("format") == "nifti2" else nibabel.Nifti1Image
    disk = np.dtype(meta.get("disk_dtype", data.dtype.str))
    header = cls.header_class(endianness=disk.byteorder if disk.byteorder in "<>" else "=")
    header.set_data_dtype(disk)
    image = cls(data.astype(disk, copy=False), None, header)  # affine None: the header's fields stand
    # fields go in after construction, which resets scaling and the pixdim of unused axes
    fields = meta.get("header") or default_fields(data.shape, meta.get("affine"))
    slope, inter = meta.get("scl_slope", 1.0), meta.get("scl_inter", 0.0)
    try:
        for name, value in fields.items():
            image.header[name] = _from_json(value)
        if (slope, inter) != (1.0, 0.0):
            image.header["scl_slope"], image.header["scl_inter"] = slope, inter
        image.to_filename(str(path))
    except (OSError, ValueError, nibabel.filebasedimages.ImageFileError) as exc:
        raise MriError(f"cannot write NIfTI volume {path}: {exc}; use a .nii or .nii.gz file name") from exc


def check_fields(meta: dict[str, Any]) -> None:
    """The NIfTI fields of a container header's meta (known names; text, numbers, None for NaN,
    or short lists of numbers, as `header_fields` writes them), or else a 4x4 affine."""
    def ok(value) -> bool:
        if isinstance(value, list):
            return len(value) <= 8 and all(v is None or _finite_number(v) for v in value)
        return value is None or isinstance(value, str) and len(value) <= 80 or _finite_number(value)

    fields, affine = meta.get("header"), meta.get("affine")
    if not fields:
        if affine is not None and not (isinstance(affine, list) and len(affine) == 4 and all(
                isinstance(row, list) and len(row) == 4 and all(map(_finite_number, row)) for row in affine)):
            raise ContainerError("header meta.affine must be a 4x4 list of finite numbers")
        return
    if not isinstance(fields, dict) or not set(fields) <= set(HEADER_FIELDS) or not all(map(ok, fields.values())):
        raise ContainerError(f"header meta.header must hold NIfTI fields ({', '.join(HEADER_FIELDS[:4])}, ...) "
                             "as text, numbers or short lists of numbers")


def _finite_number(value) -> bool:
    return fields.finite(value)


def header_fields(header) -> dict[str, Any]:
    return {name: _to_json(header[name]) for name in HEADER_FIELDS}


def default_fields(shape: Sequence[int], affine=None) -> dict[str, Any]:
    """nibabel's header for an array with this affine (identity if None): sform aligned, zooms from it."""
    nibabel = nib()
    affine = np.eye(4) if affine is None else np.asarray(affine, np.float64)
    image = nibabel.Nifti1Image(np.broadcast_to(np.zeros((), np.uint8), tuple(shape)), affine)
    image.update_header()
    return header_fields(image.header)


def derived(fields: dict[str, Any], shape: Sequence[int]) -> dict[str, Any]:
    """The best affine (nested lists) and voxel sizes a viewer uses, from the raw header fields."""
    header = _header(fields, shape)
    return {"affine": header.get_best_affine().tolist(), "zooms": [float(z) for z in header.get_zooms()]}


def shifted_fields(fields: dict[str, Any], shape: Sequence[int], start: Sequence[int]) -> dict[str, Any]:
    """Header fields of a crop starting at voxel `start`: both qform and sform origins move there,
    so the crop overlays the original in a viewer."""
    header = _header(fields, shape)
    origin = np.array([*start, 1.0])
    out = dict(fields)
    q = header.get_qform() @ origin
    out.update(qoffset_x=_f32(q[0]), qoffset_y=_f32(q[1]), qoffset_z=_f32(q[2]))
    sform = header.get_sform()
    rows = np.column_stack([sform[:3, :3], sform[:3] @ origin])
    out.update(srow_x=_f32s(rows[0]), srow_y=_f32s(rows[1]), srow_z=_f32s(rows[2]))
    return out


def scaled_fields(fields: dict[str, Any], factors: Sequence[float]) -> dict[str, Any]:
    """Header fields of a rendering whose voxel i sits at old voxel i * factor per grid axis
    (a full field of view at another resolution: the origin stays, voxel sizes scale)."""
    pixdim = list(fields["pixdim"])
    rows = [list(fields[k]) for k in ("srow_x", "srow_y", "srow_z")]
    for axis, f in enumerate(factors):
        pixdim[axis + 1] = _f32(pixdim[axis + 1] * f)
        if axis < 3:
            for row in rows:
                row[axis] = _f32(row[axis] * f)
    return {**fields, "pixdim": pixdim, "srow_x": rows[0], "srow_y": rows[1], "srow_z": rows[2]}


def _header(fields: dict[str, Any], shape: Sequence[int]):
    header = nib().Nifti2Header()  # NIfTI-2 holds every NIfTI-1 field and any shape
    header.set_data_shape(tuple(shape))
    for name, value in fields.items():
        header[name] = _from_json(value)
    return header


def _to_json(value) -> Any:
    """A header field as JSON: bytes as latin-1 text, NaN as None, numpy values as Python ones."""
    value = np.asarray(value)
    if value.dtype.kind == "S":
        return value.item().decode("latin-1")
    if value.ndim:
        return [_to_json(v) for v in value]
    item = value.item()
    return None if isinstance(item, float) and math.isnan(item) else item


def _from_json(value) -> Any:
    if isinstance(value, str):
        return value.encode("latin-1")
    if isinstance(value, list):
        return [math.nan if v is None else v for v in value]
    return math.nan if value is None else value


def _f32(value: float) -> float:
    """Rounded as the header's float32 field stores it, so meta equals what a reload gives."""
    return float(np.float32(value))


def _f32s(values) -> list[float]:
    return [_f32(v) for v in values]
