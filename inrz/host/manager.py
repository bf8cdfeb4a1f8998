"""The only module that touches pluggy: loads plugins and fills a `Registry`.

Built-in components (`inrz.host.builtins`) go through the same hooks as third-party plugins.
Third-party and bundled modality plugins are found through the entry-point group `inrz`;
the env var `INRZ_PLUGINS` (comma-separated entry-point names) limits which ones load.
Each `PluginHost` has its own plugin manager, so embedding applications stay isolated.

A lazy host (`PluginHost(lazy=True)`: the process-wide `get_host()` and the archive codecs') loads
its entry points on demand: a component is looked up first in the plugins already loaded, then in
the plugin whose entry point is named like the component (`c3` for backend `c3`), and only then in
all of them; listing a kind, `info`, `add_plugin` and `remove_plugin` load them all. A decoder
then imports the two plugins its file names instead of every installed one, and a broken plugin
it does not need cannot stop it.
"""
from __future__ import annotations

import difflib
import importlib.metadata as md
import os
import threading
from dataclasses import dataclass, field
from types import ModuleType

import pluggy

from ..backends.base import Backend
from ..coding.entropy import EntropyModel
from ..coding.quantize import Quantizer
from ..baselines.baseline import Baseline
from ..datasets.dataset import Dataset
from ..signal.metrics import Metric
from ..signal.modality import Modality
from ..core import hookspecs
from ..core.errors import PluginError, SpecError
from ..core.registry import Registry
from . import builtins

ENTRY_POINT_GROUP = "inrz"
ENV_VAR = "INRZ_PLUGINS"

#: the base class every component of a kind must subclass; each base names its kind and its hook
KIND_BASES = {base.kind: base for base in (Modality, Backend, Quantizer, EntropyModel, Dataset, Baseline, Metric)}
HOOK_KINDS = {base.hook: kind for kind, base in KIND_BASES.items()}


@dataclass
class PluginInfo:
    name: str
    version: str | None
    module: str
    components: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None  # why it failed to load (recorded only by a `strict=False` host)


