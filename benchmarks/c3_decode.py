"""c3 decode time per image at each preset, in-process and as `inrz decompress`, beside the
AVIF, WebP and JPEG XL decoders of imagecodecs on the same image at about the same size.

    python benchmarks/c3_decode.py [--files kodim01_fast.inrz ...] [--steps 300] [--repeats 7]
                                   [--reference] [--against REV [--rounds 6]]

Without --files, kodim01 is encoded at each preset with --steps fit steps into --cache (decode
time depends on the model's size and the latents, not on how long it was fitted). In-process
figures are the median wall time of `inrz.decode` (container, range decoding, rendering, uint8
image) after one warm-up, with CPU time (process_time, all threads) beside it: on a shared
machine the steadier figure; the payload (range decoding with the context model) and the
renderer are timed alone too. While the payload's finest level decodes, a second thread
upsamples the coarser levels to full size (the renderer's last stage, `latent_pyramid.top_stage`): that
work counts in the payload's time, and the renderer's is level 0 and the synthesis. `fresh` runs one decode in a new
process: the seconds to import inrz and its plugins, and the first decode's milliseconds (loading
the decoder's cached machine code, `inrz.kernel`) against the second's, and whether numba was
imported. CLI figures are the median wall time of `inrz decompress FILE -o x.png` in a fresh
process (Python start, imports, decode, PNG write), run as the console script installed beside
this Python (not through a shell shim such as pyenv's, which adds ~0.1 s), once as installed and
once with INRZ_NATIVE=0 (the kernels on numba's path: what the CLI cost before); for the other
codecs, of a fresh `python -c` that imports imagecodecs, decodes and writes the PNG with
`imagecodecs.imwrite` (libpng, zlib level 6; inrz writes it with the image plugin's own writer,
`inrz_image.png`, at the same level: ~55 ms instead of libpng's ~80 and Pillow's ~95 on kodim01).
The floor line: the same fresh-process wall time for starting Python, importing numpy, importing
numpy and llvmlite's binding (what loading cached machine code needs), importing inrz, and, for
comparison, importing numba and calling one trivial cached numba function (what a decoder on
numba's path pays before decoding). The matmul line: 2-thread float32 GFLOP/s of torch in the
same run (this machine's speed drifts: compare figures from one run only).
--reference also times the per-wavefront decoder the compiled one replaced.
--against REV only compares the in-process decode of the first file with inrz at git revision REV
(the whole tree, imported from a `git archive` by PYTHONPATH), alternating fresh processes.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import data_path, git_tree, median, table

import inrz



def console_script() -> str:
    """The `inrz` command installed beside this Python (a shim on PATH may add its own start-up)."""
    here = Path(sys.executable).parent / ("inrz.exe" if os.name == "nt" else "inrz")
    return str(here) if here.exists() else "inrz"


def matmul_gflops() -> float:
    """Best of 5: a 1024^3 float32 matmul with torch on 2 threads."""
    import torch

    torch.set_num_threads(2)
    a = torch.randn(1024, 1024)
    best = float("inf")
    for _ in range(6):
        t = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - t)
    return 2 * 1024 ** 3 / best / 1e9


def encode_c3(image: Path, preset: str, steps: int, cache: Path) -> Path:
    out = cache / f"{image.stem}_{preset}_{steps}.inrz"
    if not out.exists():
        subprocess.run([console_script(), "compress", str(image), "-o", str(out), "--set", "backend.id=c3",
                        "--set", f"backend.preset={preset}", "--set", f"backend.steps={steps}"], check=True)
    return out


def timings(fn, repeats: int) -> tuple[float, float]:
    """(median wall, median CPU) seconds of `fn()` after one warm-up call."""
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return median(wall), median(cpu)


def stage_timings(data: bytes, host, repeats: int, reference: bool) -> dict:
    """Median wall and CPU ms of the payload decode and of the renderer alone (and of the
    reference payload decoder, `reference.decode_payload`, with `reference`)."""
    from inrz_c3 import bitstream, payload, render
    from inrz_c3 import reference as ref

    seen: dict = {}
    real_decode, real_render = bitstream.decode, render.render
    bitstream.decode = lambda *a, **k: seen.setdefault("payload", (a, k)) and real_decode(*a, **k)
    render.render = lambda *a, **k: seen.setdefault("render", (a, k)) and real_render(*a, **k)
    try:
        inrz.decode(data, host)
    finally:
        bitstream.decode, render.render = real_decode, real_render
    out = {}
    for name, fn in (("payload", payload.decode), ("render", render.render)):
        a, k = seen[name]
        wall, cpu = timings(lambda: fn(*a, **k), repeats)
        out[f"{name}_ms"], out[f"{name}_cpu_ms"] = 1e3 * wall, 1e3 * cpu
    if reference:
        a, k = seen["payload"]
        out["reference_payload_ms"] = 1e3 * timings(lambda: ref.decode_payload(*a, **k), max(1, repeats // 3))[0]
    return out


FRESH = """
import json, sys, time
t0 = time.perf_counter()
import inrz
host = inrz.get_host()
host.create("backend", {"id": "c3"})
t1 = time.perf_counter()
data = open(sys.argv[1], "rb").read()
inrz.decode(data, host)
t2 = time.perf_counter()
inrz.decode(data, host)
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_ms": 1e3 * (t2 - t1), "second_ms": 1e3 * (t3 - t2),
                  "torch": "torch" in sys.modules, "numba": "numba" in sys.modules}))
