"""CPU threads are decided in one place (`inrz.core.threads`): the CPUs this process may use
(affinity, cgroup quota), overridable; the fit step's chunks run on worker threads with the
same bits whatever the thread count; OpenMP waits passively unless the environment says."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
import torch

from inrz import SpecError
from inrz.cli.main import main
from inrz.core import threads
from inrz_coin import model as siren


@pytest.fixture
def restore_threads():
    before, torch_before = dict(threads._state), torch.get_num_threads()
    threads._state.update(threads=None)  # each test starts undecided, whatever ran before it
    yield
    threads._state.update(threads=before["threads"])
    torch.set_num_threads(torch_before)


def test_cgroup_v2_and_v1_quotas_are_read(tmp_path):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert threads.cgroup_quota(tmp_path) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert threads.cgroup_quota(tmp_path) is None
    v1 = tmp_path / "v1"
    (v1 / "cpu").mkdir(parents=True)
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("50000")
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000")
    assert threads.cgroup_quota(v1) == 0.5
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("-1")
    assert threads.cgroup_quota(v1) is None


def test_available_cpus_takes_the_affinity_mask_and_the_quota(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(threads, "cgroup_quota", lambda: None)
    assert threads.available_cpus() == 4
    monkeypatch.setattr(threads, "cgroup_quota", lambda: 2.0)
    assert threads.available_cpus() == 2
    monkeypatch.setattr(threads, "cgroup_quota", lambda: 0.3)
    assert threads.available_cpus() == 1


def test_the_environment_overrides_the_count(monkeypatch):
    monkeypatch.setattr(threads, "available_cpus", lambda: 8)
    monkeypatch.delenv(threads.THREADS_ENV, raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert threads.default_threads() == 8
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads.default_threads() == 3
    monkeypatch.setenv(threads.THREADS_ENV, "2")
    assert threads.default_threads() == 2
    monkeypatch.setenv(threads.THREADS_ENV, "zero")
    with pytest.raises(SpecError, match="INRZ_NUM_THREADS='zero'"):
        threads.default_threads()


def test_configure_keeps_the_first_decision_unless_told(restore_threads):
    assert threads.configure(1) == 1 and torch.get_num_threads() == 1
    assert threads.configure() == 1  # a library call later does not override the application's choice
    assert threads.configure(2) == 2 and threads.workers() == 2
    with pytest.raises(SpecError, match="positive integer"):
        threads.configure(0)


def test_map_ordered_runs_chunks_on_single_threaded_workers_in_order(restore_threads):
    threads.configure(2)
    seen = []

    def work(i):
        seen.append((threading.current_thread().name, torch.get_num_threads()))
        return i * i

    assert threads.map_ordered(work, list(range(20))) == [i * i for i in range(20)]
    assert all(name.startswith("inrz") and n == 1 for name, n in seen)
    assert torch.get_num_threads() == 2  # the caller's torch threads are untouched


def test_the_fit_step_gives_the_same_bits_on_one_thread_and_on_two(restore_threads):
    shape = siren.SirenShape(2, 3, 3, 16)
    params = siren.init_params(shape, 2, torch.Generator().manual_seed(0))
    x = torch.rand(2, 5000, 2, generator=torch.Generator().manual_seed(1)) * 2 - 1
    y = torch.rand(2, 5000, 3, generator=torch.Generator().manual_seed(2))
    results = []
    for n in (1, 2):
        threads.configure(n)
        loss, grads = siren.loss_and_grad(params, x, y, 30.0, chunk=1024)  # 5 chunks
        results.append((loss, grads))
    (l1, g1), (l2, g2) = results
    assert torch.equal(l1, l2)
    assert all(torch.equal(a, b) for pa, pb in zip(g1, g2) for a, b in zip(pa, pb))


@pytest.mark.parametrize("argv", [["--threads", "1", "plugins"], ["plugins", "--threads", "1"]])
def test_the_cli_takes_threads_before_or_after_the_command(argv, restore_threads, monkeypatch, capsys):
    monkeypatch.setattr(threads, "available_cpus", lambda: 2)  # one thread must be a choice, not the default
    monkeypatch.delenv(threads.THREADS_ENV, raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert main(argv) == 0
    assert threads.workers() == 1 and torch.get_num_threads() == 1


def test_without_threads_the_cli_takes_the_default(restore_threads, monkeypatch, capsys):
    monkeypatch.setattr(threads, "available_cpus", lambda: 2)
    monkeypatch.delenv(threads.THREADS_ENV, raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert main(["plugins"]) == 0
    assert threads.workers() == 2


@pytest.mark.parametrize("env,expected", [({}, "PASSIVE"), ({"OMP_WAIT_POLICY": "ACTIVE"}, "ACTIVE")])
def test_openmp_waits_passively_unless_the_environment_says(env, expected):
    clean = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", "import inrz, os; print(os.environ['OMP_WAIT_POLICY'])"],
                         env={**clean, **env}, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="no fork on this platform")
def test_executor_pools_work_in_a_forked_child():
    """A pool started before a fork has no threads in the child: the child gets a new one
    (before, its first task waited forever)."""
    import multiprocessing

    pool = threads.executor("test-fork", 2)
    assert pool.submit(lambda: 1).result(timeout=10) == 1 and threads.executor("test-fork", 1) is pool
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=lambda: queue.put(threads.executor("test-fork", 2).submit(lambda: 41 + 1).result()))
    child.start()
    child.join(30)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child's task did not run within 30 s")
    assert queue.get(timeout=5) == 42
