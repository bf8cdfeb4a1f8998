"""SNR: the figure audio codecs are usually judged by, next to the paper's PSNR.

PSNR needs no metric of its own: the core `psnr` uses `AudioModality.peak()` = twice the full
scale, which makes it the COIN++ PSNR of amplitudes mapped to [0, 1].
"""
from __future__ import annotations

import math

import numpy as np

from inrz import Metric, mse


class SNR(Metric):
    """Signal-to-noise ratio in dB: signal power over error power, in native units (scale-free)."""

    id = "snr"
    unit = "dB"

    def compute(self, original, decoded, modality) -> float:
        err = mse(original.data, decoded.data)
        power = float(np.mean(np.square(original.data.astype(np.float64))))
        if err == 0:
            return math.inf
        return -math.inf if power == 0 else 10.0 * math.log10(power / err)
