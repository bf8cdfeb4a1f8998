"""Compiled context coding of the error-bound corrections (residual tag 0x12,
`inrz.coding.errorbound`): one call codes a whole chunk, without the GIL (numba `nogil`), so
zarr's and Dask's threads code chunks in parallel; no state outlives a call (thread-safe).

Symbols are visited in the passes of the chunk's 3-D lattice view (`inrz.coding.lattice3`). A
symbol's context is, as in `inrz.coding.ctxcoder`, the mean magnitude of the decoded symbols on
the two lattice planes it lies between, 3 wide along the other axes; its class is two per octave
of it (40 classes), and large classes send their low bits unmodelled (fewer coding steps).
Each correction k is binarised and every binary decision is coded with an adaptive probability
(`inrz.coding.rangecoder`'s LZMA-style binary range coder):

    k == 0                      model ZERO[class]
    sign                        model SIGN[class]
    m = |k| - 1, split at the class's L = max(0, class // 2 - 5) low bits:
    v = (m >> L) + 1, e = bit length of v - 1:
        unary, model EXP[class, min(j, 23)] for its j-th bit (at most 62 ones)
        the bit of v below its leading one: model MANT[class, e]; the e - 1 under it at probability 1/2
    the L low bits of m at probability 1/2 (up to 16 in one division of the range)

Stream: the coder's bytes, exactly as many as the encoder writes (its first byte is always 0).
The decoder refuses a stream it reads past the end of, or one with bytes left after its last
symbol, or one whose first byte is not 0 (`rangecoder.bin_end`, `bin_decoder`): streams cut or
padded never decode "successfully".
"""
from __future__ import annotations

import math

import numpy as np

from ..core.compiled import kernel
from .lattice3 import levels3, pass_box, view3_array
from .rangecoder import (OK, bin_decoder, bin_encoder, bin_end, bin_flush, bin_models, check, dec_get, dec_get_direct,
                         dec_load, dec_store, enc_load, enc_put, enc_put_direct, enc_room, enc_store)

CLASSES = 40  # two per octave of 8 x the neighbours' mean magnitude
CAP = 1 << 16  # neighbour magnitudes are capped here before they are summed
EXP_MODELS, MAXE = 24, 62
ROOM = 512  # bytes the encoder keeps free in its output for one symbol (at most 62 + 2 + 64 bits) and the flush


@kernel(cache=True, nogil=True)
def _boxes(mag, box, tmp, shape, strides, h, d):
    """box[p] for every point p on the even planes along d of pass (h, d)'s lattice: the sum of
    the capped magnitudes 3 wide along the two other axes (stride h on axes before d, 2h after
    it, zero outside). Separable: along the last other axis into tmp, then the first."""
    b0 = 1 if d == 0 else 0  # the two axes other than d, in order
    b1 = 1 if d == 2 else 2
    s0 = (h if b0 < d else 2 * h)
    s1 = (h if b1 < d else 2 * h)
    step = np.zeros(3, np.int64)
    step[d] = 2 * h
    step[b0] = s0
    step[b1] = s1
    for pass_ in range(2):
        src, dst, axis, s = (mag, tmp, b1, s1) if pass_ == 0 else (tmp, box, b0, s0)
        far = strides[axis] * s
        for i0 in range(0, shape[0], step[0]):
            for i1 in range(0, shape[1], step[1]):
                base = i0 * strides[0] + i1 * strides[1]
                for i2 in range(0, shape[2], step[2]):
                    at = base + i2
                    j = i0 if axis == 0 else (i1 if axis == 1 else i2)
                    total = np.int64(src[at])
                    if j - s >= 0:
                        total += src[at - far]
                    if j + s < shape[axis]:
                        total += src[at + far]
                    dst[at] = total


@kernel(cache=True, nogil=True)
def _bitlength(v):
    n = 0
    while v > 0:
        v >>= 1
        n += 1
    return n


@kernel(cache=True, nogil=True)
def _class(act, cells):
    """0 for 8 x the mean neighbour magnitude s = 0, 1 for s = 1, then two classes per octave."""
    scaled = act * 8 // cells
    n = _bitlength(scaled)
    if n < 2:
        return n
    return min(CLASSES - 1, 2 * n - 2 + ((scaled >> (n - 2)) & 1))


