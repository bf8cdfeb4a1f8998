"""A backend owns its coding (`Backend.coding`): a codec holds, and a header stores, only the
components the backend codes its payload with. c3 codes its own (`coding = ()`), COIN codes
with the codec's quantizer and entropy model."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inrz import Codec, ContainerError, SpecError, codec_for, decode, get_host
from inrz.container import read as read_container, read_header, write
from inrz.testing import tiny_codec, tiny_signal

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def image():
    host = get_host()
    modality = host.create("modality", "image")
    return modality, tiny_signal(modality, max_points=256)


def test_a_c3_codec_holds_no_quantizer_or_entropy_model_and_its_files_name_none(image):
    modality, signal = image
    codec = codec_for(modality, backend="c3", steps=2, device="cpu")
    assert codec.quantizer is None and codec.entropy is None
    data = codec.encode(signal).data
    header = read_header(data)
    assert "quantizer" not in header and "entropy" not in header
    assert set(header["backend"]) == {"id", "preset", "levels"}  # no fit setting: no reader needs one
    assert decode(data).signal.data.shape == signal.data.shape


def test_a_coin_codec_keeps_both_and_a_file_without_them_is_refused(image):
    modality, signal = image
    codec = tiny_codec(modality, steps=2)
    assert codec.quantizer.id == "fp16" and codec.entropy.id == "zstd"
    data = codec.encode(signal).data
    header, sections = read_container(data)
    assert header["quantizer"] == {"id": "fp16"}
    del header["quantizer"]  # the same file without its quantizer: a damaged file
    with pytest.raises(ContainerError, match="quantizer"):
        decode(write(header, sections))


def test_c3_files_of_earlier_writers_still_decode_with_the_components_they_name():
    data = (GOLDEN / "c3_fast.v1d.inrz").read_bytes()
    assert "quantizer" in read_header(data)  # written when every header stored both
    assert decode(data).signal.data.dtype == np.uint8


def test_a_quantizer_given_to_a_backend_that_codes_its_own_payload_is_an_error(image):
    modality, _ = image
    host = get_host()
    sections = {"backend": {"id": "c3", "steps": 2}, "quantizer": {"id": "uniform", "bits": 8}, "entropy": {"id": "zstd"}}
    with pytest.raises(SpecError, match="quantizer: backend 'c3' codes its own payload"):
        Codec.from_sections(host, modality, sections, "cpu")
    defaults = {**sections, "quantizer": {"id": "fp16"}}  # what every pipeline gets unasked: ignored
    assert Codec.from_sections(host, modality, defaults, "cpu").quantizer is None
