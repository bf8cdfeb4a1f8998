"""Latent-grid backend (c3): the anytime curve. PSNR and bpp against encode wall-seconds on a
768x512 image, from random networks and from each network prior named, and the seconds c3 needs
to reach WebP's PSNR at equal size (WebP method 6 at the largest file not above c3's, measured
at each of c3's points; the crossing is interpolated linearly in seconds between the points).

    python benchmarks/c3_anytime.py [--image kodak/kodim01.png] [--steps 100 200 400 900]
        [--lmbda 0.004] [--priors none medium-3ch-<tag>.json] [--threads 2] [--json OUT]

A c3 encode's schedule (noise, soft, hard rounding, cosine decay) spans its number of steps, so
each point is its own encode, as a user with that time budget would run it. The latents start at
zero in every case (no meta-learned latent start exists yet). Wall-seconds include the weight
search and the range coding and depend on the machine's load: say which when quoting them.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from _common import data_path, table
from c3_prior_start import c3_point, webp_at
import inrz
from inrz_c3 import priorfile


def crossing(points: list[dict]) -> float | None:
    """Seconds at which c3's PSNR minus WebP's (at c3's size) first turns non-negative."""
    prev = None
    for pt in sorted(points, key=lambda r: r["seconds"]):
        gap = pt["psnr"] - pt.get("webp_psnr", float("inf"))
        if gap >= 0:
            if prev is None:
                return pt["seconds"]
            s0, g0 = prev
            return s0 + (pt["seconds"] - s0) * (-g0) / (gap - g0)
        prev = (pt["seconds"], gap)
    return None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--image", default="kodak/kodim01.png")
    p.add_argument("--steps", type=int, nargs="+", default=[100, 200, 400, 900])
    p.add_argument("--lmbda", type=float, default=0.004)
    p.add_argument("--priors", nargs="+", default=["none", priorfile.DEFAULT[("medium", 3)]])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", type=Path, help="append each point as a JSON line here")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    img = np.asarray(Image.open(data_path(*Path(args.image).parts)).convert("RGB"))
    host = inrz.PluginHost()
    rows, summary = [], []
    for prior in args.priors:
        points = []
        for steps in args.steps:
            pt = {"start": prior, "steps": steps, **c3_point(host, img, prior, steps, args.lmbda, args.threads)}
            pt.update(webp_at(img, pt["bytes"]))
            points.append(pt)
            print(table([pt], list(pt)), flush=True)
            if args.json:
                with args.json.open("a") as f:
                    f.write(json.dumps({"image": args.image, **pt}) + "\n")
        rows += points
        summary.append({"start": prior, "seconds_to_webp_psnr": crossing(points)})
    print()
    print(table(rows, ["start", "steps", "seconds", "bpp", "psnr", "webp_psnr"]))
    print()
    print(table(summary, ["start", "seconds_to_webp_psnr"]))


if __name__ == "__main__":
    main()
