"""Which Python binding to run SZ3 and ZFP through: imagecodecs against pysz / zfpy, on every
climate array at 4 absolute error bounds (1e-4 .. 1e-1 of the array's value range), one thread.

    OMP_NUM_THREADS=1 python benchmarks/array_bindings.py

Prints, per binding, the compression ratio, the max error over the bound, and encode / decode
MB/s of the original array per CPU second (process time, best of 3: the machine is shared,
wall clock would measure the neighbours). Chose the baselines' bindings from this table.
"""
from __future__ import annotations

import importlib.metadata as md
import os
import time

import numpy as np
from _common import table

RELATIVE = (1e-4, 1e-3, 1e-2, 1e-1)


def candidates() -> dict:
    import imagecodecs as ic
    import zfpy
    from pysz import sz, szConfig, szErrorBoundMode

    def pysz_encode(x, bound):
        cfg = szConfig(x.shape)
        cfg.errorBoundMode, cfg.absErrorBound = szErrorBoundMode.ABS, bound
        return sz.compress(x, cfg)[0].tobytes()

    def pysz_decode(data, x):
        out = sz.decompress(np.frombuffer(data, np.uint8), x.dtype, x.shape)
        return out[0] if isinstance(out, tuple) else out

    return {
        "sz3 imagecodecs": (lambda x, b: ic.sz3_encode(x, "abs", abs=b),
                            lambda d, x: ic.sz3_decode(d, x.shape, x.dtype)),
        "sz3 pysz": (pysz_encode, pysz_decode),
        "zfp imagecodecs": (lambda x, b: ic.zfp_encode(x, b, mode="accuracy", numthreads=1),
                            lambda d, x: ic.zfp_decode(d, numthreads=1)),
        "zfp zfpy": (lambda x, b: zfpy.compress_numpy(x, tolerance=b), lambda d, x: zfpy.decompress_numpy(d)),
    }


def cpu_best(fn, repeats=3):
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.process_time()
        out = fn()
        best = min(best, time.process_time() - start)
    return out, max(best, 1e-6)


def main() -> None:
    import archive  # the benchmark's arrays

    versions = {p: md.version(p) for p in ("imagecodecs", "pysz", "zfpy")}
    print(f"bindings {versions}; load average {os.getloadavg()}")
    rows = []
    for name, _, x in archive.fields(quick=False):
        span = float(np.ptp(x))
        for rel in RELATIVE:
            row = {"data": name, "bound/range": f"{rel:g}"}
            for label, (enc, dec) in candidates().items():
                data, te = cpu_best(lambda: bytes(enc(x, rel * span)))
                back, td = cpu_best(lambda: dec(data, x))
                err = float(np.abs(back.astype(np.float64) - x).max()) / (rel * span)
                row.update({f"{label} ratio": x.nbytes / len(data), f"{label} err/bound": err,
                            f"{label} enc": x.nbytes / te / 1e6, f"{label} dec": x.nbytes / td / 1e6})
            rows.append(row)
            print(rows[-1], flush=True)
    print(table(rows, list(rows[0])))


if __name__ == "__main__":
    main()
