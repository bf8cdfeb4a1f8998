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

from ...core.compiled import kernel
from .errors import BAD_START, CORRUPT, OK, PAST_END, TRAILING

ONE = 1 << 16  # probabilities are out of 2**16
FAST, SLOW = 4, 7
TOP = 1 << 24
MASK32 = 0xFFFFFFFF

# encoder state: low, range, cached byte, pending bytes, bytes written; decoder: code, range, position, missing
LOW, RANGE, CACHE, PENDING, POS = 0, 1, 2, 3, 4
CODE, DPOS, MISSING, BAD = 0, 2, 3, 4


@kernel(cache=True, nogil=True)
def _prob(pf, ps, i):
    return (pf[i] + ps[i]) >> 1


@kernel(cache=True, nogil=True)
def _adapt(pf, ps, i, bit):
    if bit:
        pf[i] -= pf[i] >> FAST
        ps[i] -= ps[i] >> SLOW
    else:
        pf[i] += (ONE - pf[i]) >> FAST
        ps[i] += (ONE - ps[i]) >> SLOW


@kernel(cache=True, nogil=True)
def _shift(low, cache, pending, pos, out):
    """Move low's top byte out (through the cached byte and the pending 0xFF bytes, which a
    carry turns to 0x00); the new (low, cache, pending, pos)."""
    if low < 0xFF000000 or low > MASK32:
        carry = low >> 32
        temp = cache
        while True:
            out[pos] = (temp + carry) & 0xFF
            pos += 1
            temp = 0xFF
            pending -= 1
            if pending == 0:
                break
        cache = (low >> 24) & 0xFF
    return (low & 0x00FFFFFF) << 8, cache, pending + 1, pos


# The coding steps take and return the state as a tuple (encoder: low, range, cache, pending,
# pos; decoder: code, range, position, missing, bad), so a kernel that loads it once
# (`enc_load`, `dec_load`) keeps it in registers across its loop and stores it once at the end
# (`enc_store`, `dec_store`): the probability tables may alias `st`, its fields would
# otherwise be read and written in memory for every bit.

@kernel(cache=True, nogil=True)
def enc_put(s, out, pf, ps, i, bit):
    """`bin_put` on the state tuple s; the new state."""
    low, rng, cache, pending, pos = s
    bound = (rng >> 16) * _prob(pf, ps, i)
    if bit:
        low += bound
        rng -= bound
    else:
        rng = bound
    _adapt(pf, ps, i, bit)
    while rng < TOP:
        rng = (rng << 8) & MASK32
        low, cache, pending, pos = _shift(low, cache, pending, pos, out)
    return low, rng, cache, pending, pos


@kernel(cache=True, nogil=True)
def enc_put_direct(s, out, bits, count):
    """`bin_put_direct` on the state tuple s; the new state."""
    low, rng, cache, pending, pos = s
    while count > 0:
        n = min(count, 16)
        count -= n
        rng >>= n
        low += ((bits >> count) & ((1 << n) - 1)) * rng
        while rng < TOP:
            rng = (rng << 8) & MASK32
            low, cache, pending, pos = _shift(low, cache, pending, pos, out)
    return low, rng, cache, pending, pos


@kernel(cache=True, nogil=True)
def enc_room(s, out, margin):
    """Whether `out` has room for `margin` more bytes beyond those written and pending (state tuple s)."""
    return s[POS] + s[PENDING] + margin <= out.size


@kernel(cache=True, nogil=True)
def enc_load(st):
    return st[LOW], st[RANGE], st[CACHE], st[PENDING], st[POS]


@kernel(cache=True, nogil=True)
def enc_store(st, s):
    st[LOW], st[RANGE], st[CACHE], st[PENDING], st[POS] = s


@kernel(cache=True, nogil=True)
def _refill(data, code, rng, dpos, missing):
    """Renormalise a decoder: shift in bytes (zeros past the end, counted as missing) until the
    range is at least TOP; (code, range, next byte, missing bytes)."""
    while rng < TOP:
        rng = (rng << 8) & MASK32
        if dpos < data.size:
            b = np.int64(data[dpos])
            dpos += 1
        else:
            b = np.int64(0)
            missing += 1
        code = ((code << 8) | b) & MASK32
    return code, rng, dpos, missing


