"""Latent-grid backend (c3): the anytime curve. PSNR and bpp against encode wall-seconds on a
768x512 image, from random networks and from each network prior named, and the seconds c3 needs
to reach WebP's PSNR at equal size: WebP (method 6) is coded at every quality, and its PSNR at
c3's exact rate read off that curve (linear in bpp between the two qualities around it); the
crossing is interpolated linearly in seconds between c3's points. (WebP's largest file not above
c3's, also printed, is not an equal-size comparison where WebP has a gap: on kodim01 its quality
0 gives 0.123 bpp and quality 1 already 0.218.)

    python benchmarks/c3_anytime.py [--image kodak/kodim01.png] [--steps 100 200 400 900]
        [--lmbda 0.004] [--priors none medium-3ch-<tag>.json fast-3ch-<tag>.json] [--preset medium]
        [--threads 2] [--json OUT]

A c3 encode's schedule (noise, soft, hard rounding, cosine decay) spans its number of steps, so
each point is its own encode, as a user with that time budget would run it. The latents start at
zero in every case (a learned start was measured and not kept: results/c3-latent-start/).
Wall-seconds include the weight search and the range coding (not the process's one-off loading
of compiled kernels: a small encode runs first) and depend on the machine's load: say which when
quoting them.
"""
from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from _common import data_path, table
from c3_prior_start import c3_point, psnr, webp_at
import inrz
from inrz_c3 import priorfile


def webp_curve(img: np.ndarray) -> list[tuple[float, float]]:
    """(bpp, PSNR) of WebP (lossy, method 6) at every quality 0-100, by rate."""
    out = []
    for q in range(101):
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, "WEBP", quality=q, method=6)
        back = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
        out.append((8 * buf.tell() / img.shape[0] / img.shape[1], psnr(back, img)))
    return sorted(out)


def webp_at_rate(curve: list[tuple[float, float]], bpp: float) -> float | None:
    """WebP's PSNR at exactly `bpp` on its curve (linear between neighbours; None outside it)."""
    for (r0, p0), (r1, p1) in zip(curve, curve[1:]):
        if r0 <= bpp <= r1:
            return p0 if r1 == r0 else p0 + (p1 - p0) * (bpp - r0) / (r1 - r0)
    return None


def crossing(points: list[dict], key: str = "seconds") -> float | None:
    """Seconds (or, with key="steps", steps: the machine-independent figure) at which c3's PSNR
    minus WebP's at c3's rate first turns non-negative."""
    prev = None
    for pt in sorted(points, key=lambda r: r[key]):
        webp = pt.get("webp_psnr_at_rate")
        gap = pt["psnr"] - (float("inf") if webp is None else webp)
        if gap >= 0:
            if prev is None:
                return pt[key]
            s0, g0 = prev
            return s0 + (pt[key] - s0) * (-g0) / (gap - g0)
        prev = (pt[key], gap)
    return None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--image", default="kodak/kodim01.png")
    p.add_argument("--steps", type=int, nargs="+", default=[100, 200, 400, 900])
    p.add_argument("--lmbda", type=float, default=0.004)
    p.add_argument("--priors", nargs="+", default=["none", priorfile.DEFAULT[("medium", 3)]])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--preset", default="medium",
                   help="the c3 preset for 'none'; a prior file's name gives its own (fast-3ch-<tag>.json: fast)")
    p.add_argument("--json", type=Path, help="append each point as a JSON line here")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    img = np.asarray(Image.open(data_path(*Path(args.image).parts)).convert("RGB"))
    host = inrz.PluginHost()
    presets = {prior: prior.split("-")[0] if prior != "none" else args.preset for prior in args.priors}
    for preset in sorted(set(presets.values())):  # compiled kernels loaded before timing
        c3_point(host, img[:64, :64], "none", 2, args.lmbda, args.threads, preset)
    curve = webp_curve(img)
    rows, summary = [], []
    for prior in args.priors:
        points = []
        for steps in args.steps:
            pt = {"start": prior, "preset": presets[prior], "steps": steps,
                  **c3_point(host, img, prior, steps, args.lmbda, args.threads, presets[prior])}
            pt.update(webp_at(img, pt["bytes"]), webp_psnr_at_rate=webp_at_rate(curve, pt["bpp"]))
            points.append(pt)
            print(table([pt], list(pt)), flush=True)
            if args.json:
                with args.json.open("a") as f:
                    f.write(json.dumps({"image": args.image, **pt}) + "\n")
        rows += points
        summary.append({"start": prior, "preset": presets[prior], "seconds_to_webp_psnr": crossing(points),
                        "steps_to_webp_psnr": crossing(points, "steps")})
    print()
    print(table(rows, ["start", "preset", "steps", "seconds", "bpp", "psnr", "webp_psnr_at_rate", "webp_bpp", "webp_psnr"]))
    print()
    print(table(summary, ["start", "preset", "seconds_to_webp_psnr", "steps_to_webp_psnr"]))


if __name__ == "__main__":
    main()
