"""inrz: compression with implicit neural representations.

This module is the public surface, for users and for plugin authors alike: everything a
modality, backend, quantizer, entropy model, dataset, baseline or metric plugin needs is
importable from here (plus the conformance kit `inrz.testing`); the packages below are the
core's own organisation and may move. docs/plugins.md documents the contract.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .core import threads  # first: it sets OpenMP's wait policy before torch loads

if TYPE_CHECKING:  # what the names are, for type checkers and IDEs
    from .backends.base import Backend, EncodeContext, EncodeResult, PrepareContext, Rung, Tensors
    from .coding.bits import Layout, Symbols, layout_size, pack_bits, unpack_bits
    from .coding.bits import split as split_symbols
    from .coding.varint import read_uvarint, uvarint
    from .coding.entropy import EntropyModel
    from .coding import rangecoder
    from .coding.rangecoder import ExactDecoder, read_words
    from .coding.quantize import Quantizer
    from .core import fields
    from .core.device import resolve_device
    from .core.fsutil import atomic_write, folder_lock
    from .core.component import Component, ComponentConfig
    from .core.errors import (BaseNetworkError, CheckpointError, ContainerError, DatasetError, DecodeLimitError, InrzError,
                              MissingDependencyError, PluginError, SpecError, UnknownComponentError, missing, require)
    from .core.hookspecs import hookimpl
    from .core.paths import cache_dir
    from .core.compiled import kernel
    from .api.functions import codec_for, codec_from_preset, codec_from_spec, compress, modality_for_path
    from .api.reading import decompress, read_header
    from .baselines.baseline import Baseline, BaselineResult
    from .datasets.dataset import Dataset, DatasetItem, fetch, resolve, sha256_of
    from .host.manager import PluginHost, get_host
    from .pipeline.codec import Codec, Encoded
    from .pipeline.decode import Decoded, decode
    from .pipeline.limits import DecodeLimits
    from .runs.prepare import spec_context
    from .signal.grid import grid_coordinates
    from .signal.metrics import NATIVE, Metric, mse, psnr
    from .signal.patches import merge as merge_patches, split as split_patches
    from .signal.modality import FormatChange, Modality, Placement, Signal

#: the public names, each imported from its module on first use (`__getattr__`): `import inrz`
#: loads only what a caller touches (a decoder does not import the encoder's or the run's modules)
_EXPORTS = {
    "Backend": (".backends.base", "Backend"),
    "EncodeContext": (".backends.base", "EncodeContext"),
    "EncodeResult": (".backends.base", "EncodeResult"),
    "PrepareContext": (".backends.base", "PrepareContext"),
    "Rung": (".backends.base", "Rung"),
    "Tensors": (".backends.base", "Tensors"),
    "Layout": (".coding.bits", "Layout"),
    "Symbols": (".coding.bits", "Symbols"),
    "layout_size": (".coding.bits", "layout_size"),
    "pack_bits": (".coding.bits", "pack_bits"),
    "unpack_bits": (".coding.bits", "unpack_bits"),
    "split_symbols": (".coding.bits", "split"),
    "read_uvarint": (".coding.varint", "read_uvarint"),
    "uvarint": (".coding.varint", "uvarint"),
    "EntropyModel": (".coding.entropy", "EntropyModel"),
    "rangecoder": (".coding.rangecoder", None),
    "ExactDecoder": (".coding.rangecoder", "ExactDecoder"),
    "read_words": (".coding.rangecoder", "read_words"),
    "Quantizer": (".coding.quantize", "Quantizer"),
    "fields": (".core.fields", None),
    "resolve_device": (".core.device", "resolve_device"),
    "atomic_write": (".core.fsutil", "atomic_write"),
    "folder_lock": (".core.fsutil", "folder_lock"),
    "Component": (".core.component", "Component"),
    "ComponentConfig": (".core.component", "ComponentConfig"),
    "BaseNetworkError": (".core.errors", "BaseNetworkError"),
    "CheckpointError": (".core.errors", "CheckpointError"),
    "ContainerError": (".core.errors", "ContainerError"),
    "DatasetError": (".core.errors", "DatasetError"),
    "DecodeLimitError": (".core.errors", "DecodeLimitError"),
    "InrzError": (".core.errors", "InrzError"),
    "MissingDependencyError": (".core.errors", "MissingDependencyError"),
    "PluginError": (".core.errors", "PluginError"),
    "SpecError": (".core.errors", "SpecError"),
    "UnknownComponentError": (".core.errors", "UnknownComponentError"),
    "missing": (".core.errors", "missing"),
    "require": (".core.errors", "require"),
    "hookimpl": (".core.hookspecs", "hookimpl"),
    "cache_dir": (".core.paths", "cache_dir"),
    "kernel": (".core.compiled", "kernel"),
    "codec_for": (".api.functions", "codec_for"),
    "codec_from_preset": (".api.functions", "codec_from_preset"),
    "codec_from_spec": (".api.functions", "codec_from_spec"),
    "compress": (".api.functions", "compress"),
    "decompress": (".api.reading", "decompress"),
    "modality_for_path": (".api.functions", "modality_for_path"),
    "read_header": (".api.reading", "read_header"),
    "Baseline": (".baselines.baseline", "Baseline"),
    "BaselineResult": (".baselines.baseline", "BaselineResult"),
    "Dataset": (".datasets.dataset", "Dataset"),
    "DatasetItem": (".datasets.dataset", "DatasetItem"),
    "fetch": (".datasets.dataset", "fetch"),
    "resolve": (".datasets.dataset", "resolve"),
    "sha256_of": (".datasets.dataset", 'sha256_of'),
    "PluginHost": (".host.manager", "PluginHost"),
    "get_host": (".host.manager", "get_host"),
    "Codec": (".pipeline.codec", "Codec"),
    "Encoded": (".pipeline.codec", "Encoded"),
    "Decoded": (".pipeline.decode", "Decoded"),
    "decode": (".pipeline.decode", "decode"),
    "DecodeLimits": (".pipeline.limits", "DecodeLimits"),
    "spec_context": (".runs.prepare", "spec_context"),
    "grid_coordinates": (".signal.grid", "grid_coordinates"),
    "NATIVE": (".signal.metrics", "NATIVE"),
    "Metric": (".signal.metrics", "Metric"),
    "mse": (".signal.metrics", "mse"),
    "psnr": (".signal.metrics", "psnr"),
    "merge_patches": (".signal.patches", "merge"),
    "split_patches": (".signal.patches", "split"),
    "FormatChange": (".signal.modality", "FormatChange"),
    "Modality": (".signal.modality", "Modality"),
    "Placement": (".signal.modality", "Placement"),
    "Signal": (".signal.modality", "Signal"),
}

__version__ = "0.1.0"

#: names exposed lazily: they need an optional library (`pip install 'inrz[archive]'`)
_LAZY = {"InrzCodec": "inrz.archive.numcodecs_codec", "InrzZarrCodec": "inrz.archive.zarr_codec",
         "TorchThreads": "inrz.archive.dask"}


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use (and kept); `inrz.InrzZarrCodec`
    imports zarr only when asked for (and says which extra is missing); `inrz.open` is
    `read_header`."""
    if name in _EXPORTS:
        module, attr = _EXPORTS[name]
        value = importlib.import_module(module, __name__)
        value = value if attr is None else getattr(value, attr)
        globals()[name] = value
        return value
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "open":  # `read_header`'s first name (as zarr.open), kept for existing callers; served
        return __getattr__("read_header")  # here so that no global of this module shadows the builtin `open`
    raise AttributeError(f"module 'inrz' has no attribute {name!r}")


