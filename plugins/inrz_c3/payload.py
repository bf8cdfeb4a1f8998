"""Reading a c3 payload (layout in `bitstream`): the decoder, in compiled calls, no torch.

One compiled call per weight group and one per latent level (`rangedec`); Python only parses
the head, checks the context model against the exactness bound (`armint`), builds each
level's decoding plan and, at the end, checks that both streams ended exactly. Every failure
is a ContainerError naming what is wrong; those of the streams come from `inrz.rangecoder`'s
one error table (`rangecoder.check`).
"""
from __future__ import annotations

import functools
import math

import numpy as np

from inrz import ContainerError, rangecoder, read_uvarint, threads

from . import armint, context, rangedec, tables
from .arch import Architecture
from .bitstream import GROUPS, MAX_SHIFT, READS, ZERO_MEAN_BIN, base_ints, fold, from_ints, group_keys

WHAT = "the latent-grid payload"  # how the range coder's errors name the stream


@functools.lru_cache(maxsize=32)
def plan(shape: tuple, offsets: tuple) -> tuple:
    """A grid's decoding plan as `rangedec.decode_grid` takes it, on 3 axes (leading ones added):
    (grid shape, wavefront slopes (the last one is 1), offsets, ring shape)."""
    lead = 3 - len(shape)
    grid = (1,) * lead + tuple(shape)
    slopes = np.asarray((0,) * lead + tuple(context.wavefront_slopes(offsets)), np.int64)
    if slopes[-1] != 1:
        raise ValueError(f"wavefront slopes {tuple(slopes)}: the decoder needs the last one to be 1")
    offs = np.asarray([(0,) * lead + tuple(o) for o in offsets], np.int64).reshape(len(offsets), 3)
    lag = -(offs @ slopes)
    reach = np.abs(offs).max(0, initial=0)
    ring = (int(lag.max(initial=0)) + 1, grid[0] + 2 * int(reach[0]), grid[1] + 2 * int(reach[1]))
    return grid, slopes, offs, ring


def context_model(ints: dict, shift: int, a: Architecture):
    """The integer layers of the context model, refused unless every sum stays exact."""
    names = [f"arm{i}" for i in range(a.arm_layers)] + ["armo"]
    Ws, bs = [ints[f"{n}.W"] for n in names], [ints[f"{n}.b"] for n in names]
    if not armint.within_bounds(Ws, bs):
        raise ContainerError("the c3 context model's weights exceed the decoder's exactness bound "
                             "(sum |W| * max input + |b| must stay below 2**53; docs/format.md)")
    return armint.pack(Ws, bs, shift)


def parse_head(data: bytes, find_base):
    """(base, shifts, scale bins, escape bytes, offset of the escapes): the payload's fixed head,
    checked (shared by this decoder and the reference decoder it replaced)."""
    if len(data) < 1 or data[0] not in READS:
        raise ContainerError("the latent-grid payload is truncated or of an unknown format")
    start = 1 if data[0] == 1 else 5
    head = start + 2 * len(GROUPS)
    if len(data) < head + 1:
        raise ContainerError("the latent-grid payload is truncated")
    tag = bytes(data[1:start])
    base = None
    if tag.strip(b"\0"):
        if find_base is None:
            raise ContainerError("the latent-grid payload is coded against a base and none is available")
        base = find_base(tag)
    shifts = {g: data[start + 2 * i] for i, g in enumerate(GROUPS)}
    sbins = {g: data[start + 1 + 2 * i] for i, g in enumerate(GROUPS)}
    if any(s > MAX_SHIFT for s in shifts.values()) or any(b >= tables.SCALE_BINS for b in sbins.values()):
        raise ContainerError("the latent-grid payload has an invalid weight quantization")
    n_esc, pos = read_uvarint(data, head, "the latent-grid payload's length field", max_bits=36)
    if pos + n_esc > len(data) or (len(data) - pos - n_esc) % 4:
        raise ContainerError("the latent-grid payload's lengths do not add up")
    return base, shifts, sbins, n_esc, pos


def _head(data: bytes, find_base):
    base, shifts, sbins, n_esc, pos = parse_head(data, find_base)
    bits = np.unpackbits(np.frombuffer(data, np.uint8, n_esc, pos))
    words = np.frombuffer(data, "<u4", offset=pos + n_esc).astype(np.uint32)
    return base, shifts, sbins, bits, words


