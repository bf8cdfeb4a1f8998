"""`inrz train` and `inrz models`: COIN++ base networks (added by `CoinPP.add_commands`)."""
from __future__ import annotations

import json
import sys

from .artifacts import list_models


def add(sub, common) -> None:
    p = sub.add_parser("train", help="meta-learn a COIN++ base network from a spec's `train:` section",
                       parents=[common])
    p.add_argument("spec")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE")
    p.add_argument("--force", action="store_true", help="train even if this spec and data were trained before")
    p.set_defaults(func=_train)

    p = sub.add_parser("models", help="list the base networks in the models dir as JSON", parents=[common])
    p.add_argument("--history", action="store_true", help="include validation history")
    p.set_defaults(func=_models)


def _train(args) -> int:
    from .training import train_from_spec  # torch: loaded by this command, not by `inrz` itself

    from inrz import spec_context  # the runs' modules, only when the command runs

    ctx = spec_context(args.spec, args.overrides, log=lambda m: print(m, file=sys.stderr))
    print(train_from_spec(ctx, force=args.force))
    return 0


def _models(args) -> int:
    models = list_models()
    if not args.history:
        for m in models:
            m.pop("history", None)
    print(json.dumps(models, indent=2))
    return 0
