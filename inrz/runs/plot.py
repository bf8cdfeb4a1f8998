"""The rate-distortion plot of a run (rd.png), in the modality's rate and its first metric."""
from __future__ import annotations

import io
import math
from pathlib import Path

from ..core.fsutil import atomic_write


def rd_plot(path: Path, records: list[dict], means: dict, rate: str, rate_label: str, metric: str | None,
            metric_label: str, title: str) -> None:
    """Per-item points and per-codec means; skipped without matplotlib (`inrz[report]`)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=120)
    for i, codec in enumerate(means):
        xs, ys = _points(records, codec, rate, metric)
        if not xs:
            continue
        ax.scatter(xs, ys, s=12, alpha=0.5, color=f"C{i}")
        ax.scatter([sum(xs) / len(xs)], [sum(ys) / len(ys)], s=80, marker="*", color=f"C{i}", label=f"{codec} (mean)")
    ax.set_xlabel(f"{rate_label} (whole file)")
    ax.set_ylabel(metric_label or "no metric")
    ax.set_title(f"{title}: {metric or 'rate'} against rate")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:  # no finite figures: an empty plot rather than none
        ax.legend()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    atomic_write(path, buf.getvalue())


def _points(records: list[dict], codec: str, rate: str, metric: str | None) -> tuple[list[float], list[float]]:
    """(rate, metric) of every item where the codec has both, finite."""
    if metric is None:
        return [], []
    pts = []
    for r in records:
        figures = r["inrz"] if codec == "inrz" else r["baselines"].get(codec, {})
        x, y = figures.get(rate), figures.get(metric)
        if isinstance(x, (int, float)) and isinstance(y, (int, float)) and math.isfinite(x) and math.isfinite(y):
            pts.append((x, y))
    return ([p[0] for p in pts], [p[1] for p in pts]) if pts else ([], [])
