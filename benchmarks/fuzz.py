"""Fuzz the decoder: N mutated containers of every backend x modality and archive chunk frames
of every kind, outcome counts, hangs, memory.

Seeds come from the registry (`inrz.testing.fuzz.seed_containers`: every backend's
`example_codec` on every modality's `example_signal`, each quantizer/entropy model that
applies, error-bounded too), so a new plugin is fuzzed without editing this file, plus the
archive's chunk frames (`inrz.testing.fuzz_frames.seed_frames`: constant, 1x1, raw, zstd and
residual frames, mutated with range-coded words appended and dropped among others).

Input i is `mutate(seed, Random(f"{seed}-{i}"))`, a frame seed for every third input and a
container otherwise (`_input`): runs are reproducible and any input can be rebuilt from its
index. A container goes through `inrz.open`'s header read and `inrz.decode` (every 10th
through the numcodecs codec instead); a frame through the numcodecs codec, every other one
as zarr or an `out=` buffer reads it (the chunk's size and dtype known). Workers run with
their address space capped at `--memory` MiB (a MemoryError counts as untyped); an input
that takes longer than `--timeout` seconds is a hang: the worker is killed and restarted.
Untyped errors and hangs are written to `--out` as reproducers. The last line also counts
decodes that succeeded after range-coded words were dropped (`f_drop`): there must be none.
The baseline row is the clean seeds' decode time, measured in the same run.

    python benchmarks/fuzz.py --n 100000 [--workers 2] [--timeout 5] [--memory 2048] [--seed 0] [--out fuzz-out]
"""
from __future__ import annotations

import argparse
import collections
import os
import random
import resource
import selectors
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import median, table


