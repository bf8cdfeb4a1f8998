"""Kodak rate-distortion: inrz COIN vs JPEG / WebP / JPEG 2000 at equal file size, on a
CPU budget stated on the command line (paper: 50k steps per image on a GPU).

Every rate counts the whole `.inrz` file; the baselines are bisected to the largest file
not above the inrz file, per image.

    python benchmarks/rd_kodak.py --images 1 2 3 4 --steps 1000 --presets 0.07bpp 0.3bpp
"""
from __future__ import annotations

import argparse
import time

from _common import data_path, table

from inrz import Codec, PluginHost, decode
from inrz.core.device import resolve_device


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--presets", nargs="+", default=["0.07bpp", "0.3bpp"])
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    host = PluginHost()
    modality = host.create("modality", "image")
    psnr = host.create("metric", "psnr")
    baselines = [host.create("baseline", b) for b in ("jpeg", "webp", "jpeg2000")]
    signals = [modality.load(data_path("kodak", f"kodim{i:02d}.png")) for i in args.images]
    device = resolve_device(args.device)
    rows = []
    for preset in args.presets:
        codec = Codec(modality, host.create("backend", {"id": "coin", "preset": preset, "steps": args.steps}),
                      host.create("quantizer", "fp16"), host.create("entropy", "zstd"), device, seed=0)
        for i, signal in zip(args.images, signals):
            start = time.perf_counter()
            enc = codec.encode(signal)
            seconds = time.perf_counter() - start
            dec = decode(enc.data, host, device).signal
            points = modality.num_points(signal)
            row = {"image": f"kodim{i:02d}", "preset": preset, "inrz_bpp": 8 * len(enc.data) / points,
                   "inrz_psnr": psnr.compute(signal, dec, modality), "fit_s": seconds}
            for b in baselines:
                res = b.at_size(signal, len(enc.data))
                row[f"{b.id}_bpp"] = 8 * len(res.data) / points
                row[f"{b.id}_psnr"] = psnr.compute(signal, res.decoded, modality)
            rows.append(row)
            print(row, flush=True)
    cols = ["image", "preset", "inrz_bpp", "inrz_psnr", "jpeg_bpp", "jpeg_psnr", "webp_bpp", "webp_psnr",
            "jpeg2000_bpp", "jpeg2000_psnr", "fit_s"]
    print(f"\nCOIN {args.steps} steps per image on {device} (paper: 50000), fp16 + zstd; baselines at <= inrz bytes")
    print(table(rows, cols))
    for preset in args.presets:
        sel = [r for r in rows if r["preset"] == preset]
        mean = {c: sum(r[c] for r in sel) / len(sel) for c in cols[2:]}
        print(f"mean {preset}: " + ", ".join(f"{c} {mean[c]:.3f}" for c in cols[2:]))
        print(f"  PSNR gap inrz - jpeg at equal size: {mean['inrz_psnr'] - mean['jpeg_psnr']:+.2f} dB")


if __name__ == "__main__":
    main()
