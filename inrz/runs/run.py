"""`inrz run SPEC`: dataset -> encode -> containers -> decode from the files -> metrics ->
baselines at the same file size -> report. Finished items are recorded one file each (keyed
by content hash, spec hash and what produced them: inrz's version and each backend's
`provenance()`), so a killed run resumes where it stopped and a changed backend re-runs; a finished
item whose baselines' code has changed since gets only its baselines coded again.

A spec with a `sweep` codes every item once per rate point (one record per item and point;
the baselines are matched to each point's file); `compare` pipelines are coded at the first
point. Without a sweep there is one point, the spec's own pipeline.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .. import container
from ..core.device import resolve_device
from ..core.fsutil import atomic_write, folder_lock
from ..host.manager import get_host
from ..pipeline.codec import Codec, Encoded
from ..pipeline.decode import decode
from ..pipeline.limits import DecodeLimits
from ..pipeline.ratecontrol import encode_to_target
from ..signal.modality import Modality, Signal
from ..signal.select import modality_for_path
from . import matched, report
from .spec import Spec, SweepPoint, dataset_items, find_spec, load_spec, point_label, point_sections, spec_hash
from .prepare import prepare_spec


@dataclass
class Pending:
    name: str
    path: Path
    key: str
    modality: Modality
    signal: Signal | None = None  # loaded only when its batch is formed


@dataclass(frozen=True)
class Point:
    """One rate point of a run: its index, label, pipeline sections and rate target."""

    index: int
    label: str
    sections: dict
    target_bpp: float | None

    @classmethod
    def all(cls, spec: Spec) -> list["Point"]:
        points: list[SweepPoint | None] = list(spec.sweep) or [None]
        return [cls(i, point_label(p, i) if p else "spec", point_sections(spec, p),
                    p.target_bpp if p and p.target_bpp is not None else spec.target_bpp)
                for i, p in enumerate(points)]

    def suffix(self, spec: Spec) -> str:
        """Item records and containers of a sweep point carry its index (`kodim01@1`)."""
        return f"@{self.index}" if spec.sweep else ""


def run(spec_path: str | Path, overrides: list[str] = (), host=None, progress: bool = True,
        fresh: bool = False) -> dict[str, Any]:
    """Run a spec end to end and return the results dict written to `results.json`."""
    host = host or get_host()
    spec_path = find_spec(spec_path)
    spec = prepare_spec(load_spec(spec_path, overrides, host), spec_path, host)
    out = Path(spec.output or Path("results") / spec.name)
    items = dataset_items(spec, host, spec_path.parent, "dataset")
    with folder_lock(out, "inrz run"):  # a second run on this folder would redo every item and overwrite the report
        return _run(spec, items, out, host, progress, fresh)


def _run(spec: Spec, items: list, out: Path, host, progress: bool, fresh: bool) -> dict[str, Any]:
    device = resolve_device(spec.device)
    shash, versions = spec_hash(spec), matched.versions(spec, host)
    points = Point.all(spec)
    records = []
    bar = _bar(len(items) * len(points), 0, progress)
    for point in points:
        done, pending = _split_done(items, spec, host, out, shash, versions, fresh, point)
        records.extend(done)
        bar.update(len(done))
        for batch in _batches(pending, spec.batch_size):
            records.extend(_run_batch(batch, spec, host, out, device, bar, point, versions))
    bar.close()
    order = {item.name: i for i, item in enumerate(items)}
    records.sort(key=lambda r: (r.get("point", 0), order.get(r["name"], 0)))
    env = report.environment(spec, shash, device, host)
    return report.write_all(out, spec, records, env, host.create("dataset", spec.dataset).published_curves())


def _split_done(items, spec: Spec, host, out: Path, shash: str, versions: dict, fresh: bool, point: Point):
    """Finished records (their baselines re-matched if a baseline's version changed) and the items to code."""
    records, pending = [], []
    producer = _producer(spec, host, point)
    for item in items:
        key = f"{_file_hash(item.path)}-{shash}-{producer}"
        record = _load_record(_record_path(out, item.name + point.suffix(spec)))
        if record is not None and record.get("key") == key and not fresh:
            records.append(_rematched(record, item, spec, host, out, point, versions)
                           if matched.stale(record, versions) else record)
            continue
        modality = _modality_for(item.path, spec, host)
        pending.append(Pending(item.name, item.path, key, modality))
    return records, pending


def _producer(spec: Spec, host, point: Point) -> str:
    """A hash of what produced a point's records besides the spec: inrz's version and each
    backend's provenance (code version, shipped priors or base networks), so a record made by
    other code or another prior is coded again rather than resumed."""
    backends = [point.sections["backend"]] + ([] if point.index else [c.backend for c in spec.compare])
    data = {"inrz": report.inrz_version(), "backends": [host.create("backend", b).provenance() for b in backends]}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _rematched(record: dict, item, spec: Spec, host, out: Path, point: Point, versions: dict) -> dict:
    """A finished item whose baselines' code changed: match them again to its stored file size."""
    modality = _modality_for(item.path, spec, host)
    record = matched.rematch(record, modality.load(item.path), modality, spec, host, _measure(modality, spec, host),
                             versions)
    atomic_write(_record_path(out, item.name + point.suffix(spec)), json.dumps(record, indent=1))
    return record


def _measure(modality: Modality, spec: Spec, host):
    return lambda original, decoded: _metrics(original, decoded, modality, spec, host)


def _run_batch(batch: list[Pending], spec: Spec, host, out: Path, device, bar, point: Point,
               versions: dict) -> list[dict]:
    modality, measure = batch[0].modality, _measure(batch[0].modality, spec, host)
    codec = _codec(point.sections, modality, spec, host, device)
    rows = _code_batch(codec, batch, out / "containers", spec, host, device, _fit_progress(bar, batch), point)
    others = {} if point.index else {
        c.label: _code_batch(_codec(c.model_dump(), modality, spec, host, device), batch, out / "containers" / c.label,
                             spec, host, device, None, Point(0, c.label, {}, None)) for c in spec.compare}
    records = []
    for i, (p, row) in enumerate(zip(batch, rows)):
        baselines = {label: {**other[i], "inrz": True} for label, other in others.items()}
        baselines.update(matched.rows(p.signal, row["bytes"], modality, spec, host, measure))
        record = {"name": p.name, "key": p.key, "point": point.index, "point_label": point.label,
                  "source": str(p.path), "modality": modality.id,
                  "points": modality.num_points(p.signal), "unit": modality.unit,
                  **_labels(modality, p.signal, spec, host), "inrz": row, "baselines": baselines,
                  "baseline_versions": versions}
        atomic_write(_record_path(out, p.name + point.suffix(spec)), json.dumps(record, indent=1))
        records.append(record)
        bar.update(1)
    return records


def _codec(sections: dict, modality: Modality, spec: Spec, host, device) -> Codec:
    return Codec.from_sections(host, modality, sections, device, spec.seed)


def _encode(codec: Codec, batch: list[Pending], progress, target_bpp: float | None,
            host) -> list[tuple[Encoded, float]]:
    """Each item's encoding and its encoding time in seconds: a batch fitted together shares its
    time out; a rate target is met item by item (each datum gets its own configuration)."""
    if target_bpp is None:  # fitted together: items of one shape (an RGB and a greyscale image do not stack)
        groups: dict[tuple, list[int]] = {}
        for i, p in enumerate(batch):
            groups.setdefault(tuple(np.shape(p.signal.data)), []).append(i)
        out: list = [None] * len(batch)
        for members in groups.values():
            start = time.perf_counter()
            encoded = codec.encode_batch([batch[i].signal for i in members], progress=progress)
            seconds = (time.perf_counter() - start) / len(members)
            for i, enc in zip(members, encoded):
                out[i] = (enc, seconds)
        return out
    out = []
    for p in batch:
        start = time.perf_counter()
        enc, _ = encode_to_target(codec, p.signal, bpp=target_bpp, host=host, progress=progress)
        out.append((enc, time.perf_counter() - start))
    return out


def _code_batch(codec: Codec, batch: list[Pending], folder: Path, spec: Spec, host, device, progress,
                point: Point) -> list[dict]:
    """Encode a batch, write the containers, decode them from the files, measure."""
    rows = []
    for p, (enc, encode_seconds) in zip(batch, _encode(codec, batch, progress, point.target_bpp, host)):
        path = folder / f"{_safe(p.name + point.suffix(spec))}.inrz"
        container.write_file(path, enc.data)
        start = time.perf_counter()
        decoded = decode(container.read_file(path), host, device, limits=DecodeLimits.trusted()).signal  # our own file
        decode_seconds = time.perf_counter() - start
        file_bytes, points = path.stat().st_size, codec.modality.num_points(p.signal)
        rows.append({"bytes": file_bytes, "payload_bytes": enc.payload_bytes, "bpp": 8 * file_bytes / points,
                     "payload_bpp": 8 * enc.payload_bytes / points,
                     **codec.modality.rate_figures(file_bytes, p.signal.meta), "encoding_time": encode_seconds,
                     "decoding_time": decode_seconds, **enc.info,
                     **_metrics(p.signal, decoded, codec.modality, spec, host)})
    return rows


def _metric_ids(modality: Modality, spec: Spec) -> list[str]:
    return spec.metrics or list(modality.default_metrics)


def _metrics(original: Signal, decoded: Signal, modality: Modality, spec: Spec, host) -> dict[str, float]:
    return {mid: host.create("metric", mid).compute(original, decoded, modality) for mid in _metric_ids(modality, spec)}


def _labels(modality: Modality, signal: Signal, spec: Spec, host) -> dict[str, Any]:
    """How reports label this item's figures: the modality's rate column, each metric's unit."""
    key, label = modality.rate_unit()
    metrics = {mid: host.create("metric", mid) for mid in _metric_ids(modality, spec)}
    return {"rate": {"key": key, "label": label}, "metrics": {m: v.unit_for(modality, signal.meta)
                                                              for m, v in metrics.items()},
            "lower_is_better": [m for m, v in metrics.items() if not v.higher_is_better]}


def _modality_for(path: Path, spec: Spec, host) -> Modality:
    return host.create("modality", spec.modality) if spec.modality is not None else modality_for_path(path, host)


def _batches(pending: list[Pending], size: int):
    """Batches of one grid shape, loading items as they are needed: memory holds at most a
    partly filled batch per shape, not the whole dataset."""
    groups: dict[tuple, list[Pending]] = {}
    for p in pending:
        p.signal = p.modality.load(p.path)
        group = groups.setdefault((p.modality.id, p.modality.grid_shape(p.signal)), [])
        group.append(p)
        if len(group) == size:
            yield list(group)
            group.clear()
    yield from (group for group in groups.values() if group)


def _bar(total: int, done: int, enabled: bool):
    return tqdm(total=total, initial=done, unit="item", disable=not enabled, dynamic_ncols=True)


def _fit_progress(bar, batch: list[Pending]):
    names = ",".join(p.name for p in batch)

    def update(step: int, total: int, figures: dict[str, float]) -> None:
        if step % 25 == 0 or step == total:
            bar.set_postfix_str(f"{names} step {step}/{total} psnr {figures.get('psnr', 0):.2f}")
    return update


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _record_path(out: Path, name: str) -> Path:
    return out / "items" / f"{_safe(name)}.json"


def _safe(name: str) -> str:
    return name.replace("/", "__").replace("\\", "__")


def _load_record(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
