"""`inrz info` as text: the rate first, then what the file resolves to, then where the bytes go."""
from __future__ import annotations

from typing import Any


def info_text(path: str, facts: dict[str, Any]) -> str:
    """A few aligned lines a person reads at a glance (`--json` has everything)."""
    unit = facts["unit"]
    grid = " x ".join(map(str, facts["grid"]))
    rate_extra = "".join(f", {v:.4g} {k}" for k, v in facts.items() if k not in _KNOWN and isinstance(v, float))
    lines = [f"{path}: {facts['file_bytes']} bytes, {facts['bpp']:.4f} bits per {unit}{rate_extra} "
             f"(payload {facts['payload_bpp']:.4f})",
             _row("grid", f"{grid} ({', '.join(facts['axes'])}), {facts['points']} {unit}s")]
    components = facts["components"]
    lines.append(_row("modality", _config(components["modality"])))
    arch = dict(facts["architecture"])
    resolved = ", ".join(f"{k} {v}" for k, v in arch.items() if k != "backend")
    lines.append(_row("backend", f"{_config(components['backend'])}"))
    lines.append(_row("resolved", resolved or "-"))
    for kind in ("quantizer", "entropy"):  # absent where the backend codes its own payload
        lines.append(_row(kind, _config(components[kind]) if kind in components else "(the backend's own)"))
    lines.append(_row("bytes", ", ".join(f"{k} {v}" for k, v in facts["bytes"].items())))
    return "\n".join(lines)


_KNOWN = {"bpp", "payload_bpp"}


def _row(name: str, value: str) -> str:
    return f"  {name:<10} {value}"


def _config(config: dict[str, Any]) -> str:
    """`id: key value, ...` without the settings left at None."""
    settings = ", ".join(f"{k} {v}" for k, v in config.items() if k != "id" and v is not None)
    return f"{config.get('id')}" + (f": {settings}" if settings else "")
