"""Run reports: results.json (CompressAI's results schema plus per-item records and the
environment), results.csv (one row per item and codec), report.md and rd.png.
"""
from __future__ import annotations

import csv
import io
import json
import math
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy
import torch

from ..core.fsutil import atomic_write


def environment(spec, shash: str, device, host) -> dict[str, Any]:
    """What produced the results: versions, device, threads, plugins, seed, spec hash, date."""
    plugins = {name: info.version for name, info in host.info.items()}
    return {"inrz": _version("inrz"), "python": platform.python_version(), "torch": torch.__version__,
            "numpy": numpy.__version__, "platform": platform.platform(), "device": str(device),
            "torch_threads": torch.get_num_threads(), "spec_hash": shash, "seed": spec.seed,
            "plugins": plugins, "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def rows(records: list[dict]) -> list[dict[str, Any]]:
    """Flat rows: one per item and codec (inrz first, then each baseline)."""
    out = []
    for r in records:
        out.append({"item": r["name"], "codec": "inrz", **_scalars(r["inrz"])})
        for name, b in r["baselines"].items():
            out.append({"item": r["name"], "codec": name, **_scalars(b)})
    return out


def _scalars(d: dict) -> dict:
    return {k: v for k, v in d.items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)}


def summary(records: list[dict]) -> dict[str, dict[str, float]]:
    """Mean of every numeric column per codec (items where a codec is unavailable are skipped)."""
    sums: dict[str, dict[str, list[float]]] = {}
    for row in rows(records):
        for k, v in row.items():
            if isinstance(v, (int, float)) and k not in ("item",) and math.isfinite(v):
                sums.setdefault(row["codec"], {}).setdefault(k, []).append(float(v))
    return {codec: {k: sum(v) / len(v) for k, v in cols.items()} for codec, cols in sums.items()}


def write_all(out: Path, spec, records: list[dict], env: dict) -> dict[str, Any]:
    means = summary(records)
    results = {
        "name": f"inrz-{spec.backend['id']}",
        "description": spec.description or spec.name,
        "results": {k: [v] for k, v in means.get("inrz", {}).items()},
        "baselines": {c: {"results": {k: [v] for k, v in m.items()}} for c, m in means.items() if c != "inrz"},
        "spec": spec.model_dump(mode="json"),
        "environment": env,
        "items": records,
    }
    atomic_write(out / "results.json", json.dumps(results, indent=1, default=str))
    atomic_write(out / "results.csv", _csv(rows(records)))
    atomic_write(out / "report.md", markdown(spec, means, records, env))
    plot(out / "rd.png", records, means)
    return results


def _csv(table: list[dict]) -> str:
    cols: list[str] = []
    for row in table:
        cols += [k for k in row if k not in cols]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    return buf.getvalue()


def markdown(spec, means: dict, records: list[dict], env: dict) -> str:
    first = ["psnr", "bpp", "payload_bpp", "kbps", "bytes"]
    extra = sorted({k for m in means.values() for k in m} - set(first) - {"encode_seconds", "decode_seconds"})
    metric_cols = [k for k in first + extra + ["encode_seconds", "decode_seconds"] if any(k in m for m in means.values())]
    lines = [f"# {spec.name}", "", spec.description, "",
             f"Device `{env['device']}`, inrz {env['inrz']}, torch {env['torch']}, spec hash `{env['spec_hash']}`, "
             f"seed {env['seed']}, {env['date']}.", "", "## Means", "",
             "| codec | " + " | ".join(metric_cols) + " |", "|---|" + "---:|" * len(metric_cols)]
    for codec, m in means.items():
        lines.append(f"| {codec} | " + " | ".join(_fmt(m.get(k)) for k in metric_cols) + " |")
    lines += ["", "## Per item (bpp / PSNR dB)", ""]
    codecs = list(means)
    lines += ["| item | " + " | ".join(codecs) + " |", "|---|" + "---:|" * len(codecs)]
    for r in records:
        cells = [r["inrz"]] + [r["baselines"].get(c, {}) for c in codecs[1:]]
        lines.append(f"| {r['name']} | " + " | ".join(f"{_fmt(c.get('bpp'))} / {_fmt(c.get('psnr'))}" for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _fmt(v) -> str:
    if v is None:
        return "–"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def plot(path: Path, records: list[dict], means: dict) -> None:
    """Per-item points and per-codec means in the rate-PSNR plane (skipped without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=120)
    for i, codec in enumerate(means):
        pts = [(c["bpp"], c["psnr"]) for r in records
               for c in ([r["inrz"]] if codec == "inrz" else [r["baselines"].get(codec, {})])
               if "bpp" in c and "psnr" in c and math.isfinite(c["psnr"])]
        if not pts:
            continue
        xs, ys = zip(*pts)
        colour = f"C{i}"
        ax.scatter(xs, ys, s=12, alpha=0.5, color=colour)
        ax.scatter([sum(xs) / len(xs)], [sum(ys) / len(ys)], s=80, marker="*", color=colour, label=f"{codec} (mean)")
    ax.set_xlabel("bits per point (whole file)")
    ax.set_ylabel("PSNR (dB)")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:  # modalities without PSNR (time series) plot no points
        ax.legend()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    atomic_write(path, buf.getvalue())
