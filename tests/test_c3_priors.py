"""The shipped c3 priors: named by their tags, every one still decodable, the defaults trained
on a recorded corpus disjoint from the evaluation data, with every layer trained."""
from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from inrz import ContainerError
from inrz_c3 import arch, prior, priorfile

from .conftest import data_file

RETIRED = bytes.fromhex("477d7e8d")  # the first medium-3ch prior, trained on test images: decode only
SHIPPED = sorted(priorfile.FOLDER.glob("*.json"))
DEFAULTS = sorted(priorfile.DEFAULT)
TOOLS = Path(__file__).resolve().parents[1] / "tools"


def layout_of(path: Path) -> tuple[str, int]:
    preset, channels = path.stem.split("-")[:2]
    return preset, int(channels.removesuffix("ch"))


def tool():
    spec = importlib.util.spec_from_file_location("train_c3_prior", TOOLS / "train_c3_prior.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_prior_is_stored_under_its_tag(path):
    tag = priorfile.digest(path)
    if tag == RETIRED:
        assert path.name == "medium-3ch.json"  # older than the naming rule; its bytes never change
    else:
        assert path.name == priorfile.file_name(*layout_of(path), tag)


@pytest.mark.parametrize("key", DEFAULTS, ids=[f"{p}-{c}ch" for p, c in DEFAULTS])
def test_a_default_prior_is_not_the_retired_one_and_every_layer_trained(key):
    path = priorfile.path_for(*key)
    assert path.is_file() and priorfile.digest(path) != RETIRED
    assert priorfile.tag(*key) == prior.tag(*key) == priorfile.digest(path)
    weights = json.loads(path.read_text())["weights"]
    untrained = [k for k, v in weights.items() if not np.any(v)]
    assert untrained == []  # the retired prior's res0 was all zeros (a ReLU at 0 passes no gradient)


@pytest.mark.parametrize("key", DEFAULTS, ids=[f"{p}-{c}ch" for p, c in DEFAULTS])
def test_a_default_prior_was_trained_on_a_recorded_corpus_of_no_evaluation_file(key):
    about = json.loads(priorfile.path_for(*key).read_text())["about"]
    corpus = about["corpus"]
    assert corpus and all(e["source"] and e["licence"] and len(e["sha256"]) == 64 for e in corpus)
    assert {path for path, _, _ in about["trained_on"]} <= {e["path"] for e in corpus}
    sums = data_file("SHA256SUMS").read_text().split()
    assert not {e["sha256"] for e in corpus} & set(sums)
    assert not any(Path(e["path"]).stem.startswith("kodim") for e in corpus)


def test_the_committed_corpus_manifest_is_the_default_priors_corpus():
    manifest = json.loads((TOOLS / "c3_prior_corpus" / "PROVENANCE.json").read_text())["files"]
    for key in DEFAULTS:
        about = json.loads(priorfile.path_for(*key).read_text())["about"]
        assert {e["sha256"] for e in about["corpus"]} <= {e["sha256"] for e in manifest}


def test_files_coded_against_any_shipped_prior_find_it_and_an_unknown_tag_is_refused():
    a = arch.architecture("medium", (64, 64), 3)
    find = priorfile.base_finder("medium", a)
    have = priorfile.shipped("medium", 3)
    assert RETIRED in have and priorfile.tag("medium", 3) in have
    retired = find(RETIRED)
    assert not retired["res0.W"].any()  # the retired prior itself, not the default
    default = find(priorfile.tag("medium", 3))
    assert all(np.array_equal(default[k], v) for k, v in priorfile.base("medium", a)[1].items())
    with pytest.raises(ContainerError, match="477d7e8d"):
        find(b"\x00\x01\x02\x03")


def test_the_training_tool_refuses_evaluation_files(tmp_path):
    train = tool()
    image = data_file("images", "retina.jpg")
    shutil.copyfile(image, tmp_path / "photo.jpg")
    digest = train.sha256(tmp_path / "photo.jpg")
    (tmp_path / "PROVENANCE.json").write_text(json.dumps(
        {"files": [{"path": "photo.jpg", "source": "x/y@0:photo.jpg", "licence": "test", "sha256": digest}]}))
    with pytest.raises(SystemExit, match="evaluation file"):
        train.corpus_files(tmp_path)
    (tmp_path / "PROVENANCE.json").write_text(json.dumps(
        {"files": [{"path": "photo.jpg", "source": "x/y@0:photo.jpg", "licence": "test", "sha256": "0" * 64}]}))
    with pytest.raises(SystemExit, match="differs"):
        train.corpus_files(tmp_path)


def test_the_training_tool_spreads_a_smaller_budget_over_the_whole_corpus():
    spread = tool().spread
    assert spread(list(range(86)), 20) == [i * 86 // 20 for i in range(20)]
    assert spread(list(range(5)), 20) == spread(list(range(5)), None) == list(range(5))


def test_the_training_tool_takes_tiles_from_the_middle_of_each_image(tmp_path):
    from PIL import Image

    img = np.random.default_rng(0).integers(0, 256, (300, 600, 3), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "a.png")
    out = tool().tiles(tmp_path, [{"path": "a.png"}], per_image=4)
    assert [(t, l) for _, t, l, _ in out] == [(22, 44), (22, 300)]
    assert np.array_equal(out[1][3].permute(1, 2, 0).numpy(), img[22:278, 300:556] / np.float32(255))


def test_a_prior_is_trained_by_the_encoders_own_loop_with_networks_shared_by_every_target():
    """`prior.train` is `fit.fit_shared`: one target gives `fit` to the bit; with several, the
    networks are one set, each target keeps its own latents, and every network tensor moves."""
    import torch
    from inrz_c3 import fit

    a = arch.Architecture(2, 3, 3, 8, 8, 2, (8,), 1)
    gen = torch.Generator().manual_seed(0)
    targets = [torch.rand(3, 20, 24, generator=gen) for _ in range(2)]
    schedule = fit.Schedule(steps=12)
    alone = fit.fit(targets[0], a, schedule, 0.01, (False, False))
    shared = fit.fit_shared(targets[:1], a, schedule, 0.01, (False, False))[0]
    assert all(torch.equal(alone[k], shared[k]) for k in alone)
    both = fit.fit_shared(targets, a, schedule, 0.01, (False, False))
    assert not torch.equal(both[0]["y"], both[1]["y"])
    assert all(both[0][k] is both[1][k] for k in both[0] if k != "y")
    start = fit.init_params(a, (20, 24), 0, "cpu")
    nets = prior.train(targets, a, schedule, 0.01, log=None)
    assert set(nets) == set(start) - {"y"} and all(not torch.equal(nets[k], start[k]) for k in nets)
    assert all(torch.equal(nets[k], both[0][k]) for k in nets)


def test_priors_serve_two_dimensional_grids_only():
    """The shipped priors were trained on photographs: a greyscale image starts from the 1-channel
    one, while audio (1-D) and volumes (3-D), whose context models have the same shapes, start
    from random networks."""
    assert priorfile.path_for("medium", 1, 2) == priorfile.FOLDER / priorfile.DEFAULT[("medium", 1)]
    assert prior.load("medium", arch.architecture("medium", (64, 64), 1)) is not None
    for shape in ((4096,), (16, 16, 16)):
        a = arch.architecture("medium", shape, 1)
        assert priorfile.path_for("medium", 1, a.ndim) is None
        assert prior.load("medium", a) is None and priorfile.base("medium", a) is None


def test_the_tuning_set_is_neither_evaluation_data_nor_the_priors_corpus():
    tuning = json.loads((TOOLS / "c3_tuning_set" / "PROVENANCE.json").read_text())["files"]
    corpus = json.loads((TOOLS / "c3_prior_corpus" / "PROVENANCE.json").read_text())["files"]
    assert tuning and all(e["source"] and e["licence"] and len(e["sha256"]) == 64 for e in tuning)
    hashes = {e["sha256"] for e in tuning}
    assert not hashes & {e["sha256"] for e in corpus}
    assert not hashes & set(data_file("SHA256SUMS").read_text().split())
