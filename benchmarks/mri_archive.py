"""MRI volumes as a radiology archive stores them: lossless ratios (the NIfTI's gzip, zstd,
JPEG 2000 and HTJ2K and JPEG-LS per slice, SPERR and inrz below half a unit) and ratios at equal
max abs error in stored units (inrz's archive codec, 3-D SPERR, near-lossless JPEG-LS per
slice), with encode / decode MB/s, on every volume of ../shared/data/mri, one thread each.

    python benchmarks/mri_archive.py [--errors 1 2 4 8] [--out results/mri_archive]

Ratios: stored voxel bytes / coded bytes, every coded byte counted (the NIfTI file on disk
also holds a 352-byte header). MB/s: of the stored voxels per CPU second of this process (the
machine is shared; wall clock would measure the neighbours). Every decoded voxel is checked
against the bound; a miss is printed and the exit status is 1.
"""
from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "INRZ_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from _common import DATA, table  # noqa: E402

from inrz import PluginHost, Signal  # noqa: E402
from inrz.archive.config import canonical, decode_array, encode_arrays  # noqa: E402

LOSSLESS = [("nifti_gzip (level 1, as nibabel)", {"id": "nifti_gzip", "level": 1}),
            ("nifti_gzip (level 9)", {"id": "nifti_gzip", "level": 9}),
            ("zstd_voxels (19)", {"id": "zstd_voxels"}),
            ("jpeg2000_lossless_slices", {"id": "jpeg2000_lossless_slices"}),
            ("htj2k_slices lossless", {"id": "htj2k_slices", "lossless": True})]
BOUNDED = [("sperr_volume", "sperr_volume"), ("jpegls_slices", "jpegls_slices")]


def timed(fn):
    start = time.process_time()
    out = fn()
    return out, max(time.process_time() - start, 1e-9)


def row(name: str, codec: str, signal: Signal, encode, decode, bound: float) -> dict:
    data, te = timed(encode)
    back, td = timed(lambda: decode(data))
    x = signal.data
    err = float(np.abs(np.asarray(back, np.float64) - x).max())
    return {"volume": name, "codec": codec, "max error": bound, "ratio": x.nbytes / len(data), "bytes": len(data),
            "reached": err, "within": err <= bound, "enc MB/s": x.nbytes / te / 1e6, "dec MB/s": x.nbytes / td / 1e6}


def inrz(bound: float):
    config = canonical({"preset": "fast", "max_abs_error": bound})
    return (lambda x: lambda: encode_arrays([x], config)[0]), (lambda data: decode_array(data))


def volume_rows(host, name: str, signal: Signal, errors: list[float]) -> list[dict]:
    rows = []
    for label, config in LOSSLESS:
        b = host.create("baseline", config)
        rows.append(row(name, label, signal, lambda: b.encode(signal, b.quality_range[1]),
                        lambda d: b.decode(d, signal).data, 0.0))
    for bound in [0.4, *errors]:  # 0.4: below half a unit, integers come back exactly
        enc, dec = inrz(bound)
        rows.append(row(name, "inrz (archive, fast)", signal, enc(signal.data), dec, bound))
        for label, id in BOUNDED:
            b = host.create("baseline", id)
            rows.append(row(name, label, signal, lambda: b.at_error(signal, bound).data,
                            lambda d: b.decode(d, signal).data, bound))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--errors", type=float, nargs="+", default=[1, 2, 4, 8], help="max abs errors, stored units")
    ap.add_argument("--out", default=None, help="write report.md into this folder")
    args = ap.parse_args()
    host = PluginHost()
    modality = host.create("modality", "mri")
    lines = [f"command: python benchmarks/mri_archive.py {' '.join(sys.argv[1:])}",
             f"load average {os.getloadavg()}, {os.cpu_count()} cores; threads 1",
             "libraries: " + "; ".join(f"{i}: {host.create('baseline', i).library()}" for i in
                                       ("sperr_volume", "jpegls_slices", "htj2k_slices", "jpeg2000_lossless_slices",
                                        "nifti_gzip", "zstd_voxels") if hasattr(host.create("baseline", i), "library"))]
    print("\n".join(lines), flush=True)
    rows, disk = [], []
    for path in sorted((DATA / "mri").glob("*.nii*")):
        signal = modality.load(path)
        name = f"{path.name.split('.')[0][:28]} {'x'.join(map(str, signal.data.shape))} {signal.data.dtype}"
        disk.append({"volume": name, "file bytes": path.stat().st_size,
                     "ratio of the file": signal.data.nbytes / path.stat().st_size})
        rows += volume_rows(host, name, signal, args.errors)
        print(table(rows[-(len(LOSSLESS) + 3 * (1 + len(args.errors))):], list(rows[0])), flush=True)
    lines += ["", "1. The files as shipped (NIfTI, gzipped by whoever made them)", table(disk, list(disk[0])),
              "", "2. Lossless (max error 0) and at equal max abs error (stored units); ratio = voxel bytes / coded",
              table(rows, list(rows[0]))]
    bad = [r for r in rows if not r["within"]]
    misses = "; ".join(f"{r['volume']} {r['codec']}" for r in bad)
    lines.append("\nbound check: " + (f"{len(bad)} VIOLATIONS: {misses}" if bad else
                                      "every decoded voxel of every codec is within its bound"))
    lines.append(f"load average at the end {os.getloadavg()}")
    print("\n".join(lines[3:]))
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "report.md").write_text("# MRI volumes: lossless and equal-max-error ratios\n\n```\n"
                                                  + "\n".join(lines) + "\n```\n")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
