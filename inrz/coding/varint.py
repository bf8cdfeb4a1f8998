"""Unsigned LEB128 integers: the length fields of chunk frames and plugin payloads, one
implementation for the core and the plugins (`inrz.uvarint`, `inrz.read_uvarint`)."""
from __future__ import annotations

from ..core.errors import ContainerError


def uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def read_uvarint(data: bytes, pos: int, what: str = "a length field", max_bits: int = 64) -> tuple[int, int]:
    """(value, position after it); a truncated field, a value of `max_bits` bits or more, or
    one not in its fewest bytes (as `uvarint` writes it) is a `ContainerError` naming `what`,
    so a hostile length never turns into a huge number and every number has one spelling."""
    if 0 <= pos < len(data) and data[pos] < 0x80 and max_bits > 0 and not data[pos] >> max_bits:
        return data[pos], pos + 1  # one byte, as most fields are: what the loop returns, sooner
    value = shift = 0
    while True:
        if pos >= len(data) or shift >= max_bits:
            raise ContainerError(f"{what} is truncated or overlong")
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if not byte & 0x80:
            if byte == 0 and shift > 7:
                raise ContainerError(f"{what} is not in its shortest form (a trailing zero byte)")
            if value >> max_bits:
                raise ContainerError(f"{what} is overlong ({value} has more than {max_bits} bits)")
            return value, pos
