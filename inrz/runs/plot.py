"""Rate-distortion plots (rd.png, `inrz plot`): one curve per codec in the modality's rate and
its first metric, inrz pipelines solid, classical baselines dashed, the Bjøntegaard deltas in
a box, a title naming what is compared."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ..core.fsutil import atomic_write
from .curves import BASELINE, PUBLISHED, Curve


def rd_plot(path: Path, curves: list[Curve], rate: str, rate_label: str, metric: str | None, metric_label: str,
            title: str, bd_rows: list[dict[str, Any]] | None = None) -> bool:
    """Write the plot; False (nothing written) without matplotlib (`inrz[report]`)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    wide = any(c.kind == PUBLISHED for c in curves)  # room for the legend beside the axes
    fig, ax = plt.subplots(figsize=(10.0 if wide else 7.5, 5.2), dpi=120)
    ours = [c for c in curves if c.kind != PUBLISHED]
    for i, curve in enumerate(ours):
        xs, ys = curve.xy(rate, metric) if metric else ([], [])
        if xs:
            ax.plot(xs, ys, "--" if curve.kind == BASELINE else "-", marker="o" if curve.kind == BASELINE else "s",
                    markersize=4 if curve.kind == BASELINE else 6, linewidth=1.2 if curve.kind == BASELINE else 2.2,
                    color=f"C{i % 10}", label=f"{curve.name} ({len(xs)} point{'s' * (len(xs) != 1)})")
    _published(ax, [c for c in curves if c.kind == PUBLISHED], rate, metric, ax.get_xlim() if ours else None)
    ax.set_xlabel(rate_label)
    ax.set_ylabel(metric_label or "no metric")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:  # no finite figures: an empty plot rather than none
        if wide:
            ax.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
        else:
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


def _published(ax, curves: list[Curve], rate: str, metric: str | None, xlim) -> None:
    """Published curves: thin dotted lines in their own colours, clipped to the run's rate range
    (they span 0.05-4 bpp), each named at its right end inside the plot."""
    palette = ["#444444", "#8c564b", "#17becf", "#bcbd22", "#9467bd", "#e377c2", "#7f7f7f", "#2ca02c"]
    if xlim and curves:
        lo, hi = xlim
        ax.set_xlim(max(0.0, lo - 0.15 * (hi - lo)), hi + 0.15 * (hi - lo))
    for i, curve in enumerate(curves):
        xs, ys = curve.xy(rate, metric) if metric else ([], [])
        if xs:
            ax.plot(xs, ys, ":", marker=".", markersize=3, linewidth=1.1, color=palette[i % len(palette)],
                    label=curve.name)
    if xlim and curves:
        _fit_y(ax)


def _fit_y(ax) -> None:
    """The y range of every line inside the x range (matplotlib scales y to all data)."""
    lo, hi = ax.get_xlim()
    ys = [y for line in ax.get_lines() for x, y in zip(line.get_xdata(), line.get_ydata()) if lo <= x <= hi]
    if ys:
        pad = 0.08 * (max(ys) - min(ys) or 1.0)
        ax.set_ylim(min(ys) - pad, max(ys) + pad)


def few_points(row: dict[str, Any]) -> str:
    """' (2 points)' beside a BD figure fitted to fewer than 4 points per curve (a straight line
    through two points is no Bjøntegaard curve), '' otherwise."""
    n = row.get("points")
    return f" ({n} points)" if isinstance(n, int) and n < 4 else ""


def bd_text(rows: list[dict[str, Any]], metric: str) -> str:
    """One line per pipeline and baseline: BD-rate and BD-metric (or why there is none)."""
    lines = []
    rows = [r for r in rows if r.get("bd_rate_percent") is not None or r.get(f"bd_{metric}") is not None]
    width = max((len(f"{r['codec']} vs {r['anchor']}:") for r in rows), default=0)
    for row in rows:
        rate = "    n/a" if row.get("bd_rate_percent") is None else f"{row['bd_rate_percent']:+7.1f}%"
        quality = row.get(f"bd_{metric}")
        quality = "n/a" if quality is None else f"{quality:+.2f}"
        lines.append(f"{row['codec'] + ' vs ' + row['anchor'] + ':':<{width}} BD-rate {rate}, BD-{metric} {quality}"
                     + few_points(row))
    return ("Bjøntegaard delta (negative rate: fewer bits)\n" + "\n".join(lines)) if lines else ""
