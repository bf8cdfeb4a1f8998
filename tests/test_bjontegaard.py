"""The Bjøntegaard delta against an independent implementation (the `bjontegaard` package's
cubic method, the VCEG-M33 formula) and against cases whose answer is known exactly."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inrz import InrzError
from inrz.runs.bjontegaard import delta

#: four-point HEVC-style curves (rate in kbit/s, PSNR in dB), as such curves are usually reported
ANCHOR = ([9487.76, 4593.60, 2486.44, 1358.24], [40.037, 38.615, 36.845, 34.851])
TEST = ([9787.80, 4469.00, 2451.52, 1356.24], [40.0467, 38.6073, 36.8370, 34.8440])


def test_agrees_with_the_bjontegaard_package():
    bjontegaard = pytest.importorskip("bjontegaard")
    got = delta(*ANCHOR, *TEST)
    assert got.rate_percent == pytest.approx(bjontegaard.bd_rate(*ANCHOR, *TEST, method="cubic"), abs=1e-6)
    assert got.quality == pytest.approx(bjontegaard.bd_psnr(*ANCHOR, *TEST, method="cubic"), abs=1e-9)
    assert got.points == 4


def test_a_curve_shifted_in_rate_gives_that_rate_difference():
    """The test codec needs exactly 20% fewer bits at every quality: BD-rate -20%."""
    rates, quality = [0.1, 0.2, 0.4, 0.8], [25.0, 28.0, 31.5, 35.0]
    got = delta(rates, quality, [0.8 * r for r in rates], quality)
    assert got.rate_percent == pytest.approx(-20.0, abs=1e-9)
    assert got.quality > 0  # better at the same rate


def test_a_curve_shifted_in_quality_gives_that_quality_difference():
    rates, quality = [0.1, 0.2, 0.4, 0.8], [25.0, 28.0, 31.5, 35.0]
    got = delta(rates, quality, rates, [q + 1.5 for q in quality])
    assert got.quality == pytest.approx(1.5, abs=1e-9) and got.rate_percent < 0


def test_two_points_per_curve_use_a_line():
    """Two points: linear in log-rate, so a parallel line 1 dB higher is 1 dB better."""
    got = delta([0.1, 0.4], [25.0, 30.0], [0.1, 0.4], [26.0, 31.0])
    assert got.quality == pytest.approx(1.0) and got.points == 2
    slope = 5.0 / math.log10(4.0)  # dB per decade
    assert got.rate_percent == pytest.approx((10 ** (-1.0 / slope) - 1) * 100)


def test_curves_without_overlap_have_no_delta():
    got = delta([0.1, 0.2], [20.0, 22.0], [1.0, 2.0], [30.0, 32.0])
    assert got.rate_percent is None and got.quality is None


def test_one_point_is_an_error():
    with pytest.raises(InrzError, match="at least two points"):
        delta([0.3], [30.0], [0.2, 0.4], [29.0, 33.0])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.02, 4.0), min_size=4, max_size=6, unique=True),
       st.floats(0.5, 2.0), st.floats(-3.0, 3.0))
def test_identical_curves_have_no_delta_and_swapping_inverts(rates, factor, shift):
    rates = sorted(rates)
    quality = [30.0 + 4.0 * math.log2(r) for r in rates]  # a typical logarithmic RD curve
    same = delta(rates, quality, rates, quality)
    assert abs(same.rate_percent) < 1e-7 and abs(same.quality) < 1e-9
    other = ([r * factor for r in rates], [q + shift for q in quality])
    forward, backward = delta(rates, quality, *other), delta(*other, rates, quality)
    if forward.quality is not None:
        assert forward.quality == pytest.approx(-backward.quality, abs=1e-6)
    if forward.rate_percent is not None:
        assert (1 + forward.rate_percent / 100) * (1 + backward.rate_percent / 100) == pytest.approx(1.0, rel=1e-6)
    assert np.isfinite([v for v in (forward.rate_percent, forward.quality) if v is not None]).all()
