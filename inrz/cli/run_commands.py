"""`inrz run` and `inrz plugins`."""
from __future__ import annotations

import json
import sys

from ..core.host import PluginHost
from ..runs.run import run


def add(sub, common) -> None:
    p = sub.add_parser("run", help="run a spec: encode a dataset, decode, compare with classical codecs, report", parents=[common])
    p.add_argument("spec", help="YAML spec file (see specs/)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                   help="override a spec field, e.g. --set backend.steps=2000 (repeatable)")
    p.add_argument("--fresh", action="store_true", help="redo items that a previous run finished")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_run)

    p = sub.add_parser("plugins", help="list plugins, their components and whether they can run here, as JSON", parents=[common])
    p.add_argument("--all", action="store_true", help="include the built-in core plugin")
    p.set_defaults(func=_plugins)


def _run(args) -> int:
    results = run(args.spec, args.overrides, progress=not args.no_progress, fresh=args.fresh)
    out = results["spec"].get("output") or f"results/{results['spec']['name']}"
    means = {"inrz": results["results"], **{k: v["results"] for k, v in results["baselines"].items()}}
    labels = results["labels"]
    keys = list(dict.fromkeys([labels["rate"], "bpp", "payload_bpp", *labels["metrics"]]))  # the modality's figures
    for codec, m in means.items():
        figures = ", ".join(f"{k} {m[k][0]:.4g}" for k in keys if k in m)
        print(f"{codec:>10}: {figures}")
    print(f"report: {out}/report.md (results.json, results.csv, rd.png)", file=sys.stderr)
    return 0


def _plugins(args) -> int:
    """Never strict: a plugin that fails to import is listed as unavailable with the reason,
    which is what someone debugging a broken install needs to see."""
    host = PluginHost(strict=False)
    listed = [host.describe(name) for name in host.info if args.all or name != "inrz"]
    print(json.dumps(listed, indent=2))
    return 0
