"""Archive scale: a >= 1 GB array written from xarray to zarr through the inrz codec on a
`dask.distributed` LocalCluster of processes (2 workers, 1 thread each, a memory limit each),
by region writes, then read back in a fresh Python process and checked against the bound.

    python benchmarks/archive_scale.py [--members 224] [--rel-bound 1e-3] [--memory-limit 1GiB]
                                       [--store /tmp/inrz-scale.zarr] [--out results/archive]

The array is a stack of the real ERA5 UK t2m cube (744 x 33 x 49 float32, ../shared/data/climate)
along a new `member` axis, member m rolled by 7 m hours so no two members are alike: 224 members
are 1.08 GB. It is a throughput and memory test; ratios quoted elsewhere come only from the real,
unstacked arrays (benchmarks/archive.py). The store is written the way a large archive is:

1. the metadata alone (`to_zarr(compute=False)`) from a lazy dask template;
2. one task per region of `--members-per-task` members: the worker builds its slab (numpy, from
   the cube it loaded once) and writes it with `to_zarr(region=...)`; zarr's own thread pool is
   set to one thread, so each worker codes on one core; the client holds no data.

Printed: wall time and MB/s of the write (cluster start excluded), CPU seconds per worker, peak
RSS per worker (`ru_maxrss`), its memory limit, bytes stored and ratio; then the read-back in a
fresh process (`open_zarr`, slab by slab): wall, MB/s, its peak RSS and the largest error against
the bound. Also, in this process, the codec on one thread and on two (`--threads-check`): wall
time of the same chunks through a ThreadPoolExecutor, whose ratio is what the GIL-free kernels buy.
Speeds are measured on whatever else the machine runs: the load average is printed beside them.
"""
from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "INRZ_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

CUBE = Path(__file__).resolve().parents[2] / "shared" / "data" / "climate" / "era5_t2m_2019-03_uk.npz"
VAR, DIMS = "t2m", ("member", "time", "lat", "lon")
SHIFT = 7  # hours member m is rolled by, per member


def cube(hours: int) -> np.ndarray:
    if not CUBE.exists():
        raise SystemExit(f"benchmark data not found: {CUBE} (see ../shared/data/README.md)")
    return np.load(CUBE)["t2m"][:hours]


def members(base: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Members start..stop-1 of the stack: (stop - start, time, lat, lon)."""
    return np.stack([np.roll(base, SHIFT * m, axis=0) for m in range(start, stop)])


# --- on the workers ------------------------------------------------------------------------------

_BASE: dict[int, np.ndarray] = {}


def write_region(store: str, start: int, stop: int, hours: int) -> dict:
    """Build members start..stop-1 and write them into their region of the store."""
    import xarray as xr
    import zarr

    zarr.config.set({"threading.max_workers": 1})  # one coding thread per worker: the cluster's count is the truth
    base = _BASE.setdefault(hours, cube(hours))
    cpu = time.process_time()
    slab = xr.Dataset({VAR: (DIMS, members(base, start, stop))})
    slab.to_zarr(store, region={"member": slice(start, stop)}, mode="r+", consolidated=False)
    return {"members": stop - start, "cpu_s": time.process_time() - cpu, "pid": os.getpid()}


def worker_stats() -> dict:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"peak_rss_MB": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime, "pid": os.getpid(),
            "rss_MB": _rss_mb()}


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def warm_up(hours: int) -> float:
    """Imports, the cube and the compiled kernels loaded before the clock starts; the RSS then."""
    import xarray  # noqa: F401
    import zarr  # noqa: F401

    from inrz.archive.config import canonical, decode_array, encode_array

    base = _BASE.setdefault(hours, cube(hours))
    data = encode_array(np.ascontiguousarray(base[:4]), canonical({"max_abs_error": 0.5, "preset": "fast"}))
    decode_array(data, base[:4].size, base.dtype)
    return _rss_mb()


# --- in the client -------------------------------------------------------------------------------

def create(store: str, n: int, shape: tuple[int, ...], chunks: tuple[int, ...], codec) -> None:
    """The store's metadata only, from a lazy template (no data computed or written)."""
    import dask.array as da
    import xarray as xr

    template = da.zeros((n, *shape), dtype=np.float32, chunks=(1, *shape))
    xr.Dataset({VAR: (DIMS, template)}).to_zarr(store, compute=False, mode="w", zarr_format=3, consolidated=False,
                                                encoding={
        VAR: {"serializer": codec, "compressors": None, "chunks": chunks}})


def write(args, store: str, bound: float, shape: tuple[int, ...]) -> dict:
    from distributed import Client, LocalCluster, wait

    from inrz import InrzZarrCodec, TorchThreads

    chunks = (1, args.chunk_hours, *shape[1:])
    create(store, args.members, shape, chunks, InrzZarrCodec(max_abs_error=bound, preset=args.preset))
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           memory_limit=args.memory_limit, env={"OMP_NUM_THREADS": "1", "INRZ_NUM_THREADS": "1"})
    with cluster, Client(cluster) as client:
        client.register_plugin(TorchThreads(1))
        ready = client.run(warm_up, args.hours)
        limits = {w: info["memory_limit"] for w, info in client.scheduler_info()["workers"].items()}
        regions = [(s, min(s + args.members_per_task, args.members))
                   for s in range(0, args.members, args.members_per_task)]
        start = time.perf_counter()
        futures = [client.submit(write_region, store, a, b, args.hours, pure=False) for a, b in regions]
        wait(futures)
        done = client.gather(futures)
        wall = time.perf_counter() - start
        stats = client.run(worker_stats)
    per_worker = {}
    for address, s in stats.items():
        mine = [d for d in done if d["pid"] == s["pid"]]
        per_worker[address] = {**s, "memory_limit_MB": limits[address] / 2**20, "rss_ready_MB": ready[address],
                               "regions": len(mine),
                               "members": sum(d["members"] for d in mine),
                               "task_cpu_s": sum(d["cpu_s"] for d in mine)}
    return {"wall_s": wall, "workers": per_worker, "regions": len(regions), "chunks": list(chunks)}


