"""Defaults live in one place: the core's sections (`inrz.pipeline.defaults`) under each
modality's own `default_codec()`, used alike by `inrz.compress`, `inrz compress`, specs and
the archive codecs."""
from __future__ import annotations

import pytest

import inrz
from inrz.archive.config import ArchiveConfig
from inrz.backends.coin import PRESETS
from inrz.cli.main import main
from inrz.pipeline.defaults import CORE_SECTIONS, codec_sections
from inrz.runs.spec import CompareSpec, Spec

from .conftest import data_file


def test_images_get_the_paper_preset_and_other_modalities_a_size_relative_network(host):
    image = inrz.codec_for("image", host=host)
    assert image.backend.config.preset == "0.3bpp" and image.backend.config.bpp is None
    audio = inrz.codec_for("audio", host=host)
    assert audio.backend.config.bpp == 1.0  # no image architecture on audio
    one_second = audio.backend.shape([16000], 1, 1)
    assert (one_second.depth, one_second.width) != PRESETS["0.3bpp"]
    assert one_second.num_params() * 16 <= 16000  # 1 bit per sample at 16-bit weights
    assert inrz.codec_for("ndarray", host=host).backend.config.bpp == 0.25


def test_a_named_preset_and_steps_override_the_modality_default(host):
    codec = inrz.codec_for("audio", preset="0.07bpp", steps=7, host=host)
    assert codec.backend.get_config()["preset"] == "0.07bpp" and codec.backend.config.steps == 7
    assert codec.backend.config.bpp is None


def test_specs_and_archive_codecs_share_the_defaults(host):
    spec = Spec(name="x", dataset={"id": "folder", "path": "."})
    assert {k: getattr(spec, k) for k in CORE_SECTIONS} == CORE_SECTIONS
    assert CompareSpec(label="c", backend={"id": "coin"}).quantizer == CORE_SECTIONS["quantizer"]
    archive = ArchiveConfig()
    sections = codec_sections(host.create("modality", "ndarray"))
    assert {k: getattr(archive, k) for k in sections} == sections


def test_api_and_cli_code_audio_with_the_audio_default(host, tmp_path, monkeypatch):
    pytest.importorskip("soundfile")
    audio = host.create("modality", "audio")
    clip = audio.load(data_file("audio", "librispeech_1272-141231-0002.flac"))
    path = tmp_path / "clip.flac"
    audio.save(audio.from_array(clip.data[:800], {"samplerate": clip.meta["samplerate"]}), path)
    assert main(["compress", str(path), "-o", str(tmp_path / "a.inrz"), "--steps", "2"]) == 0
    assert inrz.open(tmp_path / "a.inrz")["backend"]["bpp"] == 1.0
    used = []

    def record(codec, signal, progress=None):  # the API's default fits 50,000 steps: look, don't fit
        used.append(codec.backend.get_config())
        raise KeyboardInterrupt

    monkeypatch.setattr(inrz.Codec, "encode", record)
    with pytest.raises(KeyboardInterrupt):
        inrz.compress(path, host=host)
    assert used[0]["bpp"] == 1.0 and used[0]["steps"] == 50_000


def test_model_defaults_are_written_once():
    """COIN++'s architecture defaults are TrainConfig's; the inner loop's are shared constants."""
    import dataclasses

    from inrz.backends.coinpp import CoinPPConfig
    from inrz.nets.modulated import INNER_LR, INNER_STEPS, ModulatedShape
    from inrz.train.config import TrainConfig

    assert all(f.default is dataclasses.MISSING for f in dataclasses.fields(ModulatedShape))
    for name, value in (("inner_steps", INNER_STEPS), ("inner_lr", INNER_LR)):
        assert CoinPPConfig.model_fields[name].default == TrainConfig.model_fields[name].default == value


def test_one_psnr_for_floats_arrays_and_tensors():
    import math

    import numpy as np
    import torch

    assert inrz.psnr(0.01) == pytest.approx(20.0) and inrz.psnr(65.025, peak=255.0) == pytest.approx(30.0)
    assert inrz.psnr(0.0) == math.inf
    np.testing.assert_allclose(inrz.psnr(np.array([0.1, 0.001])), [10.0, 30.0])
    tensor = inrz.psnr(torch.tensor([0.1, 0.001]))
    assert tensor.dtype == torch.float32 and torch.allclose(tensor, torch.tensor([10.0, 30.0]))
