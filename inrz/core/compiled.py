"""Compiled kernels (`kernel`): numba's `njit`, imported only when needed, plus machine code that
a later process loads without importing numba at all.

Why: a process pays ~0.4 s to import numba and ~0.8 s more for its first compiled call, even one
served from numba's on-disk cache (numba builds its whole CPU target then). That is 10x the c3
decode it runs. So a kernel marked `native=True` keeps, per kind of arguments (dtype, number of
axes, axis order of each array; type of each scalar), a C-ABI entry compiled by numba (`cfunc`)
around the very same kernel, whose object code is written to `cache_dir()/native`. A process
that finds it there loads it with llvmlite's MCJIT (~20 ms for llvmlite, ~1 ms per entry) and
calls it through ctypes (which releases the GIL, like `nogil`). numba's own C helpers (its
runtime's allocator, its exception helpers) are loaded from numba's extension modules without
importing the numba package, and registered under the names numba's code links against, as
numba itself does.

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

import ctypes
import functools
import glob
import hashlib
import importlib.machinery
import importlib.util
import inspect
import json
import os
import sys
import threading
import types as pytypes

import numpy as np

from .fsutil import atomic_write
from .paths import cache_dir

FORMAT = 1  # of an entry file; part of the key
ENV = "INRZ_NATIVE"
_lock = threading.RLock()
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
    import numba
    if "numba.np.arraymath" not in sys.modules and "scipy.linalg" not in sys.modules:
        sys.meta_path.insert(0, _NoScipyLinalg)
        try:
            import numba.np.arraymath  # noqa: F401
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
            with _lock:
                if self._dispatcher is None:
                    self._dispatcher = _numba().njit(**self.targetoptions)(self.py_func)
        return self._dispatcher

    @property
    def _numba_type_(self):  # what numba's typeof sees when a kernel calls this one
        from numba.core import types
        return types.Dispatcher(self.dispatcher)

    def __call__(self, *args):
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

    def _entry(self, kinds):
        with _lock:
            if kinds in self._entries:
                return self._entries[kinds]
            path = cache_dir() / "native" / f"{self.__module__}.{self.__qualname__}-{self._hash(kinds)}.bin"
            try:
                entry = _Entry.load(path, kinds) if path.exists() else None
            except Exception:  # unreadable or unloadable: rebuilt below
                entry = None
            if entry is None:
                try:
                    blob = _build(self, kinds)
                    entry = _Entry.from_blob(blob, kinds)
                except Exception:  # numba could not make an entry of this kind: numba's path
                    entry = False
                else:
                    try:
                        atomic_write(path, blob)
                    except OSError:
                        pass  # a read-only cache: this process keeps its entry
            self._entries[kinds] = entry
            return entry

    def _hash(self, kinds) -> str:
        if self._key is None:
            self._key = _source_key(self)
        h = hashlib.sha256(json.dumps([FORMAT, self._key, _platform_key(), repr(kinds)]).encode())
        return h.hexdigest()[:24]


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


def _argv(kinds, args) -> list:
    """The C arguments: per array its data pointer and the shape of its C-ordered form."""
    out = []
    for k, x in zip(kinds, args):
        if k[0] == "a":
            if k[3] is not None:
                x = x.transpose(k[3])
            out.append(x.__array_interface__["data"][0])
            out.extend(x.shape)
        elif k[0] == "f":
            out.append(float(x))
        else:
            out.append(int(x))
    return out


def _jsonable(kinds) -> list:
    return json.loads(json.dumps(kinds))


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
        with open(inspect.getsourcefile(f), "rb") as fh:
            files[f.__module__] = hashlib.sha256(fh.read()).hexdigest()
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


@functools.lru_cache(maxsize=None)
def _platform_key() -> list:
    import llvmlite
    ll = _llvm()
    env = {k: v for k, v in os.environ.items() if k.startswith("NUMBA_")}
    return [_numba_files(), llvmlite.__version__, np.__version__, sys.version, ll.get_host_cpu_name(),
            ll.get_host_cpu_features().flatten(), sorted(env.items())]


def _numba_files() -> list:
    """numba's installed files that its code depends on (version file, C extensions), by size
    and modification time: what an upgrade changes, read without importing numba or scanning
    the installed distributions' metadata."""
    spec = importlib.util.find_spec("numba")
    if spec is None or not spec.submodule_search_locations:
        return []
    root = list(spec.submodule_search_locations)[0]
    out = []
    for rel in ("_version.py", "_helperlib", "_dynfunc", "core/runtime/_nrt_python"):
        path = os.path.join(root, rel if rel.endswith(".py") else rel + importlib.machinery.EXTENSION_SUFFIXES[0])
        try:
            st = os.stat(path)
            out.append([rel, st.st_size, st.st_mtime_ns])
        except OSError:
            out.append([rel, None, None])
    return out


