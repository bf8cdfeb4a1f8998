"""Dask: a worker plugin that sets every worker's torch thread count.

Each Dask worker process fits its own chunks; left alone, torch gives each one a thread per
core, and OpenMP threads spinning on a shared core collapse throughput. Register it before
writing:

    client.register_plugin(inrz.TorchThreads(1))

(also set `OMP_NUM_THREADS=1` in the workers' environment, e.g. `LocalCluster(env=...)`, so
the OpenMP pool is small from the start).
"""
from __future__ import annotations

import os

import torch

from ..core.errors import require

_plugin = require("distributed.diagnostics.plugin", "dask")


class TorchThreads(_plugin.WorkerPlugin):
    name = "inrz-torch-threads"

    def __init__(self, threads: int = 1):
        self.threads = threads

    def setup(self, worker) -> None:
        os.environ["OMP_NUM_THREADS"] = str(self.threads)
        torch.set_num_threads(self.threads)
