"""Latent-grid backend (c3): what the encoder's start is worth. Each held-out 256x256 crop is
encoded at the same settings and number of steps from random networks and from each prior named,
then decoded: bits per pixel of the whole file, PSNR, encode wall-seconds; and WebP (method 6)
at the largest file not above c3's, for scale (`--avif`: AVIF too, at its strongest settings).

    python benchmarks/c3_prior_start.py [--steps 900] [--lmbda 0.004] [--priors none medium-3ch.json ...]
        [--preset medium] [--grey] [--crop images/retina.jpg:600,150] [--crop /path/to/photo.png:TOP,LEFT ...]
        [--json OUT] [--avif]

`--priors`: files in plugins/inrz_c3/priors (default: none = random networks, and every shipped
prior of `--preset` for colour images, or for greyscale ones with `--grey`: the crops' luma). A crop path is relative to ../shared/data unless absolute. The crops must be
held out from every prior's training data: the shipped medium-3ch priors' corpora are listed in
their files' `about` (the first one, 477d7e8d, saw astronaut, coffee, chelsea and two regions of
retina: rows 450-956, columns 450-856; the default crop avoids them). Encodes run on one
thread; wall-seconds depend on the machine's load (say which when quoting them).
"""
from __future__ import annotations

import argparse
import io
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from _common import DATA, table
import inrz
from inrz_c3 import priorfile

CROP = 256


def load_crop(spec: str, grey: bool = False) -> tuple[str, np.ndarray]:
    path, _, corner = spec.rpartition(":")
    top, left = (int(v) for v in corner.split(","))
    full = Path(path) if Path(path).is_absolute() else DATA / path
    img = np.asarray(Image.open(full).convert("L" if grey else "RGB"))
    return f"{full.name}@{top},{left}", np.ascontiguousarray(img[top:top + CROP, left:left + CROP])


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return 10 * math.log10(255 ** 2 / np.mean((a.astype(np.float64) - b) ** 2))


def c3_point(host, img: np.ndarray, prior: str, steps: int, lmbda: float, threads: int = 1,
             preset: str = "medium", settings: dict | None = None) -> dict:
    """Encode with the prior file `prior` as the encoder's start ('none': random networks);
    `settings`: more of c3's config (lr, noise_frac, ...)."""
    if prior != "none":
        priorfile.DEFAULT[(preset, 1 if img.ndim == 2 else img.shape[-1])] = prior  # this process's, for this encode
    backend = {"id": "c3", "preset": preset, "lmbda": lmbda, "steps": steps, "threads": threads,
               "prior": prior != "none", **(settings or {})}
    codec = inrz.Codec(host.create("modality", "image"), host.create("backend", backend), None, None)
    start = time.perf_counter()
    data = codec.encode(codec.modality.from_array(img)).data
    seconds = time.perf_counter() - start
    out = inrz.decode(data, host).signal.data.reshape(img.shape)  # a greyscale image decodes as (H, W, 1)
    return {"bytes": len(data), "bpp": 8 * len(data) / img.shape[0] / img.shape[1], "psnr": psnr(out, img),
            "seconds": seconds}


def webp_at(img: np.ndarray, max_bytes: int) -> dict:
    """WebP (lossy, method 6) at the highest quality whose file is not above `max_bytes`."""
    best = None
    for q in range(0, 101):
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, "WEBP", quality=q, method=6)
        if buf.tell() > max_bytes:
            break
        best = (q, buf.getvalue())
    if best is None:
        return {}
    out = np.asarray(Image.open(io.BytesIO(best[1])).convert("L" if img.ndim == 2 else "RGB"))
    return {"webp_bpp": 8 * len(best[1]) / img.shape[0] / img.shape[1], "webp_psnr": psnr(out, img)}


def avif_at(host, img: np.ndarray, max_bytes: int) -> dict:
    """AVIF (the image plugin's baseline: libavif/aom, 4:4:4, speed 2; greyscale as 4:0:0) at the
    largest file not above `max_bytes`."""
    modality = host.create("modality", "image")
    signal = modality.from_array(img)
    result = host.create("baseline", {"id": "avif"}).at_size(signal, max_bytes)
    out = np.asarray(result.decoded.data).reshape(img.shape)
    return {"avif_bpp": 8 * len(result.data) / img.shape[0] / img.shape[1], "avif_psnr": psnr(out, img)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=900)  # the quick spec's
    p.add_argument("--lmbda", type=float, default=0.004)
    p.add_argument("--preset", default="medium")
    p.add_argument("--grey", action="store_true", help="code the crops' luma (1-channel priors)")
    p.add_argument("--priors", nargs="+", help="default: none, then every shipped prior of the preset and layout")
    p.add_argument("--crop", action="append", help="PATH:TOP,LEFT (default: images/retina.jpg:600,150)")
    p.add_argument("--json", type=Path, help="append each result as a JSON line here")
    p.add_argument("--avif", action="store_true", help="also AVIF at the largest file not above c3's")
    args = p.parse_args()
    torch.set_num_threads(1)
    host = inrz.PluginHost()
    priors = args.priors or ["none", *(p.name for p in priorfile.shipped(args.preset, 1 if args.grey else 3).values())]
    rows = []
    for spec in args.crop or ["images/retina.jpg:600,150"]:
        name, img = load_crop(spec, args.grey)
        for prior in priors:
            row = {"crop": name, "preset": args.preset, "start": prior, "steps": args.steps,
                   **c3_point(host, img, prior, args.steps, args.lmbda, preset=args.preset)}
            row.update(webp_at(img, row["bytes"]))
            if args.avif:
                row.update(avif_at(host, img, row["bytes"]))
            rows.append(row)
            print(table([row], list(row)), flush=True)
            if args.json:
                with args.json.open("a") as f:
                    f.write(json.dumps(row) + "\n")
    print()
    print(table(rows, ["crop", "preset", "start", "steps", "bpp", "psnr", "webp_psnr", "seconds"]
                + (["avif_bpp", "avif_psnr"] if args.avif else [])))


if __name__ == "__main__":
    main()
