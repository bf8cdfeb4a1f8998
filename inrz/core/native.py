"""Native entries of compiled kernels (`inrz.kernel(native=True)`, see `compiled`): built by
numba as C-ABI functions (`cfunc`) around a kernel, stored as object code with a JSON head,
and loaded by llvmlite's MCJIT in a process that never imports numba.

A loaded entry needs numba's C helpers (its runtime's allocator, its exception helpers):
`runtime` loads them from numba's extension modules without importing the numba package and
registers them under the symbol names numba's code links against, as numba itself does.
"""
from __future__ import annotations

import ctypes
import functools
import glob
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys

import numpy as np


def argv(kinds, args) -> list:
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


def jsonable(kinds) -> list:
    return json.loads(json.dumps(kinds))


@functools.lru_cache(maxsize=None)
def platform_key() -> list:
    """What else decides the machine code: numba's files, llvmlite, numpy, Python, the CPU."""
    import llvmlite  # late: only a process that runs native code loads LLVM

    ll = llvm()
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

def build(numba, dispatcher, name: str, kinds) -> bytes:
    """A C-ABI entry for the kernel `dispatcher` (numba's, `name` for messages) on arguments of
    `kinds`, as bytes: a JSON head line, then object code."""
    from numba.core import types  # late: numba is imported only to build an entry

    sig_args, params, lines, call, argtypes = [], [], [], [], []  # argtypes: the kernel's, inside the entry
    scalars = {"b": types.boolean, "i": types.int64, "f": types.float64}
    for j, kd in enumerate(kinds):
        params.append(f"p{j}")
        call.append(f"a{j}")
        if kd[0] != "a":
            sig_args.append(types.float64 if kd[0] == "f" else types.int64)  # a bool travels as an int64
            lines.append(f"    a{j} = p{j} != 0" if kd[0] == "b" else f"    a{j} = p{j}")
            argtypes.append(scalars[kd[0]])
            continue
        dt = types.boolean if kd[1] == "b1" else numba.from_dtype(np.dtype(kd[1]))
        shape = [f"s{j}_{i}" for i in range(kd[2])]
        sig_args += [types.CPointer(dt)] + [types.int64] * kd[2]
        params.extend(shape)
        view = f"carray(p{j}, ({', '.join(shape)},))"
        if kd[3] is not None:
            view += f".transpose({tuple(int(i) for i in np.argsort(kd[3]))})"
        lines.append(f"    a{j} = {view}")
        argtypes.append(types.Array(dt, kd[2], "C" if kd[3] is None else "A"))
    # the kernel's return type, from numba's own compile for these argument types
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
            raise TypeError(f"{name} returns {t}: no native entry")
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
    exec(compile("\n".join(body), f"<inrz native entry for {name}>", "exec"), scope)
    cf = numba.cfunc(types.int64(*sig_args), nopython=True)(scope["entry"])
    lib = cf._library
    obj = lib._codegen._tm.emit_object(lib._final_module)
    obj = bytes(obj)
    head = {"symbol": cf.native_name, "kinds": jsonable(kinds), "ret": spec, "sha256": hashlib.sha256(obj).hexdigest(),
            "nargs": len(sig_args), "argtypes": ["f" if t == types.float64 else "i" for t in sig_args]}
    return json.dumps(head).encode() + b"\n" + obj


# ---------------- loading an entry (no numba) ----------------

@functools.lru_cache(maxsize=None)
def llvm():
    import llvmlite.binding as ll  # late: only a process that runs native code loads LLVM
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
def runtime():
    """numba's C helpers under the symbol names its code links against (as numba registers
    them: `numba.core.base._load_global_helpers`, `numba.core.runtime.nrt`)."""
    ll = llvm()
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


class Entry:
    """A loaded entry: call it with the kernel's arguments."""

    def __init__(self, head: dict, kinds, engine, address: int):
        self.head, self._kinds, self._engine = head, kinds, engine  # the engine owns the code
        types = [ctypes.c_double if t == "f" else ctypes.c_int64 for t in head["argtypes"][:-2]]
        self._fn = ctypes.CFUNCTYPE(ctypes.c_int64, *types, ctypes.c_void_p, ctypes.c_void_p)(address)
        self._ret = head["ret"]

    @classmethod
    def from_blob(cls, blob: bytes, kinds) -> "Entry":
        line, obj = blob.split(b"\n", 1)
        head = json.loads(line)
        if head.get("sha256") != hashlib.sha256(obj).hexdigest() or head.get("kinds") != jsonable(kinds):
            raise ImportError("a damaged entry, or one made for other arguments")
        ll = runtime()
        machine = ll.Target.from_default_triple().create_target_machine()
        engine = ll.create_mcjit_compiler(ll.parse_assembly(""), machine)
        engine.add_object_file(ll.ObjectFileRef.from_data(obj))
        engine.finalize_object()
        address = engine.get_function_address(head["symbol"])
        if not address:
            raise ImportError(f"entry symbol {head['symbol']} not found")
        return cls(head, kinds, engine, address)

    @classmethod
    def load(cls, path, kinds) -> "Entry":
        with open(path, "rb") as f:
            return cls.from_blob(f.read(), kinds)

    def __call__(self, args):
        iret, fret = np.zeros(max(1, len(self._ret)), np.int64), np.zeros(max(1, len(self._ret)))
        status = self._fn(*argv(self._kinds, args), iret.ctypes.data, fret.ctypes.data)
        if status:
            raise RuntimeError("a compiled kernel raised an exception in native code "
                               "(run with INRZ_NATIVE=0 for numba's message)")
        out = tuple(bool(iret[i]) if s == "b" else int(iret[i]) if s == "i" else float(fret[i])
                    for i, s in enumerate(self._ret))
        return None if not out else out[0] if len(out) == 1 else out
