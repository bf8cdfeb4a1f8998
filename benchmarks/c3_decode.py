"""c3 decode time per image at each preset, in-process and as `inrz decompress`, beside the
AVIF, WebP and JPEG XL decoders of imagecodecs on the same image at about the same size.

    python benchmarks/c3_decode.py [--files kodim01_fast.inrz ...] [--steps 300] [--repeats 7]

Without --files, kodim01 is encoded at each preset with --steps fit steps into --cache (decode
time depends on the model's size and the latents, not on how long it was fitted). In-process
figures are the median wall time of `inrz.decode` (container, range decoding, rendering, uint8
image) after one warm-up; CLI figures the median wall time of `inrz decompress FILE -o x.png`
in a fresh process (Python start, imports, decode, PNG write), and for the other codecs of a
fresh `python -c` that imports imagecodecs, decodes and writes the PNG the same way. CPU time
(process_time) is printed beside wall time: on a shared machine it is the steadier figure.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import data_path, median, table

import inrz



def encode_c3(image: Path, preset: str, steps: int, cache: Path) -> Path:
    out = cache / f"{image.stem}_{preset}_{steps}.inrz"
    if not out.exists():
        subprocess.run(["inrz", "compress", str(image), "-o", str(out), "--set", "backend.id=c3",
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


def payload_timings(data: bytes, host, repeats: int) -> tuple[float, float]:
    """Wall seconds of the payload decode alone: compiled (`payload.decode`) and the reference
    it replaced (`reference.decode_payload`: torch GEMMs, constriction, a Python step per wavefront)."""
    from inrz_c3 import bitstream, payload, reference

    args = []
    real = bitstream.decode
    bitstream.decode = lambda *a, **k: args.append((a, k)) or real(*a, **k)
    try:
        inrz.decode(data, host)
    finally:
        bitstream.decode = real
    a, k = args[0]
    return timings(lambda: payload.decode(*a, **k), repeats)[0], timings(lambda: reference.decode_payload(*a, **k),
                                                                          repeats)[0]


def cli_wall(cmd: list[str], repeats: int) -> float:
    walls = []
    for _ in range(repeats):
        w = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
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
    args = ap.parse_args()
    import imagecodecs

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
        payload_wall, reference_wall = payload_timings(data, host, max(1, args.repeats // 3))
        cli = cli_wall(["inrz", "decompress", str(path), "-o", str(out_png)], max(3, args.repeats // 2))
        rows.append({"decoder": f"c3 {header['backend'].get('preset', '?')}", "bytes": len(data),
                     "in_process_ms": 1e3 * wall, "cpu_ms": 1e3 * cpu, "cli_wall_s": cli,
                     "payload_ms": 1e3 * payload_wall, "reference_payload_ms": 1e3 * reference_wall})
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
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"kodim01 768x512, median of {args.repeats} (CLI: of {max(3, args.repeats // 2)}), "
          f"imagecodecs {imagecodecs.__version__}, {os.cpu_count()} CPUs, load average {load:.1f} at the end")
    print(table(rows, list(rows[0])))


if __name__ == "__main__":
    main()
