"""Error-bounded archiving of climate fields: inrz against SPERR, SZ3 and ZFP (and zstd of
quantized values) at equal max abs error, RMSE-vs-ratio curves with ratios at equal RMSE, and
encode / decode MB/s, every codec on the same arrays in the same run, one thread each.

    python benchmarks/archive.py [--quick] [--rel-bounds 1e-4 1e-3 1e-2 1e-1] [--network]
                                 [--out results/archive] [--plot rd.png]

Arrays: every field of ../shared/data/climate (ERA5 UK t2m, CCSM TS, ERA-Interim z/u/v, a 1x1
degree t2m; the GRIB file holds the same values as the ERA5 NetCDF and is skipped), each as one
whole-variable chunk and in zarr-typical chunks (one 2-D field per chunk). Bounds are fractions
of each array's value range (max - min), stated in the variable's unit too. Ratios count every
byte each codec writes (inrz: the whole chunk frame or container); `inrz/best`: inrz's ratio over
the best of SPERR, SZ3 and ZFP at that bound. Every decoded value of every codec is checked
against the bound; a value beyond it is listed and the program exits with status 1.

Threads: OMP_NUM_THREADS, INRZ_NUM_THREADS (inrz's own count) and the BLAS counts are set to 1
before anything loads, and SPERR, ZFP and SZ3 are called single-threaded. MB/s are of the
original array per CPU second of this process (`time.process_time`): on a shared machine wall
clock measures the neighbours, CPU time much less so (the load average is printed beside).

inrz is the archive codec (`inrz.archive`) with `preset: fast` (--inrz-config sets another), with --best-effort
also with `effort: best` ("inrz best": the residual's predictor contest of `inrz.coding.contest`), and, with --network, a COIN
network search (`bpp_search`) that competes with the residual alone. --quick: the ERA5 day and
the CCSM year only, the same 4 bounds (a few minutes). --out DIR writes results.json (every
figure, library versions, machine) and report.md (the printed tables).
"""
from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "INRZ_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"  # before numpy and torch load: single-threaded figures

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import zstandard  # noqa: E402
from _common import data_path, table  # noqa: E402
from archive_report import environment, equal_rmse, plot  # noqa: E402

from inrz.archive.config import canonical, decode_array, encode_arrays  # noqa: E402
from inrz.archive.frames import path  # noqa: E402
from inrz_era5.bounded import CODECS as BOUNDED  # noqa: E402

BASELINES = ("sperr", "sz3", "zfp")  # the error-bounded codecs inrz is measured against
OUT: list[str] = []


def say(text: str = "") -> None:
    print(text, flush=True)
    OUT.append(text)


# --- codecs: each codes a list of chunks and returns (bytes per chunk, decoder of them all) ------

def inrz_codec(config: dict):
    def run(chunks, bound):
        data = encode_arrays(chunks, canonical({**config, "max_abs_error": bound}))
        # the reader told each chunk's size and dtype, as zarr tells it (a chunk past 1,024 values
        # per byte is refused otherwise: inrz.archive.limits)
        return data, lambda: [decode_array(d, x.size, x.dtype) for d, x in zip(data, chunks)]
    return run


def bounded_codec(name: str):
    codec = BOUNDED[name]

    def run(chunks, bound):
        data = [codec.encode(x, bound) for x in chunks]
        return data, lambda: [codec.decode(d, x.shape, x.dtype) for d, x in zip(data, chunks)]
    return run


def zstd_q(chunks, bound):
    """The classical answer: round to a 2*bound grid from the chunk's minimum, zstd-19 the integers.
    The step leaves half a float step of the dtype for the rounding back to it."""
    out = []
    for x in chunks:
        lo = float(x.min())
        step = 2 * (bound - float(np.spacing(np.abs(x).max().astype(x.dtype))))
        q = np.rint((x.astype(np.float64) - lo) / step).astype(np.int64)
        width = np.int32 if np.abs(q).max() < 2**31 else np.int64
        out.append((lo, step, zstandard.ZstdCompressor(level=19).compress(q.astype(width).tobytes()), width))

    def decode():
        return [(np.frombuffer(zstandard.ZstdDecompressor().decompress(d), w).astype(np.float64) * step + lo)
                .astype(x.dtype).reshape(x.shape) for (lo, step, d, w), x in zip(out, chunks)]
    return [d + bytes(16) for _, _, d, _ in out], decode  # + the minimum and the step


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
    return [np.ascontiguousarray(c) for c in x.reshape(-1, *x.shape[-2:])]


# --- measuring -----------------------------------------------------------------------------------

