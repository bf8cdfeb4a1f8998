"""One codec pipeline: Signal -> features -> backend tensors -> symbols -> bytes -> `.inrz`.

`Codec` holds the four components a spec chooses and writes one self-describing container per
datum; `inrz.pipeline.decode` reads it back from the bytes alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .. import container
from ..backends.base import Backend, EncodeContext, Progress
from ..coding import errorbound
from ..coding.specials import Specials
from ..coding.entropy import EntropyModel
from ..coding.quantize import Quantizer
from ..core import threads
from ..core.errors import ContainerError, InrzError, SpecError
from ..signal.modality import Modality, Signal
from .decode import CODING_KINDS, COMPONENT_KINDS, coordinates_for, render
from .defaults import core_section


@dataclass
class Encoded:
    data: bytes  # the whole `.inrz` file
    payload_bytes: int  # entropy-coded symbols + side info: the figure papers report
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Codec:
    modality: Modality
    backend: Backend
    quantizer: Quantizer | None  # None for a backend that codes its own payload (`Backend.coding`)
    entropy: EntropyModel | None
    device: Any = "cpu"  # a torch.device or its name (`EncodeContext.device`)
    seed: int = 0
    max_abs_error: float | None = None  # error-bounded mode: store a residual so no value is further off
    effort: errorbound.Effort = "fast"  # error-bounded mode: "best" codes the residual with the 3 likeliest predictors

    @classmethod
    def from_sections(cls, host, modality: Modality, sections: dict[str, dict[str, Any]], device: Any,
                      seed: int = 0, max_abs_error: float | None = None) -> "Codec":
        """A codec from `{backend, quantizer, entropy}` configs, built by the host's registry: the
        quantizer and entropy model only if the backend codes its payload with them (`Backend.coding`)."""
        backend = host.create("backend", sections["backend"])
        parts = {kind: host.create(kind, sections[kind]) if kind in backend.coding else None
                 for kind in CODING_KINDS}
        for kind in CODING_KINDS:
            if parts[kind] is None and sections.get(kind) not in (None, {}, *_defaults(modality, kind)):
                raise SpecError(f"{kind}: backend {backend.id!r} codes its own payload and takes no {kind} "
                                f"(got {sections[kind]}); remove the {kind} section")
        return cls(modality, backend, parts["quantizer"], parts["entropy"], device, seed, max_abs_error)

    def encode(self, signal: Signal, progress: Progress | None = None, specials: Specials | None = None) -> Encoded:
        return self.encode_batch([signal], progress, [specials])[0]

    def encode_batch(self, signals: Sequence[Signal], progress: Progress | None = None,
                     specials: Sequence[Specials | None] | None = None) -> list[Encoded]:
        """Fit all signals together (they must share a grid shape) and write one container each.

        `specials[i]`: values of signal i kept exactly (`inrz.coding.specials.split`: NaN, fill
        values), already replaced by plausible ones in the signal's data."""
        grids = {self.modality.grid_shape(s) for s in signals}
        if len(grids) != 1:
            raise InrzError(f"encode_batch needs signals of one grid shape, got {sorted(grids)}")
        grid = grids.pop()
        feats, norms = zip(*(self.modality.to_features(s) for s in signals))
        shapes = {np.shape(f) for f in feats}
        if len(shapes) != 1:
            raise InrzError(f"encode_batch needs signals of one shape, got features of shapes {sorted(shapes)} "
                            "(e.g. RGB and greyscale images)")
        features = np.stack(feats).astype(np.float32)  # (B, *grid, d_out)
        coords = self.modality.coordinates(grid, meta=signals[0].meta)  # (*grid, d_in)
        self._check_before_fit(signals, norms, grid, coords, features)
        ctx = EncodeContext(self.device, self.seed, progress, coordinates_for(self.modality, signals[0].meta),
                            tuple(self.modality.periodic_axes(signals[0].meta)))
        threads.for_torch()  # fits run torch on the decided threads (a decode never loads it)
        results = self.backend.encode(coords, features, ctx)
        return [self._pack(s, n, r.tensors, r.info, grid, coords.shape[-1], features.shape[-1], x)
                for s, n, r, x in zip(signals, norms, results, specials or [None] * len(signals))]

    def _check_before_fit(self, signals, norms, grid, coords, features) -> None:
        """Everything that can fail after a fit fails before it: finite inputs, a network for this
        grid, a header the container can store, a usable error bound."""
        if not (np.isfinite(features).all() and np.isfinite(coords).all()):
            raise InrzError(f"the {self.modality.id} modality gives non-finite features or coordinates for this "
                            "input (values too large for float32?); scale the data first")
        self.backend.layout(grid, coords.shape[-1], features.shape[-1])  # SpecError if no network fits
        if self.max_abs_error is not None and not (isinstance(self.max_abs_error, (int, float))
                                                   and 0 < self.max_abs_error < float("inf")):
            raise InrzError(f"max_abs_error must be a positive finite number, got {self.max_abs_error!r}")
        for signal, norm in zip(signals, norms):
            try:
                container.check_header(self.header(signal.meta, norm, grid, coords.shape[-1], features.shape[-1]))
            except ContainerError as exc:
                raise InrzError(f"this input's metadata cannot be stored in a container ({exc}); pass meta with "
                                "JSON values only (str keys, finite numbers)") from exc

    def components(self) -> dict[str, Any]:
        """The components this codec holds, by kind (no quantizer or entropy model for a backend
        that codes its own payload), as `render` takes them."""
        return {kind: getattr(self, kind) for kind in COMPONENT_KINDS if getattr(self, kind) is not None}

    def header(self, meta: dict[str, Any], norm: dict[str, Any], grid: Sequence[int], d_in: int,
               d_out: int) -> dict[str, Any]:
        """Everything a decoder needs besides the payload: component configs, meta, norm, grid."""
        configs = {kind: part.get_config() for kind, part in self.components().items()}
        return {**configs, "backend": self.backend.header_config(),
                "meta": meta, "norm": norm, "grid": list(grid), "d_in": d_in, "d_out": d_out}

    def _pack(self, signal, norm, tensors, info, grid, d_in, d_out, specials: Specials | None) -> Encoded:
        layout = self.backend.layout(grid, d_in, d_out)
        sections = self.backend.pack_payload(tensors, layout, self.quantizer, self.entropy)
        header = self.header(signal.meta, norm, grid, d_in, d_out)
        if self.max_abs_error is not None:
            approx = render(self.components(), header, sections, self.device).data
            keep = None if specials is None else ~specials.mask
            header["error_bound"], extra = errorbound.residual_sections(signal.data, approx, self.max_abs_error,
                                                                        keep, self.effort)
            sections.update(extra)
        if specials is not None:
            sections["specials"] = specials.section
        data = container.write(header, sections)
        return Encoded(data, sum(len(v) for v in sections.values()), dict(info))


def _defaults(modality: Modality, kind: str) -> list[dict[str, Any]]:
    """The sections a pipeline gets for `kind` without asking (the core's, the modality's): a
    backend that codes its own payload ignores these, and refuses any other."""
    return [core_section(kind), *([d] if (d := type(modality).default_codec().get(kind)) else [])]
