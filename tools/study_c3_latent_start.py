"""Study: does a learned start for c3's latents shorten the fit (issue 23, item 2)?

c3's latents start at zero. A meta-learned start would put them near where a fit ends. The
cheapest such rule is linear: each level's latent as a pointwise function of the image at that
level's resolution (its band-pass and low-pass colour from a 2x2 box pyramid, plus a bias),
regressed on the latents that fits from the shipped network prior reach on corpus images. This
tool measures it end to end:

1. fit each corpus image from the default prior (`--fit-steps`, `--lmbda`) and keep its latents;
2. regress the rule per level (ridge), print R^2 on the last third of the fits (held out);
3. encode each tuning image at each step budget from each start (`zero`: today's; `rule`;
   `rule0.5`: the rule's prediction halved; `coarse`: the rule on the levels at 1/4 resolution
   and coarser, zero on the two finest) and print MSE + lambda * bpp of the decoded file.

    python tools/study_c3_latent_start.py --corpus DIR --corpus-files cbsd68/101087.png ... \
        --tuning TUNING/monarch.bmp TUNING/barbara.bmp --budgets 120 230 --json OUT.jsonl

Corpus files must be in `tools/c3_prior_corpus/PROVENANCE.json` and tuning images in
`tools/c3_tuning_set/PROVENANCE.json` (by SHA-256): nothing that is reported elsewhere (Kodak,
`shared/data/images`) enters the study. The start replaces `fit.init_params`'s zero latents for
the duration of one encode (`_latents_from`): a study harness, not an encoder option.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import inrz

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from c3_prior_start import c3_point  # noqa: E402
from inrz_c3 import fit as c3fit, model, prior, priorfile, upsample  # noqa: E402
from inrz_c3.arch import architecture  # noqa: E402

HERE = Path(__file__).resolve().parent
FEATURES = 7  # band-pass RGB, low-pass RGB, bias


def recorded(paths: list[Path], provenance: Path) -> None:
    known = {f["sha256"] for f in json.loads(provenance.read_text())["files"]}
    unknown = [str(p) for p in paths if hashlib.sha256(p.read_bytes()).hexdigest() not in known]
    if unknown:
        raise SystemExit(f"not recorded in {provenance}: {', '.join(unknown)}")


def rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _down(x: np.ndarray) -> np.ndarray:
    x = np.pad(x, ((0, x.shape[0] % 2), (0, x.shape[1] % 2), (0, 0)), mode="edge")
    return 0.25 * (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2])


def features(img: np.ndarray, levels: int) -> list[np.ndarray]:
    """Per level (finest first), (points, FEATURES): the box pyramid's band-pass and low-pass colour
    at that level's grid (ceil halving, as the latent grids) and 1."""
    G = [img.astype(np.float64) / 255 - 0.5]
    for _ in range(levels - 1):
        G.append(_down(G[-1]))
    out = []
    for l, g in enumerate(G):
        coarse = np.repeat(np.repeat(G[l + 1], 2, 0), 2, 1)[:g.shape[0], :g.shape[1]] if l < levels - 1 else 0.0
        out.append(np.concatenate([g - coarse, g, np.ones(g.shape[:2] + (1,))], -1).reshape(-1, FEATURES))
    return out


def fitted_latents(img: np.ndarray, steps: int, lmbda: float, workers: int) -> list[np.ndarray]:
    """The latents (not rounded) of a fit from the default medium prior."""
    target = torch.from_numpy(img.astype(np.float32) / 255).permute(2, 0, 1).contiguous()
    a = architecture("medium", tuple(target.shape[1:]), 3)
    params = c3fit.fit(target, a, c3fit.Schedule(steps=steps), lmbda, (False, False), 0, workers, 32768, None,
                       prior.load("medium", a))
    shapes = upsample.level_shapes(tuple(target.shape[1:]), a.levels)
    return [v.numpy().copy() for v in model.split_levels(params["y"], shapes)]


