"""COIN++ hot paths on real 32x32 images (CPU-sized network unless told otherwise):

1. meta-learning step: inrz's step vs a straightforward per-datum implementation of the
   paper's outer step (each datum's inner loop run on its own, coordinates materialised),
   same config, same process;
2. encoding time per image at 3 and 10 inner steps (all patches of a batch at once) and
   decoding time;
3. bytes of the latents: fixed-width packing vs the global range-coded table vs per-dimension
   tables vs the cross-entropy estimate, on held-out images.

    python benchmarks/coinpp.py [--model HASH] [--width 64 --depth 5 --latent 64]

Without --model a network is meta-learned for --train-steps steps first (stated in the output).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from _common import data_path, median, table, timed

from inrz import Codec, EncodeContext, PluginHost, decode, grid_coordinates, pack_bits
from inrz_coinpp import artifacts
from inrz_coinpp.model import ModulatedShape, ModulatedSiren, inner_loop, per_datum_mse
from inrz_coinpp.config import TrainConfig
from inrz_coinpp.data import TrainData
from inrz_coinpp.loop import train


def naive_outer_step(model: ModulatedSiren, opt, x: torch.Tensor, y: torch.Tensor, k: int, lr: float) -> None:
    """The paper's outer step written plainly: one inner loop per datum, then the mean loss."""
    losses = []
    for i in range(y.shape[0]):
        xi = x.unsqueeze(0).clone()  # (1, N, d_in) coordinates per datum, as the reference code builds them
        z = torch.zeros(1, model.shape.latent_dim, requires_grad=True)
        for _ in range(k):
            loss = ((model(xi, z) - y[i:i + 1]) ** 2).mean()
            (g,) = torch.autograd.grad(loss, z, create_graph=True)
            z = z - lr * g
        losses.append(((model(xi, z) - y[i:i + 1]) ** 2).mean())
    opt.zero_grad()
    torch.stack(losses).mean().backward()
    opt.step()


def inrz_outer_step(model, opt, x, y, k, lr) -> None:
    z = inner_loop(model, x, y, k, lr, second_order=True)
    loss = per_datum_mse(model(x, z), y).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()


