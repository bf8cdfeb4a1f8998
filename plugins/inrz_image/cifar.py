"""CIFAR-10 from the official python batches (Krizhevsky 2009), unpacked once to PNGs.

The archive is verified against the MD5 its publisher lists, then each split is written as
`<cache>/cifar10/<split>/<index>.png`, so every later stage reads ordinary image files. The
batches are pickles; they are read without unpickling (`inrz_image.batches`), so a local
`cifar-10-batches-py/` folder from anywhere can run no code.
"""
from __future__ import annotations

import tarfile
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from inrz import ComponentConfig, Dataset, DatasetError, DatasetItem, cache_dir, fetch, require, resolve, sha256_of

from .batches import read_batch

CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR_MD5 = "c58f30108f718f92721af3b95e74349a"  # as published on the CIFAR-10 page
SPLITS = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}


class Cifar10Config(ComponentConfig):
    split: Literal["train", "test"] = "test"
    path: str | None = None  # folder holding cifar-10-python.tar.gz or cifar-10-batches-py/ (relative to the spec)
    cache_dir: str | None = None  # where the archive and PNGs go; None: inrz's cache dir
    limit: int | None = Field(None, ge=1)  # first N images of the split


class Cifar10(Dataset):
    """The 50,000 training or 10,000 test images of CIFAR-10, as 32x32 RGB PNGs."""

    id = "cifar10"
    Config: ClassVar = Cifar10Config

    def items(self, base_dir: Path | None = None) -> list[DatasetItem]:
        root = cache_dir(self.config.cache_dir) / "cifar10"
        out = root / self.config.split
        done = out / ".complete"
        if not done.exists():
            images = read_split(self._batches(root, base_dir), self.config.split)
            write_pngs(images, out)
            done.write_text(str(len(images)))
        count = _count(done)
        count = min(count, self.config.limit) if self.config.limit else count
        return [DatasetItem(f"{i:05d}", out / f"{i:05d}.png") for i in range(count)]

    def _batches(self, root: Path, base_dir: Path | None) -> Path:
        """A folder with the pickled batches: a local copy, or the verified official archive."""
        local = resolve(self.config.path, base_dir) if self.config.path else None
        if local is not None and (local / "cifar-10-batches-py").is_dir():
            return local / "cifar-10-batches-py"
        archive = local / "cifar-10-python.tar.gz" if local is not None else None
        if archive is None or not archive.is_file() or sha256_of(archive, "md5") != CIFAR_MD5:
            archive = fetch(CIFAR_URL, root / "cifar-10-python.tar.gz", md5=CIFAR_MD5)
        with tarfile.open(archive) as tar:
            tar.extractall(root, filter="data")
        return root / "cifar-10-batches-py"


def _count(done: Path) -> int:
    """The image count the unpacking recorded (a damaged marker: unpack again)."""
    text = done.read_text().strip()
    if not text.isdigit():
        raise DatasetError(f"{done} is damaged; delete the folder {done.parent} to unpack CIFAR-10 again")
    return int(text)


def read_split(folder: Path, split: str) -> np.ndarray:
    """(N, 32, 32, 3) uint8 from the pickled batches of one split."""
    arrays = []
    for name in SPLITS[split]:
        data = read_batch(folder / name).get(b"data")
        if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2 and data.shape[1] == 3072):
            raise DatasetError(f"{folder / name} is not a CIFAR-10 batch: its data is not (N, 3072) uint8 pixels")
        arrays.append(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    return np.concatenate(arrays)


def write_pngs(images: np.ndarray, folder: Path) -> None:
    Image = require("PIL.Image", "image")
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{i:05d}.png")
