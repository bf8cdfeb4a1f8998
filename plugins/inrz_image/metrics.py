"""The image plugin's metrics, registered at startup without torch: MS-SSIM's computation
(`msssim.py`, torch) is imported when a figure is first computed, so a process that only decodes
an image never loads torch.
"""
from __future__ import annotations

from inrz import Metric


class MSSSIM(Metric):
    """MS-SSIM in [0, 1] with the image's peak (255 for 8-bit), CompressAI's `ms-ssim`."""

    id = "ms-ssim"
    unit = ""

    def compute(self, original, decoded, modality) -> float:
        from .msssim import ms_ssim  # torch, lazily (module docstring)

        return ms_ssim(original.data, decoded.data, float(modality.peak(original.meta)))
