"""Distortion in the units a time-series user thinks in.

PSNR with a fixed peak means nothing for data in kelvin or pascal, so the plugin reports:
- `rmse`: root mean squared error in the data's own units (K for temperatures);
- `range_psnr`: PSNR with each channel scaled by its own range (max - min of the original),
  i.e. the PSNR of the normalised [0, 1] series; comparable across channels and files.
"""
from __future__ import annotations

import numpy as np

from inrz import NATIVE, Metric, mse, psnr


class RMSE(Metric):
    """Root mean squared error over all samples and channels, in the data's units."""

    id = "rmse"
    higher_is_better = False
    unit = NATIVE  # the data's own units

    def compute(self, original, decoded, modality) -> float:
        diff = original.data.astype(np.float64) - decoded.data.astype(np.float64)
        return float(np.sqrt(np.mean(diff * diff)))


class RangePSNR(Metric):
    """PSNR in dB after scaling each channel to [0, 1] by the original's min and max."""

    id = "range_psnr"
    unit = "dB"

    def compute(self, original, decoded, modality) -> float:
        a, b = original.data.astype(np.float64), decoded.data.astype(np.float64)
        axes = tuple(range(a.ndim - 1))
        span = a.max(axis=axes) - a.min(axis=axes)
        span = np.where(span > 0, span, 1.0)  # a constant channel: plain squared error
        return psnr(mse(a / span, b / span))
