"""Distortion metrics between an original and a decoded `Signal`.

A metric MUST compare the arrays the user has (native dtype and range), not the network's
normalised output, so a figure means what a user sees, and return a Python float.
`higher_is_better` orders RD curves; `unit` labels report columns and plot axes: "dB", or
`NATIVE` for the data's own unit, which the modality names (`Modality.value_unit`: K, Pa).

`mse` and `psnr` are the helpers every metric and every fit log uses, so a PSNR means the
same thing in a training log, a fit's progress bar and a report.
"""
from __future__ import annotations

import math
from typing import Any, ClassVar, TypeVar

import numpy as np

from ..core.component import Component
from .modality import Modality, Signal

Value = TypeVar("Value")  # a float, a numpy array or a torch tensor
NATIVE = "native units"  # `Metric.unit` of a figure in the data's own unit


class Metric(Component):
    kind = "metric"
    hook = "register_metrics"  # the plugin hook that registers this kind (`inrz.hookimpl`)
    higher_is_better: ClassVar[bool] = True
    unit: ClassVar[str] = ""

    def compute(self, original: Signal, decoded: Signal, modality: Modality) -> float:
        raise NotImplementedError

    def unit_for(self, modality: Modality, meta: dict[str, Any]) -> str:
        """The unit this metric's figures have on a signal: `unit`, or the modality's value unit."""
        return (modality.value_unit(meta) or self.unit) if self.unit == NATIVE else self.unit


def mse(a: np.ndarray, b: np.ndarray) -> float:
    """Mean squared error in float64, over every value of two arrays of one shape."""
    if a.shape != b.shape:
        raise ValueError(f"cannot compare arrays of shapes {a.shape} and {b.shape}")
    diff = a.astype(np.float64) - b.astype(np.float64)
    return float(np.mean(diff * diff))


def psnr(mse: Value, peak: float = 1.0) -> Value:
    """Peak signal-to-noise ratio in dB, `-10 log10(mse / peak**2)`; an error of 0 gives inf.

    Works elementwise on numpy arrays and torch tensors (in their own dtype), so fits and
    training logs compute PSNR of per-datum errors with this same function.
    """
    if isinstance(mse, (int, float, np.floating)):
        return math.inf if mse == 0 else -10.0 * math.log10(float(mse) / (peak * peak))
    if hasattr(mse, "log10"):  # a torch tensor
        return -10.0 * (mse / (peak * peak)).log10()
    with np.errstate(divide="ignore"):
        return -10.0 * np.log10(np.asarray(mse) / (peak * peak))


class PSNR(Metric):
    """Peak signal-to-noise ratio in dB, with the modality's peak (255 for 8-bit images)."""

    id = "psnr"
    unit = "dB"

    def compute(self, original, decoded, modality) -> float:
        return psnr(mse(original.data, decoded.data), modality.peak(original.meta))


class MSE(Metric):
    """Mean squared error in the data's units, squared."""

    id = "mse"
    higher_is_better = False

    def compute(self, original, decoded, modality) -> float:
        return mse(original.data, decoded.data)


class MaxAbsError(Metric):
    """The largest absolute error in native units: the figure an error bound is stated in."""

    id = "max_abs_error"
    higher_is_better = False
    unit = NATIVE

    def compute(self, original, decoded, modality) -> float:
        return float(np.max(np.abs(original.data.astype(np.float64) - decoded.data.astype(np.float64))))
