"""One front end for decoding range-coded streams (constriction's queue coder, 32-bit words)
that accepts exactly the words an encoder writes, and nothing else.

constriction's decoder cannot tell where a stream ends: it reads zeros past the last word,
and its `maybe_exhausted()` is only a necessary condition (a word appended after a one-word
seal passes it). So a stream with words dropped decodes to wrong symbols "successfully",
and one with words appended decodes as if they were not there. `ExactDecoder` closes both
gaps by re-encoding every decoded symbol under the same model, in lockstep:

- while decoding, as soon as the re-encoded stream must grow past the words given, the
  decoder has run off the end: `ContainerError` at once (no work on padding);
- `finish()` compares the re-encoded stream with the words given: any difference (a word
  appended, dropped, or changed without changing the symbols) is a `ContainerError`.

The encoder is deterministic, so every stream an encoder wrote passes, whatever the calls
were grouped into. Re-encoding reuses the decoder's model objects; it costs about as much as
the range decoding itself, which is the cheap part of a decoder (models are built once).

Use (plugins too: `inrz.ExactDecoder`):

    dec = ExactDecoder(read_words(data, "the payload"), "the payload")
    symbols = dec.decode(model, count)          # any of constriction's decode signatures
    dec.finish()                                # before trusting anything decoded
"""
from __future__ import annotations

import constriction
import numpy as np

from ..core.errors import ContainerError


def read_words(data: bytes, what: str = "range-coded data") -> np.ndarray:
    """The little-endian u32 words of `data`; a length that is not a whole number of words is
    a `ContainerError` naming `what`."""
    if len(data) % 4:
        raise ContainerError(f"{what} is not a whole number of 32-bit words ({len(data)} bytes)")
    return np.frombuffer(data, "<u4").astype(np.uint32)


class ExactDecoder:
    """A range decoder over `words` that refuses any stream its symbols do not re-encode to."""

    def __init__(self, words: np.ndarray, what: str = "range-coded data"):
        self.words = np.ascontiguousarray(words, np.uint32)
        self.what = what
        self._dec = constriction.stream.queue.RangeDecoder(self.words)
        self._enc = constriction.stream.queue.RangeEncoder()
        self._finished = False

    def decode(self, model, *args) -> np.ndarray:
        """constriction's `RangeDecoder.decode(model, *args)`: a count for a fixed model, or
        per-symbol parameters for a model family; the symbols as an int32 array."""
        if self._finished:
            raise RuntimeError("ExactDecoder.decode after finish()")  # the caller's bug, not the file's
        try:
            symbols = np.atleast_1d(np.asarray(self._dec.decode(model, *args), np.int32))
        except AssertionError as exc:  # constriction's word for "no encoder writes these words"
            raise ContainerError(f"{self.what} is corrupt (invalid range-coded data)") from exc
        if symbols.size:
            count = () if len(args) == 1 and not np.ndim(args[0]) else args  # a fixed model takes no count
            self._enc.encode(symbols, model, *count)
        # the final stream is at least one word longer than what is flushed now (bulk + held words)
        if self._enc.num_words() - 1 > self.words.size:
            raise ContainerError(f"{self.what} ends before its symbols do (words are missing)")
        return symbols

    def finish(self) -> None:
        """`ContainerError` unless the words are exactly the encoding of what was decoded."""
        self._finished = True
        again = self._enc.get_compressed()
        if again.size != self.words.size or not np.array_equal(again, self.words):
            detail = ("holds words after its last symbol" if again.size < self.words.size else
                      "ends before its symbols do (words are missing)" if again.size > self.words.size else
                      "is not the encoding of the symbols it decodes to")
            raise ContainerError(f"{self.what} {detail}")