class PluginHost:
    """A plugin manager plus the registry it filled. Create one per embedding context.

    `strict=True` (the default) raises `PluginError` naming the first plugin that fails to
    import or register. `strict=False` records the failure in `info[name].error` and goes on,
    so `inrz plugins --all` can list a broken plugin next to the working ones.
    """

    def __init__(self, *, entry_points: bool = True, only: list[str] | None = None, extra: list[ModuleType] = (),
                 strict: bool = True, lazy: bool = False):
        self.strict = strict
        self.pm = pluggy.PluginManager("inrz")
        self.pm.add_hookspecs(hookspecs)
        self.registry = Registry(KIND_BASES, hooks={kind: hook for hook, kind in HOOK_KINDS.items()},
                                 on_miss=self._on_miss if lazy else None)
        self._info: dict[str, PluginInfo] = {}
        self._pending: list[md.EntryPoint] = []  # entry points a lazy host has not loaded yet
        self._loading = threading.RLock()  # zarr's and Dask's threads may look components up at once
        self._load(builtins, "inrz", _version("inrz"))
        if entry_points:
            only = only if only is not None else _env_filter()
            self._pending = [ep for ep in md.entry_points(group=ENTRY_POINT_GROUP)
                             if (only is None or ep.name in only) and ep.name != "inrz"]
            if not lazy:
                self.load_all()
        for module in extra:
            self._load(module, getattr(module, "__name__", str(module)), None)

    @property
    def info(self) -> dict[str, PluginInfo]:
        """Every plugin, loaded or failed (`strict=False`), by name."""
        self.load_all()
        return self._info

    def load_all(self) -> None:
        """Load every entry point a lazy host has not loaded yet (in the installed order). Always
        under the lock: another thread may have taken an entry point off the list and not yet
        registered its components."""
        with self._loading:
            while self._pending:
                self._load_pending(self._pending[0])

    def _on_miss(self, kind: str, id: str | None) -> None:
        """A lazy host's registry misses `id` (or lists `kind`): the entry point named `id` first."""
        with self._loading:
            if id is not None:
                for ep in [ep for ep in self._pending if ep.name == id]:
                    self._load_pending(ep)
                if id in self.registry.entries_loaded(kind):
                    return
            self.load_all()

    def _load_pending(self, ep: md.EntryPoint) -> None:
        """Load a pending entry point. It leaves the list first (a lookup made while its module
        imports does not load it again) and goes back where it was if loading raises, so a strict
        lazy host raises for a broken plugin every time one is needed, as an eager one would."""
        at = self._pending.index(ep)
        del self._pending[at]
        try:
            self._load_entry_point(ep)
        except BaseException:
            self._pending.insert(at, ep)
            raise

    def _load_entry_point(self, ep: md.EntryPoint) -> None:
        if ep.name in self._info:  # a plugin of that name is loaded already (same entry point listed twice)
            return
        version = ep.dist.version if ep.dist else None
        try:
            module = ep.load()
        except Exception as exc:  # any import failure of a plugin is the plugin's, not ours
            error = PluginError(f"plugin {ep.name!r} ({ep.value}) failed to import: {type(exc).__name__}: {exc}")
            self._failed(PluginInfo(ep.name, version, ep.value), error, exc)
            return
        self._load(module, ep.name, version)

    def _load(self, module: ModuleType, name: str, version: str | None) -> None:
        try:
            self._register(module, name, version)
        except PluginError as exc:
            self._failed(PluginInfo(name, version, getattr(module, "__name__", str(module))), exc, exc.__cause__)

    def _failed(self, info: PluginInfo, error: PluginError, cause: BaseException | None) -> None:
        if self.strict:
            raise error from cause
        if self.pm.has_plugin(info.name):  # the name is taken by a plugin that works: keep its record
            return
        info.error = str(error)
        self._info[info.name] = info

    def _add(self, module: ModuleType, name: str, version: str | None) -> None:
        if self.pm.has_plugin(name):  # pluggy would raise a bare ValueError
            raise PluginError(f"plugin {name!r} is already loaded; remove_plugin({name!r}) first or pick another name")
        try:
            self.pm.register(module, name=name)
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(name=name)
            detail = " ".join(str(exc).split())  # pluggy's message spans lines
            raise PluginError(f"plugin {name!r}: {detail}; {_hook_fix(exc)}valid hooks: {', '.join(HOOK_KINDS)}") from exc
        self._info[name] = PluginInfo(name, version, getattr(module, "__name__", str(module)))

    def _call(self, impl, kind: str) -> None:
        registered: list[str] = []

        def register(cls) -> None:
            self.registry.register(kind, cls, impl.plugin_name)
            registered.append(cls.id)

        try:
            impl.function(register=register)
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError(f"plugin {impl.plugin_name!r} failed in {kind} registration: {exc}") from exc
        self._info[impl.plugin_name].components.setdefault(kind, []).extend(registered)

    def add_plugin(self, module: ModuleType, name: str, version: str | None = None) -> None:
        """Register a plugin object and its components (also after construction: tests, embedding apps).

        Always strict: on failure nothing of the plugin stays behind and `PluginError` is raised.
        """
        self.load_all()  # a lazy host: the name and the ids are checked against every plugin, as when eager
        self._register(module, name, version)

    def _register(self, module: ModuleType, name: str, version: str | None) -> None:
        self._add(module, name, version)
        try:
            for hook_name, kind in HOOK_KINDS.items():
                for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                    if impl.plugin_name == name:
                        self._call(impl, kind)
        except PluginError:  # leave no half-registered plugin behind
            self._remove(name)
            raise

    def remove_plugin(self, name: str) -> None:
        self.load_all()
        self._remove(name)

    def _remove(self, name: str) -> None:
        if self.pm.has_plugin(name):
            self.pm.unregister(name=name)
        self.registry.unregister_plugin(name)
        self._info.pop(name, None)

    def status(self, name: str) -> tuple[str, str | None]:
        """`("available" | "partial" | "unavailable", reason)`: the load error, else what
        its components' `available()` report (partial: some of them cannot run here)."""
        info = self.info[name]
        if info.error:
            return "unavailable", info.error
        reasons = [f"{kind} {id!r}: {reason}" for kind, ids in info.components.items() for id in ids
                   if (reason := _availability(self.registry.get(kind, id)))]
        if not reasons:
            return "available", None
        total = sum(len(ids) for ids in info.components.values())
        return ("unavailable" if len(reasons) == total else "partial"), "; ".join(reasons)

    def describe(self, name: str) -> dict:
        """One plugin as `inrz plugins` prints it: name, version, module, components, status, reason."""
        info = self.info[name]
        status, reason = self.status(name)
        return {"name": info.name, "version": info.version, "module": info.module, "components": info.components,
                "status": status, "reason": reason}

    def default_backend(self) -> str:
        """The id of the backend that declares itself the default (`Backend.default`): what a
        `backend` section without an `id` means."""
        ids = [id for id in self.registry.names("backend") if self.registry.get("backend", id).default]
        if len(ids) == 1:
            return ids[0]
        if not ids:
            raise SpecError(f"no installed backend is the default: name one (backend: {{id: ...}}, --backend); "
                            f"installed: {', '.join(self.registry.names('backend'))}")
        raise PluginError(f"backends {', '.join(map(repr, ids))} each declare themselves the default; "
                          "uninstall one or limit the plugins loaded (INRZ_PLUGINS)")

    def backend_section(self, section: dict) -> dict:
        """A `backend` section with its `id`: the default backend's where it names none."""
        return section if "id" in section else {"id": self.default_backend(), **section}

    def create(self, kind: str, config):
        if kind == "backend" and isinstance(config, dict):
            config = self.backend_section(config)
        return self.registry.create(kind, config)


def _hook_fix(exc: pluggy.PluginValidationError) -> str:
    """What to change, for the two mistakes pluggy reports: a misspelled hook, a wrong argument."""
    text = str(exc)
    if "unknown hook" in text:
        name = text.split("'")[1] if text.count("'") >= 2 else ""
        close = difflib.get_close_matches(name, list(HOOK_KINDS), n=1)
        return f"rename it{f' (did you mean {close[0]!r}?)' if close else ''}; "
    if "Argument" in text:
        return "a hook takes exactly one argument named `register`, e.g. `def register_backends(register):`; "
    return ""


def _availability(cls) -> str | None:
    """`cls.available()`, where a crash is itself the reason (a status listing must not fail)."""
    try:
        return cls.available()
    except Exception as exc:
        return f"{cls.__name__}.available() raised {type(exc).__name__}: {exc}"


def _env_filter() -> list[str] | None:
    value = os.environ.get(ENV_VAR)
    if value is None or value.strip() in ("", "all"):
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


_default: PluginHost | None = None


def get_host() -> PluginHost:
    """The process-wide host used by the CLI and the convenience API."""
    global _default
    if _default is None:
        _default = PluginHost(lazy=True)
    return _default
