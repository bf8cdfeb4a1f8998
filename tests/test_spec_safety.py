"""Specs from anyone: aliases cannot expand without bound, duplicate keys and non-UTF-8 text
are `SpecError`s with file:line, dataset errors name the spec's field; two runs never share
an output folder."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inrz import DatasetError, InrzError, SpecError
from inrz.core.fsutil import LOCK_NAME, folder_lock
from inrz.runs.run import run
from inrz.runs.spec import load_spec

LAUGHS = "name: x\ndataset: {id: folder, path: .}\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))


def write(tmp_path: Path, text: str | bytes, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_a_billion_laughs_is_refused_at_once(tmp_path):
    assert len(LAUGHS) < 700
    start = time.perf_counter()
    with pytest.raises(SpecError, match="expands to more than 100000"):
        load_spec(write(tmp_path, LAUGHS))
    assert time.perf_counter() - start < 2


def test_a_recursive_alias_is_refused(tmp_path):
    with pytest.raises(SpecError, match="refers to itself"):
        load_spec(write(tmp_path, "name: x\ndataset: &d {id: folder, path: [*d]}\n"))


def test_modest_aliases_still_work(tmp_path):
    spec = load_spec(write(tmp_path, "name: x\ndataset: {id: folder, path: .}\nbackend: &b {id: coin, steps: 7}\n"
                                     "compare:\n  - {label: again, backend: *b}\n"))
    assert spec.compare[0].backend == {"id": "coin", "steps": 7}


@pytest.mark.parametrize("text,line", [("name: x\nname: y\ndataset: {id: folder, path: .}\n", 2),
                                       ("name: x\ndataset: {id: folder, path: .}\nbackend:\n  id: coin\n  steps: 1\n"
                                        "  steps: 2\n", 6)])
def test_duplicate_keys_are_refused_with_the_line(tmp_path, text, line):
    with pytest.raises(SpecError, match=rf"spec.yaml:{line}: duplicate key"):
        load_spec(write(tmp_path, text))


def test_a_spec_that_is_not_utf8_is_a_spec_error_naming_the_line(tmp_path):
    with pytest.raises(SpecError, match=r"spec.yaml:2: a spec is UTF-8 text"):
        load_spec(write(tmp_path, "name: x\ndescription: caf\xe9\n".encode("latin-1")))


def test_infinite_numbers_are_refused(tmp_path):
    with pytest.raises(SpecError, match="backend.lr: Input should be a finite number"):
        load_spec(write(tmp_path, "name: x\ndataset: {id: folder, path: .}\nbackend: {id: coin, lr: .inf}\n"))


def test_a_missing_dataset_folder_names_the_spec_line_and_field(tmp_path):
    spec = write(tmp_path, f"name: x\noutput: {tmp_path / 'out'}\ndataset:\n  id: folder\n  path: nowhere\n")
    with pytest.raises(DatasetError, match=r"spec.yaml:4: dataset: dataset folder .*nowhere does not exist"):
        run(spec, progress=False)
    assert not (tmp_path / "out").exists()  # nothing is written for a spec that cannot run


def test_a_second_run_on_a_locked_output_folder_is_refused(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.npy").write_bytes(b"")  # never read: the lock is taken first
    spec = write(tmp_path, f"name: x\noutput: {tmp_path / 'out'}\ndataset: {{id: folder, path: data}}\n")
    with folder_lock(tmp_path / "out", "test"):
        with pytest.raises(InrzError, match=rf"in use by another inrz run \(pid {os.getpid()}\)"):
            run(spec, progress=False)


def test_the_lock_is_released_when_its_holder_dies(tmp_path):
    """A killed run leaves no stale lock: the operating system drops it with the process."""
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from inrz.core.fsutil import folder_lock\n"
                               "with folder_lock(sys.argv[1], 'x'):\n    print('held', flush=True); time.sleep(60)",
                               str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(InrzError, match=f"pid {holder.pid}"):
            with folder_lock(tmp_path, "test"):
                pass
    finally:
        holder.kill()
        holder.wait()
    with folder_lock(tmp_path, "test"):
        assert (tmp_path / LOCK_NAME).read_text() == str(os.getpid())
