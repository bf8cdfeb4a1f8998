"""inrz's archive codec alone on the arrays and bounds of `archive.py`: encode / decode MB/s per
CPU second and per wall second, one thread, and a hash of every cell's bytes, so two versions
of inrz can be compared cell by cell (same hashes: same bytes, same ratios).

    python benchmarks/archive_speed.py OUT.json [--quick] [--repeats 2] [--inrz-config '{"preset": "fast"}']

Each cell is coded `--repeats` times and the fastest encode and decode kept (the machine is
shared). To time another version of inrz, put its tree first on PYTHONPATH.
"""
from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "INRZ_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_name] = "1"  # before numpy and numba load: single-threaded figures

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from archive import fields, inrz_codec, zarr_chunks  # noqa: E402

import inrz  # noqa: E402


def cell(codec, chunks: list[np.ndarray], bound: float, repeats: int) -> dict:
    cpu_enc, cpu_dec, wall_enc, wall_dec = [], [], [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        data, decode = codec(chunks, bound)
        w1, c1 = time.perf_counter(), time.process_time()
        back = decode()
        w2, c2 = time.perf_counter(), time.process_time()
        cpu_enc.append(c1 - c0), cpu_dec.append(c2 - c1), wall_enc.append(w1 - w0), wall_dec.append(w2 - w1)
    raw = sum(c.nbytes for c in chunks)
    within = all(np.abs(b.astype(np.float64) - c.astype(np.float64)).max() <= bound for b, c in zip(back, chunks))
    return {"bytes": sum(len(d) for d in data), "ratio": raw / sum(len(d) for d in data),
            "sha256": hashlib.sha256(b"".join(data)).hexdigest(), "within": within, "MB": raw / 1e6,
            "enc_cpu_MB/s": raw / min(cpu_enc) / 1e6, "dec_cpu_MB/s": raw / min(cpu_dec) / 1e6,
            "enc_wall_MB/s": raw / min(wall_enc) / 1e6, "dec_wall_MB/s": raw / min(wall_dec) / 1e6}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--quick", action="store_true", help="the ERA5 day and the CCSM year only")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--rel-bounds", type=float, nargs="+", default=[1e-4, 1e-3, 1e-2, 1e-1])
    ap.add_argument("--inrz-config", default='{"preset": "fast"}')
    args = ap.parse_args()
    codec = inrz_codec(json.loads(args.inrz_config))
    codec([np.arange(64, dtype=np.float32).reshape(8, 8)], 0.5)[1]()  # compiled kernels loaded before timing
    cells, load = {}, os.getloadavg()
    for name, _, x in fields(args.quick):
        rng = float(np.nanmax(x) - np.nanmin(x))
        for layout, chunks in (("whole", [np.ascontiguousarray(x)]), ("zarr", zarr_chunks(x))):
            for rel in args.rel_bounds:
                c = cells[f"{name}|{layout}|{rel}"] = cell(codec, chunks, rel * rng, args.repeats)
                print(f"{name:18s} {layout:5s} {rel:<7g} ratio {c['ratio']:<9.4g} enc {c['enc_cpu_MB/s']:6.1f} "
                      f"dec {c['dec_cpu_MB/s']:6.1f} MB/s per CPU s (wall {c['enc_wall_MB/s']:.1f} / "
                      f"{c['dec_wall_MB/s']:.1f}) {c['sha256'][:12]}{'' if c['within'] else ' BOUND VIOLATED'}",
                      flush=True)
    mb = sum(c["MB"] for c in cells.values())
    total = {k: mb / sum(c["MB"] / c[k] for c in cells.values()) for k in
             ("enc_cpu_MB/s", "dec_cpu_MB/s", "enc_wall_MB/s", "dec_wall_MB/s")}
    print("all cells: " + ", ".join(f"{k} {v:.1f}" for k, v in total.items()) + f"; load {load} -> {os.getloadavg()}")
    with open(args.out, "w") as f:
        json.dump({"inrz": inrz.__file__, "load": [load, os.getloadavg()], "total": total, "cells": cells}, f, indent=1)


if __name__ == "__main__":
    main()
