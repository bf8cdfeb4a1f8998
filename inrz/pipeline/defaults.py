"""Default pipeline sections, in one place: what a spec gets for the sections it leaves out,
and what `inrz.compress` and `inrz compress` use when given neither a spec nor a preset (the
modality's `default_codec()` on top of these, the backend's own Config defaults below them).

Presets are named by what they do: a rate preset (`0.3bpp`) is a rate target met on the datum
itself (rate control), any other name is the backend's own fixed configuration (COIN's
architectures by shape, `10x28`).
"""
from __future__ import annotations

import copy
import re
from typing import Any, Mapping

from ..core.errors import SpecError
from ..host.manager import get_host
from ..signal.modality import Modality

#: the default backend (a section without an `id`: the installed backend that declares itself the
#: default, `PluginHost.default_backend`) with its own defaults, fp16 weights, zstd
CORE_SECTIONS: dict[str, dict[str, Any]] = {"backend": {}, "quantizer": {"id": "fp16"}, "entropy": {"id": "zstd"}}
#: the rate presets (bits per point, whole file, on any datum); any "<number>bpp" is one too
RATE_PRESETS = ("0.07bpp", "0.15bpp", "0.3bpp", "0.6bpp", "1.2bpp")
_RATE = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)bpp$")


def core_section(name: str) -> dict[str, Any]:
    """A fresh copy of one core section (pydantic defaults and callers may keep it)."""
    return copy.deepcopy(CORE_SECTIONS[name])


def rate_preset(preset: str | None) -> float | None:
    """The bits per point a rate preset names ("0.3bpp" -> 0.3), None for other presets."""
    match = _RATE.match(preset or "")
    return float(match.group(1)) if match else None


def codec_sections(modality: Modality, preset: str | None = None, steps: int | None = None,
                   settings: Mapping[str, Any] | None = None, backend: str | None = None, host=None) -> dict[str, dict]:
    """The core sections, then the modality's defaults, then another `backend` (its own
    defaults) and a fixed preset of the chosen backend (its `preset` setting: COIN's `10x28`), then
    backend `settings` (`steps`, `lr`, ...: any field of the backend's Config). A rate preset
    changes no section: it is a target (`rate_preset`). A backend section without an `id` is the
    default backend's (`host`'s: the process-wide one if None, asked only when `backend` is given)."""
    sections = {name: core_section(name) for name in CORE_SECTIONS}
    sections.update(copy.deepcopy(type(modality).default_codec()))
    if backend is not None and backend != sections["backend"].get("id"):
        if "id" in sections["backend"] or not _is_default(host or get_host(), backend):
            sections["backend"] = {"id": backend}
        else:
            sections["backend"] = {"id": backend, **sections["backend"]}
    if preset is not None and rate_preset(preset) is None:
        chosen = {"id": sections["backend"]["id"]} if "id" in sections["backend"] else {}
        sections["backend"] = {**chosen, "preset": preset}  # the chosen backend's preset
    extra = {**(settings or {}), **({} if steps is None else {"steps": steps})}
    if extra:
        sections["backend"] = {**sections["backend"], **extra}
    return sections


def _is_default(host, backend: str) -> bool:
    """Whether `backend` is the default backend (none may be installed: then it is not)."""
    try:
        return host.default_backend() == backend
    except SpecError:
        return False


def check_settings(host, backend: Mapping[str, Any], settings: Mapping[str, Any]) -> None:
    """Keyword settings must be fields of the backend's Config: a typo is an error, not ignored."""
    backend = host.backend_section(backend)
    fields = host.registry.get("backend", backend["id"]).Config.model_fields
    unknown = sorted(set(settings) - set(fields))
    if unknown:
        raise SpecError(f"backend {backend['id']!r} has no setting {', '.join(map(repr, unknown))}; its settings: "
                        f"{', '.join(fields)}")