# ---------------- building an entry (needs numba) ----------------

def _build(k: Kernel, kinds) -> bytes:
    """A C-ABI entry for `k` on arguments of `kinds`, as bytes: a JSON head line, then object code."""
    numba = _numba()
    from numba.core import types
    dispatcher = k.dispatcher
    sig_args, params, lines, call = [], [], [], []
    nptype = {"b1": types.boolean}
    for j, kd in enumerate(kinds):
        if kd[0] == "a":
            dt = nptype.get(kd[1]) or numba.from_dtype(np.dtype(kd[1]))
            sig_args.append(types.CPointer(dt))
            sig_args.extend([types.int64] * kd[2])
            shape = [f"s{j}_{i}" for i in range(kd[2])]
            params.append(f"p{j}")
            params.extend(shape)
            view = f"carray(p{j}, ({', '.join(shape)},))"
            if kd[3] is not None:
                inverse = tuple(int(i) for i in np.argsort(kd[3]))
                view += f".transpose({inverse})"
            lines.append(f"    a{j} = {view}")
        elif kd[0] == "b":
            sig_args.append(types.int64)
            params.append(f"p{j}")
            lines.append(f"    a{j} = p{j} != 0")
        else:
            sig_args.append(types.int64 if kd[0] == "i" else types.float64)
            params.append(f"p{j}")
            lines.append(f"    a{j} = p{j}")
        call.append(f"a{j}")
    # the kernel's return type, from numba's own compile for these argument types
    argtypes = []
    for kd in kinds:
        if kd[0] == "a":
            dt = nptype.get(kd[1]) or numba.from_dtype(np.dtype(kd[1]))
            argtypes.append(types.Array(dt, kd[2], "C" if kd[3] is None else "A"))
        else:
            argtypes.append({"b": types.boolean, "i": types.int64, "f": types.float64}[kd[0]])
    dispatcher.compile(tuple(argtypes))
    ret = dispatcher.overloads[tuple(argtypes)].signature.return_type
    parts = list(ret.types) if isinstance(ret, types.BaseTuple) else ([] if ret == types.none else [ret])
    spec = []
    for t in parts:
        if isinstance(t, types.Boolean):
            spec.append("b")
        elif isinstance(t, types.Integer):
            spec.append("i")
        elif isinstance(t, types.Float):
            spec.append("f")
        else:
            raise TypeError(f"{k.__qualname__} returns {t}: no native entry")
    sig_args += [types.CPointer(types.int64), types.CPointer(types.float64)]
    params += ["iret", "fret"]
    body = [f"def entry({', '.join(params)}):", *lines, "    try:",
            f"        r = kernel({', '.join(call)},)" if call else "        r = kernel()"]
    if len(parts) == 1:
        body.append("        r = (r,)")
    for i, s in enumerate(spec):
        body.append(f"        {'fret' if s == 'f' else 'iret'}[{i}] = r[{i}]")
    body += ["    except Exception:", "        return 1", "    return 0"]
    scope = {"carray": numba.carray, "kernel": dispatcher}
    exec(compile("\n".join(body), f"<inrz native entry for {k.__qualname__}>", "exec"), scope)
    cf = numba.cfunc(types.int64(*sig_args), nopython=True)(scope["entry"])
    lib = cf._library
    obj = lib._codegen._tm.emit_object(lib._final_module)
    obj = bytes(obj)
    head = {"symbol": cf.native_name, "kinds": _jsonable(kinds), "ret": spec, "sha256": hashlib.sha256(obj).hexdigest(),
            "nargs": len(sig_args), "argtypes": ["f" if t == types.float64 else "i" for t in sig_args]}
    return json.dumps(head).encode() + b"\n" + obj


