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
    """(value, position after it); a truncated field or one longer than `max_bits` is a
    `ContainerError` naming `what`, so a hostile length never turns into a huge number."""
    value = shift = 0
    while True:
        if pos >= len(data) or shift >= max_bits:
            raise ContainerError(f"{what} is truncated or overlong")
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if not byte & 0x80:
            return value, pos
