"""Progress for the API and the CLI: a callback `(step, total, figures)`, or a bar on stderr."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

from tqdm.auto import tqdm

from ..backends.base import Progress


@contextmanager
def progress_callback(progress: Progress | bool | None, desc: str = "fit") -> Iterator[Progress | None]:
    """`progress` as a callback: True draws a bar on stderr (a new one per fit, when rate control
    fits several configurations), a callable is used as it is, None/False reports nothing."""
    if not progress:
        yield None
        return
    if callable(progress):
        yield progress
        return
    bars: list = []

    def update(step: int, total: int, figures: dict[str, float]) -> None:
        if not bars or step == 1 or bars[-1].total != total:
            if bars:
                bars[-1].close()
            bars.append(tqdm(total=total, unit="step", desc=desc, file=sys.stderr, dynamic_ncols=True))
        bar = bars[-1]
        bar.update(step - bar.n)
        if "psnr" in figures:
            bar.set_postfix_str(f"psnr {figures['psnr']:.2f}", refresh=False)

    try:
        yield update
    finally:
        for bar in bars:
            bar.close()


def terminal() -> bool:
    """Whether stderr is a terminal (the CLI draws bars only then)."""
    return sys.stderr.isatty()


__all__: list[str] = ["progress_callback", "terminal"]
