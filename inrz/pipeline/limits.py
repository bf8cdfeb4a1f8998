"""How much a container may ask of its reader: decoding work in proportion to the file.

A header names the grid and the network, and a few bytes can name a 20000 x 20000 grid or a
network of a billion weights. Before decoding computes anything, `DecodeLimits.check`
compares what the header asks for with the size of the file:

- decoded values (grid points x channels): at most `values_per_byte` per byte of file, and
  always `min_values`. 1024 is 0.008 bits per value, below every rate on COIN's ladder
  (0.02 bits per point is the lowest) even for one channel;
- stored numbers (the backend's layout): at most `numbers_per_byte` per byte of the payload
  sections, and always `min_numbers`. 64 is an eighth of a bit each (fp16 weights take 16);
- multiply-adds to evaluate the representation, when the backend can tell
  (`Backend.decode_cost`): at most `work_per_byte` per byte of file, and always `min_work`.
  2**24 decodes COIN files up to ~30 million points at fp16 (a 256^3 volume); about a
  second of CPU per 100 bytes at most.

Files from a source you trust decode without limits: `DecodeLimits.trusted()` in Python,
`inrz decompress --trusted`, or `INRZ_DECODE_LIMITS=trusted` for every reader in the process
(the archive codecs too). inrz trusts the containers it has just written itself.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from ..core.errors import DecodeLimitError, SpecError
from .header import header_fields, layout_of, num_values

LIMITS_ENV = "INRZ_DECODE_LIMITS"


@dataclass(frozen=True)
class DecodeLimits:
    values_per_byte: float = 1024.0
    min_values: int = 1 << 20
    numbers_per_byte: float = 64.0
    min_numbers: int = 1 << 12
    work_per_byte: float = 2.0 ** 24
    min_work: float = 2.0 ** 30

    @classmethod
    def trusted(cls) -> "DecodeLimits":
        """No limits: for files from a source you trust."""
        return cls(math.inf, 0, math.inf, 0, math.inf, 0)

    @classmethod
    def from_env(cls) -> "DecodeLimits":
        """The default limits, or none if `INRZ_DECODE_LIMITS=trusted`."""
        value = os.environ.get(LIMITS_ENV, "").strip().lower()
        if value in ("", "default"):
            return cls()
        if value == "trusted":
            return cls.trusted()
        raise SpecError(f"{LIMITS_ENV}={value!r}: use 'default' or 'trusted'")

    def check(self, backend, header: dict[str, Any], sections: dict[str, bytes], file_bytes: int) -> None:
        """Raise `DecodeLimitError` if decoding this file would take more than these limits allow."""
        grid, d_in, d_out, _, _ = header_fields(header)
        layout = layout_of(backend, grid, d_in, d_out)
        payload = sum(len(data) for data in sections.values())
        self._within("decoded values", num_values(grid, d_out), self.values_per_byte, self.min_values, file_bytes,
                     f"a grid of {' x '.join(map(str, grid))} points with {d_out} channels")
        self._within("stored numbers", backend.stored_numbers(layout), self.numbers_per_byte, self.min_numbers, payload,
                     "the network its header describes", of="payload bytes")
        cost = backend.decode_cost(layout, math.prod(grid), d_in, d_out)
        if cost is not None:
            self._within("multiply-adds", cost, self.work_per_byte, self.min_work, file_bytes,
                         "evaluating its network on its grid")

    @staticmethod
    def _within(what: str, amount: float, per_byte: float, floor: float, size: int, detail: str,
                of: str = "file bytes") -> None:
        allowed = max(floor, per_byte * size)
        if amount > allowed:
            raise DecodeLimitError(
                f"refusing to decode: {size} {of} ask for {amount:.3g} {what} ({detail}), more than the {allowed:.3g} "
                f"the reader allows ({per_byte:g} per byte); the file is damaged or hostile. If you trust its "
                f"source, decode with `inrz decompress --trusted`, `limits=inrz.DecodeLimits.trusted()` or "
                f"{LIMITS_ENV}=trusted")
