"""Rebuild the c3 prior training corpus from its manifest, checking every file's SHA-256.

    python tools/fetch_c3_corpus.py --out /work/corpus/c3-prior --git DIR [--git DIR ...]
    python tools/fetch_c3_corpus.py --out /work/corpus/c3-prior --clone   # needs the network

Each entry of `tools/c3_prior_corpus/PROVENANCE.json` names its file as `owner/repo@commit:path`.
A file is read with `git cat-file` from the first git directory given (`--git`, a clone or bare
mirror holding that commit) whose `origin`, or whose folder name (`owner+repo`, `repo`), names
that repository; `--from DIR` takes files already laid out as the manifest's `path`s instead;
`--clone` makes a blobless clone of each repository under OUT/.git-sources first. The manifest is
copied into OUT, where tools/train_c3_prior.py reads it. The images are never committed.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

MANIFEST = Path(__file__).parent / "c3_prior_corpus" / "PROVENANCE.json"


def parse(source: str) -> tuple[str, str, str]:
    """'owner/repo@commit:path' -> (owner/repo, commit, path)."""
    repo, rest = source.split("@", 1)
    commit, path = rest.split(":", 1)
    return repo, commit, path


def origin(git_dir: Path) -> str:
    out = subprocess.run(["git", "-C", str(git_dir), "config", "--get", "remote.origin.url"],
                         capture_output=True, text=True).stdout.strip()
    return out.removesuffix(".git")


def find_git(repo: str, git_dirs: list[Path]) -> Path | None:
    owner, name = repo.split("/")
    for d in git_dirs:
        names = {d.name, d.parent.name}  # a mirror's layout is owner+name/repo
        if origin(d).endswith(f"/{repo}") or f"{owner}+{name}" in names or name in names:
            return d
    return None


def clone(repo: str, into: Path) -> Path:
    target = into / repo.replace("/", "+")
    if not target.exists():
        subprocess.run(["git", "clone", "--bare", "--filter=blob:none", f"https://github.com/{repo}", str(target)],
                       check=True)
    return target


def read(entry: dict, git_dirs: list[Path], folder: Path | None) -> bytes:
    if folder is not None:
        return (folder / entry["path"]).read_bytes()
    repo, commit, path = parse(entry["source"])
    git_dir = find_git(repo, git_dirs)
    if git_dir is None:
        raise SystemExit(f"{entry['path']}: no --git directory holds {repo}; pass one, or --clone")
    return subprocess.run(["git", "-C", str(git_dir), "cat-file", "blob", f"{commit}:{path}"],
                          capture_output=True, check=True).stdout


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="corpus folder to write (outside the repository)")
    p.add_argument("--manifest", type=Path, default=MANIFEST)
    p.add_argument("--git", type=Path, action="append", default=[], help="a local clone or mirror of a source")
    p.add_argument("--from", dest="folder", type=Path, help="a folder with the files at the manifest's paths")
    p.add_argument("--clone", action="store_true", help="clone each source repository (blobless) first")
    args = p.parse_args()
    entries = json.loads(args.manifest.read_text())["files"]
    git_dirs = list(args.git)
    if args.clone:
        git_dirs += [clone(repo, args.out / ".git-sources") for repo in sorted({parse(e["source"])[0] for e in entries})]
    for entry in entries:
        data = read(entry, git_dirs, args.folder)
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry["sha256"]:
            raise SystemExit(f"{entry['path']} from {entry['source']}: sha256 {digest}, the manifest says {entry['sha256']}")
        target = args.out / entry["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    shutil.copyfile(args.manifest, args.out / "PROVENANCE.json")
    print(f"{len(entries)} files verified into {args.out}")


if __name__ == "__main__":
    main()
