"""Presets are named by what they do on any datum (issue 13, friction 3): a rate preset or
`--target-bpp` lands within 5% below its rate, counting the whole file, on images of any size;
COIN's fixed architectures are named by their shape."""
from __future__ import annotations

from pathlib import Path

import pytest

import inrz
from inrz.cli.main import main

from .conftest import data_file

FAST = {"steps": 20, "points_per_step": 4096}  # rates depend on the network, barely on the fit's length


def bpp(data: bytes, shape) -> float:
    return 8 * len(data) / (shape[0] * shape[1])


@pytest.fixture(scope="module")
def crops(host, tmp_path_factory):
    """Two real images of other sizes than Kodak's, as PNG files."""
    image = host.create("modality", "image")
    folder = tmp_path_factory.mktemp("crops")
    out = {}
    for name, window in (("coffee", (slice(0, 300), slice(0, 427))), ("astronaut", (slice(0, 256), slice(0, 352)))):
        source = data_file("images", f"{name}.png")
        path = folder / f"{name}.png"
        image.save(image.from_array(image.load(source).data[window]), path)
        out[name] = path
    return out


@pytest.mark.parametrize("name", ["coffee", "astronaut"])
def test_a_rate_preset_lands_on_its_rate(host, crops, name):
    """The `0.3bpp` preset gave 0.40 bpp on a 640x427 image, 0.126 on a 1000x872 one."""
    data = inrz.compress(crops[name], preset="0.3bpp", host=host, **FAST)
    shape = inrz.decompress(data).shape
    assert 0.285 <= bpp(data, shape) <= 0.3


def test_a_rate_no_network_can_meet_is_refused(host, tmp_path):
    """The `0.3bpp` preset gave 107 bpp on a 32x32 crop: 0.3 bpp there is 38 bytes, less than a header."""
    image = host.create("modality", "image")
    path = tmp_path / "small.png"
    image.save(image.from_array(image.load(data_file("kodak", "kodim15.png")).data[:32, :32]), path)
    with pytest.raises(inrz.InrzError, match="no configuration fits 0.3 bits per pixel"):
        inrz.compress(path, preset="0.3bpp", host=host, **FAST)


def test_fixed_architectures_are_named_by_shape(host, crops):
    codec = inrz.codec_for("image", preset="5x30", host=host)
    assert (codec.backend.shape([300, 427], 2, 3).depth, codec.backend.shape([300, 427], 2, 3).width) == (5, 30)
    assert codec.backend.architecture([300, 427], 2, 3)["network"] == "SIREN 5x30"


def target_bpp_lands(path: Path, tmp_path: Path, steps: int) -> float:
    out = tmp_path / f"{path.stem}.inrz"
    assert main(["compress", str(path), "-o", str(out), "--target-bpp", "0.2", "--steps", str(steps)]) == 0
    header = inrz.open(out)
    return 8 * out.stat().st_size / (header["grid"][0] * header["grid"][1])


def test_target_bpp_lands_within_five_percent_below(crops, tmp_path):
    """`--target-bpp 0.2` gave 0.141 (30% of the budget unused)."""
    assert 0.19 <= target_bpp_lands(crops["coffee"], tmp_path, 20) <= 0.2


SHARED_IMAGES = ["images/astronaut.png", "images/chelsea.png", "images/coffee.png", "images/camera.png",
                 "images/retina.jpg", "kodak/kodim15.png", "kodak/kodim04.png"]


@pytest.mark.slow
@pytest.mark.parametrize("name", SHARED_IMAGES)
def test_target_bpp_lands_on_every_shared_image(tmp_path, name):
    """The acceptance check: COIN at --target-bpp 0.2 on the shared images, whole files, 200 steps."""
    assert 0.19 <= target_bpp_lands(data_file(*name.split("/")), tmp_path, 200) <= 0.2


@pytest.mark.parametrize("points", [300 * 451, 400 * 600, 512 * 768, 1411 * 1411])
@pytest.mark.parametrize("bpp", [0.1, 0.2, 0.3, 0.6])
def test_coins_fine_ladder_is_a_few_percent_apart(host, points, bpp):
    """What lets a target land within 5%: no gap between neighbouring networks above 5%."""
    coin, fp16 = host.create("backend", "coin"), host.create("quantizer", "fp16")
    rungs = coin.fine_ladder([points], 2, 3, fp16, bpp * points * 1.35)
    sizes = [r.backend.architecture([points], 2, 3)["parameters"] for r in rungs]
    assert sizes == sorted(sizes) and len(sizes) >= 5
    assert max(b / a for a, b in zip(sizes, sizes[1:]) if b > 0.6 * sizes[-1]) < 1.04  # where targets land
    assert sizes[-1] * 16 <= bpp * points * 1.35
