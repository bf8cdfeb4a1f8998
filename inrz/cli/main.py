"""The `inrz` command: parses arguments, dispatches, and turns `InrzError` into a message
and an exit code (the only place that does).
"""
from __future__ import annotations

import argparse
import sys

from ..core.errors import InrzError
from . import codec_commands, run_commands, train_commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inrz", description="Compression with implicit neural representations.")
    sub = parser.add_subparsers(dest="command", required=True)
    run_commands.add(sub)
    codec_commands.add(sub)
    train_commands.add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InrzError as exc:
        print(f"inrz: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("inrz: interrupted (finished items are kept; re-run to resume)", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
