"""Datasets: named collections of input files, read locally or fetched with checksums.

A dataset MUST return `DatasetItem`s in a stable order. Fetching datasets download into
`inrz.cache_dir(self.config.cache_dir)` (the dataset's own `cache_dir` setting, else
`$INRZ_CACHE_DIR`, else the platform user cache) with `fetch`, which verifies a SHA-256 for
every file, so a corrupted or tampered download is never used.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from pydantic import Field

from ..core.component import Component, ComponentConfig
from ..core.errors import DatasetError


@dataclass(frozen=True)
class DatasetItem:
    name: str
    path: Path


class Dataset(Component):
    kind = "dataset"
    hook = "register_datasets"  # the plugin hook that registers this kind (`inrz.hookimpl`)

    def items(self, base_dir: Path | None = None) -> list[DatasetItem]:
        """The files; relative paths in the config are relative to `base_dir` (the spec's folder)."""
        raise NotImplementedError

    def published_curves(self) -> list[dict]:
        """Published rate-distortion curves on this dataset, drawn beside a run's for reference
        (never used in Bjøntegaard deltas: they are means over the published item set). Each is
        a dict with `name`, `source` (repo@commit:path or a paper), `licence`, `convention` (how
        its figures were computed) and one list per figure (`bpp`, `psnr`, ...). Default: none."""
        return []


def resolve(path: str | Path, base_dir: Path | None) -> Path:
    """A config's path: absolute or `~` as given, else relative to `base_dir` (the spec's folder)."""
    p = Path(path).expanduser()
    return p if p.is_absolute() or base_dir is None else (base_dir / p)


def sha256_of(path: Path, algorithm: str = "sha256") -> str:
    """The hex digest of a file, read in 1 MiB blocks (datasets are large)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(url: str, dest: Path, sha256: str | None = None, timeout: float = 60.0, *, md5: str | None = None) -> Path:
    """Download `url` to `dest` atomically unless a file with the right checksum is there.

    Give the SHA-256; `md5` is accepted only for archives whose publisher states nothing else.
    """
    algorithm, expected = ("sha256", sha256) if sha256 else ("md5", md5)
    if not expected:
        raise ValueError("fetch needs a checksum")
    if dest.exists() and sha256_of(dest, algorithm) == expected:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=".part")
    try:
        import urllib.request  # only a download needs it (ssl and http load with it)

        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            for block in iter(lambda: resp.read(1 << 20), b""):
                out.write(block)
        got = sha256_of(Path(tmp), algorithm)
        if got != expected:
            raise DatasetError(f"checksum mismatch for {url}: expected {algorithm} {expected}, got {got}")
        os.replace(tmp, dest)
    except OSError as exc:
        raise DatasetError(
            f"could not download {url} ({exc}); place the file at {dest} yourself or point the dataset's "
            f"`path` at a local copy"
        ) from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest


class FolderConfig(ComponentConfig):
    path: str  # directory to read (relative to the spec file)
    glob: str = "*"  # which files, e.g. "*.png" or "**/*.wav"
    limit: int | None = Field(None, ge=1)  # keep only the first N files (sorted by name)


class Folder(Dataset):
    """Any files under a local directory, sorted by path."""

    id = "folder"
    Config: ClassVar = FolderConfig

    def items(self, base_dir: Path | None = None) -> list[DatasetItem]:
        root = resolve(self.config.path, base_dir)
        if not root.is_dir():
            raise DatasetError(f"dataset folder {root} does not exist")
        files = sorted(p for p in root.glob(self.config.glob) if p.is_file())
        if not files:
            raise DatasetError(f"no files match {self.config.glob!r} in {root}")
        files = files[: self.config.limit] if self.config.limit else files
        return [DatasetItem(item_name(p.relative_to(root)), p) for p in files]


def item_name(path: Path) -> str:
    """The path without its suffix, compression suffixes included (`a/b.nii.gz` -> `a/b`)."""
    if path.suffix.lower() in (".gz", ".bz2", ".xz", ".zst"):
        path = path.with_suffix("")
    return str(path.with_suffix(""))
