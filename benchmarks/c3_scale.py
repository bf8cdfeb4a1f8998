"""c3 at another resolution and in a window: the quality of a 2x render against bicubic
upsampling of the 1x decode, and the time a region decode saves.

    python benchmarks/c3_scale.py [--steps 600] [--cache DIR] [--full kodim01.inrz]

kodim01 is downscaled 2x (Lanczos, 384x256) and coded with c3 medium; its 2x render (the latent
pyramid resampled before synthesis) and two upsamplings of its 1x decode (PIL bicubic, pixel
areas aligned; cubic convolution at the render's own sample positions, first and last samples on
the first and last pixels) are compared with the real 768x512 kodim01. The region figure is the
median in-process CPU time of a 256x256 window against the whole image, of kodim01 at full size
(--full: a c3 file of it, e.g. the README main job's; else it is coded here with --steps).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import data_path
from PIL import Image

import inrz


def psnr(a, b) -> float:
    return float(10 * np.log10(255.0 ** 2 / np.mean((np.asarray(a, float) - np.asarray(b, float)) ** 2)))


def encode(png: Path, out: Path, steps: int) -> bytes:
    if not out.exists():
        subprocess.run(["inrz", "compress", str(png), "-o", str(out), "--set", "backend.id=c3",
                        "--set", "backend.preset=medium", "--set", f"backend.steps={steps}"], check=True)
    return out.read_bytes()


def cpu_ms(fn, repeats=5) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return 1e3 * statistics.median(times)


def main() -> None:
    from inrz_c3 import resample

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "inrz-c3-scale-bench")
    ap.add_argument("--full", type=Path, help="a c3 file of kodim01 at 768x512 for the region timing")
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    host = inrz.get_host()
    full_png = data_path("kodak", "kodim01.png")
    ref = np.asarray(Image.open(full_png))
    half_png = args.cache / "kodim01_half.png"
    Image.fromarray(ref).resize((384, 256), Image.LANCZOS).save(half_png)
    data = encode(half_png, args.cache / f"kodim01_half_{args.steps}.inrz", args.steps)
    one = inrz.decode(data, host).signal.data
    two = inrz.decode(data, host, scale=2).signal.data
    pil = np.asarray(Image.fromarray(one).resize((768, 512), Image.BICUBIC))
    x = np.moveaxis(one.astype(np.float64), -1, 0)
    for axis, (n, m) in enumerate(((256, 512), (384, 768)), start=1):
        x = resample.sample_axis(x, axis, np.arange(m) * (n - 1) / (m - 1), False)
    same = np.clip(np.round(np.moveaxis(x, 0, -1)), 0, 255)
    print(f"kodim01 at 384x256, c3 medium ({len(data)} bytes, {args.steps} steps): 1x decode "
          f"{psnr(one, np.asarray(Image.open(half_png))):.2f} dB against its own original")
    print(f"against the real 768x512: c3 2x render {psnr(two, ref):.2f} dB | PIL bicubic of the 1x decode "
          f"{psnr(pil, ref):.2f} dB | cubic of the 1x decode at the render's positions {psnr(same, ref):.2f} dB")
    big = args.full.read_bytes() if args.full else encode(full_png, args.cache / f"kodim01_{args.steps}.inrz", args.steps)
    whole = cpu_ms(lambda: inrz.decode(big, host))
    window = cpu_ms(lambda: inrz.decode(big, host, region=[(128, 384), (256, 512)]))
    print(f"kodim01 768x512 in-process CPU ms (median of 5): whole {whole:.0f} | 256x256 region {window:.0f} "
          f"({100 * (1 - window / whole):.0f}% saved; every latent is still range decoded)")


if __name__ == "__main__":
    main()
