"""Errors of a decoded field in its physical units (K for temperature), unweighted and
latitude-weighted.

On a lat/lon grid the rows near the poles hold far less area than those at the equator, so an
unweighted mean over-counts polar errors; WeatherBench's latitude-weighted RMSE weights each
row by cos(latitude) (normalised to mean 1). Missing values (NaN in the original) are skipped.
"""
from __future__ import annotations

import math

import numpy as np

from inrz import NATIVE, Metric

from .grid import axis_values, lat_weights


def weighted_rmse(original: np.ndarray, decoded: np.ndarray, weights: np.ndarray | None = None) -> float:
    """sqrt(sum w e^2 / sum w) over the points the original has (weights broadcast over rows)."""
    if original.shape != decoded.shape:
        raise ValueError(f"cannot compare arrays of shapes {original.shape} and {decoded.shape}")
    err = original.astype(np.float64) - decoded.astype(np.float64)
    w = np.ones(err.shape) if weights is None else np.broadcast_to(
        weights.reshape([-1] + [1] * (err.ndim - 1)), err.shape).astype(np.float64)
    valid = np.isfinite(original.astype(np.float64))
    err = np.where(valid, err, 0.0)
    total = float(np.sum(w * valid))
    return math.sqrt(float(np.sum(w * err * err)) / total) if total > 0 else math.nan


class FieldRMSE(Metric):
    """Root mean squared error over grid points, in the variable's units (K for temperature)."""

    id = "field_rmse"
    higher_is_better = False
    unit = NATIVE  # the variable's units (the modality's value_unit)

    def compute(self, original, decoded, modality) -> float:
        return weighted_rmse(original.data, decoded.data)


class LatWeightedRMSE(Metric):
    """RMSE with rows weighted by cos(latitude) (WeatherBench); unweighted when the signal has no latitudes."""

    id = "lat_weighted_rmse"
    higher_is_better = False
    unit = NATIVE

    def compute(self, original, decoded, modality) -> float:
        lat = original.meta.get("lat")
        weights = None
        if isinstance(lat, dict) and original.data.ndim >= 2:
            values = axis_values(lat).astype(np.float64)
            if len(values) == original.data.shape[0]:
                weights = lat_weights(values)
        return weighted_rmse(original.data, decoded.data, weights)
