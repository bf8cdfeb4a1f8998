"""Shared fixtures: where the real data lives, and a fresh plugin host per test module."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def load_factor() -> float:
    """How much slower than idle this machine is likely to run: the 1-minute load average per
    core, at least 1. Time bounds written for an idle machine scale by it on a shared one."""
    try:
        return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
    except OSError:  # no load average on this platform
        return 1.0


def data_file(*parts: str) -> Path:
    """A file of ../shared/data, or skip the test with the reason."""
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real test data not found: {path} (see ../shared/data/README.md)")
    return path


@pytest.fixture(scope="module")
def host():
    from inrz import PluginHost

    return PluginHost()
