"""The `.inrz` container: round trips, determinism, and that every malformed input is a ContainerError."""
from __future__ import annotations

import json
import os
import re
import struct
import zlib

from pathlib import Path

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inrz import ContainerError, InrzError
from inrz.cli.main import exit_code
from inrz.container import format as container
from inrz.container.format import FORMAT_VERSION, MAGIC, overhead, read, read_file, read_header, write, write_file
from inrz.core import fsutil

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=16,
)
headers = st.dictionaries(st.text(max_size=10), json_values, max_size=6)
section_names = st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=16)
sections_st = st.dictionaries(section_names, st.binary(max_size=64), max_size=5)

HEADER = {
    "inrz": "0.1.0",
    "modality": {"id": "image"},
    "backend": {"id": "siren", "width": 32, "depth": 3, "omega0": 30.0},
    "quantizer": {"id": "uniform", "bits": 8},
    "entropy": {"id": "zstd", "level": 19},
    "meta": {"shape": [64, 64, 3], "dtype": "uint8", "mode": "RGB"},
    "norm": {"scale": 0.00392156862745098, "offset": 0.0},
}
SECTIONS = {"payload": bytes(range(256)) * 2, "side": b"\x00\x01\x02"}
# A v1 file as written by inrz: it must keep decoding for as long as format v1 is supported.
GOLDEN_HEX = (
    "494e525a01001700000028b52ffd200e7100007b2261223a5b312c6e756c6c5d7d"
    "0201700000000004736964650300000061626307493a1f"
)
GOLDEN = ({"a": [1, None]}, {"p": b"", "side": b"abc"})


def seal(body: bytes) -> bytes:
    """Append a valid CRC, so the test reaches the parser instead of the checksum."""
    return body + struct.pack("<I", zlib.crc32(body))


def raw_container(header_blob: bytes, table: bytes, version: int = FORMAT_VERSION, flags: int = 0) -> bytes:
    """Build a container byte by byte from docs/format.md, bypassing `write`'s validation."""
    return seal(MAGIC + bytes([version, flags]) + struct.pack("<I", len(header_blob)) + header_blob + table)


def zstd(raw: bytes, **kwargs) -> bytes:
    return zstandard.ZstdCompressor(**kwargs).compress(raw)


def assert_rejected(data: bytes) -> None:
    """Anything but a clean parse must be a ContainerError, never another exception."""
    try:
        read(data)
    except ContainerError:
        pass
    try:
        read_header(data)
    except ContainerError:
        pass


@SETTINGS
@given(headers, sections_st)
def test_round_trip(header, sections):
    data = write(header, sections)
    got_header, got_sections = read(data)
    assert got_header == header
    assert got_sections == sections
    assert list(got_sections) == list(sections)  # order is kept
    assert read_header(data) == header


@SETTINGS
@given(headers, sections_st)
def test_deterministic(header, sections):
    reordered = dict(reversed(list(header.items())))
    assert write(header, sections) == write(header, sections) == write(reordered, sections)


