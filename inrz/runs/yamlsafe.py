"""Reading a spec's YAML from a stranger: bounded in size and depth, duplicate keys refused,
and every field's line number kept so errors can say `file:line: field`."""
from __future__ import annotations

from pathlib import Path

import yaml

from ..core.errors import SpecError

MAX_NODES = 100_000  # YAML values a spec may expand to, aliases counted as often as they are used
MAX_DEPTH = 64


def parse_yaml(text: str, path: Path) -> tuple[dict, dict[tuple, int]]:
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
