"""The components that ship in the core, registered through the same hooks as any plugin."""
from __future__ import annotations

from ..backends.none import NoNetwork
from ..coding.entropy import Raw, Zstd
from ..coding.quantize import Float16, Uniform
from ..datasets.dataset import Folder
from ..signal.metrics import MSE, PSNR, MaxAbsError
from ..signal.ndarray import NdArray
from ..core.hookspecs import hookimpl


@hookimpl
def register_modalities(register):
    register(NdArray)


@hookimpl
def register_backends(register):
    register(NoNetwork)


@hookimpl
def register_quantizers(register):
    register(Float16)
    register(Uniform)


@hookimpl
def register_entropy_models(register):
    register(Raw)
    register(Zstd)


@hookimpl
def register_datasets(register):
    register(Folder)


@hookimpl
def register_metrics(register):
    register(PSNR)
    register(MSE)
    register(MaxAbsError)
