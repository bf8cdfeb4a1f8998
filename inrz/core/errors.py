"""One exception hierarchy for everything inrz raises on bad input.

The CLI converts these to a message and an exit code in one place (`inrz/cli/main.py`).
Embedding applications catch `InrzError` to handle any failure of ours; anything else (out
of memory, a bug) keeps its own type.
"""
from __future__ import annotations

import importlib
from types import ModuleType


class InrzError(Exception):
    """Base class: a problem the user can act on (never a bug in inrz)."""


class SpecError(InrzError):
    """A spec or a component config is malformed: the message names file, line and field."""


class PluginError(InrzError):
    """A plugin failed to load or registered something invalid: the message names the plugin."""


class UnknownComponentError(InrzError):
    """A component id is not registered: the message lists the ids that are."""


class MissingDependencyError(InrzError):
    """An optional library is missing: the message says which extra to install."""


class ContainerError(InrzError):
    """An `.inrz` file's content is malformed: truncated, corrupted, of an unknown version, or
    holding values no encoder writes. Raised where the bytes are read, and only for content."""


class DecodeLimitError(ContainerError):
    """A container asks for more decoding work than its size justifies (`inrz.DecodeLimits`):
    damaged, hostile, or from a trusted source that needs `DecodeLimits.trusted()`."""


class CheckpointError(InrzError):
    """A training checkpoint cannot be resumed from (unsafe format, damaged, or from another training)."""


class DatasetError(InrzError):
    """A dataset cannot be read or fetched (missing files, checksum mismatch, no network)."""


class BaseNetworkError(InrzError):
    """A COIN++ base network is missing, corrupt, or not the one a container was written with."""


def require(module: str, extra: str, package: str = "inrz") -> ModuleType:
    """Import an optional dependency or explain which extra provides it.

    A plugin calls this where it first needs the library (not at import time), so the plugin
    still loads and `inrz plugins --all` can report it as unavailable with this message.
    Third-party plugins pass their own distribution name: `require("h5py", "hdf5", "inrz-foo")`.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{module} is required for this feature: pip install '{package}[{extra}]' ({exc})"
        ) from exc


def missing(module: str, extra: str, package: str = "inrz") -> str | None:
    """None if `module` imports, else `require`'s message: what `Component.available()` returns."""
    try:
        require(module, extra, package)
    except MissingDependencyError as exc:
        return str(exc)
    return None
