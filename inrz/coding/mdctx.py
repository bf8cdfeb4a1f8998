"""The context coder of `inrz.coding.multidim`: which decoded neighbours a correction's context
sums, its class, and the binarisation of a correction on the shared binary range coder.

Context: the capped magnitudes |k| of the decoded points among the 26 at offsets {-h, 0, h}^3
of a point of category S at level h (which of them are decoded is fixed by S alone: the
neighbour at offset o lies in category S' = {a in S: o_a = 0} + {a not in S: o_a != 0}, decoded
when S' is empty, a coarser level, or comes before S in `CAT_MASKS`' order), plus the points of
the same category 2h before it along each axis. Class: two per octave of 8 x their mean
magnitude (40 classes; `ctxkernel._class`, looked up for small sums).

Binarisation: `inrz.coding.ctxkernel`'s, with its models (ZERO / SIGN / unary EXPO / MANT per
class, the low bits of large classes at probability 1/2) and its functions. numba's disk cache
is keyed on the caller's file only: after editing ctxkernel.py or this file, touch multidim.py.
"""
from __future__ import annotations

import numpy as np

from ..core.compiled import kernel
from .ctxkernel import (CAP, CLASSES, EXP_MODELS, EXPO, MANT, SIGN, TABLED, ZERO, _class, _class_table,
                        _get_magnitude, _low_bits, _put_magnitude)
from .rangecoder import dec_get, enc_put

CHOICE = MANT + CLASSES * 64  # per category: 1 cubic model + a 16-node bit tree for the weights
MODELS = CHOICE + 7 * 17
CAT_MASKS = (1, 2, 4, 3, 5, 6, 7)  # coding order of the categories (bit a: odd multiple of h along axis a)
ORDER = np.array([-1, 0, 1, 3, 2, 4, 5, 6], np.int64)  # mask -> place in that order (0: coarser level)
MAXCELLS = 32


CLASS_OF = np.array([[0] * TABLED] + [_class_table(c) for c in range(1, MAXCELLS)], np.uint8)  # [cells, act]


@kernel(cache=True, nogil=True)
def klass(act, cells):
    """The context class of neighbour sum `act` over `cells` points (0 where there are none)."""
    if cells == 0:
        return 0
    if act < TABLED:
        return np.int64(CLASS_OF[cells, act])
    return _class(act, cells)


@kernel(cache=True, nogil=True)
def neighbours(mask, h, shape, strides, offs, dirs):
    """Fill offs (flat offsets) and dirs (offset / h along each axis) with the decoded neighbours
    of category `mask`'s points at level h that can lie inside `shape` (axes no longer than h
    hold no neighbour along them); their count."""
    n = 0
    for o0 in range(-1, 2):
        for o1 in range(-1, 2):
            for o2 in range(-1, 2):
                o = (o0, o1, o2)
                other, inside = 0, True
                for a in range(3):
                    odd = (mask >> a) & 1
                    if (odd == 1 and o[a] == 0) or (odd == 0 and o[a] != 0):
                        other |= 1 << a
                    if o[a] != 0 and shape[a] <= h:
                        inside = False
                if inside and other != mask and (other == 0 or ORDER[other] < ORDER[mask]):
                    offs[n] = h * (o0 * strides[0] + o1 * strides[1] + o2 * strides[2])
                    dirs[n, 0], dirs[n, 1], dirs[n, 2] = o0, o1, o2
                    n += 1
    return n


@kernel(cache=True, nogil=True)
def border_sum(mag, at, i0, i1, i2, h, n0, n1, n2, offs, dirs, count):
    """(sum of the magnitudes, points) over the decoded neighbours (`neighbours`) of the point at
    flat `at` = (i0, i1, i2) that lie inside the volume: for points near its faces (the kernel
    sums those of the others itself, unchecked: a call per point costs more than the sum)."""
    act = np.int64(0)
    cells = 0
    for j in range(count):
        j0, j1, j2 = i0 + dirs[j, 0] * h, i1 + dirs[j, 1] * h, i2 + dirs[j, 2] * h
        if 0 <= j0 < n0 and 0 <= j1 < n1 and 0 <= j2 < n2:
            act += mag[at + offs[j]]
            cells += 1
    return act, cells


@kernel(cache=True, nogil=True)
def put_symbol(s, out, pf, ps, cls, value):
    """Code correction `value` in class cls; the coder's new state."""
    s = enc_put(s, out, pf, ps, ZERO + cls, value != 0)
    if value == 0:
        return s
    return put_nonzero(s, out, pf, ps, cls, value)


@kernel(cache=True, nogil=True)
def put_nonzero(s, out, pf, ps, cls, value):
    """`put_symbol` past the ZERO decision (`ctxkernel`'s sign, first unary bit and magnitude)."""
    s = enc_put(s, out, pf, ps, SIGN + cls, value < 0)
    m = (value if value > 0 else -value) - 1
    s = enc_put(s, out, pf, ps, EXPO + cls * EXP_MODELS, (m >> _low_bits(cls)) > 0)
    if m > 0 or _low_bits(cls) > 0:
        s = _put_magnitude(s, out, pf, ps, cls, m)
    return s


@kernel(cache=True, nogil=True)
def get_symbol(s, data, pf, ps, cls):
    """The correction `put_symbol` coded in class cls and the decoder's new state."""
    nonzero, s = dec_get(s, data, pf, ps, ZERO + cls)
    if nonzero == 0:
        return np.int64(0), s
    return get_nonzero(s, data, pf, ps, cls)


@kernel(cache=True, nogil=True)
def get_nonzero(s, data, pf, ps, cls):
    """`get_symbol` past the ZERO decision."""
    negative, s = dec_get(s, data, pf, ps, SIGN + cls)
    one, s = dec_get(s, data, pf, ps, EXPO + cls * EXP_MODELS)
    m = np.int64(0)
    if one or _low_bits(cls) > 0:
        m, s = _get_magnitude(s, data, pf, ps, cls, one)
    return (-(m + 1) if negative else m + 1), s


@kernel(cache=True, nogil=True)
def put_choice(s, out, pf, ps, c, bits, choice):
    """Category c's predictor choice (option * 2 + cubic, the option in `bits` bits)."""
    base = CHOICE + c * 17
    s = enc_put(s, out, pf, ps, base, choice & 1)
    node = 1
    for j in range(bits - 1, -1, -1):
        bit = (choice >> (j + 1)) & 1
        s = enc_put(s, out, pf, ps, base + node, bit)
        node = 2 * node + bit
    return s


@kernel(cache=True, nogil=True)
def get_choice(s, data, pf, ps, c, bits):
    base = CHOICE + c * 17
    cubic, s = dec_get(s, data, pf, ps, base)
    node = 1
    for _ in range(bits):
        bit, s = dec_get(s, data, pf, ps, base + node)
        node = 2 * node + bit
    return (node - (1 << bits)) * 2 + cubic, s
