"""Build `plugins/inrz_image/anchors/kodak.json`: published Kodak rate-distortion curves that
`inrz plot` and report.md draw beside a run (never used for BD figures: they are means over all
24 images, a run's are over its own items).

Every point is copied from a public results file, named by repository@commit:path with its
licence; nothing is re-measured here. Mirrors of the three repositories are read with git
(`fetch` them first; paths are arguments), so re-running this reproduces the JSON byte for byte.

    python tools/make_anchors.py COMPRESSAI_GIT COOLCHIC_GIT C3_KODAK_PY > plugins/inrz_image/anchors/kodak.json
"""
from __future__ import annotations

import ast
import collections
import json
import subprocess
import sys

COMPRESSAI = ("InterDigitalInc/CompressAI", "BSD-3-Clause-Clear")
COOLCHIC = ("Orange-OpenSource/Cool-Chic", "BSD-3-Clause")
C3 = ("google-deepmind/c3_neural_compression", "Apache-2.0")
CONVENTION = ("mean over the 24 Kodak images of the per-image PSNR on 8-bit RGB (bpp likewise a mean "
              "of per-image rates)")


def git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", repo, *args], check=True, capture_output=True, text=True).stdout


def compressai(repo: str, name: str, label: str) -> dict:
    commit = git(repo, "rev-parse", "HEAD").strip()
    path = f"results/image/kodak/{name}.json"
    data = json.loads(git(repo, "show", f"HEAD:{path}"))
    r = data["results"]
    return {"name": label, "kind": "classical", "description": data.get("description", ""),
            "source": f"{COMPRESSAI[0]}@{commit}:{path}", "licence": COMPRESSAI[1], "convention": CONVENTION,
            "bpp": r["bpp"], "psnr": r["psnr-rgb"]}


def coolchic(repo: str) -> dict:
    path = "results/v5.0/image-kodak.tsv"
    commit = git(repo, "rev-parse", "HEAD").strip()
    rows = [line.split("\t") for line in git(repo, "show", f"HEAD:{path}").splitlines()[1:] if line.strip()]
    by = collections.defaultdict(list)
    for lmbda, _name, _pixels, _loss, psnr, bpp in rows:
        by[float(lmbda)].append((float(bpp), float(psnr)))
    points = [(sum(b for b, _ in v) / len(v), sum(p for _, p in v) / len(v)) for _, v in sorted(by.items())]
    points.sort()
    return {"name": "Cool-chic 5.0", "kind": "neural-field", "description": "Cool-chic 5.0, per-image results, "
            "averaged here per lambda over the 24 images", "source": f"{COOLCHIC[0]}@{commit}:{path}",
            "licence": COOLCHIC[1], "convention": CONVENTION,
            "bpp": [round(b, 6) for b, _ in points], "psnr": [round(p, 4) for _, p in points]}


def c3(path: str, commit: str) -> list[dict]:
    """C3, COIN and COIN++ as the C3 authors list them (baselines/kodak.py, a dict literal)."""
    text = open(path).read()
    tree = ast.parse(text)
    out = []
    wanted = {"C3": ("C3", "neural-field"), "COIN": ("COIN", "neural-field"), "COIN++": ("COIN++", "neural-field")}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Dict):
            for key, value in zip(node.args[0].keys, node.args[0].values):
                name = getattr(key, "value", None)
                if name in wanted and isinstance(value, ast.Call):
                    fields = {k.value: v for k, v in zip(value.args[0].keys, value.args[0].values)}
                    out.append({"name": wanted[name][0], "kind": wanted[name][1],
                                "description": f"{name} as published by the C3 authors",
                                "source": f"{C3[0]}@{commit}:baselines/kodak.py", "licence": C3[1],
                                "convention": CONVENTION, "bpp": list(ast.literal_eval(fields["bpp"])),
                                "psnr": list(ast.literal_eval(fields["psnr"]))})
    return out


def main() -> None:
    compressai_git, coolchic_git, c3_file, c3_commit = sys.argv[1:5]
    curves = [compressai(compressai_git, "vtm", "VTM"), compressai(compressai_git, "hm", "HM"),
              compressai(compressai_git, "av1", "AV1 (aomenc)"),
              compressai(compressai_git, "bpg_444_x265_ycbcr", "BPG 4:4:4"), coolchic(coolchic_git),
              *c3(c3_file, c3_commit)]
    doc = {"dataset": "kodak", "items": 24, "note": "published figures, not measured by inrz; drawn for reference, "
           "never used in Bjøntegaard deltas (their means are over all 24 images)", "curves": curves}
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
