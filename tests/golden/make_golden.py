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
#: latent-grid containers (the backend codes its own payload; quantizer/entropy are not used)
C3_CASES = {
    "c3_fast.v1d": {"id": "c3", "preset": "fast", "steps": 150, "lmbda": 0.004},
    "c3_medium_1level.v1d": {"id": "c3", "preset": "medium", "steps": 100, "lmbda": 0.02, "levels": 1},
}


def main() -> None:
    host = PluginHost()
    modality = host.create("modality", "image")
    signal = modality.from_array(np.asarray(Image.open(SOURCE).convert("RGB"))[100:132, 200:248])  # 32x48 crop
    coin = {"id": "coin", "depth": 3, "width": 12, "steps": 200}
    cases = {**{name: (coin, q, e) for name, (q, e) in CASES.items()},
             **{name: (backend, {"id": "fp16"}, {"id": "zstd"}) for name, backend in C3_CASES.items()}}
    for name, (backend, quantizer, entropy) in cases.items():
        if (HERE / f"{name}.inrz").exists():
            continue
        codec = Codec(modality, host.create("backend", backend), host.create("quantizer", quantizer),
                      host.create("entropy", entropy))
        data = codec.encode(signal).data
        (HERE / f"{name}.inrz").write_bytes(data)
        Image.fromarray(decode(data, host).signal.data).save(HERE / f"{name}.expected.png")
        print(name, len(data), "bytes")


if __name__ == "__main__":
    main()
