"""One codec pipeline: Signal -> features -> backend tensors -> symbols -> bytes -> `.inrz`.

`Codec` holds the four components a spec chooses; `decode` needs only the container bytes
(and a `PluginHost` that knows the components named in its header), never the spec.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch
from pydantic import ValidationError

from .. import container
from ..coding import errorbound
from ..backends.base import Backend, EncodeContext, Progress
from ..core.device import resolve_device
from ..coding.entropy import EntropyModel
from ..core.errors import ContainerError, InrzError
from ..signal.modality import Modality, Signal
from ..coding.quantize import Quantizer

COMPONENT_KINDS = ("modality", "backend", "quantizer", "entropy")


@dataclass
class Encoded:
    data: bytes  # the whole `.inrz` file
    payload_bytes: int  # entropy-coded symbols + side info: the figure papers report
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Decoded:
    signal: Signal
    header: dict[str, Any]


@dataclass
class Codec:
    modality: Modality
    backend: Backend
    quantizer: Quantizer
    entropy: EntropyModel
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    seed: int = 0
    max_abs_error: float | None = None  # error-bounded mode: store a residual so no value is further off

    def encode(self, signal: Signal, progress: Progress | None = None) -> Encoded:
        return self.encode_batch([signal], progress)[0]

    def encode_batch(self, signals: Sequence[Signal], progress: Progress | None = None) -> list[Encoded]:
        """Fit all signals together (they must share a grid shape) and write one container each."""
        grids = {self.modality.grid_shape(s) for s in signals}
        if len(grids) != 1:
            raise InrzError(f"encode_batch needs signals of one grid shape, got {sorted(grids)}")
        grid = grids.pop()
        feats, norms = zip(*(self.modality.to_features(s) for s in signals))
        features = np.stack(feats).astype(np.float32)  # (B, *grid, d_out)
        coords = self.modality.coordinates(grid, meta=signals[0].meta)  # (*grid, d_in)
        ctx = EncodeContext(self.device, self.seed, progress, coordinates_for(self.modality, signals[0].meta))
        results = self.backend.encode(coords, features, ctx)
        return [self._pack(s, n, r.tensors, r.info, grid, coords.shape[-1], features.shape[-1])
                for s, n, r in zip(signals, norms, results)]

    def _pack(self, signal, norm, tensors, info, grid, d_in, d_out) -> Encoded:
        layout = self.backend.layout(grid, d_in, d_out)
        tensors = {name: tensors[name] for name in layout}
        symbols, side = self.quantizer.quantize(tensors)
        payload = self.entropy.encode(symbols, self.quantizer.bits)
        header = {
            **{kind: getattr(self, kind).get_config() for kind in COMPONENT_KINDS},
            "meta": signal.meta, "norm": norm, "grid": list(grid), "d_in": d_in, "d_out": d_out,
        }
        sections = {"side": side, "payload": payload} if side else {"payload": payload}
        if self.max_abs_error is not None:
            components = {kind: getattr(self, kind) for kind in COMPONENT_KINDS}
            approx = render(components, header, sections, self.device).data
            header["error_bound"], extra = errorbound.residual_sections(signal.data, approx, self.max_abs_error)
            sections.update(extra)
        data = container.write(header, sections)
        return Encoded(data, sum(len(v) for v in sections.values()), dict(info))


def decode(data: bytes, host=None, device: str | torch.device = "cpu", scale: float = 1.0,
           region: Sequence[tuple[float, float]] | None = None) -> Decoded:
    """Decode a container; `scale`/`region` (pixel units per grid axis) render at another resolution."""
    header, sections = container.read(data)
    return Decoded(render(build_components(header, host), header, sections, device, scale, region), header)


def render(components: dict[str, Any], header: dict[str, Any], sections: dict[str, bytes],
           device: str | torch.device = "cpu", scale: float = 1.0,
           region: Sequence[tuple[float, float]] | None = None) -> Signal:
    """Evaluate a container's representation; the encoder calls this too, so both agree."""
    modality = components["modality"]
    bounded = "error_bound" in header
    if bounded and (scale != 1.0 or region is not None):
        raise InrzError("an error-bounded container decodes at its own grid only (no --scale/--region)")
    try:
        grid, d_in, d_out = [int(n) for n in header["grid"]], int(header["d_in"]), int(header["d_out"])
        layout = components["backend"].layout(grid, d_in, d_out)
        symbols = components["entropy"].decode(sections["payload"], layout, components["quantizer"].bits)
        tensors = components["quantizer"].dequantize(symbols, sections.get("side", b""))
        out_grid, coord_region = render_grid(grid, scale, region)
        coords = modality.coordinates(out_grid, coord_region, header["meta"])
        ctx = EncodeContext(resolve_device(device) if isinstance(device, str) else device,
                            coordinates=coordinates_for(modality, header["meta"]))
        features = components["backend"].decode(tensors, coords, d_out, ctx)
        meta = header["meta"] if tuple(out_grid) == tuple(grid) else modality.resized_meta(header["meta"], out_grid)
        signal = modality.from_features(features, meta, header["norm"])
        if bounded and "residual" in sections:
            signal.data = errorbound.decode(signal.data, header["error_bound"], sections)
        return signal
    except (KeyError, ValueError, TypeError, IndexError, RuntimeError) as exc:
        raise ContainerError(f"container is well-formed but its contents cannot be decoded: {type(exc).__name__}: {exc}") from exc


def coordinates_for(modality: Modality, meta: dict[str, Any]):
    """The modality's coordinate function for one datum, as backends receive it."""
    return lambda shape: modality.coordinates(shape, meta=meta)


def build_components(header: dict[str, Any], host=None) -> dict[str, Any]:
    """Rebuild the components a container names; a missing plugin is reported by name."""
    from ..core.host import get_host

    host = host or get_host()
    out = {}
    for kind in COMPONENT_KINDS:
        config = header.get(kind)
        if not isinstance(config, dict) or "id" not in config:
            raise ContainerError(f"container header has no valid {kind!r} config")
        try:
            out[kind] = host.create(kind, config)
        except (ValidationError, TypeError) as exc:
            raise ContainerError(f"container header's {kind} config is invalid: {exc}") from exc
        except InrzError as exc:
            raise ContainerError(f"cannot rebuild the {kind} this file was written with: {exc}") from exc
    return out


def render_grid(grid: Sequence[int], scale: float = 1.0, region: Sequence[tuple[float, float]] | None = None):
    """The output grid and its coordinate region for a rendering at `scale` of pixel `region`."""
    if scale <= 0:
        raise InrzError(f"scale must be positive, got {scale}")
    region = list(region) if region is not None else [(0.0, float(n)) for n in grid]
    if len(region) != len(grid):
        raise InrzError(f"region has {len(region)} axes, the signal has {len(grid)}")
    out_grid, coord_region = [], []
    for n, (lo, hi) in zip(grid, region):
        if not 0 <= lo < hi <= n:
            raise InrzError(f"region {lo}:{hi} is outside the axis of length {n}")
        out_grid.append(max(1, round((hi - lo) * scale)))
        to_coord = (lambda i: -1.0 + 2.0 * i / (n - 1)) if n > 1 else (lambda i: 0.0)
        coord_region.append((to_coord(lo), to_coord(hi - 1)))
    return out_grid, coord_region
