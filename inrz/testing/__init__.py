"""The conformance kit: checks a plugin author runs on their own components.

    from inrz.testing import check_modality, check_smoke_fit, tiny_codec, check_container_round_trip

    def test_my_modality(inrz_host):
        modality = inrz_host.create("modality", "my_modality")
        signal = check_modality(modality, "tests/data/sample.ext")   # or None: example_signal()
        check_smoke_fit(modality, signal, inrz_host)
        check_container_round_trip(tiny_codec(modality, inrz_host), tiny_signal(modality, signal))

Every check raises `AssertionError` whose message says what is wrong and what to change.
`inrz.testing.fuzz` mutates containers of every registered backend x modality (yours too)
and classifies what decoding them does (docs/plugins.md, section 5).
Fixtures (`inrz_host`, `inrz_device`, `inrz_seed`, `tiny_signal`, `temporary_plugin`) come
from the pytest plugin `inrz.testing.plugin`: `pytest -p inrz.testing.plugin`, or
`addopts = "-p inrz.testing.plugin"` in your pytest configuration. docs/plugins.md has more.
"""
from __future__ import annotations

from .codec_checks import check_container_round_trip, check_golden, check_spec
from .component_checks import (check_config_round_trip, check_entropy_model, check_metric, check_quantizer,
                               default_tensors, example_component)
from .modality_checks import (check_coordinates, check_feature_round_trip, check_file_round_trip, check_modality,
                              check_smoke_fit)
from .samples import as_signal, crop_signal, tiny_codec, tiny_signal

__all__ = [
    "as_signal", "check_config_round_trip", "check_container_round_trip", "check_coordinates",
    "check_entropy_model", "check_feature_round_trip", "check_file_round_trip", "check_golden", "check_metric",
    "check_modality", "check_quantizer", "check_smoke_fit", "check_spec", "crop_signal", "default_tensors",
    "example_component", "tiny_codec", "tiny_signal",
]