def _class_table(cells: int) -> np.ndarray:
    """`_class(act, cells)` for act < TABLED, in numpy (the kernel looks classes up: the
    division and the bit count cost more than the rest of a zero symbol). Built at import for
    every cell count, so vectorised: a Python loop over the 32 x 1024 entries took ~20 ms of
    every process that imports the archive's coder."""
    scaled = np.arange(TABLED, dtype=np.int64) * 8 // cells
    n = np.frexp(scaled.astype(np.float64))[1].astype(np.int64)  # int.bit_length, exact below 2**53
    second = (scaled >> np.maximum(n - 2, 0)) & 1
    return np.where(n < 2, n, np.minimum(CLASSES - 1, 2 * n - 2 + second))


TABLED = 1024  # neighbour sums below this take their class from CLASS_OF
CLASS_OF = np.array([_class_table(c) for c in (2, 6, 18)], np.int64)  # rows: `_cells` 2, 6, 18; a constant to numba


@kernel(cache=True, nogil=True)
def _table_row(cells):
    return 0 if cells == 2 else (1 if cells == 6 else 2)


@kernel(cache=True, nogil=True)
def _low_bits(cls):
    """Bits of |k| - 1 sent at probability 1/2 in a class: 2 below the class's typical magnitude."""
    return max(0, cls // 2 - 5)


@kernel(cache=True, nogil=True)
def _put_magnitude(s, out, pf, ps, cls, m):
    """Code m = |k| - 1 of a nonzero symbol in class cls past its first unary bit (which the
    kernel's loop codes with the ZERO and SIGN decisions: a call per symbol costs more than
    they do); the coder's new state (s: `rangecoder.enc_load`'s tuple)."""
    low = _low_bits(cls)
    v = (m >> low) + 1
    e = _bitlength(v) - 1
    for j in range(1, e):
        s = enc_put(s, out, pf, ps, EXPO + cls * EXP_MODELS + min(j, EXP_MODELS - 1), 1)
    if 0 < e < MAXE:
        s = enc_put(s, out, pf, ps, EXPO + cls * EXP_MODELS + min(e, EXP_MODELS - 1), 0)
    if e > 0:
        s = enc_put(s, out, pf, ps, MANT + cls * 64 + e, (v >> (e - 1)) & 1)
        if e > 1:
            s = enc_put_direct(s, out, v & ((np.int64(1) << (e - 1)) - 1), e - 1)
    if low > 0:
        s = enc_put_direct(s, out, m & ((np.int64(1) << low) - 1), low)
    return s


@kernel(cache=True, nogil=True)
def _get_magnitude(s, data, pf, ps, cls, one):
    """(m = |k| - 1, the decoder's new state) of a nonzero symbol in class cls whose sign and
    first unary bit (`one`) the kernel's loop has read (|k| = 1 costs no call where the class
    has no low bits): the inverse of `_put_magnitude`."""
    low = _low_bits(cls)
    e = 0
    while one and e < MAXE:
        e += 1
        if e == MAXE:
            break
        one, s = dec_get(s, data, pf, ps, EXPO + cls * EXP_MODELS + min(e, EXP_MODELS - 1))
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


@kernel(cache=True, nogil=True)
def _cells(shape, d):
    """2 * 3 ** (the other axes longer than one): the cells a context sums over."""
    c = 2
    for a in range(3):
        if a != d and shape[a] > 1:
            c *= 3
    return c


ZERO, SIGN, EXPO = 0, CLASSES, 2 * CLASSES
MANT = EXPO + CLASSES * EXP_MODELS
MODELS = MANT + CLASSES * 64


@kernel(cache=True, nogil=True)
def _code(shape, k, mag, out, data, encode):
    """Encode k into out (the bytes written; -1 if out may be too small), or decode data into k
    (an error code). k (int64) and mag (int32, the capped magnitudes): flat C-order arrays of the
    3-D view `shape`."""
    n0, n1, n2 = shape[0], shape[1], shape[2]
    strides = np.array([n1 * n2, n2, 1], np.int64)
    pf, ps = bin_models(MODELS)
    if encode:
        st = bin_encoder()
        s = enc_load(st)  # the coder's state, in registers until the last symbol
    else:
        st, code = bin_decoder(data)
        if code != OK:
            return np.int64(code)
        s = dec_load(st)
    box, tmp = np.zeros(n0 * n1 * n2, np.int32), np.zeros(n0 * n1 * n2, np.int32)  # sums of 9 CAP at most
    h = 1 << levels3(n0, n1, n2)
    d = -1  # the anchor pass: the origin alone, context class 0
    while True:
        if d < 0 or shape[d] > h:
            start, stride = pass_box(shape, h, d)
            cells = _cells(shape, d) if d >= 0 else 1
            ctab = _table_row(cells)
            if d >= 0:
                _boxes(mag, box, tmp, shape, strides, h, d)
            far = h * strides[d] if d >= 0 else 0
            for i0 in range(start[0], n0, stride[0]):
                for i1 in range(start[1], n1, stride[1]):
                    for i2 in range(start[2], n2, stride[2]):
                        at = i0 * strides[0] + i1 * n2 + i2
                        cls = 0
                        if d >= 0:  # the planes h before and (where there is one) h after, along d
                            j = i0 if d == 0 else (i1 if d == 1 else i2)
                            act = np.int64(box[at - far]) + (np.int64(box[at + far]) if j + h < shape[d] else 0)
                            cls = CLASS_OF[ctab, act] if act < TABLED else _class(act, cells)
                        if encode:
                            if not enc_room(s, out, ROOM):
                                return np.int64(-1)
                            value = k[at]
                            s = enc_put(s, out, pf, ps, ZERO + cls, value != 0)
                            if value != 0:
                                s = enc_put(s, out, pf, ps, SIGN + cls, value < 0)
                                m = (value if value > 0 else -value) - 1
                                s = enc_put(s, out, pf, ps, EXPO + cls * EXP_MODELS, (m >> _low_bits(cls)) > 0)
                                if m > 0 or _low_bits(cls) > 0:
                                    s = _put_magnitude(s, out, pf, ps, cls, m)
                        else:
                            nonzero, s = dec_get(s, data, pf, ps, ZERO + cls)
                            if nonzero:
                                negative, s = dec_get(s, data, pf, ps, SIGN + cls)
                                one, s = dec_get(s, data, pf, ps, EXPO + cls * EXP_MODELS)
                                m = np.int64(0)  # |k| = 1 in a class without low bits: nothing more
                                if one or _low_bits(cls) > 0:
                                    m, s = _get_magnitude(s, data, pf, ps, cls, one)
                                k[at] = -(m + 1) if negative else m + 1
                            else:
                                k[at] = 0
                        v = k[at] if k[at] >= 0 else -k[at]
                        mag[at] = v if v < CAP else CAP
        if d < 0 or d == 2:
            if h == 1:
                break
            h //= 2
            d = 0
        else:
            d += 1
    if encode:
        enc_store(st, s)
        return bin_flush(st, out)
    dec_store(st, s)
    return np.int64(bin_end(st, data))


def encode(k: np.ndarray) -> bytes:
    """The stream of corrections `k` (int64, any shape; its shape is the decoder's to know)."""
    shape = view3_array(k.shape)
    flat = np.ascontiguousarray(k, np.int64).reshape(-1)
    size = 64 + ROOM + flat.size * 2  # ROOM: the kernel stops where fewer bytes are left (a tiny chunk would retry)
    while True:
        out = np.empty(size, np.uint8)
        n = _code(shape, flat, np.empty(flat.size, np.int32), out, NO_BYTES, True)
        if n >= 0:
            return out[:n].tobytes()
        size *= 4


def decode(data: bytes, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of `encode` for an array of `shape`; `ContainerError` for a stream no encoder writes."""
    size = math.prod(shape)
    k = np.empty(size, np.int64)
    err = _code(view3_array(shape), k, np.empty(size, np.int32), NO_BYTES, np.frombuffer(data, np.uint8), False)
    check(err, "the error-bound residual stream")
    return k.reshape(shape)


NO_BYTES = np.empty(0, np.uint8)  # the stream `_code` does not use (shared: nothing is ever written to it)