def grid(words, st, bits, bst, shape, offsets, valid, arm, memo=None) -> np.ndarray:
    """One latent grid (`shape`, C order) from the streams at their current positions; `memo`
    (`rangedec.memo_table`, shared by the grids of one payload) caches the context model."""
    grid3, slopes, offs, ring_shape = plan(tuple(shape), tuple(offsets))
    valid = math.prod(shape) if valid is None else int(valid)
    out = np.empty(grid3, np.int64)  # the kernel writes every coded point (not calloc's fresh pages)
    out.reshape(-1)[valid:] = 0
    W, b, dims, woff, boff, inv = arm
    h = armint.scratch(dims, grid3[0] * grid3[1])
    cdf = tables.coder_cdf().reshape(-1, tables.ALPHABET + 1)
    code = rangedec.decode_grid(words, st, bits, bst, cdf, out, slopes, valid, offs, np.empty(ring_shape, np.int64), h, W, b,
                                dims, woff, boff, inv, rangedec.memo_table() if memo is None else memo)
    rangecoder.check(code, WHAT)
    return out.reshape(shape)


def finish(words, st, bits, bst) -> None:
    """Both streams must end exactly where the encoder ended them."""
    rangecoder.check(rangecoder.queue_end(words, st), WHAT)
    rangecoder.check(rangecoder.golomb_end(bits, bst[0]), WHAT)


OVERLAP_POINTS = 1 << 16  # a finest level this large decodes on a helper thread beside `meanwhile`


def decode(data: bytes, layout: dict, a: Architecture, find_base=None, meanwhile=None) -> dict:
    """The tensors of a payload (latent levels int64, weights float64, shifts): see `bitstream.decode`.

    `meanwhile(tensors)`: called once every tensor but the finest level ("latents.0") is in
    `tensors`; with more than one worker thread and a large finest level, while that level
    decodes on another thread (the compiled kernel releases the GIL). What it returns is stored
    under "meanwhile" in the result (absent when it is not called: no latent levels)."""
    base, shifts, sbins, bits, words = _head(data, find_base)
    cdf = tables.coder_cdf().reshape(-1, tables.ALPHABET + 1)
    st, bst = rangecoder.queue_start(words), np.zeros(1, np.int64)
    out = {"shifts": np.asarray([shifts[g] for g in GROUPS], np.int64)}
    ints = {}
    for group in GROUPS:
        keys = group_keys(layout, group)
        sizes = [int(np.prod(layout[k])) for k in keys]
        if not sum(sizes):
            continue
        flat = np.empty(sum(sizes), np.int64)
        rangecoder.check(rangedec.decode_flat(words, st, bits, bst, cdf,
                                              sbins[group] * tables.MEAN_BINS + ZERO_MEAN_BIN, flat.size, flat), WHAT)
        for k, chunk in zip(keys, np.split(flat, np.cumsum(sizes)[:-1])):
            ints[k] = chunk.reshape(layout[k]) + base_ints(base, k, shifts[group], layout[k])
            out[k] = from_ints(ints[k], k, shifts[group])
    arm = context_model(ints, shifts["arm"], a)
    memo = rangedec.memo_table()  # one context model and one set of offsets for every level

    def level(l: int) -> np.ndarray:
        shape = tuple(layout[f"latents.{l}"])
        folded, valid = fold(np.zeros(shape, np.int8), a)
        values = grid(words, st, bits, bst, folded.shape, a.offsets, valid, arm, memo)
        return values.reshape(-1)[:int(np.prod(shape))].reshape(shape)

    for l in range(a.levels - 1, 0, -1):
        out[f"latents.{l}"] = level(l)
    if a.levels:
        if meanwhile is None:
            out["latents.0"] = level(0)
        elif threads.workers() > 1 and math.prod(layout["latents.0"]) >= OVERLAP_POINTS:
            # the stream is the helper's until it returns; a pool of its own: its work (one compiled
            # call) waits on nothing, while `meanwhile` may wait on the renderer's pool
            finest = threads.executor("c3-grid", threads.workers()).submit(level, 0)
            try:
                result = meanwhile(out)
            finally:
                values = finest.result()  # its ContainerError first: a damaged file, whatever `meanwhile` did
            out["latents.0"], out["meanwhile"] = values, result
        else:
            result = meanwhile(out)
            out["latents.0"], out["meanwhile"] = level(0), result
    finish(words, st, bits, bst)
    return out
