"""The context coder of `inrz.coding.multidim`: which decoded neighbours a correction's context
sums, its class, and the binarisation of a correction on the shared binary range coder.

Context: the capped magnitudes |k| of the decoded points among the 26 at offsets {-h, 0, h}^3
of a point of category S at level h (which of them are decoded is fixed by S alone: the
neighbour at offset o lies in category S' = {a in S: o_a = 0} + {a not in S: o_a != 0}, decoded
when S' is empty, a coarser level, or comes before S in `CAT_MASKS`' order), plus the points of
the same category 2h before it along each axis. Class: two per octave of 8 x their mean
magnitude (40 classes; `ctxkernel._class`, looked up for small sums).

Binarisation: `inrz.coding.ctxkernel`'s (ZERO / SIGN / unary EXPO / MANT models per class, the
low bits of large classes at probability 1/2), repeated here rather than imported: numba's disk
cache is keyed on the caller's file only, so a kernel that calls another file's compiled
functions keeps their old code when that file changes. Edit this file -> touch multidim.py.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .rangecoder import dec_get, dec_get_direct, enc_put, enc_put_direct

CLASSES = 40
CAP = 1 << 16  # neighbour magnitudes are capped here before they are summed
EXP_MODELS, MAXE = 24, 62
ZERO, SIGN, EXPO = 0, CLASSES, 2 * CLASSES
MANT = EXPO + CLASSES * EXP_MODELS
CHOICE = MANT + CLASSES * 64  # per category: 1 cubic model + a 16-node bit tree for the weights
MODELS = CHOICE + 7 * 17
CAT_MASKS = (1, 2, 4, 3, 5, 6, 7)  # coding order of the categories (bit a: odd multiple of h along axis a)
ORDER = np.array([-1, 0, 1, 3, 2, 4, 5, 6], np.int64)  # mask -> place in that order (0: coarser level)
TABLED, MAXCELLS = 1024, 32


def _class_py(act: int, cells: int) -> int:
    scaled = act * 8 // cells
    n = scaled.bit_length()
    return n if n < 2 else min(CLASSES - 1, 2 * n - 2 + ((scaled >> (n - 2)) & 1))


CLASS_OF = np.array([[0] * TABLED] + [[_class_py(a, c) for a in range(TABLED)] for c in range(1, MAXCELLS)],
                    np.uint8)  # [cells, act]: a constant to numba


@njit(cache=True, nogil=True)
def _bitlength(v):
    n = 0
    while v > 0:
        v >>= 1
        n += 1
    return n


@njit(cache=True, nogil=True)
def klass(act, cells):
    """The context class of neighbour sum `act` over `cells` points (0 where there are none)."""
    if cells == 0:
        return 0
    if act < TABLED:
        return np.int64(CLASS_OF[cells, act])
    scaled = act * 8 // cells
    n = _bitlength(scaled)
    return min(CLASSES - 1, 2 * n - 2 + ((scaled >> (n - 2)) & 1))


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def _low_bits(cls):
    return max(0, cls // 2 - 5)


@njit(cache=True, nogil=True)
def put_symbol(s, out, pf, ps, cls, value):
    """Code correction `value` in class cls; the coder's new state."""
    s = enc_put(s, out, pf, ps, ZERO + cls, value != 0)
    if value == 0:
        return s
    return put_nonzero(s, out, pf, ps, cls, value)


@njit(cache=True, nogil=True)
def put_nonzero(s, out, pf, ps, cls, value):
    """`put_symbol` past the ZERO decision."""
    s = enc_put(s, out, pf, ps, SIGN + cls, value < 0)
    m = (value if value > 0 else -value) - 1
    low = _low_bits(cls)
    v = (m >> low) + 1
    e = _bitlength(v) - 1
    for j in range(e):
        s = enc_put(s, out, pf, ps, EXPO + cls * EXP_MODELS + min(j, EXP_MODELS - 1), 1)
    if e < MAXE:
        s = enc_put(s, out, pf, ps, EXPO + cls * EXP_MODELS + min(e, EXP_MODELS - 1), 0)
    if e > 0:
        s = enc_put(s, out, pf, ps, MANT + cls * 64 + e, (v >> (e - 1)) & 1)
        if e > 1:
            s = enc_put_direct(s, out, v & ((np.int64(1) << (e - 1)) - 1), e - 1)
    if low > 0:
        s = enc_put_direct(s, out, m & ((np.int64(1) << low) - 1), low)
    return s


@njit(cache=True, nogil=True)
def _get_rest(s, data, pf, ps, cls):
    """m = |k| - 1 of a nonzero correction (after its sign) and the decoder's new state."""
    low = _low_bits(cls)
    e = 0
    while e < MAXE:
        one, s = dec_get(s, data, pf, ps, EXPO + cls * EXP_MODELS + min(e, EXP_MODELS - 1))
        if one == 0:
            break
        e += 1
    v = np.int64(1) << e
    if e > 0:
        top, s = dec_get(s, data, pf, ps, MANT + cls * 64 + e)
        v |= np.int64(top) << (e - 1)
        if e > 1:
            rest, s = dec_get_direct(s, data, e - 1)
            v |= rest
    m = (v - 1) << low
    if low > 0:
        bits, s = dec_get_direct(s, data, low)
        m |= bits
    return m, s


@njit(cache=True, nogil=True)
def get_symbol(s, data, pf, ps, cls):
    """The correction `put_symbol` coded in class cls and the decoder's new state."""
    nonzero, s = dec_get(s, data, pf, ps, ZERO + cls)
    if nonzero == 0:
        return np.int64(0), s
    return get_nonzero(s, data, pf, ps, cls)


@njit(cache=True, nogil=True)
def get_nonzero(s, data, pf, ps, cls):
    """`get_symbol` past the ZERO decision."""
    negative, s = dec_get(s, data, pf, ps, SIGN + cls)
    m, s = _get_rest(s, data, pf, ps, cls)
    return (-(m + 1) if negative else m + 1), s


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def get_choice(s, data, pf, ps, c, bits):
    base = CHOICE + c * 17
    cubic, s = dec_get(s, data, pf, ps, base)
    node = 1
    for _ in range(bits):
        bit, s = dec_get(s, data, pf, ps, base + node)
        node = 2 * node + bit
    return (node - (1 << bits)) * 2 + cubic, s
