"""MRI volumes: rate (bits per voxel, whole file) vs PSNR for COIN and COIN++ against
slice-wise JPEG and JPEG 2000 coded to the same file size, and the zstd lossless size, on the
central crop of a held-out scan (niivue_chris_t1, a 0.88 mm T1 with skull).

    python benchmarks/mri.py [--crop 48] [--coin-steps 300] [--model HASH | --train-steps 150]

CPU budget: a few minutes on 2 cores with the defaults (the output states the wall time).
COIN fits one SIREN per volume (Adam, 8-bit weights); COIN++ uses a base network: the one
`inrz run specs/mri-cpu.yaml` trained (`--model`, see `inrz models`), or one meta-learned here
for `--train-steps` steps on 16^3 patches of the other 3-D volumes. Both are far from the
papers' GPU-days figures: this is a CPU-sized comparison at equal bytes, not a reproduction.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import data_path, table

from inrz import Codec, PluginHost, decode
from inrz_coinpp import artifacts
from inrz_coinpp.config import TrainConfig
from inrz_coinpp.data import TrainData
from inrz_coinpp.loop import train

HELD_OUT = "niivue_chris_t1.nii.gz"
TRAIN = ["mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz", "mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz",
         "nibabel_anatomical.nii", "niivue_FLAIR.nii.gz"]  # the last one validates
COIN_SIZES = [(3, 16), (5, 32), (6, 48)]  # depth x width: about 0.1 to 0.9 bits per voxel
COINPP_BITS = [4, 6]


def measure(host, modality, signal, label: str, data: bytes, decoded) -> dict:
    points = modality.num_points(signal)
    psnr, norm = (host.create("metric", m).compute(signal, decoded, modality) for m in ("psnr", "psnr_norm"))
    return {"codec": label, "bytes": len(data), "bpv": 8 * len(data) / points, "psnr": psnr, "psnr_norm": norm,
            "gain_vs_j2k_db": "", "fits": ""}


def coin_rows(host, modality, signal, steps: int) -> list[dict]:
    rows = []
    for depth, width in COIN_SIZES:
        codec = Codec(modality, host.create("backend", {"id": "coin", "depth": depth, "width": width, "steps": steps,
                                                        "lr": 1e-3}),
                      host.create("quantizer", {"id": "uniform", "bits": 8}), host.create("entropy", "zstd"))
        data = codec.encode(signal).data
        rows.append(measure(host, modality, signal, f"coin {depth}x{width}", data, decode(data, host).signal))
    return rows


def base_network(host, modality, train_steps: int, log) -> str:
    """Meta-learn a small base network on 16^3 patches of the other volumes (as specs/mri-cpu.yaml)."""
    volumes = [modality.to_features(modality.load(data_path("mri", name)))[0] for name in TRAIN]
    cfg = TrainConfig(dataset={"id": "folder", "path": "."}, patch=[16, 16, 16], depth=4, width=32, latent_dim=32,
                      w0=10.0, steps=train_steps, batch_size=8, inner_lr=1e-1, outer_lr=1e-3,
                      val_every=max(1, train_steps // 3), val_patches=32, checkpoint_every=train_steps,
                      stats_patches=256, quant_bits=COINPP_BITS)
    with tempfile.TemporaryDirectory(prefix="inrz-bench-mri-") as workdir:
        net = train(cfg, TrainData(volumes[:-1], volumes[-1:], {"benchmark": "mri"}), 0, torch.device("cpu"),
                    Path(workdir), log=log)
    return artifacts.save(net)


def coinpp_rows(host, modality, signal, model: str) -> list[dict]:
    rows = []
    for bits in COINPP_BITS:
        codec = Codec(modality, host.create("backend", {"id": "coinpp", "model": model, "inner_steps": 10,
                                                        "inner_lr": 1e-1}),
                      host.create("quantizer", {"id": "latent_uniform", "model": model, "bits": bits}),
                      host.create("entropy", {"id": "table", "model": model}))
        data = codec.encode(signal).data
        rows.append(measure(host, modality, signal, f"coin++ {bits}-bit", data, decode(data, host).signal))
    return rows


def matched_baselines(host, modality, signal, rows: list[dict]) -> list[dict]:
    """JPEG and JPEG 2000 slices at each inrz file size, with the PSNR gain of inrz over JPEG 2000
    (slice codecs pay a header per slice, so below some rate even quality 1 does not fit: `fits` says so)."""
    out = []
    for row in rows:
        out.append(row)
        matched = {}
        for id in ("jpeg_slices", "jpeg2000_slices"):
            baseline = host.create("baseline", id)
            result = baseline.at_size(signal, row["bytes"])
            matched[id] = measure(host, modality, signal, f"  {id} q{result.quality}", result.data, result.decoded)
            matched[id]["fits"] = "yes" if len(result.data) <= row["bytes"] else "no: its smallest file"
            out.append(matched[id])
        row["gain_vs_j2k_db"] = row["psnr_norm"] - matched["jpeg2000_slices"]["psnr_norm"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crop", type=int, default=48, help="edge of the central cube coded (voxels)")
    parser.add_argument("--coin-steps", type=int, default=300)
    parser.add_argument("--model", default=None, help="COIN++ base network hash (default: train one here)")
    parser.add_argument("--train-steps", type=int, default=150)
    args = parser.parse_args()
    start = time.perf_counter()
    host = PluginHost()
    modality = host.create("modality", {"id": "mri", "max_shape": [args.crop] * 3})
    signal = modality.load(data_path("mri", HELD_OUT))
    model = args.model or base_network(host, modality, args.train_steps, log=lambda m: print("  train:", m))
    rows = coin_rows(host, modality, signal, args.coin_steps) + coinpp_rows(host, modality, signal, model)
    rows = matched_baselines(host, modality, signal, rows)
    lossless = host.create("baseline", "zstd_voxels").at_size(signal, 0)
    rows.append(measure(host, modality, signal, "zstd_voxels (lossless)", lossless.data, lossless.decoded))
    print(f"{HELD_OUT}: central {signal.data.shape} {signal.data.dtype} crop, {modality.num_points(signal)} voxels; "
          f"COIN {args.coin_steps} steps; COIN++ base network {model} (10 inner steps); psnr = data-range peak, "
          f"psnr_norm = [0, 1] after the 99.99th-percentile clip; gain = inrz psnr_norm - JPEG 2000's at that size")
    print(table(rows, ["codec", "bytes", "bpv", "psnr", "psnr_norm", "gain_vs_j2k_db", "fits"]))
    print(f"wall time {time.perf_counter() - start:.0f} s, torch threads {torch.get_num_threads()}, "
          f"numpy {np.__version__}")


if __name__ == "__main__":
    main()
