"""`inrz compress`, `inrz decompress`, `inrz info`: one file at a time (`decompress` takes
several, written through an output pattern, in one process)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .. import container
from ..core.errors import InrzError, SpecError
from ..pipeline.defaults import RATE_PRESETS
from ..pipeline.limits import DecodeLimits

# The encoder's modules are imported by `inrz compress` (`compress.py`), so that `inrz decompress`
# and `inrz info` load only what decoding needs: the process starts faster.

REGION_HELP = ("render only this region: start:stop per grid axis, in native samples, in the order `inrz info` "
               "names the axes (e.g. 0:256,128:384 for two axes)")


def add(sub, common) -> None:
    p = sub.add_parser("compress", help="compress one file into an .inrz container", parents=[common])
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--spec", help="take modality/backend/quantizer/entropy/seed/device (and target_bpp) from "
                     "this spec")
    src.add_argument("--preset", default=None, help=f"a rate met on this file ({', '.join(RATE_PRESETS)}: like "
                     "--target-bpp) or a backend's fixed configuration (COIN: 5x20, 5x30, 10x28, 10x40, 13x49); "
                     "default: the modality's default codec")
    p.add_argument("--steps", type=int, default=None, help="fit steps (default: the backend's, CPU-sized)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                   help="set a field of the codec, e.g. --set backend.steps=300 --set quantizer.id=uniform "
                   "(with or without --spec; repeatable)")
    p.add_argument("--device", default=None, help="auto, cpu, cuda, mps")
    p.add_argument("--max-abs-error", type=float, default=None,
                   help="error-bounded mode: no decoded value differs by more (in the data's units)")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--target-bpp", type=float, default=None,
                        help="land within 5%% below this many bits per point (whole file), measured on this datum")
    target.add_argument("--target-psnr", type=float, default=None, help="pick the configuration reaching this PSNR")
    p.set_defaults(func=_compress)

    p = sub.add_parser("decompress", help="decode .inrz containers to files", parents=[common])
    p.add_argument("input", nargs="+", help="one container, or several (then -o holds {stem})")
    p.add_argument("-o", "--output", required=True,
                   help="the output file; with several inputs a pattern, {stem} replaced by each input's name "
                   "without its suffix (e.g. 'out/{stem}.png'): one process decodes them all, paying its "
                   "start-up once")
    p.add_argument("--scale", type=float, default=1.0, help="render at this scale (INRs decode at any resolution)")
    p.add_argument("--region", default=None, help=REGION_HELP)
    p.add_argument("--convert", action="store_true",
                   help="allow writing a lossy format other than the original's (e.g. a PNG as .jpg)")
    p.add_argument("--device", default="auto")
    p.add_argument("--trusted", action="store_true", help="decode without the limits that refuse files asking for "
                   "more work than their size justifies (for files from a source you trust)")
    p.set_defaults(func=_decompress)

    p = sub.add_parser("info", help="a container's rate, configuration and sizes", parents=[common])
    p.add_argument("input")
    p.add_argument("--json", action="store_true", help="everything, the header included, as JSON")
    p.set_defaults(func=_info)


def _compress(args) -> int:
    from .compress import compress  # late: the encoder's modules, which decompress and info do not need

    return compress(args)


def _decompress(args) -> int:
    from ..pipeline.decode import build_components, decode  # late: with the backend, not at start-up

    region = _parse_region(args.region)
    limits = DecodeLimits.trusted() if args.trusted else None
    for source, target in _outputs(args.input, args.output):  # in order; the first error stops the rest
        data = container.read_file(source)
        header = container.read_header(data)
        modality = build_components(header)["modality"]
        change = modality.format_change(header.get("meta", {}), target)
        if change is not None and change.lossy and not args.convert:
            raise SpecError(f"{source} holds {change.source}; writing {target} would re-encode it as "
                            f"{change.target}, which is lossy: name a {change.source} file, or pass --convert")
        decoded = decode(data, device=args.device, scale=args.scale, region=region, limits=limits)
        modality.save(decoded.signal, target)
        note = f" (converted {change.source} -> {change.target})" if change is not None else ""
        print(f"{target}: {tuple(decoded.signal.data.shape)} {decoded.signal.data.dtype}{note}", file=sys.stderr)
    return 0


def _outputs(inputs: list[str], output: str) -> list[tuple[str, str]]:
    """(input, output path) pairs: `output` itself for one input without {stem}, else the pattern
    filled with each input's stem. Refused before anything is decoded: several inputs without
    {stem}, another placeholder, or two inputs that would write the same file."""
    if len(inputs) == 1 and "{stem}" not in output:
        return [(inputs[0], output)]
    if "{stem}" not in output:
        raise SpecError(f"{len(inputs)} inputs need an output pattern holding {{stem}} (e.g. out/{{stem}}.png), "
                        f"got -o {output!r}")
    try:
        pairs = [(source, output.format(stem=Path(source).stem)) for source in inputs]
    except (KeyError, IndexError, ValueError) as exc:
        raise SpecError(f"-o {output!r}: the only placeholder is {{stem}} ({exc})") from None
    seen: dict[str, str] = {}
    for source, target in pairs:
        if target in seen:
            raise SpecError(f"{seen[target]} and {source} would both be written to {target}")
        seen[target] = source
    return pairs


def _info(args) -> int:
    from ..pipeline.inspect import describe  # late: only this command
    from .info import info_text  # late: only this command

    data = container.read_file(args.input)
    facts = describe(data)
    if args.json:
        print(json.dumps({"path": str(Path(args.input)), **facts, "header": container.read_header(data)}, indent=2))
    else:
        print(info_text(str(Path(args.input)), facts))
    return 0


def _parse_region(text: str | None):
    if not text:
        return None
    try:
        region = [tuple(float(v) for v in part.split(":")) for part in text.split(",")]
    except ValueError:
        region = []
    if not region or any(len(r) != 2 for r in region):
        raise InrzError(f"--region {text!r}: expected start:stop per axis of the grid, e.g. 0:256,128:384")
    return region
