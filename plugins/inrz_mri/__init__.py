"""The MRI plugin: an `mri` modality (NIfTI-1/2 through nibabel, FastMRI `.h5` through h5py),
slice-wise JPEG / JPEG 2000 / JPEG-LS / HTJ2K, 3-D SPERR, and raw-voxel zstd and NIfTI gzip baselines, and the `psnr_norm` metric.
Registered through the `inrz` entry point like any third-party plugin; nibabel, h5py and
Pillow are imported only when a volume is read, written or coded.
"""
from __future__ import annotations

from inrz import hookimpl

from .baselines import Jpeg2000Slices, JpegSlices, ZstdVoxels
from .metrics import NormalizedPSNR
from .modality import MriModality
from .volume import MriError
from .volumetric import Htj2kSlices, Jpeg2000LosslessSlices, JpeglsSlices, NiftiGzip, SperrVolume

__all__ = ["Htj2kSlices", "Jpeg2000LosslessSlices", "Jpeg2000Slices", "JpeglsSlices", "JpegSlices", "MriError",
           "MriModality", "NiftiGzip", "NormalizedPSNR", "SperrVolume", "ZstdVoxels"]


@hookimpl
def register_modalities(register):
    register(MriModality)


@hookimpl
def register_baselines(register):
    register(JpegSlices)
    register(Jpeg2000Slices)
    register(ZstdVoxels)
    register(SperrVolume)
    register(JpeglsSlices)
    register(Htj2kSlices)
    register(Jpeg2000LosslessSlices)
    register(NiftiGzip)


@hookimpl
def register_metrics(register):
    register(NormalizedPSNR)
