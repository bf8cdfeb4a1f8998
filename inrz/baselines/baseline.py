"""Classical codecs, compared with inrz at a matching rate.

A baseline MUST implement `encode(signal, quality) -> bytes` (larger quality, larger file,
monotone enough to bisect) and `decode(data, signal) -> Signal` in the original's native
form, and list the modality ids it applies to. The classmethod `available()` (from
`Component`) returns None or the reason it cannot run here (e.g. Pillow built without
JPEG 2000); runs record that reason instead of failing. `library()` names the library and
version that does the coding; reports print it beside the codec. Raise `version` whenever a change
alters the files or figures a baseline produces: finished runs then re-match it (and only it)
to their stored inrz files when resumed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..core.component import Component
from ..signal.modality import Signal


@dataclass
class BaselineResult:
    data: bytes
    decoded: Signal
    quality: int


class Baseline(Component):
    kind = "baseline"
    hook = "register_baselines"  # the plugin hook that registers this kind (`inrz.hookimpl`)
    modalities: ClassVar[tuple[str, ...]] = ()
    quality_range: ClassVar[tuple[int, int]] = (1, 100)
    version: ClassVar[int] = 1

    @classmethod
    def library(cls) -> str | None:
        """The library (and its version) that does the coding, as reports state it beside every
        figure: 'libavif 1.4.0 (aom encoder) via imagecodecs 2026.3.6'. None when unknown."""
        return None

    def encode(self, signal: Signal, quality: int) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes, original: Signal) -> Signal:
        raise NotImplementedError

    def at_size(self, signal: Signal, target_bytes: int, guess: int | None = None) -> BaselineResult:
        """The largest file not above `target_bytes` (the lowest quality if none fits): bisection
        over `quality_range`, or, given a `guess` near the answer, a walk from it one step at a
        time (a slow encoder's few encodes instead of log2 of its range)."""
        if guess is None:
            q, data = self._bisect(signal, target_bytes)
        else:
            q, data = self._walk(signal, target_bytes, guess)
        return BaselineResult(data, self.decode(data, signal), q)

    def _bisect(self, signal: Signal, target_bytes: int) -> tuple[int, bytes]:
        lo, hi = self.quality_range
        best = None
        while lo <= hi:
            q = (lo + hi) // 2
            data = self.encode(signal, q)
            if len(data) <= target_bytes:
                best, lo = (q, data), q + 1
            else:
                hi = q - 1
        if best is None:
            q = self.quality_range[0]
            best = (q, self.encode(signal, q))
        return best

    def _walk(self, signal: Signal, target_bytes: int, guess: int) -> tuple[int, bytes]:
        lo, hi = self.quality_range
        q = min(max(guess, lo), hi)
        data = self.encode(signal, q)
        if len(data) <= target_bytes:  # fits: step up while the next one still fits
            while q < hi and len(bigger := self.encode(signal, q + 1)) <= target_bytes:
                q, data = q + 1, bigger
            return q, data
        while q > lo:  # too big: step down until one fits (or the lowest quality)
            q, data = q - 1, self.encode(signal, q - 1)
            if len(data) <= target_bytes:
                break
        return q, data
