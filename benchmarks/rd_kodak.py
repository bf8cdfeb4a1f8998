"""Kodak rate-distortion: inrz COIN vs JPEG / WebP / JPEG 2000 / AVIF at equal file size, on a
CPU budget stated on the command line (paper: 50k full-batch steps per image on a GPU).

Every rate counts the whole `.inrz` file; the baselines are bisected to the largest file not
above the inrz file, per image. With two or more rate points (`--presets`, or `--targets` for
rate-controlled points), the last table is the Bjøntegaard delta of COIN against each
baseline: BD-rate is the ratio of bits COIN needs for the same PSNR (negative: fewer).

    python benchmarks/rd_kodak.py --images 1 2 3 4 --steps 1000 --presets 5x20 5x30 10x28 10x40
    python benchmarks/rd_kodak.py --images 15 --targets 0.1 0.2 0.3
"""
from __future__ import annotations

import argparse
import time

from _common import data_path, table

from inrz import Codec, PluginHost, decode
from inrz.core.device import resolve_device
from inrz.pipeline.ratecontrol import encode_to_target
from inrz.runs.bjontegaard import delta

BASELINES = ("jpeg", "webp", "jpeg2000", "avif")


def encode(host, modality, point: str, steps: int, device, signal):
    """One rate point: a fixed architecture (`10x28`) or a rate target (`0.2`, rate control)."""
    backend = {"id": "coin", "steps": steps, **({"preset": point} if "x" in point else {})}
    codec = Codec(modality, host.create("backend", backend), host.create("quantizer", "fp16"),
                  host.create("entropy", "zstd"), device, seed=0)
    if "x" in point:
        return codec.encode(signal)
    return encode_to_target(codec, signal, bpp=float(point), host=host)[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--presets", nargs="+", default=["5x30", "10x28"])
    ap.add_argument("--targets", nargs="+", default=None, help="rate-controlled points (bits per pixel) instead")
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    host = PluginHost()
    modality = host.create("modality", "image")
    psnr = host.create("metric", "psnr")
    baselines = [b for b in (host.create("baseline", i) for i in BASELINES) if b.available() is None]
    signals = [modality.load(data_path("kodak", f"kodim{i:02d}.png")) for i in args.images]
    device = resolve_device(args.device)
    points = args.targets or args.presets
    rows = []
    for point in points:
        for i, signal in zip(args.images, signals):
            start = time.perf_counter()
            enc = encode(host, modality, point, args.steps, device, signal)
            seconds = time.perf_counter() - start
            dec = decode(enc.data, host, device).signal
            pixels = modality.num_points(signal)
            row = {"image": f"kodim{i:02d}", "point": point, "inrz_bpp": 8 * len(enc.data) / pixels,
                   "inrz_psnr": psnr.compute(signal, dec, modality), "fit_s": seconds}
            for b in baselines:
                res = b.at_size(signal, len(enc.data))
                row[f"{b.id}_bpp"] = 8 * len(res.data) / pixels
                row[f"{b.id}_psnr"] = psnr.compute(signal, res.decoded, modality)
            rows.append(row)
            print(row, flush=True)
    cols = ["image", "point", "inrz_bpp", "inrz_psnr"] + [f"{b.id}_{k}" for b in baselines for k in ("bpp", "psnr")]
    print(f"\nCOIN {args.steps} steps per image on {device} (defaults: random 16,384-pixel batches, cosine lr), "
          "fp16 + zstd; baselines at <= inrz bytes")
    print(table(rows, cols + ["fit_s"]))
    means = [{"point": p, **{c: sum(r[c] for r in rows if r["point"] == p) / len(args.images) for c in cols[2:]}}
             for p in points]
    print("\nmeans per rate point")
    print(table(means, ["point"] + cols[2:]))
    if len(points) >= 2:
        bd = []
        for b in baselines:
            d = delta([m[f"{b.id}_bpp"] for m in means], [m[f"{b.id}_psnr"] for m in means],
                      [m["inrz_bpp"] for m in means], [m["inrz_psnr"] for m in means])
            bd.append({"baseline": b.id, "bd_rate_%": d.rate_percent, "bd_psnr_dB": d.quality, "points": d.points})
        print("\nBjøntegaard delta of COIN against each baseline (same run)")
        print(table(bd, ["baseline", "bd_rate_%", "bd_psnr_dB", "points"]))


if __name__ == "__main__":
    main()
