"""Preparing a spec's pipelines before anything is encoded (`inrz run`; a backend's own
commands such as COIN++'s `inrz train`): each backend of the spec completes its sections
through `Backend.prepare`, given a `PrepareContext` over the spec (COIN++ replaces
`model: auto` by the hash of a base network it trains from the spec's `train:` section).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..backends.base import PrepareContext
from ..host.manager import get_host
from .spec import Spec, dataset_items, find_spec, load_spec


def context_for(spec: Spec, spec_path: Path, host, log: Callable[[str], None] = print) -> PrepareContext:
    """The context a backend prepares `spec` (read from `spec_path`) in."""
    return PrepareContext(spec, Path(spec_path), host, lambda *field: dataset_items(spec, host, Path(spec_path).parent,
                                                                                    *field), log)


def spec_context(path: str | Path, overrides: list[str] = (), host=None,
                 log: Callable[[str], None] = print) -> PrepareContext:
    """Read and check the spec at `path` (with `--set` overrides) and give its context: what a
    backend's command (`inrz train SPEC`) works from."""
    host = host or get_host()
    return context_for(load_spec(path, overrides, host), find_spec(path), host, log)


def prepare_spec(spec: Spec, spec_path: Path, host, log: Callable[[str], None] = print) -> Spec:
    """A copy of `spec` whose pipelines (its own and each `compare:` one) their backends have
    prepared (`Backend.prepare`); what several of them ask for is made once (`ctx.once`)."""
    ctx = context_for(spec, spec_path, host, log)

    def prepared(pipeline):
        sections = {name: dict(getattr(pipeline, name)) for name in ("backend", "quantizer", "entropy")}
        backend = host.registry.get("backend", sections["backend"]["id"])
        return pipeline.model_copy(update=backend.prepare(sections, ctx))

    return prepared(spec).model_copy(update={"compare": [prepared(c) for c in spec.compare]})
