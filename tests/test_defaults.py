"""Defaults live in one place: the core's sections (`inrz.pipeline.defaults`) under each
modality's own `default_codec()`, over each backend's Config defaults, used alike by
`inrz.compress`, `inrz compress`, specs and the archive codecs; every backend setting is a
keyword of the API and a `--set` of the CLI, with or without a spec."""
from __future__ import annotations

import pytest

import inrz
from inrz.archive.config import ArchiveConfig
from inrz_coin.backend import ARCHITECTURES, CoinConfig
from inrz_coin.backend import Coin as CoinBackend
from inrz.cli.main import main
from inrz.pipeline.defaults import CORE_SECTIONS, codec_sections
from inrz.runs.spec import CompareSpec, Spec

from .conftest import data_file


@pytest.fixture(scope="module")
def tiny_png(tmp_path_factory, host):
    """A 96 x 128 crop of a Kodak image, as a user's small PNG."""
    image = host.create("modality", "image")
    path = tmp_path_factory.mktemp("tiny") / "tiny.png"
    image.save(image.from_array(image.load(data_file("kodak", "kodim15.png")).data[200:296, 300:428]), path)
    return path


def test_images_get_a_rate_sized_network_and_other_modalities_too(host):
    image = inrz.codec_for("image", host=host)
    assert image.backend.config.bpp == 0.3 and image.backend.config.preset is None
    kodak = image.backend.shape([512, 768], 2, 3)
    assert (kodak.depth, kodak.width) in {(10, 27), ARCHITECTURES["10x28"]}  # the paper's network on its images
    audio = inrz.codec_for("audio", host=host)
    assert audio.backend.config.bpp == 1.0
    one_second = audio.backend.shape([16000], 1, 1)
    assert one_second.num_params() * 16 <= 16000  # 1 bit per sample at 16-bit weights
    assert inrz.codec_for("ndarray", host=host).backend.config.bpp == 0.25


def test_a_fixed_preset_and_settings_override_the_modality_default(host):
    codec = inrz.codec_for("audio", preset="5x20", steps=7, lr=1e-2, host=host)
    assert codec.backend.get_config()["preset"] == "5x20" and codec.backend.config.steps == 7
    assert codec.backend.config.lr == 1e-2 and codec.backend.config.bpp is None


def test_a_rate_preset_is_not_a_fixed_configuration(host):
    with pytest.raises(inrz.SpecError, match="is a rate"):
        inrz.codec_for("image", preset="0.3bpp", host=host)


def test_a_misspelled_setting_is_refused_with_the_settings_there_are(host):
    with pytest.raises(inrz.SpecError, match=r"no setting 'stesp'.*steps"):
        inrz.codec_for("image", stesp=3, host=host)


def test_specs_and_archive_codecs_share_the_defaults(host):
    spec = Spec(name="x", dataset={"id": "folder", "path": "."})
    assert CORE_SECTIONS["backend"] == {}  # the core names no backend: a spec that names none gets the default's
    assert spec.backend == {"id": host.default_backend()} == {"id": "coin"}
    assert (spec.quantizer, spec.entropy) == (CORE_SECTIONS["quantizer"], CORE_SECTIONS["entropy"])
    assert CompareSpec(label="c", backend={"id": "coin"}).quantizer == CORE_SECTIONS["quantizer"]
    archive = ArchiveConfig()
    sections = codec_sections(host.create("modality", "ndarray"))
    assert {k: getattr(archive, k) for k in sections} == sections


def test_the_default_backend_is_the_plugin_that_says_so():
    """The core names no backend: COIN's plugin declares itself the default. Without it, a
    pipeline that names no backend is an error that says how to name one; two defaults are a
    plugin conflict, not a silent pick."""
    assert inrz.PluginHost(only=["c3"]).info.keys() >= {"c3"}
    with pytest.raises(inrz.SpecError, match=r"no installed backend is the default.*backend: \{id: \.\.\.\}"):
        inrz.codec_for("ndarray", host=inrz.PluginHost(only=["c3"]))
    assert inrz.codec_for("ndarray", host=inrz.PluginHost(only=["coin"])).backend.id == "coin"
    assert inrz.codec_for("ndarray", backend="c3", host=inrz.PluginHost(only=["c3"])).backend.id == "c3"

    class Other(CoinBackend):
        id = "other-default"

    class Plugin:
        @inrz.hookimpl
        def register_backends(register):
            register(Other)

    with pytest.raises(inrz.PluginError, match="'coin', 'other-default' each declare themselves the default"):
        inrz.PluginHost(only=["coin"], extra=[Plugin]).default_backend()


def capture_encodes(monkeypatch) -> list[dict]:
    """Record the backend config of every fit, and fit nothing."""
    used = []

    def record(codec, signal, progress=None, specials=None):  # Codec.encode's signature
        used.append(codec.backend.get_config())
        raise KeyboardInterrupt

    monkeypatch.setattr(inrz.Codec, "encode", record)
    return used


def test_api_and_cli_share_one_set_of_defaults(host, tiny_png, tmp_path, monkeypatch):
    """Issue 13, friction 1: the API fitted the paper's 50,000 steps, the CLI 1,000."""
    used = capture_encodes(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        inrz.compress(tiny_png, host=host)
    assert main(["compress", str(tiny_png), "-o", str(tmp_path / "x.inrz")]) == 130  # the capture interrupts
    assert used[0] == used[1] and used[0]["steps"] == CoinConfig().steps < 50_000


def test_compress_takes_steps_and_reports_progress(host, tiny_png):
    """Issue 13, friction 1: `inrz.compress(..., steps=100)` was a TypeError and fits were silent."""
    calls = []
    data = inrz.compress(tiny_png, steps=3, lr=1e-3, progress=lambda step, total, figures: calls.append((step, total)),
                         host=host)
    assert inrz.decompress(data).shape == (96, 128, 3)
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert inrz.decode(data, host).header["backend"]["steps"] == 3


def test_set_without_a_spec_applies_to_the_default_codec(host, tiny_png, tmp_path, capsys):
    """Issue 13, friction 2: `--set backend.steps=3` was ignored without --spec (1,000 steps ran)."""
    out = tmp_path / "tiny.inrz"
    assert main(["compress", str(tiny_png), "-o", str(out), "--set", "backend.steps=3", "--set",
                 "quantizer.id=uniform", "--set", "quantizer.bits=10"]) == 0
    header = inrz.open(out)
    assert header["backend"]["steps"] == 3 and header["quantizer"] == {"id": "uniform", "bits": 10}
    assert main(["info", str(out)]) == 0
    assert "steps 3" in capsys.readouterr().out


@pytest.mark.parametrize("override, message", [("backend.stesp=3", "backend.stesp"),
                                               ("backned.steps=3", "without --spec, --set takes"),
                                               ("backend.preset=0.3bpp", "old name of the fixed 10x28"),
                                               ("seed=x", "seed")])
def test_a_misspelled_override_is_refused(tiny_png, tmp_path, capsys, override, message):
    assert main(["compress", str(tiny_png), "-o", str(tmp_path / "x.inrz"), "--set", override]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.inrz").exists()


def test_model_defaults_are_written_once():
    """COIN++'s architecture defaults are TrainConfig's; the inner loop's are shared constants."""
    import dataclasses

    from inrz_coinpp.backend import CoinPPConfig
    from inrz_coinpp.model import INNER_LR, INNER_STEPS, ModulatedShape
    from inrz_coinpp.config import TrainConfig

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
