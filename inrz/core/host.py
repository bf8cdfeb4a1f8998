"""The plugin host's former address, kept working for callers that have not moved yet
(`inrz/archive/config.py`). The host lives in `inrz.host.manager`, above the contracts it
checks; the core imports nothing above itself, so this alias resolves a name on first use.
"""
from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    from ..host import manager  # on first use, never at import: see the module docstring

    return getattr(manager, name)
