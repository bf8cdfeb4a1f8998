"""The compiled hot loops of the error-bounded residual (issue 24): the interpolation kernel
against the numpy predictor it replaced (the oracle), the binary context coder's round trip and
strict stream end, GIL release, and the same bytes from many threads at once."""
from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from inrz import ContainerError
from inrz.archive.config import canonical, decode_array, encode_array
from inrz.coding import contest, ctxkernel, errorbound, interp3, multidim, predictors
from inrz.coding.lattice3 import view3

from .conftest import data_file

SMALL = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=12)


@settings(max_examples=150, deadline=None)
@given(shape=SMALL, seed=st.integers(0, 2**32 - 1), step=st.floats(1e-3, 10.0), cubic=st.booleans(),
       masked=st.booleans())
def test_compiled_interpolation_equals_the_numpy_predictor(shape, seed, step, cubic, masked):
    rng = np.random.default_rng(seed)
    r = np.cumsum(rng.normal(size=shape), axis=-1)
    keep = rng.random(shape) > 0.2 if masked else None
    want_k, want_rec = predictors._interpolate(r, step, cubic, None, keep)
    k, rec = interp3.encode(r, step, cubic, keep)
    assert np.array_equal(k, want_k) and np.array_equal(rec, want_rec)  # bit for bit
    assert np.array_equal(interp3.decode(k, step, cubic), rec)


@settings(max_examples=150, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=5, min_side=1, max_side=9), seed=st.integers(0, 2**32 - 1),
       step=st.floats(1e-3, 10.0), masked=st.booleans())
def test_compiled_ranking_equals_the_numpy_ranking(shape, seed, step, masked):
    """Same order, same costs, and the first one's corrections and reconstruction bit for bit."""
    rng = np.random.default_rng(seed)
    r = np.cumsum(rng.normal(size=shape), axis=-1)
    keep = rng.random(shape) > 0.2 if masked else None
    got, want = contest.ranked(r, step, keep), contest.ranked_numpy(r, step, keep)
    assert [p for p, _ in got] == [p for p, _ in want]
    assert got[0][1] is not None
    assert np.array_equal(got[0][1][0], want[0][1][0]) and np.array_equal(got[0][1][1], want[0][1][1])


@settings(max_examples=60, deadline=None)
@given(shape=hnp.array_shapes(min_dims=3, max_dims=3, min_side=1, max_side=9), seed=st.integers(0, 2**32 - 1),
       cubic=st.booleans())
def test_planes_are_interpolated_each_on_its_own(shape, seed, cubic):
    r = np.cumsum(np.random.default_rng(seed).normal(size=shape), axis=-1)
    k, rec = interp3.encode(r, 0.05, cubic, None, slices=True)
    assert np.array_equal(interp3.decode(k, 0.05, cubic, slices=True), rec)
    view = r.reshape(view3(r.shape))
    for i, plane in enumerate(view):  # the same as coding each plane alone
        alone_k, alone_rec = interp3.encode(np.ascontiguousarray(plane), 0.05, cubic, None)
        assert np.array_equal(k.reshape(view.shape)[i], alone_k) and np.array_equal(rec.reshape(view.shape)[i], alone_rec)
    assert np.abs(rec - r).max() <= 0.05 * 0.5 + 1e-12


def test_views_drop_unit_axes_and_merge_leading_ones():
    assert view3((5,)) == (1, 1, 5) and view3((1, 4, 1, 6)) == (1, 4, 6)
    assert view3((2, 3, 4, 5)) == (6, 4, 5) and view3((1,)) == (1, 1, 1)


@settings(max_examples=200, deadline=None)
@given(k=hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=5, min_side=1, max_side=7),
                    elements=st.one_of(st.integers(-3, 3), st.integers(-2**62, 2**62))))
def test_the_context_coder_round_trips_any_corrections(k):
    data = ctxkernel.encode(k)
    assert np.array_equal(ctxkernel.decode(data, k.shape), k)


@settings(max_examples=60, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=19), seed=st.integers(0, 2**32 - 1),
       step=st.floats(0.01, 10.0), cubic=st.booleans(), tune=st.integers(1, len(interp3.TUNES) - 1),
       slices=st.booleans())
def test_level_wise_steps_round_trip_within_every_levels_step(shape, seed, step, cubic, tune, slices):
    r = np.cumsum(np.random.default_rng(seed).normal(0, 1, shape), axis=-1)
    k, rec = interp3.encode(r, step, cubic, None, slices, tune)
    assert np.array_equal(interp3.decode(k, step, cubic, slices, tune), rec)
    assert np.abs(r - rec).max() <= step / 2 * (1 + 1e-12)  # no level's step exceeds the uniform one


