"""MS-SSIM (Wang, Simoncelli and Bovik 2003), the second figure image-compression papers report.

The standard setting, as CompressAI reports it through `pytorch_msssim`: an 11-tap Gaussian
window (sigma 1.5) applied without padding, K1 = 0.01, K2 = 0.03, five scales with the paper's
weights, 2x2 average pooling between scales (an odd side padded with zeros on both ends), contrast-structure terms of
the first four scales and the full SSIM of the last, negative terms clipped to 0, computed per
channel and averaged. Values are in [0, 1] (1: identical). Five scales need every side above
(11 - 1) * 2**4 = 160 pixels, where CompressAI's figure is defined and ours equals it; smaller
images (CIFAR's 32 x 32) use the scales that fit, with the weights of those scales renormalised
to sum to 1, and a window no larger than the image: comparable among small images only.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
WINDOW, SIGMA, K1, K2 = 11, 1.5, 0.01, 0.03


def _gaussian(size: int = WINDOW, sigma: float = SIGMA) -> torch.Tensor:
    coords = torch.arange(size, dtype=torch.float32) - size // 2
    g = torch.exp(-(coords ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def _blur(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Separable 'valid' Gaussian filter of (C, 1, H, W) planes."""
    x = F.conv2d(x, g.view(1, 1, 1, -1))
    return F.conv2d(x, g.view(1, 1, -1, 1))


def _ssim_terms(x: torch.Tensor, y: torch.Tensor, peak: float, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean SSIM and mean contrast-structure term per channel, (C,) each."""
    c1, c2 = (K1 * peak) ** 2, (K2 * peak) ** 2
    mu_x, mu_y = _blur(x, g), _blur(y, g)
    var_x = _blur(x * x, g) - mu_x ** 2
    var_y = _blur(y * y, g) - mu_y ** 2
    cov = _blur(x * y, g) - mu_x * mu_y
    cs = (2 * cov + c2) / (var_x + var_y + c2)
    luminance = (2 * mu_x * mu_y + c1) / (mu_x ** 2 + mu_y ** 2 + c1)
    return (luminance * cs).flatten(1).mean(1), cs.flatten(1).mean(1)


def scales_for(side: int) -> tuple[int, int]:
    """(scales, window) for the smaller image side: five scales of an 11-tap window above 160
    pixels, else the scales whose last one still holds the window, and a smaller odd window on
    images under 11 pixels."""
    window = min(WINDOW, side if side % 2 else side - 1)
    scales = len(WEIGHTS)
    while scales > 1 and side <= (window - 1) * 2 ** (scales - 1):
        scales -= 1
    return scales, max(window, 1)


def planes(a: np.ndarray) -> np.ndarray:
    """`(H, W, C)` as given; other arrays as 2-D planes: a volume's slices are its channels, a
    series is one column (the figure is an image figure; other data only get a defined value)."""
    a = np.asarray(a)
    if a.ndim == 3:
        return a
    return a.reshape(a.shape[0], 1, -1) if a.ndim <= 2 else a.reshape(a.shape[0], a.shape[1], -1)


def ms_ssim(a: np.ndarray, b: np.ndarray, peak: float) -> float:
    """MS-SSIM of two `(H, W, C)` images with values in [0, peak] (see the module docstring)."""
    a, b = planes(a), planes(b)
    scales, window = scales_for(min(a.shape[:2]))
    x = torch.from_numpy(np.ascontiguousarray(a, np.float32)).permute(2, 0, 1)[:, None]  # (C, 1, H, W)
    y = torch.from_numpy(np.ascontiguousarray(b, np.float32)).permute(2, 0, 1)[:, None]
    g = _gaussian(window, SIGMA)
    terms = []
    for scale in range(scales):
        ssim, cs = _ssim_terms(x, y, peak, g)
        if scale == scales - 1:
            terms.append(torch.relu(ssim))
            break
        terms.append(torch.relu(cs))
        pad = [x.shape[-2] % 2, x.shape[-1] % 2]  # as pytorch_msssim pools: zeros on both sides of an odd side
        x, y = F.avg_pool2d(x, 2, padding=pad), F.avg_pool2d(y, 2, padding=pad)
    weights = torch.tensor(WEIGHTS[:scales], dtype=torch.float32)
    weights = (weights / weights.sum())[:, None] if scales < len(WEIGHTS) else weights[:, None]
    return float(torch.prod(torch.stack(terms) ** weights, dim=0).mean())
