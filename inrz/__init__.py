"""inrz: compression with implicit neural representations."""
from __future__ import annotations

from .api import Codec, Decoded, codec_from_preset, codec_from_spec, compress, decode, decompress, modality_for_path, open
from .backends.base import Backend, EncodeContext, EncodeResult
from .baselines import Baseline, BaselineResult
from .component import Component, ComponentConfig
from .datasets import Dataset, DatasetItem
from .entropy import EntropyModel
from .errors import (ContainerError, DatasetError, InrzError, MissingDependencyError, PluginError, SpecError,
                     UnknownComponentError)
from .hookspecs import hookimpl
from .metrics import Metric
from .modality import Modality, Signal
from .plugins import PluginHost, get_host
from .quantize import Quantizer

__version__ = "0.1.0"

__all__ = [
    "Backend", "Baseline", "BaselineResult", "Codec", "Component", "ComponentConfig", "ContainerError", "Dataset",
    "DatasetError", "DatasetItem", "Decoded", "EncodeContext", "EncodeResult", "EntropyModel", "InrzError",
    "Metric", "MissingDependencyError", "Modality", "PluginError", "PluginHost", "Quantizer", "Signal", "SpecError",
    "UnknownComponentError", "codec_from_preset", "codec_from_spec", "compress", "decode", "decompress",
    "get_host", "hookimpl", "modality_for_path", "open",
]
