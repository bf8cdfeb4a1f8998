"""How to meta-learn a COIN++ base network: the `train:` section of a spec.

These are the one place the COIN++ architecture's defaults live (the paper's, for images);
`shapes.ModulatedShape` has none, since a shape is always built from this config or read
back from an artifact.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .shapes import INNER_LR, INNER_STEPS


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    dataset: dict[str, Any]  # training data: {id: folder | cifar10 | ..., **settings}
    val_dataset: dict[str, Any] | None = None  # held-out data; default: the last val_fraction of `dataset`
    val_fraction: float = Field(0.1, gt=0, lt=1)
    patch: list[int] = [32, 32]  # patch shape, any number of axes (16^3 for volumes, [800] for audio)
    depth: int = Field(10, ge=1)  # sine layers (paper: 10)
    width: int = Field(512, ge=1)  # hidden units (paper: 512 for images)
    latent_dim: int = Field(128, ge=1)  # numbers stored per patch
    w0: float = 50.0  # sine frequency (COIN++ default)
    steps: int = Field(500_000, ge=1)  # outer steps (paper trains for days on a GPU)
    batch_size: int = Field(128, ge=1)  # patches per outer step
    inner_steps: int = Field(INNER_STEPS, ge=1)  # k
    inner_lr: float = Field(INNER_LR, gt=0)
    outer_lr: float = Field(3e-6, gt=0)  # paper: 3e-6; small CPU runs use more
    val_every: int = Field(500, ge=1)
    val_patches: int = Field(256, ge=1)
    checkpoint_every: int = Field(500, ge=1)
    quant_bits: list[int] = [3, 4, 5, 6, 7, 8]  # bit widths to fit entropy tables for
    stats_patches: int = Field(2048, ge=1)  # training patches encoded to fit statistics and tables
