"""Rate vs error on held-out global temperature grids: COIN++ and COIN against JPEG, JPEG 2000,
zstd (lossless), ZFP and SZ3, all in the same process on the same grids.

    OMP_NUM_THREADS=1 python benchmarks/era5.py [--spec specs/era5-cpu.yaml] [--coin-steps 300] [--set ...]

The grids, the modality and the COIN++ base network come from the spec (its `train:` section;
a network already trained for it, e.g. by `inrz run specs/era5-cpu.yaml`, is reused from the
models cache). Rates are bits per grid point of the whole `.inrz` file (and of the payload
alone, the figure papers report) and the compression ratio against float32 (32 / bits).
Errors are in kelvin: RMSE, latitude-weighted RMSE, and PSNR of the normalised field.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from _common import table

from inrz import Codec, PluginHost, decode, spec_context
from inrz_coinpp.training import train_from_spec

ROOT = Path(__file__).resolve().parents[1]
BASELINES = ("field_jpeg", "field_jpeg2000", "zfp", "sz3", "sperr")


def measure(host, modality, signals, encoded_bytes, decoded, payload_bytes=None) -> dict:
    """Mean rate and errors over the grids."""
    points = modality.num_points(signals[0])
    metric = {m: host.create("metric", m) for m in ("field_rmse", "lat_weighted_rmse", "psnr")}
    bits = float(np.mean([8 * n / points for n in encoded_bytes]))
    row = {"bits/pt": bits, "x_vs_f32": 32 / bits, "note": ""}
    if payload_bytes is not None:
        row["payload_bits/pt"] = float(np.mean([8 * n / points for n in payload_bytes]))
        row["x_payload"] = 32 / row["payload_bits/pt"]
    for name, m in metric.items():
        row[{"field_rmse": "rmse_K", "lat_weighted_rmse": "lat_rmse_K", "psnr": "psnr_dB"}[name]] = float(
            np.mean([m.compute(s, d, modality) for s, d in zip(signals, decoded)]))
    return row


def run_inr(host, modality, signals, backend, quantizer, entropy) -> dict:
    codec = Codec(modality, host.create("backend", backend), host.create("quantizer", quantizer),
                  host.create("entropy", entropy))
    start = time.perf_counter()
    encoded = codec.encode_batch(signals)
    seconds = (time.perf_counter() - start) / len(signals)
    decoded = [decode(e.data, host).signal for e in encoded]
    row = measure(host, modality, signals, [len(e.data) for e in encoded], decoded, [e.payload_bytes for e in encoded])
    return {**row, "enc_s/grid": seconds}


def run_baseline(host, modality, signals, id: str, targets: list[int] | None = None, rmse: float | None = None) -> dict:
    baseline = host.create("baseline", id)
    if reason := baseline.available():
        return {"codec": id, "note": f"unavailable: {reason}"}
    if rmse is not None:
        results = [baseline.at_error(s, rmse) for s in signals]
    else:
        results = [baseline.at_size(s, t) for s, t in zip(signals, targets or [1 << 30] * len(signals))]
    sizes, decoded = [len(r.data) for r in results], [r.decoded for r in results]
    return {"codec": id, **measure(host, modality, signals, sizes, decoded)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default=str(ROOT / "specs" / "era5-cpu.yaml"))
    ap.add_argument("--coin-steps", type=int, default=300)
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                    help="spec override, e.g. train.steps=20 for a quick look")
    args = ap.parse_args()
    host, spec_path = PluginHost(), Path(args.spec)
    ctx = spec_context(spec_path, args.overrides, host, log=lambda m: print("   " + m))
    spec = ctx.spec
    start = time.perf_counter()
    model = train_from_spec(ctx)
    print(f"base network {model} ({time.perf_counter() - start:.0f} s to train or find)")
    modality = host.create("modality", spec.modality)
    items = host.create("dataset", spec.dataset).items(spec_path.parent)
    signals = [modality.load(item.path) for item in items]
    grid = "x".join(map(str, modality.grid_shape(signals[0])))
    print(f"{len(signals)} held-out {grid} grids ({items[0].name} ...), torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s)\n")

    rows = []
    for bits in (4, 5, 6, 8):
        quantizer = {"id": "latent_uniform", "model": model, "bits": bits}
        rows.append({"codec": "coin++", "setting": f"latent {bits}-bit", **run_inr(
            host, modality, signals, {**spec.backend, "model": model}, quantizer, {"id": "table", "model": model})})
    for depth, width in ((2, 8), (3, 16), (4, 32)):
        rows.append({"codec": "coin", "setting": f"{depth}x{width} 8-bit, {args.coin_steps} steps", **run_inr(
            host, modality, signals, {"id": "coin", "depth": depth, "width": width, "steps": args.coin_steps,
                                      "lr": 2e-3}, {"id": "uniform", "bits": 8}, "zstd")})
    cols = ["codec", "setting", "bits/pt", "payload_bits/pt", "x_vs_f32", "x_payload", "rmse_K", "lat_rmse_K",
            "psnr_dB", "enc_s/grid"]
    print("1. INR codecs (means over the grids; bits/pt counts every byte of the .inrz file)")
    print(table(rows, cols) + "\n")

    _compare_at_size(host, modality, signals, spec, model)
    coinpp = rows[2]
    print(f"3. at the error of COIN++ 6-bit (RMSE {coinpp['rmse_K']:.3f} K): the size each codec needs")
    matched = [run_baseline(host, modality, signals, id, rmse=coinpp["rmse_K"]) for id in ("zfp", "sz3", "sperr")]
    matched.append(run_baseline(host, modality, signals, "field_zstd"))
    print(table([{"codec": "coin++ 6-bit", **coinpp}] + matched,
                ["codec", "bits/pt", "x_vs_f32", "rmse_K", "lat_rmse_K", "psnr_dB", "note"]))


def _compare_at_size(host, modality, signals, spec, model) -> None:
    """Baselines at each grid's COIN++ (6-bit) file size and payload size."""
    codec = Codec(modality, host.create("backend", {**spec.backend, "model": model}),
                  host.create("quantizer", {"id": "latent_uniform", "model": model, "bits": 6}),
                  host.create("entropy", {"id": "table", "model": model}))
    encoded = codec.encode_batch(signals)
    for label, targets in (("file", [len(e.data) for e in encoded]), ("payload", [e.payload_bytes for e in encoded])):
        rows = [run_baseline(host, modality, signals, id, targets) for id in BASELINES]
        print(f"2. baselines at each grid's COIN++ 6-bit {label} size (mean {np.mean(targets):.0f} B; a codec that "
              "cannot get that small shows its smallest file)")
        print(table(rows, ["codec", "bits/pt", "x_vs_f32", "rmse_K", "lat_rmse_K", "psnr_dB", "note"]) + "\n")


if __name__ == "__main__":
    main()
