"""Rate control: meet a target rate (bits per point) or a target PSNR instead of naming a
configuration. The codec walks its backend's rate ladder (`Backend.rate_ladder`), ordered
from the smallest file to the largest:

- a rate target, when the backend has a fine ladder (`Backend.fine_ladder`): the largest
  configuration predicted to fit is fitted, and the entropy coder's measured ratio on that fit
  replaces the prediction's bound for the next pick, until a file lands within `TOLERANCE`
  below the target (at most `MAX_FITS` fits; usually two);
- a rate target, when the backend predicts its payload: the largest rung whose predicted
  file (payload plus the real header) fits is fitted first, then smaller ones while the real
  file comes out too big;
- a rate target without predictions, and every PSNR target: bisection over the ladder, so a
  backend whose fits take minutes is fitted about log2(rungs) times. A PSNR target takes the
  smallest rung that reaches it (the largest if none does).

Sizes and PSNR are taken to grow along the ladder, which is what a ladder means.
"""
from __future__ import annotations

from typing import Callable

from ..backends.base import Progress
from ..core.errors import InrzError
from ..signal.metrics import PSNR
from ..signal.modality import Signal
from .codec import Codec, Encoded
from .decode import decode
from .ladder import Datum, Variant, describe, fine_variants, usable, variants

TOLERANCE = 0.05  # with a fine ladder, a rate target is met within 5% below it
MAX_FITS = 4  # fits the measured search may spend before settling for the best file so far


def encode_to_target(codec: Codec, signal: Signal, *, bpp: float | None = None, psnr: float | None = None,
                     host=None, progress: Progress | None = None) -> tuple[Encoded, Codec]:
    """The encoding (and the codec variant that made it) meeting the target on this datum;
    `progress` is called during each fit, as `Codec.encode` calls it."""
    if (bpp is None) == (psnr is None):
        raise InrzError("give exactly one target: bpp or psnr")
    datum = describe(codec, signal)
    if bpp is not None:
        found = _measured_search(fine_variants(codec, datum, bpp * datum.points), datum, bpp * datum.points, progress)
        variant, enc = found or _meet_rate(usable(variants(codec), datum), datum, bpp, progress)
    else:
        variant, enc = _meet_psnr([v for v, _ in usable(variants(codec), datum)], datum, psnr, host, progress)
    enc.info["rung"] = variant.label
    return enc, variant.codec


def _measured_search(candidates: list[tuple[Variant, int, float]], datum: Datum, budget: float,
                     progress: Progress | None) -> tuple[Variant, Encoded] | None:
    """The largest file within `budget` over (variant, header bits, payload bound) sorted by size.

    The first pick trusts the bound (entropy coding only shrinks a payload); later picks scale
    the bound by the ratio the last fit measured, between the largest file known to fit and the
    smallest known not to."""
    ratio, best, too_big = 1.0, None, len(candidates)
    for _ in range(MAX_FITS):
        lo = -1 if best is None else best[0]
        pick = next((i for i in range(too_big - 1, lo, -1)
                     if candidates[i][1] + ratio * candidates[i][2] <= budget), None)
        if pick is None:
            break
        variant, header, payload = candidates[pick]
        enc = variant.codec.encode(datum.signal, progress)
        bits = 8 * len(enc.data)
        ratio = (bits - header) / payload
        if bits > budget:
            too_big = pick
            continue
        best = (pick, enc)
        if bits >= (1 - TOLERANCE) * budget:
            break
    return (candidates[best[0]][0], best[1]) if best else None


def _meet_rate(candidates: list[tuple[Variant, float | None]], datum: Datum, bpp: float,
               progress: Progress | None) -> tuple[Variant, Encoded]:
    budget = bpp * datum.points

    def fits(enc: Encoded) -> bool:
        return 8 * len(enc.data) <= budget

    if all(bits is not None for _, bits in candidates):
        order = [v for v, bits in reversed(candidates) if bits <= budget] or [candidates[0][0]]
        for variant in order:
            enc = variant.codec.encode(datum.signal, progress)
            if fits(enc):
                return variant, enc
        smallest = enc
    else:
        ladder = [v for v, _ in candidates]
        encoded = _Probe(ladder, datum.signal, progress)
        first_too_big = bisect(len(ladder), lambda i: not fits(encoded(i)))
        if first_too_big > 0:
            return ladder[first_too_big - 1], encoded(first_too_big - 1)
        smallest = encoded(0)
    raise InrzError(f"no configuration fits {bpp} bits per {datum.unit}: the smallest takes "
                    f"{8 * len(smallest.data) / datum.points:.4g}")


def _meet_psnr(ladder: list[Variant], datum: Datum, target: float, host,
               progress: Progress | None) -> tuple[Variant, Encoded]:
    encoded = _Probe(ladder, datum.signal, progress)

    def reaches(i: int) -> bool:
        codec = ladder[i].codec
        decoded = decode(encoded(i).data, host, codec.device).signal
        return PSNR().compute(datum.signal, decoded, codec.modality) >= target

    i = min(bisect(len(ladder), reaches), len(ladder) - 1)
    return ladder[i], encoded(i)


def bisect(n: int, test: Callable[[int], bool]) -> int:
    """The smallest index in [0, n) where `test` holds, `test` being False then True along
    the ladder; n if it never holds. Calls `test` about log2(n) times."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if test(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


class _Probe:
    """Encodes a rung the first time it is asked for, so bisection never fits a rung twice."""

    def __init__(self, ladder: list[Variant], signal: Signal, progress: Progress | None = None):
        self.ladder, self.signal, self.progress, self.done = ladder, signal, progress, {}

    def __call__(self, i: int) -> Encoded:
        if i not in self.done:
            self.done[i] = self.ladder[i].codec.encode(self.signal, self.progress)
        return self.done[i]
