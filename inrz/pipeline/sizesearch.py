"""The error-bounded size search: which configuration gives the smallest file in all.

In error-bounded mode a bigger representation leaves a smaller residual but costs its own
bytes; the best split depends on the data and the bound. The search always measures the
residual alone (no network: `inrz.backends.none`), then fits the rungs of the backend's
ladder (or the settings the caller asks for) smallest first and keeps the smallest file.
A rung is not fitted for a datum whose best file so far is smaller than a fraction of the
rung's predicted payload (`PRUNE`): its network alone could not win. Signals of one grid
shape are fitted together, so a backend that batches fits many chunks at once.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

from ..backends.none import NoNetwork
from ..coding.specials import Specials
from ..core.errors import InrzError, SpecError
from ..signal.modality import Signal
from .codec import Codec, Encoded
from .ladder import Variant, describe, payload_bits, variants

#: a rung whose predicted payload (an upper bound: entropy coding only shrinks it) exceeds the
#: best size so far by this factor is not fitted; fp16 weights + zstd shrink by well under 2x
PRUNE = 0.5
RESIDUAL_ONLY = "residual only"


def smallest_bounded(codec: Codec, signal: Signal, knobs: Sequence[float] | None = None,
                     specials: Specials | None = None) -> tuple[Encoded, Codec]:
    """The smallest container within the codec's error bound, and the codec variant that made it.

    `knobs`: the backend's rate-knob settings to try (COIN: bpp budgets); None: its whole
    ladder. The residual alone is always a candidate, so any datum can be coded."""
    if codec.max_abs_error is None:
        raise InrzError("the size search is for error-bounded codecs: set max_abs_error")
    residual = residual_only(codec)
    enc = residual.encode(signal, specials=specials)
    enc.info["rung"] = RESIDUAL_ONLY
    better = improve([signal], variants(codec, knobs), [len(enc.data)], [specials])[0]
    return better or (enc, residual)


def residual_only(codec: Codec) -> Codec:
    return dataclasses.replace(codec, backend=NoNetwork())


def improve(signals: Sequence[Signal], rungs: Sequence[Variant], sizes: Sequence[int],
            specials: Sequence[Specials | None] | None = None) -> list[tuple[Encoded, Codec] | None]:
    """Per signal (all of one grid shape), the smallest container of the rungs that is smaller
    than `sizes[i]`, or None. Rungs that cannot code the grid are skipped."""
    sizes, specials = list(sizes), list(specials or [None] * len(signals))
    best: list[tuple[Encoded, Codec] | None] = [None] * len(signals)
    if not signals or not rungs:
        return best
    datum = describe(rungs[0].codec, signals[0])
    for variant in rungs:
        try:
            bits = payload_bits(variant, datum)
        except SpecError:  # e.g. no network that small for this grid
            continue
        todo = [i for i in range(len(signals)) if bits is None or PRUNE * bits / 8 < sizes[i]]
        if not todo:
            continue
        encoded = variant.codec.encode_batch([signals[i] for i in todo], specials=[specials[i] for i in todo])
        for i, enc in zip(todo, encoded):
            if len(enc.data) < sizes[i]:
                enc.info["rung"] = variant.label
                best[i], sizes[i] = (enc, variant.codec), len(enc.data)
    return best


def rungs_for(codec: Codec, knobs: Sequence[float] | str | None) -> list[Variant]:
    """The configured backend alone (`knobs` None, or "ladder" for a backend without rate
    knobs), its whole ladder ("ladder"), or the given settings of its knob."""
    if knobs is None or (knobs == "ladder" and not codec.backend.rate_ladder(codec.quantizer, codec.entropy)):
        return [Variant(codec.backend.id, codec)]
    return variants(codec, None if knobs == "ladder" else knobs)
