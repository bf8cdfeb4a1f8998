"""Containers written by earlier versions must decode forever (regenerate only on purpose)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inrz import decode

HERE = Path(__file__).parent / "golden"
GOLDEN = sorted(p for p in HERE.glob("*.inrz") if not p.name.startswith("ndarray_bounded"))
BOUNDED = sorted(HERE.glob("ndarray_bounded*.inrz"))


@pytest.mark.parametrize("path", GOLDEN, ids=[p.name for p in GOLDEN])
def test_golden_container_decodes_to_stored_output(path, host):
    expected = np.asarray(Image.open(path.with_name(path.name.replace(".inrz", ".expected.png"))))
    got = decode(path.read_bytes(), host).signal.data
    assert got.shape == expected.shape
    # float evaluation order may differ across machines; the rounded output may move by one level
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1


@pytest.mark.parametrize("path", BOUNDED, ids=[p.name for p in BOUNDED])
def test_golden_error_bounded_container_decodes_within_its_bound(path, host):
    """The residual and exceptions of earlier coders still decode: the stored integers bring the
    network's output to the same values, up to the network's float rounding on this machine."""
    expected = np.load(path.with_name(path.name.replace(".inrz", ".expected.npy")), allow_pickle=False)
    decoded = decode(path.read_bytes(), host)
    got, bound = decoded.signal.data, decoded.header["error_bound"]["max_abs_error"]
    assert got.shape == expected.shape and got.dtype == expected.dtype
    assert np.abs(got.astype(np.float64) - expected.astype(np.float64)).max() <= bound


def test_there_are_golden_files():
    assert len(GOLDEN) >= 2 and len(BOUNDED) >= 2
