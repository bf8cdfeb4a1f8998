"""Regenerate data/era5_t2m_points.csv from the ERA5 file in the repository's shared data.

    python tools/make_data.py [path/to/era5_t2m_2019-03_uk.npz]

Takes the hourly 2 m temperature (K) of March 2019 at four 0.25-degree grid points, the ones
nearest four UK cities, and writes it with the plugin's own `save`, so the file is exactly
what `load` reads back. Needs only numpy and the installed plugin.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from inrz_timeseries import TimeseriesModality

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parents[3] / "shared" / "data" / "climate" / "era5_t2m_2019-03_uk.npz"
#: column name -> (latitude, longitude) of the grid point
POINTS = {"london": (51.5, -0.25), "cardiff": (51.5, -3.25), "edinburgh": (56.0, -3.25), "belfast": (54.5, -6.0)}


def main(source: Path) -> None:
    era5 = np.load(source)
    lat, lon, t2m = era5["latitude"], era5["longitude"], era5["t2m"]  # t2m: (744 hours, lat, lon)
    columns = [t2m[:, int(np.argmin(abs(lat - y))), int(np.argmin(abs(lon - x)))] for y, x in POINTS.values()]
    series = np.stack(columns, axis=1).astype(np.float32)  # (744, 4)
    modality = TimeseriesModality()
    out = HERE.parent / "data" / "era5_t2m_points.csv"
    modality.save(modality.from_array(series, {"columns": list(POINTS)}), out)
    print(f"{out}: {series.shape[0]} hours x {series.shape[1]} points, {out.stat().st_size} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
