"""YAML specs: one codec pipeline, validated with pydantic, errors as `file:line: field: message`.

Component sections (`dataset`, `modality`, `backend`, ...) are `{id: ..., **settings}` and are
validated against the registered component's own `Config`, so a plugin's settings get the
same checks and messages as the core's. `--set a.b=value` overrides are applied before
validation (values parsed as YAML) and reported as `--set a.b` when wrong.
"""
from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from ..core.errors import DatasetError, SpecError, UnknownComponentError
from ..host.manager import get_host
from ..pipeline.defaults import CORE_SECTIONS
from .yamlsafe import parse_yaml


def _named_backend(section: dict[str, Any]) -> dict[str, Any]:
    """A backend section left without an `id` (a spec that names no backend) is the default
    backend's, named when the spec is read so that keys, reports and files name it."""
    return get_host().backend_section(section)


class CompareSpec(BaseModel):
    """Another inrz pipeline coded on the same items and reported next to the main one."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    label: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")  # its name in the report, e.g. coin
    backend: dict[str, Any]
    quantizer: dict[str, Any] = CORE_SECTIONS["quantizer"]
    entropy: dict[str, Any] = CORE_SECTIONS["entropy"]

    _named = field_validator("backend")(lambda cls, section: _named_backend(section))


class SweepPoint(BaseModel):
    """One rate point of a sweep: settings merged into the spec's pipeline for this point."""

    model_config = ConfigDict(extra="forbid")

    label: str | None = Field(None, pattern=r"^[A-Za-z0-9_.=-]+$")  # default: what it changes, e.g. target_bpp=0.2
    backend: dict[str, Any] = {}  # merged into the spec's backend (a new `id` starts from that backend's defaults)
    quantizer: dict[str, Any] = {}
    entropy: dict[str, Any] = {}
    target_bpp: float | None = Field(None, gt=0)  # meet this rate on each item (rate control)


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    _source: str = PrivateAttr("<spec>")  # the file it was read from, and its lines: for later errors
    _lines: dict = PrivateAttr(default_factory=dict)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")  # names the output folder and the report
    description: str = ""
    seed: int = 0  # every fit starts from this seed
    device: str = "auto"  # auto = cuda, then mps, then cpu
    dataset: dict[str, Any]  # {id: folder | <a plugin's dataset> | ..., **settings}
    modality: dict[str, Any] | None = None  # default: chosen per file by its extension
    # sections left out are the core's (pipeline.defaults); no backend: the default backend, named
    backend: dict[str, Any] = Field(CORE_SECTIONS["backend"], validate_default=True)
    quantizer: dict[str, Any] = CORE_SECTIONS["quantizer"]
    entropy: dict[str, Any] = CORE_SECTIONS["entropy"]
    target_bpp: float | None = Field(None, gt=0)  # meet this rate (whole file, bits per point) on each item
    sweep: list[SweepPoint] = []  # rate points: each codes every item once (one RD point each); [] = one point
    baselines: list[dict[str, Any]] = []  # classical codecs compared at the same file size
    compare: list[CompareSpec] = []  # other inrz pipelines on the same items (e.g. COIN next to COIN++)
    metrics: list[str] | None = None  # default: the modality's
    train: dict[str, Any] | None = None  # what a backend trains from (COIN++'s base network: its TrainConfig)
    batch_size: int = Field(1, ge=1)  # data fitted together (same grid shape); raise on GPUs
    output: str | None = None  # default: results/<name> (relative to the working directory)

    _named = field_validator("backend")(lambda cls, section: _named_backend(section))


COMPONENT_SECTIONS = {"dataset": "dataset", "modality": "modality", "backend": "backend",
                      "quantizer": "quantizer", "entropy": "entropy"}


#: the specs shipped with inrz (a source checkout's specs/), found by name from any directory
BUNDLED_SPECS = Path(__file__).resolve().parents[2] / "specs"


def find_spec(path: str | Path) -> Path:
    """`path` if it exists, else the shipped spec of that name (a name like `<name>` for `specs/<name>.yaml`)."""
    path = Path(path)
    if path.exists():
        return path
    name = path.name if path.suffix in (".yaml", ".yml") else f"{path.name}.yaml"
    bundled = BUNDLED_SPECS / name
    return bundled if bundled.is_file() else path


