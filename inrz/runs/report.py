"""Run reports: results.json (CompressAI's results schema plus per-item records and the
environment), results.csv (one row per item and codec), report.md and rd.png.

Rates and metrics are labelled as the modality presents them (`Modality.rate_unit`,
`Metric.unit_for`), recorded with each item by `inrz.runs.run`; nothing here knows a modality.
"""
from __future__ import annotations

import csv
import io
import json
import math
import platform
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy
import torch

from ..core.fsutil import atomic_write
from .plot import rd_plot

TIMES = ("encode_seconds", "decode_seconds")


@dataclass(frozen=True)
class Labels:
    """What the report leads with: the rate column and its label, the metrics and their units."""

    rate: str = "bpp"
    rate_label: str = "bits per point"
    point: str = "point"  # what bpp counts bits per ("pixel", "sample")
    metrics: dict[str, str] = field(default_factory=dict)  # metric id -> unit ("dB", "K", "")

    @classmethod
    def of(cls, records: list[dict]) -> "Labels":
        """From the first item's record (records written before labels existed get the defaults)."""
        first = records[0] if records else {}
        rate = first.get("rate", {})
        return cls(rate.get("key", "bpp"), rate.get("label", "bits per point"), first.get("unit", "point"),
                   dict(first.get("metrics", {})))

    def column(self, key: str) -> str:
        """A column header: the rate with its label, bits per point, a metric with its unit."""
        if key == self.rate:
            return f"{key} ({self.rate_label})"
        if key in ("bpp", "payload_bpp"):
            return f"{key} (bits per {self.point})"
        unit = self.metrics.get(key)
        return f"{key} ({unit})" if unit else key

    def first_metric(self) -> str | None:
        return next(iter(self.metrics), None)


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
    means, labels = summary(records), Labels.of(records)
    results = {
        "name": f"inrz-{spec.backend['id']}",
        "description": spec.description or spec.name,
        "results": {k: [v] for k, v in means.get("inrz", {}).items()},
        "baselines": {c: {"results": {k: [v] for k, v in m.items()}} for c, m in means.items() if c != "inrz"},
        "labels": asdict(labels),
        "spec": spec.model_dump(mode="json"),
        "environment": env,
        "items": records,
    }
    atomic_write(out / "results.json", json.dumps(results, indent=1, default=str))
    atomic_write(out / "results.csv", _csv(rows(records)))
    atomic_write(out / "report.md", markdown(spec, means, records, env, labels))
    rd_plot(out / "rd.png", records, means, labels.rate, labels.rate_label, labels.first_metric(),
            labels.column(labels.first_metric() or ""), spec.name)
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


def lead_columns(labels: Labels) -> list[str]:
    """The modality's rate, bits per point and payload, its metrics, then bytes."""
    return list(dict.fromkeys([labels.rate, "bpp", "payload_bpp", *labels.metrics, "bytes"]))


def markdown(spec, means: dict, records: list[dict], env: dict, labels: Labels | None = None) -> str:
    labels = labels or Labels.of(records)
    first = lead_columns(labels)
    extra = sorted({k for m in means.values() for k in m} - set(first) - set(TIMES))
    cols = [k for k in first + extra + list(TIMES) if any(k in m for m in means.values())]
    lines = [f"# {spec.name}", "", spec.description, "",
             f"Device `{env['device']}`, inrz {env['inrz']}, torch {env['torch']}, spec hash `{env['spec_hash']}`, "
             f"seed {env['seed']}, {env['date']}.", "", "## Means", "",
             "| codec | " + " | ".join(labels.column(k) for k in cols) + " |", "|---|" + "---:|" * len(cols)]
    for codec, m in means.items():
        lines.append(f"| {codec} | " + " | ".join(_fmt(m.get(k)) for k in cols) + " |")
    metric = labels.first_metric()
    lines += ["", f"## Per item ({labels.column(labels.rate)}" + (f" / {labels.column(metric)})" if metric else ")"), ""]
    codecs = list(means)
    lines += ["| item | " + " | ".join(codecs) + " |", "|---|" + "---:|" * len(codecs)]
    for r in records:
        cells = [r["inrz"]] + [r["baselines"].get(c, {}) for c in codecs[1:]]
        lines.append(f"| {r['name']} | " + " | ".join(_cell(c, labels.rate, metric) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(figures: dict, rate: str, metric: str | None) -> str:
    return _fmt(figures.get(rate)) + (f" / {_fmt(figures.get(metric))}" if metric else "")


def _fmt(v) -> str:
    if v is None:
        return "–"
    return f"{v:.4g}" if isinstance(v, float) else str(v)
