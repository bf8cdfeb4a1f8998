"""The Kodak Lossless True Color Image Suite (24 PNGs), read locally or fetched from r0k.us.

Each file is checked against the SHA-256 of the original r0k.us PNG, so a local copy that was
re-encoded, cropped or corrupted is never used silently: it is replaced by a verified download
into the cache (and, offline, the run stops with a `DatasetError` that says what to do).
"""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Annotated, ClassVar

from pydantic import Field

from inrz import ComponentConfig, Dataset, DatasetError, DatasetItem, cache_dir, fetch, resolve, sha256_of

KODAK_URL = "http://r0k.us/graphics/kodak/kodak/{name}.png"
#: SHA-256 of kodim01.png ... kodim24.png as served by r0k.us (index = image number - 1)
KODAK_SHA256 = (
    "a56e27cbf5f843c048b6af1d6e090760e9c92fadba88b7dee0205918a37523bd",  # kodim01
    "4f4b74a79237e311d72cad958237b5f7088d8bce1c82305ebefe1a70e3022dfd",  # kodim02
    "e25ca1ff2f0c0cb5fdfd5f9b0a0bb21ac4c3de3c84a67f35b09a85d3306249db",  # kodim03
    "e3b946107c5d3441c022f678d0c3caf1e224d81b1604ba840a4f88e562de61aa",  # kodim04
    "10349e963c5c813d327852f82c1795fa4148d69fedffc4c589bee458e3ac3d53",  # kodim05
    "363510303b715d4cbc384e1ce227e466b613a09e1b71ae985882bf8e7fbd9b18",  # kodim06
    "b77d3f006f42414bb242222e0482e750c0fb9e5ee8d4bed2f6f11c5605fe54a4",  # kodim07
    "ba23983c76b4832ee0e8af0592664756841a16779acd69f792e268fb6d13d6e7",  # kodim08
    "6a4361c2fc194feb4edaa9f9a4a0620fb9943e460ac7fdf037fb0f6dd6607a7d",  # kodim09
    "9dfb70f5867c29ff9ed6313683f19b3d867849e40fbc0c4c54a4a89df341cf23",  # kodim10
    "7936814b58b5387fce2e4e2488b4ec830dadd95fa9520f358ddb30990b50f2b6",  # kodim11
    "d78c37c2f04f23761ed2367dd77e2db584ddd4c3950833fecf89f199a8126980",  # kodim12
    "bc34a3ce58dea09dce1704c997171602de90cb34d0c8503a988b77f473d39b08",  # kodim13
    "55a94550ff18f3246c4074fd32b77b0c74447c26b6ad274d564d999c0450ba6e",  # kodim14
    "7538cbb80cb9103606c48b806eae57d56c885c7f90b9b3be70a41160f9cbb683",  # kodim15
    "a89c7268ccd4718ba424a99fc4643c572cf692ca6eae887185ceb4e9f11d2e54",  # kodim16
    "37afcc89fbdcb76d9518e04b2fc011027e2f4cd14b3b2f83cefd721641a47c5b",  # kodim17
    "1a9258c365988961d87a0598725b609139c303ad48a5aad6c503c3b1a87849aa",  # kodim18
    "b7450b264b1b0a411390d8931b112c27905a992520fc90569dc4b920aa32bbdc",  # kodim19
    "3b46c71e3b92a563820ba32936be8330c586c41f938efd94be938386aae4328a",  # kodim20
    "ac958597c82073f6bb65129c68f72b651db5b9efd82e11547d07350214bc268b",  # kodim21
    "1cee58eb1f2d9c7ebb254d208a03c783ce6cf2c4d8c2cf45e235dd23b4ce1b29",  # kodim22
    "e3111a2fd4da24af15d6459ef9eacfe54106b38e27b4a21821b75c3f5d2d5baf",  # kodim23
    "1071c68372cc5a01435c2c225a5cf7d4bb803846ec08bb6b3d6721b156d7cb96",  # kodim24
)


class KodakConfig(ComponentConfig):
    path: str | None = None  # local folder with kodimNN.png (relative to the spec); None: cache only
    cache_dir: str | None = None  # where downloads go (<cache>/kodak/); None: inrz's cache dir
    images: list[Annotated[int, Field(ge=1, le=24)]] | None = None  # image numbers 1..24; None: all
    limit: int | None = Field(None, ge=1)  # keep only the first N (after `images`)


def published_kodak_curves() -> list[dict]:
    """VTM, HM, AV1, BPG, Cool-chic 5, C3, COIN and COIN++ on Kodak, from their authors' results
    files (`anchors/kodak.json`, built by tools/make_anchors.py with each point's source)."""
    text = resources.files(__package__).joinpath("anchors", "kodak.json").read_text()
    return list(json.loads(text)["curves"])


class Kodak(Dataset):
    """The 24 Kodak images, `kodim01` ... `kodim24`, each verified by SHA-256."""

    id = "kodak"
    Config: ClassVar = KodakConfig

    def published_curves(self) -> list[dict]:
        return published_kodak_curves()  # means over all 24 images, whichever this run codes

    def numbers(self) -> list[int]:
        numbers = list(self.config.images) if self.config.images else list(range(1, 25))
        return numbers[: self.config.limit] if self.config.limit else numbers

    def items(self, base_dir: Path | None = None) -> list[DatasetItem]:
        local = resolve(self.config.path, base_dir) if self.config.path else None
        cache = cache_dir(self.config.cache_dir) / "kodak"
        return [DatasetItem(f"kodim{n:02d}", self._file(n, local, cache)) for n in self.numbers()]

    def _file(self, number: int, local: Path | None, cache: Path) -> Path:
        """The verified local copy if there is one, else a verified download into the cache."""
        name, sha256 = f"kodim{number:02d}", KODAK_SHA256[number - 1]
        candidate = local / f"{name}.png" if local else None
        if candidate is not None and candidate.is_file() and sha256_of(candidate) == sha256:
            return candidate
        try:
            return fetch(KODAK_URL.format(name=name), cache / f"{name}.png", sha256)
        except DatasetError as exc:
            raise DatasetError(f"{_local_problem(candidate)}{exc}") from exc


def _local_problem(candidate: Path | None) -> str:
    """Why the local copy was not used, prefixed to a download error so both causes are visible."""
    if candidate is None:
        return ""
    if candidate.is_file():
        return f"local copy {candidate} does not match the original's SHA-256 (re-encoded or corrupted?); "
    return f"local copy {candidate} does not exist; "
