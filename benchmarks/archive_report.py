"""What benchmarks/archive.py records beside its figures: the machine, the command and every
library's version; ratios at equal RMSE read off the RD curves; the RD plot."""
from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

import numpy as np


def environment(args, argv: list[str]) -> dict:
    from inrz_era5.bounded import versions

    import zstandard

    here = os.path.relpath(os.getcwd(), Path(__file__).resolve().parents[1])
    return {"command": ("" if here == "." else f"cd {here} && ") + "python " + " ".join(argv),
            "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": f"{_cpu()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "load_start": os.getloadavg(), "threads": 1,
            "libraries": {"inrz": f"inrz {importlib.metadata.version('inrz')} (git {_commit()})",
                          **versions(),
                          "zstd_q": f"zstd {'.'.join(map(str, zstandard.ZSTD_VERSION))} via zstandard "
                                    f"{zstandard.__version__}",
                          "numpy": np.__version__, "torch": importlib.metadata.version("torch")}}


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _commit() -> str:
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "inrz"], cwd=root,
                               capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" + local changes under inrz/" if dirty else "")


def _at(curve: list[tuple[float, float]], rmse: float) -> float | None:
    """log-log interpolation of ratio at `rmse` on a codec's (rmse, ratio) points; None outside them."""
    pts = sorted((r, q) for r, q in curve if r > 0)
    if len(pts) < 2 or not pts[0][0] <= rmse <= pts[-1][0]:
        return None
    x, y = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return float(np.exp(np.interp(np.log(rmse), x, y)))


def equal_rmse(rd: list[dict], ref: str, baselines) -> list[dict]:
    """Per array and per `ref` point of the sweep: every baseline's ratio at `ref`'s RMSE."""
    rows = []
    for data in dict.fromkeys(r["data"] for r in rd):
        curves = {c: [(r["rmse"], r["ratio"]) for r in rd if r["data"] == data and r["codec"] == c]
                  for c in (ref, *baselines)}
        for rmse, ratio in sorted(curves[ref]):
            if rmse <= 0:
                continue
            row = {"data": data, "rmse": rmse, ref: ratio, **{b: _at(curves[b], rmse) for b in baselines}}
            others = [v for b in baselines if (v := row[b]) is not None]
            row[f"{ref}/best"] = ratio / max(others) if others else None
            rows.append(row)
    return rows


def plot(rows: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r["data"] for r in rows))
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4), squeeze=False)
    for ax, name in zip(axes[0], names):
        for codec in dict.fromkeys(r["codec"] for r in rows):
            pts = sorted((r["ratio"], r["rmse"]) for r in rows if r["data"] == name and r["codec"] == codec)
            ax.plot(*zip(*pts), marker="o", label=codec)
        ax.set(xscale="log", yscale="log", xlabel="compression ratio", ylabel="RMSE", title=name)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")
