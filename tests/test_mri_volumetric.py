"""The volumetric and archive-grade MRI baselines (`inrz_mri.volumetric`) on real volumes: lossless
ones give back the stored integers, error-bounded ones keep their max error, lossy ones fit
their budget, floats and missing libraries are refused with the reason."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from inrz import MissingDependencyError, Signal

from .conftest import data_file

ANATOMICAL = ("mri", "nibabel_anatomical.nii")  # (33, 41, 25) int16, big-endian on disk
EPI = ("mri", "nibabel_example4d.nii.gz")  # (128, 96, 24, 2) int16
FLAIR = ("mri", "niivue_FLAIR.nii.gz")  # (124, 160, 140) uint8
LOSSLESS = [{"id": "jpegls_slices"}, {"id": "htj2k_slices", "lossless": True}, {"id": "jpeg2000_lossless_slices"},
            {"id": "nifti_gzip"}]


def load(host, parts, crop=None) -> Signal:
    config = {"id": "mri"} if crop is None else {"id": "mri", "max_shape": crop}
    return host.create("modality", config).load(data_file(*parts))


def baseline(host, config):
    component = host.create("baseline", config)
    if reason := component.available():
        pytest.skip(f"{component.id} unavailable: {reason}")
    return component


@pytest.mark.parametrize("config", LOSSLESS, ids=lambda c: c["id"] + ("_lossless" if c.get("lossless") else ""))
@pytest.mark.parametrize("parts", [ANATOMICAL, EPI])
def test_lossless_codecs_give_back_the_stored_integers(host, config, parts):
    signal = load(host, parts)
    codec = baseline(host, config)
    if config["id"] == "jpegls_slices":
        result = codec.at_size(signal, 1 << 30)  # the largest quality is NEAR = 0
    else:
        result = codec.at_size(signal, 10)  # lossless: one setting whatever the target
    np.testing.assert_array_equal(result.decoded.data, signal.data)
    assert result.decoded.data.dtype == signal.data.dtype
    assert len(result.data) < signal.data.nbytes


@pytest.mark.parametrize("id", ["sperr_volume", "jpegls_slices"])
@pytest.mark.parametrize("bound", [0.4, 1, 2, 7.5])
def test_error_bounded_codecs_keep_the_max_error(host, id, bound):
    signal = load(host, FLAIR, crop=[64, 64, 48])
    result = baseline(host, id).at_error(signal, bound)
    err = np.abs(result.decoded.data.astype(np.int64) - signal.data).max()
    assert err <= bound and (err == 0 or bound >= 1)
    assert result.decoded.data.dtype == np.uint8


def test_sperr_volume_keeps_the_bound_on_a_4d_int16_volume_and_on_floats(host):
    codec = baseline(host, "sperr_volume")
    epi = load(host, EPI)
    result = codec.at_error(epi, 3.0)
    assert np.abs(result.decoded.data.astype(np.int64) - epi.data).max() <= 3
    floats = Signal((epi.data[..., 0] * np.float32(0.37) + np.float32(280.0)).astype(np.float32), {})
    out = codec.at_error(floats, 0.01)
    assert np.abs(out.decoded.data.astype(np.float64) - floats.data).max() <= 0.01


@pytest.mark.parametrize("id", ["sperr_volume", "htj2k_slices", "jpegls_slices"])
def test_lossy_codecs_fit_their_budget_and_improve_with_it(host, id):
    signal = load(host, FLAIR, crop=[64, 64, 48])
    codec = baseline(host, id)
    errors = []
    for target in (16_000, 30_000, 80_000):  # HTJ2K: ~250 header bytes per slice, 12 kB for these 48
        result = codec.at_size(signal, target)
        assert len(result.data) <= target
        errors.append(float(np.sqrt(np.mean((result.decoded.data.astype(np.float64) - signal.data) ** 2))))
    assert errors == sorted(errors, reverse=True) and errors[-1] < errors[0]


@pytest.mark.parametrize("id", ["jpegls_slices", "htj2k_slices", "jpeg2000_lossless_slices"])
def test_slice_codecs_refuse_float_volumes_with_the_reason(host, id):
    floats = Signal(np.zeros((8, 8, 4), np.float32), {})
    with pytest.raises(Exception, match="stored integers.*sperr_volume"):
        baseline(host, id).encode(floats, 1)


@pytest.mark.parametrize("id", ["sperr_volume", "jpegls_slices", "htj2k_slices", "jpeg2000_lossless_slices"])
def test_missing_imagecodecs_is_refused_with_what_to_install(host, monkeypatch, id):
    monkeypatch.setitem(sys.modules, "imagecodecs", None)
    codec = host.create("baseline", id)
    assert "pip install imagecodecs" in codec.available()
    with pytest.raises(MissingDependencyError, match="pip install imagecodecs"):
        codec.encode(Signal(np.zeros((8, 8, 4), np.uint8), {}), 1)
