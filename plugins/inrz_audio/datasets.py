"""LibriSpeech (OpenSLR 12): read speech, 16 kHz 16-bit FLAC, one file per utterance.

A local copy is used as it is (an extracted `LibriSpeech/<split>/` tree, or any folder of its
FLACs); otherwise the split's archive is downloaded, verified by SHA-256 and its FLACs are
extracted once into the cache. Items are named by utterance id (`1089-134686-0000`). COIN++
evaluates on the first 3 s of each test-clean utterance: set `first_seconds: 3` on the
`audio` modality.
"""
from __future__ import annotations

import tarfile
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from inrz import ComponentConfig, Dataset, DatasetError, DatasetItem, cache_dir, fetch, resolve, sha256_of

LIBRISPEECH_URL = "https://www.openslr.org/resources/12/{split}.tar.gz"
#: SHA-256 of the OpenSLR archives, as torchaudio's LIBRISPEECH verifies them (OpenSLR itself
#: lists MD5s, e.g. test-clean 32fa31d27d2e1cad72775fee3f4849a9)
LIBRISPEECH_SHA256 = {
    "dev-clean": "76f87d090650617fca0cac8f88b9416e0ebf80350acb97b343a85fa903728ab3",
    "dev-other": "12661c48e8c3fe1de2c1caa4c3e135193bfb1811584f11f569dd12645aa84365",
    "test-clean": "39fde525e59672dc6d1551919b1478f724438a95aa55f874b576be21967e6c23",
    "test-other": "d09c181bba5cf717b3dee7d4d592af11a3ee3a09e08ae025c5506f6ebe961c29",
    "train-clean-100": "d4ddd1d5a6ab303066f14971d768ee43278a5f2a0aa43dc716b0e64ecbbbf6e2",
    "train-clean-360": "146a56496217e96c14334a160df97fffedd6e0a04e66b9c5af0d40be3c792ecf",
    "train-other-500": "ddb22f27f96ec163645d53215559df6aa36515f26e01dd70798188350adcb6d2",
}
Split = Literal["dev-clean", "dev-other", "test-clean", "test-other", "train-clean-100", "train-clean-360",
                "train-other-500"]


class LibriSpeechConfig(ComponentConfig):
    split: Split = "test-clean"  # COIN++ evaluates on test-clean
    path: str | None = None  # local copy: a folder with LibriSpeech/<split>/, <split>/, FLACs, or <split>.tar.gz
    cache_dir: str | None = None  # where the archive and FLACs go (<cache>/librispeech/); None: inrz's cache dir
    limit: int | None = Field(None, ge=1)  # first N utterances (sorted by id)


class LibriSpeech(Dataset):
    """The utterances of one LibriSpeech split, as FLAC files sorted by utterance id."""

    id = "librispeech"
    Config: ClassVar = LibriSpeechConfig

    def items(self, base_dir: Path | None = None) -> list[DatasetItem]:
        local = resolve(self.config.path, base_dir) if self.config.path else None
        folder = (local and local_flacs(local, self.config.split)) or self._cached(local)
        files = sorted(folder.rglob("*.flac"), key=lambda p: p.stem)
        if not files:
            raise DatasetError(f"no LibriSpeech FLAC files under {folder}")
        files = files[: self.config.limit] if self.config.limit else files
        return [DatasetItem(p.stem, p) for p in files]

    def _cached(self, local: Path | None) -> Path:
        """The split extracted in the cache, from a verified local archive or a verified download."""
        split, sha256 = self.config.split, LIBRISPEECH_SHA256[self.config.split]
        root = cache_dir(self.config.cache_dir) / "librispeech"
        done = root / f".{split}.complete"
        if not done.exists():
            archive = local / f"{split}.tar.gz" if local is not None and local.is_dir() else local
            if archive is None or not archive.is_file() or sha256_of(archive) != sha256:
                try:
                    archive = fetch(LIBRISPEECH_URL.format(split=split), root / f"{split}.tar.gz", sha256)
                except DatasetError as exc:
                    where = f"{local} holds no LibriSpeech {split} FLACs or verified archive; " if local else ""
                    raise DatasetError(f"{where}{exc}") from exc
            extract_flacs(archive, root)
            done.write_text(split)
        return root / "LibriSpeech" / split


def local_flacs(local: Path, split: str) -> Path | None:
    """The folder of a local copy that holds the split's FLACs, if any."""
    for folder in (local / "LibriSpeech" / split, local / split, local):
        if folder.is_dir() and next(folder.rglob("*.flac"), None) is not None:
            return folder
    return None


def extract_flacs(archive: Path, root: Path) -> None:
    """Extract only the FLAC members (not transcripts), in one streaming pass, with tarfile's safety filter."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                if member.isfile() and member.name.endswith(".flac"):
                    tar.extract(member, root, filter="data")
    except (OSError, tarfile.TarError) as exc:
        raise DatasetError(f"cannot extract LibriSpeech archive {archive}: {exc}") from exc