READER = """
import json, os, resource, sys, time
import numpy as np, xarray as xr
sys.path.insert(0, os.path.dirname(sys.argv[1]))
from archive_scale import cube, members
store, hours, per, bound = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
assert "inrz" not in sys.modules  # the store names its codec; zarr finds it through the entry point
ds = xr.open_zarr(store)
n, base, worst, raw = ds.sizes["member"], cube(hours), 0.0, 0
start, cpu = time.perf_counter(), time.process_time()
for a in range(0, n, per):
    back = ds["t2m"].isel(member=slice(a, min(a + per, n))).values
    want = members(base, a, min(a + per, n))
    worst = max(worst, float(np.abs(back.astype(np.float64) - want).max()))
    raw += back.nbytes
wall = time.perf_counter() - start
print(json.dumps({"wall_s": wall, "MB": raw / 1e6, "max_abs_error": worst, "bound": bound, "within": worst <= bound,
                  "peak_rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "cpu_s": time.process_time() - cpu}))
"""


def read_back(args, store: str, bound: float) -> dict:
    done = subprocess.run([sys.executable, "-c", READER, __file__, store, str(args.hours),
                           str(args.members_per_task), repr(bound)], capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    if done.returncode:
        raise SystemExit(f"read-back failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def threads_check(base: np.ndarray, bound: float, preset: str, hours: int) -> dict:
    """Wall time of the same chunks coded on one thread and on two, in this process."""
    from inrz.archive.config import canonical, decode_array, encode_array

    config = canonical({"max_abs_error": bound, "preset": preset})
    chunks = [np.ascontiguousarray(c) for c in members(base, 0, 6).reshape(-1, hours, *base.shape[1:])]
    parts = [np.ascontiguousarray(c[i:i + 124]) for c in chunks for i in range(0, hours, 124)]
    encode_array(parts[0], config)
    out = {}
    for n in (1, 2, 1, 2):  # interleaved: the machine's load moves
        with ThreadPoolExecutor(n) as pool:
            start, cpu = time.perf_counter(), time.process_time()
            data = list(pool.map(lambda c: encode_array(c, config), parts))
            enc = time.perf_counter() - start
            start = time.perf_counter()
            list(pool.map(lambda d_c: decode_array(d_c[0], d_c[1].size, d_c[1].dtype), zip(data, parts)))
            dec = time.perf_counter() - start
            cpu = time.process_time() - cpu
        out.setdefault(n, []).append({"encode_wall_s": enc, "decode_wall_s": dec, "cpu_s": cpu})
    raw = sum(p.nbytes for p in parts)
    best = {n: {k: min(r[k] for r in runs) for k in runs[0]} for n, runs in out.items()}
    return {"MB": raw / 1e6, "chunks": len(parts), "runs": out,
            "encode_speedup_2_threads": best[1]["encode_wall_s"] / best[2]["encode_wall_s"],
            "decode_speedup_2_threads": best[1]["decode_wall_s"] / best[2]["decode_wall_s"]}


def report(result: dict) -> str:
    w, r = result["write"], result["read"]
    lines = [f"command: {result['command']}", f"machine: {result['machine']}; load average {result['load_start']} at "
             f"the start, {result['load_end']} at the end (speeds measured under that load)",
             f"array: {result['shape']} float32 = {result['raw_MB']:.0f} MB (stack of the ERA5 UK t2m cube along "
             f"'member'); zarr chunks {w['chunks']}; codec {result['codec']}",
             f"write: {len(w['workers'])} worker processes x 1 thread, {w['regions']} region writes: "
             f"{w['wall_s']:.1f} s wall, {result['raw_MB'] / w['wall_s']:.1f} MB/s; stored "
             f"{result['stored_MB']:.1f} MB (ratio {result['raw_MB'] / result['stored_MB']:.1f})"]
    for address, s in sorted(w["workers"].items()):
        lines.append(f"  worker {address}: {s['members']} members in {s['regions']} regions, "
                     f"task CPU {s['task_cpu_s']:.1f} s ({s['members'] * result['member_MB'] / max(s['task_cpu_s'], 1e-9):.1f}"
                     f" MB per CPU s), peak RSS {s['peak_rss_MB']:.0f} MB (memory limit {s['memory_limit_MB']:.0f} MB; "
                     f"{s['rss_ready_MB']:.0f} MB after imports, before the first region)")
    lines.append(f"read back in a fresh process: {r['wall_s']:.1f} s wall, {r['MB'] / r['wall_s']:.1f} MB/s "
                 f"({r['MB'] / r['cpu_s']:.1f} MB per CPU s), peak RSS {r['peak_rss_MB']:.0f} MB; max abs error "
                 f"{r['max_abs_error']:.6g} K, bound {r['bound']:.6g} K: {'within' if r['within'] else 'BEYOND'}")
    if t := result.get("threads"):
        one, two = ({k: min(x[k] for x in t["runs"][n]) for k in t["runs"][n][0]} for n in (1, 2))
        lines.append(f"threads ({t['chunks']} chunks, {t['MB']:.1f} MB, this process): encode {one['encode_wall_s']:.2f}"
                     f" s on 1 thread, {two['encode_wall_s']:.2f} s on 2 ({t['encode_speedup_2_threads']:.2f}x); decode "
                     f"{one['decode_wall_s']:.2f} s vs {two['decode_wall_s']:.2f} s ({t['decode_speedup_2_threads']:.2f}x)")
    return "\n".join(lines)


def parse(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=224, help="members stacked (224: 1.08 GB)")
    ap.add_argument("--hours", type=int, default=744, help="hours of the cube per member (744: all of it)")
    ap.add_argument("--chunk-hours", type=int, default=124, help="zarr chunk length along time (one member each)")
    ap.add_argument("--members-per-task", type=int, default=4, help="members per region write")
    ap.add_argument("--rel-bound", type=float, default=1e-3, help="max abs error as a fraction of the cube's range")
    ap.add_argument("--preset", default="fast", choices=["fast", "best"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="1GiB", help="per worker (dask's memory_limit)")
    ap.add_argument("--store", default="/tmp/inrz-archive-scale.zarr")
    ap.add_argument("--threads-check", action="store_true", help="also time the codec on 1 and 2 threads")
    ap.add_argument("--keep", action="store_true", help="keep the store afterwards")
    ap.add_argument("--out", default=None, help="write scale.json and scale.txt into this folder")
    return ap.parse_args(argv)


def main(argv=None) -> dict:
    args = parse(argv)
    base = cube(args.hours)
    bound = args.rel_bound * float(np.ptp(base))
    shape = base.shape
    result = {"command": " ".join(["python", *sys.argv]) if argv is None else f"archive_scale.main({argv})",
              "machine": f"{os.cpu_count()} CPUs", "load_start": [round(x, 2) for x in os.getloadavg()],
              "shape": [args.members, *shape], "raw_MB": args.members * base.nbytes / 1e6,
              "member_MB": base.nbytes / 1e6, "bound": bound,
              "codec": {"max_abs_error": bound, "preset": args.preset}}
    shutil.rmtree(args.store, ignore_errors=True)
    result["write"] = write(args, args.store, bound, shape)
    result["stored_MB"] = sum(f.stat().st_size for f in Path(args.store, VAR).rglob("*") if f.is_file()) / 1e6
    result["read"] = read_back(args, args.store, bound)
    if args.threads_check:
        result["threads"] = threads_check(base, bound, args.preset, args.hours)
    result["load_end"] = [round(x, 2) for x in os.getloadavg()]
    text = report(result)
    print(text, flush=True)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "scale.json").write_text(json.dumps(result, indent=1) + "\n")
        (out / "scale.txt").write_text(text + "\n")
    if not args.keep:
        shutil.rmtree(args.store, ignore_errors=True)
    if not result["read"]["within"]:
        raise SystemExit(1)
    return result


if __name__ == "__main__":
    main()
