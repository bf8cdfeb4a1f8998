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
    """Maps (kind, id) to component classes; `bases` fixes which base class each kind needs.

    `hooks` (kind -> hook name) only improves messages: a class sent through the wrong hook is
    told which hook to use.
    """

    def __init__(self, bases: dict[str, type[Component]], hooks: dict[str, str] | None = None,
                 on_miss: Callable[[str, str | None], None] | None = None):
        self.bases = dict(bases)
        self.hooks = dict(hooks or {})
        self._entries: dict[str, dict[str, Entry]] = {kind: {} for kind in bases}
        # a host that loads plugins on demand (`PluginHost(lazy=True)`): called with (kind, id)
        # before an id is reported missing, and with (kind, None) before a kind is listed
        self.on_miss = on_miss

    def register(self, kind: str, cls: type[Component], plugin: str) -> None:
        base = self.bases.get(kind)
        if base is None:
            raise PluginError(f"plugin {plugin!r}: unknown component kind {kind!r} (kinds: {', '.join(self.bases)})")
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise PluginError(f"plugin {plugin!r}: {cls!r} registered as a {kind} must subclass "
                              f"{base.__module__}.{base.__name__}{self._wrong_kind_hint(cls, kind)}")
        if not cls.id:
            raise PluginError(f"plugin {plugin!r}: {cls.__name__} has no `id`; set a class attribute id = '...'")
        existing = self._entries[kind].get(cls.id)
        if existing is not None and existing.cls is not cls:
            raise PluginError(
                f"plugin {plugin!r}: {kind} id {cls.id!r} is already registered by plugin {existing.plugin!r}; "
                f"choose another id (ids are global per kind: prefix yours, e.g. '{plugin}_{cls.id}')"
            )
        self._entries[kind][cls.id] = Entry(cls, plugin)

    def _wrong_kind_hint(self, cls, kind: str) -> str:
        """The fix when a class went through the wrong hook (a quantizer passed to register_backends)."""
        if not isinstance(cls, type):
            return f"; pass the class itself, not an instance (register({type(cls).__name__}))"
        actual = [k for k, b in self.bases.items() if issubclass(cls, b)]
        if actual:
            return f"; {cls.__name__} is a {actual[0]}: register it from {self.hooks.get(actual[0], 'its own hook')}"
        return f"; declare it as class {cls.__name__}({self.bases[kind].__name__})"

    def callback(self, kind: str, plugin: str) -> Callable[[type[Component]], None]:
        """The `register` function handed to one plugin's hook for one kind."""
        return lambda cls: self.register(kind, cls, plugin)

    def get(self, kind: str, id: str) -> type[Component]:
        entries = self._entries.get(kind)
        if entries is None:
            raise UnknownComponentError(f"unknown component kind {kind!r} (kinds: {', '.join(self.bases)})")
        entry = entries.get(id)
        if entry is None and self.on_miss is not None:
            self.on_miss(kind, id)
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
        return sorted(self.entries(kind))

    def entries(self, kind: str) -> dict[str, Entry]:
        if self.on_miss is not None:
            self.on_miss(kind, None)
        return self.entries_loaded(kind)

    def entries_loaded(self, kind: str) -> dict[str, Entry]:
        """`entries` without asking a lazy host to load more plugins first."""
        return dict(self._entries.get(kind, {}))

    def unregister_plugin(self, plugin: str) -> None:
        for entries in self._entries.values():
            for id in [i for i, e in entries.items() if e.plugin == plugin]:
                del entries[id]