"""


def fresh_process(path: Path, repeats: int) -> dict:
    """Medians over fresh processes: import seconds, first and second decode ms, torch loaded."""
    runs = [json.loads(subprocess.run([sys.executable, "-c", FRESH, str(path)], check=True, capture_output=True,
                                      text=True).stdout.splitlines()[-1]) for _ in range(repeats)]
    out = {k: median([r[k] for r in runs]) for k in ("import_s", "first_ms", "second_ms")}
    out["torch_loaded"] = any(r["torch"] for r in runs)
    out["numba_loaded"] = any(r["numba"] for r in runs)
    return out


FLOOR_KERNEL = """
from numba import njit


@njit(cache=True, nogil=True)
def total(a):
    s = 0.0
    for x in a:
        s += x
    return s
"""

FLOOR_STEPS = {
    "python": "pass",
    "numpy": "import numpy",
    "llvmlite": "import numpy, llvmlite.binding as b; b.initialize_native_target(); b.initialize_native_asmprinter()",
    "inrz": "import inrz",
    "numba": "import numpy, numba",
    "numba_call": ("import sys, numpy\n"
                   "from inrz.core.compiled import _numba\n"
                   "_numba()  # numba, with scipy.linalg hidden as inrz.kernel hides it\n"
                   "sys.path.insert(0, sys.argv[1])\n"
                   "import floor_kernel\n"
                   "floor_kernel.total(numpy.ones(4))"),
}


def floor(cache: Path, repeats: int) -> dict:
    """Median wall seconds of `python -c` starting, importing numpy, importing llvmlite's binding
    (what loading cached machine code needs), importing inrz, importing numba, and calling one
    trivial compiled function from numba's disk cache (numba loading its implementations, with
    scipy.linalg hidden by `inrz.kernel`'s loader: this one step imports inrz's core too, ~10 ms).
    The first run fills the cache."""
    (cache / "floor_kernel.py").write_text(FLOOR_KERNEL)
    argv = [str(cache)]
    subprocess.run([sys.executable, "-c", FLOOR_STEPS["numba_call"], *argv], check=True)
    return {f"floor_{name}_s": cli_wall([sys.executable, "-c", code, *argv], repeats)
            for name, code in FLOOR_STEPS.items()}


AGAINST = """
import resource, sys, time
import inrz
data = open(sys.argv[1], "rb").read()
for _ in range(3):
    inrz.decode(data)
faults, times = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    inrz.decode(data)
    times.append(time.perf_counter() - t)
faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / len(times)
times.sort()
print(f"median {1e3 * times[len(times) // 2]:.1f} min {1e3 * times[0]:.1f} ms, {faults:.0f} page faults a decode")
"""


def against(rev: str, path: Path, rounds: int, decodes: int) -> list[str]:
    """In-process decode ms of `path` by inrz at git revision `rev` (the whole tree: core and
    plugins) and by this tree, alternating fresh processes (`rounds` each, `decodes` timed
    decodes after 3 warm-ups), with minor page faults per decode: a comparison fair on a
    machine whose speed drifts."""
    tree = git_tree(rev)
    env_rev = {**os.environ, "PYTHONPATH": f"{tree}{os.pathsep}{tree / 'plugins'}"}
    lines = []
    for _ in range(rounds):
        for name, env in ((rev, env_rev), ("this tree", None)):
            out = subprocess.run([sys.executable, "-c", AGAINST, str(path), str(decodes)], check=True,
                                 capture_output=True, text=True, env=env, cwd=tempfile.gettempdir()).stdout
            lines.append(f"{name}: {out.strip()}")
    return lines


def cli_wall(cmd: list[str], repeats: int, env: dict | None = None) -> float:
    walls = []
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)  # warm-up: caches filled
    for _ in range(repeats):
        w = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        walls.append(time.perf_counter() - w)
    return median(walls)


def at_size(codec: str, pixels: np.ndarray, size: int) -> bytes:
    """The largest file of the codec's quality scale no bigger than `size` (bisection)."""
    import imagecodecs

    enc = getattr(imagecodecs, f"{codec}_encode")
    extra = {"webp": dict(lossless=False, method=6), "jpegxl": dict(effort=7), "avif": {}}[codec]
    lo, hi, best = 0, 100, None
    while lo <= hi:
        q = (lo + hi) // 2
        data = enc(pixels, level=q, **extra)
        if len(data) <= size:
            best, lo = data, q + 1
        else:
            hi = q - 1
    return best if best is not None else enc(pixels, level=0, **extra)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", nargs="*", type=Path, help="c3 containers of one image (default: encode kodim01)")
    ap.add_argument("--presets", nargs="+", default=["fast", "medium", "high"])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "inrz-c3-decode-bench")
    ap.add_argument("--reference", action="store_true", help="also time the reference payload decoder (slow)")
    ap.add_argument("--against", metavar="REV", help="only compare in-process decode with git revision REV, "
                                                       "alternating fresh processes (the first file)")
    ap.add_argument("--rounds", type=int, default=6, help="--against: fresh processes per side")
    args = ap.parse_args()
    if args.against:
        if not args.files:
            ap.error("--against needs --files")
        print(f"{args.files[0].name}: in-process decode, {args.against} against this tree, alternating fresh "
              f"processes of {args.repeats} decodes after 3 warm-ups")
        print("\n".join(against(args.against, args.files[0].resolve(), args.rounds, args.repeats)))
        return
    import imagecodecs
    import numba

    image = data_path("kodak", "kodim01.png")
    pixels = imagecodecs.imread(str(image))
    args.cache.mkdir(parents=True, exist_ok=True)
    files = args.files or [encode_c3(image, p, args.steps, args.cache) for p in args.presets]
    host = inrz.get_host()
    rows, out_png = [], args.cache / "out.png"
    for path in files:
        data = path.read_bytes()
        header = inrz.decode(data, host).header
        wall, cpu = timings(lambda: inrz.decode(data, host), args.repeats)
        stages = stage_timings(data, host, args.repeats, args.reference)
        fresh = fresh_process(path, max(3, args.repeats // 2))
        command = [console_script(), "decompress", str(path), "-o", str(out_png)]
        cli = cli_wall(command, max(3, args.repeats // 2))
        cli_numba = cli_wall(command, max(3, args.repeats // 2), {**os.environ, "INRZ_NATIVE": "0"})
        rows.append({"decoder": f"c3 {header['backend'].get('preset', '?')}", "bytes": len(data),
                     "in_process_ms": 1e3 * wall, "cpu_ms": 1e3 * cpu, **stages,
                     "fresh_import_s": fresh["import_s"], "fresh_first_ms": fresh["first_ms"],
                     "fresh_second_ms": fresh["second_ms"], "cli_wall_s": cli, "cli_numba_path_s": cli_numba,
                     "torch_loaded": fresh["torch_loaded"], "numba_loaded": fresh["numba_loaded"]})
    size = int(np.median([r["bytes"] for r in rows]))
    for codec in ("avif", "webp", "jpegxl"):
        blob = at_size(codec, pixels, size)
        dec = getattr(imagecodecs, f"{codec}_decode")
        wall, cpu = timings(lambda: dec(blob), args.repeats)
        src = args.cache / f"kodim01.{codec}"
        src.write_bytes(blob)
        script = (f"import imagecodecs; imagecodecs.imwrite({str(out_png)!r}, "
                  f"imagecodecs.{codec}_decode(open({str(src)!r}, 'rb').read()))")
        cli = cli_wall([sys.executable, "-c", script], max(3, args.repeats // 2))
        rows.append({"decoder": codec, "bytes": len(blob), "in_process_ms": 1e3 * wall, "cpu_ms": 1e3 * cpu,
                     "cli_wall_s": cli})
    base = next(r for r in rows if r["decoder"] == "avif")["in_process_ms"]
    for r in rows:
        r["vs_avif"] = r["in_process_ms"] / base
    fl = floor(args.cache, max(3, args.repeats // 2))
    gflops = matmul_gflops()
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"kodim01 768x512, median of {args.repeats} (CLI and fresh processes: of {max(3, args.repeats // 2)}), "
          f"imagecodecs {imagecodecs.__version__}, numba {numba.__version__}, {os.cpu_count()} CPUs, c3 decoding on "
          f"{inrz.threads.workers()} threads, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) "
          f"at the end")
    cols = [c for c in rows[0]] + [c for c in ("vs_avif",) if c not in rows[0]]
    print(table(rows, cols))
    print("fresh-process floor (wall s): " + ", ".join(f"{k[6:-2]} {v:.3f}" for k, v in fl.items()))
    print(f"matmul: {gflops:.1f} GFLOP/s (torch, float32, 2 threads, same run)")


if __name__ == "__main__":
    main()
