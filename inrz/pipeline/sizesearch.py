"""The error-bounded size search: which configuration gives the smallest file in all.

In error-bounded mode a bigger representation leaves a smaller residual but costs its own
bytes; the best split depends on the data and the bound, so every rung of the backend's
ladder (or the settings the caller asks for) is coded and the smallest container is kept.
"""
from __future__ import annotations

from typing import Sequence

from ..core.errors import InrzError
from ..signal.modality import Signal
from .codec import Codec, Encoded
from .ladder import describe, usable, variants


def smallest_bounded(codec: Codec, signal: Signal, knobs: Sequence[float] | None = None) -> tuple[Encoded, Codec]:
    """The smallest container within the codec's error bound, and the codec variant that made it.

    `knobs`: the backend's rate-knob settings to try (COIN: bpp budgets); None: its whole ladder.
    """
    if codec.max_abs_error is None:
        raise InrzError("the size search is for error-bounded codecs: set max_abs_error")
    best = None
    for variant, _ in usable(variants(codec, knobs), describe(codec, signal)):
        enc = variant.codec.encode(signal)
        if best is None or len(enc.data) < len(best[0].data):
            enc.info["rung"] = variant.label
            best = (enc, variant.codec)
    return best
