"""YAML specs: one codec pipeline, validated with pydantic, errors as `file:line: field: message`.

Component sections (`dataset`, `modality`, `backend`, ...) are `{id: ..., **settings}` and are
validated against the registered component's own `Config`, so a plugin's settings get the
same checks and messages as the core's. `--set a.b=value` overrides are applied before
validation (values parsed as YAML) and reported as `--set a.b` when wrong.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from ..core.errors import DatasetError, SpecError, UnknownComponentError
from ..core.host import get_host
from ..pipeline.defaults import CORE_SECTIONS
from ..train.config import TrainConfig


class CompareSpec(BaseModel):
    """Another inrz pipeline coded on the same items and reported next to the main one."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    label: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")  # its name in the report, e.g. coin
    backend: dict[str, Any]
    quantizer: dict[str, Any] = CORE_SECTIONS["quantizer"]
    entropy: dict[str, Any] = CORE_SECTIONS["entropy"]


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
    backend: dict[str, Any] = CORE_SECTIONS["backend"]  # sections left out are the core's (pipeline.defaults)
    quantizer: dict[str, Any] = CORE_SECTIONS["quantizer"]
    entropy: dict[str, Any] = CORE_SECTIONS["entropy"]
    baselines: list[dict[str, Any]] = []  # classical codecs compared at the same file size
    compare: list[CompareSpec] = []  # other inrz pipelines on the same items (e.g. COIN next to COIN++)
    metrics: list[str] | None = None  # default: the modality's
    train: dict[str, Any] | None = None  # COIN++: how to meta-learn the base network (see inrz.train.TrainConfig)
    batch_size: int = Field(1, ge=1)  # data fitted together (same grid shape); raise on GPUs
    output: str | None = None  # default: results/<name> (relative to the working directory)


MAX_NODES = 100_000  # YAML values a spec may expand to, aliases counted as often as they are used
MAX_DEPTH = 64

COMPONENT_SECTIONS = {"dataset": "dataset", "modality": "modality", "backend": "backend",
                      "quantizer": "quantizer", "entropy": "entropy"}


def load_spec(path: str | Path, overrides: list[str] = (), host=None) -> Spec:
    """Read, override, validate. Every error is a `SpecError` naming the file, line and field."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise SpecError(f"{path}: cannot read spec: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise SpecError(f"{path}:{line}: a spec is UTF-8 text; byte {exc.start} is not ({exc.reason})") from exc
    raw, lines = _parse(text, path)
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
        _check_train(host, spec.train, source, lines)
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
        cls.Config.model_validate(settings)
    except ValidationError as exc:
        raise SpecError(_format(exc, source, lines, where)) from exc


def _check_train(host, train: dict, source: str, lines: dict) -> None:
    try:
        TrainConfig.model_validate(train)
    except ValidationError as exc:
        raise SpecError(_format(exc, source, lines, ("train",))) from exc
    for key in ("dataset", "val_dataset"):
        if train.get(key) is not None:
            _check_component(host, "dataset", train[key], ("train", key), source, lines)


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


def spec_hash(spec: Spec) -> str:
    """Hash of everything that changes results (not the name, description or output folder)."""
    data = spec.model_dump(mode="json", exclude={"name", "description", "output"})
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


# --- YAML with line numbers ------------------------------------------------------------------

def _parse(text: str, path: Path) -> tuple[dict, dict[tuple, int]]:
    """Compose the YAML once, check it (size with aliases expanded, duplicate keys), then build it."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_nodes(node, path)
        raw = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"{mark.line + 1}" if mark else "?"
        raise SpecError(f"{path}:{line}: invalid YAML: {getattr(exc, 'problem', exc)}") from exc
    except RecursionError as exc:
        raise SpecError(f"{path}: the YAML is nested too deeply") from exc
    finally:
        loader.dispose()
    if not isinstance(raw, dict):
        raise SpecError(f"{path}:1: a spec must be a mapping of fields (name, dataset, backend, ...)")
    lines: dict[tuple, int] = {}
    _index(node, (), lines)
    return raw, lines


def _check_nodes(root, path: Path) -> None:
    """Refuse what YAML allows but a spec never needs: aliases that expand to more than
    MAX_NODES nodes (a 512-byte "billion laughs" would otherwise take gigabytes), recursive
    aliases, and a key given twice in one mapping (YAML keeps the last silently)."""
    sizes: dict[int, int] = {}

    def size(node, depth: int) -> int:
        if id(node) in sizes:
            if sizes[id(node)] < 0:
                raise SpecError(f"{path}:{node.start_mark.line + 1}: a YAML alias refers to itself")
            return sizes[id(node)]
        if depth > MAX_DEPTH:
            raise SpecError(f"{path}:{node.start_mark.line + 1}: the YAML is nested more than {MAX_DEPTH} deep")
        sizes[id(node)] = -1
        total = 1
        if isinstance(node, yaml.MappingNode):
            _check_keys(node, path)
            total += sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(v, depth + 1) for v in node.value)
        sizes[id(node)] = total
        if total > MAX_NODES:
            raise SpecError(f"{path}:{node.start_mark.line + 1}: the YAML expands to more than {MAX_NODES} values "
                            "(through aliases); write the values out")
        return total

    size(root, 0)


def _check_keys(node, path: Path) -> None:
    seen: dict[str, int] = {}
    for key, _ in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value != "<<":  # merge keys may repeat what they merge
            line = key.start_mark.line + 1
            if key.value in seen:
                raise SpecError(f"{path}:{line}: duplicate key {key.value!r} (first given on line {seen[key.value]})")
            seen[key.value] = line


def _index(node, prefix: tuple, lines: dict) -> None:
    lines[prefix] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines[prefix + (key.value,)] = key.start_mark.line + 1
            if not isinstance(value, yaml.ScalarNode):
                _index(value, prefix + (key.value,), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            _index(value, prefix + (i,), lines)


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


