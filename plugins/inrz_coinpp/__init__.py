"""The COIN++ plugin (Dupont et al. 2022): the `coinpp` backend, its latent quantizer
(`latent_uniform`) and range coder (`table`), meta-training and base-network artifacts.

A meta-learned base network (a modulated SIREN) is shared by sender and receiver, and each
patch of a datum is stored as a latent vector found by a few SGD steps from zero. Laid out by
stage: `shapes.py` (torch-free shape and constants), `model.py` (the network and the inner
loop), `config.py` / `data.py` / `loop.py` / `checkpoint.py` / `distributed.py` (meta-training),
`artifacts.py` (content-addressed base networks), `quantize.py` and `table.py` (coding the
latents), `backend.py`, `training.py` (training from a spec) and `commands.py` (`inrz train`,
`inrz models`). Registering loads no torch.
"""
from __future__ import annotations

from inrz import hookimpl

from .backend import CoinPP
from .quantize import LatentUniform
from .table import Table

__all__ = ["CoinPP", "LatentUniform", "Table"]


@hookimpl
def register_backends(register):
    register(CoinPP)


@hookimpl
def register_quantizers(register):
    register(LatentUniform)


@hookimpl
def register_entropy_models(register):
    register(Table)
