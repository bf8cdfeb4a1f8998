"""Helpers shared by the benchmark programs (not part of the library)."""
from __future__ import annotations

import io
import statistics
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def data_path(*parts: str) -> Path:
    path = DATA.joinpath(*parts)
    if not path.exists():
        raise SystemExit(f"benchmark data not found: {path} (see ../shared/data/README.md)")
    return path


def timed(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def median(xs) -> float:
    return statistics.median(xs)


def table(rows: list[dict], cols: list[str]) -> str:
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in cols}
    line = " | ".join(c.ljust(widths[c]) for c in cols)
    out = [line, "-+-".join("-" * widths[c] for c in cols)]
    out += [" | ".join(_fmt(r.get(c)).ljust(widths[c]) for c in cols) for r in rows]
    return "\n".join(out)


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def git_tree(rev: str, *paths: str) -> Path:
    """A new temporary folder holding `paths` (default: everything) of this repository at git
    revision `rev` (`git archive`): the code another benchmark run is compared against."""
    root = Path(__file__).resolve().parents[1]
    tar = subprocess.run(["git", "archive", rev, *paths], cwd=root, capture_output=True, check=True).stdout
    folder = Path(tempfile.mkdtemp(prefix=f"inrz_{rev.replace('/', '_')}_"))
    tarfile.open(fileobj=io.BytesIO(tar)).extractall(folder)
    return folder
