"""Modulated SIREN (COIN++, Dupont et al. 2022): one base network shared by every datum,
and per datum a latent vector mapped linearly to a shift of every hidden unit:

    h_{l+1} = sin(w0 (W_l h_l + b_l + beta_l)),   beta = A z + c   (z: latent, (latent_dim,))
    out     = W_L h_L + b_L + 0.5

Everything is batched over a leading axis of latents (one bmm per layer for all patches).
The architecture's defaults (the paper's) are `config.TrainConfig`'s: a shape is always
built from a training config or read back from an artifact.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .shapes import INNER_LR, INNER_STEPS, ModulatedShape  # noqa: F401  (torch-free; re-exported)


class ModulatedSiren(nn.Module):
    def __init__(self, shape: ModulatedShape):
        super().__init__()
        self.shape = shape
        dims = [shape.d_in] + [shape.width] * shape.depth + [shape.d_out]
        self.linears = nn.ModuleList(nn.Linear(dims[i], dims[i + 1]) for i in range(len(dims) - 1))
        self.latent_to_shift = nn.Linear(shape.latent_dim, shape.depth * shape.width)
        self._init()

    @torch.no_grad()
    def _init(self) -> None:
        for i, layer in enumerate(self.linears):
            fan_in = layer.in_features
            bound = 1.0 / fan_in if i == 0 else math.sqrt(6.0 / fan_in) / self.shape.w0
            layer.weight.uniform_(-bound, bound)
            layer.bias.uniform_(-bound, bound)
        nn.init.zeros_(self.latent_to_shift.bias)  # zero latent = zero shift: the inner loop starts at the base net

    def shifts(self, latents: torch.Tensor) -> list[torch.Tensor]:
        """latents (B, latent_dim) -> per hidden layer (B, 1, width)."""
        s = self.latent_to_shift(latents)  # (B, depth * width)
        return [t.unsqueeze(1) for t in s.split(self.shape.width, dim=1)]

    def forward(self, x: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
        """x (B, N, d_in) or (N, d_in) shared, latents (B, latent_dim) -> (B, N, d_out)."""
        h = x if x.dim() == 3 else x.unsqueeze(0)
        for layer, beta in zip(self.linears[:-1], self.shifts(latents)):
            h = torch.sin(self.shape.w0 * (layer(h) + beta))  # (B, N, width)
        return self.linears[-1](h) + 0.5


def inner_loop(model: ModulatedSiren, x: torch.Tensor, y: torch.Tensor, steps: int, inner_lr: float,
               second_order: bool, latents: torch.Tensor | None = None) -> torch.Tensor:
    """k SGD steps on the latents only, from zeros; second order keeps the graph for MAML.

    x (N, d_in) or (B, N, d_in), y (B, N, d_out). Each latent follows the gradient of its own
    datum's mean squared error (the loss is a sum of per-datum means).
    """
    B = y.shape[0]
    z = latents if latents is not None else torch.zeros(B, model.shape.latent_dim, device=y.device, dtype=y.dtype)
    if second_order:
        z = z.requires_grad_(True)
    for _ in range(steps):
        if not second_order:
            z = z.detach().requires_grad_(True)
        with torch.enable_grad():
            loss = per_datum_mse(model(x, z), y).sum()
            (grad,) = torch.autograd.grad(loss, z, create_graph=second_order)
        z = z - inner_lr * grad
    return z if second_order else z.detach()


def per_datum_mse(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(B, N, d) -> (B,) mean squared error per datum."""
    return (pred - y).pow(2).flatten(1).mean(dim=1)