@kernel(cache=True, nogil=True)
def dec_get(s, data, pf, ps, i):
    """`bin_get` on the state tuple s: (bit, new state)."""
    code, rng, dpos, missing, bad = s
    bound = (rng >> 16) * _prob(pf, ps, i)
    if code < bound:
        rng = bound
        bit = 0
    else:
        code -= bound
        rng -= bound
        bit = 1
    _adapt(pf, ps, i, bit)
    code, rng, dpos, missing = _refill(data, code, rng, dpos, missing)
    return bit, (code, rng, dpos, missing, bad)


@kernel(cache=True, nogil=True)
def dec_get_direct(s, data, count):
    """`bin_get_direct` on the state tuple s: (bits, new state)."""
    code, rng, dpos, missing, bad = s
    bits = np.int64(0)
    while count > 0:
        n = min(count, 16)
        count -= n
        rng >>= n
        q = code // rng
        if q >= (1 << n):  # no encoder leaves the code there
            bad += 1
            q = (1 << n) - 1
        code -= q * rng
        bits = (bits << n) | q
        code, rng, dpos, missing = _refill(data, code, rng, dpos, missing)
    return bits, (code, rng, dpos, missing, bad)


@kernel(cache=True, nogil=True)
def dec_load(st):
    return st[CODE], st[RANGE], st[DPOS], st[MISSING], st[BAD]


@kernel(cache=True, nogil=True)
def dec_store(st, s):
    st[CODE], st[RANGE], st[DPOS], st[MISSING], st[BAD] = s


@kernel(cache=True, nogil=True)
def _shift_low(st, out):
    st[LOW], st[CACHE], st[PENDING], st[POS] = _shift(st[LOW], st[CACHE], st[PENDING], st[POS], out)


@kernel(cache=True, nogil=True)
def bin_put(st, out, pf, ps, i, bit):
    """Code `bit` with model i (pf, ps: `bin_models`), then adapt the model."""
    enc_store(st, enc_put(enc_load(st), out, pf, ps, i, bit))


@kernel(cache=True, nogil=True)
def bin_put_direct(st, out, bits, count):
    """`count` bits of `bits` at probability 1/2, up to 16 per division of the range."""
    enc_store(st, enc_put_direct(enc_load(st), out, bits, count))


@kernel(cache=True, nogil=True)
def _next_byte(st, data):
    if st[DPOS] < data.size:
        b = np.int64(data[st[DPOS]])
        st[DPOS] += 1
        return b
    st[MISSING] += 1
    return np.int64(0)


@kernel(cache=True, nogil=True)
def bin_get(st, data, pf, ps, i):
    """The bit `bin_put` coded with model i, adapting the model the same way."""
    bit, s = dec_get(dec_load(st), data, pf, ps, i)
    dec_store(st, s)
    return bit


@kernel(cache=True, nogil=True)
def bin_get_direct(st, data, count):
    """`count` bits `bin_put_direct` wrote; a code no encoder leaves is counted (BAD) for `bin_end`."""
    bits, s = dec_get_direct(dec_load(st), data, count)
    dec_store(st, s)
    return bits


@kernel(cache=True, nogil=True)
def bin_models(n):
    """(fast, slow) estimates of n adaptive models, each at probability 1/2."""
    pf = np.full(n, ONE // 2, np.int64)
    return pf, pf.copy()


@kernel(cache=True, nogil=True)
def bin_encoder():
    st = np.zeros(5, np.int64)
    st[RANGE], st[PENDING] = MASK32, 1
    return st


@kernel(cache=True, nogil=True)
def bin_flush(st, out):
    """Seal the stream; the number of bytes written to `out`."""
    for _ in range(5):
        _shift_low(st, out)
    return st[POS]


@kernel(cache=True, nogil=True)
def bin_decoder(data):
    """(state, OK) after reading the first 5 bytes, or BAD_START when the first is not 0."""
    st = np.zeros(5, np.int64)
    st[RANGE] = MASK32
    for _ in range(5):
        st[CODE] = (st[CODE] << 8) | _next_byte(st, data)
    if data.size == 0 or data[0] != 0:
        return st, BAD_START
    return st, OK


@kernel(cache=True, nogil=True)
def bin_end(st, data):
    """After the last symbol: OK when the decoder read exactly the stream's bytes and met no
    code an encoder does not leave; else PAST_END, CORRUPT or TRAILING."""
    if st[MISSING] > 0:
        return PAST_END
    if st[BAD] > 0:
        return CORRUPT
    return OK if st[DPOS] == data.size else TRAILING
