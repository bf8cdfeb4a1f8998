"""An LZMA-style adaptive binary range coder, compiled (numba, `nogil`), for
`inrz.coding.ctxkernel`: 32-bit range, carries propagated through a cached byte and a count of
pending 0xFF bytes, probabilities out of 2**16.

A bit's probability is the mean of two estimates adapting at rates 1/16 and 1/128 (fast to learn
a small chunk, steady on a large one); direct bits (probability 1/2) go up to 16 per division of
the range. Integer arithmetic only: identical on every machine.

State lives in a small int64 array `st` the caller owns (encoder: LOW, RANGE, CACHE, PENDING,
POS; decoder: CODE, RANGE, DPOS, MISSING, BAD), so kernels keep nothing between calls.
"""
from __future__ import annotations

import numpy as np
from numba import njit

ONE = 1 << 16  # probabilities are out of 2**16
FAST, SLOW = 4, 7
TOP = 1 << 24
MASK32 = 0xFFFFFFFF

# encoder state: low, range, cached byte, pending bytes, bytes written; decoder: code, range, position, missing
LOW, RANGE, CACHE, PENDING, POS = 0, 1, 2, 3, 4
CODE, DPOS, MISSING, BAD = 0, 2, 3, 4


@njit(cache=True, nogil=True, inline="always")
def prob(pf, ps, i):
    return (pf[i] + ps[i]) >> 1


@njit(cache=True, nogil=True, inline="always")
def adapt(pf, ps, i, bit):
    if bit:
        pf[i] -= pf[i] >> FAST
        ps[i] -= ps[i] >> SLOW
    else:
        pf[i] += (ONE - pf[i]) >> FAST
        ps[i] += (ONE - ps[i]) >> SLOW


@njit(cache=True, nogil=True)
def shift_low(st, out):
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
def put(st, out, pf, ps, i, bit):
    bound = (st[RANGE] >> 16) * prob(pf, ps, i)
    if bit:
        st[LOW] += bound
        st[RANGE] -= bound
    else:
        st[RANGE] = bound
    adapt(pf, ps, i, bit)
    while st[RANGE] < TOP:
        st[RANGE] = (st[RANGE] << 8) & MASK32
        shift_low(st, out)


@njit(cache=True, nogil=True, inline="always")
def put_direct(st, out, bits, count):
    """`count` bits of `bits` at probability 1/2, up to 16 per division of the range."""
    while count > 0:
        n = min(count, 16)
        count -= n
        st[RANGE] >>= n
        st[LOW] += ((bits >> count) & ((1 << n) - 1)) * st[RANGE]
        while st[RANGE] < TOP:
            st[RANGE] = (st[RANGE] << 8) & MASK32
            shift_low(st, out)


@njit(cache=True, nogil=True, inline="always")
def next_byte(st, data):
    if st[DPOS] < data.size:
        b = np.int64(data[st[DPOS]])
        st[DPOS] += 1
        return b
    st[MISSING] += 1
    return np.int64(0)


@njit(cache=True, nogil=True, inline="always")
def get(st, data, pf, ps, i):
    bound = (st[RANGE] >> 16) * prob(pf, ps, i)
    if st[CODE] < bound:
        st[RANGE] = bound
        bit = 0
    else:
        st[CODE] -= bound
        st[RANGE] -= bound
        bit = 1
    adapt(pf, ps, i, bit)
    while st[RANGE] < TOP:
        st[RANGE] = (st[RANGE] << 8) & MASK32
        st[CODE] = ((st[CODE] << 8) | next_byte(st, data)) & MASK32
    return bit


@njit(cache=True, nogil=True, inline="always")
def get_direct(st, data, count):
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
            st[CODE] = ((st[CODE] << 8) | next_byte(st, data)) & MASK32
    return bits
