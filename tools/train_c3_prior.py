"""Train the latent-grid backend's prior (initial networks for the encoder's fit) on a recorded
training corpus that no evaluation uses.

    python tools/train_c3_prior.py --corpus DIR --preset medium [--steps 2000] [--lmbda 0.004] [--tiles N]

DIR holds the training images and `PROVENANCE.json`, one entry per file:
`{"files": [{"path": "a.png", "source": "owner/repo@commit:path", "licence": "...", "sha256": "..."}]}`.
Every file is checked against its SHA-256, and the corpus is refused if it lies inside the
evaluation data folder (`EVALUATION`) or holds any file whose hash its `SHA256SUMS` lists:
reported figures stay on unseen data. The
networks are trained jointly on 256x256 tiles of the images (`--tiles N`: N of them, evenly
spread over the corpus), each tile with its own latents; the manifest and the tiles used go into
the prior's `about`, and the prior is written under its tag (`plugins/inrz_c3/priors/<preset>-<channels>ch-
<tag>.json`; `--channels 1` trains a greyscale prior on the photographs' luma). The encoder starts from it once `priorfile.DEFAULT` names it. See prior.py.

The corpus the shipped priors were trained on is recorded in tools/c3_prior_corpus/ (rebuild it
with tools/fetch_c3_corpus.py). The first medium-3ch prior (477d7e8d) predates these checks: it
was trained on crops of evaluation images; it is kept only so that files coded against it decode.
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

from inrz_c3 import arch, prior, priorfile
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


def tiles(corpus: Path, entries: list[dict], per_image: int, channels: int = 3) -> list[tuple[str, int, int, torch.Tensor]]:
    """Up to `per_image` non-overlapping CROP x CROP tiles of each image, in a fixed order: a grid
    of tiles centred in the image (a photograph's subject is rarely in its corner), as
    (path, top, left, (channels, CROP, CROP) tile); one channel is the photograph's luma
    (PIL's ITU-R 601 conversion), what a greyscale image looks like."""
    out = []
    for entry in entries:
        img = np.asarray(Image.open(corpus / entry["path"]).convert("RGB" if channels == 3 else "L"), np.float32) / 255
        img = img.reshape(*img.shape[:2], channels)
        rows, cols = img.shape[0] // CROP, img.shape[1] // CROP
        top0, left0 = (img.shape[0] - rows * CROP) // 2, (img.shape[1] - cols * CROP) // 2
        corners = [(top0 + r * CROP, left0 + c * CROP) for r in range(rows) for c in range(cols)]
        for top, left in corners[:per_image]:
            tile = torch.from_numpy(img[top:top + CROP, left:left + CROP]).permute(2, 0, 1).contiguous()
            out.append((entry["path"], top, left, tile))
    if not out:
        raise SystemExit(f"no {CROP}x{CROP} tile fits in the corpus images")
    return out


def spread(items: list, n: int | None) -> list:
    """`n` of `items` evenly spaced through the list (all of them when n is None or too large):
    a training budget smaller than the corpus still sees every part of it."""
    if n is None or n >= len(items):
        return items
    return [items[i * len(items) // n] for i in range(n)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, required=True, help="training images with PROVENANCE.json (see above)")
    p.add_argument("--preset", default="medium", choices=list(arch.PRESETS))
    p.add_argument("--channels", type=int, default=3, choices=(1, 3), help="3: colour images; 1: greyscale (the corpus's luma)")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--lmbda", type=float, default=0.004)
    p.add_argument("--tiles-per-image", type=int, default=4)
    p.add_argument("--tiles", type=int, help="train on this many of the tiles, evenly spread over the corpus "
                   "(default: all; each step costs one forward and backward pass per tile)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out-dir", type=Path, default=priorfile.FOLDER,
                   help="folder to write it into, named by its tag (default: the shipped priors; the encoder "
                   "starts from it only once priorfile.DEFAULT names it)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    entries = corpus_files(args.corpus)
    chosen = spread(tiles(args.corpus, entries, args.tiles_per_image, args.channels), args.tiles)
    targets = [tile for *_, tile in chosen]  # each (channels, CROP, CROP)
    a = arch.architecture(args.preset, (CROP, CROP), args.channels)
    start = time.perf_counter()
    weights = prior.train(targets, a, Schedule(steps=args.steps), args.lmbda)
    about = {"preset": args.preset, "channels": args.channels, "steps": args.steps, "lmbda": args.lmbda, "crop": CROP, "tiles": len(targets),
             "trained_on": [[path, top, left] for path, top, left, _ in chosen], "corpus": entries,
             "seconds": round(time.perf_counter() - start), "threads": args.threads}
    out = prior.save(weights, args.out_dir, args.preset, args.channels, about)
    print(f"wrote {out} ({about['seconds']} s, {len(targets)} tiles of {len(entries)} images)")


if __name__ == "__main__":
    main()
