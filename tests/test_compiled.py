"""`inrz.kernel`: numba's njit loaded on demand, and native entries that a later process loads
from the cache without importing numba, computing the same numbers."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

KERNELS = textwrap.dedent('''
    import numpy as np
    from inrz import kernel

    SCALE = 3

    @kernel(cache=False, nogil=True, inline="always")
    def _twice(x):
        return 2 * x

    @kernel(nogil=True, native=True)
    def mix(a, b, out, k, f, flag):
        """Writes out, returns (sum, count, flag): arrays of any axis order, scalars of each kind."""
        s = 0.0
        n = 0
        for i in range(a.shape[0]):
            for j in range(a.shape[1]):
                out[i, j] = _twice(a[i, j]) * f + b[j, i] * SCALE + k
                s += out[i, j]
                n += 1
        scratch = np.empty(n)  # the runtime's allocator, without numba imported
        scratch[:] = s
        return scratch.sum() / n, n + k, not flag

    @kernel(nogil=True, native=True)
    def fill(out, v):
        for i in range(out.shape[0]):
            out[i] = v + i

    @kernel(nogil=True, native=True)
    def divide(a, d):
        return a[0] // d
''')

RUN = textwrap.dedent('''
    import json, sys
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    import kmod
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 7))
    b = np.ascontiguousarray(rng.normal(size=(7, 5)).T).T  # C order, 7 x 5
    bt = rng.normal(size=(5, 7)).T  # a transposed view: not C-contiguous
    out = np.zeros((5, 7))
    outt = np.zeros((7, 5)).T
    r1 = kmod.mix(a, b, out, 4, 0.5, True)
    r2 = kmod.mix(a, bt, outt, -2, 1.25, np.bool_(False))
    f = np.zeros(4, np.int64)
    kmod.fill(f, np.int64(7))
    print(json.dumps({"r1": r1, "r2": r2, "out": out.tolist(), "outt": outt.tolist(), "f": f.tolist(),
                      "numba": "numba" in sys.modules}))
''')


@pytest.fixture
def kmod(tmp_path, monkeypatch):
    src = tmp_path / "src"
    src.mkdir()
    (src / "kmod.py").write_text(KERNELS)
    monkeypatch.setenv("INRZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.syspath_prepend(str(src))
    sys.modules.pop("kmod", None)
    import kmod
    yield kmod, src, tmp_path / "cache" / "native"
    sys.modules.pop("kmod", None)


def _run(src: Path, env_cache: Path, native: str = "1") -> dict:
    import os
    env = dict(os.environ, INRZ_CACHE_DIR=str(env_cache), INRZ_NATIVE=native)
    done = subprocess.run([sys.executable, "-c", RUN, str(src)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _expected():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 7))
    b = np.ascontiguousarray(rng.normal(size=(7, 5)).T).T
    bt = rng.normal(size=(5, 7)).T
    out = 2 * a * 0.5 + b.T * 3 + 4
    outt = 2 * a * 1.25 + bt.T * 3 - 2
    return out, outt


def test_a_later_process_runs_the_cached_entries_without_numba(kmod):
    _, src, native = kmod
    first = _run(src, native.parent)  # builds the entries (numba imported)
    assert first["numba"]
    files = sorted(p.name for p in native.rglob("*.bin"))
    assert len(files) == 3 and all(n.startswith("kmod.") for n in files), files  # mix twice (two kinds), fill
    second = _run(src, native.parent)
    assert not second["numba"]  # machine code from the cache, numba never imported
    plain = _run(src, native.parent, native="0")  # numba's own path
    assert plain["numba"]
    for r in (first, second):
        assert r == {**plain, "numba": r["numba"]}  # the same numbers, bit for bit
    out, outt = _expected()
    np.testing.assert_allclose(second["out"], out, rtol=1e-15)
    np.testing.assert_allclose(second["outt"], outt, rtol=1e-15)
    assert second["r1"][1:] == [39, False] and second["r2"][1:] == [33, True]
    assert second["f"] == [7, 8, 9, 10]


def test_in_process_results_match_the_python_function(kmod):
    mod, _, native = kmod
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 3))
    got, want = np.zeros((3, 4)), np.zeros((3, 4))
    r = mod.mix(a, b, got, 2, 0.75, False)
    w = mod.mix.py_func(a, b, want, 2, 0.75, False)
    np.testing.assert_array_equal(got, want)
    assert r[1:] == w[1:] and r[0] == pytest.approx(w[0], rel=1e-12)
    assert any(native.rglob("*.bin"))


def test_arguments_of_other_kinds_take_numbas_path(kmod):
    mod, _, native = kmod
    out = np.zeros(3, np.float32)
    mod.fill(out, np.float32(1.5))  # a float32 scalar has no entry kind
    np.testing.assert_array_equal(out, [1.5, 2.5, 3.5])
    mod.fill(out[::2], 1.0)  # a strided view that no axis order makes contiguous
    np.testing.assert_array_equal(out, [1.0, 2.5, 2.0])
    assert not list(native.rglob("*.bin"))


def test_an_exception_inside_native_code_is_raised(kmod):
    mod, _, _ = kmod
    assert mod.divide(np.array([7]), 2) == 3
    with pytest.raises(RuntimeError, match="INRZ_NATIVE=0"):
        mod.divide(np.array([7]), 0)
    import os
    os.environ["INRZ_NATIVE"] = "0"
    try:
        with pytest.raises(ZeroDivisionError):
            mod.divide(np.array([7]), 0)
    finally:
        del os.environ["INRZ_NATIVE"]


def test_a_damaged_cache_entry_is_rebuilt(kmod):
    _, src, native = kmod
    first = _run(src, native.parent)
    for path in native.rglob("*.bin"):
        blob = path.read_bytes()
        path.write_bytes(blob[:-100] + bytes(100))  # the object code damaged, the head intact
    again = _run(src, native.parent)
    assert again == first  # rebuilt (numba imported again), same numbers
    third = _run(src, native.parent)
    assert not third["numba"] and {**third, "numba": True} == first


def test_the_cache_key_follows_the_kernels_and_their_callees(kmod, tmp_path):
    mod, src, native = kmod
    from inrz.core import compiled

    kinds = compiled._kinds((np.zeros(3), 1.0))
    before = mod.fill._hash(kinds)
    assert mod.mix._hash(compiled._kinds((np.zeros((2, 2)),) * 3 + (1, 1.0, True))) != before
    assert before == mod.fill._hash(kinds)  # deterministic
    key = compiled._source_key(mod.mix)
    assert "mix.SCALE" in dict(key[1])  # a constant the kernel reads
    assert "kmod" in dict(key[0])  # its file (and its callee's: the same file here)


def test_a_kernel_pickles_by_name():
    import pickle

    from inrz.coding.rangecoder import queue_step

    assert pickle.loads(pickle.dumps(queue_step)) is queue_step


def test_entries_of_other_code_are_pruned_and_an_unwritable_cache_is_not_used(kmod, tmp_path, monkeypatch):
    mod, _, native = kmod
    from inrz.core import compiled

    out = np.zeros(3, np.int64)
    mod.fill(out, 2)
    (entry,) = native.rglob("kmod.fill-*.bin")
    stale = entry.with_name("kmod.fill-0123456789abcdef-000000000000.bin")
    stale.write_bytes(b"old")
    other = entry.with_name("kmod.fill_other-0123456789abcdef-000000000000.bin")
    other.write_bytes(b"another kernel's")
    entry.unlink()
    mod.fill._entries.clear()
    mod.fill(out, 3)  # rebuilt: the stale entry of this kernel goes, another kernel's stays
    assert not stale.exists() and other.exists() and entry.exists()
    np.testing.assert_array_equal(out, [3, 4, 5])

    monkeypatch.setattr(compiled, "_writable", lambda folder: False)
    mod.divide._entries.clear()
    assert mod.divide(np.array([9]), 2) == 4  # numba's path, nothing built
    assert not list(native.rglob("kmod.divide-*.bin"))


def test_keyword_arguments_take_numbas_path(kmod):
    mod, _, native = kmod
    out = np.zeros(2, np.int64)
    mod.fill(out, v=5)
    np.testing.assert_array_equal(out, [5, 6])
    assert not list(native.rglob("kmod.fill-*.bin"))
