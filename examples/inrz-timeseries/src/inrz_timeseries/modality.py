"""Time series in CSV files: one column per channel, a header row of names, one row per time step.

Samples are taken as regularly spaced: time is not stored, it becomes the coordinate t in
[-1, 1] (first row -1, last row +1), so decoding with `scale=2` renders twice as many steps.
Each channel is normalised by its own min/max (kept in `norm`, hence in the container header),
so a channel in kelvin and one in pascal are fitted equally well.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from inrz import ComponentConfig, ContainerError, InrzError, Modality, Signal, fields


class TimeseriesError(InrzError):
    """A CSV file or array cannot be read or written as a time series."""


class TimeseriesConfig(ComponentConfig):
    dtype: Literal["float32", "float64"] = "float32"  # how values are read from CSV
    delimiter: str = ","  # the CSV field separator


class TimeseriesModality(Modality):
    """Regularly sampled series as `(T, C)` float arrays; meta keeps the column names."""

    id = "timeseries"
    Config: ClassVar = TimeseriesConfig
    extensions = (".csv",)
    unit = "step"
    default_metrics = ("range_psnr", "rmse", "max_abs_error")

    @classmethod
    def example_signal(cls) -> Signal:
        """24 hours of ERA5 2 m temperature (K) at two UK grid points (see the package README)."""
        return cls().from_array(np.array(EXAMPLE_T2M, np.float32).T, {"columns": ["london", "edinburgh"]})

    def load(self, path: str | Path) -> Signal:
        try:
            with open(path, newline="", encoding="utf-8") as f:
                rows = list(csv.reader(f, delimiter=self.config.delimiter))
        except OSError as exc:
            raise TimeseriesError(f"cannot read {path}: {exc.strerror or exc}") from exc
        except (UnicodeDecodeError, csv.Error) as exc:  # not text, or a NUL byte
            raise TimeseriesError(f"cannot read {path} as UTF-8 CSV text: {exc}") from exc
        if len(rows) < 2:
            raise TimeseriesError(f"{path}: expected a header row of column names and at least one row of values")
        if _numeric(rows[0]):
            raise TimeseriesError(f"{path}:1: the first row holds numbers; add a header row naming the columns")
        return self.from_array(_values(rows, path, self.config.dtype), {"columns": rows[0]})

    def save(self, signal: Signal, path: str | Path) -> None:
        """The same header; each value in the shortest text that reads back to the same float."""
        data = self.from_array(signal.data, signal.meta)
        with open(path, "w", newline="") as f:
            writer = csv.writer(f, delimiter=self.config.delimiter, lineterminator="\n")
            writer.writerow(data.meta["columns"])
            writer.writerows([str(v) for v in row] for row in data.data)

    def from_array(self, array: np.ndarray, meta: dict[str, Any] | None = None) -> Signal:
        """`(T,)` or `(T, C)` floats; column names from `meta["columns"]`, else c0, c1, ..."""
        data = np.asarray(array)
        data = data[:, None] if data.ndim == 1 else data
        if data.ndim != 2 or data.shape[0] < 2 or data.shape[1] < 1 or data.dtype.kind != "f":
            raise TimeseriesError(f"a time series is a (T, C) float array with T >= 2, got {data.dtype} {data.shape}; "
                                  "convert with np.asarray(x, np.float32)")
        if not np.isfinite(data).all():
            raise TimeseriesError("the series has NaN or inf values; fill or drop them first")
        columns = list((meta or {}).get("columns") or [f"c{i}" for i in range(data.shape[1])])
        if len(columns) != data.shape[1]:
            raise TimeseriesError(f"{len(columns)} column names for {data.shape[1]} channels")
        return Signal(data, {"shape": list(data.shape), "dtype": data.dtype.name, "columns": columns})

    def to_features(self, signal: Signal) -> tuple[np.ndarray, dict[str, Any]]:
        data = signal.data.astype(np.float64)
        lo, hi = data.min(axis=0), data.max(axis=0)
        span = np.where(hi > lo, hi - lo, 1.0)
        return ((data - lo) / span).astype(np.float32), {"min": lo.tolist(), "max": hi.tolist()}

    def from_features(self, features: np.ndarray, meta: dict[str, Any], norm: dict[str, Any]) -> Signal:
        lo, hi = np.asarray(norm["min"], np.float64), np.asarray(norm["max"], np.float64)
        span = np.where(hi > lo, hi - lo, 1.0)
        data = (np.clip(features.astype(np.float64), 0.0, 1.0) * span + lo).astype(meta["dtype"])
        return Signal(data, {**meta, "shape": list(data.shape)})

    def check_header(self, meta, norm, grid_shape, d_out) -> None:
        """What `from_features` and `save` read: a float dtype, one column name and one finite
        (min, max) per channel. Headers come from files, so nothing is taken on trust."""
        top = float(np.finfo(fields.dtype(meta, "dtype", "meta", allowed=("float32", "float64"))).max)
        columns = meta.get("columns")
        if len(grid_shape) != 1 or meta.get("shape") != [*grid_shape, d_out] or not (
                isinstance(columns, list) and len(columns) == d_out and all(isinstance(c, str) for c in columns)):
            raise ContainerError(f"header meta must describe a 1-D series of {list(grid_shape)} steps and name its "
                                 f"{d_out} channels (shape, columns)")
        lo = fields.number_list(norm, "min", "norm", length=d_out)
        hi = fields.number_list(norm, "max", "norm", length=d_out)
        if not all(-top <= a <= b <= top and b - a <= top for a, b in zip(lo, hi)):
            raise ContainerError("header norm min/max must be finite ranges in the series' dtype")


def _values(rows: list[list[str]], path, dtype: str) -> np.ndarray:
    """Parse the rows under the header, naming the first line that is not numbers."""
    width = len(rows[0])
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            raise TimeseriesError(f"{path}:{line}: {len(row)} values, the header names {width} columns")
    try:
        return np.array(rows[1:], dtype=np.float64).astype(dtype)
    except ValueError as exc:
        bad = next(i for i, row in enumerate(rows[1:], start=2) if not _numeric(row))
        raise TimeseriesError(f"{path}:{bad}: not a row of numbers: {rows[bad - 1]!r}") from exc


def _numeric(row: list[str]) -> bool:
    try:
        [float(v) for v in row]
    except ValueError:
        return False
    return True


#: ERA5 2 m temperature (K), 2019-03-01 00:00-23:00 UTC, the grid points nearest London and
#: Edinburgh: the first 24 rows of two columns of data/era5_t2m_points.csv
EXAMPLE_T2M = (
    (281.60254, 281.43677, 281.4673, 281.4712, 281.30554, 281.17102, 280.92786, 280.7168, 280.7102, 280.94775,
     281.2456, 281.6499, 282.36792, 282.76172, 283.01477, 283.19324, 282.82166, 282.6991, 282.21375, 282.27625,
     281.78894, 281.24585, 280.77954, 280.28357),
    (278.56152, 278.64966, 278.4497, 278.58252, 278.4032, 278.49524, 278.6681, 278.5039, 278.30005, 278.72705,
     279.59717, 280.29443, 281.0066, 281.75977, 282.3097, 282.55066, 282.51306, 282.14832, 281.57703, 281.23718,
     280.7987, 280.17163, 280.2776, 280.182),
)
