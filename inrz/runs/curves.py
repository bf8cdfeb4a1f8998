"""Rate-distortion curves: one point per rate (the mean over items), per codec, from a run's
records or from results files (inrz's, or any in CompressAI's schema: `name` and `results`
holding lists `bpp`, `psnr`, `ms-ssim`, ...), merged by codec name across files, with the
Bjøntegaard delta of every inrz pipeline against every classical baseline.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..core.errors import InrzError
from .bjontegaard import delta

INRZ, BASELINE = "inrz", "baseline"  # curve kinds: a pipeline of ours (or a file's codec), a classical codec
PUBLISHED = "published"  # a published reference curve (`Dataset.published_curves`): drawn, never in BD figures


@dataclass
class Curve:
    name: str
    kind: str = INRZ
    points: list[dict[str, float]] = field(default_factory=list)  # one dict of figures per rate point

    def xy(self, rate: str, metric: str) -> tuple[list[float], list[float]]:
        """(rate, metric) of the points that have both, finite, sorted by rate."""
        pts = sorted((p[rate], p[metric]) for p in self.points
                     if _finite(p.get(rate)) and _finite(p.get(metric)))
        return [x for x, _ in pts], [y for _, y in pts]


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def lists(points: list[dict[str, float]]) -> dict[str, list]:
    """CompressAI's layout: each figure as a list with one entry per point (None where absent)."""
    keys = list(dict.fromkeys(k for p in points for k in p))
    return {k: [p.get(k) for p in points] for k in keys}


def _points(results: dict[str, list]) -> list[dict[str, float]]:
    if not isinstance(results, dict) or not all(isinstance(v, list) for v in results.values()):
        raise InrzError("a results file's `results` must map each figure to a list (CompressAI's schema)")
    n = max((len(v) for v in results.values()), default=0)
    return [{k: v[i] for k, v in results.items() if i < len(v) and _finite(v[i])} for i in range(n)]


def from_results(data: dict[str, Any], source: str = "results") -> list[Curve]:
    """The curves of one results file: its own codec, then its baselines (inrz's files have them)."""
    if not isinstance(data, dict) or "results" not in data:
        raise InrzError(f"{source}: not a results file (no `results`; CompressAI's schema: name, results)")
    curves = [Curve(str(data.get("name") or Path(source).stem), INRZ, _points(data["results"]))]
    for name, entry in (data.get("baselines") or {}).items():
        curves.append(Curve(name, entry.get("kind", BASELINE), _points(entry.get("results", {}))))
    return curves + published(data.get("anchors") or [])


def published(entries: list[dict]) -> list[Curve]:
    """Published reference curves (a results file's `anchors`: name, source, figure lists)."""
    out = []
    for entry in entries:
        figures = {k: v for k, v in entry.items() if isinstance(v, list)}
        out.append(Curve(f"{entry.get('name', 'published')} (published)", PUBLISHED, _points(figures)))
    return out


def load(paths: Iterable[str | Path]) -> tuple[list[Curve], dict[str, Any]]:
    """Curves merged by (name, kind) across files, and the first inrz file's labels (units, title)."""
    merged: dict[tuple[str, str], Curve] = {}
    labels: dict[str, Any] = {}
    for path in paths:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise InrzError(f"{path}: cannot read results: {exc}") from exc
        labels = labels or dict(data.get("labels") or {})
        for curve in from_results(data, str(path)):
            merged.setdefault((curve.name, curve.kind), Curve(curve.name, curve.kind)).points.extend(curve.points)
    return list(merged.values()), labels


def item_names(data: dict[str, Any]) -> frozenset[str] | None:
    """The items a results file's means are over (None for files that do not say, e.g. CompressAI's)."""
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        return None
    return frozenset(str(item.get("name")) for item in items if isinstance(item, dict))


def mixed_items(paths: Iterable[str | Path]) -> str | None:
    """Why merging these files' curves would compare means over different data, or None.

    Each point of a curve is a mean over a file's items; a curve merged from runs on different
    images is not a rate-distortion curve (it need not even be monotone), and a Bjøntegaard
    delta fitted to it is meaningless."""
    seen: dict[frozenset[str], str] = {}
    for path in paths:
        try:
            names = item_names(json.loads(Path(path).read_text()))
        except (OSError, ValueError):
            continue  # load() reports unreadable files
        if names is not None:
            seen.setdefault(names, str(path))
    if len(seen) < 2:
        return None
    (a, fa), (b, fb) = list(seen.items())[:2]
    only_a, only_b = sorted(a - b)[:3], sorted(b - a)[:3]
    return (f"{fa} ({len(a)} items) and {fb} ({len(b)} items) cover different data"
            f" (only in the first: {', '.join(only_a) or '-'}; only in the second: {', '.join(only_b) or '-'})")


def bd_table(curves: list[Curve], rate: str, metric: str, lower_is_better: bool = False,
             anchors: list[str] | None = None) -> list[dict[str, Any]]:
    """BD-rate and BD-metric of every non-anchor curve against every anchor (default: the
    classical baselines). A metric that falls with quality (RMSE) is negated for the fit, so
    a positive BD-metric always means better."""
    sign = -1.0 if lower_is_better else 1.0
    anchor_set = [c for c in curves if c.kind != PUBLISHED and (c.name in anchors if anchors else c.kind == BASELINE)]
    rows = []
    for test in (c for c in curves if c not in anchor_set and c.kind != PUBLISHED):
        for anchor in anchor_set:
            row: dict[str, Any] = {"codec": test.name, "anchor": anchor.name, "metric": metric}
            (ra, qa), (rt, qt) = anchor.xy(rate, metric), test.xy(rate, metric)
            try:
                d = delta(ra, [sign * q for q in qa], rt, [sign * q for q in qt])
            except InrzError as exc:
                rows.append({**row, "note": str(exc)})
                continue
            note = {} if d.rate_percent is not None else {"note": "the curves share no quality range"}
            rows.append({**row, "bd_rate_percent": d.rate_percent, f"bd_{metric}": d.quality, "points": d.points,
                         **note})
    return rows
