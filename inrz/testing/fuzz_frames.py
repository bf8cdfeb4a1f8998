"""Fuzzing archive chunk frames (`inrz.archive.frames`): seeds of every kind, structural
mutations with the checksum recomputed.

Seeds are frames the archive encoder's own writers produce: constant chunks (1x1 and NaN
ones included), raw and zstd values, and error-bounded residuals (with special values and
exceptions) in several dtypes. Mutations edit what a frame's reader must check: the dtype
byte, the shape (huge, zero, non-canonical LEB128), the kind, a residual's bound and origin
(NaN, +-Inf), its sections and its range-coded words (appended, dropped, changed, with the
word count and section length made consistent again, so only the range coder can tell).
`inrz.testing.fuzz.mutate` and `outcome` dispatch here for frames.
"""
from __future__ import annotations

import random
import struct
from dataclasses import dataclass, replace

import numpy as np

from ..archive import frames
from ..coding import errorbound, specials
from ..coding.varint import read_uvarint, uvarint

#: shapes a mutation gives a frame: bombs, nothing, and what no encoder writes
HOSTILE_SHAPES = [[1, 2**32], [2**32], [2**26], [16384, 16384], [1 << 20, 1 << 20], [0], [3, 0], [2**64 - 1],
                  [1] * 33, [1], [1, 1], [2, 2]]
ORIGINS = [float("nan"), float("inf"), -float("inf"), 1e308, -1e308, 5e-324]
BOUNDS = [float("nan"), float("inf"), -1.0, 0.0, 5e-324, 1e-300, 1e300]


@dataclass(frozen=True)
class Frame:
    """A frame's fields; `body` is everything between the shape and the checksum."""

    kind: int
    dtype: int
    shape: tuple[int, ...]
    body: bytes

    def pack(self) -> bytes:
        head = bytes([self.kind, self.dtype, len(self.shape) % 256]) + b"".join(uvarint(n) for n in self.shape)
        return frames._seal(head + self.body)


def parse(data: bytes) -> Frame:
    """The fields of a well-formed frame (a seed's)."""
    pos, shape = 3, []
    for _ in range(data[2]):
        n, pos = read_uvarint(data, pos)
        shape.append(n)
    return Frame(data[0], data[1], tuple(shape), bytes(data[pos:-4]))


@dataclass(frozen=True)
class Residual:
    """A kind-4 body: bound, origin bytes, exception count, residual / exceptions / specials."""

    bound: bytes
    origin: bytes
    count: int
    parts: tuple[bytes, bytes, bytes]

    def pack(self) -> bytes:
        return self.bound + self.origin + uvarint(self.count) + b"".join(uvarint(len(p)) + p for p in self.parts)


def residual_of(frame: Frame) -> Residual:
    width = np.dtype(frames.DTYPES[frame.dtype]).itemsize
    count, pos = read_uvarint(frame.body, 8 + width)
    parts = []
    for _ in range(3):
        n, pos = read_uvarint(frame.body, pos)
        parts.append(frame.body[pos:pos + n])
        pos += n
    return Residual(frame.body[:8], frame.body[8:8 + width], count, tuple(parts))


def edit_words(section: bytes, drop: int = 0, append: bytes = b"", fix_count: bool = True) -> bytes:
    """A context-coded `residual` section (tag, predictor, axes, u16 M, u32 W, words) with `drop`
    words taken off its end and `append` put after it, the word count W kept consistent. The
    compiled coder's section (tag 0x12: tag, predictor, axes, bytes; 0x13: a tune byte before the
    bytes; 0x14: tag, a layout byte, bytes) has no count: `drop` bytes."""
    if section[:1] in (bytes([errorbound.TAG]), bytes([errorbound.TAG_TUNED]), bytes([errorbound.TAG_MULTIDIM])):
        head = {errorbound.TAG: 3, errorbound.TAG_TUNED: 4, errorbound.TAG_MULTIDIM: 2}[section[0]]
        stream = section[head:]
        return section[:head] + stream[:len(stream) - drop] + append
    head, words = section[:9], section[9:]
    words = words[:len(words) - 4 * drop] + append
    count = len(words) // 4 if fix_count else int.from_bytes(head[5:9], "little")
    return head[:5] + count.to_bytes(4, "little") + words


def residual_frame(array: np.ndarray, bound: float, fill_values=(), effort: str = "fast") -> bytes:
    """What the archive encoder writes for the residual alone (`inrz.archive.chunks._residual`)."""
    filled, kept = specials.split(array, fill_values)
    origin = filled.reshape(-1)[0]
    keep = None if kept is None else ~kept.mask
    header, sections = errorbound.residual_sections(filled, np.full(filled.shape, origin, filled.dtype), bound, keep,
                                                    effort)
    return frames.residual(array, origin, header, sections, kept.section if kept else b"")


