"""Round trips of whole containers on real images: bytes, determinism, rate, quality."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import inrz
from inrz import Codec, ContainerError, decode
from inrz.core.device import resolve_device
from inrz.signal.metrics import PSNR

from .conftest import data_file


def tiny_codec(host, steps=30, **backend):
    backend = {"id": "coin", "depth": 3, "width": 16, "steps": steps, **backend}
    return Codec(host.create("modality", "image"), host.create("backend", backend), host.create("quantizer", "fp16"),
                 host.create("entropy", "zstd"), resolve_device("cpu"), seed=0)


@pytest.fixture(scope="module")
def crop(host):
    """A real 64x96 crop of kodim15."""
    modality = host.create("modality", "image")
    full = modality.load(data_file("kodak", "kodim15.png"))
    return modality.from_array(full.data[200:264, 300:396])


def test_round_trip_shape_dtype_and_rate(host, crop):
    enc = tiny_codec(host).encode(crop)
    dec = decode(enc.data, host)
    assert dec.signal.data.shape == crop.data.shape and dec.signal.data.dtype == np.uint8
    assert dec.header["grid"] == [64, 96]
    assert enc.payload_bytes < len(enc.data)


def test_same_input_same_bytes(host, crop):
    assert tiny_codec(host, steps=5).encode(crop).data == tiny_codec(host, steps=5).encode(crop).data


def test_batched_fit_matches_single_fits(host, crop):
    other = host.create("modality", "image").from_array(crop.data[::-1].copy())
    codec = tiny_codec(host, steps=10)
    batched = codec.encode_batch([crop, other])
    single = [codec.encode(crop), codec.encode(other)]
    for b, s in zip(batched, single):
        got, want = decode(b.data, host).signal.data, decode(s.data, host).signal.data
        assert np.abs(got.astype(int) - want.astype(int)).max() <= 1


def test_quality_rises_with_steps_on_real_image(host, crop):
    psnr = PSNR()
    modality = host.create("modality", "image")
    short = psnr.compute(crop, decode(tiny_codec(host, steps=10).encode(crop).data, host).signal, modality)
    longer = psnr.compute(crop, decode(tiny_codec(host, steps=300).encode(crop).data, host).signal, modality)
    assert longer > short + 3
    assert longer > 18.0  # a 64x96 crop, 3x16 SIREN, 300 steps: measured 20.4 dB


def test_render_at_scale_and_region(host, crop):
    data = tiny_codec(host, steps=5).encode(crop).data
    assert decode(data, host, scale=2.0).signal.data.shape == (128, 192, 3)
    region = decode(data, host, region=[(10, 30), (0, 96)]).signal.data
    full = decode(data, host).signal.data
    assert region.shape == (20, 96, 3)
    assert np.abs(region.astype(int) - full[10:30].astype(int)).max() <= 1


def test_uniform_quantizer_and_raw_entropy(host, crop):
    codec = Codec(host.create("modality", "image"), host.create("backend", {"id": "coin", "depth": 3, "width": 16,
                                                                              "steps": 5}),
                  host.create("quantizer", {"id": "uniform", "bits": 8}), host.create("entropy", "raw"))
    enc = codec.encode(crop)
    params = sum(np.prod(s) for s in codec.backend.layout((64, 96), 2, 3).values())
    assert enc.payload_bytes == params + 8 * len(codec.backend.layout((64, 96), 2, 3))  # 1 B/symbol + side
    assert decode(enc.data, host).signal.data.shape == crop.data.shape


def test_python_api_round_trip(host, crop, tmp_path):
    path = tmp_path / "crop.png"
    Image.fromarray(crop.data).save(path)
    codec = tiny_codec(host, steps=5)
    data = inrz.compress(path, codec)
    assert inrz.decompress(data).shape == crop.data.shape
    (tmp_path / "a.inrz").write_bytes(data)
    assert inrz.open(tmp_path / "a.inrz")["backend"]["id"] == "coin"


def test_decode_with_missing_plugin_names_it(crop):
    from inrz import PluginHost

    host = PluginHost(only=[])  # no entry-point plugins: no image modality
    data = tiny_codec(PluginHost(), steps=2).encode(crop).data
    with pytest.raises(ContainerError, match="image"):
        decode(data, host)
