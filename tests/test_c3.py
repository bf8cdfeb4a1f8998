"""The latent-grid backend (`c3`): its parts against independent definitions, and its files."""
from __future__ import annotations

import json
import math
import subprocess
import sys
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import inrz
from inrz import rangecoder
from inrz.cli.main import main as cli_main
from inrz_c3 import arch, bitstream, coding, context, reference, tables, train_step, upsample
from inrz_c3.fit import init_params

from .conftest import data_file

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------- context model geometry and tables ----------------

@pytest.mark.parametrize("ndim,count", [(1, 8), (2, 8), (2, 12), (2, 20), (3, 8), (3, 16)])
def test_offsets_are_causal_and_wavefronts_respect_them(ndim, count):
    offsets = context.causal_offsets(ndim, count)
    assert len(set(offsets)) == count
    slopes = context.wavefront_slopes(offsets)
    assert all(sum(a * o for a, o in zip(slopes, off)) <= -1 for off in offsets)
    assert all(next(v for v in off if v) < 0 for off in offsets)  # before the point in raster order


def test_tables_are_the_pinned_ones_and_normalised():
    freq = tables.frequency_table()
    assert freq.shape == (tables.SCALE_BINS, tables.MEAN_BINS, tables.ALPHABET)
    assert (freq >= 1).all() and (freq.sum(-1) == 1 << tables.PRECISION).all()
    # a narrow Laplace puts most mass on its rounded mean; a wide one spreads it
    centre = tables.K + 1
    assert freq[tables.SCALE_ZERO - 24, 8, centre] > 0.9 * (1 << tables.PRECISION)
    assert freq[tables.SCALE_ZERO + 16, 8, centre] < 0.2 * (1 << tables.PRECISION)


def random_layers(rng, a: arch.Architecture, shift: int = 7):
    weights = {}
    for name, shape in [(f"arm{i}", d) for i, d in enumerate(a.arm_dims()[:-1])] + [("armo", a.arm_dims()[-1])]:
        weights[f"{name}.W"] = rng.normal(size=shape[::-1]) * 0.4
        weights[f"{name}.b"] = rng.normal(size=shape[1]) * 0.2
    return bitstream.arm_layers(weights, shift, a)


@SETTINGS
@given(shape=st.sampled_from([(1,), (5,), (2500,), (1, 1), (3, 7), (17, 23), (2, 3, 4), (6, 5, 7)]),
       scale=st.floats(0.1, 40.0), seed=st.integers(0, 2**16))
def test_latent_grids_round_trip_through_the_range_coder(shape, scale, seed):
    rng = np.random.default_rng(seed)
    a = arch.Architecture(len(shape), 1, 1, 8, 8, 2, (8,), 0)
    layers = random_layers(rng, a)
    values = np.round(rng.laplace(size=shape) * scale).astype(np.int64)
    grid, valid = bitstream.fold(values, a)
    enc, esc = rangecoder.queue_encoder(), rangecoder.GolombWriter()
    coding.encode_grid(grid, layers, a.offsets, enc, esc, valid)
    dec = rangecoder.QueueDecoder(enc.get_compressed())
    out = coding.decode_grid(grid.shape, layers, a.offsets, dec, rangecoder.GolombReader(esc.getvalue()), valid)
    assert np.array_equal(out.reshape(-1)[:values.size].reshape(shape), values)


def random_model(rng, a, shape):
    """Quantized weights (shifts 8) and small integer latents of architecture `a` on a grid."""
    from inrz_c3.fit import weight_shapes

    tensors = {k: bitstream.from_ints(np.round(rng.normal(size=s) * 40).astype(np.int64), k, 8)
               for k, s in weight_shapes(a).items()}
    for l, s in enumerate(upsample.level_shapes(shape, a.levels)):
        tensors[f"latents.{l}"] = np.round(rng.laplace(size=s)).astype(np.int64)
    tensors["shifts"] = np.full(len(bitstream.GROUPS), 8, np.int64)
    layout = {k: np.shape(v) for k, v in tensors.items()}
    return tensors, layout


def test_weights_coded_against_a_base_round_trip_and_cost_less_when_near_it():
    rng = np.random.default_rng(1)
    a = arch.Architecture(2, 3, 3, 8, 8, 2, (8,), 1)
    tensors, layout = random_model(rng, a, (12, 16))
    base = {k: v + rng.normal(size=v.shape) / 256 for k, v in tensors.items()  # near the weights, off the grid
            if not k.startswith("latents") and k not in ("shifts", "syn0.W")}  # and one tensor without a base
    tag = b"\x01\x02\x03\x04"
    plain, relative = bitstream.encode(tensors, layout, a), bitstream.encode(tensors, layout, a, (tag, base))
    assert len(relative) < len(plain) - 100
    for data, find in ((plain, None), (relative, {tag: base}.__getitem__)):
        out = bitstream.decode(data, layout, a, find)
        assert all(np.array_equal(out[k], tensors[k]) for k in tensors)
    with pytest.raises(inrz.ContainerError):
        bitstream.decode(relative, layout, a, None)  # no base to decode against


