"""Fuzzing containers: seeds from the registry, structured mutations, one outcome per input.

Seeds are real containers of every registered backend x modality that can code a tiny
signal quickly (`Modality.example_signal()` x `Backend.example_codec()`), under each
parameter-free quantizer and entropy model that applies, plus an error-bounded one each;
a plugin's components are fuzzed without editing this file. Mutations are structured, not
only byte flips: header fields replaced by hostile values with the CRC recomputed, keys
deleted, raw JSON the writer would never emit (1e999), sections truncated, dropped, swapped
between seeds, and crafted bombs (a huge network over a zero payload).

Archive chunk frames are fuzzed too (`inrz.testing.fuzz_frames`: seeds of every kind, their
own mutations, among them range-coded words appended and dropped); `mutate` dispatches on
the bytes.

`outcome(data, host)` decodes like a user would (`inrz.open`'s header read, then
`inrz.decode`) and names what happened: "ok", the `InrzError` class, or "untyped:<type>".
`tests/test_fuzz.py` runs these under hypothesis; `benchmarks/fuzz.py` runs 100,000.
"""
from __future__ import annotations

import json
import random
import struct
import zlib
from typing import Any, Callable

import numpy as np
import torch
import zstandard

from .. import container
from ..archive import frames
from ..archive.config import decode_array
from ..core.errors import InrzError
from ..host.manager import get_host
from ..pipeline.codec import Codec
from ..pipeline.decode import decode
from ..pipeline.defaults import codec_sections
from . import fuzz_frames
from .samples import as_signal, one_thread, tiny_signal

SEED_POINTS = 256  # grid points of a seed's signal: containers of a few hundred bytes
#: values a mutation puts into a header field: wrong types, extremes, what no encoder writes
HOSTILE: list[Any] = [0, -1, 1, 2, 7, 2**31, 2**63, 10**30, 10**301, 3.3e301, 1e308, -1e308, 1e-308, 0.5, -0.5,
                      True, False, None, "", "x", "<U4", "V8", "datetime64[s]", "object", "complex128", ">f8",
                      "float32", "uint8", [], [1], [0], [-1], [20000, 20000], [4000, 4000], [2**40, 2**40],
                      [1, 1, 1, 1, 1], [[1, 2]], {}, {"a": 1}, {"id": "ndarray"}, [[[[[[[[[[1]]]]]]]]]]]
RAW_TOKENS = ["1e999", "-1e999", "NaN", "Infinity", "1" * 400, "-0", "1e-400", "[" * 200 + "]" * 200]


def seed_containers(host=None, max_points: int = SEED_POINTS) -> dict[str, bytes]:
    """name -> container bytes, for every backend x modality with a quick example (see the module
    docstring). COIN++-like backends may write small artifacts into the models dir."""
    host = host or get_host()
    seeds: dict[str, bytes] = {}
    with one_thread():
        for mod_id in host.registry.names("modality"):
            modality = host.create("modality", mod_id)
            if type(modality).available() or type(modality).example_signal() is None:
                continue
            try:
                signal = tiny_signal(modality, max_points=max_points)
            except InrzError:  # a meta that describes its grid (lat/lon axes) cannot be cropped
                signal = as_signal(modality, None)
            for backend_id in host.registry.names("backend"):
                seeds.update(_seeds_for(host, modality, signal, host.registry.get("backend", backend_id)))
    return seeds


def _seeds_for(host, modality, signal, backend_cls) -> dict[str, bytes]:
    example = backend_cls.example_codec(modality, signal)
    if example is None or backend_cls.available():
        return {}
    sections = codec_sections(modality)
    sections.update(example)
    variants = {"": sections}
    for kind in ("quantizer", "entropy"):  # the parameter-free alternatives, where they apply
        for cid in host.registry.names(kind):
            if not any(f.is_required() for f in host.registry.get(kind, cid).Config.model_fields.values()):
                variants[f"-{cid}"] = {**sections, kind: {"id": cid}}
    out = {}
    for suffix, chosen in variants.items():
        for bound in (None, 0.05) if suffix == "" else (None,):
            name = f"{modality.id}-{backend_cls.id}{suffix}{'-bounded' if bound else ''}"
            try:
                codec = Codec.from_sections(host, modality, chosen, torch.device("cpu"), max_abs_error=bound)
                out[name] = codec.encode(signal).data
            except InrzError:  # this combination cannot code this signal (a quantizer the backend refuses...)
                continue
    return out


# --- mutations: (data, header, sections, every seed, rng) -> bytes -----------------------------

def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a JSON value (dict keys and list indices)."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value[:8]):
            out += _paths(v, prefix + (i,))
    return out


def _set(value: Any, path: tuple, new: Any, delete: bool = False) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    copy = dict(value) if isinstance(value, dict) else list(value)
    if delete and not rest:
        del copy[head]
    else:
        copy[head] = _set(copy[head], rest, new, delete)
    return copy


def raw_container(header_text: str, sections: dict[str, bytes]) -> bytes:
    """A container whose header is any text (no dictionary, flags 0), with a correct CRC: how a
    hostile writer smuggles JSON that `container.write` refuses to produce."""
    blob = zstandard.ZstdCompressor(level=3, write_content_size=True).compress(header_text.encode())
    parts = [struct.pack("<4sBBI", b"INRZ", 1, 0, len(blob)), blob, bytes([len(sections)])]
    parts += [bytes([len(n)]) + n.encode() + struct.pack("<I", len(p)) + p for n, p in sections.items()]
    body = b"".join(parts)
    return body + struct.pack("<I", zlib.crc32(body))


