"""Write golden containers that do not exist yet. They pin the format forever: an existing
file is never rewritten (delete it by hand only if the format change is intended).

    python tests/golden/make_golden.py

`*.v1.inrz` predate the header dictionary (flags 0); `*.v1d.inrz` use it (flags 1).
`ndarray_bounded_*.legacy.inrz` are error-bounded containers whose residual is the first
coder's (zigzag byte planes + zstd): readers keep decoding them after the coder changed.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from inrz import Codec, PluginHost, decode

HERE = Path(__file__).parent
SOURCE = HERE.parents[2] / "shared" / "data" / "kodak" / "kodim23.png"
T2M = HERE.parents[2] / "shared" / "data" / "climate" / "era5_t2m_2019-03_uk.npz"
#: error-bounded ndarray containers: name -> (scale, dtype, bound); float64 spacing at 3e22 is far above 1e-3, so
#: the second one's residual misses values and stores them as exceptions
BOUNDED = {"ndarray_bounded_0.2.legacy": (1.0, "f4", 0.2), "ndarray_bounded_exceptions.legacy": (1e20, "f8", 1e-3)}

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
    # payload format 2: started from the shipped medium prior, weights coded against it (named by its tag)
    "c3_medium_prior.v1d": {"id": "c3", "preset": "medium", "steps": 100, "lmbda": 0.01},
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
    bounded(host)


def bounded(host) -> None:
    """Error-bounded ndarray containers of an 8x12 crop of ERA5 t2m, expected output as .npy."""
    from inrz.archive.config import canonical, decode_array, encode_array

    crop = np.load(T2M)["t2m"][0, 10:18, 20:32]
    for name, (scale, dtype, bound) in BOUNDED.items():
        if (HERE / f"{name}.inrz").exists():
            continue
        config = canonical({"max_abs_error": bound, "backend": {"id": "coin", "depth": 1, "width": 4, "steps": 20}})
        data = encode_array(crop.astype(dtype) * scale, config)
        (HERE / f"{name}.inrz").write_bytes(data)
        np.save(HERE / f"{name}.expected.npy", decode_array(data), allow_pickle=False)
        print(name, len(data), "bytes")


if __name__ == "__main__":
    main()
