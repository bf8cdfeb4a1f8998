"""The former name of `inrz.coding.intframe`, where the integer frames live: they code
sections of new files too, so the module is not legacy. Kept for callers not yet moved.
"""
from __future__ import annotations

from .intframe import WIDTHS, decode_ints, encode_ints

__all__ = ["WIDTHS", "decode_ints", "encode_ints"]
