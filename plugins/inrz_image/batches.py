"""CIFAR-10's python batches read without unpickling.

The official batches are pickles (dicts of labels, file names and a uint8 array), and
`pickle.load` runs whatever a pickle names: a planted `cifar-10-batches-py/` folder would run
its author's code. This reader interprets the pickle opcodes the batches use (protocols 0-5,
as Python 2 and 3 write them) and builds plain values only: dicts, lists, tuples, bytes,
str, numbers. The few "globals" a numpy array pickle names (`numpy.dtype`, the array
reconstructors, `_codecs.encode` for Python 2 strings) are replaced by stand-ins that make an
array from the raw bytes; any other global, and anything malformed, is a `DatasetError`.
"""
from __future__ import annotations

import codecs
import struct
from pathlib import Path
from typing import Any

import numpy as np

from inrz import DatasetError

_MARK = object()


class _Array:
    """What `numpy.core.multiarray._reconstruct` would build: filled in by BUILD."""


class _Dtype:
    def __init__(self, spec: Any):
        name = spec.decode("latin-1") if isinstance(spec, bytes) else spec
        if not isinstance(name, str) or name not in ("u1", "i1", "b1", "u2", "i2", "u4", "i4", "u8", "i8", "f4", "f8"):
            raise ValueError(f"dtype {spec!r} is not one CIFAR batches hold")
        self.dtype = np.dtype(name)

    def build(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) > 1 and state[1] in ("<", ">", "|", b"<", b">", b"|"):
            order = state[1].decode() if isinstance(state[1], bytes) else state[1]
            self.dtype = self.dtype.newbyteorder(order) if order != "|" else self.dtype


def _array_from_state(state: Any) -> np.ndarray:
    """ndarray.__setstate__'s (version, shape, dtype, is_fortran, raw bytes)."""
    if not (isinstance(state, tuple) and len(state) == 5 and isinstance(state[2], _Dtype)):
        raise ValueError("an array's state is not (version, shape, dtype, fortran, data)")
    _, shape, dtype, fortran, raw = state
    raw = raw.encode("latin-1") if isinstance(raw, str) else raw
    return _frombuffer(raw, dtype, shape, "F" if fortran else "C")


def _frombuffer(raw: Any, dtype: Any, shape: Any, order: Any = "C") -> np.ndarray:
    if not (isinstance(raw, (bytes, bytearray)) and isinstance(dtype, _Dtype) and isinstance(shape, tuple)
            and all(isinstance(n, int) and n >= 0 for n in shape)):
        raise ValueError("an array is not (bytes, dtype, shape)")
    order = order.decode() if isinstance(order, bytes) else order
    if int(np.prod(shape, dtype=np.int64)) * dtype.dtype.itemsize != len(raw) or order not in ("C", "F"):
        raise ValueError(f"an array of shape {shape} does not match its {len(raw)} bytes")
    return np.frombuffer(bytes(raw), dtype.dtype).reshape(shape, order=order)


def _latin1(text: Any, encoding: Any = "latin1") -> bytes:
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise ValueError("_codecs.encode is only read for Python 2 strings")
    return text.encode("latin-1")


#: the only globals a batch may name, and what stands in for each
_GLOBALS = {
    **{(m, "_reconstruct"): (lambda cls, shape, dtype: _Array()) for m in ("numpy.core.multiarray",
                                                                          "numpy._core.multiarray")},
    **{(m, "_frombuffer"): _frombuffer for m in ("numpy.core.numeric", "numpy._core.numeric")},
    ("numpy", "ndarray"): "ndarray", ("numpy", "dtype"): lambda spec, align=0, copy=1: _Dtype(spec),
    ("_codecs", "encode"): _latin1,
}


def read_batch(path: Path) -> dict:
    """The dict a CIFAR batch pickles, as plain values and numpy arrays; `DatasetError` otherwise."""
    try:
        data = Path(path).read_bytes()
        value = _Reader(data).run()
    except OSError as exc:
        raise DatasetError(f"cannot read CIFAR-10 batch {path}: {exc.strerror or exc}") from exc
    except (ValueError, IndexError, KeyError, TypeError, struct.error, UnicodeDecodeError, RecursionError) as exc:
        raise DatasetError(f"{path} is not a CIFAR-10 batch (read without unpickling: {exc})") from exc
    if not isinstance(value, dict):
        raise DatasetError(f"{path} is not a CIFAR-10 batch: it holds a {type(value).__name__}, not a dict")
    return value


class _Reader:
    """A pickle-opcode interpreter over plain values (see the module docstring)."""

    def __init__(self, data: bytes):
        self.data, self.pos, self.stack, self.marks, self.memo = data, 0, [], [], {}

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError("truncated pickle")
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def line(self) -> bytes:
        end = self.data.index(b"\n", self.pos)
        out, self.pos = self.data[self.pos:end], end + 1
        return out

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "little")

    def pop_mark(self) -> list:
        start = self.marks.pop()
        items, self.stack[start:] = self.stack[start:], []
        return items

    def run(self) -> Any:
        while True:
            op = self.take(1)
            if op == b".":
                return self.stack.pop()
            handler = _OPS.get(op)
            if handler is None:
                raise ValueError(f"pickle opcode {op!r} is not one CIFAR batches use")
            handler(self)


def _setitems(r: _Reader, items: list) -> None:
    target = r.stack[-1]
    if not isinstance(target, dict) or len(items) % 2:
        raise ValueError("SETITEMS on something other than a dict")
    for k, v in zip(items[::2], items[1::2]):
        target[k] = v


