"""Rate control picks a configuration that meets the target on the datum itself."""
from __future__ import annotations

import pytest

from inrz import Codec, InrzError, decode
from inrz.pipeline.ratecontrol import encode_to_target
from inrz.signal.metrics import PSNR

from .conftest import data_file


@pytest.fixture(scope="module")
def crop(host):
    modality = host.create("modality", "image")
    return modality.from_array(modality.load(data_file("kodak", "kodim15.png")).data[200:248, 300:348])


def codec(host, steps=60):
    return Codec(host.create("modality", "image"), host.create("backend", {"id": "coin", "steps": steps, "lr": 1e-3}),
                 host.create("quantizer", {"id": "uniform", "bits": 8}), host.create("entropy", "zstd"))


@pytest.mark.parametrize("target", [4.0, 8.0])
def test_target_bpp_is_met_and_used(host, crop, target):
    enc, variant = encode_to_target(codec(host), crop, bpp=target, host=host)
    bpp = 8 * len(enc.data) / (48 * 48)
    assert bpp <= target
    assert bpp > 0.5 * target  # it does not waste the budget either


def test_target_psnr_is_met(host, crop):
    enc, variant = encode_to_target(codec(host, steps=200), crop, psnr=18.0, host=host)
    assert PSNR().compute(crop, decode(enc.data, host).signal, variant.modality) >= 18.0
    assert variant.backend.config.bpp < 8.0  # stopped before the largest network


def test_impossible_rate_is_a_clear_error(host, crop):
    with pytest.raises(InrzError, match="bits per pixel"):
        encode_to_target(codec(host), crop, bpp=0.01, host=host)
