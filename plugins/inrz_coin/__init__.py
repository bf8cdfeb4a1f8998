"""The COIN plugin: the `coin` backend (Dupont et al. 2021), one SIREN overfitted per datum,
its weights stored. The default backend: a pipeline that names none gets this one.

Laid out by stage: `shapes.py` (the network's shape, torch-free: what registering and
decoding's checks need), `backend.py` (config, architectures, rate ladder), `model.py` (the
batched SIREN and its chunked fit step), `fit.py` (the fit and evaluation, torch). Registered
through the `inrz` entry point like any plugin; registering loads no torch.
"""
from __future__ import annotations

from inrz import hookimpl

from .backend import Coin

__all__ = ["Coin"]


@hookimpl
def register_backends(register):
    register(Coin)