@settings(max_examples=80, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=9), seed=st.integers(0, 2**32 - 1),
       step=st.floats(1e-3, 10.0), axes=st.integers(1, 15))
def test_compiled_lorenzo_equals_the_numpy_one(shape, seed, step, axes):
    r = np.cumsum(np.random.default_rng(seed).normal(size=shape), axis=-1) * 3
    axes &= (1 << len(shape)) - 1
    got = predictors.Predictor("lorenzo", axes, True).encode(r, step)
    want = predictors.Predictor("lorenzo", axes, False).encode(r, step)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_level_steps_are_finer_on_coarse_levels_and_uniform_for_pair_0():
    assert np.array_equal(interp3.level_steps(0.3), np.full(interp3.LEVELS, 0.3))
    steps = interp3.level_steps(0.3, 1)  # alpha 1.25, beta 1.5
    assert steps[0] == 0.3 and steps[1] == 0.3 / 1.25 and steps[2] == 0.3 / 1.5 and steps[-1] == 0.3 / 1.5
    assert (np.diff(steps) <= 0).all()


def test_the_best_effort_writes_the_smallest_of_its_contenders():
    t2m = np.load(data_file("climate", "era5_t2m_2019-03_uk.npz"))["t2m"][:16, :24, :24]
    r = t2m.astype(np.float64) - t2m.flat[0]
    header, best = errorbound.residual_sections(r, np.zeros_like(r), 0.5, effort="best")
    step = header["step"]
    ranked = contest.ranked_costs(r, step, None)
    sizes = []
    for p, _ in contest.contenders(ranked, "best", r.size):
        if p == contest.MULTIDIM:
            sizes.append(1 + len(multidim.encode(r, step, None)[0]))
        else:
            sizes.append(len(errorbound._section(p, p.encode(r, step)[0])))
    assert len(sizes) == 5 and len(best["residual"]) == min(sizes)
    first = ranked[0][0]
    tuned = dataclasses.replace(first, tune=contest.TUNED)
    plain_size = len(errorbound._section(first, first.encode(r, step)[0]))
    assert len(errorbound._section(tuned, tuned.encode(r, step)[0])) < plain_size  # level-wise steps pay here


@pytest.mark.parametrize("bound, multi", [(0.5, True), (0.2, False), (0.05, False)])
def test_the_default_writes_the_first_ranked_or_multidim_below_the_gate(bound, multi):
    """effort "fast" codes the first ranked predictor, except where that interpolates a large
    enough chunk ranked at fewer than MULTIDIM_BELOW bits per value: multi-dimensional
    interpolation then (0.5 K: linear at 0.65 bits; 0.2 K: cubic at 1.35; 0.05 K: Lorenzo)."""
    t2m = np.load(data_file("climate", "era5_t2m_2019-03_uk.npz"))["t2m"][:16, :24, :24]
    r = t2m.astype(np.float64) - t2m.flat[0]
    header, fast = errorbound.residual_sections(r, np.zeros_like(r), bound)
    step = header["step"]
    ranked, values = contest.ranked_counted(r, step, None)
    first, bits = ranked[0][0], ranked[0][2] / values
    assert (first.kind != "lorenzo" and r.size >= contest.TUNE_FROM and bits < contest.MULTIDIM_BELOW) == multi
    if multi:
        assert fast["residual"] == bytes([errorbound.TAG_MULTIDIM]) + multidim.encode(r, step, None)[0]
    else:
        assert fast["residual"] == errorbound._section(first, first.encode(r, step)[0])
    assert np.abs(errorbound.decode(np.zeros_like(r), header, fast) - r).max() <= bound


@pytest.mark.parametrize("head, message", [
    (bytes([errorbound.TAG_TUNED, 2, 1, 1]), "level-wise"),  # Lorenzo has no levels
    (bytes([errorbound.TAG_TUNED, 0, 0, 0]), "level-wise"),  # pair 0 is written as tag 0x12
    (bytes([errorbound.TAG_TUNED, 1, 0, len(interp3.TUNES)]), "level-wise"),
    (bytes([errorbound.TAG_TUNED, 1, 0]), "level-wise")])
def test_a_level_wise_section_naming_no_known_steps_is_refused(head, message):
    info = {"max_abs_error": 0.5, "step": 0.999, "exceptions": 0}
    with pytest.raises(ContainerError, match=message):
        errorbound.decode(np.zeros((4, 4)), info, {"residual": head + b"\0\0\0\0\0"})


