"""Which registered modality reads a file: chosen by its suffix, the same way everywhere."""
from __future__ import annotations

from pathlib import Path

from ..core.errors import InrzError
from .modality import Modality


def modality_for_path(path: str | Path, host) -> Modality:
    """The modality whose `extensions` end the file's name (multi-part suffixes too: .nii.gz)."""
    name = Path(path).name.lower()
    entries = host.registry.entries("modality")
    for mid, entry in entries.items():
        if any(name.endswith(ext) for ext in entry.cls.extensions):
            return host.create("modality", mid)
    known = sorted({ext for entry in entries.values() for ext in entry.cls.extensions})
    suffix = Path(path).suffix.lower() or "suffix-less"
    raise InrzError(f"no modality reads {suffix} files ({path}); known suffixes: {', '.join(known)}; "
                    "or name one (modality= in the API, `modality:` in a spec)")
