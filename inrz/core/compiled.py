"""Compiled kernels (`kernel`): numba's `njit`, imported only when needed, plus machine code that
a later process loads without importing numba at all.

Why: a process pays ~0.4 s to import numba and ~0.8 s more for its first compiled call, even one
served from numba's on-disk cache (numba builds its whole CPU target then). That is 10x the c3
decode it runs. So a kernel marked `native=True` keeps, per kind of arguments (dtype, number of
axes, axis order of each array; type of each scalar), a C-ABI entry compiled by numba (`cfunc`)
around the very same kernel, whose object code is written to `cache_dir()/native/<environment>`. A process
that finds it there loads it with llvmlite's MCJIT (~20 ms for llvmlite, ~1 ms per entry) and
calls it through ctypes (which releases the GIL, like `nogil`); `native` builds and loads them.

Same code, same numbers: the entry calls the kernel, compiled by the same numba from the same
source for the same CPU. The cache key holds the kernel's source files (and those of every
kernel it calls, through its globals), the constants it reads, the versions of numba, llvmlite,
numpy and Python, and the CPU's name and features; anything else is a miss, and a miss compiles
(once, with numba) instead of reusing. Arguments of a kind with no entry (a 0-d array, a
float32 scalar, a tuple, ...) take numba's path. `INRZ_NATIVE=0` turns the native path off.

Kernels that only other kernels call need no entry: numba sees a `kernel` as the dispatcher it
wraps (`_numba_type_`, and `targetoptions`/`py_func` for its inliner).
"""
from __future__ import annotations

import functools
import hashlib
import importlib
import inspect
import json
import os
import sys
import threading
import types as pytypes

import numpy as np

from . import native as _native
from .fsutil import atomic_write
from .paths import cache_dir

FORMAT = 1  # of an entry file; part of the key
ENV = "INRZ_NATIVE"
_lock = threading.RLock()  # entries: loading and building
_dispatcher_lock = threading.Lock()
_DTYPES = {"f8", "f4", "i8", "i4", "i2", "i1", "u8", "u4", "u2", "u1", "b1"}


def enabled() -> bool:
    return os.environ.get(ENV, "1") != "0"


def kernel(func=None, *, native: bool = False, **options):
    """`numba.njit(**options)` without importing numba until the kernel first runs on numba's
    path; `native=True`: also callable from machine code cached on disk (see the module doc)."""
    if func is None:
        return lambda f: Kernel(f, options, native)
    return Kernel(func, options, native)


# ---------------- numba, loaded on demand ----------------

class _NoScipyLinalg:
    """Import hook refusing `scipy.linalg` while numba's array implementations load."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "scipy.linalg":
            raise ImportError("not needed by inrz's compiled kernels")


@functools.lru_cache(maxsize=None)
def _numba():
    """numba, with its array implementations loaded and `scipy.linalg` hidden from them.

    numba loads them in a process's first compiled call (even one served from its on-disk
    cache), and with them probes for a BLAS by importing `scipy.linalg`: 0.3-1 s. None of
    inrz's kernels call BLAS. Hidden, the probe records "no BLAS", which changes only how numba
    compiles `np.convolve`/`np.correlate` (a loop instead of BLAS; inrz compiles neither);
    `np.dot` and `np.linalg` still import scipy when a kernel that uses them is compiled.
    Nothing is hidden once scipy.linalg is loaded anyway."""
    import numba  # late: numba loads only when a kernel runs on its path (0.4 s)

    if "numba.np.arraymath" not in sys.modules and "scipy.linalg" not in sys.modules:
        sys.meta_path.insert(0, _NoScipyLinalg)
        try:
            import numba.np.arraymath  # noqa: F401  # late: with numba
        finally:
            sys.meta_path.remove(_NoScipyLinalg)
    return numba


class Kernel:
    """A compiled function: call it like the Python function it wraps."""

    def __init__(self, func, options: dict, native: bool):
        functools.update_wrapper(self, func)
        self.py_func = func
        self.targetoptions = dict(options)  # read by numba's inliner, as on a dispatcher
        self.native = native
        self._dispatcher = None
        self._entries: dict = {}
        self._key = None

    @property
    def dispatcher(self):
        if self._dispatcher is None:
            # its own lock, never held while numba compiles: numba asks for a callee's dispatcher
            # (`_numba_type_`) while holding its compiler lock, which a thread building an entry
            # (holding `_lock`) may be waiting for
            with _dispatcher_lock:
                if self._dispatcher is None:
                    self._dispatcher = _numba().njit(**self.targetoptions)(self.py_func)
        return self._dispatcher

    @property
    def _numba_type_(self):  # what numba's typeof sees when a kernel calls this one
        from numba.core import types  # late: only numba asks

        return types.Dispatcher(self.dispatcher)

    def __call__(self, *args, **kwargs):
        if kwargs:  # numba's dispatcher binds keywords; the native entries take positions only
            return self.dispatcher(*args, **kwargs)
        if self.native and enabled():
            kinds = _kinds(args)
            if kinds is not None:
                entry = self._entries.get(kinds)
                if entry is None:
                    entry = self._entry(kinds)
                if entry is not False:
                    return entry(args)
        return self.dispatcher(*args)

    def __repr__(self) -> str:
        return f"<kernel {self.__module__}.{self.__qualname__}>"

    def __reduce__(self):  # pickled by name, as the function it replaces in its module
        return _by_name, (self.__module__, self.__qualname__)

    def _entry(self, kinds):
        with _lock:
            if kinds in self._entries:
                return self._entries[kinds]
            folder = _folder()
            code, args = self._hashes(kinds)
            name = f"{self.__module__}.{self.__qualname__}"
            path = folder / f"{name}-{code}-{args}.bin"
            try:
                entry = _native.Entry.load(path, kinds) if path.exists() else None
            except Exception:  # unreadable or unloadable: rebuilt below
                entry = None
            if entry is None and _writable(folder):
                try:
                    blob = _native.build(_numba(), self.dispatcher, self.__qualname__, kinds)
                    entry = _native.Entry.from_blob(blob, kinds)
                except Exception:  # numba could not make an entry of this kind: numba's path
                    entry = False
                else:
                    try:
                        atomic_write(path, blob)
                        _prune(folder, name, code)
                    except OSError:
                        pass  # the cache went away meanwhile: this process keeps its entry
            self._entries[kinds] = False if entry is None else entry
            return self._entries[kinds]

    def _hashes(self, kinds) -> tuple[str, str]:
        """(what decides the machine code: sources, constants, platform; the argument kinds)"""
        if self._key is None:
            self._key = _source_key(self)
        code = hashlib.sha256(json.dumps([FORMAT, self._key, _native.platform_key()]).encode()).hexdigest()[:16]
        return code, hashlib.sha256(repr(kinds).encode()).hexdigest()[:12]

    def _hash(self, kinds) -> str:
        return "-".join(self._hashes(kinds))


def _folder():
    """This installation's entries: one folder per Python environment and inrz checkout, so that
    two of them sharing a user cache never prune each other's entries (`_prune`)."""
    here = os.path.dirname(os.path.abspath(__file__))
    return cache_dir() / "native" / hashlib.sha256(f"{sys.prefix}\n{here}".encode()).hexdigest()[:12]


