"""What a container holds, for people: rates, the resolved configuration, bytes per part.

`describe` reads the header only (no decoding, no fitting), so `inrz info` is instant; the
figures it derives (bits per point, the network a `bpp` budget resolved to) come from the
same components the decoder rebuilds.
"""
from __future__ import annotations

import math
import struct
from typing import Any

from .. import container
from ..core.errors import InrzError
from .decode import build_components, header_fields

_PREAMBLE = 10  # magic, version, flags, header length (docs/format.md)
_CRC = 4


def describe(data: bytes, host=None) -> dict[str, Any]:
    """Sizes, rates and the resolved configuration of container bytes (checked as `decode` checks them)."""
    header, sections = container.read(data)
    grid, d_in, d_out, meta, _ = header_fields(header)
    points = math.prod(grid)
    components = build_components(header, host)
    modality, backend = components["modality"], components["backend"]
    payload = sum(len(v) for v in sections.values())
    out: dict[str, Any] = {
        "format_version": data[4], "file_bytes": len(data), "payload_bytes": payload,
        "bytes": parts(data, sections), "points": points, "unit": modality.unit, "grid": grid,
        "axes": list(modality.axis_names(meta, len(grid))),
        "bpp": 8 * len(data) / points, "payload_bpp": 8 * payload / points,
        **modality.rate_figures(len(data), meta),
    }
    try:
        out["architecture"] = {"backend": backend.id, **backend.architecture(grid, d_in, d_out)}
    except InrzError as exc:  # e.g. a COIN++ base network that is not installed here
        out["architecture"] = {"backend": backend.id, "unavailable": str(exc)}
    # a backend that codes its own payload stores no quantizer or entropy model (`Backend.coding`)
    out["components"] = {kind: header[kind] for kind in ("modality", "backend", "quantizer", "entropy") if kind in header}
    return out


def parts(data: bytes, sections: dict[str, bytes]) -> dict[str, int]:
    """Bytes of each part of the file: envelope, compressed header, section table, each section, checksum."""
    header = struct.unpack_from("<I", data, 6)[0]
    table = 1 + sum(1 + len(name) + 4 for name in sections)
    return {"envelope": _PREAMBLE + _CRC, "header": header, "section_table": table,
            **{f"section:{name}": len(body) for name, body in sections.items()}}
