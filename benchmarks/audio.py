"""Audio rate-distortion on real LibriSpeech speech (16 kHz), CPU-sized:

1. MP3, Opus and Vorbis at fixed rates (8-48 kbps) and FLAC's lossless size: the classical curve;
2. COIN (one SIREN per 3 s clip) and COIN++ (a base network meta-learned here on 5 other
   utterances, then 3 inner steps per 200-sample patch) on 3 held-out clips, each next to MP3 and Opus
   coded to the same file size in the same process.

    python benchmarks/audio.py [--train-steps 2000] [--coin-steps 300] [--model HASH]

CPU budget: one torch thread, about 4 minutes (2 of them meta-learning); --model skips training.

Rates are whole-file kbps (every byte of the .inrz container); PSNR is the COIN++ convention
(amplitudes mapped to [0, 1], peak 1), SNR is signal over error power. Both are mean over clips.
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

SECONDS = 3.0
EVAL = ["librispeech_1272-141231-0002.flac", "librispeech_2412-153948-0000.flac", "librispeech_2412-153948-0001.flac"]
TRAIN = ["librispeech_1088-134315-0000.wav", "librispeech_1995-1837-0001.wav", "librispeech_198-209-0000.ogg",
         "librispeech_3436-172162-0000.ogg", "librispeech_5703-47212-0000.ogg"]


def measure(host, modality, signal, decoded, num_bytes) -> dict:
    return {"kbps": modality.kbps(num_bytes, signal.meta),
            "psnr": host.create("metric", "psnr").compute(signal, decoded, modality),
            "snr": host.create("metric", "snr").compute(signal, decoded, modality)}


def mean_rows(label: str, rows: list[dict], **extra) -> dict:
    return {"codec": label, **{k: float(np.mean([r[k] for r in rows])) for k in ("kbps", "psnr", "snr")}, "note": "",
            **extra}


def classical_curve(host, modality, signals) -> list[dict]:
    out = []
    for id in ("mp3", "opus", "vorbis"):
        codec = host.create("baseline", id)
        if codec.available():
            out.append({"codec": id, "note": f"unavailable: {codec.available()}"})  # the row says why
            continue
        for kbps in (8, 16, 24, 32, 48):
            rows = []
            for s in signals:
                res = codec.at_size(s, int(kbps * 1000 / 8 * modality.seconds(s.meta)))
                rows.append(measure(host, modality, s, res.decoded, len(res.data)))
            out.append(mean_rows(id, rows, target_kbps=kbps))
    flac = host.create("baseline", "flac")
    rows = [measure(host, modality, s, flac.at_size(s, 0).decoded, len(flac.at_size(s, 0).data)) for s in signals]
    return out + [mean_rows("flac", rows, target_kbps="lossless")]


def inrz_vs_baselines(host, modality, codec: Codec, label: str, signals) -> list[dict]:
    """The inrz codec, then MP3 and Opus at each clip's inrz file size."""
    start = time.perf_counter()
    encoded = [codec.encode(s) for s in signals]
    seconds = (time.perf_counter() - start) / len(signals)
    rows = {label: [measure(host, modality, s, decode(e.data, host).signal, len(e.data))
                    for s, e in zip(signals, encoded)]}
    for id in ("mp3", "opus"):
        base = host.create("baseline", id)
        if base.available():
            continue
        results = [base.at_size(s, len(e.data)) for s, e in zip(signals, encoded)]
        rows[f"{id} @ {label} size"] = [measure(host, modality, s, r.decoded, len(r.data))
                                       for s, r in zip(signals, results)]
    out = [mean_rows(k, v, encode_s="") for k, v in rows.items()]
    out[0]["encode_s"] = seconds
    return out


def train_base(modality, steps: int) -> str:
    folder = data_path("audio")
    feats = [modality.to_features(modality.load(folder / name))[0] for name in TRAIN]
    # the settings of specs/librispeech-cpu.yaml (see its comments for the large inner lr)
    cfg = TrainConfig(dataset={"id": "folder", "path": "."}, patch=[200], depth=5, width=64, latent_dim=32, w0=30.0,
                      steps=steps, batch_size=16, inner_lr=1.0, outer_lr=3e-4, val_every=max(1, steps // 4),
                      val_patches=128, checkpoint_every=steps, stats_patches=2048, quant_bits=[4, 5, 6])
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="inrz-bench-audio-") as workdir:  # no stale checkpoint to resume from
        net = train(cfg, TrainData(feats[:-1], feats[-1:], {"benchmark": TRAIN}, modality.coordinates), 0,
                    torch.device("cpu"), Path(workdir), log=lambda m: print("   " + m))
    digest = artifacts.save(net)
    print(f"   (meta-learned {steps} steps in {time.perf_counter() - start:.0f} s: base network {digest})\n")
    return digest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train-steps", type=int, default=2000, help="COIN++ meta-learning steps (~0.06 s each)")
    ap.add_argument("--coin-steps", type=int, default=300, help="COIN fit steps per clip")
    ap.add_argument("--model", default=None, help="an existing audio base network hash (skips training)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    host = PluginHost()
    modality = host.create("modality", {"id": "audio", "first_seconds": SECONDS})
    signals = [modality.load(data_path("audio", name)) for name in EVAL]
    print(f"{len(signals)} held-out LibriSpeech clips, first {SECONDS:g} s at 16 kHz, torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread\n")
    start = time.perf_counter()
    cols = ["codec", "target_kbps", "kbps", "psnr", "snr", "note"]
    print("1. classical codecs at fixed rates (mean over clips)")
    print(table(classical_curve(host, modality, signals), cols) + "\n")

    rows = []
    for depth, width in ((3, 16), (5, 32)):
        coin = Codec(modality, host.create("backend", {"id": "coin", "depth": depth, "width": width,
                                                       "steps": args.coin_steps, "lr": 1e-3}),
                     host.create("quantizer", {"id": "uniform", "bits": 8}), host.create("entropy", "zstd"))
        rows += inrz_vs_baselines(host, modality, coin, f"coin {depth}x{width}", signals)
    model = args.model or train_base(modality, args.train_steps)
    inner_lr = artifacts.load(model).info["train_config"]["inner_lr"]
    for bits in (4, 5, 6):
        coinpp = Codec(modality, host.create("backend", {"id": "coinpp", "model": model, "inner_lr": inner_lr}),
                       host.create("quantizer", {"id": "latent_uniform", "model": model, "bits": bits}),
                       host.create("entropy", {"id": "table", "model": model}))
        rows += inrz_vs_baselines(host, modality, coinpp, f"coin++ {bits}-bit", signals)
    print(f"2. inrz vs MP3/Opus at the same file size (COIN: {args.coin_steps} steps, 8-bit weights; COIN++: base "
          f"network {model}, 3 inner steps, range-coded latents)")
    print(table(rows, ["codec", "kbps", "psnr", "snr", "encode_s"]))
    by = {r["codec"]: r for r in rows}
    print("   vs MP3 coded to the largest file not above the inrz file (its smallest file if none is):")
    for label in [r["codec"] for r in rows if "@" not in r["codec"]]:
        ours, mp3 = by[label], by.get(f"mp3 @ {label} size")
        if mp3:  # the same original, so the PSNR and SNR differences are equal
            print(f"   {label}: {ours['psnr'] - mp3['psnr']:+.2f} dB PSNR and SNR at {ours['kbps']:.1f} kbps "
                  f"(MP3: {mp3['kbps']:.1f} kbps)")
    print(f"\ntotal {time.perf_counter() - start:.0f} s on CPU")


if __name__ == "__main__":
    main()