def bench_meta_step(shape: ModulatedShape, images: np.ndarray, batch: int, repeats: int) -> dict:
    x = torch.from_numpy(grid_coordinates([32, 32]).reshape(-1, 2))
    y = torch.from_numpy(images[:batch].reshape(batch, -1, 3))
    rows = {}
    for name, step in (("naive per-datum", naive_outer_step), ("inrz batched", inrz_outer_step)):
        torch.manual_seed(0)
        model = ModulatedSiren(shape)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        step(model, opt, x, y, 3, 1e-2)  # warm-up
        rows[name] = median(timed(lambda: step(model, opt, x, y, 3, 1e-2), repeats))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="an existing base network hash (32x32 patches, RGB)")
    ap.add_argument("--depth", type=int, default=5)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--latent", type=int, default=64)
    ap.add_argument("--train-steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--bits", type=int, default=6)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    images = np.load(data_path("cifar10", "cifar10_test_100.npz"))["images"].astype(np.float32) / 255.0
    train_imgs, test_imgs = images[:80], images[80:]
    shape = ModulatedShape(2, 3, args.depth, args.width, args.latent, 30.0)

    meta = bench_meta_step(shape, train_imgs, args.batch, args.repeats)
    print(f"1. meta step, {args.depth}x{args.width}, latent {args.latent}, batch {args.batch} 32x32 patches, k=3, "
          f"second order, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(table([{"implementation": k, "median_s": v} for k, v in meta.items()], ["implementation", "median_s"]))
    print(f"   ratio naive / inrz: {meta['naive per-datum'] / meta['inrz batched']:.2f}x\n")

    net = artifacts.load(args.model) if args.model else _train(shape, train_imgs, test_imgs, args.train_steps)
    host = PluginHost()
    rows = []
    for k in (3, 10):
        codec = _codec(host, net.hash, args.bits, k)
        signals = [codec.modality.from_array((im * 255).round().astype(np.uint8)) for im in test_imgs]
        enc_t = median(timed(lambda: codec.encode_batch(signals), 3)) / len(signals)
        data = codec.encode_batch(signals)
        dec_t = median(timed(lambda: [decode(d.data, host) for d in data], 3)) / len(signals)
        psnr = np.mean([host.create("metric", "psnr").compute(s, decode(d.data, host).signal, codec.modality)
                        for s, d in zip(signals, data)])
        bpp = np.mean([8 * len(d.data) / 1024 for d in data])
        rows.append({"inner_steps": k, "encode_ms_per_image": 1e3 * enc_t, "decode_ms_per_image": 1e3 * dec_t,
                     "psnr_db": float(psnr), "bpp_file": float(bpp)})
    print(f"2. encode/decode, base network {net.hash}, {len(test_imgs)} held-out images encoded together, "
          f"{args.bits}-bit latents, range coded")
    print(table(rows, list(rows[0])) + "\n")
    _bytes_table(host, net, test_imgs, args.bits)


def _train(shape, train_imgs, test_imgs, steps) -> artifacts.BaseNetwork:
    cfg = TrainConfig(dataset={"id": "folder", "path": "."}, patch=[32, 32], depth=shape.depth, width=shape.width,
                      latent_dim=shape.latent_dim, w0=shape.w0, steps=steps, batch_size=16, outer_lr=1e-3,
                      val_every=max(1, steps // 3), val_patches=20, checkpoint_every=steps, stats_patches=80,
                      quant_bits=[4, 5, 6, 8])
    start = time.perf_counter()
    net = train(cfg, TrainData(list(train_imgs), list(test_imgs), {"cifar10_test_100": "0:80"}), 0,
                torch.device("cpu"), artifacts.models_dir() / "bench-work", log=lambda m: print("   " + m))
    artifacts.save(net)
    print(f"   (trained {steps} steps in {time.perf_counter() - start:.0f} s: base network {net.hash})\n")
    return net


def _codec(host, model: str, bits: int, k: int, per_dim_stats=False, per_dim_table=False) -> Codec:
    stats = "per_dim" if per_dim_stats else "global"
    return Codec(host.create("modality", "image"), host.create("backend", {"id": "coinpp", "model": model,
                                                                           "inner_steps": k}),
                 host.create("quantizer", {"id": "latent_uniform", "model": model, "bits": bits,
                                           "per_dim": per_dim_stats}),
                 host.create("entropy", {"id": "table", "model": model, "per_dim": per_dim_table, "stats": stats}))


def _bytes_table(host, net, test_imgs, bits) -> None:
    rows = []
    for per_dim_stats in (False, True):
        codec = _codec(host, net.hash, bits, 3, per_dim_stats)
        results = codec.backend.encode(grid_coordinates([32, 32]), test_imgs, EncodeContext())
        latents = np.concatenate([r.tensors["latents"] for r in results])
        symbols = codec.quantizer.quantize({"latents": latents})[0]
        row = {"quantizer_stats": "per_dim" if per_dim_stats else "global", "symbols": symbols["latents"].size,
               "fixed_width_B": len(pack_bits(symbols["latents"], bits))}
        for per_dim_table in (False, True):
            model = _codec(host, net.hash, bits, 3, per_dim_stats, per_dim_table).entropy
            name = "per_dim_table" if per_dim_table else "global_table"
            row[f"{name}_B"] = len(model.encode(symbols, bits))
            row[f"{name}_xent_B"] = model.estimate_bits(symbols, bits) / 8
        rows.append(row)
    print(f"3. bytes of {len(test_imgs)} held-out images' latents ({bits} bits), all images in one range-coded stream")
    print(table(rows, list(rows[0])))
    for r in rows:
        print(f"   {r['quantizer_stats']} stats: range coded / cross-entropy = "
              f"{r['global_table_B'] / r['global_table_xent_B']:.4f} (global), "
              f"{r['per_dim_table_B'] / r['per_dim_table_xent_B']:.4f} (per dim); "
              f"per-dim / global table = {r['per_dim_table_B'] / r['global_table_B']:.3f}")


if __name__ == "__main__":
    main()
