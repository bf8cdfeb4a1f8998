"""The latent-grid INR path of the archive codec against its default, on whole climate arrays:
c3 (per chunk: hierarchical latent grids, a context model and a small synthesis network) fitted
to the chunk, plus the exact residual that brings every value within the bound, against the
default's residual alone (prediction + context coding, no network).

    cd benchmarks && python archive_inr.py [--steps 600] [--lmbdas 0.02 0.004] [--rel-bounds 0.1 0.01]

The archive codec fits a network only where its quick estimate says one may pay and keeps it only
where it codes smaller. Here both gates are opened (`inrz.archive.estimate.promising` passes every
chunk, `search` is told no size to beat), so the network's file is measured even where it loses,
and the default's bytes are printed beside it. One thread; CPU seconds of the fit + coding.
"""
from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "INRZ_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

from archive import fields  # noqa: E402

from inrz.archive import estimate  # noqa: E402
from inrz.archive.config import canonical, encode_arrays  # noqa: E402
from inrz.archive.frames import path  # noqa: E402


def network_sizes(x, config: dict) -> list[int | None]:
    """Bytes of the network + residual file of each chunk (None: none fitted), with both gates open."""
    found: list[int | None] = []
    search, promising = estimate.search, estimate.promising

    def open_search(signals, rungs, sizes, kept, deadline):
        out = search(signals, rungs, [1 << 62] * len(sizes), kept, deadline)
        found.extend(None if b is None else len(b[0].data) for b in out)
        return [None] * len(out)

    estimate.search = open_search
    estimate.promising = lambda todo, signals, kept, *_: (todo, signals, kept)
    try:
        encode_arrays([x], canonical(config))
    finally:
        estimate.search, estimate.promising = search, promising
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--lmbdas", type=float, nargs="+", default=[0.02, 0.004])
    ap.add_argument("--rel-bounds", type=float, nargs="+", default=[0.1, 0.01])
    ap.add_argument("--preset", default="fast")
    args = ap.parse_args()
    print(f"c3 preset {args.preset}, {args.steps} steps; one thread; load average {os.getloadavg()}")
    print("data | bound/range | default bytes (path) | c3 lmbda | c3 network + residual bytes | c3 / default | CPU s")
    print("---|---:|---|---:|---:|---:|---:")
    for name, _, x in fields(quick=True):
        span = float(x.max() - x.min())
        for rel in args.rel_bounds:
            default = encode_arrays([x], canonical({"max_abs_error": rel * span}))[0]
            for lmbda in args.lmbdas:
                t = time.process_time()
                sizes = network_sizes(x, {"max_abs_error": rel * span, "backend": {
                    "id": "c3", "preset": args.preset, "steps": args.steps, "lmbda": lmbda}})
                seconds = time.process_time() - t
                size = sizes[0] if sizes and sizes[0] is not None else None
                ratio = f"{size / len(default):.2f}" if size else "-"
                print(f"{name} {x.shape} | {rel:g} | {len(default)} ({path(default)}) | {lmbda:g} | {size} | {ratio} | "
                      f"{seconds:.1f}", flush=True)


if __name__ == "__main__":
    main()
