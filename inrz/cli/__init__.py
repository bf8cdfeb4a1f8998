"""The `inrz` command, split by command group; `main.py` maps errors to exit codes."""
from __future__ import annotations


def console() -> int:
    """The `inrz` command as installed (and `python -m inrz`): `main.main` on the process's own
    arguments, with two settings of the cyclic garbage collector that only a short-lived
    process may make. It is paused while the command's modules and plugins load (imports make
    many long-lived objects and no cyclic garbage worth a pass: ~60 ms of an `inrz decompress`),
    and resumed once the arguments are parsed, before any work. When the command is done,
    everything still alive is frozen (`gc.freeze`), so the interpreter's last collection at exit
    skips it (~85 ms). A library caller of `main.main` keeps its collector as it was."""
    import gc

    gc.disable()
    try:
        from .main import main  # late: with the collector paused

        code = main(on_parsed=gc.enable)
    finally:
        gc.enable()
    gc.freeze()
    return code
