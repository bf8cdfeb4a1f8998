"""The range coder of every inrz stream: c3's latent-grid payload, the archive's error-bound
residual, COIN++'s frequency tables (plugins reach it as `inrz.rangecoder`).

One front end, in four parts (split only to keep each small; import from here):

- `queue`: constriction's queue format (u32 words): `queue_encoder`, `read_words`, the strict
  `ExactDecoder` (any constriction model, re-encoding in lockstep) and the compiled strict
  decoder for categorical models (`queue_start`, `queue_step` in a kernel's loop, `queue_end`),
  and the lenient `QueueDecoder` reference decoders use;
- `binary`: an LZMA-style adaptive binary coder (bytes), compiled, for context-modelled bits
  (`bin_*` on a state array; `enc_*` / `dec_*` on the same state as a tuple a kernel's loop
  keeps in registers);
- `escapes`: values past a model's alphabet: Exp-Golomb bits beside the words, zigzag bytes
  inside them;
- `errors`: the one table of what can be wrong with a stream (`ERRORS`) and the one function
  that turns a code and a description of the stream into a `ContainerError` (`corrupt`,
  `check`). Kernels return codes; no coder maps constriction's assertion or a kernel's code to
  an error on its own, so the same fault reads the same everywhere.

Every byte format here is frozen: golden files and pinned encodings must not change.
"""
from __future__ import annotations

from .binary import (bin_decoder, bin_encoder, bin_end, bin_flush, bin_get, bin_get_direct, bin_models, bin_put,
                     bin_put_direct, dec_get, dec_get_direct, dec_load, dec_store, enc_load, enc_put,
                     enc_put_direct, enc_room, enc_store)
from .errors import (BAD_ESCAPE, BAD_START, CORRUPT, ERRORS, ESCAPE_TAIL, NOT_WORDS, OK, PAST_END, TOO_LARGE,
                     TRAILING, check, corrupt)
from .escapes import (MAX_ESCAPE_BITS, GolombReader, GolombWriter, decode_zigzag, encode_zigzag, golomb,
                      golomb_end)
from .queue import (ExactDecoder, QueueDecoder, queue_encoder, queue_end, queue_load, queue_start, queue_step,
                    queue_store, queue_symbol, read_words)

__all__ = [
    "BAD_ESCAPE", "BAD_START", "CORRUPT", "ERRORS", "ESCAPE_TAIL", "NOT_WORDS", "OK", "PAST_END", "TOO_LARGE",
    "TRAILING", "check", "corrupt",
    "ExactDecoder", "QueueDecoder", "queue_encoder", "queue_end", "queue_load", "queue_start", "queue_step",
    "queue_store", "queue_symbol", "read_words",
    "bin_decoder", "bin_encoder", "bin_end", "bin_flush", "bin_get", "bin_get_direct", "bin_models", "bin_put",
    "bin_put_direct", "dec_get", "dec_get_direct", "dec_load", "dec_store", "enc_load", "enc_put",
    "enc_put_direct", "enc_room", "enc_store",
    "MAX_ESCAPE_BITS", "GolombReader", "GolombWriter", "decode_zigzag", "encode_zigzag", "golomb", "golomb_end",
]