def design(samples: list[tuple[np.ndarray, list[np.ndarray]]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per level, (X, Y): every sample's `features` and latents stacked (each image's pyramid once)."""
    feats = [features(img, len(latents)) for img, latents in samples]
    return [(np.concatenate([f[l] for f in feats]), np.concatenate([lat[l].reshape(-1) for _, lat in samples]))
            for l in range(len(samples[0][1]))]


def regress(data: list[tuple[np.ndarray, np.ndarray]], ridge: float = 1e-3) -> np.ndarray:
    """(levels, FEATURES): per-level ridge regression of Y on X (`design`; bias unpenalised)."""
    penalty = np.diag([1.0] * (FEATURES - 1) + [0.0])
    return np.stack([np.linalg.solve(X.T @ X + ridge * len(X) * penalty, X.T @ Y) for X, Y in data])


def r2(W: np.ndarray, data: list[tuple[np.ndarray, np.ndarray]]) -> list[float]:
    return [float(1 - ((X @ w - Y) ** 2).mean() / Y.var()) for w, (X, Y) in zip(W, data)]


def start_for(W: np.ndarray, img: np.ndarray, kind: str) -> torch.Tensor | None:
    if kind == "zero":
        return None
    levels = features(img, len(W))
    scale = [0.5 if kind == "rule0.5" else 1.0] * len(W)
    if kind == "coarse":
        scale[:2] = [0.0, 0.0]
    return torch.from_numpy(np.concatenate([s * (f @ w) for s, f, w in zip(scale, levels, W)]).astype(np.float32))


@contextlib.contextmanager
def _latents_from(y: torch.Tensor | None):
    """`fit.init_params` with `y` as its latents (when the sizes agree) inside the block."""
    original = c3fit.init_params

    def init_params(a, shape, seed, device):
        p = original(a, shape, seed, device)
        if y is not None and p["y"].numel() == y.numel():
            p["y"] = y.to(device).clone()
        return p

    c3fit.init_params = init_params
    try:
        yield
    finally:
        c3fit.init_params = original


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--corpus-files", nargs="+", required=True, help="paths inside --corpus")
    p.add_argument("--tuning", nargs="+", type=Path, required=True)
    p.add_argument("--fit-steps", type=int, default=300)
    p.add_argument("--budgets", type=int, nargs="+", default=[120, 230])
    p.add_argument("--starts", nargs="+", default=["zero", "rule", "rule0.5", "coarse"])
    p.add_argument("--lmbda", type=float, default=0.01)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    corpus = [args.corpus / f for f in args.corpus_files]
    recorded(corpus, HERE / "c3_prior_corpus" / "PROVENANCE.json")
    recorded(args.tuning, HERE / "c3_tuning_set" / "PROVENANCE.json")
    if priorfile.DEFAULT.get(("medium", 3)) is None:
        raise SystemExit("no default medium prior: the study starts every fit from it")
    torch.set_num_threads(1)
    samples = []
    for path in corpus:
        img = rgb(path)
        img = img.transpose(1, 0, 2).copy() if img.shape[0] > img.shape[1] else img
        samples.append((img, fitted_latents(img, args.fit_steps, args.lmbda, args.threads)))
        print(f"fitted {path.name}", flush=True)
    held = len(samples) * 2 // 3
    print("R^2 on held-out fits, per level (finest first):",
          " ".join(f"{v:.3f}" for v in r2(regress(design(samples[:held])), design(samples[held:]))), flush=True)
    W = regress(design(samples))
    print("rule (levels x [band RGB, low RGB, bias]):\n" + np.array2string(W, precision=3), flush=True)
    torch.set_num_threads(args.threads)
    host = inrz.PluginHost()
    c3_point(host, rgb(args.tuning[0])[:64, :64], "none", 2, args.lmbda, args.threads)  # kernels loaded first
    for path in args.tuning:
        img = rgb(path)
        for steps in args.budgets:
            for kind in args.starts:
                with _latents_from(start_for(W, img, kind)):
                    r = c3_point(host, img, priorfile.DEFAULT[("medium", 3)], steps, args.lmbda, args.threads)
                r.update(image=path.name, steps=steps, start=kind, lmbda=args.lmbda,
                         cost=10 ** (-r["psnr"] / 10) + args.lmbda * r["bpp"])
                print(json.dumps(r), flush=True)
                if args.json:
                    with args.json.open("a") as f:
                        f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
