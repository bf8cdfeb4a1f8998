"""Errors keep their types: only malformed content is a `ContainerError`; running out of
memory, a plugin's bug or Ctrl-C while decoding surface as themselves, and the CLI maps each
kind to its documented exit code."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from inrz import Codec, ContainerError, PluginHost, container, decode
from inrz_coin.backend import Coin
from inrz.cli.main import EXIT_CODES, exit_code, main


@pytest.fixture(scope="module")
def host() -> PluginHost:
    return PluginHost(only=["coin"])  # the core (the ndarray modality) and its default backend, COIN


@pytest.fixture(scope="module")
def data(host) -> bytes:
    codec = Codec(host.create("modality", "ndarray"), host.create("backend", {"id": "coin", "depth": 1, "width": 4,
                                                                             "steps": 2}),
                  host.create("quantizer", "fp16"), host.create("entropy", "zstd"))
    field = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    return codec.encode(codec.modality.from_array(field)).data


def raising(error: BaseException):
    """A stand-in for `Backend.decode` that fails the way a real one can."""
    def decode(self, tensors, coords, d_out, ctx):
        raise error
    return decode


@pytest.mark.parametrize("error", [MemoryError("cannot allocate 4 GiB"), torch.OutOfMemoryError("CUDA out of memory"),
                                   TypeError("a plugin bug"), KeyError("layer"), RuntimeError("a kernel failed")],
                         ids=["memory", "cuda-oom", "type", "key", "runtime"])
def test_a_failing_decode_keeps_its_error_type(host, data, monkeypatch, error):
    monkeypatch.setattr(Coin, "decode", raising(error))
    with pytest.raises(type(error)) as info:
        decode(data, host)
    assert not isinstance(info.value, ContainerError)


def rewritten(data: bytes, **changes) -> bytes:
    header, sections = container.read(data)
    return container.write({**header, **changes}, sections)


@pytest.mark.parametrize("changes,message", [
    ({"grid": "8x8"}, "header grid must be"),
    ({"grid": [8, 0]}, "header grid must be"),
    ({"grid": [8.0, 8]}, "header grid must be"),
    ({"d_out": True}, "header d_out must be"),
    ({"d_in": -2}, "header d_in must be"),
    ({"norm": []}, "header norm must be an object"),
    ({"error_bound": {"step": 0, "exceptions": 0, "max_abs_error": 0.1}}, "error_bound.step"),
    ({"error_bound": {"step": 0.1, "exceptions": 10**9, "max_abs_error": 0.1}}, "error_bound.exceptions"),
    ({"error_bound": {"step": 0.1, "exceptions": 0, "max_abs_error": 0.1}}, "no 'residual' section"),
    ({"backend": {"id": "coin", "bpp": 1e-6}}, "cannot code its own grid"),
    ({"backend": {"id": ["coin"]}}, "no valid 'backend' config"),
], ids=["grid-text", "grid-zero", "grid-float", "d_out-bool", "d_in-negative", "norm-list", "step-zero",
        "too-many-exceptions", "no-residual", "backend-cannot-code-grid", "id-not-a-string"])
def test_malformed_header_fields_are_container_errors(host, data, changes, message):
    with pytest.raises(ContainerError, match=message):
        decode(rewritten(data, **changes), host)


def test_a_missing_payload_section_is_a_container_error(host, data):
    header, _ = container.read(data)
    with pytest.raises(ContainerError, match="no 'payload' section"):
        decode(container.write(header, {}), host)


def test_cli_exit_codes_are_one_table_and_oom_is_its_own_code(tmp_path, data, monkeypatch, capsys):
    path = tmp_path / "a.inrz"
    path.write_bytes(data)
    monkeypatch.setattr(Coin, "decode", raising(MemoryError("4 GiB")))
    assert main(["decompress", str(path), "-o", str(tmp_path / "b.npy")]) == 7
    assert "inrz: error: out of memory: 4 GiB" in capsys.readouterr().err
    monkeypatch.setattr(Coin, "decode", raising(TypeError("plugin bug")))
    assert main(["decompress", str(path), "-o", str(tmp_path / "b.npy")]) == 70
    err = capsys.readouterr().err
    assert "Traceback" in err and "inrz: internal error: TypeError: plugin bug" in err
    assert exit_code(ContainerError("x")) == 3 and exit_code(KeyboardInterrupt()) == 130
    assert len({code for _, code, _ in EXIT_CODES}) >= 7
