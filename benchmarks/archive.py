"""Error-bounded compression of climate fields: compression ratio at a maximum absolute
error for inrz (INR + quantized residual) against zstd on values quantized to the same bound,
ZFP (fixed accuracy) and SZ3 (absolute error bound) where they install, same data, same run.

    python benchmarks/archive.py [--bounds 0.5 0.1 0.02] [--steps 500]

Data: a day (24 hourly steps) of ERA5 2 m temperature over the UK (24x33x49 float32, K) and
12 months of CCSM global surface temperature (12x64x128 float32, K), one chunk each.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import zstandard
from _common import data_path, table

from inrz import Codec, PluginHost, decode
from inrz.pipeline.sizesearch import smallest_bounded


def quantized_zstd(x: np.ndarray, bound: float) -> tuple[int, float]:
    """The classical answer at the same bound: round to a 2*bound grid, zstd the integers."""
    q = np.rint((x.astype(np.float64) - x.min()) / (2 * bound)).astype(np.int32)
    size = len(zstandard.ZstdCompressor(level=19).compress(q.tobytes())) + 16  # + offset and step
    err = np.abs(q * (2 * bound) + x.min() - x).max()
    return size, float(err)


def zfp(x: np.ndarray, bound: float):
    try:
        import zfpy
    except ImportError as exc:
        return None, f"zfpy not installed ({exc})"
    data = zfpy.compress_numpy(x.astype(np.float64), tolerance=bound)
    return len(data), float(np.abs(zfpy.decompress_numpy(data) - x).max())


def sz3(x: np.ndarray, bound: float):
    try:
        from pysz import sz, szConfig, szErrorBoundMode
    except ImportError as exc:
        return None, f"pysz not installed ({exc})"
    cfg = szConfig(x.shape)
    cfg.errorBoundMode = szErrorBoundMode.ABS
    cfg.absErrorBound = bound
    data, _ = sz.compress(np.ascontiguousarray(x, np.float32), cfg)
    back = sz.decompress(data, np.float32, x.shape)
    back = back[0] if isinstance(back, tuple) else back
    return data.nbytes, float(np.abs(back.astype(np.float64) - x).max())


def inrz_bounded(x: np.ndarray, bound: float, host, steps: int, bpp: list[float]):
    codec = Codec(host.create("modality", "ndarray"),
                  host.create("backend", {"id": "coin", "bpp": bpp[0], "steps": steps, "lr": 1e-3}),
                  host.create("quantizer", "fp16"), host.create("entropy", "zstd"), max_abs_error=bound)
    start = time.perf_counter()
    signal = codec.modality.from_array(x)
    data = (smallest_bounded(codec, signal, bpp)[0] if len(bpp) > 1 else codec.encode(signal)).data
    seconds = time.perf_counter() - start
    back = decode(data, host).signal.data
    return len(data), float(np.abs(back.astype(np.float64) - x).max()), seconds


def datasets() -> dict[str, np.ndarray]:
    out = {"era5_uk_t2m_day": np.load(data_path("climate", "era5_t2m_2019-03_uk.npz"))["t2m"][:24]}
    try:
        import xarray as xr

        with xr.open_dataset(data_path("climate", "ccsm_b003_TS_monthly_global_64x128.nc"), decode_times=False) as ds:
            out["ccsm_ts_year"] = ds["TS"].values[:12].astype(np.float32)
    except ImportError:
        pass
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bounds", type=float, nargs="+", default=[0.5, 0.1, 0.02])
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--bpp", type=float, nargs="+", default=[0.05, 0.1, 0.25, 0.5],
                    help="INR sizes in bits per value (16-bit weights); several: keep the smallest file")
    args = ap.parse_args()
    host = PluginHost()
    rows = []
    for name, x in datasets().items():
        for bound in args.bounds:
            row = {"data": f"{name} {x.shape}", "bound_K": bound}
            size, err, secs = inrz_bounded(x, bound, host, args.steps, args.bpp)
            row.update(inrz_ratio=x.nbytes / size, inrz_maxerr=err, inrz_s=secs)
            size, err = quantized_zstd(x, bound)
            row.update(zstd_q_ratio=x.nbytes / size, zstd_q_maxerr=err)
            for label, fn in (("zfp", zfp), ("sz3", sz3)):
                size, err = fn(x, bound)
                row[f"{label}_ratio"] = x.nbytes / size if size else err
                row[f"{label}_maxerr"] = err if size else "-"
            rows.append(row)
            print(row, flush=True)
    print(f"\nratio = float32 bytes / compressed bytes; inrz: COIN {args.bpp} bpp, {args.steps} steps, "
          f"fp16 weights, error-bounded residual; all at the same max abs error")
    print(table(rows, list(rows[0])))


if __name__ == "__main__":
    main()
