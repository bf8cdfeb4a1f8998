"""The `inrz` command: parses arguments, dispatches, and maps every kind of error to a message
and an exit code (the only place that does; README "Exit codes" lists the same table).
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback

from ..core import threads
from ..core.errors import (BaseNetworkError, ContainerError, DatasetError, InrzError, MissingDependencyError,
                           PluginError, SpecError, UnknownComponentError)
from ..host.manager import get_host
from . import codec_commands, run_commands



class OutOfMemory(Exception):
    """Stands for running out of memory in `EXIT_CODES`: `MemoryError`, or torch's (a
    RuntimeError), checked without importing torch, which a decode never loads."""

    @staticmethod
    def matches(exc: BaseException) -> bool:
        torch = sys.modules.get("torch")
        return isinstance(exc, MemoryError) or (torch is not None and isinstance(exc, torch.OutOfMemoryError))


#: error kinds -> exit code and what it means, most specific first
EXIT_CODES: list[tuple[type[BaseException] | tuple[type[BaseException], ...], int, str]] = [
    (SpecError, 2, "the spec, a component's settings or the command line is invalid"),
    (UnknownComponentError, 2, "a component id is not registered (the message lists those that are)"),
    (ContainerError, 3, "an .inrz file cannot be read: missing, truncated, corrupt or from a newer inrz"),
    (BaseNetworkError, 3, "a COIN++ base network is missing, corrupt or not the one the file needs"),
    (MissingDependencyError, 4, "an optional library is missing (the message names the extra to install)"),
    (PluginError, 5, "a plugin failed to load or registered something invalid"),
    (DatasetError, 6, "a dataset cannot be read or downloaded"),
    (InrzError, 1, "any other problem with the input (an unreadable file, a target no configuration meets)"),
    (OutOfMemory, 7, "out of memory (CPU or GPU): use a smaller batch_size, a smaller chunk, or another device"),
]
INTERRUPTED = 130  # Ctrl-C; finished items of a run are kept
INTERNAL_ERROR = 70  # a bug in inrz or a plugin: the traceback is printed


def exit_code(exc: BaseException) -> int:
    """The documented exit code of an error (70 for anything that is not ours to explain)."""
    for kind, code, _ in EXIT_CODES:
        if isinstance(exc, kind) or (kind is OutOfMemory and OutOfMemory.matches(exc)):
            return code
    return INTERRUPTED if isinstance(exc, KeyboardInterrupt) else INTERNAL_ERROR


def epilog() -> str:
    lines = ["exit codes:", "  0    success"]
    lines += [f"  {code:<4} {meaning}" for _, code, meaning in sorted(EXIT_CODES, key=lambda entry: entry[1])]
    lines += [f"  {INTERNAL_ERROR:<4} internal error: a bug in inrz or a plugin (the traceback is printed)",
              f"  {INTERRUPTED:<4} interrupted"]
    return "\n".join(lines)


def common_options() -> argparse.ArgumentParser:
    """Options every command takes, after its name (`inrz compress x.png --threads 2 ...`)."""
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: an absent subcommand option must not overwrite `inrz --threads N cmd` with None
    common.add_argument("--threads", type=int, default=argparse.SUPPRESS, metavar="N",
                        help=f"CPU threads (default: ${threads.THREADS_ENV}, else the CPUs this process may use)")
    return common


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given the `argv` it will parse, and that names one of the core's commands,
    without the backends' commands (finding those loads every plugin: `inrz decompress` needs
    only the two its file names)."""
    parser = argparse.ArgumentParser(prog="inrz", description="Compression with implicit neural representations.",
                                     epilog=epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help=f"CPU threads (default: ${threads.THREADS_ENV}, else the CPUs this process may use)")
    sub = parser.add_subparsers(dest="command", required=True)
    common = common_options()
    run_commands.add(sub, common)
    codec_commands.add(sub, common)
    if argv is None or _command(argv) not in sub.choices:
        backend_commands(sub, common)
    return parser


def _command(argv: list[str]) -> str | None:
    """The command `argv` names: its first word that is neither an option nor `--threads`' value."""
    words = iter(argv)
    for word in words:
        if word == "--threads":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def backend_commands(sub, common) -> None:
    """The commands installed backends bring (`Backend.add_commands`: COIN++'s `inrz train`).
    A plugin that fails to load brings none; the command that needs the host reports why."""
    try:
        host = get_host()
    except InrzError:
        return
    for id in host.registry.names("backend"):
        host.registry.get("backend", id).add_commands(sub, common)


def main(argv: list[str] | None = None, *, on_parsed=None) -> int:
    """Run one command (`argv`: default the process's arguments); its exit code. `on_parsed()`
    is called once the arguments are parsed, before the command runs (`console`)."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    if on_parsed is not None:
        on_parsed()
    if getattr(args, "threads", None) is not None:
        if args.threads < 1:
            print("inrz: error: --threads must be at least 1", file=sys.stderr)
            return 2
    try:
        threads.configure(args.threads)
        return int(args.func(args) or 0)
    except BrokenPipeError:  # `inrz info x.inrz | head`: the reader has what it wanted
        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        print("inrz: interrupted (finished items are kept; re-run to resume)", file=sys.stderr)
        return INTERRUPTED
    except Exception as exc:
        code = exit_code(exc)
        if code == INTERNAL_ERROR:  # not ours to explain: show where it happened
            traceback.print_exc()
            print(f"inrz: internal error: {type(exc).__name__}: {exc} (a bug in inrz or a plugin; please report it "
                  "with the traceback above)", file=sys.stderr)
        else:
            print(f"inrz: error: {'out of memory: ' if code == 7 else ''}{exc}", file=sys.stderr)
        return code


def _silence_stdout() -> None:
    """Point stdout at devnull so the interpreter's final flush does not raise again (Python docs, SIGPIPE)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
