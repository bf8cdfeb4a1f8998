"""Predictors of the error-bounded residual: how each value is guessed from values decoded
before it, so that only the (mostly tiny) integer corrections are stored.

- `interpolation` (SZ3's predictor, Liang et al. 2022): coarse-to-fine along the passes of
  `inrz.coding.lattice`, each point predicted by linear or cubic interpolation of the
  *reconstructed* values around it, and the correction k = round((r - pred) / step) stored.
  Where a field is smooth at the scale of the bound, the prediction is already within the
  bound and k = 0, which is what makes large bounds cheap.
- `lorenzo` (Ibarria et al. 2003, as in SZ and cuSZ): the residual is first rounded to the
  step grid, and the grid's finite differences along chosen axes are stored; decoding is a
  cumulative sum per axis. Best where values change at the scale of the step (tight bounds).

Interpolation runs compiled (`inrz.coding.interp3`, `compiled=True`: residual tag 0x12) on the
chunk's 3-D lattice view (`inrz.coding.lattice3`); on arrays of at most three axes it is the
numpy loop below bit for bit, which stays as the decoder of tag 0x11 and the tests' oracle.

Reconstruction uses only IEEE basic operations (add, multiply by exact constants) in a
fixed order, so it is the same on every machine; the encoder returns exactly what the
decoder will rebuild, and checks the bound against that.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from . import interp3, ranking
from .lattice import passes, sources, targets

KMAX = 2.0**50  # corrections beyond this many steps are clipped (the value becomes an exception)
KINDS = ("linear", "cubic", "lorenzo")  # predictor kinds, numbered in that order in residual sections


@dataclass(frozen=True)
class Predictor:
    """`kind` "linear" / "cubic" (interpolation) or "lorenzo"; `axes` a bit per axis: for
    interpolation, bit 0 reverses the axis order, and (compiled only) bit 1 interpolates each
    plane of the 3-D view's first axis on its own; for Lorenzo, the axes differenced."""

    kind: str
    axes: int = 0
    compiled: bool = False  # interpolation: the compiled kernel on the 3-D view (residual tag 0x12)
    tune: int = 0  # compiled interpolation: level-wise steps `interp3.TUNES[tune]` (0: uniform; tag 0x13 otherwise)

    def encode(self, r: np.ndarray, step: float, keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Corrections (int64) and the reconstruction (float64) of residual `r`; where `keep`
        is False the value does not matter (it is stored elsewhere) and costs nothing."""
        if self.kind == "lorenzo":
            if self.compiled and sum(n > 1 for n in r.shape) <= 3:  # the same integers, one compiled pass
                return ranking.lorenzo(r, step, self.axes)
            q = _round(r / step)
            return lorenzo_forward(q, self.axes), q.astype(np.float64) * step
        if self.compiled:
            k, rec = interp3.encode(self._view(r), step, self.kind == "cubic", self._view(keep), bool(self.axes & 2),
                                    self.tune)
        else:
            k, rec = _interpolate(self._view(r), step, self.kind == "cubic", None, self._view(keep))
        return self._unview(k), self._unview(rec)

    def decode(self, k: np.ndarray, step: float) -> np.ndarray:
        if self.kind == "lorenzo":
            return lorenzo_inverse(k, self.axes).astype(np.float64) * step
        if self.compiled:
            return self._unview(interp3.decode(self._view(k), step, self.kind == "cubic", bool(self.axes & 2),
                                               self.tune))
        return self._unview(_interpolate(None, step, self.kind == "cubic", self._view(k), None)[1])

    def _view(self, a):
        return a if a is None or not self.axes & 1 else a.transpose()

    def _unview(self, a):
        return a if not self.axes & 1 else a.transpose()


def candidates(shape: tuple[int, ...], compiled: bool = False) -> list[Predictor]:
    """The predictors the encoder tries: interpolation both ways, Lorenzo on every subset of
    the axes longer than one (differencing a length-1 axis predicts nothing)."""
    return list(_candidates(tuple(int(n) for n in shape), compiled))


@functools.lru_cache(maxsize=256)
def _candidates(shape: tuple[int, ...], compiled: bool) -> tuple[Predictor, ...]:
    long = [a for a, n in enumerate(shape) if n > 1]
    out = [Predictor(kind, order, compiled) for kind in ("cubic", "linear")
           for order in ((0, 1) if len(long) > 1 else (0,))]
    if compiled and len(long) > 2:  # planes of a thin leading axis (levels, months) on their own
        out += [Predictor(kind, 2, compiled) for kind in ("cubic", "linear")]
    masks = {sum(1 << long[i] for i in range(len(long)) if pick >> i & 1) for pick in range(1, 1 << len(long))}
    return tuple(out + [Predictor("lorenzo", mask, compiled) for mask in sorted(masks)])


def _round(values: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(values, -KMAX, KMAX)).astype(np.int64)


def lorenzo_forward(q: np.ndarray, axes: int) -> np.ndarray:
    e = q
    for a in range(q.ndim):
        if axes >> a & 1:
            e = np.diff(e, axis=a, prepend=0)
    return e


def lorenzo_inverse(e: np.ndarray, axes: int) -> np.ndarray:
    q = e
    for a in range(e.ndim):
        if axes >> a & 1:
            q = np.cumsum(q, axis=a)
    return q


def _interpolate(r, step, cubic, k_in, keep):
    """Encode (`r` given) or decode (`k_in` given) along the lattice passes."""
    shape = r.shape if r is not None else k_in.shape
    rec = np.zeros(shape, np.float64)
    k_all = np.zeros(shape, np.int64) if k_in is None else k_in
    for h, d in passes(shape):
        t = targets(len(shape), h, d)
        pred = 0.0 if d < 0 else _predict(rec[sources(len(shape), h, d)], d, cubic)
        if k_in is None:
            k = _round((r[t] - pred) / step)
            if keep is not None:
                k[~keep[t]] = 0
            k_all[t] = k
        rec[t] = pred + k_all[t].astype(np.float64) * step
    return k_all, rec


def _predict(S: np.ndarray, d: int, cubic: bool) -> np.ndarray:
    """Predictions for the odd indices of S along d from its even ones (SZ3's formulas:
    cubic inside, quadratic one step from a border, linear, then linear extrapolation).

    Target t sits at index 2t + 1, between a0 = S[2t] and a1 = S[2t + 2]; am = S[2t - 2] and
    a2 = S[2t + 4] are the next ones out. Views along d, so no index arrays are built."""
    m = S.shape[d]
    nt, n1, n2 = m // 2, (m - 1) // 2, max(0, (m - 3) // 2)  # targets; those with a1; those with a2

    def at(start: int, count: int) -> np.ndarray:
        index = [slice(None)] * S.ndim
        index[d] = slice(start, start + 2 * count - 1, 2) if count > 0 else slice(0, 0)
        return S[tuple(index)]

    def part(a: np.ndarray, lo: int, hi: int) -> np.ndarray:
        index = [slice(None)] * S.ndim
        index[d] = slice(lo, hi)
        return a[tuple(index)]

    a0 = at(0, nt)
    pred = np.array(a0, dtype=np.float64)
    a1, am, a2 = at(2, n1), at(0, nt - 1), at(4, n2)  # am[t - 1] = S[2t - 2]
    out = lambda lo, hi: part(pred, lo, hi)  # noqa: E731
    out(0, n1)[...] = (part(a0, 0, n1) + a1) * 0.5
    if nt > max(n1, 1):  # no right neighbour: extrapolate from the two on the left
        lo = max(n1, 1)
        out(lo, nt)[...] = 1.5 * part(a0, lo, nt) - 0.5 * part(am, lo - 1, nt - 1)
    if not cubic:
        return pred
    if n2 >= 1:  # t = 0: a0, a1, a2
        out(0, 1)[...] = (3.0 * part(a0, 0, 1) + 6.0 * part(a1, 0, 1) - part(a2, 0, 1)) * 0.125
    if n2 >= 2:  # 1 <= t < n2: am, a0, a1, a2
        out(1, n2)[...] = (-part(am, 0, n2 - 1) + 9.0 * part(a0, 1, n2) + 9.0 * part(a1, 1, n2)
                           - part(a2, 1, n2)) * 0.0625
    lo = max(n2, 1)
    if n1 > lo:  # max(n2, 1) <= t < n1: am, a0, a1
        out(lo, n1)[...] = (-part(am, lo - 1, n1 - 1) + 6.0 * part(a0, lo, n1) + 3.0 * part(a1, lo, n1)) * 0.125
    return pred
