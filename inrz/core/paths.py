"""Where inrz keeps downloads and base networks: one cache folder, chosen in one place."""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

CACHE_ENV = "INRZ_CACHE_DIR"


def cache_dir(override: str | Path | None = None) -> Path:
    """`override` (a spec's `cache_dir`), else `$INRZ_CACHE_DIR`, else the platform's user cache."""
    if override:
        return Path(override).expanduser()
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    return Path(platformdirs.user_cache_dir("inrz"))
