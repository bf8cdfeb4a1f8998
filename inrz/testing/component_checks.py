"""Conformance checks for any component's config, and for quantizers, entropy models and metrics.

Each check raises `AssertionError` saying what is wrong and what to change.
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..coding.entropy import EntropyModel
from ..coding.quantize import Quantizer
from ..core.component import Component
from ..core.errors import ContainerError
from ..signal.metrics import Metric
from ..signal.modality import Modality, Signal
from ._expect import expect, json_round_trip, name

#: placeholder values for required settings, by annotation, so every registered class can be built
PLACEHOLDERS: dict[Any, Any] = {str: "example", int: 1, float: 1.0, bool: False}


def example_component(cls: type[Component], settings: dict[str, Any] | None = None) -> Component:
    """An instance of `cls` from `settings`, with placeholders for any other required field."""
    values = dict(settings or {})
    for field, info in cls.Config.model_fields.items():
        if info.is_required() and field not in values:
            expect(info.annotation in PLACEHOLDERS, f"{cls.kind} {cls.id!r}", f"required setting {field!r} has "
                   f"type {info.annotation}, which has no placeholder", "pass `settings` with a value for it")
            values[field] = PLACEHOLDERS[info.annotation]
    return cls(values)


def check_config_round_trip(component: Component, host=None) -> dict[str, Any]:
    """`from_config(get_config())` is equal (also after JSON, as in a container header), with the
    same hash and repr; with `host`, the registry rebuilds it from the config alone."""
    who = name(component)
    config = component.get_config()
    expect(isinstance(config, dict) and next(iter(config), None) == "id" and config["id"] == component.id, who,
           f"get_config() returned {config!r}", "return {'id': cls.id, **settings} (Component.get_config does)")
    config = json_round_trip(config, who, "get_config()")
    rebuilt = type(component).from_config(config)
    expect(type(rebuilt) is type(component) and rebuilt == component, who,
           f"from_config(get_config()) gave {rebuilt!r}, not equal to {component!r}",
           "keep every setting in Config (a pydantic model) and build from it in from_config")
    expect(hash(rebuilt) == hash(component) and repr(rebuilt) == repr(component), who,
           "equal configs give different hash or repr", "derive __hash__ and __repr__ from the config (the default)")
    expect(rebuilt.get_config() == config, who, "get_config() is not stable across a rebuild",
           "do not put derived or random values in the config")
    if host is not None:
        made = host.create(component.kind, config)
        expect(type(made) is type(component) and made == component, who,
               f"the host builds {type(made).__name__}, not {type(component).__name__}, from this config",
               "register the class (and only it) under this id")
    return config


def default_tensors(seed: int = 0) -> dict[str, np.ndarray]:
    """SIREN-like float32 tensors, plus a constant one (a degenerate range)."""
    rng = np.random.default_rng(seed)
    return {"l0.W": (rng.standard_normal((16, 2)) * 0.7).astype(np.float32),
            "l0.b": rng.uniform(-1, 1, 16).astype(np.float32),
            "l1.W": (rng.standard_normal((3, 16)) * 0.1).astype(np.float32),
            "const": np.full(4, 0.25, np.float32)}


def check_quantizer(quantizer: Quantizer, tensors: dict[str, np.ndarray] | None = None, *,
                    max_error: float | None = None) -> dict[str, np.ndarray]:
    """Symbols are integers in [0, 2**bits) with the tensors' names and shapes; quantizing and
    dequantizing are deterministic; dequantized tensors are finite float32 (within `max_error`)."""
    who = name(quantizer)
    tensors = tensors if tensors is not None else default_tensors()
    symbols, side = quantizer.quantize(tensors)
    expect(isinstance(side, bytes), who, f"side information is {type(side).__name__}", "return bytes (b'' if none)")
    expect(list(symbols) == list(tensors), who, f"symbols are named {list(symbols)}, tensors {list(tensors)}",
           "return one symbol array per tensor, same names, same order")
    for key, sym in symbols.items():
        expect(isinstance(sym, np.ndarray) and sym.dtype.kind in "iu" and sym.shape == tensors[key].shape, who,
               f"symbols {key!r} are {getattr(sym, 'dtype', type(sym))} {getattr(sym, 'shape', '')}",
               "return integer arrays shaped like their tensor")
        expect(sym.size == 0 or (sym.min() >= 0 and sym.max() < 1 << quantizer.bits), who,
               f"symbols {key!r} leave [0, 2**{quantizer.bits})", "clip symbols to the declared bit width")
    again, side_again = quantizer.quantize(tensors)
    expect(side_again == side and all(np.array_equal(again[k], symbols[k]) for k in symbols), who,
           "quantizing twice gives different symbols", "quantize deterministically (no random state)")
    values = quantizer.dequantize(symbols, side)
    expect(list(values) == list(tensors), who, "dequantize renamed or reordered tensors", "keep names and order")
    for key, value in values.items():
        expect(value.dtype == np.float32 and value.shape == tensors[key].shape and bool(np.isfinite(value).all()), who,
               f"dequantized {key!r} is {value.dtype} {value.shape}", "return finite float32 arrays shaped like the input")
        err = float(np.max(np.abs(value - tensors[key]), initial=0.0))
        expect(max_error is None or err <= max_error, who, f"{key!r} is off by {err:.3g} > {max_error}",
               "quantize more finely (or raise max_error if this bound is too strict)")
    return values


def check_entropy_model(model: EntropyModel, bits: int, symbols: dict[str, np.ndarray] | None = None) -> bytes:
    """Decode gives back exactly the symbols (given the layout and bits), encoding is
    deterministic, and damaged data raises `ContainerError` or decodes, never anything else."""
    who = name(model)
    rng = np.random.default_rng(bits)
    symbols = symbols if symbols is not None else {
        "l0.W": rng.integers(0, 1 << bits, (8, 3)), "l0.b": rng.integers(0, 1 << bits, 8),
        "l1.W": rng.integers(0, 1 << bits, (2, 8))}
    layout = {k: tuple(v.shape) for k, v in symbols.items()}
    data = model.encode(symbols, bits)
    expect(isinstance(data, bytes), who, f"encode returned {type(data).__name__}", "return bytes")
    expect(model.encode(symbols, bits) == data, who, "encoding twice gives different bytes",
           "encode deterministically (fixed levels, no timestamps or random state)")
    back = model.decode(data, layout, bits)
    expect(list(back) == list(layout), who, f"decode returned {list(back)}, layout is {list(layout)}",
           "return one array per layout entry, in layout order")
    for key, value in symbols.items():
        expect(np.array_equal(np.asarray(back[key]), value) and np.asarray(back[key]).shape == value.shape, who,
               f"{bits}-bit symbols {key!r} do not survive encode/decode", "decode exactly what encode wrote")
    for damaged in (data[:-1], data + b"\0"):
        try:
            model.decode(damaged, layout, bits)
        except ContainerError:
            pass
        except Exception as exc:
            raise AssertionError(f"{who}: decoding damaged data raised {type(exc).__name__}: {exc}\n  fix: raise "
                                 "inrz.ContainerError on data that does not fit the layout (other exceptions mean "
                                 "a bug, not a damaged file)") from exc
    return data


def check_metric(metric: Metric, signal: Signal, modality: Modality, noise: float = 0.05) -> tuple[float, float]:
    """A float for identical signals, and a strictly worse one for a noisy decode of the signal."""
    who = name(metric)
    features, norm = modality.to_features(signal)
    rng = np.random.default_rng(0)
    noisy = np.clip(features + rng.normal(0, noise, features.shape).astype(np.float32), 0, 1)
    meta = json.loads(json.dumps(signal.meta))
    worse = modality.from_features(noisy, meta, norm)
    same = metric.compute(signal, Signal(signal.data.copy(), dict(signal.meta)), modality)
    bad = metric.compute(signal, worse, modality)
    expect(isinstance(same, float) and isinstance(bad, float) and not np.isnan(bad), who,
           f"compute returned {same!r} and {bad!r}", "return a Python float (float(...)), never NaN")
    better = same > bad if metric.higher_is_better else same < bad
    expect(better, who, f"identical signals score {same!r}, a noisy decode {bad!r}",
           "compare original and decoded in native units; set higher_is_better to match the metric")
    return same, bad
