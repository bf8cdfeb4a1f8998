"""Default pipeline sections, in one place: what a spec gets for the sections it leaves out,
and what `inrz.compress` and `inrz compress` use when given neither a spec nor a preset (the
modality's `default_codec()` on top of these).
"""
from __future__ import annotations

import copy
from typing import Any

from ..signal.modality import Modality

#: COIN with its own defaults, fp16 weights, zstd
CORE_SECTIONS: dict[str, dict[str, Any]] = {"backend": {"id": "coin"}, "quantizer": {"id": "fp16"},
                                            "entropy": {"id": "zstd"}}


def core_section(name: str) -> dict[str, Any]:
    """A fresh copy of one core section (pydantic defaults and callers may keep it)."""
    return copy.deepcopy(CORE_SECTIONS[name])


def codec_sections(modality: Modality, preset: str | None = None, steps: int | None = None) -> dict[str, dict]:
    """The core sections, then the modality's defaults, then a named COIN preset and a number
    of fit steps if the caller gives them."""
    sections = {name: core_section(name) for name in CORE_SECTIONS}
    sections.update(copy.deepcopy(type(modality).default_codec()))
    if preset is not None:
        sections["backend"] = {"id": "coin", "preset": preset}
    if steps is not None:
        sections["backend"] = {**sections["backend"], "steps": steps}
    return sections