def seed_frames() -> dict[str, bytes]:
    """name -> frame, every kind: constant (1x1, NaN), raw, zstd, residual (specials, exceptions)."""
    rng = np.random.default_rng(0)
    y, x = np.meshgrid(np.linspace(0, 3, 24), np.linspace(0, 4, 20), indexing="ij")
    field = 280 + 10 * np.sin(x) * np.cos(y) + rng.normal(0, 0.2, x.shape)
    holes = field.astype("f4")
    holes[2:4, 3:7], holes[10, 10], holes[11, 11], holes[12, 12] = np.nan, np.inf, -np.inf, -9999.0
    smooth = np.stack([280 + 10 * np.sin(x + t / 3) * np.cos(y) for t in range(12)]).astype("f4")
    seeds = {
        "constant-f4": frames.constant(np.full((64, 64), 287.5, "f4")),
        "constant-nan-f8": frames.constant(np.full((5, 16, 16), np.nan)),
        "constant-1x1-u1": frames.constant(np.full((1, 1), 7, "u1")),
        "constant-i8": frames.constant(np.full((3,), -2**40, "i8")),
        "raw-1x1-f8": frames.raw(np.array([[3.25]])),
        "raw-i2": frames.raw(rng.integers(-300, 300, (4, 5)).astype("i2")),
        "zstd-f4": frames.packed(field.astype("f4"), 3),
        "zstd-u2": frames.packed(rng.integers(0, 9, (6, 7, 2)).astype("u2"), 19),
        "residual-f4-specials": residual_frame(holes, 0.05, (-9999.0,)),
        "residual-f8-exceptions": residual_frame(field[None] * 1e5, 1e-12),
        "residual-f2": residual_frame(field[0].astype("f2"), 0.1),
        "residual-i2": residual_frame((field * 10).astype("i2"), 2.0),
        "residual-u1": residual_frame(rng.integers(0, 255, (9, 11)).astype("u1"), 4.0),
        "residual-i8-extremes": residual_frame(np.array([[-2**63, 0], [2**63 - 1, 5]], "i8"), 0.5),
        "residual-1x1-f4": residual_frame(np.full((1, 1), 3.5, "f4"), 0.01),
        "residual-f4-3d": residual_frame(np.stack([field, field * 0.5]).astype("f4"), 0.02),
        "residual-f4-3d-multidim": residual_frame(smooth, 0.05, effort="best"),  # tag 0x14
    }
    return {f"frame-{name}": data for name, data in seeds.items()}


# --- mutations: (frame, every seed, rng) -> bytes ----------------------------------------------

