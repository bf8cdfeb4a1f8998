"""Fuzzing the decoder under hypothesis: containers of every registered backend x modality
(`inrz.testing.fuzz.seed_containers`), mutated structurally with a correct CRC (header fields
set to any JSON value, keys deleted, raw JSON no writer emits, sections edited or swapped,
crafted bombs), and archive chunk frames of every kind (`inrz.testing.fuzz_frames`), with
range-coded words appended and dropped. Every input either decodes or raises an `InrzError`;
nothing else, and no stream with words dropped decodes.
`benchmarks/fuzz.py --n 100000` runs the same mutations at scale."""
from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inrz import PluginHost, container
from inrz.archive import frames
from inrz.testing import fuzz, fuzz_frames

JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(max_size=12) | st.sampled_from(fuzz.HOSTILE[:30]),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                    max_leaves=8)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def fuzz_host(tmp_path_factory) -> PluginHost:
    return PluginHost()


@pytest.fixture(scope="module")
def seeds(fuzz_host, tmp_path_factory) -> dict[str, bytes]:
    mp = pytest.MonkeyPatch()
    mp.setenv("INRZ_MODELS_DIR", str(tmp_path_factory.mktemp("models")))  # COIN++'s tiny base networks go here
    yield fuzz.seed_containers(fuzz_host)
    mp.undo()


def test_the_seeds_cover_every_backend_and_modality_that_can_make_one(seeds, fuzz_host):
    registry = fuzz_host.registry
    for backend in registry.names("backend"):
        assert any(f"-{backend}" in name for name in seeds), f"no seed for backend {backend}"
    coded = {name.split("-")[0] for name in seeds}
    with_examples = {m for m in registry.names("modality") if registry.get("modality", m).example_signal() is not None}
    assert with_examples <= coded
    assert any(name.endswith("-bounded") for name in seeds) and len(seeds) >= 20


def test_every_seed_decodes(seeds, fuzz_host):
    bad = {name: out for name, data in seeds.items() if (out := fuzz.outcome(data, fuzz_host)) != "ok"}
    assert not bad


@FAST
@given(st.data())
def test_mutated_containers_decode_or_raise_typed_errors(seeds, fuzz_host, data):
    name = data.draw(st.sampled_from(sorted(seeds)))
    mutator = data.draw(st.sampled_from(sorted(fuzz.MUTATORS)))
    _, mutated = fuzz.mutate(seeds[name], seeds, random.Random(data.draw(st.integers(0, 2**32))), mutator)
    assert not fuzz.outcome(mutated, fuzz_host).startswith("untyped"), (name, mutator)


@FAST
@given(st.data())
def test_any_json_value_in_any_header_field_is_decoded_or_refused(seeds, fuzz_host, data):
    name = data.draw(st.sampled_from(sorted(seeds)))
    header, sections = container.read(seeds[name])
    path = data.draw(st.sampled_from(fuzz._paths(header)[1:]))
    value = data.draw(JSON)
    mutated = container.write(fuzz._set(header, path, value), sections)
    result = fuzz.outcome(mutated, fuzz_host)
    assert not result.startswith("untyped"), (name, path, value, result)


@pytest.mark.parametrize("token", fuzz.RAW_TOKENS)
def test_json_no_writer_emits_is_refused(seeds, fuzz_host, token):
    name = sorted(seeds)[0]
    header, sections = container.read(seeds[name])
    text = container.format._canonical_json({**header, "grid": [7, 7]}).decode().replace("[7,7]", f"[{token},7]")
    assert fuzz.outcome(fuzz.raw_container(text, sections), fuzz_host) in ("ContainerError", "DecodeLimitError")


# --- archive chunk frames (`inrz.testing.fuzz_frames`) ------------------------------------------

@pytest.fixture(scope="module")
def frame_seeds() -> dict[str, bytes]:
    return fuzz_frames.seed_frames()


def test_the_frame_seeds_cover_every_kind_and_decode(frame_seeds):
    kinds = {fuzz_frames.parse(data).kind for data in frame_seeds.values()}
    assert kinds == {frames.CONSTANT, frames.RAW, frames.ZSTD, frames.RESIDUAL}
    assert any("1x1" in name and "constant" in name for name in frame_seeds)
    for name, data in frame_seeds.items():
        assert fuzz.outcome(data, reader="numcodecs") == "ok", name
        assert fuzz.outcome(data, reader="numcodecs", chunk=fuzz_frames.chunk_of(data)) == "ok", name


@FAST
@given(st.data())
def test_mutated_frames_decode_or_raise_typed_errors_and_words_dropped_never_decode(frame_seeds, data):
    name = data.draw(st.sampled_from(sorted(frame_seeds)))
    mutator = data.draw(st.sampled_from(sorted(fuzz_frames.MUTATORS)))
    vouched = data.draw(st.booleans())  # as zarr or an out= buffer reads it: the chunk's size and dtype known
    seed = frame_seeds[name]
    used, mutated = fuzz.mutate(seed, frame_seeds, random.Random(data.draw(st.integers(0, 2**32))), mutator)
    result = fuzz.outcome(mutated, reader="numcodecs", chunk=fuzz_frames.chunk_of(seed) if vouched else None)
    assert not result.startswith("untyped"), (name, used, result)
    if used in ("f_drop", "f_append") or (used == "f_dtype" and vouched):
        assert result != "ok", (name, used)