def _with_crc(body: bytes) -> bytes:
    return body + struct.pack("<I", zlib.crc32(body))


def m_flip(data, header, sections, seeds, rng):
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def m_flip_crc(data, header, sections, seeds, rng):
    return _with_crc(m_flip(data[:-4], header, sections, seeds, rng))


def m_field(data, header, sections, seeds, rng):
    path = rng.choice(_paths(header)[1:] or [()])
    return container.write(_set(header, path, rng.choice(HOSTILE)), sections)


def m_number(data, header, sections, seeds, rng):
    """A number in the header scaled or shifted: the subtle edits a type check misses."""
    paths = [p for p in _paths(header) if _is_number(_get(header, p))]
    if not paths:
        return m_field(data, header, sections, seeds, rng)
    path = rng.choice(paths)
    value = _get(header, path)
    new = rng.choice([value * 1000, value * -1, value + 1, value - 1, value * 10**6, 0])
    return container.write(_set(header, path, new if isinstance(value, float) else int(new)), sections)


def m_delete(data, header, sections, seeds, rng):
    paths = [p for p in _paths(header) if p and isinstance(_get(header, p[:-1]), dict)]
    return container.write(_set(header, rng.choice(paths), None, delete=True), sections) if paths else data


def m_raw(data, header, sections, seeds, rng):
    text = json.dumps(header, sort_keys=True, separators=(",", ":"))
    numbers = [i for i, c in enumerate(text) if c.isdigit() and text[i - 1] in ":,["]
    if not numbers:
        return data
    i = rng.choice(numbers)
    end = i
    while end < len(text) and (text[end].isdigit() or text[end] in ".eE+-"):
        end += 1
    return raw_container(text[:i] + rng.choice(RAW_TOKENS) + text[end:], sections)


def m_section(data, header, sections, seeds, rng):
    if not sections:
        return data
    name = rng.choice(list(sections))
    payload = bytearray(sections[name])
    choice = rng.randrange(4)
    if choice == 0 and payload:
        payload[rng.randrange(len(payload))] ^= 1 << rng.randrange(8)
    elif choice == 1:
        payload = payload[:rng.randrange(len(payload) + 1)]
    elif choice == 2:
        payload += bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    else:
        return container.write(header, {k: v for k, v in sections.items() if k != name})
    return container.write(header, {**sections, name: bytes(payload)})


def m_splice(data, header, sections, seeds, rng):
    other = container.read(rng.choice(list(seeds.values())))
    return container.write(header, other[1]) if rng.random() < 0.5 else container.write(other[0], sections)


def m_bomb(data, header, sections, seeds, rng):
    """The issue's crafted bombs: a huge grid, or a huge network over a zero payload of matching size."""
    if rng.random() < 0.5 or not isinstance(header.get("backend"), dict):
        n = rng.choice([4000, 20000, 10**6])
        return container.write({**header, "grid": [n] * len(header.get("grid") or [1, 1])}, sections)
    backend = {**header["backend"], "depth": 64, "width": 4096, "preset": None, "bpp": None}
    zeros = zstandard.ZstdCompressor(level=3).compress(bytes(1 << 20))  # 1 MiB of zeros: the frame is tiny
    return container.write({**header, "backend": backend}, {**sections, "payload": zeros})


def _get(value: Any, path: tuple) -> Any:
    for p in path:
        value = value[p]
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


MUTATORS: dict[str, Callable] = {"flip": m_flip, "flip_crc": m_flip_crc, "field": m_field, "number": m_number,
                                 "delete": m_delete, "raw": m_raw, "section": m_section, "splice": m_splice,
                                 "bomb": m_bomb}


def mutate(data: bytes, seeds: dict[str, bytes], rng: random.Random, mutator: str | None = None) -> tuple[str, bytes]:
    """One mutated container or chunk frame (and the mutator's name) from a seed's bytes."""
    if frames.is_frame(data):
        return fuzz_frames.mutate(data, seeds, rng, mutator)
    name = mutator or rng.choice(list(MUTATORS))
    header, sections = container.read(data)
    containers = {k: v for k, v in seeds.items() if not frames.is_frame(v)}  # what a splice takes sections from
    return name, MUTATORS[name](data, header, sections, containers or {"self": data}, rng)


def outcome(data: bytes, host=None, reader: str = "api", chunk: tuple[int, Any] | None = None) -> str:
    """"ok", the `InrzError` subclass's name, or "untyped:<type>" (a bug: a test fails on it).

    `reader`: "api" (`inrz.decode`) or "numcodecs" (what the numcodecs and zarr codecs call; a
    chunk frame is always read so); `chunk`: the (values, dtype) the caller knows of the chunk,
    as zarr or an `out=` buffer does, else None (a plain `codec.decode(buf)`)."""
    try:
        if frames.is_frame(data) or reader == "numcodecs":
            array = decode_array(data, *(chunk or ()))
        else:
            container.read_header(data)  # what `inrz.open` does
            array = decode(data, host or get_host()).signal.data
    except InrzError as exc:
        return type(exc).__name__
    except Exception as exc:  # noqa: BLE001 - classifying every failure is the point
        return f"untyped:{type(exc).__name__}"
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        return "untyped:non-numeric output"
    return "ok"
