"""Write golden containers that do not exist yet. They pin the format forever: an existing
file is never rewritten (delete it by hand only if the format change is intended).

    python tests/golden/make_golden.py

`*.v1.inrz` predate the header dictionary (flags 0); `*.v1d.inrz` use it (flags 1).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from inrz import Codec, PluginHost, decode

HERE = Path(__file__).parent
SOURCE = HERE.parents[2] / "shared" / "data" / "kodak" / "kodim23.png"

CASES = {
    "coin_fp16_zstd.v1": ({"id": "fp16"}, {"id": "zstd"}),
    "coin_uniform8_raw.v1": ({"id": "uniform", "bits": 8}, {"id": "raw"}),
    "coin_fp16_zstd.v1d": ({"id": "fp16"}, {"id": "zstd"}),
    "coin_uniform6_zstd.v1d": ({"id": "uniform", "bits": 6}, {"id": "zstd"}),
}


def main() -> None:
    host = PluginHost()
    modality = host.create("modality", "image")
    signal = modality.from_array(np.asarray(Image.open(SOURCE).convert("RGB"))[100:132, 200:248])  # 32x48 crop
    for name, (quantizer, entropy) in CASES.items():
        if (HERE / f"{name}.inrz").exists():
            continue
        codec = Codec(modality, host.create("backend", {"id": "coin", "depth": 3, "width": 12, "steps": 200}),
                      host.create("quantizer", quantizer), host.create("entropy", entropy))
        data = codec.encode(signal).data
        (HERE / f"{name}.inrz").write_bytes(data)
        Image.fromarray(decode(data, host).signal.data).save(HERE / f"{name}.expected.png")
        print(name, len(data), "bytes")


if __name__ == "__main__":
    main()
