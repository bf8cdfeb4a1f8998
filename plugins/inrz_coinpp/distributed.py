"""Multi-process training with PyTorch DDP under `torchrun` (gloo on CPUs, nccl on GPUs).

`torchrun --nproc_per_node N -m inrz train SPEC` starts N processes; each samples its own
patches, DDP averages the meta-gradients, and rank 0 alone validates, checkpoints and saves.
Without torchrun (no WORLD_SIZE in the environment) everything runs in one process.
"""
from __future__ import annotations

import os

import torch
import torch.distributed as dist


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def is_main() -> bool:
    return rank() == 0


def setup(device: torch.device) -> torch.device:
    """Join the process group torchrun describes; on CUDA, each rank takes its local GPU."""
    if world_size() <= 1 or dist.is_initialized():
        return device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device


def wrap(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """The DDP wrapper used for the outer forward (the inner loop runs on the bare module,
    whose gradients still flow into the same parameters and are averaged once per step)."""
    if not (dist.is_available() and dist.is_initialized()):
        return model
    ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)


def barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def broadcast_text(text: str | None) -> str | None:
    """Rank 0's string on every rank (e.g. the saved artifact's hash)."""
    if not (dist.is_available() and dist.is_initialized()):
        return text
    box = [text]
    dist.broadcast_object_list(box, src=0)
    return box[0]
