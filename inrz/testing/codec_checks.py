"""Conformance checks on whole `.inrz` files: round trips, determinism, honest rates, golden
files, and specs that build.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .. import container
from ..host.manager import get_host
from ..pipeline.codec import Codec, Encoded
from ..pipeline.decode import decode
from ..runs.spec import COMPONENT_SECTIONS, load_spec
from ..signal.modality import Signal
from ._expect import expect
from .samples import one_thread


def check_container_round_trip(codec: Codec, signal: Signal, host=None) -> Encoded:
    """Encoding twice gives identical bytes; the file is everything (8 * len(bytes) bits, no
    state elsewhere); decoding twice gives equal arrays of the signal's shape and dtype."""
    parts = (codec.modality, codec.backend, codec.quantizer, codec.entropy)
    who = f"codec ({', '.join(part.id for part in parts if part is not None)})"
    with one_thread():
        first, second = codec.encode(signal), codec.encode(signal)
    expect(first.data == second.data, who, "encoding the same signal twice gives different bytes",
           "seed every random choice from ctx.seed; keep headers free of times, paths and set order")
    header, sections = container.read(first.data)
    expect(container.write(header, sections) == first.data, who, "the file does not re-serialise to itself",
           "put everything the decoder needs in the header and sections (then bits = 8 * len(bytes))")
    payload = sum(len(s) for s in sections.values())
    expect(first.payload_bytes == payload and payload < len(first.data), who, f"payload_bytes reports "
           f"{first.payload_bytes}, the sections hold {payload} of {len(first.data)} bytes",
           "report the payload exactly; the rate a user sees is 8 * len(file bytes)")
    a, b = decode(first.data, host).signal, decode(first.data, host).signal
    expect(a.data.shape == signal.data.shape and a.data.dtype == signal.data.dtype, who,
           f"decoded {a.data.dtype} {a.data.shape}, the input was {signal.data.dtype} {signal.data.shape}",
           "from_features must restore the native shape and dtype from the header's meta")
    expect(np.array_equal(a.data, b.data, equal_nan=a.data.dtype.kind == "f"), who,
           "decoding the same bytes twice gives different arrays", "decode deterministically (no random state)")
    return first


def check_golden(path: str | Path, expected: np.ndarray, host=None, atol: float = 0) -> np.ndarray:
    """A stored container still decodes to `expected` (within `atol`, for float evaluation order)."""
    who = f"golden file {Path(path).name}"
    fix = ("files users already have must decode forever: restore the old behaviour (or a reader for the old "
           "format); regenerate golden files only when the format changes on purpose")
    got = decode(Path(path).read_bytes(), host).signal.data
    expected = np.asarray(expected)
    expect(got.shape == expected.shape and got.dtype == expected.dtype, who,
           f"decodes to {got.dtype} {got.shape}, expected {expected.dtype} {expected.shape}", fix)
    err = float(np.max(np.abs(got.astype(np.float64) - expected.astype(np.float64)), initial=0.0))
    expect(err <= atol, who, f"decodes off by up to {err:.4g} (allowed {atol})", fix)
    return got


def check_spec(path: str | Path, host=None, overrides: Sequence[str] = ()):
    """A spec validates, its dataset lists files, and every component it names can be built."""
    host = host or get_host()
    spec = load_spec(path, list(overrides), host)
    items = host.create("dataset", spec.dataset).items(Path(path).parent)
    expect(len(items) > 0, f"spec {path}", "its dataset lists no files", "point dataset.path at the data")
    for section, kind in COMPONENT_SECTIONS.items():
        if getattr(spec, section) is not None:
            host.create(kind, getattr(spec, section))
    return spec
