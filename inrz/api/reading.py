"""The reading half of the Python API: `.inrz` bytes back to arrays, and headers.

Kept apart from `inrz.api.functions` so that a process that only decodes imports the decoder's
modules and not the encoder's, the runs' or the rate control's (`inrz.decompress` in a fresh
process: see benchmarks/c3_decode.py's `fresh` figures).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import container
from ..core import threads
from ..host.manager import get_host
from ..pipeline.decode import decode
from ..pipeline.limits import DecodeLimits


def decompress(data: bytes, *, device: str = "cpu", host=None, limits: DecodeLimits | None = None) -> np.ndarray:
    """Decode `.inrz` bytes to the array (use `decode` for the metadata too). `limits` bound the
    work a file may ask for (`DecodeLimits`; `DecodeLimits.trusted()` for files you trust)."""
    threads.configure()
    return decode(data, host or get_host(), device, limits=limits).signal.data


def read_header(path: str | Path) -> dict[str, Any]:
    """Read a container's header without decoding it (also `inrz.open`, its first name)."""
    return container.read_header(container.read_file(path))


__all__ = ["decompress", "read_header"]
