"""Training a base network from a spec (`inrz train`, and `inrz run` when a pipeline says
`model: auto`): load the `train:` section's data, train once per (spec, data) with `loop.py`.

Trainings are cached: `<models dir>/by-spec/<train hash>` names the artifact trained from the
same `train:` section, seed and data files, so `inrz run` trains only when something changed.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from inrz import PrepareContext, SpecError, atomic_write, folder_lock, modality_for_path, resolve_device

from . import artifacts, distributed
from .config import TrainConfig
from .data import TrainData
from .loop import train


def load_data(cfg: TrainConfig, ctx: PrepareContext) -> TrainData:
    """Features of the training and validation files, and the first file's coordinates."""
    spec, host, metas = ctx.spec, ctx.host, []

    def features(items):
        out = []
        for item in items:
            modality = host.create("modality", spec.modality) if spec.modality else modality_for_path(item.path, host)
            signal = modality.load(item.path)
            metas.append((modality, signal.meta))
            out.append(modality.to_features(signal)[0].astype(np.float32))
        return out

    items = ctx.items("train", "dataset")
    if cfg.val_dataset is not None:
        train_items, val_items = items, ctx.items("train", "val_dataset")
    else:
        n_val = max(1, int(round(len(items) * cfg.val_fraction)))
        if len(items) < 2:
            raise SpecError("train.dataset needs at least 2 files when train.val_dataset is not set")
        train_items, val_items = items[:-n_val], items[-n_val:]
    digest = hashlib.sha256()
    for item in train_items + val_items:
        digest.update(item.path.read_bytes())
    description = {"dataset": cfg.dataset, "train_files": len(train_items), "val_files": len(val_items),
                   "sha256": digest.hexdigest()[:16]}
    train_set, val_set = features(train_items), features(val_items)
    modality, meta = metas[0]
    return TrainData(train_set, val_set, description, lambda shape: modality.coordinates(shape, meta=meta))


def train_hash(cfg: TrainConfig, seed: int, data: TrainData) -> str:
    payload = {"train": cfg.model_dump(mode="json"), "seed": seed, "data": data.description["sha256"]}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def train_from_spec(ctx: PrepareContext, workdir: Path | None = None, force: bool = False) -> str:
    """Train (or find the cached) base network for the spec's `train:` section; returns its hash."""
    spec, log = ctx.spec, ctx.log
    if spec.train is None:
        raise SpecError(f"{ctx.spec_path}: the spec has no `train:` section to train a base network from")
    cfg = TrainConfig.model_validate(spec.train)
    data = load_data(cfg, ctx)
    key = train_hash(cfg, spec.seed, data)
    pointer = artifacts.models_dir() / "by-spec" / key
    if pointer.exists() and not force:
        cached = pointer.read_text().strip()
        if (artifacts.models_dir() / cached / "config.json").exists():
            log(f"base network {cached} already trained for this spec and data")
            return cached
    workdir = workdir or Path(spec.output or Path("results") / spec.name) / "train" / key
    device = distributed.setup(resolve_device(spec.device))
    if distributed.is_main():  # rank 0 alone writes the checkpoints
        with folder_lock(workdir, "training"):
            net = train(cfg, data, spec.seed, device, workdir, log)
    else:
        net = train(cfg, data, spec.seed, device, workdir, log)
    digest = None
    if net is not None:  # rank 0
        digest = artifacts.save(net)
        atomic_write(pointer, digest)
        log(f"base network {digest} saved in {artifacts.models_dir() / digest}")
    return distributed.broadcast_text(digest)
