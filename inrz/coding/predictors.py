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

Reconstruction uses only IEEE basic operations (add, multiply by exact constants) in a
fixed order, so it is the same on every machine; the encoder returns exactly what the
decoder will rebuild, and checks the bound against that.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .lattice import passes, sources, targets

KMAX = 2.0**50  # corrections beyond this many steps are clipped (the value becomes an exception)


@dataclass(frozen=True)
class Predictor:
    """`kind` "linear" / "cubic" (interpolation) or "lorenzo"; `axes` a bit per axis: for
    interpolation, bit 0 reverses the axis order; for Lorenzo, the axes differenced."""

    kind: str
    axes: int = 0

    def encode(self, r: np.ndarray, step: float, keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Corrections (int64) and the reconstruction (float64) of residual `r`; where `keep`
        is False the value does not matter (it is stored elsewhere) and costs nothing."""
        if self.kind == "lorenzo":
            q = _round(r / step)
            return lorenzo_forward(q, self.axes), q.astype(np.float64) * step
        k, rec = _interpolate(self._view(r), step, self.kind == "cubic", None, self._view(keep))
        return self._unview(k), self._unview(rec)

    def decode(self, k: np.ndarray, step: float) -> np.ndarray:
        if self.kind == "lorenzo":
            return lorenzo_inverse(k, self.axes).astype(np.float64) * step
        return self._unview(_interpolate(None, step, self.kind == "cubic", self._view(k), None)[1])

    def _view(self, a):
        return a if a is None or not self.axes & 1 else a.transpose()

    def _unview(self, a):
        return a if not self.axes & 1 else a.transpose()


def candidates(ndim: int) -> list[Predictor]:
    """The predictors the encoder tries: interpolation both ways, Lorenzo on every axis subset."""
    out = [Predictor(kind, order) for kind in ("cubic", "linear") for order in ((0, 1) if ndim > 1 else (0,))]
    return out + [Predictor("lorenzo", mask) for mask in range(1, 1 << ndim)]


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
    cubic inside, quadratic one step from a border, linear, then linear extrapolation)."""
    m = S.shape[d]
    j = np.arange(1, m, 2)
    shape = [1] * S.ndim
    shape[d] = -1

    def at(offset):
        idx = j + offset
        ok = ((idx >= 0) & (idx < m)).reshape(shape)
        return np.take(S, np.clip(idx, 0, m - 1), axis=d), ok

    (a0, _), (a1, ok1), (am, okm) = at(-1), at(1), at(-3)
    extra = np.where(okm, 1.5 * a0 - 0.5 * am, a0)
    pred = np.where(ok1, (a0 + a1) * 0.5, extra)
    if cubic:
        a2, ok2 = at(3)
        pred = np.where(ok1 & okm, (-am + 6.0 * a0 + 3.0 * a1) * 0.125, pred)
        pred = np.where(ok1 & ok2, (3.0 * a0 + 6.0 * a1 - a2) * 0.125, pred)
        pred = np.where(ok1 & okm & ok2, (-am + 9.0 * a0 + 9.0 * a1 - a2) * 0.0625, pred)
    return pred
