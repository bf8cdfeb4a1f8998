"""Classical codecs matched to the size of inrz's file, item by item: a record's `baselines`.

A record remembers the `version` of each baseline that filled it. When a baseline changes how
it codes or searches its quality (WebP's fractional quality, say), a resumed run re-matches the
classical codecs to the stored inrz file sizes: the figures follow the code without refitting
a single network.
"""
from __future__ import annotations

from typing import Callable

from ..core.errors import InrzError
from ..signal.modality import Modality, Signal

Measure = Callable[[Signal, Signal], dict]


def versions(spec, host) -> dict[str, int]:
    """The version of every baseline the spec names (`Baseline.version`)."""
    return {(b := host.create("baseline", config)).id: b.version for config in spec.baselines}


def stale(record: dict, current: dict[str, int]) -> bool:
    """True when a baseline's `current` version differs from the one that matched this record
    (records from before versions were kept count as version 1)."""
    seen = record.get("baseline_versions", {})
    return any(seen.get(id, 1) != version for id, version in current.items())


def rematch(record: dict, signal: Signal, modality: Modality, spec, host, measure: Measure,
            current: dict[str, int]) -> dict:
    """The record with its classical baselines coded again at its inrz file's size (the inrz
    pipelines compared beside it are kept)."""
    kept = {label: row for label, row in record["baselines"].items() if row.get("inrz")}
    fresh = rows(signal, record["inrz"]["bytes"], modality, spec, host, measure)
    return {**record, "baselines": {**kept, **fresh}, "baseline_versions": current}


def rows(signal: Signal, target_bytes: int, modality: Modality, spec, host, measure: Measure) -> dict[str, dict]:
    """Each baseline at the largest file not above `target_bytes`; one that cannot get that small
    is flagged `above_target`, one that cannot code this item says why."""
    out = {}
    points = modality.num_points(signal)
    for config in spec.baselines:
        baseline = host.create("baseline", config)
        if modality.id not in baseline.modalities:
            continue
        reason = baseline.available()
        if reason:
            out[baseline.id] = {"unavailable": reason}
            continue
        try:
            res = baseline.at_size(signal, target_bytes)
        except InrzError as exc:  # e.g. a codec that cannot take this item's channels or depth
            out[baseline.id] = {"unavailable": str(exc)}
            continue
        out[baseline.id] = {"bytes": len(res.data), "bpp": 8 * len(res.data) / points, "quality": res.quality,
                            **modality.rate_figures(len(res.data), signal.meta), **measure(signal, res.decoded)}
        if len(res.data) > target_bytes:  # even its lowest setting is larger: the report says so
            out[baseline.id]["above_target"] = True
    return out
