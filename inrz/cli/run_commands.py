"""`inrz run`, `inrz plot` and `inrz plugins`."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..core.errors import InrzError

# the runs' modules are imported by the commands that use them (`inrz decompress` starts faster)


def add(sub, common) -> None:
    p = sub.add_parser("run", help="run a spec: encode a dataset, decode, compare with classical codecs, report",
                       parents=[common])
    p.add_argument("spec", help="YAML spec file (see specs/)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                   help="override a spec field, e.g. --set backend.steps=2000 (repeatable)")
    p.add_argument("--fresh", action="store_true", help="redo items that a previous run finished")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_run)

    p = sub.add_parser("plot", help="merge results files (inrz's or CompressAI's) into RD curves with BD-rates",
                       parents=[common])
    p.add_argument("results", nargs="+", help="results.json files; curves of the same codec name are merged")
    p.add_argument("-o", "--output", default="rd.png", help="the PNG to write (default: rd.png)")
    p.add_argument("--metric", default=None, help="the quality figure (default: the first file's first metric)")
    p.add_argument("--rate", default=None, help="the rate figure (default: the first file's rate column)")
    p.add_argument("--anchor", action="append", default=None, metavar="NAME",
                   help="curves to compute BD figures against (default: the classical baselines)")
    p.add_argument("--title", default=None)
    p.add_argument("--json", action="store_true", help="print the BD table as JSON")
    p.add_argument("--mixed-items", action="store_true",
                   help="plot files that cover different items anyway (no BD figures: their means are not comparable)")
    p.set_defaults(func=_plot)

    p = sub.add_parser("plugins", help="list plugins, their components and whether they can run here, as JSON",
                       parents=[common])
    p.add_argument("--all", action="store_true", help="include the built-in core plugin")
    p.set_defaults(func=_plugins)


def _run(args) -> int:
    from ..runs.plot import bd_text  # late: the runs' modules, not at start-up
    from ..runs.run import run  # late: as above

    results = run(args.spec, args.overrides, progress=not args.no_progress, fresh=args.fresh)
    out = results["spec"].get("output") or f"results/{results['spec']['name']}"
    labels = results["labels"]
    keys = list(dict.fromkeys([labels["rate"], "bpp", "payload_bpp", *labels["metrics"]]))  # the modality's figures
    codecs = {"inrz": results["results"], **{k: v["results"] for k, v in results["baselines"].items()}}
    for codec, lists in codecs.items():
        for i in range(max((len(v) for v in lists.values()), default=0)):
            figures = ", ".join(f"{k} {lists[k][i]:.4g}" for k in keys if k in lists and lists[k][i] is not None)
            print(f"{codec:>10}: {figures}")
    if results["bd"]:
        print(bd_text(results["bd"], labels["metrics"] and next(iter(labels["metrics"]))) or "")
    print(f"report: {out}/report.md (results.json, results.csv, rd.png)", file=sys.stderr)
    return 0


def _plot(args) -> int:
    from ..runs import curves  # late: the runs' modules, not at start-up
    from ..runs.plot import bd_text, rd_plot  # late: as above

    mixed = curves.mixed_items(args.results)
    if mixed and not args.mixed_items:
        raise InrzError(f"{mixed}: their curves would mix means over different data; plot runs over the same "
                        "items, or pass --mixed-items to draw them without BD figures")
    loaded, labels = curves.load(args.results)
    rate = args.rate or (labels.get("rate") or "bpp")
    metrics = labels.get("metrics") or {}
    metric = args.metric or next(iter(metrics), "psnr")
    if not any(curve.xy(rate, metric)[0] for curve in loaded):
        raise InrzError(f"no curve has both {rate!r} and {metric!r}; give --rate/--metric (figures in the files: "
                        f"{', '.join(sorted({k for c in loaded for p in c.points for k in p}))})")
    lower = metric in (labels.get("lower_is_better") or ())
    table = [] if mixed else curves.bd_table(loaded, rate, metric, lower, args.anchor)
    if mixed:
        print(f"warning: {mixed}; no BD figures", file=sys.stderr)
    unit = metrics.get(metric)
    rate_label = labels.get("rate_label") if rate == labels.get("rate") else rate
    title = args.title or f"{metric} against {rate_label or rate}: " + ", ".join(c.name for c in loaded)
    if not rd_plot(Path(args.output), loaded, rate, rate_label or rate, metric,
                   f"{metric} ({unit})" if unit else metric, title, table):
        raise InrzError("plots need matplotlib: pip install 'inrz[report]'")
    print(json.dumps(table, indent=1) if args.json else (bd_text(table, metric) or "no BD figures (one point per "
                                                                                     "curve, or no baseline)"))
    print(f"plot: {args.output} ({len(loaded)} curves from {len(args.results)} files)", file=sys.stderr)
    return 0


def _plugins(args) -> int:
    """Never strict: a plugin that fails to import is listed as unavailable with the reason,
    which is what someone debugging a broken install needs to see."""
    from ..host.manager import PluginHost  # late: as the other commands

    host = PluginHost(strict=False)
    listed = [host.describe(name) for name in host.info if args.all or name != "inrz"]
    print(json.dumps(listed, indent=2))
    return 0
