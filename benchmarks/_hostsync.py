"""Finding host syncs in hot loops: the tensor calls in inrz's own code that make the host wait
for the device or copy between host and device, counted by call site.

A loop is run for N and then 2N steps under `HostSyncCounter`; a call site whose count grows
with the steps syncs every step (O(steps)), one that does not is setup or a few checkpoints
(O(1)). Counted, wherever the calling line is in inrz or a plugin (not inside torch, whose
optimizers read their own CPU step counters):

- `.item()`, `.tolist()`, `.numpy()`, `.cpu()`, and `bool()` / `float()` / `int()` / indexing
  with a tensor: on a GPU each waits for the queue and copies to the host;
- `.to(...)` / `.cuda()` naming a device: a copy whenever the tensor is not there yet.

On the CPU every tensor is on the host, so each such call is counted (what it would cost if
the tensor lived on a GPU): the smoke mode finds the same sites as a GPU run. On CUDA only
calls on device tensors (and `.to` that really moves) are counted, torch's own sync detector
(`torch.cuda.set_sync_debug_mode`) also reports syncs inside torch's kernels, and a dispatch mode
counts the operations called from inrz's lines that produce CPU tensors (`cpu_allocations`: a
tensor made on the host by accident, say a `torch.zeros` without `device=`). That last count is
the calling thread's only (dispatch modes are per thread), and means nothing on the CPU.
"""
from __future__ import annotations

import os
import sys
import threading
import warnings
from collections import Counter
from pathlib import Path
from typing import Callable

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

FROM_DEVICE = ("item", "tolist", "numpy", "cpu", "__bool__", "__float__", "__int__", "__index__")
TO_DEVICE = ("to", "cuda")


def _project_roots() -> tuple[str, ...]:
    """Folders of inrz and its plugin packages (`inrz_*`), as loaded now."""
    roots = []
    for name, module in list(sys.modules.items()):
        if (name == "inrz" or name.startswith("inrz_")) and "." not in name and getattr(module, "__file__", None):
            roots.append(str(Path(module.__file__).resolve().parent))
    return tuple(roots)


def _names_device(args, kwargs) -> torch.device | None:
    """The device a `.to(...)` call names, if any (not a dtype-only conversion)."""
    for value in (*args, kwargs.get("device")):
        if isinstance(value, torch.device):
            return value
        if isinstance(value, torch.Tensor):
            return value.device
        if isinstance(value, str):
            try:
                return torch.device(value)
            except RuntimeError:
                continue
    return None


#: torch's Python shims between an inrz line and an aten op, and the wrappers around a dispatch
#: mode (torch's optimizers are not skipped: their CPU step counters are theirs, not an inrz line's)
_SHIMS = tuple(os.path.join("torch", *p.split("/")) for p in (
    "_tensor.py", "functional.py", "nn/functional.py", "utils/_python_dispatch.py", "_ops.py", "_compile.py",
    "_dynamo/eval_frame.py"))


class _CpuAllocations(TorchDispatchMode):
    """Counts, by inrz call site, the aten operations whose outputs are CPU tensors (not scalars)."""

    def __init__(self, counter: "HostSyncCounter"):
        super().__init__()
        self.counter = counter

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        # 0-dim CPU tensors are scalars a kernel takes by value (`buf[:, -1] = 1.0` makes one): not counted
        if any(isinstance(t, torch.Tensor) and t.device.type == "cpu" and t.dim() > 0 for t in tree_leaves(out)):
            frame = sys._getframe(1)
            while frame is not None and frame.f_code.co_filename.endswith(_SHIMS):
                frame = frame.f_back
            if frame is not None and frame.f_code.co_filename.startswith(self.counter._roots):
                with self.counter._lock:
                    self.counter.cpu_allocations[f"{_short(frame.f_code.co_filename)}:{frame.f_lineno} {func}"] += 1
        return out


