"""Integer probability tables of a discretised Laplace, identical on every machine.

The context model predicts a mean and a log-scale per latent; the coder quantises them to a
scale bin and a mean-offset bin and codes `latent - round(mean)` with that bin's table. The
tables are part of the format, so they are computed with `decimal` (correctly rounded exp,
by the decimal specification) and integer arithmetic only: no libm, no platform ulp.
"""
from __future__ import annotations

import functools
import hashlib
import os
from decimal import Decimal, localcontext

import numpy as np

from inrz import InrzError

K = 31  # symbols -K..K relative to the rounded mean, plus one escape on each side
ALPHABET = 2 * K + 3  # [left escape, -K..K, right escape]
SCALE_BINS = 80  # ln(scale) in [-5, 5) by steps of 1/8
SCALE_STEP = 8  # bins per unit of ln(scale)
SCALE_ZERO = 40  # bin index of ln(scale) = 0
MEAN_BINS = 16  # offset of the mean from its rounded value, in (-0.5, 0.5), by 1/16
PRECISION = 24  # frequencies sum to 2**PRECISION per table


def scale_of(bin_: int) -> Decimal:
    return ((Decimal(bin_ - SCALE_ZERO) + Decimal("0.5")) / SCALE_STEP).exp()


def offset_of(bin_: int) -> Decimal:
    return (Decimal(bin_) + Decimal("0.5")) / MEAN_BINS - Decimal("0.5")


def _masses(decay: list[Decimal], up: Decimal, down: Decimal) -> list[Decimal]:
    """Probability of each alphabet entry for Laplace(mean d, scale b) integrated over unit bins.

    `decay[r - 1]` = exp(-(r - 1/2)/b) for r = 1..K+1, `up` = exp(d/b), `down` = exp(-d/b), so
    P(X > r - 1/2) = decay * up / 2 and P(X < -(r - 1/2)) = decay * down / 2 (exact identities;
    computed this way the table needs 2 exponentials per mean bin instead of 64).
    """
    half = Decimal("0.5")
    right = [half * e * up for e in decay]
    left = [half * e * down for e in decay]
    out = [left[K]]  # left escape: X < -(K + 1/2)
    out += [left[r - 1] - left[r] for r in range(K, 0, -1)]  # r = -K..-1
    out.append(1 - left[0] - right[0])  # r = 0
    out += [right[r - 1] - right[r] for r in range(1, K + 1)]  # r = 1..K
    out.append(right[K])  # right escape
    return out


def _table_for_scale(b: Decimal) -> list[list[int]]:
    decay = [(-(Decimal(r) - Decimal("0.5")) / b).exp() for r in range(1, K + 2)]
    rows = []
    for f in range(MEAN_BINS):
        d = offset_of(f)
        rows.append(_frequencies(_masses(decay, (d / b).exp(), (-d / b).exp())))
    return rows


def _frequencies(masses: list[Decimal]) -> list[int]:
    """Integer frequencies summing to 2**PRECISION, none zero (every symbol stays codable)."""
    total = 1 << PRECISION
    room = total - len(masses)
    freqs = [1 + int((m * room).to_integral_value(rounding="ROUND_FLOOR")) for m in masses]
    freqs[freqs.index(max(freqs))] += total - sum(freqs)
    return freqs


#: SHA-256 of the table's int64 bytes: the tables are part of the format (decoders must agree)
TABLE_SHA256 = "86364c52c2840bd57f7c9dcf98c7adec3484a6a31badc37e9bb804e633eab5db"


@functools.lru_cache(maxsize=1)
def frequency_table() -> np.ndarray:
    """(SCALE_BINS, MEAN_BINS, ALPHABET) int64 frequencies, checked against the pinned digest.
    Computing them takes ~0.1 s, so a copy is kept in inrz's cache folder; whatever is read
    back is used only if its digest is the pinned one."""
    cached = _cache_path()
    try:
        table = np.load(cached, allow_pickle=False)
        if table.dtype == np.int64 and hashlib.sha256(table.tobytes()).hexdigest() == TABLE_SHA256:
            return table
    except (OSError, ValueError):
        pass
    table = compute_frequency_table()
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, table, allow_pickle=False)
        os.replace(tmp, cached)
    except OSError:
        pass  # a read-only cache costs the computation each process, nothing else
    return table


def compute_frequency_table() -> np.ndarray:
    with localcontext() as ctx:
        ctx.prec = 34
        rows = [_table_for_scale(scale_of(s)) for s in range(SCALE_BINS)]
    table = np.asarray(rows, dtype=np.int64)
    digest = hashlib.sha256(table.tobytes()).hexdigest()
    if digest != TABLE_SHA256:  # decimal is exactly specified: this means a broken Python
        raise InrzError(f"latent-grid probability tables came out wrong on this platform ({digest})")
    return table


def _cache_path():
    from inrz import cache_dir

    return cache_dir() / f"c3-tables-{TABLE_SHA256[:16]}.npy"


@functools.lru_cache(maxsize=1)
def probability_table() -> np.ndarray:
    """Frequencies / 2**PRECISION as float64: exact (power-of-two division), what the coder is given."""
    return frequency_table().astype(np.float64) / float(1 << PRECISION)



@functools.lru_cache(maxsize=1)
def coder_cdf() -> np.ndarray:
    """(SCALE_BINS, MEAN_BINS, ALPHABET + 1) int64: the cumulative frequencies the range coder
    really uses. `constriction`'s categorical model (`perfect=False`) is handed
    `probability_table()` and gives every symbol 1 plus its share of 2**PRECISION - ALPHABET,
    cdf[s] = floor(F_s * (2**PRECISION - ALPHABET) / 2**PRECISION) + s with F_s the table's
    cumulative frequency, the last entry 2**PRECISION. Every float it forms is an exact dyadic
    rational, so this integer form is that model bit for bit (tests check it against constriction)."""
    freq = frequency_table()
    total = 1 << PRECISION
    cum = np.concatenate([np.zeros(freq.shape[:-1] + (1,), np.int64), np.cumsum(freq, -1)], -1)
    cdf = (cum * (total - ALPHABET)) >> PRECISION  # < 2**48: exact in int64
    cdf += np.arange(ALPHABET + 1, dtype=np.int64)
    cdf[..., -1] = total
    return cdf
