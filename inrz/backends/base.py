"""The backend contract.

A backend MUST:
- `encode(coords, features, ctx)`: fit one representation per datum of a batch that shares
  one grid (coords `(*grid, d_in)`, features `(B, *grid, d_out)` in [0, 1]) and return, per
  datum, the named float tensors to store;
- `layout(grid_shape, d_in, d_out)`: the names and shapes of those tensors, derivable from
  the config and the header alone (so they are never stored); raise `SpecError` when the
  configuration cannot code that grid (e.g. no network fits a budget that small);
- `decode(tensors, coords, d_out, ctx)`: evaluate the representation at any coordinates
  `(*grid', d_in)` -> `(*grid', d_out)`, the same on every device up to float rounding.

A backend MAY:
- be the default backend (`default = True`): the one a `backend` section without an `id`
  means; at most one installed backend may say so;
- describe its rate knobs with `rate_ladder(quantizer, entropy, knobs)`: configurations
  (`Rung`s) ordered from the smallest file to the largest. Rate control (`target_bpp`,
  `target_psnr`) and the error-bounded size search walk this ladder; the default `[]` means
  "no rate knobs", and those features then say so;
- predict a rung's payload before fitting with `predicted_payload_bits(...)`; with a
  prediction, rate control fits the largest rung predicted to fit first, without one it
  bisects the ladder (fewest fits, for backends whose fits take minutes);
- list finely spaced configurations just below a payload with `fine_ladder(...)` (needs
  predictions): rate control then lands within a few percent below a target, measuring each
  fit's real entropy-coded size;
- describe the configuration a header resolves to with `architecture(...)` (`inrz info`);
- make what a spec leaves to be made before anything is encoded with the classmethod
  `prepare(sections, ctx)` (COIN++ trains a base network for `model: auto`); coding itself
  never trains; a backend that trains from a spec's `train:` section checks it with
  `train_datasets(train)` when the spec is read, and may bring its own `inrz` commands
  (`add_commands`: COIN++'s `inrz train`);
- code its own payload: `pack_payload` / `unpack_payload` default to "quantize with the
  codec's quantizer, then entropy-code", and `coding` names those two components; a backend
  that quantizes and entropy-codes its representation itself (a latent-grid codec with a
  learned context model, through `inrz.rangecoder`) overrides both and declares `coding = ()`:
  its codec then holds no quantizer or entropy model, its headers store none, and both
  methods are handed None.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Sequence

import numpy as np

from ..coding.entropy import EntropyModel
from ..coding.quantize import Quantizer
from ..core.component import Component
from ..core.device import resolve_device
from ..core.errors import ContainerError
from ..signal.grid import grid_coordinates

Tensors = dict[str, np.ndarray]
Progress = Callable[[int, int, dict[str, float]], None]  # (step, total, figures)


class EncodeContext:
    """What `encode` and `decode` receive besides the data: the device, the seed, a progress
    callback, the modality's coordinates and which axes wrap around.

    `device` may be given as a name ("auto", "cpu", "cuda:1"): it is resolved, importing torch,
    only when a backend first reads `ctx.device`, so a backend that decodes without torch (c3)
    never loads it."""

    def __init__(self, device: Any = "cpu", seed: int = 0, progress: Progress | None = None,
                 coordinates: Callable[[Sequence[int]], np.ndarray] = grid_coordinates,
                 periodic: tuple[bool, ...] = ()):
        self._device = device
        self.seed = seed
        self.progress = progress
        #: the modality's coordinates for a grid shape (patch-based backends ask for one patch's)
        self.coordinates = coordinates
        #: which grid axes wrap around (`Modality.periodic_axes`); () means none
        self.periodic = tuple(periodic)

    @property
    def device(self) -> Any:
        """The `torch.device` to run on (resolved from its name on first use)."""
        if isinstance(self._device, str):
            self._device = resolve_device(self._device)
        return self._device

    def periodic_for(self, ndim: int) -> tuple[bool, ...]:
        """One flag per grid axis (axes the modality did not mention do not wrap)."""
        flags = tuple(bool(p) for p in self.periodic[:ndim])
        return flags + (False,) * (ndim - len(flags))


@dataclass
class PrepareContext:
    """The spec being run, as `Backend.prepare` (and a backend's own commands) may use it:
    `spec` (validated: its `train:` section, `seed`, `device`, `modality`, `name`, `output`),
    `spec_path`, `host`, `items(*field)` (the files of the dataset the spec names at that field,
    `items("train", "dataset")`; errors name the spec's file and line), `log` (progress for the
    person running it) and `once(key, make)`: a value made once per spec, however many of its
    pipelines ask (one training for the spec's pipeline and its `compare:` ones)."""

    spec: Any
    spec_path: Path
    host: Any
    items: Callable[..., list]
    log: Callable[[str], None] = print
    _made: dict[str, Any] = field(default_factory=dict, repr=False)

    def once(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]


@dataclass
class EncodeResult:
    tensors: Tensors
    info: dict[str, Any] = field(default_factory=dict)  # e.g. best training PSNR, steps run


@dataclass(frozen=True)
class Rung:
    """One configuration on a backend's rate ladder: the components that replace the codec's."""

    label: str  # how messages and reports name it, e.g. "bpp=0.3" or "bits=5"
    backend: "Backend"
    quantizer: Quantizer | None = None  # None: keep the codec's
    entropy: EntropyModel | None = None  # None: keep the codec's


class Backend(Component):
    kind = "backend"
    hook = "register_backends"  # the plugin hook that registers this kind (`inrz.hookimpl`)
    #: raise whenever a change alters the files this backend writes for the same config, so
    #: finished run items re-run instead of resuming (their key holds `provenance()`)
    version: ClassVar[int] = 1
    #: the backend a pipeline's `backend` section without an `id` means (when neither a spec nor
    #: a modality names one); one installed plugin says so (COIN), `PluginHost.default_backend`
    default: ClassVar[bool] = False
    #: the codec components this backend's payload is coded with (`pack_payload`): a codec holds,
    #: and a header stores, only these; () for a backend that codes its own payload
    coding: ClassVar[tuple[str, ...]] = ("quantizer", "entropy")
    #: settings that steer only the encoder (a fit's steps, learning rates): headers leave them
    #: out (`header_config`), since a reader rebuilds the backend without them
    encoder_only: ClassVar[frozenset[str]] = frozenset()

    def provenance(self) -> dict[str, Any]:
        """What, besides the config, decides this backend's files: its code `version` and any
        shipped data it starts from (a prior's tag, a base network's hash). `inrz run` keys
        finished items on it: a changed backend re-runs, an unchanged one resumes."""
        return {"version": self.version}

    def header_config(self) -> dict[str, Any]:
        """The config a file's header stores: everything but the `encoder_only` settings (bytes
        that every file would pay for and no decoder reads; on a small image, a few percent)."""
        return {k: v for k, v in self.get_config().items() if k not in self.encoder_only}

    @classmethod
    def prepare(cls, sections: dict[str, dict[str, Any]], ctx: PrepareContext) -> dict[str, dict[str, Any]]:
        """The pipeline sections (`backend`, `quantizer`, `entropy` configs) with what a spec
        leaves to be made, made (COIN++: `model: auto` becomes a trained base network's hash).
        `inrz run` and `inrz train` call this for each of a spec's pipelines before encoding;
        `compress()` never does, so coding never trains. The default: the sections unchanged."""
        return sections

    @classmethod
    def train_datasets(cls, train: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """For a backend that trains from a spec's `train:` section: check the section (raise
        pydantic's `ValidationError`, which the spec reports with its file and line) and return
        the dataset configs it names, by field (`{"dataset": {...}}`), which the spec checks
        too. Called when a spec is read, for each backend the spec names. The default: the
        section is none of this backend's business."""
        return {}

    @classmethod
    def add_commands(cls, sub, common) -> None:
        """Add `inrz` subcommands (argparse: `sub.add_parser(name, parents=[common])`, with
        `set_defaults(func=...)` returning the exit code) that this backend brings: COIN++'s
        `inrz train` and `inrz models`. Import torch inside the command, never here."""

    def encode(self, coords: np.ndarray, features: np.ndarray, ctx: EncodeContext) -> list[EncodeResult]:
        raise NotImplementedError

    def layout(self, grid_shape: Sequence[int], d_in: int, d_out: int) -> dict[str, tuple[int, ...]]:
        raise NotImplementedError

    def decode(self, tensors: Tensors, coords: np.ndarray, d_out: int, ctx: EncodeContext) -> np.ndarray:
        """Features `(*coords.shape[:-1], d_out)` of the representation at `coords` (read them,
        never write them: on the datum's own grid `ctx.coordinates` returns this same array)."""
        raise NotImplementedError

    # --- rate knobs (optional) -----------------------------------------------------------------
    def rate_ladder(self, quantizer: Quantizer, entropy: EntropyModel,
                    knobs: Sequence[float] | None = None) -> list[Rung]:
        """Configurations from the smallest file to the largest, built from this one.

        `knobs`: settings of the backend's knob to build rungs at instead of its default
        ladder (the archive codecs' `bpp_search`); raise `SpecError` for a setting it cannot
        take. The default, `[]`, means this backend has no rate knobs.
        """
        return []

    def predicted_payload_bits(self, grid_shape: Sequence[int], d_in: int, d_out: int,
                               quantizer: Quantizer) -> float | None:
        """The payload this configuration will take on a grid, before fitting (an upper bound
        is best: entropy coding only shrinks it), or None if it cannot be told without fitting.
        Raise `SpecError` if the configuration cannot code this grid at all."""
        return None

    @classmethod
    def example_codec(cls, modality, signal) -> dict[str, dict[str, Any]] | None:
        """Pipeline sections (`backend`, plus `quantizer`/`entropy` if it needs its own) that code
        `signal`, a tiny example of `modality` (a few hundred points), in about a second.

        The conformance kit and the fuzz harness (`inrz.testing.fuzz`) build their containers
        with it, so a new backend is checked without editing them. The default: this backend's
        own defaults with `steps` (if it has that setting) cut to 4; None if a setting has no
        default. A backend that needs more (COIN++: a base network) may create it here."""
        fields = cls.Config.model_fields
        if any(f.is_required() for f in fields.values()):
            return None
        return {"backend": {"id": cls.id, **({"steps": 4} if "steps" in fields else {})}}

    def stored_numbers(self, layout: dict[str, tuple[int, ...]]) -> int:
        """How many numbers the payload must hold for this layout, which the reader compares with
        the payload's size before unpacking it (`inrz.DecodeLimits`). By default every number of
        the layout; a backend whose layout holds numbers the grid already bounds (c3's latent
        grids, coded at a small fraction of a bit each) counts only the others."""
        return sum(math.prod(int(n) for n in s) for s in layout.values())

    def decode_cost(self, layout: dict[str, tuple[int, ...]], points: int, d_in: int, d_out: int) -> float | None:
        """Multiply-adds `decode` takes to evaluate `points` coordinates, or None if it cannot tell.

        The reader compares it with the file's size before decoding (`inrz.DecodeLimits`), so a
        header naming a huge network is refused instead of computed; an estimate is enough."""
        return None
    def fine_ladder(self, grid_shape: Sequence[int], d_in: int, d_out: int, quantizer: Quantizer,
                    max_payload_bits: float) -> list[Rung]:
        """Configurations predicted to take a little less than `max_payload_bits` on this grid
        (down to about half of it), a few percent apart, smallest first; [] (the default) when
        the knob is coarse or sizes cannot be predicted."""
        return []

    def architecture(self, grid_shape: Sequence[int], d_in: int, d_out: int) -> dict[str, Any]:
        """What this configuration resolves to on a grid, for people (`inrz info`): by default
        the number of stored values; backends add their shapes."""
        return {"parameters": sum(int(np.prod(s)) for s in self.layout(grid_shape, d_in, d_out).values())}

    # --- payload coding (override to code the representation yourself) ------------------------
    def pack_payload(self, tensors: Tensors, layout: dict[str, tuple[int, ...]], quantizer: Quantizer,
                     entropy: EntropyModel) -> dict[str, bytes]:
        """The container sections that store one datum's tensors, in file order."""
        symbols, side = quantizer.quantize({name: tensors[name] for name in layout})
        payload = entropy.encode(symbols, quantizer.bits)
        return {"side": side, "payload": payload} if side else {"payload": payload}

    def unpack_payload(self, sections: dict[str, bytes], layout: dict[str, tuple[int, ...]], quantizer: Quantizer,
                       entropy: EntropyModel) -> Tensors:
        """Inverse of `pack_payload`, from the sections of a container."""
        if "payload" not in sections:
            raise ContainerError("the container has no 'payload' section")
        symbols = entropy.decode(sections["payload"], layout, quantizer.bits)
        return quantizer.dequantize(symbols, sections.get("side", b""))
