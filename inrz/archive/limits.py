"""How much an archive chunk may ask of its reader, checked before anything is allocated.

The rule is `inrz.DecodeLimits`' (what `inrz.decompress` applies to containers), for the
compact frames that have no header to check:

- decoded values: at most `values_per_byte` per byte of the frame, and always `min_values`
  (1024 per byte and 2**20, as for containers). This binds only where the caller does not
  know the chunk's size: a plain `codec.decode(buf)`. Where it does (zarr's chunk shape, a
  numcodecs `out=` buffer), the frame must describe exactly that many values, and it is the
  caller's metadata that vouches for the size;
- bytes decoding allocates (the chunk itself and the decoder's working arrays, estimated per
  value for each kind of frame): at most `max_bytes`, 2 GiB, in every case.

Chunks from a source you trust decode without limits: `INRZ_DECODE_LIMITS=trusted` for every
reader in the process (as for containers), or `limits=FrameLimits.trusted()` in Python
(`inrz.archive.config.decode_array`). Trust is the reader's choice: it is never read from a
codec's configuration, which comes from the store.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

from ..core.errors import DecodeLimitError
from ..pipeline.limits import LIMITS_ENV, DecodeLimits

_DEFAULT = DecodeLimits()


@dataclass(frozen=True)
class FrameLimits:
    values_per_byte: float = _DEFAULT.values_per_byte
    min_values: int = _DEFAULT.min_values
    max_bytes: float = 2.0 ** 31

    @classmethod
    def trusted(cls) -> "FrameLimits":
        """No limits: for chunks from a source you trust."""
        return cls(math.inf, 0, math.inf)

    @classmethod
    def from_env(cls) -> "FrameLimits":
        """The default limits, or none if `INRZ_DECODE_LIMITS=trusted` (`SpecError` for another value).
        Read per call (the variable may change), built once per value: every chunk asks."""
        raw = os.environ.get(LIMITS_ENV, "")
        found = _FROM_ENV.get(raw)
        if found is None:
            found = cls.trusted() if DecodeLimits.from_env() == DecodeLimits.trusted() else cls()
            _FROM_ENV[raw] = found  # frozen: safe to share between threads
        return found

    def is_trusted(self) -> bool:
        return self == FrameLimits.trusted()

    def container_limits(self) -> DecodeLimits | None:
        """What a chunk stored as a container is decoded under (None: `DecodeLimits.from_env()`)."""
        return DecodeLimits.trusted() if self.is_trusted() else None

    def check(self, values: int, work_bytes: float, frame_bytes: int, vouched: bool) -> None:
        """`DecodeLimitError` if a frame of `frame_bytes` bytes may not decode to `values` values
        using `work_bytes` bytes; `vouched`: the caller knows the chunk has `values` values."""
        allowed = max(self.min_values, self.values_per_byte * frame_bytes)
        if not vouched and values > allowed:
            _refuse(f"{frame_bytes} bytes of chunk frame ask for {values} values, more than the {allowed:.3g} the "
                    f"reader allows ({self.values_per_byte:g} per byte, or the chunk's size where the reader knows it)")
        if work_bytes > self.max_bytes:
            _refuse(f"decoding this chunk frame of {values} values would allocate about {work_bytes:.3g} bytes, more "
                    f"than the {self.max_bytes:.3g} the reader allows")


_FROM_ENV: dict[str, FrameLimits] = {}  # FrameLimits.from_env by the variable's value


def _refuse(what: str) -> None:
    raise DecodeLimitError(f"refusing to decode: {what}; the chunk is damaged or hostile. If you trust its source, "
                           f"set {LIMITS_ENV}=trusted or pass limits=FrameLimits.trusted() "
                           "(inrz.archive.limits)")
