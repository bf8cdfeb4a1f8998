"""A codec's rate ladder, as rate control and the size search walk it.

The backend names its rungs (`Backend.rate_ladder`); this module turns them into codec
variants, drops those that cannot code the datum, and predicts a variant's file size from the
backend's payload prediction plus the real header, built for that rung and compressed by
the container code (headers are 20-90 bytes, which decides the rate of small data).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Sequence

from .. import container
from ..backends.base import Rung
from ..core.errors import InrzError, SpecError
from ..signal.modality import Signal
from .codec import Codec


@dataclass(frozen=True)
class Variant:
    """A codec with one rung's components in place."""

    label: str
    codec: Codec


@dataclass(frozen=True)
class Datum:
    """What every rung sees alike, computed once: the grid, its widths and the normalisation."""

    signal: Signal
    grid: tuple[int, ...]
    d_in: int
    d_out: int
    norm: dict[str, Any]
    points: int  # what rates are normalised by
    unit: str  # the name of one point ("pixel": bits per pixel)


def describe(codec: Codec, signal: Signal) -> Datum:
    """d_in from the coordinates of a one-point grid, so the full grid is never built here."""
    grid = tuple(codec.modality.grid_shape(signal))
    d_in = codec.modality.coordinates([1] * len(grid), meta=signal.meta).shape[-1]
    features, norm = codec.modality.to_features(signal)
    return Datum(signal, grid, d_in, features.shape[-1], norm, codec.modality.num_points(signal), codec.modality.unit)


def apply(codec: Codec, rung: Rung) -> Codec:
    return dataclasses.replace(codec, backend=rung.backend, quantizer=rung.quantizer or codec.quantizer,
                               entropy=rung.entropy or codec.entropy)


def variants(codec: Codec, knobs: Sequence[float] | None = None) -> list[Variant]:
    """The codec at every rung of its backend's ladder; an error naming the backend if it has none."""
    rungs = codec.backend.rate_ladder(codec.quantizer, codec.entropy, knobs)
    if not rungs:
        with_quantizer = f" with quantizer {codec.quantizer.id!r}" if codec.quantizer is not None else ""
        raise InrzError(f"backend {codec.backend.id!r} has no rate knobs (its rate_ladder is empty){with_quantizer}: "
                        "give the configuration itself instead of a target or a size search")
    return [Variant(rung.label, apply(codec, rung)) for rung in rungs]


def payload_bits(variant: Variant, datum: Datum) -> float | None:
    """The backend's payload prediction; raises `SpecError` if the rung cannot code the datum."""
    codec = variant.codec
    return codec.backend.predicted_payload_bits(datum.grid, datum.d_in, datum.d_out, codec.quantizer)


def usable(candidates: list[Variant], datum: Datum) -> list[tuple[Variant, float | None]]:
    """The variants that can code this datum, with their predicted file size in bits (or None)."""
    out = []
    for variant in candidates:
        try:
            payload = payload_bits(variant, datum)
        except SpecError:  # e.g. no network that small for this datum
            continue
        out.append((variant, None if payload is None else payload + header_bits(variant.codec, datum)))
    if not out:
        raise InrzError(f"no configuration of the ladder ({', '.join(v.label for v in candidates)}) can code this "
                        f"datum")
    return out


#: the fine ladder reaches this far above the payload room: entropy coding shrinks payloads, by
#: up to a quarter for trained fp16 weights, and rate control picks from measured ratios
FINE_HEADROOM = 1.35


def fine_variants(codec: Codec, datum: Datum, budget_bits: float) -> list[tuple[Variant, int, float]]:
    """The backend's fine ladder around a file budget, as (variant, exact header bits, payload
    bound), smallest first; [] if the backend has none."""
    room = budget_bits - header_bits(codec, datum)
    if room <= 0:
        return []
    rungs = codec.backend.fine_ladder(datum.grid, datum.d_in, datum.d_out, codec.quantizer, room * FINE_HEADROOM)
    out = []
    for variant in (Variant(rung.label, apply(codec, rung)) for rung in rungs):
        try:
            payload = payload_bits(variant, datum)
        except SpecError:
            continue
        if payload is not None:
            out.append((variant, header_bits(variant.codec, datum), payload))
    return sorted(out, key=lambda entry: entry[1] + entry[2])


def header_bits(codec: Codec, datum: Datum) -> int:
    """Bits of everything but the payload: envelope, compressed header, section table, checksum."""
    header = codec.header(datum.signal.meta, datum.norm, datum.grid, datum.d_in, datum.d_out)
    return 8 * len(container.write(header, {"payload": b""}))
