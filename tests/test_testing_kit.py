"""The conformance kit catches what it promises to, with a message that says what to do.

A minimal correct modality (8-bit arrays in .npy files) passes every check; each broken
variant overrides one method and must fail with the right complaint and a `fix:` line.
"""
from __future__ import annotations

import os
import types
from pathlib import Path

import numpy as np
import pytest

import inrz
from inrz import Modality, PluginError, Quantizer, Signal
from inrz.coding.quantize import Float16
from inrz.testing import (check_config_round_trip, check_container_round_trip, check_coordinates, check_entropy_model,
                          check_feature_round_trip, check_file_round_trip, check_golden, check_modality,
                          check_quantizer, check_smoke_fit, tiny_codec)

GOLDEN = Path(__file__).parent / "golden" / "coin_uniform8_raw.v1.inrz"


class Npy(Modality):
    """8-bit `(H, W, C)` arrays in .npy files: the smallest modality that passes the kit."""

    id = "test_npy"
    extensions = (".npy",)

    @classmethod
    def example_signal(cls) -> Signal:
        y, x = np.mgrid[0:24, 0:32]
        data = np.stack([y * 10, x * 8, (x + y) * 4], axis=-1).astype(np.uint8)  # smooth ramps
        return cls().from_array(data)

    def load(self, path):
        return self.from_array(np.load(path))

    def save(self, signal, path):
        with open(path, "wb") as f:  # np.save(path) would append .npy to a suffix-less path
            np.save(f, signal.data)

    def from_array(self, array, meta=None):
        return Signal(np.asarray(array), {"shape": list(np.shape(array))})

    def to_features(self, signal):
        return signal.data.astype(np.float32) / 255, {}

    def from_features(self, features, meta, norm):
        return Signal(np.rint(np.clip(features, 0, 1) * 255).astype(np.uint8), {"shape": list(features.shape)})


def plugin(name: str, **hooks) -> types.ModuleType:
    module = types.ModuleType(name)
    for hook, function in hooks.items():
        setattr(module, hook, inrz.hookimpl(function))
    return module


def fails(check, *args, match: str, **kwargs):
    with pytest.raises(AssertionError, match=match) as info:
        check(*args, **kwargs)
    assert "\n  fix: " in str(info.value)
    return str(info.value)


def test_a_correct_modality_passes_everything(inrz_host):
    modality = Npy()
    signal = check_modality(modality)
    check_smoke_fit(modality, signal, inrz_host)
    check_config_round_trip(modality)


def test_file_round_trip_catches_lossy_save():
    class Lossy(Npy):
        def save(self, signal, path):
            super().save(Signal(signal.data // 4 * 4, signal.meta), path)

    fails(check_file_round_trip, Lossy(), Npy.example_signal(), match=r"load\(save\(signal\)\) differs")


def test_feature_round_trip_catches_an_off_by_one_inverse():
    class OffByOne(Npy):
        def from_features(self, features, meta, norm):
            out = super().from_features(features, meta, norm)
            return Signal(out.data + np.uint8(1), out.meta)

    fails(check_feature_round_trip, OffByOne(), Npy.example_signal(), match=r"from_features\(to_features")


def test_features_outside_unit_interval_are_rejected():
    class Unscaled(Npy):
        def to_features(self, signal):
            return signal.data.astype(np.float32), {}

    fails(check_feature_round_trip, Unscaled(), Npy.example_signal(), match=r"outside \[0, 1\].*\n  fix: normalise")


def test_float64_features_and_coordinates_are_rejected():
    class Doubles(Npy):
        def to_features(self, signal):
            return signal.data / 255.0, {}

        def coordinates(self, grid_shape, region=None, meta=None):
            return super().coordinates(grid_shape, region, meta).astype(np.float64)

    fails(check_feature_round_trip, Doubles(), Npy.example_signal(), match="float64")
    fails(check_coordinates, Doubles(), Npy.example_signal(), match="coordinates are float64")


def test_non_json_norm_is_rejected():
    class NumpyNorm(Npy):
        def to_features(self, signal):
            return super().to_features(signal)[0], {"peak": np.float32(255)}

    fails(check_feature_round_trip, NumpyNorm(), Npy.example_signal(), match="not JSON-serialisable.*\n  fix: .*item")


def test_smoke_fit_rejects_a_constant_sample(inrz_host):
    flat = Npy().from_array(np.full((16, 16, 1), 7, np.uint8))
    fails(check_smoke_fit, Npy(), flat, inrz_host, match="nearly\\) constant")


def test_config_round_trip_catches_a_lossy_from_config():
    class Forgetful(Float16):
        @classmethod
        def from_config(cls, config):
            return Quantizer()

    fails(check_config_round_trip, Forgetful(), match="from_config\\(get_config\\(\\)\\) gave")


def test_quantizer_symbols_must_fit_their_width():
    class Wide(Float16):
        @property
        def bits(self):
            return 8

    fails(check_quantizer, Wide(), match=r"leave \[0, 2\*\*8\)")


def test_entropy_model_must_fail_with_container_error():
    from inrz.coding.entropy import Raw

    class Crashy(Raw):
        def decode(self, data, layout, bits):
            if len(data) != (sum(int(np.prod(s)) for s in layout.values()) * bits + 7) // 8:
                raise IndexError("oops")
            return super().decode(data, layout, bits)

    fails(check_entropy_model, Crashy(), 8, match="raised IndexError.*\n  fix: raise inrz.ContainerError")


def test_container_round_trip_catches_nondeterminism(inrz_host, temporary_plugin):
    class Salted(Float16):
        id = "test_salted"

        def quantize(self, tensors):
            return super().quantize(tensors)[0], os.urandom(4)

    host = temporary_plugin(plugin("test_salt", register_quantizers=lambda register: register(Salted)), "test_salt")
    codec = tiny_codec(Npy(), host, steps=2, quantizer="test_salted")
    fails(check_container_round_trip, codec, Npy.example_signal(), host, match="twice gives different bytes")


def test_container_round_trip_passes_for_a_registered_modality(temporary_plugin):
    host = temporary_plugin(plugin("test_npy_plugin", register_modalities=lambda register: register(Npy)),
                            "test_npy_plugin")
    encoded = check_container_round_trip(tiny_codec(Npy(), host, steps=3), Npy.example_signal(), host)
    assert encoded.payload_bytes < len(encoded.data)


def test_temporary_plugin_rejects_a_duplicate_and_leaves_nothing(temporary_plugin, inrz_host):
    class Again(Float16):
        pass

    with pytest.raises(PluginError, match="'fp16' is already registered by plugin 'inrz'; choose another id"):
        temporary_plugin(plugin("test_dup", register_quantizers=lambda register: register(Again)), "test_dup")
    assert "test_dup" not in inrz_host.info and inrz_host.registry.get("quantizer", "fp16") is Float16


def test_golden_check_reports_a_changed_decoder(inrz_host):
    from inrz import decode

    expected = decode(GOLDEN.read_bytes(), inrz_host).signal.data
    check_golden(GOLDEN, expected, inrz_host)
    shifted = expected.astype(np.int16) + 3
    fails(check_golden, GOLDEN, shifted.astype(np.uint8), inrz_host, atol=1, match="off by up to 3.*\n  fix: files users")
    fails(check_golden, GOLDEN, expected[:, :-1], inrz_host, match="decodes to uint8")