def measure(run, chunks: list[np.ndarray], bound: float) -> dict:
    cpu, wall = time.process_time(), time.perf_counter()
    data, decode = run(chunks, bound)
    enc_cpu, enc_wall = time.process_time() - cpu, time.perf_counter() - wall
    cpu, wall = time.process_time(), time.perf_counter()
    back = decode()
    dec_cpu, dec_wall = time.process_time() - cpu, time.perf_counter() - wall
    raw = sum(c.nbytes for c in chunks)
    err = np.concatenate([(b.astype(np.float64) - c.astype(np.float64)).ravel() for b, c in zip(back, chunks)])
    return {"bytes": sum(len(d) for d in data), "ratio": raw / sum(len(d) for d in data),
            "maxerr": float(np.abs(err).max()), "rmse": float(np.sqrt(np.mean(err ** 2))),
            "within": bool(np.abs(err).max() <= bound), "enc_MB/s": raw / max(enc_cpu, 1e-9) / 1e6,
            "dec_MB/s": raw / max(dec_cpu, 1e-9) / 1e6, "enc_wall_s": enc_wall, "dec_wall_s": dec_wall,
            "containers": sum(bytes(d[:4]) == b"INRZ" for d in data),  # inrz: chunks a network was kept for
            "paths": paths(data)}


def paths(data: list[bytes]) -> str:
    """inrz's winning path per chunk, counted (`inrz.archive.frames.path`); other codecs: ''."""
    counts: dict[str, int] = {}
    for d in data:
        try:
            name = path(bytes(d))
        except Exception:  # noqa: BLE001 - another codec's bytes
            return ""
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(f"{k} {v}" if len(data) > 1 else k for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


def ratio_rows(items, rel_bounds, codecs) -> tuple[list[dict], list[dict]]:
    """Every codec on every array, both layouts, every bound: (ratio rows, full records)."""
    rows, records = [], []
    inrz = [k for k in codecs if k.startswith("inrz")]
    for name, unit, x in items:
        span = float(np.ptp(x))
        for layout, chunks in (("whole", [x]), ("zarr", zarr_chunks(x))):
            for rel in rel_bounds:
                bound = rel * span
                results = {label: measure(run, chunks, bound) for label, run in codecs.items()}
                row = {"data": f"{name} {'x'.join(map(str, x.shape))}", "chunks": f"{layout} ({len(chunks)})",
                       "bound/range": f"{rel:g}", "bound": f"{bound:.3g} {unit}"}
                row.update({label: res["ratio"] for label, res in results.items()})
                best = max(results[b]["ratio"] for b in BASELINES)
                row.update({f"{k}/best": results[k]["ratio"] / best for k in inrz})
                row.update({f"{k} nets": f"{results[k]['containers']}/{len(chunks)}" for k in inrz if k == "inrz+coin"})
                row.update({f"{k} path": results[k]["paths"] for k in inrz if k != "inrz+coin"})
                row["best peer"] = max(BASELINES, key=lambda b: results[b]["ratio"]).upper()
                row["all within"] = all(r["within"] for r in results.values())
                rows.append(row)
                records.append({"data": name, "shape": list(x.shape), "dtype": str(x.dtype), "unit": unit,
                                "range": span, "layout": layout, "chunks": len(chunks), "bound_rel": rel,
                                "bound": bound, "codecs": results})
                print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    return rows, records


def throughput_rows(records: list[dict], codecs) -> list[dict]:
    return [{"data": r["data"], "chunks": r["layout"], "bound/range": f"{r['bound_rel']:g}",
             **{f"{k} {d}": r["codecs"][k][f"{d}_MB/s"] for k in codecs for d in ("enc", "dec")}} for r in records]


def rd_rows(items, sweep, codecs) -> list[dict]:
    """RMSE against ratio over a sweep of bounds (the COIN++ paper's view), whole-variable chunks."""
    rows = []
    for name, unit, x in items:
        span = float(np.ptp(x))
        for label, run in codecs.items():
            for rel in sweep:
                res = measure(run, [x], rel * span)
                rows.append({"data": name, "codec": label, "bound/range": rel, "ratio": res["ratio"],
                             "bits/value": 8 * x.itemsize / res["ratio"], "rmse": res["rmse"], "unit": unit,
                             "maxerr": res["maxerr"], "within": res["within"]})
    return rows


def violations(records: list[dict], rd: list[dict]) -> list[str]:
    out = [f"{r['data']} {r['layout']} bound {r['bound']:.4g}: {k} max error {v['maxerr']:.6g}"
           for r in records for k, v in r["codecs"].items() if not v["within"]]
    return out + [f"{r['data']} whole bound/range {r['bound/range']:g}: {r['codec']} max error {r['maxerr']:.6g}"
                  for r in rd if not r["within"]]


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="two arrays (the ERA5 day, the CCSM year), the same bounds: a minute")
    ap.add_argument("--rel-bounds", type=float, nargs="+", default=[1e-4, 1e-3, 1e-2, 1e-1],
                    help="max abs error bounds as fractions of each array's value range")
    ap.add_argument("--network", action="store_true", help="also a COIN network search (slow: minutes per array)")
    ap.add_argument("--steps", type=int, default=300, help="COIN fit steps with --network")
    ap.add_argument("--inrz-config", default='{"preset": "fast"}',
                    help="inrz's archive codec config as JSON (e.g. '{}': the default, which may fit networks)")
    ap.add_argument("--best-effort", action="store_true",
                    help="also inrz with effort best (no network: the residual's predictor contest, inrz.coding.contest)")
    ap.add_argument("--out", default=None, help="write results.json and report.md into this folder")
    ap.add_argument("--plot", default=None, help="write the RMSE-vs-ratio curves to this PNG")
    return ap.parse_args()


