"""pytest fixtures for plugin authors: `pytest -p inrz.testing.plugin` (or put
`-p inrz.testing.plugin` in `addopts`).

- `inrz_host`: a fresh `PluginHost` per test (entry-point plugins loaded, strict);
- `inrz_device`: the CPU (`torch.device`), so tests behave the same on every machine;
- `inrz_seed`: 0, the seed the kit's fits use;
- `tiny_signal`: `tiny_signal(modality, sample=None, max_points=4096)` -> a small `Signal`;
- `temporary_plugin`: `register(module, name)` adds a plugin module to `inrz_host` and
  returns the host; the plugin is always removed at teardown, even if the test fails.
"""
from __future__ import annotations

from types import ModuleType
from typing import Callable, Iterator

import pytest
import torch

from ..host.manager import PluginHost
from .samples import tiny_signal as make_tiny_signal


@pytest.fixture
def inrz_host() -> PluginHost:
    return PluginHost()


@pytest.fixture
def inrz_device() -> torch.device:
    return torch.device("cpu")


@pytest.fixture
def inrz_seed() -> int:
    return 0


@pytest.fixture
def tiny_signal() -> Callable:
    return make_tiny_signal


@pytest.fixture
def temporary_plugin(inrz_host) -> Iterator[Callable[[ModuleType, str], object]]:
    added: list[str] = []

    def register(module: ModuleType, name: str):
        inrz_host.add_plugin(module, name)
        added.append(name)
        return inrz_host

    yield register
    for name in reversed(added):
        inrz_host.remove_plugin(name)
