"""Escapes: values past a model's alphabet, sent beside the range-coded symbols.

Two codes, each frozen in a format:

- Exp-Golomb bits in a separate bit stream (c3's latent-grid payload): `GolombWriter` writes
  them, the compiled `golomb` reads one (a kernel calls it between symbols), `GolombReader` is
  the same reader for Python decoders, and `golomb_end` checks that the stream ends with its
  last escape (at most 7 zero padding bits).
- Zigzag bytes inside the range-coded stream (the archive's 0x11 residual): a length symbol
  (0..8, uniform), then that many bytes (uniform), each value in its fewest bytes.

A truncated or impossible escape is `BAD_ESCAPE` from the one error table (`errors`).
"""
from __future__ import annotations

import constriction
import numpy as np

from ...core.compiled import kernel
from .errors import BAD_ESCAPE, ESCAPE_TAIL, OK, corrupt

MAX_ESCAPE_BITS = 40  # leading zeros of an Exp-Golomb code: values below 2**40
_LENGTHS, _BYTES = constriction.stream.model.Uniform(9), constriction.stream.model.Uniform(256)


class GolombWriter:
    """Exp-Golomb codes of non-negative integers, as MSB-first bytes zero-padded at the end."""

    def __init__(self):
        self.bits: list[int] = []

    def golomb(self, values) -> None:
        for v in np.asarray(values, np.int64).ravel():
            code = bin(int(v) + 1)[2:]
            self.bits += [0] * (len(code) - 1) + [int(c) for c in code]

    def getvalue(self) -> bytes:
        return np.packbits(np.asarray(self.bits, np.uint8)).tobytes() if self.bits else b""


@kernel(cache=True, nogil=True)
def golomb(bits, bst):
    """One Exp-Golomb value from the unpacked bits at bst[0] (advanced past it); -1 when
    truncated or longer than any encoder writes."""
    pos, n = bst[0], bits.shape[0]
    zeros = 0
    while True:
        if pos + zeros >= n or zeros > MAX_ESCAPE_BITS:
            return -1
        if bits[pos + zeros]:
            break
        zeros += 1
    end = pos + 2 * zeros + 1
    if end > n:
        return -1
    value = 0
    for i in range(pos + zeros, end):
        value = (value << 1) | np.int64(bits[i])
    bst[0] = end
    return value - 1


def golomb_end(bits: np.ndarray, pos: int) -> int:
    """`OK` when only zero padding (fewer than 8 bits) follows position `pos`, else `ESCAPE_TAIL`."""
    rest = bits[int(pos):]
    return ESCAPE_TAIL if rest.size >= 8 or rest.any() else OK


class GolombReader:
    """`golomb` for Python decoders: reads `data`'s escapes in order, `ContainerError` naming
    `what` on a truncated or impossible one."""

    def __init__(self, data: bytes, what: str = "the escape stream"):
        self.bits = np.unpackbits(np.frombuffer(data, np.uint8))
        self.bst = np.zeros(1, np.int64)
        self.what = what

    @property
    def pos(self) -> int:
        return int(self.bst[0])

    def golomb(self) -> int:
        value = golomb(self.bits, self.bst)
        if value < 0:
            raise corrupt(BAD_ESCAPE, self.what)
        return int(value)


def encode_zigzag(enc, values: np.ndarray) -> None:
    """Escaped values (int64) into the range coder `enc`: zigzag, then little-endian bytes."""
    if not values.size:
        return
    z = ((values << 1) ^ (values >> 63)).astype(np.uint64)
    lengths = np.array([(int(v).bit_length() + 7) // 8 for v in z], np.int32)
    enc.encode(lengths, _LENGTHS)
    raw = np.concatenate([np.frombuffer(int(v).to_bytes(int(n), "little"), np.uint8) for v, n in zip(z, lengths)])
    enc.encode(raw.astype(np.int32), _BYTES)


def decode_zigzag(dec, count: int, low: int, high: int) -> np.ndarray:
    """`count` values `encode_zigzag` wrote, read from the decoder `dec`: each in its fewest
    bytes and low < |value| <= high, else `BAD_ESCAPE` naming `dec.what`."""
    if not count:
        return np.zeros(0, np.int64)
    lengths = np.asarray(dec.decode(_LENGTHS, count), np.int64)
    raw = np.asarray(dec.decode(_BYTES, int(lengths.sum())), np.uint64)
    out, pos = np.empty(count, np.int64), 0
    for i, n in enumerate(lengths):
        z = int.from_bytes(bytes(raw[pos:pos + n].astype(np.uint8)), "little")
        value = (z >> 1) ^ -(z & 1)
        if n == 0 or raw[pos + n - 1] == 0 or not low < abs(value) <= high:
            raise corrupt(BAD_ESCAPE, dec.what)
        out[i] = value
        pos += n
    return out
