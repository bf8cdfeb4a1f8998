"""`inrz compress`, `inrz decompress`, `inrz info`: one file at a time."""
from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from tqdm.auto import tqdm

from .. import container
from ..core.errors import InrzError
from ..pipeline.api import codec_for, codec_from_spec, modality_for_path
from ..pipeline.decode import build_components, decode
from ..pipeline.limits import DecodeLimits
from ..pipeline.ratecontrol import encode_to_target


DEFAULT_STEPS = 1000  # fit steps without a spec: a minute on a CPU, not the paper's 50,000


def add(sub) -> None:
    p = sub.add_parser("compress", help="compress one file into an .inrz container")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--spec", help="take modality/backend/quantizer/entropy/seed/device from this spec")
    src.add_argument("--preset", default=None, help="a COIN paper architecture (0.07bpp ... 1.2bpp); default: the "
                     "modality's default codec")
    p.add_argument("--steps", type=int, default=None,
                   help=f"fit steps (default: {DEFAULT_STEPS} without --spec; paper: 50000)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE")
    p.add_argument("--device", default=None, help="auto, cpu, cuda, mps")
    p.add_argument("--max-abs-error", type=float, default=None,
                   help="error-bounded mode: no decoded value differs by more (in the data's units)")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--target-bpp", type=float, default=None, help="pick the configuration meeting this rate")
    target.add_argument("--target-psnr", type=float, default=None, help="pick the configuration reaching this PSNR")
    p.set_defaults(func=_compress)

    p = sub.add_parser("decompress", help="decode an .inrz container to a file")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--scale", type=float, default=1.0, help="render at this scale (INRs decode at any resolution)")
    p.add_argument("--region", default=None, help="render only this region, in pixels: y0:y1,x0:x1")
    p.add_argument("--device", default="auto")
    p.add_argument("--trusted", action="store_true", help="decode without the limits that refuse files asking for "
                   "more work than their size justifies (for files from a source you trust)")
    p.set_defaults(func=_decompress)

    p = sub.add_parser("info", help="print a container's header and sizes")
    p.add_argument("input")
    p.set_defaults(func=_info)


def _compress(args) -> int:
    if args.spec:
        codec = codec_from_spec(args.spec, args.overrides, path_hint=args.input, device=args.device)
        if args.steps is not None:
            codec.backend = type(codec.backend)(codec.backend.get_config(), steps=args.steps)
    else:
        codec = codec_for(modality_for_path(args.input), preset=args.preset, steps=args.steps or DEFAULT_STEPS,
                          device=args.device or "auto")
    if args.max_abs_error is not None:
        codec = dataclasses.replace(codec, max_abs_error=args.max_abs_error)
    signal = codec.modality.load(args.input)
    if args.target_bpp is not None or args.target_psnr is not None:
        encoded, codec = encode_to_target(codec, signal, bpp=args.target_bpp, psnr=args.target_psnr)
    else:
        with tqdm(total=getattr(codec.backend.config, "steps", None), unit="step",
                  disable=not sys.stderr.isatty()) as bar:
            encoded = codec.encode(signal, progress=lambda step, total, fig: bar.update(1))
    container.write_file(args.output, encoded.data)
    points = codec.modality.num_points(signal)
    print(f"{args.output}: {len(encoded.data)} bytes, {8 * len(encoded.data) / points:.4f} bits per "
          f"{codec.modality.unit} ({8 * encoded.payload_bytes / points:.4f} payload only)", file=sys.stderr)
    return 0


def _decompress(args) -> int:
    data = container.read_file(args.input)
    limits = DecodeLimits.trusted() if args.trusted else None
    decoded = decode(data, device=args.device, scale=args.scale, region=_parse_region(args.region), limits=limits)
    build_components(decoded.header)["modality"].save(decoded.signal, args.output)
    print(f"{args.output}: {tuple(decoded.signal.data.shape)} {decoded.signal.data.dtype}", file=sys.stderr)
    return 0


def _info(args) -> int:
    data = container.read_file(args.input)
    header, sections = container.read(data)
    sizes = {"file_bytes": len(data), **{f"{k}_bytes": len(v) for k, v in sections.items()}}
    print(json.dumps({"path": str(Path(args.input)), "format_version": data[4], **sizes, "header": header}, indent=2))
    return 0


def _parse_region(text: str | None):
    if not text:
        return None
    try:
        return [tuple(float(v) for v in part.split(":")) for part in text.split(",")]
    except ValueError as exc:
        raise InrzError(f"--region {text!r}: expected start:stop per axis, e.g. 0:256,128:384") from exc
