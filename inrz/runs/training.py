"""Training from a spec (`inrz train`, and `inrz run` for a backend that asks for it): load the
`train:` section's data, train once per (spec, data) with `inrz.train`; `prepare_spec` lets
each backend of a spec prepare its sections (`Backend.prepare`: COIN++ replaces `model: auto`
by the trained base network's hash).

Trainings are cached: `<models dir>/by-spec/<train hash>` names the artifact trained from the
same `train:` section, seed and data files, so `inrz run` trains only when something changed.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

import numpy as np

from ..backends.base import PrepareContext
from ..core.device import resolve_device
from ..core.errors import SpecError
from ..core.fsutil import atomic_write, folder_lock
from ..nets import artifacts
from ..signal.select import modality_for_path
from ..train import distributed
from ..train.config import TrainConfig
from ..train.data import TrainData
from ..train.loop import train
from .spec import Spec, dataset_items

def load_data(cfg: TrainConfig, spec: Spec, base_dir: Path, host) -> TrainData:
    """Features of the training and validation files, and the first file's coordinates."""
    metas = []

    def features(items):
        out = []
        for item in items:
            modality = host.create("modality", spec.modality) if spec.modality else modality_for_path(item.path, host)
            signal = modality.load(item.path)
            metas.append((modality, signal.meta))
            out.append(modality.to_features(signal)[0].astype(np.float32))
        return out

    items = dataset_items(spec, host, base_dir, "train", "dataset")
    if cfg.val_dataset is not None:
        train_items, val_items = items, dataset_items(spec, host, base_dir, "train", "val_dataset")
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
    train, val = features(train_items), features(val_items)
    modality, meta = metas[0]
    return TrainData(train, val, description, lambda shape: modality.coordinates(shape, meta=meta))


def train_hash(cfg: TrainConfig, seed: int, data: TrainData) -> str:
    payload = {"train": cfg.model_dump(mode="json"), "seed": seed, "data": data.description["sha256"]}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def train_from_spec(spec: Spec, spec_path: Path, host, workdir: Path | None = None,
                    log: Callable[[str], None] = print, force: bool = False) -> str:
    """Train (or find the cached) base network for `spec.train`; returns its hash."""
    if spec.train is None:
        raise SpecError(f"{spec_path}: the spec has no `train:` section to train a base network from")
    cfg = TrainConfig.model_validate(spec.train)
    data = load_data(cfg, spec, spec_path.parent, host)
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


def prepare_spec(spec: Spec, spec_path: Path, host, log: Callable[[str], None] = print) -> Spec:
    """A copy of `spec` whose pipelines (its own and each `compare:` one) their backends have
    prepared (`Backend.prepare`: COIN++ trains for `model: auto`); a training any of them asks
    for runs once for the spec."""
    trained: list[str] = []

    def train() -> str:
        if not trained:
            trained.append(train_from_spec(spec, spec_path, host, log=log))
        return trained[0]

    ctx = PrepareContext(train, log)

    def prepared(pipeline):
        sections = {name: dict(getattr(pipeline, name)) for name in ("backend", "quantizer", "entropy")}
        backend = host.registry.get("backend", sections["backend"]["id"])
        return pipeline.model_copy(update=backend.prepare(sections, ctx))

    return prepared(spec).model_copy(update={"compare": [prepared(c) for c in spec.compare]})
