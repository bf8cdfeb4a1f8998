"""The `.inrz` container, format v1 (byte layout in docs/format.md): a checksummed envelope.

Writing is deterministic so files can be hashed and golden-tested. Reading trusts nothing:
every malformed input raises `ContainerError`, and header decompression is size-capped.
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
import struct
import zlib
from pathlib import Path

import zstandard

from ..core.errors import ContainerError
from ..core.fsutil import atomic_write

MAGIC = b"INRZ"
FORMAT_VERSION = 1
ZSTD_LEVEL = 19
MAX_HEADER_JSON = 16 * 1024 * 1024  # decompressed header cap: defeats zstd bombs
_U32 = struct.Struct("<I")
_PREAMBLE = struct.Struct("<4sBBI")  # magic, version, flags, header length
_MIN_SIZE = _PREAMBLE.size + 1 + _U32.size  # empty header blob, no sections, CRC


def _canonical_json(header: dict) -> bytes:
    """One byte string per header value: required for deterministic, diffable files."""
    if not isinstance(header, dict):
        raise ContainerError(f"header must be a dict, got {type(header).__name__}")
    try:
        text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ContainerError(f"header is not JSON-serialisable: {exc}") from exc
    if json.loads(text) != header:  # tuples, non-str keys: `read` would not give back `header`
        raise ContainerError("header does not survive a JSON round trip (use str keys, lists, no tuples)")
    return text.encode("ascii")


FLAG_HEADER_DICT = 0x01  # the header is compressed with the built-in dictionary (header_dict_v1.json)
_KNOWN_FLAGS = FLAG_HEADER_DICT
HEADER_DICT_SHA256 = "c6ebd149995142fa117ee558335874a17be3144973db04dc5c489d5185587834"


@functools.lru_cache(maxsize=1)
def _header_dict() -> "zstandard.ZstdCompressionDict":
    """Typical headers as raw zstd dictionary content: a header costs tens of bytes, not hundreds.

    Its bytes are part of the format: never edit the file; a new dictionary needs a new flag.
    """
    data = (Path(__file__).parent / "header_dict_v1.json").read_bytes()
    if hashlib.sha256(data).hexdigest() != HEADER_DICT_SHA256:
        raise ContainerError("inrz/container/header_dict_v1.json is damaged: reinstall inrz")
    return zstandard.ZstdCompressionDict(data, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def _compress(raw: bytes) -> bytes:
    """Fixed level and frame flags so the output never varies between runs."""
    flags = dict(write_checksum=False, write_content_size=True, write_dict_id=False, threads=0)
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL, dict_data=_header_dict(), **flags).compress(raw)


def _valid_name(name) -> bool:
    """Names are shown in `inrz info` and error messages: keep them short and printable."""
    return isinstance(name, str) and 0 < len(name) < 256 and name.isascii() and name.isprintable()


def _section_bytes(name: str, payload: bytes) -> bytes:
    """Encode one section entry, refusing names and sizes the format cannot represent."""
    if not _valid_name(name):
        raise ContainerError(f"section name must be 1-255 printable ascii characters, got {name!r}")
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise ContainerError(f"section {name!r} must be bytes, got {type(payload).__name__}")
    payload = bytes(payload)
    if len(payload) > 0xFFFFFFFF:
        raise ContainerError(f"section {name!r} is larger than 4 GiB")
    return bytes([len(name)]) + name.encode("ascii") + _U32.pack(len(payload)) + payload


def write(header: dict, sections: dict[str, bytes]) -> bytes:
    """Serialise a header and ordered sections into container bytes (deterministic)."""
    blob = _compress(_canonical_json(header))
    if len(sections) > 255:
        raise ContainerError(f"at most 255 sections, got {len(sections)}")
    parts = [_PREAMBLE.pack(MAGIC, FORMAT_VERSION, FLAG_HEADER_DICT, len(blob)), blob, bytes([len(sections)])]
    parts += [_section_bytes(name, payload) for name, payload in sections.items()]
    body = b"".join(parts)
    return body + _U32.pack(zlib.crc32(body))


def check_header(header: dict) -> None:
    """Raise `ContainerError` unless `write` can store this header (the encoder asks before a fit)."""
    _canonical_json(header)


def overhead(header: dict, sections: dict[str, bytes]) -> dict:
    """Bytes spent on everything but payloads: the figure to report next to compression ratios."""
    total = len(write(header, sections))
    payload = sum(len(p) for p in sections.values())
    return {"header_bytes": total - payload, "payload_bytes": payload, "total_bytes": total}


class _Cursor:
    """Bounds-checked reader: running past the end is a ContainerError, never an IndexError."""

    def __init__(self, data: bytes, pos: int, end: int):
        self.data, self.pos, self.end = data, pos, end

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > self.end:
            raise ContainerError(f"truncated container: {what} needs {n} bytes, {self.end - self.pos} left")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u8(self, what: str) -> int:
        return self.take(1, what)[0]

    def u32(self, what: str) -> int:
        return _U32.unpack(self.take(4, what))[0]


def _check_envelope(data) -> _Cursor:
    """Magic, version, flags and CRC: everything to verify before trusting any length field."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ContainerError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if data[:4] != MAGIC[: len(data)] or not data:
        raise ContainerError("not an .inrz file (bad magic)" if data else "not an .inrz file (empty)")
    if len(data) > 4 and data[4] > FORMAT_VERSION:
        raise ContainerError(f"written by a newer inrz (format v{data[4]}); upgrade")
    if len(data) > 4 and data[4] != FORMAT_VERSION:
        raise ContainerError(f"invalid format version {data[4]}")
    if len(data) > 5 and data[5] & ~_KNOWN_FLAGS:
        raise ContainerError(f"unknown flags 0x{data[5]:02x} (format v1 defines 0x{_KNOWN_FLAGS:02x})")
    if len(data) < _MIN_SIZE:
        raise ContainerError(f"truncated container: {len(data)} bytes, at least {_MIN_SIZE} needed")
    stored, computed = _U32.unpack_from(data, len(data) - 4)[0], zlib.crc32(data[:-4])
    if stored != computed:
        detail = f"stored {stored:08x}, computed {computed:08x}"
        raise ContainerError(f"checksum mismatch: file is truncated or corrupted ({detail})")
    return _Cursor(data, 6, len(data) - 4)


