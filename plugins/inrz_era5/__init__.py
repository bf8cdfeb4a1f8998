"""The climate plugin: a `climate` modality (one variable on a lat/lon grid per NetCDF file,
coordinates on the unit sphere), the `netcdf_steps` and `era5` datasets (every time step a
datum), RMSE metrics in physical units, and JPEG / JPEG 2000 / zstd / ZFP / SZ3 / SPERR baselines.
Registered through the `inrz` entry point like any third-party plugin; xarray, the NetCDF
engine and the scientific compressors are imported only when used (`pip install 'inrz[era5]'`).
"""
from __future__ import annotations

from inrz import hookimpl

from .baselines import FieldJpeg, FieldJpeg2000, FieldZstd, Sperr, Sz3, Zfp
from .datasets import Era5, NetcdfSteps
from .metrics import FieldRMSE, LatWeightedRMSE
from .modality import ClimateModality
from .netcdf import ClimateError

__all__ = ["ClimateError", "ClimateModality", "Era5", "FieldJpeg", "FieldJpeg2000", "FieldRMSE", "FieldZstd",
           "LatWeightedRMSE", "NetcdfSteps", "Sperr", "Sz3", "Zfp"]


@hookimpl
def register_modalities(register):
    register(ClimateModality)


@hookimpl
def register_datasets(register):
    register(NetcdfSteps)
    register(Era5)


@hookimpl
def register_metrics(register):
    register(FieldRMSE)
    register(LatWeightedRMSE)


@hookimpl
def register_baselines(register):
    register(FieldJpeg)
    register(FieldJpeg2000)
    register(FieldZstd)
    register(Zfp)
    register(Sz3)
    register(Sperr)
