"""BD-rate and BD-PSNR of inrz against each baseline on the mean curve of some items of one or
more `inrz run` results.json files: to compare runs that coded different subsets of a dataset on
the items they share. The means and BD figures are the run report's own (`inrz.runs.report.summary`,
`inrz.runs.curves.bd_table`), taken over the chosen items only.

    python benchmarks/bd_subset.py results/kodak-c3-rd-quick/results.json \
        results/kodak-c3-rd-budget/results.json --items kodim01 kodim02
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from inrz.runs.curves import BASELINE, INRZ, Curve, bd_table
from inrz.runs.report import kinds, summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", nargs="+", required=True)
    ap.add_argument("results", nargs="+", help="results.json files of `inrz run`")
    args = ap.parse_args()
    for path in args.results:
        records = [r for r in json.loads(Path(path).read_text())["items"] if r["name"] in args.items]
        kind = kinds(records)
        curves = [Curve(c, kind.get(c, BASELINE), pts) for c, pts in summary(records).items()]
        rate, quality = next(c for c in curves if c.name == INRZ).xy("bpp", "psnr")
        print(f"{path} ({', '.join(args.items)}): inrz " +
              ", ".join(f"{b:.4f} bpp / {q:.2f} dB" for b, q in zip(rate, quality)))
        for row in bd_table(curves, "bpp", "psnr"):
            print(f"  vs {row['anchor']}: BD-rate {row['bd_rate_percent']:+.1f} %, BD-PSNR {row['bd_psnr']:+.2f} dB "
                  f"({row['points']} points)")


if __name__ == "__main__":
    main()
