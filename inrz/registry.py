"""One registry per component kind, one spelling per name.

Plugins add components through the `register` callback their hook receives; the registry
checks the class (right base, non-empty id, no duplicate) and remembers which plugin
registered it, so errors and `inrz plugins` can name the plugin.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .component import Component
from .errors import PluginError, UnknownComponentError


@dataclass(frozen=True)
class Entry:
    cls: type[Component]
    plugin: str


class Registry:
    """Maps (kind, id) to component classes; `bases` fixes which base class each kind needs."""

    def __init__(self, bases: dict[str, type[Component]]):
        self.bases = dict(bases)
        self._entries: dict[str, dict[str, Entry]] = {kind: {} for kind in bases}

    def register(self, kind: str, cls: type[Component], plugin: str) -> None:
        base = self.bases.get(kind)
        if base is None:
            raise PluginError(f"plugin {plugin!r}: unknown component kind {kind!r} (kinds: {', '.join(self.bases)})")
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise PluginError(
                f"plugin {plugin!r}: {cls!r} registered as a {kind} must subclass {base.__module__}.{base.__name__}"
            )
        if not cls.id:
            raise PluginError(f"plugin {plugin!r}: {cls.__name__} has no `id`; set a class attribute id = '...'")
        existing = self._entries[kind].get(cls.id)
        if existing is not None and existing.cls is not cls:
            raise PluginError(
                f"plugin {plugin!r}: {kind} id {cls.id!r} is already registered by plugin {existing.plugin!r}; "
                "choose another id"
            )
        self._entries[kind][cls.id] = Entry(cls, plugin)

    def callback(self, kind: str, plugin: str) -> Callable[[type[Component]], None]:
        """The `register` function handed to one plugin's hook for one kind."""
        return lambda cls: self.register(kind, cls, plugin)

    def get(self, kind: str, id: str) -> type[Component]:
        entries = self._entries.get(kind)
        if entries is None:
            raise UnknownComponentError(f"unknown component kind {kind!r} (kinds: {', '.join(self.bases)})")
        entry = entries.get(id)
        if entry is None:
            available = ", ".join(sorted(entries)) or "none"
            raise UnknownComponentError(f"unknown {kind} {id!r}; available: {available}")
        return entry.cls

    def create(self, kind: str, config: dict[str, Any] | str) -> Component:
        """Build a component from `{"id": ..., **settings}` (or a bare id)."""
        if isinstance(config, str):
            config = {"id": config}
        if "id" not in config:
            raise UnknownComponentError(f"{kind} config has no 'id'; available: {', '.join(self.names(kind))}")
        return self.get(kind, config["id"]).from_config(config)

    def names(self, kind: str) -> list[str]:
        return sorted(self._entries.get(kind, {}))

    def entries(self, kind: str) -> dict[str, Entry]:
        return dict(self._entries.get(kind, {}))

    def unregister_plugin(self, plugin: str) -> None:
        for entries in self._entries.values():
            for id in [i for i, e in entries.items() if e.plugin == plugin]:
                del entries[id]
