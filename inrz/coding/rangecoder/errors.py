"""The one table of what can be wrong with a range-coded stream, and the one function that
turns it into a `ContainerError`.

Compiled kernels cannot raise a typed error (and must not hold the GIL to try), so they return
one of these codes; Python decoders report through the same function. Every range-coded stream
inrz reads (c3's latent-grid payload, the archive's error-bound residual, COIN++'s tables)
fails with the same words for the same fault, naming the stream it was reading.
"""
from __future__ import annotations

from ...core.errors import ContainerError

OK, CORRUPT, PAST_END, TRAILING, BAD_START, BAD_ESCAPE, ESCAPE_TAIL, TOO_LARGE, NOT_WORDS = range(9)

#: what each code says about the stream (its description comes first)
ERRORS = {
    CORRUPT: "is corrupt (range-coded data no encoder writes)",
    PAST_END: "ends before its last symbol (range-coded words or bytes are missing: truncated)",
    TRAILING: "holds words or bytes after its last symbol (range-coded data appended)",
    BAD_START: "does not start as a range encoder starts it (corrupt or truncated)",
    BAD_ESCAPE: "holds an escape no encoder writes (its escape stream is truncated or corrupt)",
    ESCAPE_TAIL: "holds bits after its last escape (its escape stream is padded or corrupt)",
    TOO_LARGE: "holds a value beyond what its decoder accepts (corrupt, or not written by this coder)",
    NOT_WORDS: "is not a whole number of 32-bit range-coded words (truncated or padded)",
}


def corrupt(code: int, what: str, detail: str = "") -> ContainerError:
    """The error for `code` in the stream `what` ("the latent-grid payload"); `detail` adds
    what the decoder saw. Raise it: `raise corrupt(PAST_END, what)`."""
    return ContainerError(f"{what} {ERRORS[code]}" + (f": {detail}" if detail else ""))


def check(code: int, what: str) -> None:
    """Nothing for `OK`; else the code's `ContainerError` (a kernel's return value, checked)."""
    if code != OK:
        raise corrupt(int(code), what)
