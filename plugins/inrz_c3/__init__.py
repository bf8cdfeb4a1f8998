"""The latent-grid plugin: the `c3` backend (C3 / Cool-chic class), for grids of 1-3 axes.

Per datum: latent grids from full resolution down to 1/2**(L-1) per axis, learned 2x
upsampling, a per-point MLP plus residual convolutions (the synthesis), and an autoregressive
context model whose integer arithmetic decides every probability, so a file decodes
identically on any machine. Registered through the `inrz` entry point like any plugin.
"""
from __future__ import annotations

from inrz import hookimpl

from .backend import C3

__all__ = ["C3"]


@hookimpl
def register_backends(register):
    register(C3)
