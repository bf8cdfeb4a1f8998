"""Every registered component passes the same conformance kit third-party plugins use
(`inrz.testing`), one test per component so a failing plugin fails on its own line.

Modalities are checked on a real sample: a file of ../shared/data for the built-ins (skipped
with the path when it is absent), else the modality's own `example_signal()`.
"""
from __future__ import annotations

import pytest

from inrz import PluginHost
from inrz.testing import (check_config_round_trip, check_container_round_trip, check_entropy_model, check_metric,
                          check_modality, check_quantizer, check_smoke_fit, example_component, tiny_codec)

from .conftest import data_file

_HOST = PluginHost()  # built at collection, to parametrize over what is registered
MODALITIES = _HOST.registry.names("modality")
COMPONENTS = [(kind, id) for kind in _HOST.registry.bases for id in _HOST.registry.names(kind)]
#: a lossless sample file per built-in modality, and the crop the fits use (grid slices)
SAMPLES = {"image": (("kodak", "kodim15.png"), (slice(200, 264), slice(300, 396)))}
#: settings beyond the defaults that a component needs to be built (others get placeholders)
SETTINGS = {("dataset", "folder"): {"path": "."}}


@pytest.fixture(scope="module")
def host() -> PluginHost:
    return _HOST


def modality_and_sample(host, id: str):
    """The modality, its sample (a path, or None for example_signal()), and a small signal to fit."""
    cls = host.registry.get("modality", id)
    if reason := cls.available():
        pytest.skip(f"modality {id!r} cannot run here: {reason}")
    modality = host.create("modality", id)
    if id in SAMPLES:
        parts, crop = SAMPLES[id]
        path = data_file(*parts)
        return modality, path, modality.from_array(modality.load(path).data[crop])
    if cls.example_signal() is None:
        pytest.skip(f"modality {id!r} has no sample: add one to SAMPLES or give it an example_signal()")
    return modality, None, cls.example_signal()


@pytest.mark.parametrize("id", MODALITIES)
def test_modality_round_trips(host, id):
    modality, sample, _ = modality_and_sample(host, id)
    check_modality(modality, sample)


@pytest.mark.parametrize("id", MODALITIES)
def test_modality_smoke_fit_reduces_error(host, id):
    modality, _, small = modality_and_sample(host, id)
    check_smoke_fit(modality, small, host)


@pytest.mark.parametrize("id", MODALITIES)
def test_modality_container_round_trip(host, id):
    modality, _, small = modality_and_sample(host, id)
    check_container_round_trip(tiny_codec(modality, host, steps=5), small, host)


@pytest.mark.parametrize("kind,id", COMPONENTS, ids=[f"{k}-{i}" for k, i in COMPONENTS])
def test_config_round_trip(host, kind, id):
    cls = host.registry.get(kind, id)
    check_config_round_trip(example_component(cls, SETTINGS.get((kind, id))), host)


def _standalone(host, kind: str) -> list[str]:
    """Ids of `kind` that work from their defaults (latent coders need a trained base network)."""
    return [id for id in host.registry.names(kind)
            if not any(f.is_required() for f in host.registry.get(kind, id).Config.model_fields.values())]


@pytest.mark.parametrize("id", _standalone(_HOST, "quantizer"))
def test_quantizer(host, id):
    check_quantizer(host.create("quantizer", id))


@pytest.mark.parametrize("bits", [1, 5, 8, 16])
@pytest.mark.parametrize("id", _standalone(_HOST, "entropy"))
def test_entropy_model(host, id, bits):
    check_entropy_model(host.create("entropy", id), bits)


@pytest.mark.parametrize("id", _HOST.registry.names("metric"))
def test_metric_ranks_a_noisy_decode_below_the_original(host, id):
    if not MODALITIES:
        pytest.skip("no modality plugin is loaded (INRZ_PLUGINS?)")
    modality, _, small = modality_and_sample(host, MODALITIES[0])
    check_metric(host.create("metric", id), small, modality)
