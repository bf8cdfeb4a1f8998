"""Decoding: container bytes -> components rebuilt from the header -> the signal.

`decode` needs only the bytes and a `PluginHost` that knows the components the header
names, never the spec. `render` is shared with the encoder, which decodes its own container
in error-bounded mode so encoder and decoder agree on every value.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch

from .. import container
from ..backends.base import EncodeContext
from ..coding import errorbound
from ..core.device import resolve_device
from ..core.errors import ContainerError, InrzError, SpecError
from ..core.host import get_host
from ..signal.modality import Modality, Placement, Signal

COMPONENT_KINDS = ("modality", "backend", "quantizer", "entropy")


@dataclass
class Decoded:
    signal: Signal
    header: dict[str, Any]


def decode(data: bytes, host=None, device: str | torch.device = "cpu", scale: float = 1.0,
           region: Sequence[tuple[float, float]] | None = None) -> Decoded:
    """Decode a container; `scale`/`region` (pixel units per grid axis) render at another resolution."""
    header, sections = container.read(data)
    return Decoded(render(build_components(header, host), header, sections, device, scale, region), header)


def render(components: dict[str, Any], header: dict[str, Any], sections: dict[str, bytes],
           device: str | torch.device = "cpu", scale: float = 1.0,
           region: Sequence[tuple[float, float]] | None = None) -> Signal:
    """Evaluate a container's representation; the encoder calls this too, so both agree.

    Malformed content raises `ContainerError` where it is read (here for the header fields,
    in the components for their bytes); anything else (out of memory, a plugin's bug) keeps
    its own type, so it is never mistaken for a damaged file.
    """
    grid, d_in, d_out, meta, norm = header_fields(header)
    bounded = "error_bound" in header
    if bounded and (scale != 1.0 or region is not None):
        raise InrzError("an error-bounded container decodes at its own grid only (no --scale/--region)")
    modality, backend = components["modality"], components["backend"]
    layout = _layout(backend, grid, d_in, d_out)
    tensors = backend.unpack_payload(sections, layout, components["quantizer"], components["entropy"])
    out_grid, coord_region, placement = render_grid(grid, scale, region, modality.axis_names(meta, len(grid)))
    coords = modality.coordinates(out_grid, coord_region, meta)
    ctx = EncodeContext(resolve_device(device) if isinstance(device, str) else device,
                        coordinates=coordinates_for(modality, meta))
    features = backend.decode(tensors, coords, d_out, ctx)
    native = region is None and tuple(out_grid) == tuple(grid)
    out_meta = meta if native else modality.resized_meta(meta, out_grid, placement)
    signal = modality.from_features(features, out_meta, norm)
    if bounded:
        signal.data = errorbound.decode(signal.data, header["error_bound"], sections)
    return signal


def header_fields(header: dict[str, Any]) -> tuple[list[int], int, int, dict[str, Any], dict[str, Any]]:
    """The header fields the codec reads (grid, d_in, d_out, meta, norm), checked before use."""
    grid = header.get("grid")
    if not (isinstance(grid, list) and grid and all(_positive_int(n) for n in grid)):
        raise ContainerError(f"header grid must be a non-empty list of positive integers, got {grid!r}")
    for key in ("d_in", "d_out"):
        if not _positive_int(header.get(key)):
            raise ContainerError(f"header {key} must be a positive integer, got {header.get(key)!r}")
    for key in ("meta", "norm"):
        if not isinstance(header.get(key), dict):
            raise ContainerError(f"header {key} must be an object, got {type(header.get(key)).__name__}")
    return grid, header["d_in"], header["d_out"], header["meta"], header["norm"]


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _layout(backend, grid: list[int], d_in: int, d_out: int) -> dict[str, tuple[int, ...]]:
    """The backend's layout for the header's grid; a config that cannot code it is a bad file."""
    try:
        return backend.layout(grid, d_in, d_out)
    except SpecError as exc:
        raise ContainerError(f"the header's backend config cannot code its own grid {grid}: {exc}") from exc


def coordinates_for(modality: Modality, meta: dict[str, Any]):
    """The modality's coordinate function for one datum, as backends receive it."""
    return lambda shape: modality.coordinates(shape, meta=meta)


def build_components(header: dict[str, Any], host=None) -> dict[str, Any]:
    """Rebuild the components a container names; a missing plugin is reported by name."""
    host = host or get_host()
    out = {}
    for kind in COMPONENT_KINDS:
        config = header.get(kind)
        if not isinstance(config, dict) or not isinstance(config.get("id"), str):
            raise ContainerError(f"container header has no valid {kind!r} config")
        try:
            out[kind] = host.create(kind, config)
        except InrzError as exc:  # unknown id (a missing plugin) or settings its Config rejects
            raise ContainerError(f"cannot rebuild the {kind} this file was written with: {exc}") from exc
    return out


def render_grid(grid: Sequence[int], scale: float = 1.0, region: Sequence[tuple[float, float]] | None = None,
                axes: Sequence[str] | None = None) -> tuple[list[int], list[tuple[float, float]], list[Placement]]:
    """The output grid, its coordinate region and its placement on the native grid for a
    rendering at `scale` of `region` (start:stop in native samples per axis, stop excluded).

    The first and last output samples sit on native samples `start` and `stop - 1` (the
    coordinate convention of `grid_coordinates`: samples at both ends), so output sample i is
    at native index `start + i * (stop - 1 - start) / (m - 1)` for m output samples."""
    if scale <= 0:
        raise InrzError(f"scale must be positive, got {scale}")
    axes = list(axes or [f"axis{i}" for i in range(len(grid))])
    region = list(region) if region is not None else [(0.0, float(n)) for n in grid]
    if len(region) != len(grid):
        raise InrzError(f"region has {len(region)} axes, the signal has {len(grid)} ({', '.join(axes)}): give "
                        f"start:stop for each, e.g. {','.join(f'0:{n}' for n in grid)}")
    out_grid, coord_region, placement = [], [], []
    for n, (lo, hi), name in zip(grid, region, axes):
        if not 0 <= lo < hi <= n:
            raise InrzError(f"region {lo:g}:{hi:g} is outside axis {name} (0:{n})")
        m = max(1, round((hi - lo) * scale))
        to_coord = (lambda i: -1.0 + 2.0 * i / (n - 1)) if n > 1 else (lambda i: 0.0)
        out_grid.append(m)
        coord_region.append((to_coord(lo), to_coord(hi - 1)))
        placement.append(Placement(lo, (hi - 1 - lo) / (m - 1)) if m > 1 else Placement((lo + hi - 1) / 2, 1.0))
    return out_grid, coord_region, placement
