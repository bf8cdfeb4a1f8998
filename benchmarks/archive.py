"""Error-bounded archiving of climate fields: ratio at a maximum absolute error, RMSE-vs-ratio
curves and throughput for inrz against SZ3, ZFP and zstd on quantized values, every codec on
the same arrays in the same run.

    python benchmarks/archive.py [--quick] [--bounds 0.5 0.1 0.02] [--network] [--plot rd.png]

Arrays: every field of ../shared/data/climate (ERA5 UK t2m, CCSM TS, ERA-Interim z/u/v, a 1x1
degree t2m; the GRIB file holds the same values as the ERA5 NetCDF and is skipped), each as
one whole-variable chunk and in zarr-typical chunks (one time step, or one level of one step,
per chunk). Bounds are in the variable's unit (K, m/s, m^2/s^2). Ratios count every byte
each codec writes (inrz: the whole chunk frame or container); `vs_best` is inrz's ratio over
the best other codec's at that bound. Throughput is MB/s of the original array, wall clock,
one thread; on a shared machine it is noisy (the load average is printed): re-run on an idle
machine for figures to quote.

inrz is the archive codec (`inrz.archive`): `preset: fast` (no network: interpolation or
Lorenzo prediction + context-model range coding of the residual, sized for throughput) and,
with --network, a COIN network search (`bpp_search`) that competes with the residual alone.
--quick: the ERA5 day and the CCSM year only, two bounds, a short RD sweep (a few minutes).
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import zstandard
from _common import data_path, table

from inrz.archive.config import canonical, decode_array, encode_arrays

BASELINES = ("sz3", "zfp", "zstd_q")


# --- codecs: each codes a list of chunks and returns (bytes per chunk, decoded chunks) ---------

def inrz_codec(config: dict):
    def run(chunks, bound):
        data = encode_arrays(chunks, canonical({**config, "max_abs_error": bound}))
        return data, lambda: [decode_array(d) for d in data]
    return run


def sz3(chunks, bound):
    from pysz import sz, szConfig, szErrorBoundMode

    out = []
    for x in chunks:
        cfg = szConfig(x.shape)
        cfg.errorBoundMode, cfg.absErrorBound = szErrorBoundMode.ABS, bound
        out.append(sz.compress(np.ascontiguousarray(x), cfg)[0])

    def decode():
        return [_first(sz.decompress(d, x.dtype, x.shape)) for d, x in zip(out, chunks)]
    return [d.tobytes() for d in out], decode


def zfp(chunks, bound):
    import zfpy

    out = [zfpy.compress_numpy(np.ascontiguousarray(x), tolerance=bound) for x in chunks]
    return out, lambda: [zfpy.decompress_numpy(d) for d in out]


def zstd_q(chunks, bound):
    """The classical answer: round to a 2*bound grid from the chunk's minimum, zstd-19 the integers."""
    out = []
    for x in chunks:
        lo = float(x.min())
        q = np.rint((x.astype(np.float64) - lo) / (2 * bound)).astype(np.int64)
        width = np.int32 if np.abs(q).max() < 2**31 else np.int64
        out.append((lo, q.dtype, zstandard.ZstdCompressor(level=19).compress(q.astype(width).tobytes()), width))

    def decode():
        return [(np.frombuffer(zstandard.ZstdDecompressor().decompress(d), w).astype(np.float64) * (2 * bound)
                 + lo).astype(x.dtype).reshape(x.shape) for (lo, _, d, w), x in zip(out, chunks)]
    return [d + bytes(16) for _, _, d, _ in out], decode  # + the minimum and the step


def _first(value):
    return value[0] if isinstance(value, tuple) else value


# --- data ----------------------------------------------------------------------------------------

def fields(quick: bool) -> list[tuple[str, str, np.ndarray]]:
    """(name, unit, array) for every field of the climate folder."""
    import xarray as xr

    t2m = np.load(data_path("climate", "era5_t2m_2019-03_uk.npz"))["t2m"]
    with xr.open_dataset(data_path("climate", "ccsm_b003_TS_monthly_global_64x128.nc"), decode_times=False) as ds:
        ccsm = ds["TS"].values
    if quick:
        return [("era5_uk_t2m day", "K", t2m[:24]), ("ccsm_ts year", "K", ccsm[:12])]
    out = [("era5_uk_t2m cube", "K", t2m), ("era5_uk_t2m day", "K", t2m[:24]), ("ccsm_ts all", "K", ccsm),
           ("ccsm_ts year", "K", ccsm[:12])]
    with xr.open_dataset(data_path("climate", "eraint_uvz_monthly_global.nc"), decode_times=False) as ds:
        out += [(f"eraint_{v}", ds[v].attrs.get("units", "?"), ds[v].values) for v in ("z", "u", "v")]
    with xr.open_dataset(data_path("climate", "t2m_global_1x1.nc"), decode_times=False) as ds:
        out.append(("t2m_global_1x1", "K", ds["T"].values))
    return out


def zarr_chunks(x: np.ndarray) -> list[np.ndarray]:
    """One 2-D field per chunk (a time step, or a level of a step): the common zarr layout."""
    return [np.ascontiguousarray(c) for c in x.reshape(-1, 1, *x.shape[-2:])]


# --- measuring -----------------------------------------------------------------------------------

