"""Regenerate the golden containers. Run only on purpose: they pin format v1 forever.

    python tests/golden/make_golden.py
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from inrz.codec import Codec, decode
from inrz.plugins import PluginHost

HERE = Path(__file__).parent
SOURCE = HERE.parents[2] / "shared" / "data" / "kodak" / "kodim23.png"

CASES = {
    "coin_fp16_zstd": ({"id": "fp16"}, {"id": "zstd"}),
    "coin_uniform8_raw": ({"id": "uniform", "bits": 8}, {"id": "raw"}),
}


def main() -> None:
    host = PluginHost()
    modality = host.create("modality", "image")
    signal = modality.from_array(np.asarray(Image.open(SOURCE).convert("RGB"))[100:132, 200:248])  # 32x48 crop
    for name, (quantizer, entropy) in CASES.items():
        codec = Codec(modality, host.create("backend", {"id": "coin", "depth": 3, "width": 12, "steps": 200}),
                      host.create("quantizer", quantizer), host.create("entropy", entropy))
        data = codec.encode(signal).data
        (HERE / f"{name}.v1.inrz").write_bytes(data)
        Image.fromarray(decode(data, host).signal.data).save(HERE / f"{name}.v1.expected.png")
        print(name, len(data), "bytes")


if __name__ == "__main__":
    main()
