"""Classical codecs, compared with inrz at a matching rate.

A baseline MUST implement `encode(signal, quality) -> bytes` (larger quality, larger file,
monotone enough to bisect) and `decode(data, signal) -> Signal` in the original's native
form, and list the modality ids it applies to. The classmethod `available()` (from
`Component`) returns None or the reason it cannot run here (e.g. Pillow built without
JPEG 2000); runs record that reason instead of failing. Raise `version` whenever a change
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
    modalities: ClassVar[tuple[str, ...]] = ()
    quality_range: ClassVar[tuple[int, int]] = (1, 100)
    version: ClassVar[int] = 1

    def encode(self, signal: Signal, quality: int) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes, original: Signal) -> Signal:
        raise NotImplementedError

    def at_size(self, signal: Signal, target_bytes: int) -> BaselineResult:
        """Bisect quality to the largest file not above `target_bytes` (the lowest quality if none fits)."""
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
        q, data = best
        return BaselineResult(data, self.decode(data, signal), q)
