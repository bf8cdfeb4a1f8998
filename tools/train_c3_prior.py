"""Train the latent-grid backend's prior (initial networks for the encoder's fit) on a recorded
training corpus that no evaluation uses.

    python tools/train_c3_prior.py --corpus DIR --preset medium [--steps 2000] [--lmbda 0.004] --out FILE

DIR holds the training images and `PROVENANCE.json`, one entry per file:
`{"files": [{"path": "a.png", "source": "owner/repo@commit:path", "licence": "...", "sha256": "..."}]}`.
Every file is checked against its SHA-256, and the corpus is refused if it lies inside the
evaluation data (`shared/data`) or holds any file whose hash is listed in
`shared/data/SHA256SUMS` (Kodak, the test images): reported figures stay on unseen data. The
networks are trained jointly on 256x256 tiles of the images, each tile with its own latents;
the manifest goes into the prior's `about`. See prior.py.

(The medium-3ch prior shipped today predates this check: it was trained on crops of
shared/data/images, which are test images; it is to be replaced by one trained this way.)
"""
from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from inrz_c3 import arch, prior
from inrz_c3.fit import Schedule

EVALUATION = Path(__file__).resolve().parents[2] / "shared" / "data"
CROP = 256


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def evaluation_hashes() -> set[str]:
    sums = EVALUATION / "SHA256SUMS"
    return {line.split()[0] for line in sums.read_text().splitlines() if line.strip()} if sums.is_file() else set()


def corpus_files(corpus: Path) -> list[dict]:
    """The manifest's entries, each file verified and none of them evaluation data."""
    if corpus.resolve().is_relative_to(EVALUATION.resolve()):
        raise SystemExit(f"{corpus} is inside the evaluation data ({EVALUATION}); train on a separate corpus")
    manifest = corpus / "PROVENANCE.json"
    if not manifest.is_file():
        raise SystemExit(f"{manifest} is missing: record each file's source, licence and sha256 there")
    entries, seen = json.loads(manifest.read_text())["files"], evaluation_hashes()
    for entry in entries:
        digest = sha256(corpus / entry["path"])
        if digest != entry["sha256"]:
            raise SystemExit(f"{entry['path']}: sha256 {digest} differs from the manifest's")
        if digest in seen:
            raise SystemExit(f"{entry['path']} is an evaluation file (listed in {EVALUATION / 'SHA256SUMS'})")
        if not entry.get("source") or not entry.get("licence"):
            raise SystemExit(f"{entry['path']}: the manifest must name its source and licence")
    return entries


def tiles(corpus: Path, entries: list[dict], per_image: int) -> list[torch.Tensor]:
    """Up to `per_image` non-overlapping CROP x CROP tiles of each image, in a fixed order."""
    out = []
    for entry in entries:
        img = np.asarray(Image.open(corpus / entry["path"]).convert("RGB"), np.float32) / 255
        corners = [(t, l) for t in range(0, img.shape[0] - CROP + 1, CROP) for l in range(0, img.shape[1] - CROP + 1, CROP)]
        for top, left in corners[:per_image]:
            out.append(torch.from_numpy(img[top:top + CROP, left:left + CROP]).permute(2, 0, 1).contiguous())
    if not out:
        raise SystemExit(f"no {CROP}x{CROP} tile fits in the corpus images")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, required=True, help="training images with PROVENANCE.json (see above)")
    p.add_argument("--preset", default="medium", choices=list(arch.PRESETS))
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--lmbda", type=float, default=0.004)
    p.add_argument("--tiles-per-image", type=int, default=4)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, help="where to write it (default: the preset's prior file, if there is "
                   "none yet: a shipped prior is part of the format and never overwritten, see prior.py)")
    args = p.parse_args()
    out = args.out or prior.path_for(args.preset, 3)
    if out.exists():
        raise SystemExit(f"{out} exists: a shipped prior is never overwritten (files name it by tag); pass --out")
    torch.set_num_threads(args.threads)
    entries = corpus_files(args.corpus)
    targets = tiles(args.corpus, entries, args.tiles_per_image)
    a = arch.architecture(args.preset, (CROP, CROP), 3)
    start = time.perf_counter()
    weights = prior.train(targets, a, Schedule(steps=args.steps), args.lmbda)
    about = {"preset": args.preset, "steps": args.steps, "lmbda": args.lmbda, "crop": CROP, "tiles": len(targets),
             "corpus": entries, "seconds": round(time.perf_counter() - start)}
    prior.save(weights, out, about)
    print(f"wrote {out} ({about['seconds']} s, {len(targets)} tiles of {len(entries)} images)")


if __name__ == "__main__":
    main()
