"""The shape of the code, checked from its source with `ast`: plugins use only the public
surface, the core's import graph has no cycle, inrz modules are imported at the top of files,
modules stay small, and the `inrz/` top level holds packages, not modules.
"""
from __future__ import annotations

import ast
import functools
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "inrz"
PUBLIC = {"inrz", "inrz.testing"}
MAX_LINES = 300


def python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if ".egg-info" not in str(p))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """Absolute names an import statement brings in (`from . import x` names the submodule)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    return [target] + [f"{target}.{a.name}" for a in node.names]


def inrz_imports(path: Path, top_level_only: bool) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out = []
    for node in nodes:
        for name in imported_modules(node, module_name(path), path.name == "__init__.py"):
            if name == "inrz" or name.startswith("inrz."):
                out.append((node.lineno, name))
    return out


# --- plugins see one surface -------------------------------------------------------------------

PLUGIN_FILES = python_files(ROOT / "plugins") + python_files(ROOT / "examples")


@pytest.mark.parametrize("path", PLUGIN_FILES, ids=[str(p.relative_to(ROOT)) for p in PLUGIN_FILES])
def test_plugins_and_examples_import_only_the_public_surface(path):
    tree = ast.parse(path.read_text())
    wrong = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        wrong += [f"line {node.lineno}: {n}" for n in names if n.split(".")[0] == "inrz" and n not in PUBLIC]
    assert not wrong, f"{path.relative_to(ROOT)} imports inrz internals (use `from inrz import ...`): {wrong}"


def test_the_plugin_scan_sees_the_plugins():
    assert len(PLUGIN_FILES) >= 20 and any("inrz_timeseries" in str(p) for p in PLUGIN_FILES)


# --- the core's import graph -------------------------------------------------------------------

CORE_FILES = python_files(CORE)
MODULES = {module_name(p): p for p in CORE_FILES}


def import_graph() -> dict[str, set[str]]:
    """module -> the inrz modules its top-level imports need (`from ..coding import errorbound`
    needs the package `inrz.coding` and the module `inrz.coding.errorbound`). The root package
    is left out: every module is imported through it."""
    graph = {}
    for name, path in MODULES.items():
        graph[name] = {dep for _, dep in inrz_imports(path, top_level_only=True) if dep in MODULES
                       and dep not in (name, "inrz")}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_import_graph_has_no_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_is_built_from_the_real_modules():
    graph = import_graph()
    assert "inrz.core.component" in graph["inrz.core.registry"]  # from .component import Component
    assert {"inrz.coding", "inrz.coding.errorbound"} <= graph["inrz.pipeline.codec"]  # from ..coding import errorbound


def required_imports() -> set[str]:
    """Import names of the required dependencies (pyproject), which need no lazy import."""
    names = {"pyyaml": "yaml"}
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return {names.get(n, n) for n in (re.split(r"[<>=!~ \[]", d)[0].lower() for d in deps)}


def imports_torch(name: str) -> bool:
    return name == "torch" or name.startswith("torch.") or name == "safetensors.torch"


@functools.cache
def torch_loaders() -> frozenset[str]:
    """inrz modules that load torch when imported: those importing it at their top, and those
    importing such a module at their top."""
    direct = {name for name, path in MODULES.items()
              if any(imports_torch(n) for node in ast.parse(path.read_text()).body
                     for n in imported_modules(node, name, path.name == "__init__.py"))}
    graph, out = import_graph(), set(direct)
    changed = True
    while changed:
        changed = False
        for name, deps in graph.items():
            if name not in out and deps & out:
                out.add(name)
                changed = True
    return frozenset(out)


@pytest.mark.parametrize("path", CORE_FILES, ids=[str(p.relative_to(CORE)) for p in CORE_FILES])
def test_imports_sit_at_the_top_of_the_file(path):
    """Only optional libraries are imported where they are first needed, and torch: torch itself,
    or an inrz module that loads it, may be imported inside the function that needs it, so that
    registering a backend or decoding a file that needs no torch (c3) never loads it. Any other
    import placed late on purpose says why on its line (`# late: ...`: what a decode or the
    command's start-up would otherwise load); `if TYPE_CHECKING:` blocks are for type checkers."""
    if module_name(path) in ALIASES:
        return
    source = path.read_text()
    tree = ast.parse(source)
    lines = source.splitlines()
    top = {id(node) for node in tree.body}
    for node in tree.body:  # `if TYPE_CHECKING:` imports run for type checkers only
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            top |= {id(n) for n in ast.walk(node)}
    required = required_imports()
    late = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top:
            if "# late:" in lines[node.lineno - 1]:
                continue
            names = imported_modules(node, module_name(path), path.name == "__init__.py")
            if any(imports_torch(n) or n in torch_loaders() for n in names):
                continue
            late += [f"line {node.lineno}: {n}" for n in names if n.split(".")[0] in required | {"inrz"}]
    assert not late, f"{path.relative_to(ROOT)} imports inside functions: {late}"


def top_level_closure(start: list[str]) -> set[str]:
    graph, seen, todo = import_graph(), set(), list(start)
    while todo:
        name = todo.pop()
        if name in graph and name not in seen:
            seen.add(name)
            todo += graph[name]
    return seen


@pytest.mark.parametrize("entry", ["inrz", "inrz.cli.main"])
def test_importing_inrz_or_its_command_loads_no_torch(entry):
    """`import inrz` and the `inrz` command import no module that loads torch (issue 28): a
    decode that needs none (c3's) never pays for it. tests/test_c3_decode.py checks the same
    in a real process."""
    root = [dep for _, dep in inrz_imports(CORE / "__init__.py", top_level_only=True) if dep in MODULES]
    closure = top_level_closure(root if entry == "inrz" else root + [entry])
    assert not closure & torch_loaders(), sorted(closure & torch_loaders())


def test_the_torch_scan_sees_torch():
    assert {"inrz.testing.samples", "inrz.testing"} <= torch_loaders()  # one_thread(): torch at the top
    assert "inrz.pipeline.codec" not in torch_loaders()


# --- floors: the core is the ground floor, and no import goes up ---------------------------------

#: inrz's packages floor by floor, from the ground up: a module imports from its own floor and
#: the floors below, never from above (at the top of a file or inside a function)
FLOORS = [["core"], ["signal", "container"], ["coding"], ["backends", "datasets", "baselines"], ["host"], ["pipeline"],
          ["runs"], ["api", "archive"], ["cli", "testing"]]
FLOOR = {package: level for level, packages in enumerate(FLOORS) for package in packages}
#: former addresses kept working for callers that have not moved; each resolves on first use
ALIASES: set[str] = set()


def floor_of(module: str) -> int | None:
    parts = module.split(".")
    return FLOOR.get(parts[1]) if len(parts) > 1 else None


def test_every_package_ships():
    """pyproject lists its packages by name: a package missing there is left out of the wheel."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {module_name(init) for init in CORE.rglob("__init__.py")}
    assert found <= listed, sorted(found - listed)


def test_every_package_stands_on_a_floor():
    packages = {p.name for p in CORE.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(FLOOR), (packages ^ set(FLOOR))


@pytest.mark.parametrize("path", CORE_FILES, ids=[str(p.relative_to(CORE)) for p in CORE_FILES])
def test_no_import_goes_up_a_floor(path):
    name = module_name(path)
    own = floor_of(name)
    if own is None or name in ALIASES:
        return
    up = [f"line {line}: {dep}" for line, dep in inrz_imports(path, top_level_only=False)
          if (floor_of(dep) or 0) > own]
    assert not up, f"{path.relative_to(ROOT)} (floor {own}) imports from a floor above: {up}"


def test_the_floor_check_sees_upward_imports():
    assert floor_of("inrz.runs.spec") > floor_of("inrz.pipeline.codec") > floor_of("inrz.host.manager")
    assert floor_of("inrz.host.manager") > floor_of("inrz.core.registry") == 0
    assert floor_of("inrz") is None


# --- backends are plugins: the core names none ---------------------------------------------------

def plugin_backends() -> set[str]:
    """The ids of the installed backends that a plugin registers (not the core's own `none`)."""
    from inrz.host.manager import PluginHost

    host = PluginHost()
    return set(host.registry.names("backend")) - set(host.info["inrz"].components.get("backend", []))


def names_in(path: Path, ids: set[str]) -> list[str]:
    """Where a file's code names one of `ids` (a string that is exactly one) or imports a plugin."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in ids:
            found.append(f"line {node.lineno}: {node.value!r}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"line {node.lineno}: import {n}" for n in names if n.startswith("inrz_")]
    return found


def test_the_core_names_no_backend():
    """COIN, COIN++ and c3 are plugins (issue 26): no code in inrz/ names their ids or imports
    them; the default backend is the one that says so (`Backend.default`)."""
    ids = plugin_backends()
    named = {str(path.relative_to(CORE)): found for path in CORE_FILES if (found := names_in(path, ids))}
    assert not named, named


def test_the_backend_scan_sees_backends(tmp_path):
    assert {"coin", "coinpp", "c3"} <= plugin_backends() and "none" not in plugin_backends()
    sample = tmp_path / "sample.py"
    sample.write_text('import inrz_coin\nDEFAULT = {"id": "coin"}\n"""coin in prose is fine"""\n')
    assert names_in(sample, {"coin"}) == ["line 1: import inrz_coin", "line 2: 'coin'"]


def test_each_kind_base_names_a_declared_hook():
    """The host registers a kind through the hook its base class names; each is declared once."""
    from inrz.core import hookspecs
    from inrz.host.manager import HOOK_KINDS, KIND_BASES

    declared = {name for name in dir(hookspecs) if name.startswith("register_")}
    assert set(HOOK_KINDS) == declared and len(HOOK_KINDS) == len(KIND_BASES)
    assert all(base.kind == kind and base.hook in declared for kind, base in KIND_BASES.items())


def test_compress_is_short():
    """compress() states a call, not a pipeline: building codecs and signals lives in helpers."""
    import inspect

    import inrz

    assert len(inspect.getsource(inrz.compress).splitlines()) <= 25


# --- sizes and the top level -------------------------------------------------------------------

@pytest.mark.parametrize("path", CORE_FILES, ids=[str(p.relative_to(CORE)) for p in CORE_FILES])
def test_modules_stay_small(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines; split it by responsibility"


def test_the_top_level_holds_packages():
    modules = sorted(p.name for p in CORE.glob("*.py"))
    packages = sorted(p.name for p in CORE.iterdir() if (p / "__init__.py").exists())
    assert modules == ["__init__.py", "__main__.py"], modules
    assert {"core", "signal", "backends", "coding", "container", "pipeline", "runs", "archive", "cli", "testing",
            "host", "datasets", "baselines", "api"} <= set(packages)
    assert not {"nets", "train"} & set(packages)  # COIN's and COIN++'s networks and training are plugins


# --- the core names no backend or modality -----------------------------------------------------

@functools.cache
def registered(kind: str) -> frozenset[str]:
    """Ids of a kind registered by the core and the installed plugins (the core's `ndarray` aside)."""
    from inrz import PluginHost

    return frozenset(PluginHost().registry.names(kind)) - {"ndarray"}


def named_ids() -> set[str]:
    return set(registered("backend") | registered("modality"))


def compared_strings(node: ast.Compare) -> list[str]:
    """String constants a comparison tests against, also inside tuples, lists and sets."""
    out = []
    for operand in [node.left, *node.comparators]:
        items = operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand]
        out += [item.value for item in items if isinstance(item, ast.Constant) and isinstance(item.value, str)]
    return out


CORE_OUTSIDE_BACKENDS = [p for p in CORE_FILES if "backends" not in p.relative_to(CORE).parts]


@pytest.mark.parametrize("path", CORE_OUTSIDE_BACKENDS, ids=[str(p.relative_to(CORE)) for p in CORE_OUTSIDE_BACKENDS])
def test_the_core_compares_no_backend_or_modality_id(path):
    ids = named_ids()
    found = [f"line {node.lineno}: {value!r}" for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Compare) for value in compared_strings(node) if value in ids]
    assert not found, f"{path.relative_to(ROOT)} branches on a component id (ask the component instead): {found}"


def test_the_id_check_sees_comparisons():
    tree = ast.parse('if backend.id in ("coin", "x") or cfg["id"] != "coinpp": pass')
    assert sorted(v for n in ast.walk(tree) if isinstance(n, ast.Compare) for v in compared_strings(n)) == [
        "coin", "coinpp", "x"]


@pytest.mark.parametrize("path", CORE_FILES, ids=[str(p.relative_to(CORE)) for p in CORE_FILES])
def test_the_core_names_no_plugin_modality(path):
    """Plugins' modality ids and their rate units stay in the plugins (the core's own `ndarray` aside)."""
    plugin_modalities = set(registered("modality"))
    text = path.read_text()
    strings = [n.value for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert "kbps" not in text.lower(), f"{path.relative_to(ROOT)} names a modality's rate unit"
    assert not plugin_modalities & set(strings), f"{path.relative_to(ROOT)} names {plugin_modalities & set(strings)}"


# --- test tiers --------------------------------------------------------------------------------

def slow_tests() -> set[str]:
    """`module` (a module-wide `pytestmark`) or `module::test` carrying `pytest.mark.slow`."""
    out = set()
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in node.targets):
                if "slow" in ast.unparse(node.value):
                    out.add(path.stem)
            if isinstance(node, ast.FunctionDef) and any("mark.slow" in ast.unparse(d) for d in node.decorator_list):
                out.add(f"{path.stem}::{node.name}")
    return out


def test_the_long_tests_are_in_the_slow_tier():
    assert {"test_distributed", "test_coinpp", "test_archive::test_error_bound_holds_on_every_real_grid",
            "test_mri_plugin::test_tiny_coinpp_train_and_encode"} <= slow_tests()
