"""Compiled kernels run over ranges of rows on inrz's worker threads (`threads.executor`): the
renderer's and the latent pyramid's (`render`, `latent_pyramid`)."""
from __future__ import annotations

from inrz import threads

TASK_WORK = 1 << 18  # about this many multiply-adds per task (~0.1-1 ms)


def run(kernel, args: tuple, ranges: list[tuple[int, int]]) -> None:
    """kernel(*args, lo, hi) for every range, on up to `threads.workers()` threads (the kernels
    release the GIL and write disjoint outputs)."""
    n = min(threads.workers(), len(ranges))
    if n <= 1:
        for lo, hi in ranges:
            kernel(*args, lo, hi)
        return
    pool = threads.executor("c3", n)
    for future in [pool.submit(kernel, *args, lo, hi) for lo, hi in ranges]:
        future.result()


def split(n: int, work_per_item: int, unit: int = 1) -> list[tuple[int, int]]:
    """[0, n) in ranges of about TASK_WORK multiply-adds, at least one per worker when n allows,
    each starting at a multiple of `unit` (a range of whole units: the renderer's bands)."""
    units = -(-n // unit)
    parts = max(1, min(units, max(threads.workers(), n * work_per_item // TASK_WORK)))
    bounds = [min(n, unit * (units * i // parts)) for i in range(parts + 1)]
    return [(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]