def load_spec(path: str | Path, overrides: list[str] = (), host=None) -> Spec:
    """Read, override, validate. Every error is a `SpecError` naming the file, line and field.
    A path that does not exist may name a shipped spec (`find_spec`)."""
    path = find_spec(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        shipped = sorted(p.stem for p in BUNDLED_SPECS.glob("*.yaml"))
        raise SpecError(f"{path}: cannot read spec: {exc.strerror or exc}"
                        + (f"; shipped specs: {', '.join(shipped)}" if shipped else "")) from exc
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise SpecError(f"{path}:{line}: a spec is UTF-8 text; byte {exc.start} is not ({exc.reason})") from exc
    raw, lines = parse_yaml(text, path)
    for item in overrides:
        _apply_override(raw, item, lines)
    return validate(raw, str(path), lines, host)


def validate(raw: dict, source: str = "<spec>", lines: dict | None = None, host=None) -> Spec:
    """A parsed spec as a `Spec`, every component section checked against its registered Config."""
    lines = lines or {}
    try:
        spec = Spec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(_format(exc, source, lines, ())) from exc
    spec._source, spec._lines = source, lines
    host = host or get_host()
    for section, kind in COMPONENT_SECTIONS.items():
        value = getattr(spec, section)
        if value is not None:
            _check_component(host, kind, value, (section,), source, lines)
    if spec.train is not None:
        _check_train(host, spec, source, lines)
    for i, point in enumerate(spec.sweep):
        for section in ("backend", "quantizer", "entropy"):
            _check_component(host, section, point_sections(spec, point)[section], ("sweep", i, section), source, lines)
    for i, other in enumerate(spec.compare):
        for section in ("backend", "quantizer", "entropy"):
            _check_component(host, section, getattr(other, section), ("compare", i, section), source, lines)
    for i, value in enumerate(spec.baselines):
        _check_component(host, "baseline", value, ("baselines", i), source, lines)
    for i, metric in enumerate(spec.metrics or []):  # a typo must fail here, not after the first fit
        if metric not in host.registry.names("metric"):
            raise SpecError(f"{_loc(source, lines, ('metrics', i))}: metrics.{i}: unknown metric {metric!r}; "
                            f"available: {', '.join(host.registry.names('metric'))}")
    return spec


def _check_component(host, kind: str, config: dict, where: tuple, source: str, lines: dict) -> None:
    if "id" not in config:
        raise SpecError(f"{_loc(source, lines, where)}: {_dotted(where)}.id: missing; available {kind}s: "
                        f"{', '.join(host.registry.names(kind))}")
    try:
        cls = host.registry.get(kind, config["id"])
    except UnknownComponentError as exc:
        raise SpecError(f"{_loc(source, lines, where + ('id',))}: {_dotted(where)}.id: {exc}") from exc
    settings = {k: v for k, v in config.items() if k != "id"}
    try:
        cls.Config.model_validate(settings, context={"new_spec": True})  # components may refuse retired names
    except ValidationError as exc:
        raise SpecError(_format(exc, source, lines, where)) from exc


def _check_train(host, spec: Spec, source: str, lines: dict) -> None:
    """The `train:` section, as each backend the spec names reads it (`Backend.train_datasets`)."""
    ids = {spec.backend["id"]} | {other.backend["id"] for other in spec.compare}
    ids |= {point.backend["id"] for point in spec.sweep if "id" in point.backend}
    for backend in sorted(ids & set(host.registry.names("backend"))):
        try:
            datasets = host.registry.get("backend", backend).train_datasets(spec.train)
        except ValidationError as exc:
            raise SpecError(_format(exc, source, lines, ("train",))) from exc
        for key, config in datasets.items():
            _check_component(host, "dataset", config, ("train", key), source, lines)


def where(spec: Spec, *field: Any) -> str:
    """`file:line: field.path` of a spec field, for errors found after validation (a dataset
    folder that does not exist, say)."""
    return f"{_loc(spec._source, spec._lines, field)}: {_dotted(field)}"


def dataset_items(spec: Spec, host, base_dir: Path, *field: str) -> list:
    """The items of the dataset a spec names at `field` (("dataset",), ("train", "dataset")...);
    a dataset error (a folder that does not exist) names the spec's file, line and field."""
    config: Any = spec
    for name in field:
        config = config[name] if isinstance(config, dict) else getattr(config, name)
    try:
        return host.create("dataset", config).items(base_dir)
    except DatasetError as exc:
        raise DatasetError(f"{where(spec, *field)}: {exc}") from exc
def point_sections(spec: Spec, point: SweepPoint | None) -> dict[str, dict[str, Any]]:
    """The pipeline sections of one sweep point (the spec's own without one)."""
    out = {}
    for name in ("backend", "quantizer", "entropy"):
        base, extra = dict(getattr(spec, name)), dict(getattr(point, name)) if point else {}
        out[name] = extra if extra.get("id", base["id"]) != base["id"] else {**base, **extra}
    return out


def point_label(point: SweepPoint, index: int) -> str:
    """A sweep point's name in reports: its label, else the settings it changes."""
    if point.label:
        return point.label
    changed = [f"target_bpp={point.target_bpp:g}"] if point.target_bpp is not None else []
    for name in ("backend", "quantizer", "entropy"):
        changed += [f"{name}.{k}={v}" for k, v in getattr(point, name).items()]
    return ",".join(changed) or f"point{index}"


#: what `--set` may change on a codec built without a spec
CODEC_FIELDS = ("backend", "quantizer", "entropy", "seed", "device", "target_bpp")


def override_sections(sections: dict[str, Any], overrides: list[str], host=None) -> dict[str, Any]:
    """`--set` on a command's default codec (no spec): the same syntax and checks as a spec's;
    setting a section's `id` starts that section afresh. A misspelled field is a `SpecError`."""
    raw, lines = copy.deepcopy(sections), {}
    for item in overrides:
        key = item.split("=", 1)[0].strip()
        if key.split(".")[0] not in CODEC_FIELDS:
            raise SpecError(f"--set {key}: without --spec, --set takes {', '.join(f + '.*' for f in CODEC_FIELDS[:3])}"
                            f", {', '.join(CODEC_FIELDS[3:])}")
        if key.endswith(".id") and key.count(".") == 1:
            raw[key.split(".")[0]] = {}
        _apply_override(raw, item, lines)
    host = host or get_host()
    for name in CODEC_FIELDS[:3]:
        _check_component(host, name, raw[name], (name,), "--set", lines)
    try:
        top = {k: raw[k] for k in CODEC_FIELDS[3:] if k in raw}
        Spec.model_validate({"name": "set", "dataset": {"id": "folder"}, **top})
    except ValidationError as exc:
        raise SpecError(_format(exc, "--set", lines, ())) from exc
    return raw


def spec_hash(spec: Spec) -> str:
    """Hash of everything that changes results (not the name, description or output folder)."""
    data = spec.model_dump(mode="json", exclude={"name", "description", "output"})
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def _apply_override(raw: dict, item: str, lines: dict) -> None:
    if "=" not in item:
        raise SpecError(f"--set {item}: expected field.path=value")
    key, value = item.split("=", 1)
    parts: list[Any] = key.strip().split(".")
    target = raw
    for i, part in enumerate(parts[:-1]):
        if isinstance(target, list) and part.isdigit():
            parts[i] = int(part)
        if isinstance(target, list) and not (isinstance(parts[i], int) and parts[i] < len(target)):
            raise SpecError(f"--set {key}: {_dotted(tuple(parts[:i]))} has {len(target)} items; "
                            f"use an index 0..{len(target) - 1}")
        default = Spec.model_fields[part].default if i == 0 and part in Spec.model_fields else None
        start = dict(default) if isinstance(default, dict) else {}  # --set backend.steps=9 keeps the default id
        nxt = target[parts[i]] if isinstance(target, list) else target.setdefault(part, start)
        if not isinstance(nxt, (dict, list)):
            raise SpecError(f"--set {key}: {'.'.join(map(str, parts[:i + 1]))} is not a mapping")
        target = nxt
    try:
        target[parts[-1]] = yaml.safe_load(value)
    except (yaml.YAMLError, TypeError) as exc:
        raise SpecError(f"--set {key}: cannot parse value {value!r}: {exc}") from exc
    lines[tuple(parts)] = f"--set {key}"


def _format(exc: ValidationError, source: str, lines: dict, where: tuple) -> str:
    out = []
    for err in exc.errors():
        loc = where + tuple(err["loc"])
        out.append(f"{_loc(source, lines, loc)}: {_dotted(loc) or '<root>'}: {err['msg']}")
    return "\n".join(out)


def _loc(source: str, lines: dict, loc: tuple) -> str:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            line = lines[loc[:n]]
            return line if isinstance(line, str) and line.startswith("--set") else f"{source}:{line}"
    return source


def _dotted(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


