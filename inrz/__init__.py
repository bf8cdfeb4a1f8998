"""inrz: compression with implicit neural representations."""
from __future__ import annotations

from .pipeline.api import Codec, Decoded, codec_from_preset, codec_from_spec, compress, decode, decompress, modality_for_path, open
from .backends.base import Backend, EncodeContext, EncodeResult
from .runs.baselines import Baseline, BaselineResult
from .core.component import Component, ComponentConfig
from .runs.datasets import Dataset, DatasetItem
from .coding.entropy import EntropyModel
from .core.errors import (ContainerError, DatasetError, InrzError, MissingDependencyError, PluginError, SpecError,
                     UnknownComponentError)
from .core.hookspecs import hookimpl
from .signal.metrics import Metric
from .signal.modality import Modality, Signal
from .core.host import PluginHost, get_host
from .coding.quantize import Quantizer

__version__ = "0.1.0"

__all__ = [
    "Backend", "Baseline", "BaselineResult", "Codec", "Component", "ComponentConfig", "ContainerError", "Dataset",
    "DatasetError", "DatasetItem", "Decoded", "EncodeContext", "EncodeResult", "EntropyModel", "InrzError",
    "Metric", "MissingDependencyError", "Modality", "PluginError", "PluginHost", "Quantizer", "Signal", "SpecError",
    "UnknownComponentError", "codec_from_preset", "codec_from_spec", "compress", "decode", "decompress",
    "get_host", "hookimpl", "modality_for_path", "open",
]