def m_flip(frame: Frame, seeds, rng: random.Random) -> bytes:
    data = bytearray(frame.pack()[:-4])
    for _ in range(rng.randint(1, 4)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return frames._seal(bytes(data))


def m_dtype(frame: Frame, seeds, rng: random.Random) -> bytes:
    """Another dtype, of the same width half the time (bits that would be reinterpreted)."""
    width = np.dtype(frames.DTYPES[frame.dtype]).itemsize
    same = [i for i, d in enumerate(frames.DTYPES) if np.dtype(d).itemsize == width and i != frame.dtype]
    other = [i for i in range(len(frames.DTYPES) + 2) if i != frame.dtype]
    pick = rng.choice(same) if same and rng.random() < 0.5 else rng.choice(other)
    return replace(frame, dtype=pick).pack()


def m_shape(frame: Frame, seeds, rng: random.Random) -> bytes:
    """A hostile shape, or the seed's axes permuted, merged or stretched."""
    shape = list(frame.shape)
    choice = rng.randrange(3)
    if choice == 0:
        shape = rng.choice(HOSTILE_SHAPES)
    elif choice == 1:
        shape = [int(np.prod(shape))] if rng.random() < 0.5 else shape[::-1] + [1]
    else:
        i = rng.randrange(len(shape))
        shape[i] = rng.choice([shape[i] + 1, max(0, shape[i] - 1), shape[i] * 1000, 2**31])
    return replace(frame, shape=tuple(shape)).pack()


def m_leb(frame: Frame, seeds, rng: random.Random) -> bytes:
    """An axis length in more bytes than it needs (0x80 .. 0x00), or a length field cut short."""
    head = bytes([frame.kind, frame.dtype, len(frame.shape)])
    axes = [uvarint(n) for n in frame.shape]
    i = rng.randrange(len(axes))
    axes[i] = axes[i][:-1] + bytes([axes[i][-1] | 0x80]) + (b"\x00" if rng.random() < 0.8 else b"")
    return frames._seal(head + b"".join(axes) + frame.body)


def m_kind(frame: Frame, seeds, rng: random.Random) -> bytes:
    return replace(frame, kind=rng.choice([k for k in (0, 1, 2, 3, 4, 5, 73) if k != frame.kind])).pack()


def m_truncate(frame: Frame, seeds, rng: random.Random) -> bytes:
    data = frame.pack()[:-4]
    cut = data[:rng.randrange(len(data))]
    return frames._seal(cut) if rng.random() < 0.7 else cut


def m_splice(frame: Frame, seeds, rng: random.Random) -> bytes:
    others = [parse(d) for d in seeds.values() if frames.is_frame(d)]
    return replace(frame, body=rng.choice(others).body).pack()


def _residual_edit(edit):
    """A mutation of a residual frame's body (`mutate` gives other frames other mutations)."""
    def mutator(frame: Frame, seeds, rng: random.Random) -> bytes:
        return replace(frame, body=edit(residual_of(frame), frame, rng).pack()).pack()
    mutator.__name__ = edit.__name__
    return mutator


@_residual_edit
def m_origin(res: Residual, frame: Frame, rng: random.Random) -> Residual:
    dtype = np.dtype(frames.DTYPES[frame.dtype])
    with np.errstate(over="ignore", invalid="ignore"):
        value = np.asarray(rng.choice(ORIGINS)).astype(dtype) if dtype.kind == "f" else np.iinfo(dtype).max
    return replace(res, origin=np.asarray(value, dtype).tobytes())


@_residual_edit
def m_bound(res: Residual, frame: Frame, rng: random.Random) -> Residual:
    return replace(res, bound=struct.pack("<d", rng.choice(BOUNDS)))


@_residual_edit
def m_append(res: Residual, frame: Frame, rng: random.Random) -> Residual:
    """Words after the last symbol, the word count and section length consistent."""
    words = bytes(rng.randrange(256) for _ in range(4 * rng.randint(1, 3)))
    return replace(res, parts=(edit_words(res.parts[0], append=words), *res.parts[1:]))


@_residual_edit
def m_drop(res: Residual, frame: Frame, rng: random.Random) -> Residual:
    """Words taken off the stream's end, the word count and section length consistent: no
    decode may succeed (`benchmarks/fuzz.py` counts any that does)."""
    words = (len(res.parts[0]) - 9) // 4
    return replace(res, parts=(edit_words(res.parts[0], drop=rng.randint(1, max(1, words))), *res.parts[1:]))


@_residual_edit
def m_words(res: Residual, frame: Frame, rng: random.Random) -> Residual:
    """A bit of one word flipped, or the word count out of step with the words."""
    section = bytearray(res.parts[0])
    if rng.random() < 0.5 and len(section) > 9:
        section[rng.randrange(9, len(section))] ^= 1 << rng.randrange(8)
    else:
        count = int.from_bytes(section[5:9], "little") + rng.choice([-1, 1])
        section[5:9] = (count % 2**32).to_bytes(4, "little")
    return replace(res, parts=(bytes(section), *res.parts[1:]))


@_residual_edit
def m_sections(res: Residual, frame: Frame, rng: random.Random) -> Residual:
    """A section emptied, cut, grown or swapped; or the exception count changed."""
    parts, i = list(res.parts), rng.randrange(3)
    choice = rng.randrange(4)
    if choice == 0:
        parts[i] = parts[i][:rng.randrange(len(parts[i]) + 1)]
    elif choice == 1:
        parts[i] += bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    elif choice == 2:
        j = rng.randrange(3)
        parts[i], parts[j] = parts[j], parts[i]
    else:
        return replace(res, count=rng.choice([0, 1, res.count + 1, 2**32, 2**63]))
    return replace(res, parts=tuple(parts))


MUTATORS = {"f_flip": m_flip, "f_dtype": m_dtype, "f_shape": m_shape, "f_leb": m_leb, "f_kind": m_kind,
            "f_truncate": m_truncate, "f_splice": m_splice, "f_origin": m_origin, "f_bound": m_bound,
            "f_append": m_append, "f_drop": m_drop, "f_words": m_words, "f_sections": m_sections}
RESIDUAL_ONLY = {"f_origin", "f_bound", "f_append", "f_drop", "f_words", "f_sections"}


def mutate(data: bytes, seeds: dict[str, bytes], rng: random.Random, mutator: str | None = None) -> tuple[str, bytes]:
    """One mutated frame (and the mutator's name) from a seed frame; a residual's mutations
    apply to residual frames only (another frame asked for one gets `f_flip`)."""
    frame = parse(data)
    names = [n for n in MUTATORS if frame.kind == frames.RESIDUAL or n not in RESIDUAL_ONLY]
    name = mutator if mutator in names else "f_flip" if mutator else rng.choice(names)
    return name, MUTATORS[name](frame, seeds, rng)


def chunk_of(data: bytes) -> tuple[int, np.dtype]:
    """A seed frame's number of values and dtype: what zarr or an `out=` buffer knows of its chunk."""
    frame = parse(data)
    return int(np.prod(frame.shape)), np.dtype(frames.DTYPES[frame.dtype])
