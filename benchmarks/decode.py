"""Decode time per image: inrz's chunked batched forward vs the paper code's naive
full-batch nn.Module forward, and vs Pillow's JPEG decode, same process.

    python benchmarks/decode.py [--presets 5x20 10x28 13x49]
"""
from __future__ import annotations

import argparse
import io

import numpy as np
import torch
from _common import data_path, median, table, timed
from fit_step import naive_model
from PIL import Image

from inrz import Codec, PluginHost, decode, grid_coordinates
from inrz_coin import model as siren


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", nargs="+", default=["5x20", "10x28", "13x49"])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    host = PluginHost()
    modality = host.create("modality", "image")
    signal = modality.load(data_path("kodak", "kodim15.png"))
    jpeg = host.create("baseline", "jpeg")
    rows = []
    for preset in args.presets:
        codec = Codec(modality, host.create("backend", {"id": "coin", "preset": preset, "steps": 1}),
                      host.create("quantizer", "fp16"), host.create("entropy", "zstd"))
        data = codec.encode(signal).data  # weights barely fitted: decode cost does not depend on them
        ours = timed(lambda: decode(data, host), args.repeats)
        shape = codec.backend.shape((512, 768), 2, 3)
        model = naive_model(siren.init_params(shape, 1, torch.Generator().manual_seed(0)), shape.w0)
        x = torch.from_numpy(grid_coordinates((512, 768)).reshape(-1, 2))

        def naive():
            with torch.no_grad():
                model(x).clamp(0, 1).mul(255).round().to(torch.uint8).numpy().reshape(512, 768, 3)

        base = timed(naive, args.repeats)
        jpeg_bytes = jpeg.at_size(signal, len(data)).data
        jpeg_t = timed(lambda: np.asarray(Image.open(io.BytesIO(jpeg_bytes))), args.repeats)
        rows.append({"preset": preset, "arch": f"{shape.depth}x{shape.width}", "inrz_decode_s": median(ours),
                     "naive_forward_s": median(base), "naive/inrz": median(base) / median(ours),
                     "jpeg_decode_s": median(jpeg_t), "inrz/jpeg": median(ours) / median(jpeg_t)})
    print(f"kodim15 768x512, median of {args.repeats}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("inrz_decode_s is the whole path: container parse, entropy decode, dequantize, forward, uint8 output")
    print(table(rows, list(rows[0])))


if __name__ == "__main__":
    main()