def _decompress(blob: bytes, flags: int) -> bytes:
    """Check the declared size against the cap first: zstd would otherwise allocate it blindly."""
    try:
        size = zstandard.frame_content_size(blob)
        if size < 0 or size > MAX_HEADER_JSON:
            raise ContainerError(f"bad header: declared size {size} outside 0..{MAX_HEADER_JSON}")
        dictionary = _header_dict() if flags & FLAG_HEADER_DICT else None
        dobj = zstandard.ZstdDecompressor(dict_data=dictionary, max_window_size=MAX_HEADER_JSON).decompressobj()
        raw = dobj.decompress(blob)
    except zstandard.ZstdError as exc:
        raise ContainerError(f"bad header: zstd error: {exc}") from exc
    if not dobj.eof or dobj.unused_data or len(raw) != size:
        raise ContainerError("bad header: incomplete zstd frame or trailing data")
    return raw


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")  # Python's json accepts NaN unless told not to


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses as infinity, which no writer emits (allow_nan=False)
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _unique_keys(pairs: list) -> dict:
    """Duplicate keys would make two different files decode to one header: reject them."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate key in object")
    return obj


def _parse_header(cur: _Cursor) -> dict:
    """Decode the header blob; any JSON that is not an object is corruption, not a header."""
    blob = cur.take(cur.u32("header length"), "header")
    raw = _decompress(blob, cur.data[5])
    try:
        text = raw.decode("ascii")
        header = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float,
                            object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ContainerError(f"bad header JSON: {exc}") from exc
    if not isinstance(header, dict):
        raise ContainerError(f"bad header JSON: expected an object, got {type(header).__name__}")
    return header


def _parse_sections(cur: _Cursor) -> dict[str, bytes]:
    """Read the section table, which must end exactly where the CRC begins."""
    sections: dict[str, bytes] = {}
    for i in range(cur.u8("section count")):
        name = cur.take(cur.u8(f"section {i} name length"), f"section {i} name").decode("latin-1")
        if not _valid_name(name) or name in sections:
            raise ContainerError(f"bad section table: section {i} name {name!r} is invalid or repeated")
        sections[name] = cur.take(cur.u32(f"section {name!r} length"), f"section {name!r} payload")
    if cur.pos != cur.end:
        raise ContainerError(f"bad section table: {cur.end - cur.pos} stray bytes before the checksum")
    return sections


def read(data: bytes) -> tuple[dict, dict[str, bytes]]:
    """Inverse of `write`; raises ContainerError on anything malformed."""
    cur = _check_envelope(data)
    header = _parse_header(cur)
    return header, _parse_sections(cur)


def read_header(data: bytes) -> dict:
    """Header only (for `inrz info`), skipping the section table but still verifying the CRC."""
    cur = _check_envelope(data)
    return _parse_header(cur)


def write_file(path, data: bytes) -> None:
    """Atomic replace: readers see the old file or the new one, never a partial write."""
    try:
        atomic_write(path, data)
    except OSError as exc:
        raise ContainerError(f"cannot write {path}: {exc.strerror or exc}") from exc


def read_file(path) -> bytes:
    """Read container bytes, turning OS errors into a ContainerError that names the path."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ContainerError(f"cannot read {path}: {exc.strerror or exc}") from exc
