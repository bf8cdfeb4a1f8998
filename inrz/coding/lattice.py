"""The coarse-to-fine visiting order the error-bounded residual shares with its entropy coder.

Points are visited on nested lattices, as in SZ3's interpolation: first the origin (the
anchor), then for each stride h = 2^(L-1) ... 1 and each axis d in turn, the points at odd
multiples of h along d, on stride h along the axes before d and stride 2h along those after.
Every point of a pass lies halfway between two points of earlier passes along d, so it can be
predicted from them, and so can its entropy coder's context: decoding one pass needs only
what earlier passes decoded, which lets numpy handle a whole pass at once.
"""
from __future__ import annotations

from typing import Iterator, Sequence

Index = tuple[slice, ...]


def levels(shape: Sequence[int]) -> int:
    """L: the number of halvings that take the largest axis down to one point."""
    return max(0, (max(shape) - 1).bit_length())


def passes(shape: Sequence[int]) -> Iterator[tuple[int, int]]:
    """(stride h, axis d) in visiting order; the anchor pass is (2^L, -1)."""
    h = 1 << levels(shape)
    yield h, -1
    while h > 1:
        h //= 2
        for d in range(len(shape)):
            if shape[d] > h:  # an axis no longer than h has no point at an odd multiple of h
                yield h, d


def targets(ndim: int, h: int, d: int) -> Index:
    """The points a pass visits (the anchor pass: the origin's lattice)."""
    if d < 0:
        return tuple(slice(0, None, h) for _ in range(ndim))
    return tuple(slice(0, None, h) if a < d else slice(h, None, 2 * h) if a == d else slice(0, None, 2 * h)
                 for a in range(ndim))


def sources(ndim: int, h: int, d: int) -> Index:
    """The lattice a pass lives on: its points are the odd indices along d, earlier passes' the even ones."""
    return tuple(slice(0, None, h) if a <= d else slice(0, None, 2 * h) for a in range(ndim))