def test_the_class_table_is_the_class_function():
    """The kernel looks a context's class up below TABLED (and computes it above): the same class."""
    for cells in (2, 6, 18):
        row = ctxkernel._table_row(cells)
        assert [int(c) for c in ctxkernel.CLASS_OF[row]] == [ctxkernel._class(a, cells) for a in range(ctxkernel.TABLED)]
    assert ctxkernel._class(ctxkernel.TABLED, 18) >= ctxkernel.CLASS_OF[2, -1]


@pytest.fixture(scope="module")
def stream():
    t2m = np.load(data_file("climate", "era5_t2m_2019-03_uk.npz"))["t2m"][:6]
    k, _ = interp3.encode(t2m.astype(np.float64) - t2m.flat[0], 0.02, True, None)
    return k, ctxkernel.encode(k)


@pytest.mark.parametrize("edit, message", [
    (lambda d: d[:-1], "ends before"), (lambda d: d[:len(d) // 2], "ends before"),
    (lambda d: d + b"\0", "after its last symbol"), (lambda d: d + b"\x12\x34", "after its last symbol"),
    (lambda d: b"\x01" + d[1:], "does not start"), (lambda d: b"", "does not start")])
def test_a_cut_or_padded_stream_is_refused(stream, edit, message):
    k, data = stream
    with pytest.raises(ContainerError, match=message):
        ctxkernel.decode(edit(data), k.shape)


def test_the_kernels_release_the_gil():
    for kernel in (ctxkernel._code, interp3._run):
        assert kernel.targetoptions.get("nogil") is True


def test_many_threads_code_chunks_to_the_same_bytes_as_one():
    t2m = np.load(data_file("climate", "era5_t2m_2019-03_uk.npz"))["t2m"]
    chunks = [np.ascontiguousarray(t2m[i:i + 6]) for i in range(0, 96, 6)]
    config = canonical({"preset": "fast", "max_abs_error": 0.05})
    alone = [encode_array(c, config) for c in chunks]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda c: encode_array(c, config), chunks))
        back = list(pool.map(lambda d: decode_array(d, chunks[0].size, chunks[0].dtype), together))
    assert together == alone
    for b, c in zip(back, chunks):
        assert np.abs(b.astype(np.float64) - c).max() <= 0.05


def test_the_encoder_writes_the_compiled_tag():
    x = np.load(data_file("climate", "era5_t2m_2019-03_uk.npz"))["t2m"][0]
    header, sections = errorbound.residual_sections(x, np.full(x.shape, x.flat[0]), 0.1)
    assert sections["residual"][0] == errorbound.TAG == 0x12


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("masked", [False, True])
def test_compiled_miss_check_equals_the_numpy_one(dtype, masked):
    """Positions beyond the bound after the cast to the chunk's dtype (NaN and overflow too)."""
    from inrz.signal.ndarray import cast
    rng = np.random.default_rng(3)
    x = rng.normal(size=(30, 40)).astype(dtype)
    x[0, 0], x[1, 1] = np.nan, np.finfo(dtype).max
    approx = np.full(x.shape, 0.5, dtype)
    rec = ((x.astype(np.float64) - 0.5) + rng.normal(scale=0.01, size=x.shape)).T.copy().T  # not C-ordered
    keep = rng.random(x.shape) > 0.3 if masked else None
    for bound in (0.001, 0.01, 0.03):
        ok = errorbound.abs_diff(cast(approx.astype(np.float64) + rec, x.dtype), x) <= bound
        want = np.flatnonzero(~ok.ravel() if keep is None else (keep & ~ok).ravel())
        assert np.array_equal(errorbound._misses(x, approx, rec, bound, keep), want)


def test_the_ranking_counts_the_values_its_costs_are_on():
    """The gate of the default's multi-dimensional interpolation divides the first cost by the
    values ranked: the central block, or the whole array where the block could not tell the
    predictors apart (a flat block), on the compiled and the numpy path alike."""
    rng = np.random.default_rng(0)
    smooth = np.cumsum(rng.normal(size=(80, 70, 60)), axis=0)  # 336,000 values > SAMPLE
    ranked, values = contest.ranked_counted(smooth, 0.5, None)
    block = contest.centre(smooth.shape)
    assert values == smooth[block].size < smooth.size and len({c for *_, c in ranked}) > 1
    flat = smooth.copy()
    flat[block] = 0.0  # the block ranks every predictor alike: the whole array is ranked
    assert contest.ranked_counted(flat, 0.5, None)[1] == flat.size
    four = np.cumsum(rng.normal(size=(4, 5, 6, 7)), axis=3)  # four long axes: numpy's path
    assert contest.ranked_counted(four, 0.5, None)[1] == four.size
    assert [p for p, _ in contest.ranked(four, 0.5, None)] == [p for p, _ in contest.ranked_numpy(four, 0.5, None)]
