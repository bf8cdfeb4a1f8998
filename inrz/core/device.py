"""The one place that decides which torch device runs the work."""
from __future__ import annotations

import torch

from .errors import SpecError


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` picks cuda, then mps, then cpu; an explicit name must be available."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise SpecError(f"device: unknown device {name!r} (use auto, cpu, cuda, cuda:N or mps)") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SpecError("device: cuda was requested but torch sees no CUDA device (use device: auto)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise SpecError("device: mps was requested but is not available (use device: auto)")
    return device


def seed_everything(seed: int) -> torch.Generator:
    """Seed torch globally (for init) and return a generator for explicit sampling."""
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