__all__ = [
    # plugin API: components, hooks, errors
    "Backend", "BaseNetworkError", "Baseline", "BaselineResult", "CheckpointError", "Component", "ComponentConfig",
    "ContainerError", "Dataset", "DatasetError", "DecodeLimitError", "DatasetItem", "EncodeContext", "EncodeResult",
    "EntropyModel", "InrzError", "FormatChange", "Layout", "Metric", "MissingDependencyError", "Modality", "NATIVE",
    "Placement", "PluginError", "PluginHost", "PrepareContext", "Quantizer", "read_uvarint", "uvarint", "ExactDecoder", "read_words", "rangecoder",
    "Rung", "Signal", "SpecError", "Symbols", "Tensors", "UnknownComponentError", "get_host", "hookimpl", "missing",
    "require",
    # helpers for plugins: datasets, coordinates, patches, metrics, bit packing, files, devices, CPU threads
    "atomic_write", "cache_dir", "kernel", "fetch", "fields", "folder_lock", "grid_coordinates", "layout_size", "merge_patches",
    "mse", "pack_bits", "psnr", "resolve", "resolve_device", "sha256_of", "split_patches", "split_symbols", "threads",
    "unpack_bits",
    # a spec as a backend prepares it (`Backend.prepare`, a backend's own commands)
    "spec_context",
    # the Python API
    "Codec", "DecodeLimits", "Decoded", "Encoded", "codec_for", "codec_from_preset", "codec_from_spec", "compress", "decode",
    "decompress", "modality_for_path", "open", "read_header",
    # archive codecs (lazy: numcodecs / zarr) and the Dask worker plugin (lazy: distributed)
    "InrzCodec", "InrzZarrCodec", "TorchThreads",
]


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
