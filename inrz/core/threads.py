"""CPU threads, decided in one place: how many inrz uses, and how its hot loops use them.

Why: torch starts one OpenMP thread per core of the machine, ignoring the CPU affinity mask
and a container's CPU quota, and its threads spin at the end of every parallel region. When
another process takes a core, each of the COIN fit step's thousands of small regions waits
for a descheduled thread, and a step becomes tens of times slower. So inrz

- counts the CPUs it may really use (affinity mask, cgroup v1/v2 quota); `--threads`,
  `INRZ_NUM_THREADS` or `OMP_NUM_THREADS` override the count;
- asks OpenMP to sleep rather than spin while it waits (`OMP_WAIT_POLICY=PASSIVE` unless the
  environment sets a policy). OpenMP reads it once, when torch loads, so `inrz/__init__.py`
  imports this module before anything imports torch;
- never imports torch itself at import time: a decode that needs no torch (c3) must not pay
  its ~2 s. The decision applies to torch at once when torch is loaded, else when an encoder
  calls `for_torch()` before fitting (`Codec.encode`, training);
- runs a hot loop's independent chunks on its own worker threads, each single-threaded in
  torch (`map_ordered`): one join per step instead of a barrier per small operation, and a
  busy core slows the step by its share only.
"""
from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence, TypeVar

from .errors import SpecError

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads libgomp (see the docstring)

THREADS_ENV = "INRZ_NUM_THREADS"
T = TypeVar("T")
R = TypeVar("R")

_lock = threading.Lock()
_state: dict = {"threads": None, "pool": None, "pool_size": 0, "applied": False}


def available_cpus() -> int:
    """CPUs this process may run on: the affinity mask, capped by a cgroup CPU quota."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        count = os.cpu_count() or 1
    quota = cgroup_quota()
    return max(1, min(count, int(quota + 0.5)) if quota else count)


def cgroup_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The CPU quota of this process's cgroup in CPUs (cgroup v2 `cpu.max`, v1 `cfs_quota_us`), or None."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return quota / period if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None


def default_threads() -> int:
    """`INRZ_NUM_THREADS`, else `OMP_NUM_THREADS`, else the available CPUs."""
    for name in (THREADS_ENV, "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value:
            return _parse(value, name)
    return available_cpus()


def _parse(value: str, name: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise SpecError(f"{name}={value!r}: the thread count must be a positive integer")
    return n


def configure(threads: int | None = None) -> int:
    """Decide the thread count once (or again, when `threads` is given) and apply it to torch.

    The CLI (`--threads`), the Python API and the archive codecs call this; a later call
    without `threads` keeps the first decision, so an embedding application's choice stands.
    """
    with _lock:
        if threads is None and _state["threads"] is not None:
            return _state["threads"]
        n = default_threads() if threads is None else _parse(str(threads), "threads")
        _state["threads"] = n
        _state["applied"] = "torch" in sys.modules  # loaded already: apply now; else `for_torch` will
        if _state["applied"]:
            sys.modules["torch"].set_num_threads(n)
        return n


def for_torch():
    """torch, loaded now if it is not yet, running the decided thread count: what encoders call
    before fitting, so a process that only decodes never loads torch."""
    import torch  # lazily: the torch-free decode path (see the module docstring)

    n = workers()
    with _lock:
        if not _state["applied"]:
            torch.set_num_threads(n)
            _state["applied"] = True
    return torch


def workers() -> int:
    """How many chunks a hot loop runs at once."""
    return _state["threads"] or configure()


def map_ordered(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`[fn(item) for item in items]`, the items spread over the worker threads, each running
    torch single-threaded. Results come back in item order, so a caller that reduces them in
    that order gets the same bits whatever the thread count or the scheduling."""
    n = min(workers(), len(items))
    if n <= 1:
        with single_threaded():
            return [fn(item) for item in items]
    pool = _pool(n)
    queue = iter(range(len(items)))
    take = threading.Lock()
    results: list = [None] * len(items)

    def drain() -> None:  # dynamic hand-out: a worker slowed by a busy core simply takes fewer chunks
        while True:
            with take:
                i = next(queue, None)
            if i is None:
                return
            results[i] = fn(items[i])

    for future in [pool.submit(drain) for _ in range(n)]:
        future.result()
    return results


def _pool(n: int) -> ThreadPoolExecutor:
    torch = for_torch()
    with _lock:
        if _state["pool_size"] < n:
            if _state["pool"] is not None:
                _state["pool"].shutdown(wait=False)
            pool = ThreadPoolExecutor(n, thread_name_prefix="inrz", initializer=_one_torch_thread)
            started = threading.Barrier(n)  # start all n workers now, so their initializers are done...
            for future in [pool.submit(started.wait) for _ in range(n)]:
                future.result()
            torch.set_num_threads(_state["threads"] or n)  # ...before restoring torch's default for other threads
            _state["pool"], _state["pool_size"] = pool, n
        return _state["pool"]


_executors: dict[str, tuple[ThreadPoolExecutor, int]] = {}


def executor(name: str, n: int) -> ThreadPoolExecutor:
    """A process-wide pool of at least `n` threads (named inrz-`name`) for compiled kernels that
    release the GIL, kept between calls. The work it is given must not wait on work given to
    the same pool (a caller waits on it, never a worker). A forked child starts without it
    (`_after_fork`)."""
    with _lock:
        pool, size = _executors.get(name, (None, 0))
        if pool is None or size < n:
            if pool is not None:
                pool.shutdown(wait=False)
            pool = ThreadPoolExecutor(n, thread_name_prefix=f"inrz-{name}")
            _executors[name] = (pool, n)
        return pool


def _after_fork() -> None:
    """In a forked child (multiprocessing's or Dask's process workers on Linux): none of the
    parent's worker threads exist there, so a pool carried over would queue work that never
    runs. Forget the pools and the lock (which another thread may have held at the fork); the
    next call starts new ones."""
    global _lock
    _lock = threading.Lock()
    _executors.clear()
    _state["pool"], _state["pool_size"] = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def _one_torch_thread() -> None:
    """A worker's torch runs on one thread. Torch applies its process default to a thread the
    first time the thread asks, so ask first, then set."""
    import torch  # lazily (module docstring); loaded by `_pool` before any worker starts

    torch.get_num_threads()
    torch.set_num_threads(1)


@contextmanager
def single_threaded() -> Iterator[None]:
    """Torch on one thread in the calling thread for the block (tiny work runs fastest so)."""
    torch = for_torch()
    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