def worker(seeds_dir: str, seed: int, out: str, memory_mib: int) -> None:
    """Read 'start count' lines on stdin, print 'index outcome seconds mutator size' per input."""
    from inrz import PluginHost, threads
    from inrz.archive import frames
    from inrz.testing import fuzz, fuzz_frames

    threads.configure(1)
    host = PluginHost()
    seeds = {p.stem: p.read_bytes() for p in sorted(Path(seeds_dir).glob("*.seed"))}
    names = sorted(seeds)
    for name in names:
        fuzz.outcome(seeds[name], host)  # warm: lazy imports happen before the cap
    cap = memory_mib << 20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    print("ready", flush=True)
    for line in sys.stdin:
        start, count = map(int, line.split())
        for i in range(start, start + count):
            source, name, data = _input(seeds, names, seed, i)
            chunk = fuzz_frames.chunk_of(source) if frames.is_frame(source) and i // 3 % 2 else None
            t = time.perf_counter()
            outcome = fuzz.outcome(data, host, reader="numcodecs" if i % 10 == 0 else "api", chunk=chunk)
            seconds = time.perf_counter() - t
            if outcome.startswith("untyped") or seconds > 1.0:
                Path(out, f"{outcome.replace(':', '-')}-{i}.inrz").write_bytes(data)
            print(i, outcome.replace(" ", "_"), f"{seconds:.4f}", name, len(data), flush=True)
        print("rss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)


def _input(seeds, names, seed, i):
    """(seed, mutator, mutated bytes) of input i: every third input is a chunk frame's."""
    from inrz.archive import frames
    from inrz.testing import fuzz

    pick = [n for n in names if frames.is_frame(seeds[n]) == (i % 3 == 2)] or names
    source = seeds[pick[i // 3 % len(pick)]]
    mutator, data = fuzz.mutate(source, seeds, random.Random(f"{seed}-{i}"))
    return source, mutator, data


class Pool:
    """Worker processes fed index ranges; a worker silent past the timeout is killed and its
    current input counted as a hang (the rest of its range goes to a fresh worker)."""

    def __init__(self, args, seeds_dir: str):
        self.args, self.seeds_dir, self.sel = args, seeds_dir, selectors.DefaultSelector()
        self.results: dict[int, tuple] = {}
        self.hangs: list[int] = []
        self.rss_kb = 0

    def start(self, start: int, count: int) -> None:
        cmd = [sys.executable, __file__, "--worker", self.seeds_dir, "--seed", str(self.args.seed), "--out",
               self.args.out, "--memory", str(self.args.memory)]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        proc.stdin.write(f"{start} {count}\n")
        proc.stdin.close()
        self.sel.register(proc.stdout, selectors.EVENT_READ, {"proc": proc, "next": start, "end": start + count,
                                                               "last": time.monotonic(), "ready": False})

    def run(self) -> None:
        while self.sel.get_map():
            for key, _ in self.sel.select(timeout=0.5):
                self._read(key)
            now = time.monotonic()
            for key in list(self.sel.get_map().values()):
                limit = self.args.timeout + 5 if key.data["ready"] else 300  # importing torch on a busy machine
                if now - key.data["last"] > limit:  # the timeout plus noise on a shared machine; slower ones count too
                    self._hang(key)

    def _read(self, key) -> None:
        line = key.fileobj.readline()
        state = key.data
        if not line:  # the worker ended (or died: count what it was on as a crash)
            self.sel.unregister(key.fileobj)
            state["proc"].wait()
            if state["next"] < state["end"]:
                self.results[state["next"]] = ("untyped:worker died", 0.0, "?", 0)
                self._restart(state, state["next"] + 1)
            return
        parts = line.split()
        state["last"] = time.monotonic()
        if parts[0] == "ready":
            state["ready"] = True
            return
        if parts[0] == "rss":
            self.rss_kb = max(self.rss_kb, int(parts[1]))
            return
        index = int(parts[0])
        self.results[index] = (parts[1], float(parts[2]), parts[3], int(parts[4]))
        state["next"] = index + 1

    def _hang(self, key) -> None:
        state = key.data
        self.sel.unregister(key.fileobj)
        state["proc"].kill()  # our own worker, by its handle
        state["proc"].wait()
        self.hangs.append(state["next"])
        self.results[state["next"]] = ("hang", self.args.timeout, "?", 0)
        self._restart(state, state["next"] + 1)

    def _restart(self, state, start: int) -> None:
        if start < state["end"]:
            self.start(start, state["end"] - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds after which an input counts as a hang")
    ap.add_argument("--memory", type=int, default=2048, help="address-space cap of a worker, MiB")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="fuzz-out", help="folder for reproducers (untyped errors, slow inputs)")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    if args.worker:
        return worker(args.worker, args.seed, args.out, args.memory)
    with tempfile.TemporaryDirectory(prefix="inrz-fuzz-") as tmp:  # seeds, and COIN++'s tiny base networks
        os.environ.setdefault("INRZ_MODELS_DIR", str(Path(tmp, "models")))  # the workers inherit it
        seeds_dir, clean = _seeds(Path(tmp, "seeds"))
        start = time.perf_counter()
        pool = Pool(args, seeds_dir)
        share = -(-args.n // args.workers)
        for w in range(args.workers):
            if w * share < args.n:
                pool.start(w * share, min(share, args.n - w * share))
        pool.run()
        _report(args, pool, clean, time.perf_counter() - start)


def _seeds(folder: Path) -> tuple[str, list[float]]:
    """Seed containers written to a folder (the workers read them), and their clean decode times."""
    from inrz import PluginHost, threads
    from inrz.testing import fuzz, fuzz_frames

    threads.configure(1)
    host = PluginHost()
    seeds = {**fuzz.seed_containers(host), **fuzz_frames.seed_frames()}
    folder.mkdir(parents=True)
    times = []
    for name, data in seeds.items():
        Path(folder, f"{name}.seed").write_bytes(data)
        t = time.perf_counter()
        if fuzz.outcome(data, host) != "ok":
            raise SystemExit(f"seed {name} does not decode: {fuzz.outcome(data, host)}")
        times.append(time.perf_counter() - t)
    print(f"{len(seeds)} seeds ({min(map(len, seeds.values()))}-{max(map(len, seeds.values()))} bytes): "
          f"{', '.join(sorted(seeds))}")
    return str(folder), times


def _report(args, pool: Pool, clean: list[float], seconds: float) -> None:
    results = pool.results
    outcomes = collections.Counter(r[0] for r in results.values())
    typed = {k for k in outcomes if k not in ("ok", "hang") and not k.startswith("untyped")}
    rows = [{"outcome": k, "count": v, "share": v / len(results)} for k, v in outcomes.most_common()]
    print(f"{len(results)} inputs, {args.workers} workers, {seconds:.0f} s, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (shared machine if > workers)")
    print(table(rows, ["outcome", "count", "share"]))
    by_mutator = collections.defaultdict(collections.Counter)
    for outcome, _, mutator, _ in results.values():
        by_mutator[mutator]["ok" if outcome == "ok" else "typed" if outcome in typed else outcome.split(":")[0]] += 1
    columns = ["ok", "typed", "untyped", "hang"]
    print(table([{"mutator": m, "n": sum(c.values()), **{k: c.get(k, 0) for k in columns}}
                 for m, c in sorted(by_mutator.items())], ["mutator", "n", *columns]))
    times = sorted(r[1] for r in results.values())
    slow = sum(t > args.timeout for t in times) + len(pool.hangs)
    print(table([{"decode": "clean seeds (baseline)", "median_s": median(clean), "max_s": max(clean)},
                 {"decode": "mutated inputs", "median_s": median(times), "p99_s": times[int(0.99 * (len(times) - 1))],
                  "max_s": times[-1], "vs baseline": median(times) / median(clean)}],
                ["decode", "median_s", "p99_s", "max_s", "vs baseline"]))
    untyped = sum(v for k, v in outcomes.items() if k.startswith("untyped"))
    memory = sum(v for k, v in outcomes.items() if k in ("untyped:MemoryError", "untyped:worker died"))
    dropped = by_mutator["f_drop"]
    print(f"untyped exceptions: {untyped} (memory errors or dead workers under the {args.memory} MiB cap: {memory}); "
          f"hangs over {args.timeout:g} s: {slow}; decodes that succeeded after words were dropped: "
          f"{dropped.get('ok', 0)} of {sum(dropped.values())}; largest input {max(r[3] for r in results.values())} "
          f"bytes; peak RSS of a worker: {pool.rss_kb / 1024:.0f} MiB; reproducers in {args.out}/")


if __name__ == "__main__":
    main()
