"""Rate-distortion plots (rd.png, `inrz plot`): one curve per codec in the modality's rate and
its first metric, inrz pipelines solid, classical baselines dashed, the Bjøntegaard deltas in
a box, a title naming what is compared."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ..core.fsutil import atomic_write
from .curves import BASELINE, Curve


def rd_plot(path: Path, curves: list[Curve], rate: str, rate_label: str, metric: str | None, metric_label: str,
            title: str, bd_rows: list[dict[str, Any]] | None = None) -> bool:
    """Write the plot; False (nothing written) without matplotlib (`inrz[report]`)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(7.5, 5.2), dpi=120)
    for i, curve in enumerate(curves):
        xs, ys = curve.xy(rate, metric) if metric else ([], [])
        if xs:
            ax.plot(xs, ys, "--" if curve.kind == BASELINE else "-", marker="o" if curve.kind == BASELINE else "s",
                    markersize=4 if curve.kind == BASELINE else 6, linewidth=1.2 if curve.kind == BASELINE else 2.2,
                    color=f"C{i % 10}", label=f"{curve.name} ({len(xs)} point{'s' * (len(xs) != 1)})")
    ax.set_xlabel(rate_label)
    ax.set_ylabel(metric_label or "no metric")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:  # no finite figures: an empty plot rather than none
        ax.legend(fontsize=8, loc="lower right")
    box = bd_text(bd_rows or [], metric or "")
    if box:
        ax.text(0.02, 0.98, box, transform=ax.transAxes, va="top", ha="left", fontsize=7.5, family="monospace",
                bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"})
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    atomic_write(path, buf.getvalue())
    return True


def bd_text(rows: list[dict[str, Any]], metric: str) -> str:
    """One line per pipeline and baseline: BD-rate and BD-metric (or why there is none)."""
    lines = []
    rows = [r for r in rows if r.get("bd_rate_percent") is not None or r.get(f"bd_{metric}") is not None]
    width = max((len(f"{r['codec']} vs {r['anchor']}:") for r in rows), default=0)
    for row in rows:
        rate = "    n/a" if row.get("bd_rate_percent") is None else f"{row['bd_rate_percent']:+7.1f}%"
        quality = row.get(f"bd_{metric}")
        quality = "n/a" if quality is None else f"{quality:+.2f}"
        lines.append(f"{row['codec'] + ' vs ' + row['anchor'] + ':':<{width}} BD-rate {rate}, BD-{metric} {quality}")
    return ("Bjøntegaard delta (negative rate: fewer bits)\n" + "\n".join(lines)) if lines else ""