class HostSyncCounter:
    """Context manager: `sites` counts host syncs by "path:line method" (see the module docstring)."""

    def __init__(self, device: torch.device, allocations: bool | None = None):
        self.device = device
        self.sites: Counter[str] = Counter()
        self.torch_syncs: Counter[str] = Counter()  # CUDA only: torch's sync detector, by warning location
        self.cpu_allocations: Counter[str] = Counter()  # CUDA by default: ops from inrz lines giving CPU tensors
        self._allocations = _CpuAllocations(self) if (device.type == "cuda" if allocations is None else allocations) \
            else None
        self._lock = threading.Lock()

    def __enter__(self) -> "HostSyncCounter":
        self._roots = _project_roots()
        self._saved = {n: torch.Tensor.__dict__.get(n) for n in FROM_DEVICE + TO_DEVICE}
        for name in FROM_DEVICE + TO_DEVICE:
            setattr(torch.Tensor, name, self._wrap(name, getattr(torch.Tensor, name)))
        if self.device.type == "cuda":
            self._warnings = warnings.catch_warnings(record=True)
            self._caught = self._warnings.__enter__()
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")
        if self._allocations is not None:
            self._allocations.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._allocations is not None:
            self._allocations.__exit__(*exc)
        for name, original in self._saved.items():
            if original is None:
                delattr(torch.Tensor, name)
            else:
                setattr(torch.Tensor, name, original)
        if self.device.type == "cuda":
            torch.cuda.set_sync_debug_mode(0)
            for w in self._caught:
                if "synchroniz" in str(w.message):
                    self.torch_syncs[f"{w.filename}:{w.lineno}"] += 1
            self._warnings.__exit__(*exc)

    def _wrap(self, name: str, method: Callable) -> Callable:
        counter = self

        def counted(tensor, *args, **kwargs):
            frame = sys._getframe(1)
            path = frame.f_code.co_filename
            if path.startswith(counter._roots) and counter._is_sync(name, tensor, args, kwargs):
                with counter._lock:
                    counter.sites[f"{_short(path)}:{frame.f_lineno} {name}"] += 1
            return method(tensor, *args, **kwargs)
        return counted

    def _is_sync(self, name: str, tensor: torch.Tensor, args, kwargs) -> bool:
        on_cpu = self.device.type == "cpu"
        if name in FROM_DEVICE:
            return on_cpu or tensor.device.type != "cpu"
        target = torch.device("cuda") if name == "cuda" else _names_device(args, kwargs)
        if target is None:
            return False
        return on_cpu or target.type != tensor.device.type

    def total(self) -> int:
        return sum(self.sites.values())


def _short(path: str) -> str:
    """`inrz/pipeline/codec.py`, `inrz_coin/fit.py`: from the package folder on, wherever it is installed."""
    parts = Path(path).parts
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "inrz" or parts[i].startswith("inrz_"):
            return "/".join(parts[i:])
    return path


def per_step_syncs(run: Callable[[int], None], steps: int, device: torch.device, allocations: bool | None = None) -> dict:
    """Run `run(steps)` and `run(2 * steps)` under a counter each; the call sites whose counts
    grow are per-step syncs (`per_step`: syncs per step added by them; 0 when the loop is clean)."""
    counts = []
    for n in (steps, 2 * steps):
        with HostSyncCounter(device, allocations) as counter:
            run(n)
        counts.append(counter)
    a, b = counts
    growing, torch_growing, cpu_growing = (_growth(getattr(a, k), getattr(b, k), steps)
                                           for k in ("sites", "torch_syncs", "cpu_allocations"))
    return {"steps": [steps, 2 * steps], "syncs": [a.total(), b.total()], "per_step": sum(growing.values()),
            "per_step_sites": growing, "once_sites": sorted(set(a.sites) - set(growing)),
            "torch_detector_per_step": sum(torch_growing.values()) if device.type == "cuda" else None,
            "torch_detector_sites": torch_growing,
            "cpu_allocations_per_step": sum(cpu_growing.values()) if a._allocations is not None else None,
            "cpu_allocation_sites": cpu_growing}


def _growth(a: Counter, b: Counter, steps: int) -> dict[str, float]:
    """Sites counted more often in the run of 2N steps than in the run of N, per added step."""
    return {site: (b[site] - a[site]) / steps for site in b if b[site] > a[site]}
