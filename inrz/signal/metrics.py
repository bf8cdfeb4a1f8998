"""Distortion metrics between an original and a decoded `Signal`.

A metric MUST compare the arrays the user has (native dtype and range), not the network's
normalised output, so a figure means what a user sees. `higher_is_better` orders RD curves.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..core.component import Component

if TYPE_CHECKING:
    from .modality import Modality, Signal


class Metric(Component):
    kind = "metric"
    higher_is_better: ClassVar[bool] = True
    unit: ClassVar[str] = ""

    def compute(self, original: "Signal", decoded: "Signal", modality: "Modality") -> float:
        raise NotImplementedError


def mse(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        raise ValueError(f"cannot compare arrays of shapes {a.shape} and {b.shape}")
    diff = a.astype(np.float64) - b.astype(np.float64)
    return float(np.mean(diff * diff))


class PSNR(Metric):
    """Peak signal-to-noise ratio in dB, with the modality's peak (255 for 8-bit images)."""

    id = "psnr"
    unit = "dB"

    def compute(self, original, decoded, modality) -> float:
        err = mse(original.data, decoded.data)
        peak = modality.peak(original.meta)
        return math.inf if err == 0 else 10.0 * math.log10(peak * peak / err)


class MSE(Metric):
    id = "mse"
    higher_is_better = False

    def compute(self, original, decoded, modality) -> float:
        return mse(original.data, decoded.data)


class MaxAbsError(Metric):
    """The largest absolute error in native units: the figure an error bound is stated in."""

    id = "max_abs_error"
    higher_is_better = False

    def compute(self, original, decoded, modality) -> float:
        return float(np.max(np.abs(original.data.astype(np.float64) - decoded.data.astype(np.float64))))