# ---------------- loading an entry (no numba) ----------------

@functools.lru_cache(maxsize=None)
def _llvm():
    import llvmlite.binding as ll
    ll.initialize_native_target()
    ll.initialize_native_asmprinter()
    return ll


def _extension(name: str, relative: str):
    """numba's C extension `name`, imported without importing the numba package (the same
    module object numba gets if it is imported later)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec("numba")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("numba is not installed")
    root = list(spec.submodule_search_locations)[0]
    paths = glob.glob(os.path.join(root, relative + importlib.machinery.EXTENSION_SUFFIXES[0]))
    if not paths:
        raise ImportError(f"numba's {relative} extension is missing")
    loader = importlib.machinery.ExtensionFileLoader(name, paths[0])
    module = importlib.util.module_from_spec(importlib.util.spec_from_file_location(name, paths[0], loader=loader))
    loader.exec_module(module)
    sys.modules[name] = module
    return module


@functools.lru_cache(maxsize=None)
def _runtime():
    """numba's C helpers under the symbol names its code links against (as numba registers
    them: `numba.core.base._load_global_helpers`, `numba.core.runtime.nrt`)."""
    ll = _llvm()
    import builtins
    ll.add_symbol("_Py_NoneStruct", id(None))
    for module in (_extension("numba._helperlib", "_helperlib"), _extension("numba._dynfunc", "_dynfunc")):
        for name, address in module.c_helpers.items():
            ll.add_symbol("numba_" + name, address)
    for obj in builtins.__dict__.values():
        if isinstance(obj, type) and issubclass(obj, BaseException):
            ll.add_symbol(f"PyExc_{obj.__name__}", id(obj))
    nrt = _extension("numba.core.runtime._nrt_python", "core/runtime/_nrt_python")
    if "numba.core.runtime.nrt" not in sys.modules:
        nrt.memsys_use_cpython_allocator()  # what numba's nrt.py does on import
    for name, address in nrt.c_helpers.items():
        ll.add_symbol(name if name.startswith("_") else "NRT_" + name, address)
    return ll


class _Entry:
    """A loaded entry: call it with the kernel's arguments."""

    def __init__(self, head: dict, kinds, engine, address: int):
        self.head, self._kinds, self._engine = head, kinds, engine  # the engine owns the code
        types = [ctypes.c_double if t == "f" else ctypes.c_int64 for t in head["argtypes"][:-2]]
        self._fn = ctypes.CFUNCTYPE(ctypes.c_int64, *types, ctypes.c_void_p, ctypes.c_void_p)(address)
        self._ret = head["ret"]

    @classmethod
    def from_blob(cls, blob: bytes, kinds) -> "_Entry":
        line, obj = blob.split(b"\n", 1)
        head = json.loads(line)
        if head.get("sha256") != hashlib.sha256(obj).hexdigest() or head.get("kinds") != _jsonable(kinds):
            raise ImportError("a damaged entry, or one made for other arguments")
        ll = _runtime()
        machine = ll.Target.from_default_triple().create_target_machine()
        engine = ll.create_mcjit_compiler(ll.parse_assembly(""), machine)
        engine.add_object_file(ll.ObjectFileRef.from_data(obj))
        engine.finalize_object()
        address = engine.get_function_address(head["symbol"])
        if not address:
            raise ImportError(f"entry symbol {head['symbol']} not found")
        return cls(head, kinds, engine, address)

    @classmethod
    def load(cls, path, kinds) -> "_Entry":
        with open(path, "rb") as f:
            return cls.from_blob(f.read(), kinds)

    def __call__(self, args):
        iret, fret = np.zeros(max(1, len(self._ret)), np.int64), np.zeros(max(1, len(self._ret)))
        status = self._fn(*_argv(self._kinds, args), iret.ctypes.data, fret.ctypes.data)
        if status:
            raise RuntimeError("a compiled kernel raised an exception in native code "
                               f"(run with {ENV}=0 for numba's message)")
        out = tuple(bool(iret[i]) if s == "b" else int(iret[i]) if s == "i" else float(fret[i])
                    for i, s in enumerate(self._ret))
        return None if not out else out[0] if len(out) == 1 else out