def test_layout_matches_docs():
    data = write(HEADER, SECTIONS)
    magic, version, flags, hlen = struct.unpack_from("<4sBBI", data)
    assert (magic, version, flags) == (b"INRZ", 1, container.FLAG_HEADER_DICT)
    blob = data[10 : 10 + hlen]
    canonical = json.dumps(HEADER, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    dictionary = zstandard.ZstdCompressionDict((Path(container.__file__).parent / "header_dict_v1.json").read_bytes(),
                                               dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    assert zstandard.ZstdDecompressor(dict_data=dictionary).decompress(blob) == canonical
    pos = 10 + hlen
    assert data[pos] == len(SECTIONS)
    pos += 1
    for name, payload in SECTIONS.items():
        assert data[pos] == len(name) and data[pos + 1 : pos + 1 + len(name)] == name.encode()
        pos += 1 + len(name)
        (plen,) = struct.unpack_from("<I", data, pos)
        assert data[pos + 4 : pos + 4 + plen] == payload
        pos += 4 + plen
    assert struct.unpack_from("<I", data, pos)[0] == zlib.crc32(data[:pos]) and pos + 4 == len(data)


def test_golden_v1_still_decodes():
    assert read(bytes.fromhex(GOLDEN_HEX)) == GOLDEN


def test_overhead():
    o = overhead(HEADER, SECTIONS)
    assert o["payload_bytes"] == sum(map(len, SECTIONS.values()))
    assert o["total_bytes"] == len(write(HEADER, SECTIONS)) == o["header_bytes"] + o["payload_bytes"]


@SETTINGS
@given(headers, sections_st, st.data())
def test_any_single_byte_flip_is_rejected(header, sections, data):
    blob = bytearray(write(header, sections))
    pos = data.draw(st.integers(0, len(blob) - 1))
    blob[pos] ^= data.draw(st.integers(1, 255))
    with pytest.raises(ContainerError):
        read(bytes(blob))
    with pytest.raises(ContainerError):
        read_header(bytes(blob))


def test_every_truncation_is_rejected():
    data = write(HEADER, SECTIONS)
    for n in range(len(data)):
        with pytest.raises(ContainerError):
            read(data[:n])
        with pytest.raises(ContainerError):
            read_header(data[:n])


@SETTINGS
@given(headers, sections_st, st.binary(min_size=1, max_size=16))
def test_appended_garbage_is_rejected(header, sections, garbage):
    with pytest.raises(ContainerError):
        read(write(header, sections) + garbage)


@SETTINGS
@given(st.binary(max_size=256))
def test_random_bytes_are_rejected(data):
    for candidate in (data, MAGIC + data, MAGIC + b"\x01\x00" + data):
        with pytest.raises(ContainerError):
            read(candidate)


@SETTINGS
@given(st.binary(max_size=256))
def test_random_body_with_valid_crc_never_crashes(body):
    assert_rejected(seal(MAGIC + b"\x01\x00" + body))
    assert_rejected(raw_container(zstd(b"{}"), body))


ok_blob = zstd(b"{}")


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "not an .inrz file"),
        (b"PK\x03\x04" + bytes(20), "not an .inrz file"),
        (raw_container(ok_blob, b"\x00", version=2), "written by a newer inrz (format v2); upgrade"),
        (raw_container(ok_blob, b"\x00", version=0), "invalid format version"),
        (raw_container(ok_blob, b"\x00", flags=2), "unknown flags"),
        (MAGIC + b"\x01\x00\x00", "truncated"),
        (write(HEADER, SECTIONS)[:-1] + b"\x00", "checksum mismatch"),
        (raw_container(zstd(b"[1]"), b"\x00"), "expected an object"),
        (raw_container(zstd(b"{"), b"\x00"), "bad header JSON"),
        (raw_container(zstd(b'{"a":NaN}'), b"\x00"), "bad header JSON"),
        (raw_container(zstd(b'{"a":1,"a":2}'), b"\x00"), "duplicate key"),
        (raw_container(zstd('{"é":1}'.encode()), b"\x00"), "bad header JSON"),
        (raw_container(b"", b"\x00"), "bad header"),
        (raw_container(b"not zstd at all", b"\x00"), "bad header"),
        (raw_container(ok_blob + b"x", b"\x00"), "trailing data"),
        (raw_container(ok_blob[:-1], b"\x00"), "bad header"),
        (raw_container(zstd(b"{}", write_content_size=False), b"\x00"), "declared size"),
        (raw_container(zstd(bytes(container.MAX_HEADER_JSON + 1), level=1), b"\x00"), "declared size"),
        (raw_container(ok_blob, b""), "truncated"),
        (raw_container(ok_blob, b"\x01\x01a\x05\x00\x00\x00ab"), "truncated"),
        (raw_container(ok_blob, b"\x02\x01a\x00\x00\x00\x00\x01a\x00\x00\x00\x00"), "invalid or repeated"),
        (raw_container(ok_blob, b"\x01\x00\x00\x00\x00\x00"), "invalid or repeated"),
        (raw_container(ok_blob, b"\x01\x01\xff\x00\x00\x00\x00"), "invalid or repeated"),
        (raw_container(ok_blob, b"\x01\x01\n\x00\x00\x00\x00"), "invalid or repeated"),
        (raw_container(ok_blob, b"\x00junk"), "stray bytes"),
        (bytearray(write(HEADER, {})), None),
        ("a string", "expected bytes"),
    ],
    ids=lambda v: "data" if isinstance(v, (bytes, bytearray)) else str(v)[:32],
)
def test_malformed_messages(data, message):
    if message is None:  # bytes-likes are accepted
        assert read(data) == (HEADER, {})
        return
    with pytest.raises(ContainerError, match=re.escape(message)):
        read(data)


def test_read_header_skips_section_table_but_checks_crc():
    assert read_header(raw_container(ok_blob, b"\x07garbage")) == {}
    with pytest.raises(ContainerError, match="checksum"):
        read_header(write(HEADER, SECTIONS)[:-5] + b"\xff" + write(HEADER, SECTIONS)[-4:])


@pytest.mark.parametrize(
    "header, sections",
    [
        ([1], {}),
        ({"a": float("nan")}, {}),
        ({"a": object()}, {}),
        ({1: "int key"}, {}),
        ({"a": (1, 2)}, {}),
        ({}, {"": b""}),
        ({}, {"é": b""}),
        ({}, {"a" * 256: b""}),
        ({}, {"a": "not bytes"}),
        ({}, {str(i): b"" for i in range(256)}),
    ],
)
def test_write_rejects_what_read_could_not_give_back(header, sections):
    with pytest.raises(ContainerError):
        write(header, sections)


def test_container_error_is_an_inrz_error():
    assert issubclass(ContainerError, InrzError) and exit_code(ContainerError("x")) == 3  # the CLI's table


def test_write_file_is_atomic(tmp_path):
    target = tmp_path / "x.inrz"
    write_file(target, b"first")
    write_file(target, b"second")
    assert read_file(target) == b"second"
    assert os.listdir(tmp_path) == ["x.inrz"]


def test_write_file_failure_keeps_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "x.inrz"
    write_file(target, b"old")

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fsutil.os, "replace", boom)
    with pytest.raises(ContainerError, match="x.inrz"):
        write_file(target, b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["x.inrz"]


def test_write_file_creates_missing_directories(tmp_path):
    write_file(tmp_path / "new" / "x.inrz", b"data")
    assert (tmp_path / "new" / "x.inrz").read_bytes() == b"data"


def test_write_file_where_a_file_blocks_the_directory(tmp_path):
    (tmp_path / "nope").write_bytes(b"")
    with pytest.raises(ContainerError, match="nope"):
        write_file(tmp_path / "nope" / "x.inrz", b"data")


def test_read_file_errors_name_the_path(tmp_path):
    with pytest.raises(ContainerError, match="missing.inrz"):
        read_file(tmp_path / "missing.inrz")
    with pytest.raises(ContainerError, match=str(tmp_path.name)):
        read_file(tmp_path)  # a directory


def test_header_dictionary_is_frozen():
    import hashlib

    data = (Path(container.__file__).parent / "header_dict_v1.json").read_bytes()
    assert hashlib.sha256(data).hexdigest() == container.HEADER_DICT_SHA256
