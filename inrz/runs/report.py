"""Run reports: results.json (CompressAI's results schema: `name`, `description`, `results` with
one list entry per rate point — `bpp`, `psnr`, `ms-ssim`, `encoding_time`, `decoding_time`,
... — plus baselines in the same layout, Bjøntegaard deltas, per-item records and the
environment), results.csv (one row per item, point and codec), report.md and rd.png.

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

from ..core import threads
from ..core.fsutil import atomic_write
from .curves import BASELINE, INRZ, Curve, bd_table, lists, published
from .plot import few_points, rd_plot

TIMES = ("encoding_time", "decoding_time")


@dataclass(frozen=True)
class Labels:
    """What the report leads with: the rate column and its label, the metrics and their units."""

    rate: str = "bpp"
    rate_label: str = "bits per point"
    point: str = "point"  # what bpp counts bits per ("pixel", "sample")
    metrics: dict[str, str] = field(default_factory=dict)  # metric id -> unit ("dB", "K", "")
    lower_is_better: tuple[str, ...] = ()  # metrics that fall as quality rises (RMSE)

    @classmethod
    def of(cls, records: list[dict]) -> "Labels":
        """From the first item's record (records written before labels existed get the defaults)."""
        first = records[0] if records else {}
        rate = first.get("rate", {})
        return cls(rate.get("key", "bpp"), rate.get("label", "bits per point"), first.get("unit", "point"),
                   dict(first.get("metrics", {})), tuple(first.get("lower_is_better", ())))

    def column(self, key: str) -> str:
        """A column header: the rate with its label, bits per point, a metric with its unit."""
        if key == self.rate:
            return f"{key} ({self.rate_label})"
        if key in ("bpp", "payload_bpp"):
            return f"{key} (bits per {self.point})"
        if key in TIMES:
            return f"{key} (s)"
        unit = self.metrics.get(key)
        return f"{key} ({unit})" if unit else key

    def first_metric(self) -> str | None:
        return next(iter(self.metrics), None)


def environment(spec, shash: str, device, host) -> dict[str, Any]:
    """What produced the results: versions, device, threads, plugins, seed, spec hash, date."""
    torch = threads.for_torch()  # a run has fitted already; loaded here, not when `inrz` starts
    plugins = {name: info.version for name, info in host.info.items()}
    libraries = {(b := host.create("baseline", config)).id: b.library() for config in spec.baselines}
    return {"inrz": _version("inrz"), "baseline_libraries": libraries, "python": platform.python_version(), "torch": torch.__version__,
            "numpy": numpy.__version__, "platform": platform.platform(), "device": str(device),
            "torch_threads": torch.get_num_threads(), "spec_hash": shash, "seed": spec.seed,
            "plugins": plugins, "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def inrz_version() -> str | None:
    return _version("inrz")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def rows(records: list[dict]) -> list[dict[str, Any]]:
    """Flat rows: one per item, rate point and codec (inrz first, then each baseline)."""
    out = []
    for r in records:
        where = {"item": r["name"], "point": r.get("point_label", "spec")}
        out.append({**where, "codec": INRZ, **_scalars(r["inrz"])})
        for name, b in r["baselines"].items():
            out.append({**where, "codec": name, **_scalars(b)})
    return out


def _scalars(d: dict) -> dict:
    return {k: v for k, v in d.items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)}


def summary(records: list[dict]) -> dict[str, list[dict[str, float]]]:
    """Per codec, one point per rate point: the mean of every numeric figure over the items
    (items where a codec is unavailable, or a figure is not finite, are left out)."""
    sums: dict[str, dict[int, dict[str, list[float]]]] = {}
    for r in records:
        for codec, figures in [(INRZ, r["inrz"]), *r["baselines"].items()]:
            cols = sums.setdefault(codec, {}).setdefault(r.get("point", 0), {})
            for k, v in _scalars(figures).items():
                if isinstance(v, (int, float)) and math.isfinite(v):
                    cols.setdefault(k, []).append(float(v))
    return {codec: [{k: sum(v) / len(v) for k, v in cols.items()} for _, cols in sorted(by_point.items()) if cols]
            for codec, by_point in sums.items()}


def kinds(records: list[dict]) -> dict[str, str]:
    """Which codecs are inrz pipelines (the run's own and its `compare` ones) and which classical."""
    out = {INRZ: INRZ}
    for r in records:
        out.update({name: INRZ if b.get("inrz") else BASELINE for name, b in r["baselines"].items()})
    return out


def write_all(out: Path, spec, records: list[dict], env: dict, anchors: list[dict] | None = None) -> dict[str, Any]:
    """results.json, results.csv, report.md and rd.png; `anchors` are the dataset's published
    curves (`Dataset.published_curves`), drawn and listed with their sources, never in BD figures."""
    means, labels = summary(records), Labels.of(records)
    kind = kinds(records)
    name = f"inrz-{spec.backend['id']}"
    curves = [Curve(name if c == INRZ else c, kind.get(c, BASELINE), pts) for c, pts in means.items()]
    anchors = list(anchors or [])
    metric = labels.first_metric()
    bd = bd_table(curves, labels.rate, metric, metric in labels.lower_is_better) if metric else []
    results = {
        "name": name,
        "description": spec.description or spec.name,
        "results": lists(means.get(INRZ, [])),
        "baselines": {c: {"name": c, "kind": kind.get(c, BASELINE), "results": lists(m)}
                      for c, m in means.items() if c != INRZ},
        "points": sorted({(r.get("point", 0), r.get("point_label", "spec")) for r in records}),
        "bd": bd,
        "anchors": anchors,
        "labels": asdict(labels),
        "spec": spec.model_dump(mode="json"),
        "environment": env,
        "items": records,
    }
    results["points"] = [label for _, label in results["points"]]
    atomic_write(out / "results.json", json.dumps(results, indent=1, default=str))
    atomic_write(out / "results.csv", _csv(rows(records)))
    atomic_write(out / "report.md", markdown(spec, means, records, env, labels, bd, anchors))
    rd_plot(out / "rd.png", curves + published(anchors), labels.rate, labels.column(labels.rate), metric,
            labels.column(metric or ""), title(spec.name, curves, metric, labels), bd)
    return results


