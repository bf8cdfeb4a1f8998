"""Training checkpoints that cannot run code: one safetensors file, plain data as JSON inside.

A checkpoint lives in the run's output folder, which the spec chooses, so it is as untrusted
as any file: unpickling one would run whatever someone planted. So the tensors (network, best network, Adam moments, torch's RNG state) are a
safetensors file and everything else (step, history, best PSNR, numpy's RNG state, Adam's
settings) is JSON in its metadata; both are checked against the training before use, and
a mismatch is a `CheckpointError` that says what to do. An older `checkpoint.pt` (pickle) is
never read.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import safetensors
import safetensors.torch
import torch

from inrz import CheckpointError, atomic_write

NAME = "checkpoint.safetensors"
LEGACY = "checkpoint.pt"  # pickled by inrz before this format; refused, never unpickled
FORMAT = "inrz-checkpoint-1"


def save(folder: Path, model, opt, gen: np.random.Generator, state: dict) -> None:
    """Write the checkpoint atomically."""
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors.update({f"best.{k}": v for k, v in state["best"].items()})
    opt_state = opt.state_dict()
    moments = {}
    for index, entry in opt_state["state"].items():
        for key, value in entry.items():
            tensors[f"opt.{index}.{key}"] = value if isinstance(value, torch.Tensor) else torch.tensor(value)
        moments[str(index)] = sorted(entry)
    tensors["torch_rng"] = torch.get_rng_state()
    plain = {"format": FORMAT, "step": state["step"], "history": state["history"],
             "best_psnr": None if math.isinf(state["best_psnr"]) else state["best_psnr"],
             "numpy_rng": gen.bit_generator.state, "param_groups": opt_state["param_groups"], "moments": moments}
    data = safetensors.torch.save({k: v.detach().cpu().contiguous() for k, v in tensors.items()},
                                  metadata={"inrz": json.dumps(plain)})
    atomic_write(folder / NAME, data)


def load(folder: Path, model, opt, gen: np.random.Generator) -> dict | None:
    """Restore model, optimizer and RNGs from the folder's checkpoint; None if there is none."""
    if (folder / LEGACY).exists():
        raise CheckpointError(f"{folder / LEGACY} is a pickled checkpoint (from an older inrz); loading it could run "
                              f"code, so it is never read. Delete it to train from the start")
    path = folder / NAME
    if not path.exists():
        return None
    tensors, plain = _read(path)
    model.load_state_dict(_group(tensors, "model.", model.state_dict(), path))
    best = _group(tensors, "best.", model.state_dict(), path)
    opt.load_state_dict(_optimizer_state(tensors, plain, opt, path))
    _restore_rngs(tensors, plain, gen, path)
    best_psnr = -math.inf if plain["best_psnr"] is None else float(plain["best_psnr"])
    return {"step": int(plain["step"]), "best_psnr": best_psnr, "best": best, "history": list(plain["history"])}


def _read(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    try:
        data = path.read_bytes()
        tensors = safetensors.torch.load(data)
        with safetensors.safe_open(str(path), "pt") as f:
            plain = json.loads((f.metadata() or {}).get("inrz", "null"))
    except (OSError, ValueError, safetensors.SafetensorError) as exc:
        raise _error(path, f"it is not a readable checkpoint ({exc})") from exc
    kinds = {"step": int, "history": list, "numpy_rng": dict, "param_groups": list, "moments": dict}
    if not isinstance(plain, dict) or plain.get("format") != FORMAT or not all(
            isinstance(plain.get(k), t) for k, t in kinds.items()) or not isinstance(plain.get("best_psnr"),
                                                                                  (int, float, type(None))):
        raise _error(path, "its metadata is not an inrz checkpoint's")
    return tensors, plain


def _group(tensors: dict[str, torch.Tensor], prefix: str, like: dict[str, torch.Tensor], path: Path) -> dict:
    """The tensors under `prefix`, which must be exactly `like`'s names, shapes and dtypes."""
    out = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    if set(out) != set(like) or any(out[k].shape != v.shape or out[k].dtype != v.dtype for k, v in like.items()):
        raise _error(path, f"its {prefix.rstrip('.')} tensors are not this network's")
    return out


def _optimizer_state(tensors: dict, plain: dict, opt, path: Path) -> dict:
    """Adam's state dict rebuilt from the file, checked against this optimizer's parameters."""
    params = [p for group in opt.param_groups for p in group["params"]]
    groups = plain["param_groups"]
    if len(groups) != len(opt.param_groups) or not all(
            isinstance(g, dict) and _same_settings(g, now) for g, now in zip(groups, opt.state_dict()["param_groups"])):
        raise _error(path, "its optimizer settings are not this training's")
    state = {}
    for index, keys in plain["moments"].items():
        if not (index.isdigit() and int(index) < len(params) and isinstance(keys, list)):
            raise _error(path, "its optimizer state names parameters this network does not have")
        entry = {key: tensors.get(f"opt.{index}.{key}") for key in keys}
        if any(v is None for v in entry.values()) or any(
                v.shape not in ((), params[int(index)].shape) for v in entry.values()):
            raise _error(path, "its optimizer state does not fit this network")
        state[int(index)] = entry
    return {"state": state, "param_groups": groups}


def _same_settings(saved: dict, now: dict) -> bool:
    """The same setting names, each of the same kind (numbers, flags, lists), and the same parameters."""
    def kind(value):
        return "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__

    return set(saved) == set(now) and saved["params"] == now["params"] and all(
        kind(saved[k]) == kind(now[k]) or (isinstance(now[k], tuple) and isinstance(saved[k], list)) for k in now)


def _restore_rngs(tensors: dict, plain: dict, gen: np.random.Generator, path: Path) -> None:
    rng = tensors.get("torch_rng")
    if rng is None or rng.dtype != torch.uint8 or rng.shape != torch.get_rng_state().shape:
        raise _error(path, "its torch RNG state is missing or malformed")
    try:
        gen.bit_generator.state = plain["numpy_rng"]
    except (TypeError, ValueError, KeyError) as exc:  # numpy's checks of a state dict
        raise _error(path, f"its numpy RNG state is malformed ({exc})") from exc
    torch.set_rng_state(rng)


def _error(path: Path, problem: str) -> CheckpointError:
    return CheckpointError(f"cannot resume from {path}: {problem}; delete it to train from the start")