def _appends(r: _Reader, items: list) -> None:
    if not isinstance(r.stack[-1], list):
        raise ValueError("APPENDS on something other than a list")
    r.stack[-1].extend(items)


def _int(r: _Reader) -> None:
    text = r.line()
    r.stack.append(False if text == b"00" else True if text == b"01" else int(text))


def _quoted(r: _Reader) -> None:
    """Protocol 0's STRING: a quoted, escaped Python 2 str, read as bytes (never evaluated)."""
    text = r.line()
    if len(text) < 2 or text[0] != text[-1] or text[:1] not in (b"'", b'"'):
        raise ValueError("a STRING opcode without quotes")
    r.stack.append(codecs.escape_decode(text[1:-1])[0])


def _reduce(r: _Reader) -> None:
    args, func = r.stack.pop(), r.stack.pop()
    if not (callable(func) and isinstance(args, tuple)):
        raise ValueError("REDUCE of something other than an allowed global")
    r.stack.append(func(*args))


def _build(r: _Reader) -> None:
    state, obj = r.stack.pop(), r.stack[-1]
    if isinstance(obj, _Array):
        r.stack[-1] = _array_from_state(state)
    elif isinstance(obj, _Dtype):
        obj.build(state)
    else:
        raise ValueError("BUILD of something other than an array or dtype")


def _global(r: _Reader, module: str, name: str) -> None:
    if (module, name) not in _GLOBALS:
        raise ValueError(f"the pickle names {module}.{name}, which a CIFAR batch never does")
    r.stack.append(_GLOBALS[module, name])


def _memo_put(r: _Reader, key: int) -> None:
    r.memo[key] = r.stack[-1]


_OPS = {
    b"\x80": lambda r: r.take(1), b"\x95": lambda r: r.take(8), b"(": lambda r: r.marks.append(len(r.stack)),
    b"0": lambda r: r.stack.pop(), b"1": lambda r: r.pop_mark(), b"2": lambda r: r.stack.append(r.stack[-1]),
    b"}": lambda r: r.stack.append({}), b"]": lambda r: r.stack.append([]), b")": lambda r: r.stack.append(()),
    b"t": lambda r: r.stack.append(tuple(r.pop_mark())), b"l": lambda r: r.stack.append(r.pop_mark()),
    b"\x85": lambda r: r.stack.append((r.stack.pop(),)),
    b"\x86": lambda r: r.stack.extend([tuple(reversed([r.stack.pop(), r.stack.pop()]))]),
    b"\x87": lambda r: r.stack.extend([tuple(reversed([r.stack.pop(), r.stack.pop(), r.stack.pop()]))]),
    b"d": lambda r: r.stack.append(dict(zip(*[iter(r.pop_mark())] * 2))),
    b"s": lambda r: _setitems(r, [r.stack.pop(-2), r.stack.pop()]), b"u": lambda r: _setitems(r, r.pop_mark()),
    b"a": lambda r: _appends(r, [r.stack.pop()]), b"e": lambda r: _appends(r, r.pop_mark()),
    b"p": lambda r: _memo_put(r, int(r.line())), b"q": lambda r: _memo_put(r, r.uint(1)),
    b"r": lambda r: _memo_put(r, r.uint(4)), b"\x94": lambda r: _memo_put(r, len(r.memo)),
    b"g": lambda r: r.stack.append(r.memo[int(r.line())]), b"h": lambda r: r.stack.append(r.memo[r.uint(1)]),
    b"j": lambda r: r.stack.append(r.memo[r.uint(4)]),
    b"N": lambda r: r.stack.append(None), b"\x88": lambda r: r.stack.append(True),
    b"\x89": lambda r: r.stack.append(False),
    b"I": _int,
    b"J": lambda r: r.stack.append(int.from_bytes(r.take(4), "little", signed=True)),
    b"K": lambda r: r.stack.append(r.uint(1)), b"M": lambda r: r.stack.append(r.uint(2)),
    b"L": lambda r: r.stack.append(int(r.line().rstrip(b"L"))),
    b"\x8a": lambda r: r.stack.append(int.from_bytes(r.take(r.uint(1)), "little", signed=True)),
    b"\x8b": lambda r: r.stack.append(int.from_bytes(r.take(r.uint(4)), "little", signed=True)),
    b"G": lambda r: r.stack.append(struct.unpack(">d", r.take(8))[0]), b"F": lambda r: r.stack.append(float(r.line())),
    b"U": lambda r: r.stack.append(r.take(r.uint(1))), b"T": lambda r: r.stack.append(r.take(r.uint(4))),
    b"C": lambda r: r.stack.append(r.take(r.uint(1))), b"B": lambda r: r.stack.append(r.take(r.uint(4))),
    b"\x8e": lambda r: r.stack.append(r.take(r.uint(8))), b"\x96": lambda r: r.stack.append(r.take(r.uint(8))),
    b"S": _quoted, b"V": lambda r: r.stack.append(r.line().decode("raw_unicode_escape")),
    b"\x8c": lambda r: r.stack.append(r.take(r.uint(1)).decode("utf-8")),
    b"X": lambda r: r.stack.append(r.take(r.uint(4)).decode("utf-8")),
    b"\x8d": lambda r: r.stack.append(r.take(r.uint(8)).decode("utf-8")),
    b"c": lambda r: _global(r, r.line().decode("ascii"), r.line().decode("ascii")),
    b"\x93": lambda r: _global(r, *reversed([r.stack.pop(), r.stack.pop()])),
    b"R": _reduce, b"b": _build,
}
