"""Tune c3's fit schedule for a step budget, on images that nothing reported is measured on.

Each configuration is one encode per tuning image at the same preset, lambda and number of
steps, so the same encode time; it prints and appends (JSON lines) the coded bpp and PSNR, the
RD cost the fit minimises (MSE + lambda * bits per point, on decoded pixels in [0, 1]) and WebP's
PSNR at c3's exact rate (WebP method 6 at every quality, read off its curve).

The tuning images must stay disjoint from the evaluation data (Kodak, `shared/data/images`) and
from the priors' training corpus. The set used so far is Set14's monarch (768x512), barbara
(720x576) and zebra (586x391), from `cszn/IRCNN@d9dcd537bdac3ae5b753296cd675db8a303c8f72:
testsets/Set14/<name>.bmp` (the repository states no licence; Set14 is Zeyde et al., 2010, a
research test set); sources and SHA-256 in `tools/c3_tuning_set/PROVENANCE.json`; an image whose
hash is not recorded there is refused unless `--allow-unrecorded`.

    python tools/tune_c3_schedule.py --images DIR/monarch.bmp DIR/barbara.bmp --steps 230 \
        --lmbda 0.01 --set lr=0.08 --set lr=0.12,lr_net=0.02 --json OUT.jsonl

A configuration is `name=value` pairs of c3's config (`lr`, `lr_net`, `noise_frac`, ...);
`--set base` is the defaults. Threads: 2 unless `--threads`; time the runs on an idle machine.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import inrz

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from c3_anytime import webp_at_rate, webp_curve  # noqa: E402
from c3_prior_start import c3_point  # noqa: E402
from inrz_c3 import priorfile  # noqa: E402

PROVENANCE = Path(__file__).resolve().parent / "c3_tuning_set" / "PROVENANCE.json"


def parse_set(text: str) -> dict:
    if text == "base":
        return {}
    out = {}
    for pair in text.split(","):
        key, value = pair.split("=")
        out[key] = float(value)
    return out


def encode(host, img: np.ndarray, preset: str, steps: int, lmbda: float, settings: dict, threads: int) -> dict:
    """One encode from the preset's default prior (`c3_point`), with the MSE on [0, 1] pixels."""
    r = c3_point(host, img, priorfile.DEFAULT[(preset, 3)], steps, lmbda, threads, preset, settings)
    return {**r, "mse": 10 ** (-r["psnr"] / 10)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images", nargs="+", type=Path, required=True)
    p.add_argument("--steps", type=int, default=230)
    p.add_argument("--lmbda", type=float, default=0.01)
    p.add_argument("--preset", default="medium")
    p.add_argument("--set", dest="sets", action="append", default=None, help="a configuration (repeatable)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", type=Path)
    p.add_argument("--allow-unrecorded", action="store_true",
                   help="tune on images outside the recorded tuning set (add them to its record first if results are kept)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    host = inrz.PluginHost()
    images = {path.name: np.asarray(Image.open(path).convert("RGB")) for path in args.images}
    hashes = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in args.images}
    if not args.allow_unrecorded:
        known = {f["sha256"] for f in json.loads(PROVENANCE.read_text())["files"]}
        unknown = [name for name, h in hashes.items() if h not in known]
        if unknown:
            raise SystemExit(f"not in the tuning set ({PROVENANCE}): {', '.join(unknown)}")
    curves = {name: webp_curve(img) for name, img in images.items()}
    encode(host, next(iter(images.values()))[:64, :64], args.preset, 2, args.lmbda, {}, args.threads)  # kernels loaded first
    for text in args.sets or ["base"]:
        costs = []
        for name, img in images.items():
            settings = parse_set(text)
            r = encode(host, img, args.preset, args.steps, args.lmbda, settings, args.threads)
            r["cost"] = r["mse"] + args.lmbda * r["bpp"]
            webp = webp_at_rate(curves[name], r["bpp"])
            r["webp_gap_db"] = None if webp is None else r["psnr"] - webp
            costs.append(r["cost"])
            row = {"config": text, "image": name, "sha256": hashes[name], "preset": args.preset, "lmbda": args.lmbda,
                   "steps": args.steps, **settings, **r}
            print(json.dumps(row), flush=True)
            if args.json:
                with args.json.open("a") as f:
                    f.write(json.dumps(row) + "\n")
        print(f"# {text}: mean cost {np.mean(costs):.6f}", flush=True)


if __name__ == "__main__":
    main()