@functools.lru_cache(maxsize=None)
def _writable(folder) -> bool:
    """Whether entries can be cached here. Where they cannot (a read-only home, say), building
    one would cost every process a compile: numba's own path (and its cache) serves instead."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


def _prune(folder, name: str, code: str) -> None:
    """Remove this kernel's entries made by other code or another platform (best effort): the
    cache holds what the installed code can use, not every version it ever ran."""
    for old in folder.glob(f"{name}-*.bin"):
        if old.name.count("-") >= 2 and old.name.rsplit("-", 2)[-2] != code:
            try:
                old.unlink()
            except OSError:
                pass


def _by_name(module: str, qualname: str):
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


# ---------------- argument kinds ----------------

def _kinds(args) -> tuple | None:
    """Per argument ("a", dtype, ndim, axis order), ("i",), ("f",) or ("b",); None if any has no entry kind."""
    out = []
    for x in args:
        if isinstance(x, np.ndarray):
            dt = x.dtype.str[1:] if x.dtype.byteorder in "=|<" else None
            if dt not in _DTYPES or x.ndim == 0:
                return None
            if x.flags.c_contiguous:
                out.append(("a", dt, x.ndim, None))
                continue
            order = tuple(int(i) for i in np.argsort([-s for s in x.strides], kind="stable"))
            if not x.transpose(order).flags.c_contiguous:
                return None
            out.append(("a", dt, x.ndim, order))
        elif isinstance(x, (bool, np.bool_)):
            out.append(("b",))
        elif isinstance(x, (int, np.int64)):
            if not -(1 << 63) <= x < (1 << 63):
                return None
            out.append(("i",))
        elif isinstance(x, (float, np.float64)):
            out.append(("f",))
        else:
            return None
    return tuple(out)


# ---------------- cache key ----------------

def _simple(v) -> bool:
    return isinstance(v, (bool, int, float, str, np.integer, np.floating)) or (
        isinstance(v, tuple) and all(_simple(e) for e in v))


def _names(code) -> set:
    out = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, pytypes.CodeType):
            out |= _names(c)
    return out


@functools.lru_cache(maxsize=None)
def _file_hash(path: str) -> str:
    """A source file's SHA-256, read once per process (many kernels share a file)."""
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def _source_key(root: Kernel) -> list:
    """The source files of `root` and of every kernel it reaches through its globals, and the
    values of the simple constants and arrays those kernels read (as numba freezes them)."""
    files, consts, seen, todo = {}, {}, set(), [root]
    while todo:
        k = todo.pop()
        if id(k) in seen:
            continue
        seen.add(id(k))
        f = k.py_func
        files[f.__module__] = _file_hash(inspect.getsourcefile(f))
        names = _names(f.__code__)
        scopes = [f.__globals__] + [vars(v) for v in f.__globals__.values() if isinstance(v, pytypes.ModuleType)]
        for name in sorted(names):
            for scope in scopes:
                v = scope.get(name)
                if isinstance(v, Kernel):
                    todo.append(v)
                elif _simple(v):
                    consts[f"{k.__qualname__}.{name}"] = repr(v)
                elif isinstance(v, np.ndarray):
                    consts[f"{k.__qualname__}.{name}"] = hashlib.sha256(v.tobytes() + v.dtype.str.encode()).hexdigest()
    return [sorted(files.items()), sorted(consts.items())]


