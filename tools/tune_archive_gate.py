"""Tune `inrz.coding.contest.MULTIDIM_BELOW`: below how many ranking bits per value the archive's
default (effort "fast") codes a chunk with multi-dimensional interpolation instead of the first
ranked 1-D interpolation. Measured on the arrays of tools/archive_tuning_set (none of them an
evaluation grid of benchmarks/archive.py), whole and one 2-D field per chunk, at 1e-4 .. 1e-1 of
each array's range, one thread.

    python tools/tune_archive_gate.py --dir FOLDER          # the files of PROVENANCE.json, checked
    python tools/tune_archive_gate.py --git GITDIR          # or read from a clone / mirror of the source repo

For each threshold it prints the geometric mean over cells of the coded size against the
threshold 0 (never multidim: the default before the gate), per bound and over all, and the
encoding CPU seconds against the same: a threshold is worth its time where the size falls and
the time rises little.
"""
from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "INRZ_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_name] = "1"  # before numpy and numba load: single-threaded figures

import argparse  # noqa: E402
import hashlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from inrz.archive.config import canonical, encode_arrays  # noqa: E402
from inrz.coding import contest  # noqa: E402

MANIFEST = Path(__file__).with_name("archive_tuning_set") / "PROVENANCE.json"
BOUNDS = (1e-4, 1e-3, 1e-2, 1e-1)


def arrays(folder: Path | None, git: Path | None) -> list[tuple[str, np.ndarray]]:
    """(name, float array) per manifest entry, each file's SHA-256 checked."""
    import xarray as xr

    out = []
    for entry in json.loads(MANIFEST.read_text())["files"]:
        if folder is not None:
            raw = (folder / entry["path"]).read_bytes()
        else:
            commit, path = entry["source"].split("@", 1)[1].split(":", 1)
            raw = subprocess.run(["git", "--git-dir", str(git), "show", f"{commit}:{path}"], check=True,
                                 capture_output=True).stdout
        if hashlib.sha256(raw).hexdigest() != entry["sha256"]:
            raise SystemExit(f"{entry['path']}: SHA-256 differs from the manifest")
        with xr.open_dataset(io.BytesIO(raw), decode_times=False) as ds:
            a = np.squeeze(ds[entry["variable"]].values)
        out.append((f"{entry['path']}:{entry['variable']}", np.ascontiguousarray(a)))
    return out


def cell(chunks: list[np.ndarray], bound: float) -> tuple[int, float]:
    """(bytes, encoding CPU seconds) of the default codec, fastest of two."""
    config = canonical({"max_abs_error": bound})
    best, size = math.inf, 0
    for _ in range(2):
        t = time.process_time()
        size = sum(map(len, encode_arrays(chunks, config)))
        best = min(best, time.process_time() - t)
    return size, best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--dir", type=Path, help="a folder holding the manifest's files")
    src.add_argument("--git", type=Path, help="the git directory of a clone of the source repository")
    ap.add_argument("--thresholds", type=float, nargs="+", default=[0, 0.5, 1, 2, 3, 4, 8, math.inf])
    args = ap.parse_args()
    data = arrays(args.dir, args.git)
    cell([np.arange(4096, dtype=np.float32).reshape(64, 64)], 0.5)  # compiled kernels loaded before timing
    results: dict[float, dict[tuple, tuple[int, float]]] = {}
    for threshold in args.thresholds:
        contest.MULTIDIM_BELOW = threshold
        results[threshold] = {}
        for name, x in data:
            finite = x[np.isfinite(x)]
            span = float(finite.max() - finite.min())
            layouts = {"whole": [x]}
            if x.ndim >= 3:
                layouts["zarr"] = [np.ascontiguousarray(c) for c in x.reshape(-1, *x.shape[-2:])]
            for layout, chunks in layouts.items():
                for rel in BOUNDS:
                    results[threshold][name, layout, rel] = cell(chunks, rel * span)
    base = results[args.thresholds[0]]
    print(f"{len(data)} arrays, {len(base)} cells; size and encoding CPU time against threshold "
          f"{args.thresholds[0]} (geometric means over cells)")
    print("threshold | " + " | ".join(f"size {b:g}" for b in BOUNDS) + " | size all | time all | cells smaller / larger")
    for threshold, cells in results.items():
        def gm(keys, i):
            return math.exp(sum(math.log(cells[k][i] / base[k][i]) for k in keys) / len(keys))
        per = [gm([k for k in cells if k[2] == b], 0) for b in BOUNDS]
        smaller = sum(cells[k][0] < base[k][0] for k in cells)
        larger = sum(cells[k][0] > base[k][0] for k in cells)
        print(f"{threshold:9g} | " + " | ".join(f"{v:8.3f}" for v in per) +
              f" | {gm(list(cells), 0):8.3f} | {gm(list(cells), 1):8.3f} | {smaller} / {larger}")


if __name__ == "__main__":
    main()
