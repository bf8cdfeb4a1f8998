"""Rate control: meet a target rate (bits per point) or a target PSNR instead of naming an
architecture. The codec walks a ladder of configurations from cheap to expensive:

- COIN: networks sized by `architecture_for_bpp` for a ladder of budgets. For a rate target,
  the largest network whose predicted file (weights at the quantizer's width plus the
  measured header) fits is fitted, then smaller ones if the real file came out too big.
- COIN++: the latent bit width (the fitted latents are re-quantized, no refit needed for
  the rate, but each width is coded to measure it).

A PSNR target takes the first rung that reaches it (the last rung if none does).
"""
from __future__ import annotations

import dataclasses
from typing import Iterable

import numpy as np

from ..core.errors import InrzError, SpecError
from ..signal.metrics import PSNR
from ..signal.modality import Signal
from .codec import Codec, Encoded
from .decode import decode

COIN_LADDER = (0.02, 0.04, 0.07, 0.1, 0.15, 0.2, 0.3, 0.45, 0.6, 0.9, 1.2, 1.8, 2.4, 3.6, 4.8, 8.0)
BITS_LADDER = (3, 4, 5, 6, 7, 8)


def encode_to_target(codec: Codec, signal: Signal, *, bpp: float | None = None, psnr: float | None = None,
                     host=None) -> tuple[Encoded, Codec]:
    """The encoding (and the codec variant that made it) meeting the target on this datum."""
    if (bpp is None) == (psnr is None):
        raise InrzError("give exactly one target: bpp or psnr")
    points = codec.modality.num_points(signal)
    dims = _dims(codec, signal)  # once: features and coordinates do not depend on the rung
    predicted = [(v, bits) for v in _variants(codec) if (bits := _predicted_bits(v, signal, dims)) is not None]
    if not predicted:
        raise InrzError("no configuration of the ladder exists for this datum")
    variants = [v for v, _ in predicted]
    if bpp is not None:
        variants = [v for v, bits in reversed(predicted) if bits <= bpp * points] or variants[:1]
    best = None
    for variant in variants:
        enc = variant.encode(signal)
        if bpp is not None and 8 * len(enc.data) <= bpp * points:
            return enc, variant
        if psnr is not None and _psnr(variant, signal, enc, host) >= psnr:
            return enc, variant
        best = (enc, variant)
    if bpp is not None:
        raise InrzError(f"no configuration fits {bpp} bits per {codec.modality.unit}: the smallest takes "
                        f"{8 * len(best[0].data) / points:.4g}")
    return best


def _variants(codec: Codec) -> Iterable[Codec]:
    cfg = codec.backend.get_config()
    if cfg["id"] == "coin":
        for budget in COIN_LADDER:
            backend = type(codec.backend)({**cfg, "bpp": budget, "depth": None, "width": None})
            yield dataclasses.replace(codec, backend=backend)
    elif "bits" in codec.quantizer.get_config():
        for bits in BITS_LADDER:
            yield dataclasses.replace(codec, quantizer=type(codec.quantizer)({**codec.quantizer.get_config(),
                                                                              "bits": bits}))
    else:
        raise InrzError(f"rate control knows COIN and bit-width quantizers, not backend {cfg['id']!r} with "
                        f"quantizer {codec.quantizer.id!r}")


def _dims(codec: Codec, signal: Signal) -> tuple[int, int]:
    """(d_in, d_out): coordinates of a one-point grid give d_in without building the full grid."""
    grid = codec.modality.grid_shape(signal)
    d_in = codec.modality.coordinates([1] * len(grid), meta=signal.meta).shape[-1]
    return d_in, codec.modality.to_features(signal)[0].shape[-1]


def _predicted_bits(codec: Codec, signal: Signal, dims: tuple[int, int]) -> float | None:
    """Weights at the quantizer's width (entropy coding only shrinks them) plus the header;
    None when the configuration does not exist for this datum (no network that small)."""
    try:
        layout = codec.backend.layout(codec.modality.grid_shape(signal), *dims)
    except SpecError:
        return None
    symbols = sum(int(np.prod(s)) for s in layout.values())
    return symbols * codec.quantizer.bits + 8 * 400  # ~400 header bytes (configs, meta, checksum)


def _psnr(codec: Codec, signal: Signal, enc: Encoded, host) -> float:
    return PSNR().compute(signal, decode(enc.data, host, codec.device).signal, codec.modality)


def smallest_bounded(codec: Codec, signal: Signal, budgets: Iterable[float]) -> tuple[Encoded, Codec]:
    """Error-bounded mode: the INR size (COIN bpp budget) giving the smallest file in all.

    A bigger network leaves a smaller residual but costs its weights; the best split depends
    on the data and the bound, so each budget is fitted and the smallest container is kept.
    """
    if codec.max_abs_error is None or codec.backend.id != "coin":
        raise InrzError("the size search is for error-bounded COIN codecs (set max_abs_error, backend coin)")
    best = None
    for budget in budgets:
        variant = dataclasses.replace(codec, backend=type(codec.backend)(
            {**codec.backend.get_config(), "bpp": budget, "depth": None, "width": None}))
        try:
            enc = variant.encode(signal)
        except SpecError:  # no network that small for this datum
            continue
        if best is None or len(enc.data) < len(best[0].data):
            best = (enc, variant)
    if best is None:
        raise InrzError(f"none of the budgets {list(budgets)} gives a network for this datum")
    return best
