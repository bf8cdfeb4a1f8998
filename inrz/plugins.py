"""The only module that touches pluggy: loads plugins and fills a `Registry`.

Built-in components (`inrz.builtins`) go through the same hooks as third-party plugins.
Third-party and bundled modality plugins are found through the entry-point group `inrz`;
the env var `INRZ_PLUGINS` (comma-separated entry-point names) limits which ones load.
Each `PluginHost` has its own plugin manager, so embedding applications stay isolated.
"""
from __future__ import annotations

import importlib.metadata as md
import os
from dataclasses import dataclass, field
from types import ModuleType

import pluggy

from . import hookspecs
from .errors import PluginError
from .registry import Registry

ENTRY_POINT_GROUP = "inrz"
ENV_VAR = "INRZ_PLUGINS"

HOOK_KINDS = {
    "register_modalities": "modality",
    "register_backends": "backend",
    "register_quantizers": "quantizer",
    "register_entropy_models": "entropy",
    "register_datasets": "dataset",
    "register_baselines": "baseline",
    "register_metrics": "metric",
}


def _kind_bases() -> dict:
    from .backends.base import Backend
    from .baselines import Baseline
    from .datasets import Dataset
    from .entropy import EntropyModel
    from .metrics import Metric
    from .modality import Modality
    from .quantize import Quantizer

    return {"modality": Modality, "backend": Backend, "quantizer": Quantizer, "entropy": EntropyModel,
            "dataset": Dataset, "baseline": Baseline, "metric": Metric}


@dataclass
class PluginInfo:
    name: str
    version: str | None
    module: str
    components: dict[str, list[str]] = field(default_factory=dict)


class PluginHost:
    """A plugin manager plus the registry it filled. Create one per embedding context."""

    def __init__(self, *, entry_points: bool = True, only: list[str] | None = None, extra: list[ModuleType] = ()):
        self.pm = pluggy.PluginManager("inrz")
        self.pm.add_hookspecs(hookspecs)
        self.registry = Registry(_kind_bases())
        self.info: dict[str, PluginInfo] = {}
        from . import builtins

        self._add(builtins, "inrz", _version("inrz"))
        if entry_points:
            self._load_entry_points(only if only is not None else _env_filter())
        for module in extra:
            self._add(module, getattr(module, "__name__", str(module)), None)
        self._fill_registry()

    def _load_entry_points(self, only: list[str] | None) -> None:
        for ep in md.entry_points(group=ENTRY_POINT_GROUP):
            if only is not None and ep.name not in only:
                continue
            if ep.name in self.info:
                continue
            try:
                module = ep.load()
            except Exception as exc:  # any import failure of a plugin is the plugin's, not ours
                raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to import: {type(exc).__name__}: {exc}") from exc
            self._add(module, ep.name, ep.dist.version if ep.dist else None)

    def _add(self, module: ModuleType, name: str, version: str | None) -> None:
        if self.pm.has_plugin(name):  # pluggy would raise a bare ValueError
            raise PluginError(f"plugin {name!r} is already loaded; remove_plugin({name!r}) first or pick another name")
        try:
            self.pm.register(module, name=name)
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(name=name)
            raise PluginError(f"plugin {name!r}: {exc}; valid hooks: {', '.join(HOOK_KINDS)}") from exc
        self.info[name] = PluginInfo(name, version, getattr(module, "__name__", str(module)))

    def _fill_registry(self) -> None:
        for hook_name, kind in HOOK_KINDS.items():
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                self._call(impl, kind)

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
        self.info[impl.plugin_name].components.setdefault(kind, []).extend(registered)

    def add_plugin(self, module: ModuleType, name: str) -> None:
        """Register a plugin object after construction (tests, embedding apps)."""
        self._add(module, name, None)
        try:
            for hook_name, kind in HOOK_KINDS.items():
                for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                    if impl.plugin_name == name:
                        self._call(impl, kind)
        except PluginError:  # leave no half-registered plugin behind
            self.remove_plugin(name)
            raise

    def remove_plugin(self, name: str) -> None:
        self.pm.unregister(name=name)
        self.registry.unregister_plugin(name)
        self.info.pop(name, None)

    def create(self, kind: str, config):
        return self.registry.create(kind, config)


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
        _default = PluginHost()
    return _default
