"""The multi-dimensional interpolation residual (`inrz.coding.multidim`, tag 0x14): round trips
within the bound on any shape, the decoder's output equal to the encoder's reconstruction bit for
bit, masked values ignored, every damaged payload refused as a `ContainerError` (and nothing else),
the same bytes from many threads, and smaller streams than the 1-D predictors on real data."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from inrz import ContainerError
from inrz.coding import contest, ctxkernel, errorbound, mdctx, mdpredict, multidim
from inrz.coding.lattice3 import levels3, view3

from .conftest import data_file

SHAPES = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=9)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def values(shape, seed, smooth):
    rng = np.random.default_rng(seed)
    if not smooth:
        return rng.normal(0, 5, shape)
    r = rng.normal(size=shape)
    for a in range(len(shape)):
        r = np.cumsum(r, axis=a)
    return r / max(1, len(shape))


@FAST
@given(shape=SHAPES, seed=st.integers(0, 2**32 - 1), step=st.floats(1e-3, 10.0), smooth=st.booleans(),
       masked=st.booleans())
def test_round_trip_within_the_bound_and_bit_for_bit(shape, seed, step, smooth, masked):
    r = values(shape, seed, smooth)
    keep = np.random.default_rng(seed + 1).random(shape) > 0.3 if masked else None
    payload, rec = multidim.encode(r, step, keep)
    assert rec.shape == r.shape and rec.dtype == np.float64
    assert np.array_equal(multidim.decode(payload, shape, step), rec)  # bit for bit
    inside = np.ones(shape, bool) if keep is None else keep
    assert (np.abs(r - rec)[inside] <= step / 2 * (1 + 1e-9)).all()


@FAST
@given(shape=SHAPES, seed=st.integers(0, 2**32 - 1))
def test_masked_values_do_not_reach_the_stream(shape, seed):
    """Where keep is False the correction is 0: whatever the value there (NaN, inf, huge), the
    payload and the reconstruction are the same."""
    rng = np.random.default_rng(seed)
    r = values(shape, seed, True)
    keep = rng.random(shape) > 0.4
    junk = r.copy()
    junk[~keep] = rng.choice([np.nan, np.inf, -np.inf, 1e300, -7.0], size=int((~keep).sum()))
    want, got = multidim.encode(r, 0.05, keep), multidim.encode(junk, 0.05, keep)
    assert want[0] == got[0] and np.array_equal(want[1], got[1])
    assert np.isfinite(got[1]).all()


def test_empty_and_single_values():
    for shape in [(0,), (3, 0, 2)]:
        payload, rec = multidim.encode(np.zeros(shape), 0.1, None)
        assert rec.shape == shape and np.array_equal(multidim.decode(payload, shape, 0.1), rec)
    payload, rec = multidim.encode(np.array([[[2.5]]]), 0.1, None)
    assert abs(rec.item() - 2.5) <= 0.05 and multidim.decode(payload, (1, 1, 1), 0.1).item() == rec.item()


def test_every_layout_and_steps_round_trip():
    r = values((5, 12, 17), 7, True)
    for variant in multidim._variants(view3(r.shape)):
        for tune in range(len(mdpredict.TUNES)):
            payload, rec = multidim._run(r, None, 0.05, variant | tune << 2)
            assert np.array_equal(multidim.decode(payload, r.shape, 0.05), rec)
            assert np.abs(r - rec).max() <= 0.025 * (1 + 1e-9)


def test_level_steps_never_exceed_the_step():
    for tune in range(len(mdpredict.TUNES)):
        steps = mdpredict.level_steps(0.3, tune)
        assert steps[0] == 0.3 and (np.diff(steps) <= 0).all() and (steps > 0).all()
    assert (mdpredict.level_steps(0.3, 0) == 0.3).all()


def test_planes_share_one_stream():
    """The layout of planes codes them one after the other in one stream, one set of models."""
    r = values((6, 20, 30), 3, True)
    payload, rec = multidim._run(r, None, 0.02, 2)
    alone = sum(len(multidim._run(r[i:i + 1], None, 0.02, 0)[0]) for i in range(6))
    assert len(payload) < alone
    assert np.array_equal(rec[2], multidim._run(r[2:3], None, 0.02, 0)[1][0])  # the same predictions


def test_decoded_neighbours_are_decoded_before():
    """Every neighbour a context reads (`mdctx.neighbours`, and the same category 2h before)
    comes earlier in the coding order, on shapes with short and unit axes."""
    for shape in [(5, 9, 7), (1, 6, 11), (2, 3, 17), (9, 1, 1), (4, 4, 4)]:
        order = np.full(shape, -1)
        order[0, 0, 0] = 0
        t = 1
        h = 1 << levels3(*shape)
        strides = (shape[1] * shape[2], shape[2], 1)
        offs, dirs = np.empty(27, np.int64), np.empty((27, 3), np.int64)
        while h > 1:
            h //= 2
            for mask in mdctx.CAT_MASKS:
                if any(mask >> a & 1 and shape[a] <= h for a in range(3)):
                    continue
                count = mdctx.neighbours(mask, h, np.array(shape), strides, offs, dirs)
                for i in np.ndindex(*[len(range(h if mask >> a & 1 else 0, shape[a], 2 * h)) for a in range(3)]):
                    p = [(h if mask >> a & 1 else 0) + 2 * h * i[a] for a in range(3)]
                    for j in range(count):
                        q = [p[a] + dirs[j, a] * h for a in range(3)]
                        if all(0 <= q[a] < shape[a] for a in range(3)):
                            assert 0 <= order[tuple(q)] < t
                    for a in range(3):
                        if p[a] >= 2 * h:
                            q = list(p)
                            q[a] -= 2 * h
                            assert 0 <= order[tuple(q)] < t
                    order[tuple(p)] = t
                    t += 1
        assert (order >= 0).all() and t == np.prod(shape)


def test_the_class_table_is_the_class_function():
    for cells in range(1, mdctx.MAXCELLS):
        assert [int(c) for c in mdctx.CLASS_OF[cells]] == [ctxkernel._class(a, cells) for a in range(mdctx.TABLED)]
    assert mdctx.klass(mdctx.TABLED, 29) == ctxkernel._class(mdctx.TABLED, 29)


@pytest.fixture(scope="module")
def coded():
    r = values((7, 10, 13), 11, True)
    payload, rec = multidim.encode(r, 0.01, None)
    return payload, rec


@FAST
@given(cut=st.integers(1, 10**6))
def test_a_cut_payload_is_refused(coded, cut):
    payload, rec = coded
    with pytest.raises(ContainerError):
        multidim.decode(payload[:max(0, len(payload) - cut)], rec.shape, 0.01)


@FAST
@given(pad=st.binary(min_size=1, max_size=20))
def test_a_padded_payload_is_refused(coded, pad):
    payload, rec = coded
    with pytest.raises(ContainerError):
        multidim.decode(payload + pad, rec.shape, 0.01)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_payloads_raise_container_errors_only(coded, data):
    payload, rec = coded
    damaged = bytearray(payload)
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(damaged) - 1))
        damaged[i] ^= 1 << data.draw(st.integers(0, 7))
    try:
        out = multidim.decode(bytes(damaged), rec.shape, 0.01)
    except ContainerError:
        return
    assert out.shape == rec.shape and out.dtype == np.float64


@FAST
@given(payload=st.binary(max_size=64), shape=SHAPES)
def test_random_bytes_raise_container_errors_only(payload, shape):
    try:
        out = multidim.decode(payload, shape, 0.1)
    except ContainerError:
        return
    assert out.shape == shape


@pytest.mark.parametrize("head", [3, 1 << 2 | 3, len(mdpredict.TUNES) << 2, 0x80, 0xFF])
def test_a_head_naming_no_layout_or_steps_is_refused(coded, head):
    payload, rec = coded
    with pytest.raises(ContainerError, match="layout or steps"):
        multidim.decode(bytes([head]) + payload[1:], rec.shape, 0.01)


def test_a_layout_for_another_shape_is_refused(coded):
    payload, _ = coded
    with pytest.raises(ContainerError, match="layout or steps"):
        multidim.decode(bytes([2]) + payload[1:], (30, 10, 13), 0.01)  # planes only for a thin first axis
    with pytest.raises(ContainerError):
        multidim.decode(b"", (3, 4), 0.01)
    with pytest.raises(ContainerError):
        multidim.decode(b"\0\0", (0, 4), 0.01)


def test_the_kernel_releases_the_gil():
    assert multidim._code.targetoptions.get("nogil") is True


def test_threads_code_to_the_same_bytes_as_one():
    arrays = [values((20, 16, 18), seed, True) for seed in range(6)]
    alone = [multidim.encode(a, 0.02, None)[0] for a in arrays]
    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(lambda a: multidim.encode(a, 0.02, None)[0], arrays))
        back = list(pool.map(lambda p: multidim.decode(p, arrays[0].shape, 0.02), together))
    assert together == alone
    for a, b in zip(arrays, back):
        assert np.abs(a - b).max() <= 0.01 * (1 + 1e-9)


def test_real_data_codes_smaller_than_the_best_one_dimensional_predictor():
    t2m = np.load(data_file("climate", "era5_t2m_2019-03_uk.npz"))["t2m"][:48].astype(np.float64)
    r = t2m - t2m.min()
    step = 2 * 1e-2 * float(np.ptp(r)) * (1 - errorbound.MARGIN)
    payload, rec = multidim.encode(r, step, None)
    assert np.array_equal(multidim.decode(payload, r.shape, step), rec)
    assert np.abs(rec - r).max() <= step / 2 * (1 + 1e-9)
    best = min(len(ctxkernel.encode(done[0] if done else p.encode(r, step, None)[0]))
               for p, done in contest.ranked(r, step, None))
    assert len(payload) < 0.95 * best
