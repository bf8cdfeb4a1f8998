"""Bjøntegaard delta (VCEG-M33, 2001): the average gap between two rate-distortion curves.

Each curve is fitted with a polynomial (cubic with four or more points, as in the original;
of degree n - 1 with n = 2 or 3 points, which reports fewer points rather than none) and the
fits are integrated over the range both curves cover:

- BD-rate: log10(rate) as a function of quality, integrated over the shared quality range;
  `(10 ** mean_difference - 1) * 100` is the percent rate the test codec needs more (negative:
  it saves bits) for the same quality;
- BD-quality (BD-PSNR for dB metrics): quality as a function of log10(rate), integrated over
  the shared rate range: how much better (dB) the test codec is at the same rate.

Quality must grow with rate; for a metric that falls with rate (an RMSE), pass it negated.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..core.errors import InrzError


@dataclass(frozen=True)
class Delta:
    """BD figures of a test curve against an anchor curve."""

    rate_percent: float | None  # None: the curves share no quality range
    quality: float | None  # None: they share no rate range
    points: int  # the fewest points either curve had (4+ is the standard)


def _curve(rates: Sequence[float], quality: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Finite points sorted by rate, with distinct rates; at least two of them."""
    pts = sorted({(float(r), float(q)) for r, q in zip(rates, quality)
                  if math.isfinite(r) and math.isfinite(q) and r > 0})
    if len({r for r, _ in pts}) < 2 or len({q for _, q in pts}) < 2:
        raise InrzError(f"a Bjøntegaard delta needs at least two points of different rate and quality per curve, "
                        f"got {len(pts)}")
    arr = np.array(pts)
    return np.log10(arr[:, 0]), arr[:, 1]


def _mean_gap(x1: np.ndarray, y1: np.ndarray, x2: np.ndarray, y2: np.ndarray) -> float | None:
    """Mean of fit2 - fit1 (y as a polynomial of x) over the x range both cover."""
    lo, hi = max(x1.min(), x2.min()), min(x1.max(), x2.max())
    if not hi > lo:
        return None
    areas = []
    for x, y in ((x1, y1), (x2, y2)):
        poly = np.polynomial.Polynomial.fit(x, y, min(3, len(x) - 1))  # a scaled domain: well conditioned
        integral = poly.integ()
        areas.append(integral(hi) - integral(lo))
    return float((areas[1] - areas[0]) / (hi - lo))


def delta(anchor_rates: Sequence[float], anchor_quality: Sequence[float], test_rates: Sequence[float],
          test_quality: Sequence[float]) -> Delta:
    """BD-rate (percent) and BD-quality of the test curve against the anchor curve."""
    lr1, q1 = _curve(anchor_rates, anchor_quality)
    lr2, q2 = _curve(test_rates, test_quality)
    by_quality1, by_quality2 = np.argsort(q1, kind="stable"), np.argsort(q2, kind="stable")
    log_gap = _mean_gap(q1[by_quality1], lr1[by_quality1], q2[by_quality2], lr2[by_quality2])
    quality_gap = _mean_gap(lr1, q1, lr2, q2)
    rate = None if log_gap is None else (10.0 ** log_gap - 1.0) * 100.0
    return Delta(rate, quality_gap, min(len(lr1), len(lr2)))
