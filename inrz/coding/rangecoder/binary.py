"""An LZMA-style adaptive binary range coder, compiled (numba, `nogil`), for the archive's
error-bound residual (`inrz.coding.ctxkernel`): 32-bit range, carries propagated through a
cached byte and a count of pending 0xFF bytes, probabilities out of 2**16.

A bit's probability is the mean of two estimates adapting at rates 1/16 and 1/128 (fast to learn
a small chunk, steady on a large one); direct bits (probability 1/2) go up to 16 per division of
the range. Integer arithmetic only: identical on every machine.

State lives in a small int64 array `st` the caller owns (`bin_encoder`, `bin_decoder`), so
kernels keep nothing between calls. Stream: exactly the bytes the encoder writes, its first
always 0; `bin_end` refuses one read past its end, one with bytes left over, or one holding a
code no encoder leaves (direct bits out of range).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .errors import BAD_START, CORRUPT, OK, PAST_END, TRAILING

ONE = 1 << 16  # probabilities are out of 2**16
FAST, SLOW = 4, 7
TOP = 1 << 24
MASK32 = 0xFFFFFFFF

# encoder state: low, range, cached byte, pending bytes, bytes written; decoder: code, range, position, missing
LOW, RANGE, CACHE, PENDING, POS = 0, 1, 2, 3, 4
CODE, DPOS, MISSING, BAD = 0, 2, 3, 4


@njit(cache=True, nogil=True, inline="always")
def _prob(pf, ps, i):
    return (pf[i] + ps[i]) >> 1


@njit(cache=True, nogil=True, inline="always")
def _adapt(pf, ps, i, bit):
    if bit:
        pf[i] -= pf[i] >> FAST
        ps[i] -= ps[i] >> SLOW
    else:
        pf[i] += (ONE - pf[i]) >> FAST
        ps[i] += (ONE - ps[i]) >> SLOW


@njit(cache=True, nogil=True)
def _shift_low(st, out):
    low = st[LOW]
    if low < 0xFF000000 or low > MASK32:
        carry = low >> 32
        temp = st[CACHE]
        while True:
            out[st[POS]] = (temp + carry) & 0xFF
            st[POS] += 1
            temp = 0xFF
            st[PENDING] -= 1
            if st[PENDING] == 0:
                break
        st[CACHE] = (low >> 24) & 0xFF
    st[PENDING] += 1
    st[LOW] = (low & 0x00FFFFFF) << 8


@njit(cache=True, nogil=True, inline="always")
def bin_put(st, out, pf, ps, i, bit):
    """Code `bit` with model i (pf, ps: `bin_models`), then adapt the model."""
    bound = (st[RANGE] >> 16) * _prob(pf, ps, i)
    if bit:
        st[LOW] += bound
        st[RANGE] -= bound
    else:
        st[RANGE] = bound
    _adapt(pf, ps, i, bit)
    while st[RANGE] < TOP:
        st[RANGE] = (st[RANGE] << 8) & MASK32
        _shift_low(st, out)


@njit(cache=True, nogil=True, inline="always")
def bin_put_direct(st, out, bits, count):
    """`count` bits of `bits` at probability 1/2, up to 16 per division of the range."""
    while count > 0:
        n = min(count, 16)
        count -= n
        st[RANGE] >>= n
        st[LOW] += ((bits >> count) & ((1 << n) - 1)) * st[RANGE]
        while st[RANGE] < TOP:
            st[RANGE] = (st[RANGE] << 8) & MASK32
            _shift_low(st, out)


@njit(cache=True, nogil=True, inline="always")
def _next_byte(st, data):
    if st[DPOS] < data.size:
        b = np.int64(data[st[DPOS]])
        st[DPOS] += 1
        return b
    st[MISSING] += 1
    return np.int64(0)


@njit(cache=True, nogil=True, inline="always")
def bin_get(st, data, pf, ps, i):
    """The bit `bin_put` coded with model i, adapting the model the same way."""
    bound = (st[RANGE] >> 16) * _prob(pf, ps, i)
    if st[CODE] < bound:
        st[RANGE] = bound
        bit = 0
    else:
        st[CODE] -= bound
        st[RANGE] -= bound
        bit = 1
    _adapt(pf, ps, i, bit)
    while st[RANGE] < TOP:
        st[RANGE] = (st[RANGE] << 8) & MASK32
        st[CODE] = ((st[CODE] << 8) | _next_byte(st, data)) & MASK32
    return bit


@njit(cache=True, nogil=True, inline="always")
def bin_get_direct(st, data, count):
    """`count` bits `bin_put_direct` wrote; a code no encoder leaves is counted (BAD) for `bin_end`."""
    bits = np.int64(0)
    while count > 0:
        n = min(count, 16)
        count -= n
        st[RANGE] >>= n
        q = st[CODE] // st[RANGE]
        if q >= (1 << n):  # no encoder leaves the code there
            st[BAD] += 1
            q = (1 << n) - 1
        st[CODE] -= q * st[RANGE]
        bits = (bits << n) | q
        while st[RANGE] < TOP:
            st[RANGE] = (st[RANGE] << 8) & MASK32
            st[CODE] = ((st[CODE] << 8) | _next_byte(st, data)) & MASK32
    return bits


@njit(cache=True, nogil=True)
def bin_models(n):
    """(fast, slow) estimates of n adaptive models, each at probability 1/2."""
    pf = np.full(n, ONE // 2, np.int64)
    return pf, pf.copy()


@njit(cache=True, nogil=True)
def bin_encoder():
    st = np.zeros(5, np.int64)
    st[RANGE], st[PENDING] = MASK32, 1
    return st


@njit(cache=True, nogil=True, inline="always")
def bin_room(st, out, margin):
    """Whether `out` has room for `margin` more bytes beyond those written and pending."""
    return st[POS] + st[PENDING] + margin <= out.size


@njit(cache=True, nogil=True)
def bin_flush(st, out):
    """Seal the stream; the number of bytes written to `out`."""
    for _ in range(5):
        _shift_low(st, out)
    return st[POS]


@njit(cache=True, nogil=True)
def bin_decoder(data):
    """(state, OK) after reading the first 5 bytes, or BAD_START when the first is not 0."""
    st = np.zeros(5, np.int64)
    st[RANGE] = MASK32
    for _ in range(5):
        st[CODE] = (st[CODE] << 8) | _next_byte(st, data)
    if data.size == 0 or data[0] != 0:
        return st, BAD_START
    return st, OK


@njit(cache=True, nogil=True)
def bin_end(st, data):
    """After the last symbol: OK when the decoder read exactly the stream's bytes and met no
    code an encoder does not leave; else PAST_END, CORRUPT or TRAILING."""
    if st[MISSING] > 0:
        return PAST_END
    if st[BAD] > 0:
        return CORRUPT
    return OK if st[DPOS] == data.size else TRAILING
