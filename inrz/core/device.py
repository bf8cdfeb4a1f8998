"""The one place that decides which torch device runs the work, and asks it how it did.

Everything else receives a `torch.device` from here (specs' `device:`, the CLI's `--device`,
the API's `device=`) and, but for DDP's per-rank setup (COIN++'s `inrz_coinpp.distributed`), never tests
for CUDA itself. What differs between devices beyond
placement also lives here: waiting for queued work (`synchronize`, before reading a clock),
peak memory (`reset_peak_memory` / `peak_memory_bytes`) and a description of the device and
the torch build (`device_info`), so benchmarks and checks treat every device alike.

torch is imported where a device is first needed, not with this module: a decode that needs
no torch (c3's) must not load it.
"""
from __future__ import annotations

import os
import platform
import subprocess
from typing import TYPE_CHECKING

from .errors import SpecError

if TYPE_CHECKING:
    import torch

#: the device the device-marked tests run on (`INRZ_DEVICE=cuda pytest -m device`); default cpu
DEVICE_ENV = "INRZ_DEVICE"


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` picks cuda, then mps, then cpu; an explicit name must be available."""
    import torch  # lazily (module docstring)

    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise SpecError(f"device: unknown device {name!r} (use auto, cpu, cuda, cuda:N or mps)") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SpecError("device: cuda was requested but torch sees no CUDA device (use device: auto)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise SpecError("device: mps was requested but is not available (use device: auto)")
    return device


def configured_device(default: str = "cpu") -> torch.device:
    """The device named by `INRZ_DEVICE` (any name `resolve_device` takes), else `default`."""
    return resolve_device(os.environ.get(DEVICE_ENV, "").strip() or default)


def synchronize(device: torch.device) -> None:
    """Wait until the device has run everything queued on it (a no-op on the CPU)."""
    import torch  # lazily (module docstring)

    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def reset_peak_memory(device: torch.device) -> None:
    """Start counting peak memory afresh (CUDA only: the CPU has no per-device counter)."""
    if device.type == "cuda":
        import torch  # lazily (module docstring)

        synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_bytes(device: torch.device) -> int | None:
    """Most bytes torch's allocator held on the device since the last reset; None off CUDA."""
    if device.type != "cuda":
        return None
    import torch  # lazily (module docstring)

    synchronize(device)
    return int(torch.cuda.max_memory_allocated(device))


def device_info(device: torch.device) -> dict:
    """The device, its driver and the torch build: what a result measured on it must name."""
    import torch  # lazily (module docstring)

    info = {"device": str(device), "torch": torch.__version__, "torch_cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
            "python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), "cuda_available": torch.cuda.is_available()}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(name=props.name, capability=f"{props.major}.{props.minor}", memory_bytes=int(props.total_memory),
                    multiprocessors=props.multi_processor_count, driver=_nvidia_driver(),
                    tf32_matmul=torch.backends.cuda.matmul.allow_tf32, tf32_cudnn=torch.backends.cudnn.allow_tf32)
    return info


def _nvidia_driver() -> str | None:
    """The NVIDIA driver version, as nvidia-smi reports it (None where it cannot be run)."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip().splitlines()[0] if out.strip() else None