def measure(run, chunks: list[np.ndarray], bound: float) -> dict:
    start = time.perf_counter()
    data, decode = run(chunks, bound)
    enc = time.perf_counter() - start
    start = time.perf_counter()
    back = decode()
    dec = time.perf_counter() - start
    raw = sum(c.nbytes for c in chunks)
    err = np.concatenate([(b.astype(np.float64) - c.astype(np.float64)).ravel() for b, c in zip(back, chunks)])
    return {"ratio": raw / sum(len(d) for d in data), "maxerr": float(np.abs(err).max()),
            "rmse": float(np.sqrt(np.mean(err ** 2))), "enc_MB/s": raw / enc / 1e6, "dec_MB/s": raw / dec / 1e6,
            "containers": sum(bytes(d[:4]) == b"INRZ" for d in data)}  # inrz: chunks a network was kept for


INRZ: dict = {}


def ratio_rows(items, bounds, inrz) -> list[dict]:
    rows = []
    for name, unit, x in items:
        for layout, chunks in (("whole", [x]), ("zarr", zarr_chunks(x))):
            for bound in bounds:
                row = {"data": f"{name} {'x'.join(map(str, x.shape))}", "chunks": layout, "bound": f"{bound:g} {unit}"}
                results = {label: measure(run, chunks, bound) for label, run in {**inrz, **CODECS}.items()}
                for label, res in results.items():
                    row[f"{label}"] = res["ratio"]
                    row[f"{label}_err"] = res["maxerr"]
                best = max(results[b]["ratio"] for b in BASELINES)
                for label in inrz:
                    row[f"{label}/best"] = results[label]["ratio"] / best
                    if label != "inrz":
                        row[f"{label}_nets"] = f"{results[label]['containers']}/{len(chunks)}"
                rows.append(row)
                THROUGHPUT.append({"data": row["data"], "chunks": layout, "bound": row["bound"],
                                   **{f"{k} {d}": v[f"{d}_MB/s"] for k, v in results.items() for d in ("enc", "dec")}})
                print(row, flush=True)
    return rows


THROUGHPUT: list[dict] = []
CODECS = {"sz3": sz3, "zfp": zfp, "zstd_q": zstd_q}


def rd_rows(items, sweep, inrz) -> list[dict]:
    """RMSE against ratio over a sweep of bounds (the COIN++ paper's view), whole-variable chunks."""
    rows = []
    for name, unit, x in items:
        for label, run in {**inrz, **CODECS}.items():
            for bound in sweep:
                res = measure(run, [x], bound)
                rows.append({"data": name, "codec": label, "bound": bound, "ratio": res["ratio"],
                             "bits/value": 8 * x.itemsize / res["ratio"], f"rmse_{unit}": res["rmse"],
                             "maxerr": res["maxerr"]})
    return rows


def plot(rows: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted({r["data"] for r in rows})
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4), squeeze=False)
    for ax, name in zip(axes[0], names):
        for codec in sorted({r["codec"] for r in rows}):
            pts = sorted((r["ratio"], next(v for k, v in r.items() if k.startswith("rmse")))
                         for r in rows if r["data"] == name and r["codec"] == codec)
            ax.plot(*zip(*pts), marker="o", label=codec)
        ax.set(xscale="log", yscale="log", xlabel="compression ratio", ylabel="RMSE", title=name)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two arrays, two bounds, a short sweep: a few minutes")
    ap.add_argument("--bounds", type=float, nargs="+", default=None)
    ap.add_argument("--network", action="store_true", help="also a COIN network search (slow: minutes per array)")
    ap.add_argument("--steps", type=int, default=300, help="COIN fit steps with --network")
    ap.add_argument("--plot", default=None, help="write the RMSE-vs-ratio curves to this PNG")
    args = ap.parse_args()
    bounds = args.bounds or ([0.5, 0.1] if args.quick else [0.5, 0.1, 0.02])
    sweep = [1.0, 0.3, 0.1, 0.03] if args.quick else [2.0, 1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01]
    INRZ["inrz"] = inrz_codec({"preset": "fast"})
    if args.network:
        INRZ["inrz+coin"] = inrz_codec({"backend": {"id": "coin", "bpp": 0.05, "steps": args.steps, "lr": 1e-3},
                                        "bpp_search": [0.02, 0.05, 0.1]})
    print(f"load average {os.getloadavg()}, {os.cpu_count()} cores: a shared machine makes throughput noisy\n")
    for run in INRZ.values():  # load the plugins and build the codec before anything is timed
        run([np.zeros((2, 2), np.float32)], bounds[0])
    items = fields(args.quick)
    rows = ratio_rows(items, bounds, INRZ)
    print("\n1. Compression ratio (original bytes / coded bytes) at equal max abs error; *_err: the max abs error "
          "reached; inrz/best: over the best of SZ3, ZFP, zstd_q at that bound")
    cols = ["data", "chunks", "bound", *INRZ, *BASELINES, *[f"{k}/best" for k in INRZ],
            *[f"{k}_nets" for k in INRZ if k != "inrz"], *[f"{k}_err" for k in (*INRZ, *BASELINES)]]
    print(table(rows, cols))
    print("\n2. Throughput, MB/s of the original array (wall clock, one thread)")
    print(table(THROUGHPUT, list(THROUGHPUT[0])))
    rd = rd_rows([i for i in items if i[0] in ("era5_uk_t2m cube", "ccsm_ts all", "era5_uk_t2m day",
                                                "ccsm_ts year")], sweep, INRZ)
    print("\n3. RMSE against ratio over a sweep of bounds (whole-variable chunks)")
    print(table(rd, list(rd[0])))
    if args.plot:
        plot(rd, args.plot)
        print(f"\nwrote {args.plot}")
    print(f"\nload average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