def test_fixed_point_context_model_is_exact_integer_arithmetic():
    rng = np.random.default_rng(0)
    a = arch.Architecture(2, 1, 1, 12, 12, 2, (8,), 0)
    layers = random_layers(rng, a, shift=9)
    ctx = rng.integers(-300, 300, size=(12, 5000))
    mean, logb = coding.arm_forward_int(ctx, layers)
    x = ctx.astype(object) * 2 ** coding.FRAC  # the same function in Python integers
    for i, layer in enumerate(layers):
        W, b = layer.W.numpy().astype(np.int64).astype(object), layer.b.numpy().astype(np.int64).astype(object)
        acc = W.dot(x) + b
        x = np.vectorize(lambda v: v // 2 ** layer.shift)(acc)
        x = np.clip(x, 0 if i < len(layers) - 1 else -2 ** 30, 2 ** 30)
    assert np.array_equal(mean, x[0].astype(np.float64)) and np.array_equal(logb, x[1].astype(np.float64))


# ---------------- the blocked training step equals the straightforward one ----------------

def random_params(a, shape, seed=0):
    p = init_params(a, shape, seed, "cpu")
    g = torch.Generator().manual_seed(seed)
    return {k: (v + 0.3 * torch.randn(v.shape, generator=g)).double() for k, v in p.items()}


@pytest.mark.parametrize("shape,periodic,channels", [((3000,), (False,), 1), ((29, 41), (False, True), 3),
                                                     ((9, 11, 13), (False, False, True), 1)])
@pytest.mark.parametrize("mode", ["noise", "soft", "hard"])
def test_blocked_step_matches_whole_grid_autograd(shape, periodic, channels, mode):
    a = arch.Architecture(len(shape), channels, 4, 8, 8, 2, (12,), 2)
    levels = upsample.level_shapes(shape, a.levels)
    target = torch.rand(channels, *shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    ref = {k: v.clone().requires_grad_() for k, v in random_params(a, shape).items()}
    loss, _, bits = reference.loss(ref, a, levels, target, periodic, mode, 0.2, 0.01, torch.Generator().manual_seed(3))
    loss.backward()
    ours = random_params(a, shape)
    loss2, _, bits2 = train_step.loss_and_grad(ours, a, levels, target, periodic, mode, 0.2, 0.01,
                                               torch.Generator().manual_seed(3), band=97)
    assert math.isclose(float(loss), loss2, rel_tol=1e-12) and math.isclose(float(bits), bits2, rel_tol=1e-12)
    for k in ref:
        assert torch.allclose(ref[k].grad, ours[k].grad, rtol=1e-9, atol=1e-12), k


def test_step_gives_the_same_bits_with_any_number_of_workers():
    a = arch.Architecture(2, 3, 4, 8, 8, 2, (12,), 2)
    shape = (37, 53)
    levels = upsample.level_shapes(shape, a.levels)
    target = torch.rand(3, *shape, generator=torch.Generator().manual_seed(1))
    runs = []
    for workers in (1, 2, 3):
        p = {k: v.float() for k, v in random_params(a, shape).items()}
        pool = ThreadPoolExecutor(workers) if workers > 1 else None
        train_step.loss_and_grad(p, a, levels, target, (False, False), "soft", 0.2, 0.01,
                                 torch.Generator().manual_seed(3), band=200, pool=pool)
        runs.append({k: v.grad for k, v in p.items()})
    assert all(torch.equal(r[k], runs[0][k]) for r in runs[1:] for k in runs[0])


# ---------------- the codec ----------------

def c3_codec(host, steps=60, preset="fast", lmbda=0.004, modality="image"):
    return inrz.Codec(host.create("modality", modality),
                      host.create("backend", {"id": "c3", "steps": steps, "preset": preset, "lmbda": lmbda}),
                      host.create("quantizer", "fp16"), host.create("entropy", "zstd"))


@pytest.fixture(scope="module")
def crop_container(host):
    from PIL import Image

    img = np.asarray(Image.open(data_file("kodak", "kodim03.png")).convert("RGB"))[200:264, 300:396]
    codec = c3_codec(host)
    enc = codec.encode(codec.modality.from_array(img))
    return img, enc, codec


def test_round_trip_on_a_real_crop_is_deterministic_and_sane(crop_container, host):
    img, enc, codec = crop_container
    out = inrz.decode(enc.data, host).signal.data
    assert out.shape == img.shape and out.dtype == np.uint8
    mse = np.mean((out.astype(np.float64) - img) ** 2)
    assert 10 * math.log10(255 ** 2 / mse) > 22.0  # 60 steps on a 64x96 crop
    assert 8 * len(enc.data) / (64 * 96) < 4.0
    assert codec.encode(codec.modality.from_array(img)).data == enc.data  # same input, same bytes


def test_a_fit_from_the_shipped_prior_is_coded_against_it_and_decodes(crop_container, host):
    """The medium preset starts from its shipped prior and codes its weights relative to it (format
    2, tagged with the prior's hash); decoding finds the prior by that tag."""
    from inrz.container import read
    from inrz_c3 import prior

    img = crop_container[0]
    codec = c3_codec(host, steps=20, preset="medium")
    data = codec.encode(codec.modality.from_array(img)).data
    section = read(data)[1]["c3"]
    assert section[0] == bitstream.FORMAT == 2 and section[1:5] == prior.tag("medium", 3) != bitstream.NO_BASE
    out = inrz.decode(data, host).signal.data
    assert out.shape == img.shape and 10 * math.log10(255 ** 2 / np.mean((out.astype(float) - img) ** 2)) > 15


@pytest.mark.parametrize("threads", [1, 2])
def test_fresh_process_decodes_identical_bytes(crop_container, tmp_path, threads, host):
    _, enc, _ = crop_container
    path = tmp_path / "x.inrz"
    path.write_bytes(enc.data)
    code = (f"import torch, inrz, sys; torch.set_num_threads({threads}); "
            f"sys.stdout.buffer.write(inrz.decompress(open({str(path)!r}, 'rb').read()).tobytes())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout
    assert out == inrz.decompress(enc.data, host=host).tobytes()


def rewrite_section(data: bytes, edit) -> bytes:
    """A container whose c3 section went through `edit`, with a recomputed CRC (past the envelope)."""
    from inrz.container import read, write

    header, sections = read(data)
    sections["c3"] = edit(sections["c3"])
    return write(header, sections)


@pytest.mark.parametrize("edit", [lambda b: b[:len(b) // 2], lambda b: b[:5], lambda b: b"", lambda b: b + b"\0\0\0",
                                  lambda b: bytes([3]) + b[1:], lambda b: b[:5] + bytes([99]) + b[6:],
                                  lambda b: b[:1] + b"\1\2\3\4" + b[5:]])
def test_truncated_or_crafted_payloads_raise_container_error(crop_container, host, edit):
    _, enc, _ = crop_container
    with pytest.raises(inrz.ContainerError):
        inrz.decode(rewrite_section(enc.data, edit), host)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pos=st.integers(0, 10_000), byte=st.integers(0, 255))
def test_any_payload_edit_decodes_to_valid_output_or_container_error(crop_container, host, pos, byte):
    img, enc, _ = crop_container

    def edit(b):
        b = bytearray(b)
        b[pos % len(b)] = byte
        return bytes(b)

    try:
        out = inrz.decode(rewrite_section(enc.data, edit), host).signal.data
    except inrz.ContainerError:
        return
    assert out.shape == img.shape and out.dtype == np.uint8  # garbage in, but a valid image out


@pytest.mark.parametrize("modality,shape", [("ndarray", (700,)), ("ndarray", (12, 10, 9))])
def test_one_and_three_axis_grids_code(host, modality, shape):
    rng = np.random.default_rng(0)
    grid = np.meshgrid(*[np.linspace(0, 3, n) for n in shape], indexing="ij")
    data = (np.sin(sum(grid)) + 0.05 * rng.normal(size=shape)).astype(np.float32)
    codec = c3_codec(host, steps=40, modality=modality)
    enc = codec.encode(codec.modality.from_array(data))
    out = inrz.decode(enc.data, host).signal.data
    assert out.shape == data.shape and np.isfinite(out).all()
    assert np.mean((out - data) ** 2) < np.var(data)  # it learned something


def test_rate_ladder_runs_from_small_to_large_files(host):
    backend = host.create("backend", {"id": "c3"})
    rungs = backend.rate_ladder(None, None)
    lambdas = [r.backend.config.lmbda for r in rungs]
    assert lambdas == sorted(lambdas, reverse=True) and len(set(lambdas)) == len(lambdas)
    with pytest.raises(inrz.SpecError):
        backend.rate_ladder(None, None, [0.0])


def test_prior_and_level_gains_only_change_the_start_and_the_pace():
    """A prior replaces the networks' initial values; level gains scale each level's Adam steps."""
    from inrz_c3 import fit, prior

    a = arch.Architecture(2, 3, 3, 8, 8, 2, (8,), 1)
    target = torch.rand(3, 20, 24, generator=torch.Generator().manual_seed(0))
    start = {k: v for k, v in init_params(a, (20, 24), 5, "cpu").items() if k != "y"}  # the real start, unshifted
    start["syn0.W"] = start["syn0.W"] + 0.1  # a prior that differs from the random start, with a context
    start["armo.W"] = start["armo.W"] + 0.1  # model whose output layer is not at zero (as a trained one)
    one = fit.fit(target, a, fit.Schedule(steps=1), 0.01, (False, False), prior=start)
    assert all(not torch.equal(one[k], start[k]) for k in start)  # every network was trained from the prior
    levels = upsample.level_shapes((20, 24), a.levels)
    moved = []
    for gain in (1.0, 2.0):
        p = fit.fit(target, a, fit.Schedule(steps=1, lr_level_gain=gain), 0.01, (False, False))
        moved.append([float(l.abs().max()) for l in train_step.split_levels(p["y"], levels)])
    assert moved[1][0] == pytest.approx(moved[0][0], rel=1e-5) and moved[1][2] == pytest.approx(4 * moved[0][2], rel=1e-5)
    assert prior.load("no-such-preset", a) is None


def test_a_low_rate_kodak_sized_file_is_within_the_default_decode_limits(host):
    """The reader bounds the numbers a payload may hold by its size; c3's latent grids (1.3
    numbers per pixel, most of them zero at low rates) are bounded by the grid instead, so a
    0.05 bpp Kodak file (2.4 kB) decodes, while a header asking for far more than its bytes
    is still refused."""
    backend = host.create("backend", {"id": "c3", "preset": "medium"})
    header = {"grid": [512, 768], "d_in": 2, "d_out": 3, "meta": {}, "norm": {},
              "backend": backend.get_config()}
    layout = backend.layout((512, 768), 2, 3)
    assert sum(math.prod(s) for s in layout.values()) > 64 * 2400  # the generic count would refuse it
    inrz.DecodeLimits().check(backend, header, {"c3": bytes(2400)}, 2500)
    with pytest.raises(inrz.DecodeLimitError):
        inrz.DecodeLimits().check(backend, {**header, "grid": [20000, 20000]}, {"c3": bytes(2400)}, 2500)
    assert backend.decode_cost(layout, 512 * 768, 2, 3) == pytest.approx(512 * 768 * backend.model_arch(
        (512, 768), 3).macs_per_point())


def test_the_api_picks_c3_by_name_with_its_own_preset_and_settings(host):
    codec = inrz.codec_for("image", backend="c3", preset="fast", steps=7, lmbda=0.01, host=host)
    assert codec.backend.id == "c3" and codec.backend.config.preset == "fast"
    assert (codec.backend.config.steps, codec.backend.config.lmbda) == (7, 0.01)
    with pytest.raises(inrz.SpecError, match="no setting 'depth'"):
        inrz.codec_for("image", backend="c3", depth=3, host=host)
    with pytest.raises(inrz.SpecError, match="names its own"):
        inrz.compress(np.zeros((8, 8, 3), np.uint8), codec, backend="c3", host=host)


def test_inrz_info_states_the_preset_and_its_mac_count(crop_container, tmp_path, capsys):
    _, enc, _ = crop_container
    path = tmp_path / "c.inrz"
    path.write_bytes(enc.data)
    assert cli_main(["info", str(path), "--json"]) == 0
    arch = json.loads(capsys.readouterr().out)["architecture"]
    assert arch["backend"] == "c3" and arch["preset"] == "fast" and 400 < arch["mac_per_point"] < 700


def test_the_backend_config_carries_the_fit_schedule_by_name():
    """C3Config repeats the schedule's fields with their bounds: same names, same defaults, and
    a config's values reach the schedule by name (a reordering cannot swap two of them)."""
    import dataclasses

    from inrz_c3 import fit
    from inrz_c3.backend import C3Config

    fields = {f.name: f.default for f in dataclasses.fields(fit.Schedule)}
    config = C3Config()
    assert {name: getattr(config, name) for name in fields} == fields
    settings = {**config.model_dump(), "t_start": 0.5, "t_end": 0.2, "lr": 0.03, "lr_net": 0.02}
    schedule = fit.Schedule.from_settings(settings)
    assert (schedule.t_start, schedule.t_end, schedule.lr, schedule.lr_net) == (0.5, 0.2, 0.03, 0.02)
