"""inrz-timeseries: an example third-party inrz plugin.

Adds the `timeseries` modality (CSV files, one column per channel) and two metrics that mean
something in physical units (`rmse`, `range_psnr`). inrz finds it through the entry point
declared in pyproject.toml:

    [project.entry-points.inrz]
    timeseries = "inrz_timeseries"
"""
from __future__ import annotations

from inrz import hookimpl

from .metrics import RMSE, RangePSNR
from .modality import TimeseriesError, TimeseriesModality

__all__ = ["RMSE", "RangePSNR", "TimeseriesError", "TimeseriesModality"]


@hookimpl
def register_modalities(register):
    register(TimeseriesModality)


@hookimpl
def register_metrics(register):
    register(RMSE)
    register(RangePSNR)