def build_codecs(args) -> dict:
    codecs = {"inrz": inrz_codec(json.loads(args.inrz_config))}
    if args.best_effort:
        codecs["inrz best"] = inrz_codec({**json.loads(args.inrz_config), "effort": "best"})
    if args.network:
        codecs["inrz+coin"] = inrz_codec({"backend": {"id": "coin", "bpp": 0.05, "steps": args.steps, "lr": 1e-3},
                                          "bpp_search": [0.02, 0.05, 0.1]})
    for name in BASELINES:
        if reason := BOUNDED[name].available():
            raise SystemExit(f"{name}: {reason}")
        codecs[name] = bounded_codec(name)
    codecs["zstd_q"] = zstd_q
    return codecs


def main() -> None:
    args = parse()
    codecs = build_codecs(args)
    env = environment(args, sys.argv)
    say(f"command: {env['command']}\n{env['machine']}; load average at the start {env['load_start']}\n"
        "threads: OMP_NUM_THREADS=INRZ_NUM_THREADS=1, SPERR/ZFP numthreads=1, SZ3 without OpenMP\n"
        "libraries: " + "; ".join(f"{k}: {v}" for k, v in env["libraries"].items()))
    for run in codecs.values():  # load plugins, libraries and compiled kernels before anything is timed
        run([np.arange(64, dtype=np.float32).reshape(8, 8)], 0.5)[1]()
    items = fields(args.quick)
    rows, records = ratio_rows(items, args.rel_bounds, codecs)
    say("\n1. Compression ratio (original bytes / coded bytes) at equal max abs error; inrz/best: over the best "
        "of SPERR, SZ3, ZFP at that bound; all within: every decoded value of every codec within the bound")
    inrz = [k for k in codecs if k.startswith("inrz")]
    say(table(rows, ["data", "chunks", "bound/range", "bound", *codecs, *[f"{k}/best" for k in inrz], "best peer",
                     *[f"{k} nets" for k in inrz if k == "inrz+coin"], *[f"{k} path" for k in inrz if k != "inrz+coin"],
                     "all within"]))
    say("inrz path: the path each chunk's own bytes record (inrz.archive.frames.path): residual/<predictor> is "
        "inrz's own prediction + compiled context coding (-tuned: level-wise steps; multidim: the multi-dimensional "
        "interpolation); container: a fitted network + residual; zstd/raw/constant: plain codings. No maintained "
        "compressor is wrapped: every inrz cell is won by inrz's own code.")
    through = throughput_rows(records, codecs)
    say("\n2. Throughput: MB/s of the original array per CPU second, one thread (encode, decode)")
    say(table(through, list(through[0])))
    sweep = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1]
    rd = rd_rows([i for i in items if i[0] in ("era5_uk_t2m cube", "era5_uk_t2m day", "ccsm_ts all",
                                                "ccsm_ts year")], sweep, codecs)
    say("\n3. RMSE against ratio over a sweep of bounds (whole-variable chunks)")
    say(table(rd, ["data", "codec", "bound/range", "ratio", "bits/value", "rmse", "unit", "maxerr"]))
    eq = equal_rmse(rd, "inrz", BASELINES)
    say("\n4. Ratio at equal RMSE: each baseline's ratio at inrz's RMSE, interpolated (log-log) on its curve "
        "of section 3 (blank: inrz's RMSE is outside that curve)")
    say(table([{k: "" if v is None else v for k, v in r.items()} for r in eq], list(eq[0])) if eq else "(none)")
    bad = violations(records, rd)
    say("\nbound check: " + ("every decoded value of every codec is within its bound" if not bad else
                             f"{len(bad)} VIOLATIONS:\n" + "\n".join(bad)))
    env["load_end"] = os.getloadavg()
    say(f"load average at the end {env['load_end']}")
    if args.out:  # first: a plot inside --out needs the folder
        write(Path(args.out), env, records, rd, eq, bad)
    if args.plot:
        Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
        plot(rd, args.plot)
    sys.exit(1 if bad else 0)


def write(folder: Path, env: dict, records, rd, eq, bad) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    doc = {**env, "ratio_at_equal_max_error": records, "rd_sweep": rd, "ratio_at_equal_rmse": eq,
           "bound_violations": bad}
    (folder / "results.json").write_text(json.dumps(doc, indent=1, default=float) + "\n")
    (folder / "report.md").write_text("# Error-bounded archiving: inrz, SPERR, SZ3, ZFP on the climate grids\n\n"
                                      "Printed by the command on its first line; every figure is in results.json.\n\n"
                                      "```\n" + "\n".join(OUT) + "\n```\n")
    say(f"wrote {folder / 'results.json'} and {folder / 'report.md'}")


if __name__ == "__main__":
    main()
