"""Decoding: container bytes -> components rebuilt from the header -> the signal.

`decode` needs only the bytes and a `PluginHost` that knows the components the header
names, never the spec. It imports no torch: `device` (a `torch.device` or its name) reaches
the backend unresolved, and only a backend that runs torch resolves it. `render` is shared with the encoder, which decodes its own container
in error-bounded mode so encoder and decoder agree on every value.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .. import container
from ..backends.base import EncodeContext
from ..coding import specials
from ..core.errors import ContainerError, InrzError
from ..host.manager import get_host
from ..signal.modality import Modality, Placement, Signal
from .header import header_fields, is_bounded, layout_of, num_values
from .limits import DecodeLimits

COMPONENT_KINDS = ("modality", "backend", "quantizer", "entropy")
CODING_KINDS = ("quantizer", "entropy")  # the components a backend may code its payload with (`Backend.coding`)


@dataclass
class Decoded:
    signal: Signal
    header: dict[str, Any]


def decode(data: bytes, host=None, device: Any = "cpu", scale: float = 1.0,
           region: Sequence[tuple[float, float]] | None = None, limits: DecodeLimits | None = None) -> Decoded:
    """Decode a container; `scale`/`region` (pixel units per grid axis) render at another resolution.

    `limits` bound the work a file may ask for relative to its size (default: `DecodeLimits`,
    or none with `INRZ_DECODE_LIMITS=trusted`); `DecodeLimits.trusted()` lifts them."""
    header, sections = container.read(data)
    components = build_components(header, host)
    (limits or DecodeLimits.from_env()).check(components["backend"], header, sections, len(data))
    return Decoded(render(components, header, sections, device, scale, region), header)


def render(components: dict[str, Any], header: dict[str, Any], sections: dict[str, bytes],
           device: Any = "cpu", scale: float = 1.0,
           region: Sequence[tuple[float, float]] | None = None) -> Signal:
    """Evaluate a container's representation; the encoder calls this too, so both agree.

    Every header field is checked before it is used (here, and by the modality's
    `check_header`), the components that parse bytes raise `ContainerError` for malformed
    content, and what the backend returns is checked (shapes, finite values). Anything else
    (out of memory, a plugin's bug) keeps its own type, so it is never mistaken for a damaged file.
    """
    grid, d_in, d_out, meta, norm = header_fields(header)
    modality, backend = components["modality"], components["backend"]
    modality.check_header(meta, norm, grid, d_out)
    bounded = is_bounded(header, sections)
    if bounded:
        from ..coding import errorbound  # late: the archive's modules, only for an error-bounded file

        errorbound.check_info(header["error_bound"], num_values(grid, d_out))
        if scale != 1.0 or region is not None:
            raise InrzError("an error-bounded container decodes at its own grid only (no --scale/--region)")
    layout = layout_of(backend, grid, d_in, d_out)
    tensors = backend.unpack_payload(sections, layout, components.get("quantizer"), components.get("entropy"))
    _check_tensors(tensors, layout)
    out_grid, coord_region, placement = render_grid(grid, scale, region, modality.axis_names(meta, len(grid)))
    native = region is None and tuple(out_grid) == tuple(grid)
    coords = modality.coordinates(out_grid, None if native else coord_region, meta)
    if coords.shape[-1] != d_in:
        raise ContainerError(f"header d_in is {d_in}, but the {modality.id} modality gives {coords.shape[-1]}-D coordinates")
    ctx = EncodeContext(device, coordinates=coordinates_for(modality, meta, coords if native else None),
                        periodic=tuple(modality.periodic_axes(meta)))
    features = backend.decode(tensors, coords, d_out, ctx)
    _check_features(features, out_grid, d_out)
    out_meta = meta if native else modality.resized_meta(meta, out_grid, placement)
    signal = modality.from_features(features, out_meta, norm)
    if bounded:
        from ..coding import errorbound  # late: as above

        signal.data = errorbound.decode(signal.data, header["error_bound"], sections)
    if "specials" in sections:
        if tuple(out_grid) != tuple(grid):
            raise InrzError("a container with exactly kept values (NaN, fill values) decodes at its own grid only")
        signal.data = specials.apply(signal.data, sections["specials"])
    return signal


def _check_tensors(tensors: dict[str, np.ndarray], layout: dict[str, tuple[int, ...]]) -> None:
    """The payload's tensors are the layout's, finite: a damaged payload stops here."""
    for name, shape in layout.items():
        value = tensors.get(name)
        if not isinstance(value, np.ndarray) or tuple(value.shape) != tuple(shape):
            raise ContainerError(f"the payload does not hold tensor {name!r} of shape {tuple(shape)}")
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise ContainerError(f"the payload's tensor {name!r} holds NaN or infinite values: the file is damaged")


def _check_features(features: np.ndarray, grid: Sequence[int], d_out: int) -> None:
    if not isinstance(features, np.ndarray) or tuple(features.shape) != (*grid, d_out):
        shape = getattr(features, "shape", None)
        raise ContainerError(f"the representation decodes to shape {shape}, not {(*grid, d_out)}")
    if not np.isfinite(features).all():
        raise ContainerError("the representation decodes to NaN or infinite values: the file is damaged")


def coordinates_for(modality: Modality, meta: dict[str, Any], native: np.ndarray | None = None):
    """The modality's coordinate function for one datum, as backends receive it. `native`: the
    coordinates of the datum's own grid, already computed (the array `Backend.decode` receives,
    which backends read and never write), returned again, the same object, when that grid is
    asked for instead of being computed twice: a backend that compares its render grid with the
    native one (c3) finds them identical at no cost."""
    if native is None:
        return lambda shape: modality.coordinates(shape, meta=meta)
    own = tuple(native.shape[:-1])
    return lambda shape: native if tuple(shape) == own else modality.coordinates(shape, meta=meta)


def build_components(header: dict[str, Any], host=None) -> dict[str, Any]:
    """Rebuild the components a container names; a missing plugin is reported by name. The
    quantizer and entropy model only where the backend codes with them (`Backend.coding`):
    files of a backend that codes its own payload may still name both (older writers stored
    them), and they are not needed to decode it."""
    host = host or get_host()
    out = {}
    for kind in COMPONENT_KINDS:
        if kind in CODING_KINDS and kind not in out["backend"].coding:
            continue
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
