"""Train the latent-grid backend's shipped prior (initial networks for the encoder's fit).

    python tools/train_c3_prior.py --preset medium [--steps 2000] [--lmbda 0.004]

Networks are trained jointly on 256x256 crops of the scikit-image photographs in
shared/data/images (astronaut, chelsea, coffee, retina), never on Kodak (the benchmark), each
crop with its own latents; the result is written to plugins/inrz_c3/priors/. See prior.py.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from inrz_c3 import arch, prior
from inrz_c3.fit import Schedule

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "images"
CROP = 256
#: (file, list of (top, left)) crops
CROPS = {"astronaut.png": [(0, 0), (0, 256), (256, 0), (256, 256)], "coffee.png": [(72, 44), (72, 300)],
         "chelsea.png": [(22, 97)], "retina.jpg": [(450, 450), (700, 600)]}


def crops() -> list[torch.Tensor]:
    out = []
    for name, corners in CROPS.items():
        img = np.asarray(Image.open(DATA / name).convert("RGB"), np.float32) / 255
        for top, left in corners:
            patch = img[top:top + CROP, left:left + CROP]
            assert patch.shape[:2] == (CROP, CROP), (name, top, left)
            out.append(torch.from_numpy(patch).permute(2, 0, 1).contiguous())
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="medium", choices=list(arch.PRESETS))
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--lmbda", type=float, default=0.004)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, help="where to write it (default: the preset's prior file, if there is "
                   "none yet: a shipped prior is part of the format and never overwritten, see prior.py)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    targets = crops()
    a = arch.architecture(args.preset, (CROP, CROP), 3)
    start = time.perf_counter()
    weights = prior.train(targets, a, Schedule(steps=args.steps), args.lmbda)
    about = {"preset": args.preset, "steps": args.steps, "lmbda": args.lmbda, "crops": CROPS, "crop": CROP,
             "seconds": round(time.perf_counter() - start)}
    out = args.out or prior.path_for(args.preset, 3)
    if out.exists():
        raise SystemExit(f"{out} exists: a shipped prior is never overwritten (files name it by tag); pass --out")
    prior.save(weights, out, about)
    print(f"wrote {out} ({about['seconds']} s)")


if __name__ == "__main__":
    main()
