"""Write golden archive chunks (frames of `inrz.archive.frames`) that do not exist yet. They pin
the chunk format: an existing file is never rewritten (delete one by hand only if the format
change is intended).

    python tests/golden/archive/make_archive_golden.py

`*.r11.*`: error-bounded residual frames whose residual is tag 0x11 (numpy predictors and the
constriction context coder, the archive codec before the compiled coder); `*.r12.*`: tag 0x12
(the compiled interpolation and binary context coder of issue 24); `*.r13.*`: tag 0x13 (the same
with level-wise steps; written by 13491f4's default encoder, which tried them: today only
`effort: best` tries them, where they code smaller than the multi-dimensional interpolation); `*.r14.*`: tag 0x14 (multi-dimensional
interpolation, `effort: best`). Decoders keep reading all four.
Residual cases are written under the tag the encoder writes now.
Each `NAME.bin` is one chunk exactly as a zarr store holds it; `NAME.npy` what it decodes to.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from inrz.archive.config import canonical, decode_array, encode_array
from inrz.coding.errorbound import TAG

HERE = Path(__file__).parent
T2M = HERE.parents[3] / "shared" / "data" / "climate" / "era5_t2m_2019-03_uk.npz"


def cases() -> dict[str, tuple[np.ndarray, dict]]:
    t2m = np.load(T2M)["t2m"]  # (744, 33, 49) float32, K
    rng = np.random.default_rng(24)
    with_specials = t2m[100, :20, :30].copy()
    with_specials[3, 4], with_specials[7, :5], with_specials[10, 10] = np.nan, np.inf, -9999.0
    noisy = (t2m[200, :16, :16] + rng.normal(0, 0.5, (16, 16))).astype(np.float32)
    return {
        f"t2m_2d_b0.1.r{TAG:x}": (t2m[0], {"max_abs_error": 0.1}),
        f"t2m_2d_b1.0.r{TAG:x}": (t2m[0], {"max_abs_error": 1.0}),
        f"t2m_3d_b0.01.r{TAG:x}": (t2m[:6, :24, :24], {"max_abs_error": 0.01}),
        f"t2m_1d_b0.05.r{TAG:x}": (t2m[:300, 16, 20].copy(), {"max_abs_error": 0.05}),
        f"t2m_4d_b0.2.r{TAG:x}": (t2m[:8, :12, :12].reshape(2, 4, 12, 12), {"max_abs_error": 0.2}),
        f"t2m_f64_b1e-3.r{TAG:x}": (t2m[5, :16, :24].astype(np.float64), {"max_abs_error": 1e-3}),
        f"int16_b3.r{TAG:x}": (np.rint(t2m[300, :20, :20] * 10).astype(np.int16), {"max_abs_error": 3.0}),
        f"specials_b0.1.r{TAG:x}": (with_specials, {"max_abs_error": 0.1, "fill_values": [-9999.0]}),
        f"noisy_lorenzo_b0.01.r{TAG:x}": (noisy, {"max_abs_error": 0.01}),
        f"planes_b0.2.r{TAG:x}": (np.stack([t2m[0], t2m[300], t2m[600], t2m[700]])[:, :20, :30], {"max_abs_error": 0.2}),
        "t2m_3d_b0.5.r13": (t2m[:16, :24, :24], {"max_abs_error": 0.5}),  # level-wise steps (tag 0x13)
        "planes_b2.5.r13": (np.stack([t2m[0], t2m[300], t2m[600], t2m[700]])[:, :20, :30], {"max_abs_error": 2.5}),
        "t2m_3d_b0.2.r14": (t2m[:16, :24, :24], {"max_abs_error": 0.2, "effort": "best"}),  # multi-dimensional (0x14)
        "planes_b0.05.r14": (np.stack([t2m[0], t2m[300], t2m[600], t2m[700]])[:, :40, :49],
                             {"max_abs_error": 0.05, "effort": "best"}),
        "constant": (np.full((5, 7), 2.5, np.float32), {"max_abs_error": 0.1}),
        "zstd_tiny": (np.arange(6, dtype=np.float32), {"max_abs_error": 1e-9}),
    }


def main() -> None:
    index = {}
    for name, (array, config) in cases().items():
        index[name] = {"shape": list(array.shape), "dtype": array.dtype.str, "config": config}
        chunk, expected = HERE / f"{name}.bin", HERE / f"{name}.npy"
        if chunk.exists():
            continue
        data = encode_array(array, canonical({"preset": "fast", **config}))
        np.save(expected, decode_array(data, array.size, array.dtype))
        chunk.write_bytes(data)
        print(f"wrote {chunk.name}: {len(data)} bytes, frame kind {data[0]}")
    index_path = HERE / "index.json"
    known = json.loads(index_path.read_text()) if index_path.exists() else {}
    index_path.write_text(json.dumps({**index, **known}, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
