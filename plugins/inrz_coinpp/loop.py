"""The COIN++ training loop: meta-learn a base network (MAML through the inner loop on latents).

One plain loop, as in nanoGPT: sample random patches, fit their latents with k SGD steps
from zero keeping the graph (second order), step Adam on the base network and the
latent-to-shift map with the loss after the inner loop. Validation PSNR at k and at 10
inner steps; the best network is kept; checkpoints let an interrupted training resume.
Afterwards the latent statistics and frequency tables are fitted on training latents and
everything is saved as a content-addressed artifact.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from inrz import psnr

from . import artifacts, checkpoint, distributed
from .config import TrainConfig
from .data import TrainData, random_patches
from .model import ModulatedShape, ModulatedSiren, inner_loop, per_datum_mse
from .quantize import latent_stats, std_range_for, uniform_symbols
from .table import count_table


def evaluate(model: ModulatedSiren, x: torch.Tensor, y: torch.Tensor, steps: int, lr: float) -> float:
    """Mean PSNR of patches after `steps` first-order inner steps."""
    z = inner_loop(model, x, y, steps, lr, second_order=False)
    with torch.no_grad():
        return float(psnr(per_datum_mse(model(x, z), y)).mean())


def train(cfg: TrainConfig, data: TrainData, seed: int, device: torch.device, workdir: Path,
          log: Callable[[str], None] = print) -> artifacts.BaseNetwork | None:
    """Meta-learn; returns the network on rank 0 (None on the other ranks of a DDP run)."""
    torch.manual_seed(seed)  # same init on every rank
    gen = np.random.default_rng([seed, distributed.rank()])  # different patches on every rank
    d_out = data.train[0].shape[-1]
    coords = np.asarray(data.coordinates(cfg.patch), np.float32)
    coords = coords.reshape(-1, coords.shape[-1])  # (n, d_in)
    shape = ModulatedShape(coords.shape[-1], d_out, cfg.depth, cfg.width, cfg.latent_dim, cfg.w0)
    model = ModulatedSiren(shape).to(device)
    outer = distributed.wrap(model, device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.outer_lr)
    x = torch.from_numpy(coords).to(device)  # (n, d_in)
    y_val = torch.from_numpy(random_patches(data.val, cfg.patch, cfg.val_patches, np.random.default_rng(seed + 1)))
    y_val = y_val.to(device)
    state = checkpoint.load(workdir, model, opt, gen) or _fresh(model)
    if not distributed.is_main():  # rank 0's checkpoint holds rank 0's sampler state
        gen = np.random.default_rng([seed, distributed.rank(), state["step"]])
    start = time.perf_counter()
    for step in range(state["step"], cfg.steps):
        y = torch.from_numpy(random_patches(data.train, cfg.patch, cfg.batch_size, gen)).to(device)  # (B, n, C)
        loss = meta_step(model, outer, opt, x, y, cfg)
        state["step"] = step + 1
        if not distributed.is_main():
            continue
        if state["step"] % cfg.val_every == 0 or state["step"] == cfg.steps:
            _validate(model, x, y_val, cfg, state, log, loss.item(), time.perf_counter() - start)
        if state["step"] % cfg.checkpoint_every == 0 or state["step"] == cfg.steps:
            checkpoint.save(workdir, model, opt, gen, state)
    if not distributed.is_main():
        return None
    model.load_state_dict(state["best"])
    return _finish(model, shape, cfg, data, state, x, gen, device)


def meta_step(model: ModulatedSiren, outer, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
              cfg: TrainConfig) -> torch.Tensor:
    """One outer step on a batch already on the device: fit its latents (k steps, second order),
    then step Adam on the loss after the inner loop. Returns that loss as a tensor on the device
    (no host sync: the loop reads it only when it validates)."""
    z = inner_loop(model, x, y, cfg.inner_steps, cfg.inner_lr, second_order=True)  # (B, latent_dim)
    loss = per_datum_mse(outer(x, z), y).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.detach()


def _validate(model, x, y_val, cfg: TrainConfig, state: dict, log, loss: float, seconds: float) -> None:
    at_k = evaluate(model, x, y_val, cfg.inner_steps, cfg.inner_lr)
    at_10 = evaluate(model, x, y_val, 10, cfg.inner_lr)
    at_0 = evaluate(model, x, y_val, 0, cfg.inner_lr)
    state["history"].append({"step": state["step"], "train_psnr": psnr(loss),
                             "val_psnr_0": at_0, "val_psnr_k": at_k, "val_psnr_10": at_10})
    if at_k > state["best_psnr"]:
        state["best_psnr"], state["best"] = at_k, {k: v.detach().clone() for k, v in model.state_dict().items()}
    log(f"step {state['step']}: train {psnr(loss):.2f} dB, val {at_0:.2f} / {at_k:.2f} / "
        f"{at_10:.2f} dB at 0 / {cfg.inner_steps} / 10 steps ({seconds:.0f} s)")


def _finish(model, shape, cfg: TrainConfig, data: TrainData, state: dict, x, gen, device) -> artifacts.BaseNetwork:
    """Fit latent statistics and per-bit-width frequency tables on training latents."""
    y = torch.from_numpy(random_patches(data.train, cfg.patch, cfg.stats_patches, gen)).to(device)
    z = torch.cat([inner_loop(model, x, y[i:i + 256], cfg.inner_steps, cfg.inner_lr, second_order=False)
                   for i in range(0, len(y), 256)]).cpu().numpy()
    stats = latent_stats(z)
    tables = {}
    for bits in cfg.quant_bits:
        r = std_range_for(bits)
        sym_global = uniform_symbols(z, np.float32(stats["mean"]), np.float32(stats["std"]), bits, r)
        sym_dim = uniform_symbols(z, np.asarray(stats["mean_per_dim"], np.float32),
                                  np.asarray(stats["std_per_dim"], np.float32), bits, r)
        tables[str(bits)] = {"global": count_table(sym_global, bits), "per_dim": count_table(sym_dim, bits)}
    last = state["history"][-1] if state["history"] else {}
    info = {"data": data.description, "steps": state["step"], "train_config": cfg.model_dump(mode="json"),
            "best_val_psnr_k": state["best_psnr"], "history": state["history"][-20:], "final": last}
    state_dict = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return artifacts.BaseNetwork(shape, list(cfg.patch), state_dict, stats, tables, info)


def _fresh(model) -> dict:
    return {"step": 0, "best_psnr": -float("inf"), "history": [],
            "best": {k: v.detach().clone() for k, v in model.state_dict().items()}}
