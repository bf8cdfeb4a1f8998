"""The hooks an inrz plugin may implement. Declarations only.

Every hook receives a `register` callback; call it once per component class::

    from inrz import hookimpl

    @hookimpl
    def register_modalities(register):
        register(MyModality)

The core checks each class (right base class, an `id`, no duplicate) and records which
plugin registered it. Hooks are called once, when a `PluginHost` is created.
"""
from __future__ import annotations

from typing import Callable

import pluggy

hookspec = pluggy.HookspecMarker("inrz")
hookimpl = pluggy.HookimplMarker("inrz")

Register = Callable[[type], None]


@hookspec
def register_modalities(register: Register) -> None:
    """Register `inrz.Modality` subclasses (file <-> coordinates/features adapters)."""


@hookspec
def register_backends(register: Register) -> None:
    """Register `inrz.Backend` subclasses (signal -> tensors to store, and back)."""


@hookspec
def register_quantizers(register: Register) -> None:
    """Register `inrz.Quantizer` subclasses (float tensors <-> integer symbols)."""


@hookspec
def register_entropy_models(register: Register) -> None:
    """Register `inrz.EntropyModel` subclasses (integer symbols <-> bytes)."""


@hookspec
def register_datasets(register: Register) -> None:
    """Register `inrz.Dataset` subclasses (named collections of input files)."""


@hookspec
def register_baselines(register: Register) -> None:
    """Register `inrz.Baseline` subclasses (classical codecs compared at matching rate)."""


@hookspec
def register_metrics(register: Register) -> None:
    """Register `inrz.Metric` subclasses (distortion measures between two signals)."""
