"""`psnr_norm`: PSNR of intensities as the codec normalises them, the figure MRI papers report.

MRI volumes have no fixed peak (scanner units), so COIN++ and the FastMRI literature report
PSNR on volumes scaled to [0, 1]. This metric scales original and decoded alike with the
original's normalisation range `(lo, hi)` from `modality.to_features` (for MRI: minimum and
99.99th percentile), clipping both to it, then takes PSNR with peak 1. A modality whose
normalisation has no `lo`/`hi` is scaled by the original's data range instead, so the metric
is defined for every modality.
"""
from __future__ import annotations

import numpy as np

from inrz import Metric, mse, psnr

from .volume import normalize


class NormalizedPSNR(Metric):
    """PSNR in dB on [0, 1] intensities normalised by the original's `(lo, hi)`."""

    id = "psnr_norm"
    unit = "dB"

    def compute(self, original, decoded, modality) -> float:
        _, norm = modality.to_features(original)
        if "lo" in norm and "hi" in norm:
            lo, hi = norm["lo"], norm["hi"]
        else:
            lo, hi = np.min(original.data).item(), np.max(original.data).item()
        return psnr(mse(normalize(original.data, lo, hi), normalize(decoded.data, lo, hi)))
