"""benchmarks/archive_scale.py on a tiny stack: region writes from 2 Dask worker processes with
a memory limit, peak RSS reported per worker, read back in a fresh process within the bound.
The >= 1 GB run is the program itself (results/archive/scale.txt)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import data_file

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "archive_scale.py"


@pytest.mark.slow  # a LocalCluster start and a fresh reader process: 30-60 s on 2 shared cores
def test_the_scale_program_writes_regions_and_reads_back_within_the_bound(tmp_path):
    pytest.importorskip("distributed")
    pytest.importorskip("xarray")
    data_file("climate", "era5_t2m_2019-03_uk.npz")
    done = subprocess.run([sys.executable, str(SCRIPT), "--members", "3", "--hours", "48", "--chunk-hours", "24",
                           "--members-per-task", "1", "--memory-limit", "1.5GiB", "--store", str(tmp_path / "s.zarr"),
                           "--out", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "scale.json").read_text())
    assert result["read"]["within"] and result["read"]["max_abs_error"] <= result["bound"]
    assert result["write"]["regions"] == 3
    workers = result["write"]["workers"].values()
    assert len(workers) == 2 and sum(w["members"] for w in workers) == 3
    assert all(0 < w["peak_rss_MB"] < w["memory_limit_MB"] for w in workers)
    assert not (tmp_path / "s.zarr").exists()  # the store is removed unless --keep