def title(name: str, curves: list[Curve], metric: str | None, labels: Labels) -> str:
    return f"{name}: {metric or 'rate'} against {labels.rate_label}, {', '.join(c.name for c in curves)}"


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


def markdown(spec, means: dict, records: list[dict], env: dict, labels: Labels | None = None,
             bd: list[dict] | None = None, anchors: list[dict] | None = None) -> str:
    labels = labels or Labels.of(records)
    first = lead_columns(labels)
    extra = sorted({k for pts in means.values() for m in pts for k in m} - set(first) - set(TIMES))
    cols = [k for k in first + extra + list(TIMES) if any(k in m for pts in means.values() for m in pts)]
    lines = [f"# {spec.name}", "", spec.description, "",
             f"Device `{env['device']}`, inrz {env['inrz']}, torch {env['torch']}, spec hash `{env['spec_hash']}`, "
             f"seed {env['seed']}, {env['date']}.", "", "## Means (one row per codec and rate point)", "",
             "| codec | point | " + " | ".join(labels.column(k) for k in cols) + " |",
             "|---|---|" + "---:|" * len(cols)]
    for codec, pts in means.items():
        lines += [f"| {codec} | {i} | " + " | ".join(_fmt(m.get(k)) for k in cols) + " |" for i, m in enumerate(pts)]
    lines += _above_target(records)
    lines += _libraries(env)
    lines += _bd_markdown(bd or [], labels.first_metric())
    lines += _anchors_markdown(anchors or [])
    metric = labels.first_metric()
    lines += ["", f"## Per item ({labels.column(labels.rate)}" + (f" / {labels.column(metric)})" if metric else ")"), ""]
    codecs = list(means)
    lines += ["| item | point | " + " | ".join(codecs) + " |", "|---|---|" + "---:|" * len(codecs)]
    for r in records:
        cells = [r["inrz"]] + [r["baselines"].get(c, {}) for c in codecs[1:]]
        lines.append(f"| {r['name']} | {r.get('point_label', 'spec')} | "
                     + " | ".join(_cell(c, labels.rate, metric) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _above_target(records: list[dict]) -> list[str]:
    """Baselines whose smallest file is larger than inrz's: their figures there are at a higher rate."""
    over: dict[str, int] = {}
    for r in records:
        for name, b in r["baselines"].items():
            over[name] = over.get(name, 0) + bool(b.get("above_target"))
    notes = [f"{name} on {n} of {len(records)}" for name, n in over.items() if n]
    if not notes:
        return []
    return ["", "Not at equal size: the smallest file these codecs make is larger than inrz's for "
            + "; ".join(notes) + " (item, point) pairs, so their figures there are at a higher rate."]


def _libraries(env: dict) -> list[str]:
    libs = env.get("baseline_libraries") or {}
    if not libs:
        return []
    return ["", "## Classical codecs (library and version that coded them)", ""] + [
        f"- {codec}: {lib or 'library not stated'}" for codec, lib in libs.items()]


def _anchors_markdown(anchors: list[dict]) -> list[str]:
    if not anchors:
        return []
    lines = ["", "## Published reference curves (drawn in rd.png; not measured here, not in the BD table)", "",
             "| curve | points | rate range | source | licence |", "|---|---:|---|---|---|"]
    for a in anchors:
        rates = [r for r in a.get("bpp", []) if isinstance(r, (int, float))]
        span = f"{min(rates):.3g}-{max(rates):.3g} bpp" if rates else "–"
        lines.append(f"| {a.get('name')} | {len(rates)} | {span} | `{a.get('source')}` | {a.get('licence', '')} |")
    conventions = sorted({a.get("convention", "") for a in anchors} - {""})
    return lines + ["", "Convention: " + "; ".join(conventions) + "."] if conventions else lines


def _bd_markdown(bd: list[dict], metric: str | None) -> list[str]:
    if not bd or metric is None:
        return []
    title = f"## Bjøntegaard delta ({metric}; BD-rate < 0: fewer bits than the baseline at equal quality)"
    computed = [row for row in bd if row.get("bd_rate_percent") is not None or row.get(f"bd_{metric}") is not None]
    if not computed and len({row.get("note") for row in bd}) == 1:  # one reason for all: say it once
        return ["", title, "", f"None computed: {bd[0].get('note', '')} (a `sweep:` in the spec gives more)."]
    lines = ["", title, "",
             f"| pipeline | baseline | BD-rate (%) | BD-{metric} | points | note |", "|---|---|---:|---:|---:|---|"]
    for row in bd:
        lines.append(f"| {row['codec']} | {row['anchor']} | {_fmt(row.get('bd_rate_percent'))}{few_points(row)} | "
                     f"{_fmt(row.get(f'bd_{metric}'))}{few_points(row)} | {_fmt(row.get('points'))} | "
                     f"{row.get('note', '')} |")
    return lines


def _cell(figures: dict, rate: str, metric: str | None) -> str:
    return _fmt(figures.get(rate)) + (f" / {_fmt(figures.get(metric))}" if metric else "")


def _fmt(v) -> str:
    if v is None:
        return "–"
    return f"{v:.4g}" if isinstance(v, float) else str(v)
