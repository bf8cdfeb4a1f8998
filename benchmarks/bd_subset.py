"""BD-rate and BD-PSNR of inrz against each baseline on the mean curve of some items of one or
more `inrz run` results.csv files: to compare runs that coded different subsets of a dataset on
the items they share.

    python benchmarks/bd_subset.py results/kodak-c3-rd-quick/results.csv \
        results/kodak-c3-rd-budget/results.csv --items kodim01 kodim02
"""
from __future__ import annotations

import argparse
import csv
from collections import defaultdict

from inrz.runs.bjontegaard import delta


def mean_curves(path: str, items: set[str]) -> dict[str, tuple[list[float], list[float]]]:
    """codec -> (mean bpp, mean PSNR) per rate point over `items`, points in the file's order."""
    points: dict[str, dict[str, list[tuple[float, float]]]] = defaultdict(lambda: defaultdict(list))
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["item"] in items:
                points[row["codec"]][row["point"]].append((float(row["bpp"]), float(row["psnr"])))
    return {codec: ([sum(b for b, _ in v) / len(v) for v in by.values()],
                    [sum(q for _, q in v) / len(v) for v in by.values()]) for codec, by in points.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", nargs="+", required=True)
    ap.add_argument("results", nargs="+", help="results.csv files of `inrz run`")
    args = ap.parse_args()
    for path in args.results:
        curves = mean_curves(path, set(args.items))
        test = curves.pop("inrz")
        print(f"{path} ({', '.join(args.items)}): inrz " +
              ", ".join(f"{b:.4f} bpp / {q:.2f} dB" for b, q in zip(*test)))
        for base, anchor in sorted(curves.items()):
            d = delta(*anchor, *test)
            print(f"  vs {base}: BD-rate {d.rate_percent:+.1f} %, BD-PSNR {d.quality:+.2f} dB ({d.points} points)")


if __name__ == "__main__":
    main()
