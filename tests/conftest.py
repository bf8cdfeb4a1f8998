"""Shared fixtures: where the real data lives, and a fresh plugin host per test module."""
from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


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
