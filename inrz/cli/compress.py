"""`inrz compress`: the codec from a spec or the modality's defaults, then one encode (to a
target rate or quality when asked). Imported only by that command (`codec_commands`)."""
from __future__ import annotations

import dataclasses
import sys

from .. import container
from ..api.functions import codec_from_spec, modality_for_path, with_settings
from ..core.device import resolve_device
from ..core.errors import SpecError
from ..host.manager import get_host
from ..pipeline.codec import Codec
from ..pipeline.defaults import codec_sections, rate_preset
from ..pipeline.progress import progress_callback, terminal
from ..pipeline.ratecontrol import encode_to_target
from ..runs.spec import load_spec, override_sections


def build_codec(args) -> tuple[Codec, float | None]:
    """The codec and rate target of `inrz compress`: a spec's, or the modality's defaults with
    `--preset` and `--set` on top (the same checks either way)."""
    host = get_host()
    fixed = None if rate_preset(args.preset) is not None else args.preset
    if args.spec:
        codec = codec_from_spec(args.spec, args.overrides, path_hint=args.input, device=args.device, host=host)
        spec_target = load_spec(args.spec, args.overrides, host).target_bpp
    else:
        modality = modality_for_path(args.input, host)
        raw = override_sections(codec_sections(modality, fixed, host=host), args.overrides, host)
        device = resolve_device(args.device or raw.get("device", "auto"))
        codec = Codec.from_sections(host, modality, raw, device, raw.get("seed", 0))
        spec_target = raw.get("target_bpp")
    if args.steps is not None:
        codec = with_settings(codec, {"steps": args.steps}, host)
    targets = {t for t in (rate_preset(args.preset), args.target_bpp) if t is not None}
    if len(targets) > 1:
        raise SpecError(f"--preset {args.preset} and --target-bpp {args.target_bpp} ask for two rates; give one")
    return codec, targets.pop() if targets else spec_target


def compress(args) -> int:
    codec, target_bpp = build_codec(args)
    if args.max_abs_error is not None:
        codec = dataclasses.replace(codec, max_abs_error=args.max_abs_error)
    signal = codec.modality.load(args.input)
    with progress_callback(terminal()) as callback:
        if target_bpp is not None or args.target_psnr is not None:
            encoded, codec = encode_to_target(codec, signal, bpp=target_bpp, psnr=args.target_psnr,
                                              progress=callback)
        else:
            encoded = codec.encode(signal, callback)
    container.write_file(args.output, encoded.data)
    points = codec.modality.num_points(signal)
    rung = f", configuration {encoded.info['rung']}" if "rung" in encoded.info else ""
    print(f"{args.output}: {len(encoded.data)} bytes, {8 * len(encoded.data) / points:.4f} bits per "
          f"{codec.modality.unit} ({8 * encoded.payload_bytes / points:.4f} payload only){rung}", file=sys.stderr)
    return 0
