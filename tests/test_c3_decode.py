"""c3's compiled decoder against the reference it replaced: same integers, exact bounds, exact ends."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import inrz
from inrz import rangecoder
from inrz_c3 import arch, armint, bitstream, coding, payload, rangedec, reference, tables, upsample

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GOLDEN = sorted((Path(__file__).parent / "golden").glob("c3_*.inrz"))
EXACT = 2 ** 53


# ---------------- the fixed-point context model ----------------

def exact_forward(ctx, Ws, bs, shift):
    """The context model's definition in Python integers (no float anywhere)."""
    x = np.asarray(ctx, np.int64).astype(object) * 2 ** armint.FRAC
    for i, (W, b) in enumerate(zip(Ws, bs)):
        acc = np.asarray(W, np.int64).astype(object).dot(x) + np.asarray(b, np.int64).astype(object)[:, None]
        x = np.vectorize(lambda v: v // 2 ** shift, otypes=[object])(acc)
        lo = 0 if i < len(Ws) - 1 else -2 ** 30
        x = np.clip(x, lo, 2 ** 30)
    return x[0].astype(np.float64), x[1].astype(np.float64)


def layers_near_the_bound(rng, dims, shift, fill):
    """Integer layers whose worst row sums reach `fill` (<= 1) of the exactness bound."""
    Ws, bs = [], []
    for k, (din, dout) in enumerate(zip(dims[:-1], dims[1:])):
        X = armint.LATENT_LIMIT << armint.FRAC if k == 0 else int(armint.ACT_LIMIT)
        room = int((EXACT - 1) * fill) // X  # sum |W| of a row
        W = rng.integers(-(1 << 62), 1 << 62, size=(dout, din), dtype=np.int64)
        W = (W.astype(object) * room // (1 << 62) // din).astype(np.int64)
        b = rng.integers(-(2 ** 20), 2 ** 20, size=dout) << shift
        Ws.append(W)
        bs.append(b)
    return Ws, bs


@SETTINGS
@given(seed=st.integers(0, 2 ** 32 - 1), shift=st.integers(0, bitstream.MAX_SHIFT),
       fill=st.sampled_from([2 ** -40, 2 ** -20, 2 ** -8, 0.5, 0.999]), spread=st.sampled_from([4, 300, 2 ** 20]))
def test_compiled_context_model_equals_the_reference_on_in_bound_inputs(seed, shift, fill, spread):
    rng = np.random.default_rng(seed)
    a = arch.Architecture(2, 1, 1, 12, 12, 2, (8,), 0)
    dims = [a.context] + [a.arm_hidden] * a.arm_layers + [2]
    Ws, bs = layers_near_the_bound(rng, dims, shift, fill)
    assert armint.within_bounds(Ws, bs)
    ctx = rng.integers(-spread, spread + 1, size=(a.context, 300))
    ctx[:, 0], ctx[:, 1], ctx[:, 2] = armint.LATENT_LIMIT, -armint.LATENT_LIMIT, 0  # the extremes a file may hold
    ctx[::2, 3] = armint.LATENT_LIMIT
    got = armint.forward_batch(ctx, *armint.pack(Ws, bs, shift))
    layers = [coding.int_layer(W, b, shift) for W, b in zip(Ws, bs)]
    ref = reference.arm_forward_int(ctx, layers)
    want = exact_forward(ctx, Ws, bs, shift)
    for g, r, w in zip(got, ref, want):
        assert np.array_equal(g, w) and np.array_equal(r, w)


def test_kernel_constants_are_the_tables():
    assert (rangedec.K, rangedec.MEAN_BINS, rangedec.ESCAPE_RIGHT) == (tables.K, tables.MEAN_BINS, tables.ALPHABET - 1)
    assert (armint.FRAC, tables.MEAN_BINS, tables.SCALE_STEP, tables.SCALE_ZERO, tables.SCALE_BINS) == (8, 16, 8, 40, 80)


def test_table_bins_equal_the_float_definition():
    rng = np.random.default_rng(0)
    mean = np.concatenate([rng.integers(-2 ** 30, 2 ** 30, 5000), np.arange(-600, 600)]).astype(np.float64)
    logb = np.concatenate([rng.integers(-2 ** 30, 2 ** 30, 5000), np.arange(-1800, 1800, 3)]).astype(np.float64)
    for got, want in zip(armint.bins_batch(mean, logb), coding.table_bins(mean, logb)):
        assert np.array_equal(got, want)


def test_the_exactness_bound_is_tight_where_stated():
    X0, X1 = armint.LATENT_LIMIT << armint.FRAC, int(armint.ACT_LIMIT)
    assert X0 * (2 ** 25 - 1) + 2 ** 28 - 1 == EXACT - 1 == X1 * (2 ** 23 - 1) + 2 ** 30 - 1
    assert armint.within_bounds([[[2 ** 25 - 1]]], [[2 ** 28 - 1]])
    assert not armint.within_bounds([[[2 ** 25 - 1]]], [[2 ** 28]])
    assert armint.within_bounds([[[1]], [[2 ** 23 - 1]]], [[0], [-(2 ** 30 - 1)]])
    assert not armint.within_bounds([[[1]], [[-(2 ** 23 - 1)]]], [[0], [2 ** 30]])


# ---------------- the range decoder against constriction ----------------

def constriction_words(symbols, rows):
    import constriction

    enc = constriction.stream.queue.RangeEncoder()
    family = constriction.stream.model.Categorical(perfect=False)
    probs = tables.probability_table().reshape(-1, tables.ALPHABET)
    if len(symbols):
        enc.encode(np.asarray(symbols, np.int32), family, probs[rows])
    return enc.get_compressed().astype(np.uint32)


@SETTINGS
@given(seed=st.integers(0, 2 ** 32 - 1), n=st.integers(0, 3000), skew=st.sampled_from(["model", "uniform", "tail"]))
def test_range_decoder_reads_constriction_streams_exactly(seed, n, skew):
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, tables.SCALE_BINS * tables.MEAN_BINS, n)
    if skew == "model":  # symbols drawn from their own tables, as real latents are
        cdf = tables.frequency_table().reshape(-1, tables.ALPHABET).cumsum(-1)
        u = rng.integers(0, 1 << tables.PRECISION, n)
        symbols = np.asarray([np.searchsorted(cdf[r], v, side="right") for r, v in zip(rows, u)], np.int64)
    elif skew == "uniform":
        symbols = rng.integers(0, tables.ALPHABET, n)
    else:
        symbols = rng.choice([0, 1, tables.ALPHABET - 2, tables.ALPHABET - 1], n)
    words = constriction_words(symbols, rows)
    cdf = tables.coder_cdf().reshape(-1, tables.ALPHABET + 1)
    state = rangecoder.queue_start(words)
    got = [rangecoder.queue_symbol(words, state, cdf, r) for r in rows]
    assert got == list(symbols)
    assert rangecoder.queue_end(words, state) == rangecoder.OK


def test_coder_cdf_decodes_every_symbol_of_every_table():
    """Exhaustive: each of the ALPHABET symbols under each of the 1,280 tables, coded by constriction."""
    n_rows = tables.SCALE_BINS * tables.MEAN_BINS
    rows = np.repeat(np.arange(n_rows), tables.ALPHABET)
    symbols = np.tile(np.arange(tables.ALPHABET), n_rows)
    order = np.random.default_rng(0).permutation(rows.size)
    rows, symbols = rows[order], symbols[order]
    words = constriction_words(symbols, rows)
    cdf = tables.coder_cdf().reshape(-1, tables.ALPHABET + 1)
    state = rangecoder.queue_start(words)
    assert [rangecoder.queue_symbol(words, state, cdf, r) for r in rows] == list(symbols)
    assert rangecoder.queue_end(words, state) == rangecoder.OK


# ---------------- whole payloads: golden files, ends, bounds ----------------

@pytest.mark.parametrize("path", GOLDEN, ids=[p.name for p in GOLDEN])
def test_golden_payloads_decode_to_the_reference_integers(path, host, monkeypatch):
    seen = []
    for fn in (reference.decode_payload, payload.decode):
        monkeypatch.setattr(bitstream, "decode", lambda *a, fn=fn, **k: seen.append(fn(*a, **k)) or seen[-1])
        inrz.decode(path.read_bytes(), host)
    old, new = seen
    assert old.keys() == new.keys() and all(np.array_equal(old[k], new[k]) for k in old)


def small_model(seed=0, shape=(24, 20), scale=3.0):
    from inrz_c3.fit import weight_shapes

    rng = np.random.default_rng(seed)
    a = arch.Architecture(len(shape), 3, 3, 8, 8, 2, (8,), 1)
    tensors = {k: bitstream.from_ints(np.round(rng.normal(size=s) * 30).astype(np.int64), k, 8)
               for k, s in weight_shapes(a).items()}
    for l, s in enumerate(upsample.level_shapes(shape, a.levels)):
        tensors[f"latents.{l}"] = np.round(rng.laplace(size=s) * scale).astype(np.int64)
    tensors["shifts"] = np.full(len(bitstream.GROUPS), 8, np.int64)
    return a, tensors, {k: np.shape(v) for k, v in tensors.items()}


def split(data: bytes):
    """(head incl. escape stream, range coder words) of a format-2 payload."""
    n_esc, pos = inrz.read_uvarint(data, 5 + 2 * len(bitstream.GROUPS), "test")
    return data[:pos + n_esc], np.frombuffer(data[pos + n_esc:], "<u4")


@pytest.mark.parametrize("seed", range(4))
def test_payload_decodes_to_what_was_encoded(seed):
    a, tensors, layout = small_model(seed, scale=[0.3, 3, 30, 300][seed])
    out = bitstream.decode(bitstream.encode(tensors, layout, a), layout, a)
    assert out.keys() == tensors.keys() and all(np.array_equal(out[k], tensors[k]) for k in tensors)


@pytest.mark.parametrize("cut", ["trailing word", "trailing zero word", "last word dropped", "middle word dropped",
                                 "two words dropped"])
def test_range_coded_stream_must_end_exactly(cut):
    a, tensors, layout = small_model(1)
    data = bitstream.encode(tensors, layout, a)
    head, words = split(data)
    changed = {"trailing word": lambda w: np.append(w, 0x12345678), "trailing zero word": lambda w: np.append(w, 0),
               "last word dropped": lambda w: w[:-1], "middle word dropped": lambda w: np.delete(w, w.size // 2),
               "two words dropped": lambda w: w[:-2]}[cut](words)
    bad = head + changed.astype("<u4").tobytes()
    with pytest.raises(inrz.ContainerError, match="range-coded"):
        bitstream.decode(bad, layout, a)
    if cut.startswith("trailing"):  # what the check adds: the old decoder took these as valid
        old = reference.decode_payload(bad, layout, a)
        assert all(np.array_equal(old[k], tensors[k]) for k in tensors)


def test_escape_stream_must_end_exactly():
    a, tensors, layout = small_model(2, scale=80)  # many escapes
    data = bitstream.encode(tensors, layout, a)
    at = 5 + 2 * len(bitstream.GROUPS)
    n_esc, pos = inrz.read_uvarint(data, at, "test")
    assert n_esc >= 4

    def with_escapes(esc: bytes) -> bytes:
        return data[:at] + inrz.uvarint(len(esc)) + esc + data[pos + n_esc:]

    assert bitstream.decode(with_escapes(data[pos:pos + n_esc]), layout, a).keys() == tensors.keys()
    with pytest.raises(inrz.ContainerError, match="bits after its last escape"):
        bitstream.decode(with_escapes(data[pos:pos + n_esc] + bytes(4)), layout, a)
    with pytest.raises(inrz.ContainerError, match="escape stream"):
        bitstream.decode(with_escapes(data[pos:pos + n_esc - 4]), layout, a)


def arm_at_the_limit(tensors, a, shift, past: bool):
    """Context-model weights whose first row reaches sum |W| X + |b| = 2**53 - 1 (or 2**53) on every layer."""
    out = dict(tensors)
    names = [f"arm{i}" for i in range(a.arm_layers)] + ["armo"]
    for k, n in enumerate(names):
        W = np.zeros(np.shape(tensors[f"{n}.W"]), np.int64)
        b = np.zeros(np.shape(tensors[f"{n}.b"]), np.int64)
        W[0, 0], b[0] = (2 ** 25 - 1, 2 ** 28 - 1) if k == 0 else (2 ** 23 - 1, 2 ** 30 - 1)
        b[0] += past and k == len(names) - 1
        out[f"{n}.W"] = bitstream.from_ints(W, f"{n}.W", shift)
        out[f"{n}.b"] = bitstream.from_ints(b, f"{n}.b", shift)
    return out


def test_files_at_the_exactness_limit_decode_and_past_it_are_refused(monkeypatch):
    a, tensors, layout = small_model(3)
    at = arm_at_the_limit(tensors, a, 8, past=False)
    out = bitstream.decode(bitstream.encode(at, layout, a), layout, a)
    assert all(np.array_equal(out[k], at[k]) for k in at)
    past = arm_at_the_limit(tensors, a, 8, past=True)
    with pytest.raises(inrz.InrzError, match="exactness bound"):
        bitstream.encode(past, layout, a)  # the encoder will not write it ...
    monkeypatch.setattr(bitstream, "check_bounds", lambda *args: None)
    crafted = bitstream.encode(past, layout, a)  # ... so the test crafts one
    with pytest.raises(inrz.ContainerError, match="exactness bound"):
        bitstream.decode(crafted, layout, a)


def test_latents_past_the_limit_are_refused(monkeypatch):
    a, tensors, layout = small_model(4)
    for value, ok in ((armint.LATENT_LIMIT, True), (-armint.LATENT_LIMIT - 1, False)):
        t = dict(tensors)
        t["latents.0"] = t["latents.0"].copy()
        t["latents.0"][3, 4] = value
        if ok:
            out = bitstream.decode(bitstream.encode(t, layout, a), layout, a)
            assert np.array_equal(out["latents.0"], t["latents.0"])
            continue
        with pytest.raises(inrz.InrzError, match="exceed"):
            bitstream.encode(t, layout, a)
        monkeypatch.setattr(bitstream, "check_bounds", lambda *args: None)
        with pytest.raises(inrz.ContainerError, match="beyond"):
            bitstream.decode(bitstream.encode(t, layout, a), layout, a)


def _coded_grid(shape, scale, seed):
    """(grid, valid, layers, arch, words, escape bytes): a random context model and a grid of
    Laplace latents of `scale` coded with it."""
    rng = np.random.default_rng(seed)
    a = arch.Architecture(len(shape), 1, 1, 8, 8, 2, (8,), 0)
    weights = {}
    for i, (di, do) in enumerate(a.arm_dims()):
        name = f"arm{i}" if i < a.arm_layers else "armo"
        weights[f"{name}.W"], weights[f"{name}.b"] = rng.normal(size=(do, di)) * 0.4, rng.normal(size=do) * 0.2
    layers = bitstream.arm_layers(weights, 7, a)
    values = np.round(rng.laplace(size=shape) * scale).astype(np.int64)
    grid, valid = bitstream.fold(values, a)
    enc, esc = rangecoder.queue_encoder(), rangecoder.GolombWriter()
    coding.encode_grid(grid, layers, a.offsets, enc, esc, valid)
    return grid, valid, layers, a, enc.get_compressed().astype(np.uint32), esc.getvalue()


def _compiled_grid(grid, valid, layers, a, words, esc, memo=None):
    bits, state, bst = np.unpackbits(np.frombuffer(esc, np.uint8)), rangecoder.queue_start(words), np.zeros(1, np.int64)
    got = payload.grid(words, state, bits, bst, grid.shape, a.offsets, valid, coding.packed(layers), memo)
    payload.finish(words, state, bits, bst)
    return got


@SETTINGS
@given(shape=st.sampled_from([(1,), (7,), (2500,), (1, 1), (3, 7), (17, 23), (2, 3, 4), (6, 5, 7)]),
       scale=st.floats(0.05, 60.0), seed=st.integers(0, 2 ** 16))
def test_compiled_grid_decoder_equals_the_reference_decoder(shape, scale, seed):
    grid, valid, layers, a, words, esc = _coded_grid(shape, scale, seed)
    ref = reference.decode_grid(grid.shape, layers, a.offsets, rangecoder.QueueDecoder(words),
                                rangecoder.GolombReader(esc), valid)
    got = _compiled_grid(grid, valid, layers, a, words, esc)
    assert np.array_equal(got, ref) and np.array_equal(got, grid)


@pytest.mark.parametrize("shape, scale", [((40, 50), 0.0), ((40, 50), 0.4), ((3000,), 0.4), ((6, 7, 8), 1.5),
                                          ((30, 30), 40.0)])
def test_memoised_contexts_decode_as_the_context_model_does(shape, scale):
    """The kernel's shortcuts: one prediction for every all-zero context (all of them at scale
    0), and `rangedec`'s memo of the contexts already seen (most of them at small scales; at
    scale 40 many values do not fit the packing and bypass it). A memo whose every slot is
    taken by a key no context packs to (-1) finds nothing and stores nothing, so every point
    runs the context model: the same integers, equal to the reference decoder's."""
    grid, valid, layers, a, words, esc = _coded_grid(shape, scale, 7)
    ref = reference.decode_grid(grid.shape, layers, a.offsets, rangecoder.QueueDecoder(words),
                                rangecoder.GolombReader(esc), valid)
    memo = rangedec.memo_table(1 << 12)
    memoised = _compiled_grid(grid, valid, layers, a, words, esc, memo)
    assert (memo[:, 0] != 0).sum() >= 1  # the all-zero context, at least
    plain = _compiled_grid(grid, valid, layers, a, words, esc, np.full((16, 2), -1, np.int64))
    assert np.array_equal(memoised, ref) and np.array_equal(plain, ref) and np.array_equal(ref, grid)


# ---------------- the reader's torch-free parts equal the encoder's ----------------

@pytest.mark.parametrize("preset", sorted(arch.PRESETS))
@pytest.mark.parametrize("shape,channels,levels", [((300,), 1, None), ((40, 60), 3, None), ((9, 10, 11), 2, 2)])
def test_reader_shapes_equal_the_encoders(preset, shape, channels, levels):
    from inrz_c3 import fit, shapes

    a = arch.architecture(preset, shape, channels, levels)
    assert shapes.weight_shapes(a) == fit.weight_shapes(a)
    assert shapes.level_shapes(shape, a.levels) == upsample.level_shapes(shape, a.levels)


def test_reader_prior_equals_the_encoders():
    from inrz_c3 import prior, priorfile

    for preset in ("medium", "fast", "high"):
        for channels in (3, 1):
            a = arch.architecture(preset, (64, 96), channels)
            tag, weights = priorfile.base(preset, a)
            want_tag, want = prior.base(preset, a)
            assert tag == want_tag == prior.tag(preset, channels)
            assert weights.keys() == want.keys() and all(np.array_equal(weights[k], want[k]) for k in want)
    a = arch.architecture("high", (64, 96), 2)
    assert priorfile.base("high", a) is None is prior.base("high", a)  # no prior for this layout


@pytest.mark.parametrize("path", GOLDEN, ids=[p.name for p in GOLDEN])
def test_torch_free_renderer_equals_the_torch_renderer(path, host, monkeypatch):
    import torch

    from inrz_c3 import model, render

    seen = []
    monkeypatch.setattr(bitstream, "decode", lambda *a, **k: seen.append((payload.decode(*a, **k), a[2])) or seen[-1][0])
    inrz.decode(path.read_bytes(), host)
    tensors, a = seen[0]
    w = {k: np.asarray(v, np.float64) for k, v in tensors.items() if not k.startswith("latents") and k != "shifts"}
    levels = [np.asarray(tensors[f"latents.{l}"], np.float64) for l in range(a.levels)]
    periodic = (False,) * a.ndim
    got = render.render(w, levels, len(a.syn_dims()), a.res_layers, periodic)
    want = model.render({k: torch.from_numpy(v) for k, v in w.items()}, [torch.from_numpy(l) for l in levels],
                        a, periodic).numpy()
    assert np.abs(got - want).max() <= 1e-12 * max(1.0, np.abs(want).max())


@pytest.mark.parametrize("shape,periodic,channels", [((300,), (False,), 1), ((29, 41), (False, True), 3),
                                                     ((9, 11, 13), (False, False, True), 2)])
def test_renderer_equals_the_torch_renderer_on_every_grid(shape, periodic, channels):
    import torch

    from inrz_c3 import model, render
    from inrz_c3.fit import weight_shapes

    rng = np.random.default_rng(0)
    a = arch.Architecture(len(shape), channels, 4, 8, 8, 2, (12,), 2)
    w = {k: rng.normal(size=s) * 0.3 for k, s in weight_shapes(a).items()}
    levels = [np.round(rng.laplace(size=s) * 3) for s in upsample.level_shapes(shape, a.levels)]
    got = render.render(w, levels, len(a.syn_dims()), a.res_layers, periodic)
    want = model.render({k: torch.from_numpy(v) for k, v in w.items()}, [torch.from_numpy(l) for l in levels],
                        a, periodic, band=500).numpy()
    assert got.shape == want.shape and np.abs(got - want).max() <= 1e-12 * max(1.0, np.abs(want).max())


def test_renders_reusing_their_buffers_equal_fresh_ones_and_keep_no_alias():
    """The pyramid's per-thread buffers: a render with them equals one from fresh arrays, its
    output survives the next render, and a top stage made beforehand gives the same bits."""
    from inrz_c3 import latent_pyramid, render
    from inrz_c3.fit import weight_shapes

    rng = np.random.default_rng(1)
    shape = (37, 45)
    a = arch.Architecture(2, 3, 4, 8, 8, 2, (12,), 2)
    w = {k: rng.normal(size=s) * 0.3 for k, s in weight_shapes(a).items()}

    def draw():
        return [np.round(rng.laplace(size=s) * 3).astype(np.int64) for s in upsample.level_shapes(shape, a.levels)]

    first, second = draw(), draw()
    latent_pyramid.release_scratch()
    fresh = [render.synthesis(np.pad(latent_pyramid.pyramid(lv, w["up"], (False, False)), ((0, 0), (2, 2), (2, 2)), mode="edge"),
                              w, len(a.syn_dims()), a.res_layers) for lv in (first, second)]
    out1 = render.render(w, first, len(a.syn_dims()), a.res_layers, (False, False))
    kept = out1.copy()
    out2 = render.render(w, second, len(a.syn_dims()), a.res_layers, (False, False))
    assert np.array_equal(out1, kept) and not np.array_equal(out1, out2)
    top = latent_pyramid.top_stage(second[1:], shape, w["up"], (False, False))
    out3 = render.render(w, second, len(a.syn_dims()), a.res_layers, (False, False), top=top)
    assert np.array_equal(out2, out3)
    assert np.abs(out1 - fresh[0]).max() <= 1e-12 and np.abs(out2 - fresh[1]).max() <= 1e-12


def test_cached_tables_are_used_only_when_their_digest_is_the_pinned_one(tmp_path, monkeypatch):
    path = tmp_path / "tables.npy"
    monkeypatch.setattr(tables, "_cache_path", lambda: path)
    want = tables.compute_frequency_table()
    bad = want.copy()
    bad[0, 0, 0] += 1
    np.save(path, bad)
    tables.frequency_table.cache_clear()
    try:
        assert np.array_equal(tables.frequency_table(), want)  # the tampered copy is not used ...
        assert np.array_equal(np.load(path), want)  # ... and is replaced
    finally:
        tables.frequency_table.cache_clear()


@SETTINGS
@given(seed=st.integers(0, 2 ** 32 - 1), edits=st.integers(1, 6),
       how=st.sampled_from(["flip", "byte", "cut", "append", "insert"]))
def test_damaged_payloads_decode_or_raise_container_errors(seed, edits, how):
    """The compiled decoder's fuzz check: any damage is decoded or refused with a typed error."""
    import random

    rng = random.Random(seed)
    a, tensors, layout = small_model(seed % 4, shape=(12, 10), scale=[0.3, 3, 30, 3000][seed % 4])
    data = bytearray(bitstream.encode(tensors, layout, a))
    for _ in range(edits):
        i = rng.randrange(len(data))
        if how == "flip":
            data[i] ^= 1 << rng.randrange(8)
        elif how == "byte":
            data[i] = rng.randrange(256)
        elif how == "cut":
            del data[rng.randrange(len(data)):]
        elif how == "append":
            data += bytes(rng.randrange(256) for _ in range(rng.choice([1, 4, 8])))
        else:
            data[i:i] = bytes(rng.randrange(256) for _ in range(4))
        if not data:
            data = bytearray(b"\x02")
    try:
        out = bitstream.decode(bytes(data), layout, a)
    except inrz.ContainerError:
        return
    assert out.keys() == tensors.keys()


@pytest.mark.parametrize("path", GOLDEN[:2], ids=[p.name for p in GOLDEN[:2]])
def test_decode_is_bit_identical_with_1_and_2_threads(path, tmp_path):
    import subprocess
    import sys

    outputs = []
    for n in (1, 2):
        out = tmp_path / f"t{n}.png"
        env = {**__import__("os").environ, "NUMBA_NUM_THREADS": str(n), "OMP_NUM_THREADS": str(n),
               "OPENBLAS_NUM_THREADS": str(n), "MKL_NUM_THREADS": str(n)}
        subprocess.run([sys.executable, "-m", "inrz", "decompress", str(path), "-o", str(out), "--threads", str(n)],
                       check=True, env=env, capture_output=True)
        outputs.append(np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(out)).tobytes())
    assert outputs[0] == outputs[1]


# ---------------- other resolutions and windows ----------------

@pytest.mark.parametrize("shape,periodic,window", [((29, 41), (False, True), ((0, 7), (30, 41))),
                                                   ((29, 41), (False, False), ((5, 29), (0, 41))),
                                                   ((300,), (False,), ((100, 180),)),
                                                   ((9, 11, 13), (False, False, True), ((2, 9), (0, 4), (11, 13)))])
def test_a_window_at_native_scale_is_the_same_window_of_the_full_render(shape, periodic, window):
    from inrz_c3 import render, resample
    from inrz_c3.fit import weight_shapes

    rng = np.random.default_rng(1)
    a = arch.Architecture(len(shape), 2, 3, 8, 8, 2, (12,), 2)
    w = {k: rng.normal(size=s) * 0.3 for k, s in weight_shapes(a).items()}
    levels = [np.round(rng.laplace(size=s) * 3) for s in upsample.level_shapes(shape, a.levels)]
    full = render.render(w, levels, len(a.syn_dims()), a.res_layers, periodic)
    coords = inrz.grid_coordinates([hi - lo for lo, hi in window],
                                   [(-1 + 2 * lo / (n - 1), -1 + 2 * (hi - 1) / (n - 1)) for (lo, hi), n in zip(window, shape)])
    part = resample.render_at(w, levels, len(a.syn_dims()), a.res_layers, periodic,
                              resample.positions_from_coords(coords, shape))
    assert np.array_equal(part, full[(slice(None),) + tuple(slice(lo, hi) for lo, hi in window)])


def test_scaled_render_passes_through_the_native_samples():
    """At 2x - 1 samples per axis every other output sample sits on a native one; the stack there
    is the native stack (cubic weights (0, 1, 0, 0)), and the rest is interpolated between."""
    from inrz_c3 import render, resample
    from inrz_c3.fit import weight_shapes

    rng = np.random.default_rng(2)
    shape, periodic = (17, 23), (False, False)
    a = arch.Architecture(2, 3, 3, 8, 8, 2, (12,), 0)  # no residual convolutions: outputs are per point
    w = {k: rng.normal(size=s) * 0.3 for k, s in weight_shapes(a).items()}
    levels = [np.round(rng.laplace(size=s) * 3) for s in upsample.level_shapes(shape, a.levels)]
    full = render.render(w, levels, len(a.syn_dims()), 0, periodic)
    coords = inrz.grid_coordinates([2 * n - 1 for n in shape])
    fine = resample.render_at(w, levels, len(a.syn_dims()), 0, periodic, resample.positions_from_coords(coords, shape))
    assert fine.shape == (3, 33, 45) and np.array_equal(fine[:, ::2, ::2], full)
    between = fine[:, 1::2, 1::2]
    assert np.abs(between - full[:, :-1, :-1]).max() > 0  # something new between the samples


def test_cli_renders_c3_files_at_a_scale_and_in_a_region(tmp_path):
    from PIL import Image

    from inrz.cli.main import main as cli_main

    path = GOLDEN[0]
    outs = {}
    for name, extra in {"full": [], "half": ["--scale", "0.5"], "double": ["--scale", "2"],
                        "window": ["--region", "3:19,8:40"]}.items():
        out = tmp_path / f"{name}.png"
        assert cli_main(["decompress", str(path), "-o", str(out), *extra]) in (0, None)
        outs[name] = np.asarray(Image.open(out))
    h, w = outs["full"].shape[:2]
    assert outs["half"].shape[:2] == (h // 2, w // 2) and outs["double"].shape[:2] == (2 * h, 2 * w)
    assert np.array_equal(outs["window"], outs["full"][3:19, 8:40])


@pytest.mark.parametrize("path", GOLDEN, ids=[p.name for p in GOLDEN])
def test_golden_files_decode_to_the_same_bytes(path, host):
    """Stricter than test_golden's one level: the integer part is exact and the renderer sums in
    a fixed order with no fused or reordered operations, so the stored output comes back as is."""
    from PIL import Image

    expected = np.asarray(Image.open(path.with_name(path.name.replace(".inrz", ".expected.png"))))
    assert inrz.decode(path.read_bytes(), host).signal.data.tobytes() == expected.tobytes()


# ---------------- the finest level decoding beside the renderer's last stage ----------------

def test_meanwhile_runs_before_the_finest_level_and_changes_nothing(monkeypatch):
    from inrz import threads

    monkeypatch.setattr(payload, "OVERLAP_POINTS", 0)  # the small model's finest level on the helper thread
    monkeypatch.setattr(threads, "workers", lambda: 2)
    a, tensors, layout = small_model(3, shape=(40, 36))
    data = bitstream.encode(tensors, layout, a)
    seen = []
    out = bitstream.decode(data, layout, a, meanwhile=lambda t: seen.append(sorted(t)) or "done")
    assert out.pop("meanwhile") == "done"
    assert out.keys() == tensors.keys() and all(np.array_equal(out[k], tensors[k]) for k in tensors)
    assert seen == [sorted(k for k in tensors if k != "latents.0")]
    head, words = split(data)  # a damaged finest level is still the file's error, not the helper's
    with pytest.raises(inrz.ContainerError, match="range-coded"):
        bitstream.decode(head + words[:-2].astype("<u4").tobytes(), layout, a, meanwhile=lambda t: None)


@pytest.mark.parametrize("path", GOLDEN, ids=[p.name for p in GOLDEN])
def test_decode_with_the_last_stage_made_beside_the_finest_level_is_the_same(path, host, monkeypatch):
    from inrz import threads
    from inrz_c3 import render

    tops = []
    real = render.pyramid
    monkeypatch.setattr(render, "pyramid", lambda *a, top=None, **k: tops.append(top is not None) or real(*a, top=top, **k))
    monkeypatch.setattr(threads, "workers", lambda: 2)
    outs = []
    for points in (1 << 62, 0):  # sequential, then overlapped
        monkeypatch.setattr(payload, "OVERLAP_POINTS", points)
        outs.append(inrz.decode(path.read_bytes(), host).signal.data)
    assert np.array_equal(outs[0], outs[1])
    assert tops.count(True) == 2  # both renders completed the prepared stage (the images have no periodic axis)


def test_a_prepared_last_stage_is_not_used_for_changed_levels(host):
    """Tensors changed between unpack_payload and decode render as they now are."""
    from inrz.pipeline import decode as pipeline

    path = next(p for p in GOLDEN if "fast" in p.name)
    header, sections = inrz.container.read(path.read_bytes())
    components = pipeline.build_components(header, host)
    grid, d_in, d_out, meta, norm = pipeline.header_fields(header)
    backend = components["backend"]
    layout = pipeline.layout_of(backend, grid, d_in, d_out)

    def render(change) -> np.ndarray:
        tensors = backend.unpack_payload(sections, layout, None, None)
        change(tensors)
        ctx = inrz.EncodeContext(periodic=(False,) * len(grid))
        return backend.decode(tensors, inrz.grid_coordinates(grid), d_out, ctx)

    def bump(tensors):
        tensors["latents.2"][0, 0] += 5

    changed = render(bump)
    backend._top = None  # nothing prepared: the plain render of the same change
    tensors = backend.unpack_payload(sections, layout, None, None)
    backend._top = None
    bump(tensors)
    expected = backend.decode(tensors, inrz.grid_coordinates(grid), d_out, inrz.EncodeContext(periodic=(False,) * len(grid)))
    assert np.array_equal(changed, expected) and not np.array_equal(changed, render(lambda t: None))


# ---------------- the decode path and torch ----------------

DECODE_MODULES = ["arch", "armint", "backend", "bands", "bitstream", "coding", "context", "latent_pyramid", "payload",
                  "priorfile", "rangedec", "render", "resample", "shapes", "tables"]


@pytest.mark.parametrize("module", DECODE_MODULES)
def test_c3_decode_modules_import_no_torch_at_module_level(module):
    """What a c3 decode runs imports torch nowhere at import time (the encoder's modules do, lazily)."""
    import ast

    import inrz_c3

    tree = ast.parse((Path(inrz_c3.__file__).parent / f"{module}.py").read_text())
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    names = [a.name for n in top if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in top if isinstance(n, ast.ImportFrom)]
    assert not [n for n in names if n == "torch" or n.startswith("torch.")]
    local = [n.module for n in top if isinstance(n, ast.ImportFrom) and n.level == 1 and n.module]
    assert set(local) <= set(DECODE_MODULES), f"{module} imports an encoder module at import time: {local}"


def test_decompress_of_a_c3_file_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, inrz; inrz.decompress(open(sys.argv[1], 'rb').read()); "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code, str(GOLDEN[0])]).returncode == 0


def test_a_c3_decode_does_not_import_scipy_linalg():
    """numba probes for a BLAS by importing scipy.linalg on its first call (0.3-1 s of a fresh
    decode); `armint` loads numba's array support with it hidden (no c3 kernel uses BLAS)."""
    import subprocess
    import sys

    code = ("import sys, inrz; inrz.decompress(open(sys.argv[1], 'rb').read()); "
            "sys.exit(1 if 'scipy.linalg' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code, str(GOLDEN[0])]).returncode == 0


def test_the_decompress_command_on_a_c3_file_does_not_import_torch(tmp_path):
    """`inrz decompress` as a user runs it (its entry point, in a fresh process), writing the
    file, with torch never imported: checked when the interpreter exits."""
    import subprocess
    import sys

    code = ("import atexit, os, sys; from inrz.cli.main import main; "
            "atexit.register(lambda: os._exit(9) if 'torch' in sys.modules else None); "
            "sys.exit(main(sys.argv[1:]))")
    out = tmp_path / "out.png"
    done = subprocess.run([sys.executable, "-c", code, "decompress", str(GOLDEN[0]), "-o", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 0


def test_a_c3_decode_runs_cached_machine_code_without_importing_numba(tmp_path):
    """The decoder's kernels are `inrz.kernel(native=True)`: the first process compiles their
    entries into the cache; a later one loads them without importing numba (or torch) and
    decodes to the bytes numba's own path gives (INRZ_NATIVE=0)."""
    import os
    import subprocess
    import sys

    code = ("import atexit, os, sys; from inrz.cli.main import main; "
            "atexit.register(lambda: os._exit(9) if 'numba' in sys.modules and sys.argv[-1] == 'lean' else None); "
            "sys.exit(main(sys.argv[1:-1]))")
    outs = []
    for i, (native, check) in enumerate((("1", "warm"), ("1", "lean"), ("0", "numba"))):
        out = tmp_path / f"out{i}.png"
        done = subprocess.run([sys.executable, "-c", code, "decompress", str(GOLDEN[0]), "-o", str(out), check],
                              capture_output=True, text=True, env={**os.environ, "INRZ_NATIVE": native})
        assert done.returncode == 0, (check, done.stderr)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]


@pytest.mark.parametrize("scale", [1.0, 5.0])
def test_native_decode_does_not_depend_on_the_modalitys_coordinate_scale(scale):
    """Audio's coordinates run over [-5, 5]: read as [-1, 1] positions, the native grid was
    'resampled' at the wrong places and decoded to noise (SNR -1 dB on speech). A native decode
    renders the native grid whatever the coordinates' scale, and a region maps by the modality's
    own coordinates."""
    from inrz import EncodeContext, PluginHost, grid_coordinates
    from inrz_c3 import render

    backend = PluginHost().create("backend", {"id": "c3", "preset": "fast"})
    grid, rng = (3000,), np.random.default_rng(0)
    layout = backend.layout(grid, 1, 1)
    tensors = {k: (rng.integers(-3, 4, s) if k.startswith("latents") else rng.normal(0, 0.3, s))
               for k, s in layout.items() if k != "shifts"}

    def coordinates(g):
        return scale * grid_coordinates(g)

    ctx = EncodeContext(coordinates=coordinates)
    out = backend.decode(tensors, coordinates(grid), 1, ctx)
    a = backend.model_arch(grid, 1)
    w = {k: np.asarray(v, np.float64) for k, v in tensors.items() if not k.startswith("latents")}
    levels = [np.asarray(tensors[f"latents.{l}"], np.float64) for l in range(a.levels)]
    expected = np.moveaxis(render.render(w, levels, len(a.syn_dims()), a.res_layers, (False,)), 0, -1)
    np.testing.assert_array_equal(out, expected)
    window = coordinates(grid)[1000:1500]  # a region, in the modality's coordinates
    np.testing.assert_allclose(backend.decode(tensors, window, 1, ctx), expected[1000:1500], atol=1e-12)


def test_a_native_decode_computes_the_coordinates_once(host, monkeypatch):
    """The core hands the backend its native coordinates and returns the same array when the
    backend asks for that grid again (c3 compares them), instead of computing them twice."""
    from inrz.signal import modality

    calls = []
    real = modality.grid_coordinates
    monkeypatch.setattr(modality, "grid_coordinates", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    path = GOLDEN[0]
    full = inrz.decode(path.read_bytes(), host).signal.data
    assert len(calls) == 1
    window = inrz.decode(path.read_bytes(), host, region=[(2, 10), (3, 9)]).signal.data  # another grid: its own
    assert len(calls) == 3 and np.array_equal(window, full[2:10, 3:9])


def test_concurrent_decodes_in_threads_equal_one_at_a_time(host, monkeypatch):
    """Four threads decoding at once (zarr's and Dask's case), each finest level on the helper
    thread and each top stage on the renderer's pool: the images of decoding one at a time."""
    from concurrent.futures import ThreadPoolExecutor

    from inrz import threads

    monkeypatch.setattr(payload, "OVERLAP_POINTS", 0)
    monkeypatch.setattr(threads, "workers", lambda: 2)
    files = [p.read_bytes() for p in GOLDEN] * 2
    alone = [inrz.decode(d, host).signal.data for d in files]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda d: inrz.decode(d, host).signal.data, files))
    assert all(np.array_equal(a, b) for a, b in zip(alone, together))


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="no fork on this platform")
def test_a_forked_child_decodes_after_the_parent_started_its_pools(host, monkeypatch):
    """multiprocessing's and Dask's fork start: the parent's worker threads do not exist in the
    child, whose decode used to wait forever on the pools it inherited."""
    import multiprocessing

    from inrz import threads

    monkeypatch.setattr(payload, "OVERLAP_POINTS", 0)
    monkeypatch.setattr(threads, "workers", lambda: 2)
    data = GOLDEN[0].read_bytes()
    expected = inrz.decode(data, host).signal.data  # the parent's pools now exist
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=lambda: queue.put(inrz.decode(data, host).signal.data.tobytes()))
    child.start()
    child.join(60)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child's decode did not finish within 60 s")
    assert child.exitcode == 0 and queue.get(timeout=5) == expected.tobytes()
