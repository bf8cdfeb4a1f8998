"""The decoder's compiled finish (`errorbound._add`, `errorbound._damaged`) against the numpy
expressions it replaces: the same values bit for bit, the same verdict on damaged values."""
import numpy as np
import pytest

from inrz.coding import errorbound
from inrz.signal.ndarray import cast


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int16])
def test_add_equals_the_numpy_cast(dtype):
    rng = np.random.default_rng(0)
    approx = (rng.normal(size=(7, 9)) * 100).astype(dtype)
    rec = rng.normal(size=(9, 7)).T * 1e3  # a transposed view, as a predictor's reconstruction can be
    rec[0, 0], rec[1, 1] = 1e300, np.nan  # overflow and NaN round as numpy's cast rounds them
    with np.errstate(over="ignore", invalid="ignore"):
        expected = cast(approx.astype(np.float64) + rec, approx.dtype).ravel()
        got = errorbound._add(approx, rec)
    assert got.dtype == expected.dtype and got.flags.c_contiguous
    assert np.array_equal(got.view(f"u{got.itemsize}"), expected.view(f"u{expected.itemsize}"))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_damaged_equals_the_numpy_check(dtype):
    approx = np.array([1.0, np.inf, 2.0, np.nan], dtype)
    for fixed in ([1.0, np.nan, 2.0, np.inf], [1.0, 2.0, np.inf, 3.0], [np.nan, 1.0, 2.0, 3.0]):
        fixed = np.array(fixed, dtype)
        assert errorbound._damaged(fixed, approx) == (not np.isfinite(fixed[np.isfinite(approx)]).all())
