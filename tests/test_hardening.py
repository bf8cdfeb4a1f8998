"""Issue 12's reproducers, each a regression test: no code runs from files, no decompression
bombs or hangs, typed errors for bad headers, no silent garbage, bad encoder inputs refused
(or round-tripped exactly) before the fit."""
from __future__ import annotations

import ast
import os
import pickle
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import zstandard

from inrz import (CheckpointError, Codec, ContainerError, DatasetError, DecodeLimitError, DecodeLimits, InrzError,
                  PluginHost, compress, container, decode, decompress)
from inrz.archive.config import decode_array
from inrz.testing import fuzz

from .conftest import data_file

ROOT = Path(__file__).resolve().parents[1]


class Planted:
    """A pickle that runs code when loaded: it creates the file `marker`."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture(scope="module")
def host() -> PluginHost:
    return PluginHost()


@pytest.fixture(scope="module")
def small(host) -> bytes:
    """A 12x16 ndarray container of 200-odd bytes (COIN 2x8, fp16, zstd)."""
    codec = Codec(host.create("modality", "ndarray"), host.create("backend", {"id": "coin", "depth": 2, "width": 8,
                                                                             "steps": 3}),
                  host.create("quantizer", "fp16"), host.create("entropy", "zstd"))
    return codec.encode(codec.modality.example_signal()).data


@pytest.fixture(scope="module")
def bounded(host) -> bytes:
    codec = Codec(host.create("modality", "ndarray"), host.create("backend", {"id": "coin", "depth": 2, "width": 8,
                                                                             "steps": 3}),
                  host.create("quantizer", "fp16"), host.create("entropy", "zstd"), max_abs_error=0.01)
    return codec.encode(codec.modality.example_signal()).data


def rewritten(data: bytes, sections: dict | None = None, **changes) -> bytes:
    header, old = container.read(data)
    return container.write({**header, **changes}, old if sections is None else sections)


def refused(data: bytes, host, error=ContainerError, seconds: float = 2.0) -> str:
    start = time.perf_counter()
    with pytest.raises(error) as info:
        decode(data, host)
    assert time.perf_counter() - start < seconds
    return str(info.value)


# --- 1. no code execution from files --------------------------------------------------------

def test_a_planted_pickle_checkpoint_is_refused_and_never_runs(tmp_path):
    from inrz_coinpp.checkpoint import load

    marker = tmp_path / "ran"
    with open(tmp_path / "checkpoint.pt", "wb") as f:
        pickle.dump({"model": Planted(marker)}, f)
    model = torch.nn.Linear(2, 2)
    with pytest.raises(CheckpointError, match="never read"):
        load(tmp_path, model, torch.optim.Adam(model.parameters()), np.random.default_rng(0))
    (tmp_path / "checkpoint.pt").rename(tmp_path / "checkpoint.safetensors")  # a pickle under the new name
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load(tmp_path, model, torch.optim.Adam(model.parameters()), np.random.default_rng(0))
    assert not marker.exists()


def test_a_planted_cifar_folder_is_refused_and_never_runs(tmp_path):
    from inrz_image.cifar import Cifar10

    marker, batches = tmp_path / "ran", tmp_path / "cifar-10-batches-py"
    batches.mkdir()
    with open(batches / "test_batch", "wb") as f:
        pickle.dump({b"data": Planted(marker), b"labels": [0]}, f, protocol=2)
    with pytest.raises(DatasetError, match="never does"):
        Cifar10({"path": str(tmp_path), "cache_dir": str(tmp_path / "cache")}).items()
    assert not marker.exists()


def test_no_pickle_or_unsafe_torch_load_on_any_path_from_a_file():
    """The core and the plugins never unpickle: no pickle import, no torch.load at all."""
    found = []
    for path in sorted((ROOT / "inrz").rglob("*.py")) + sorted((ROOT / "plugins").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n.split(".")[0] in ("pickle", "cPickle", "dill", "joblib") for n in names):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports pickle")
            if isinstance(node, ast.Attribute) and node.attr == "load" and getattr(node.value, "id", "") == "torch":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} torch.load")
            if isinstance(node, ast.keyword) and node.arg in ("weights_only", "allow_pickle") and getattr(
                    node.value, "value", None) is not (node.arg == "weights_only"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.arg}={ast.unparse(node.value)}")
    assert not found


# --- 2. decompression bombs and hangs --------------------------------------------------------

def test_a_numcodecs_container_with_an_astronomical_grid_fails_at_once(small):
    with pytest.raises(ContainerError, match="header grid"):
        decode_array(rewritten(small, grid=[33 * 10**300, 49]))


@pytest.mark.parametrize("grid", [[4000, 4000], [20000, 20000]])
def test_a_huge_grid_in_a_small_file_is_refused(small, host, grid):
    message = refused(rewritten(small, grid=grid, meta={**container.read(small)[0]["meta"], "shape": grid}), host,
                      DecodeLimitError)
    assert "decoded values" in message and "--trusted" in message


def test_the_error_bound_residual_is_capped_by_the_grid(bounded, host):
    """A bigger grid with a residual frame of zeros to match: refused before any zstd frame is opened."""
    header, sections = container.read(bounded)
    grid = [3000, 3000]
    frame = zstandard.ZstdCompressor().compress(bytes(9_000_000))  # 9e6 residual bytes in a few hundred
    residual = bytes([1]) + (9_000_000).to_bytes(8, "little") + frame
    data = container.write({**header, "grid": grid, "meta": {**header["meta"], "shape": grid}},
                           {**sections, "residual": residual})
    refused(data, host, DecodeLimitError)


def test_a_huge_network_over_a_zero_payload_is_refused(small, host):
    header, sections = container.read(small)
    backend = {**header["backend"], "depth": 64, "width": 4096}
    zeros = zstandard.ZstdCompressor().compress(bytes(2 * (63 * 4096 * 4097 + 2 * 4096 + 4096 + 1)))
    message = refused(container.write({**header, "backend": backend}, {**sections, "payload": zeros}), host,
                      DecodeLimitError)
    assert "stored numbers" in message


def test_trusted_limits_decode_what_default_limits_refuse(small, host):
    header = container.read(small)[0]
    big = rewritten(small, grid=[1100, 1000], meta={**header["meta"], "shape": [1100, 1000]})
    with pytest.raises(DecodeLimitError):
        decode(big, host)
    assert decode(big, host, limits=DecodeLimits.trusted()).signal.data.shape == (1100, 1000)


# --- 3. typed errors from decode -------------------------------------------------------------

@pytest.mark.parametrize("changes", [{"norm": "peak"}, {"norm": {"lo": "0", "span": 1.0}}, {"meta": {"dtype": 16}},
                                     {"backend": {"id": "coin", "bpp": 1e38}}, {"backend": {"id": "coin", "w0": 1e308}},
                                     {"d_in": 3}],
                         ids=["norm-string", "norm-field-string", "dtype-int", "bpp-1e38", "w0-huge",
                              "d_in-not-the-modality's"])
def test_malformed_header_values_are_container_errors(small, host, changes):
    refused(rewritten(small, **changes), host)


@pytest.mark.parametrize("modality,field,value", [("image", "norm", "x"), ("image", "norm", {"peak": "255"}),
                                                  ("image", "meta", {"shape": [16, 16, 3], "dtype": "float64"}),
                                                  ("audio", "dtype", 16), ("audio", "samplerate", "16000"),
                                                  ("audio", "norm", {"scale": 1e308})],
                         ids=["image-norm-string", "image-peak-string", "image-float-dtype", "audio-dtype-int",
                              "audio-rate-string", "audio-scale-overflows"])
def test_modality_header_values_are_checked(host, modality, field, value):
    from inrz.testing import tiny_codec

    mod = host.create("modality", modality)
    data = tiny_codec(mod, host, steps=2, width=4).encode(type(mod).example_signal()).data
    header = container.read(data)[0]
    change = {field: value} if field in ("norm", "meta") else {"meta": {**header["meta"], field: value}}
    refused(rewritten(data, **change), host)


def test_a_float_grid_is_a_container_error(small):
    with pytest.raises(ContainerError, match="header grid"):
        decode_array(rewritten(small, grid=[3.3e301, 49]))


def test_1e999_in_a_header_is_a_container_error(small, host):
    header, sections = container.read(small)
    text = container.format._canonical_json(header).decode().replace('"span":', '"span":1e999,"x":')
    refused(fuzz.raw_container(text, sections), host)


def test_a_coinpp_grid_that_disagrees_with_its_payload_is_a_container_error(host, tmp_path, monkeypatch):
    monkeypatch.setenv("INRZ_MODELS_DIR", str(tmp_path))
    modality = host.create("modality", "ndarray")
    sections = host.registry.get("backend", "coinpp").example_codec(modality, modality.example_signal())
    codec = Codec.from_sections(host, modality, sections, torch.device("cpu"))
    data = codec.encode(modality.example_signal()).data
    header = container.read(data)[0]
    assert len(data) < 400
    for grid in ([12, 32], [24, 16], [4, 4], [20000, 20000]):  # the last: 23.8 GiB asked of a 180-byte file
        refused(rewritten(data, grid=grid, meta={**header["meta"], "shape": grid}), host)


# --- 4. no silent garbage -----------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["<U4", "V8", "datetime64[s]", "object", "complex128", "<c16", "<f16", "|O"])
def test_only_the_numeric_dtypes_the_modality_writes_decode(small, host, dtype):
    refused(rewritten(small, meta={**container.read(small)[0]["meta"], "dtype": dtype}), host)


def test_a_normalisation_that_overflows_is_refused(small, host):
    refused(rewritten(small, norm={"lo": 1e308, "span": 1e308}), host)


def test_deleting_the_error_bound_entry_is_refused(bounded, host):
    header, sections = container.read(bounded)
    header.pop("error_bound")
    assert "guarantee was removed" in refused(container.write(header, sections), host)


def test_payload_edits_that_make_weights_infinite_are_refused(host):
    codec = Codec(host.create("modality", "ndarray"), host.create("backend", {"id": "coin", "depth": 1, "width": 2,
                                                                             "steps": 1}),
                  host.create("quantizer", "fp16"), host.create("entropy", "raw"))
    data = codec.encode(codec.modality.example_signal()).data
    header, sections = container.read(data)
    payload = bytearray(sections["payload"])
    payload[0:2] = bytes([0x7C, 0x00])  # fp16 +inf, big-endian packing
    assert "NaN or infinite" in refused(container.write(header, {"payload": bytes(payload)}), host)


# --- 5. encoding ------------------------------------------------------------------------------

def test_a_decompression_bomb_image_is_a_typed_error(tmp_path):
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    path = tmp_path / "bomb.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))
    with pytest.raises(InrzError, match="bomb.png.*MAX_IMAGE_PIXELS"):
        compress(path)


def test_a_zero_byte_npy_is_a_typed_error_naming_the_file(tmp_path):
    (tmp_path / "empty.npy").write_bytes(b"")
    with pytest.raises(InrzError, match="empty.npy"):
        compress(tmp_path / "empty.npy")


@pytest.mark.parametrize("values,dtype", [([2**63 - 1, -2**63, 0, 1], "int64"), ([2**64 - 1, 0, 2**63, 1], "uint64"),
                                          ([2**31 - 1, -2**31, 0, 1], "int32"), ([True, False, True, True], "bool")])
def test_integer_extremes_round_trip_exactly_with_an_error_bound(host, values, dtype):
    from inrz.testing import tiny_codec

    array = np.array([values, values[::-1]], dtype=dtype)
    data = compress(array, tiny_codec(host.create("modality", "ndarray"), host, steps=2), max_abs_error=0.5)
    assert np.array_equal(decompress(data), array)


def test_integer_extremes_never_wrap_without_a_bound():
    from inrz.signal.ndarray import cast

    big = np.array([2.0**63, 2.0**64, 1e30, -1e30])
    assert cast(big, np.dtype("int64")).tolist() == [2**63 - 1] * 3 + [-2**63]
    assert cast(big, np.dtype("uint64")).tolist() == [2**63, 2**64 - 1, 2**64 - 1, 0]


@pytest.mark.parametrize("array", [np.array([[1.7e308, -1.7e308]]), np.array([[np.inf, 0.0]]), np.zeros((2, 2), complex)],
                         ids=["range-overflows", "inf", "complex"])
def test_arrays_that_cannot_be_coded_are_refused_before_the_fit(host, monkeypatch, array):
    from inrz_coin.backend import Coin

    def no_fit(*args, **kwargs):
        raise AssertionError("the fit ran")

    monkeypatch.setattr(Coin, "encode", no_fit)
    with pytest.raises(InrzError):
        compress(array, modality="ndarray", host=host)


def test_metadata_the_header_cannot_hold_is_refused_before_the_fit(host, monkeypatch):
    from inrz_coin.backend import Coin

    monkeypatch.setattr(Coin, "encode", lambda *a, **k: pytest.fail("the fit ran"))
    with pytest.raises(InrzError, match="cannot be stored"):
        compress(np.ones((64, 64), np.float32), modality="ndarray", meta={"when": float("nan")}, host=host)


def test_mutated_real_files_fail_with_typed_errors(tmp_path):
    """Truncations and byte edits of real files of every modality: decoded, or an InrzError."""
    import random

    from inrz import modality_for_path

    rng = random.Random(0)
    for parts in [("images", "camera.png"), ("audio", "ami_ES2011a_headset0_40s-46s.wav"),
                  ("mri", "nibabel_anatomical.nii"), ("images", "retina.jpg")]:
        original = data_file(*parts).read_bytes()[:120_000]
        for i in range(12):
            data = bytearray(original[:rng.randrange(len(original))] if i % 2 else original)
            for _ in range(4):
                data[rng.randrange(min(len(data), 2048))] = rng.randrange(256)
            path = tmp_path / f"{i}-{parts[1]}"
            path.write_bytes(bytes(data))
            try:
                modality_for_path(path).load(path)
            except InrzError:
                pass
            os.unlink(path)


@pytest.mark.parametrize("modality", ["mri", "ndarray", "image", "audio"])
def test_a_huge_integer_in_a_norm_field_is_decoded_or_refused(host, modality):
    """benchmarks/fuzz.py input 63601 (issue 25's run): norm.hi = 10**301, a JSON integer that is a
    finite float, reached numpy as a Python int and raised TypeError in the MRI plugin."""
    from inrz.testing.samples import tiny_signal

    mod = host.create("modality", modality)
    seeds = fuzz._seeds_for(host, mod, tiny_signal(mod, max_points=256), host.registry.get("backend", "none"))
    header, sections = container.read(seeds[f"{modality}-none"])
    for key in header["norm"]:
        bad = container.write({**header, "norm": {**header["norm"], key: 10**301}}, sections)
        assert not fuzz.outcome(bad, host).startswith("untyped"), key
