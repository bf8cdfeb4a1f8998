"""The batched SIREN, its hand-written chunked gradient, patches, and COIN's architectures.

`loss_and_grad` is checked against torch autograd through `forward` in float64, so any
mistake in the backward pass (a missing w0, a wrong transpose, a chunk dropped at the
end) shows up far above rounding error.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inrz import SpecError
from inrz_coin.backend import ARCHITECTURES, LEGACY_PRESETS, Coin, architecture_for_bpp
from inrz_coin import model as siren
from inrz.signal import patches

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def random_problem(B: int, N: int, shape: siren.SirenShape, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    params = [(W.double(), b.double()) for W, b in siren.init_params(shape, B, gen)]
    params = [(W + 0.01 * torch.randn(W.shape, generator=gen, dtype=torch.float64),  # instances differ
               b + 0.01 * torch.randn(b.shape, generator=gen, dtype=torch.float64)) for W, b in params]
    x = torch.rand(B, N, shape.d_in, generator=gen, dtype=torch.float64) * 2 - 1  # (B, N, d_in)
    y = torch.rand(B, N, shape.d_out, generator=gen, dtype=torch.float64)  # (B, N, d_out)
    return params, x, y


def autograd_reference(params: siren.Params, x: torch.Tensor, y: torch.Tensor, w0: float):
    leaves = [(W.clone().requires_grad_(), b.clone().requires_grad_()) for W, b in params]
    loss = ((siren.forward(leaves, x, w0) - y) ** 2).mean(dim=(1, 2))  # (B,)
    loss.sum().backward()  # instances are independent: each gets the gradient of its own loss
    return loss.detach(), [(W.grad, b.grad) for W, b in leaves]


@pytest.mark.parametrize("B", [1, 3])
@pytest.mark.parametrize("chunk", [7, 32, 50, 97, 1000])
@pytest.mark.parametrize("depth,w0", [(1, 30.0), (3, 30.0), (2, 5.0)])
def test_loss_and_grad_equals_autograd(B, chunk, depth, w0):
    shape = siren.SirenShape(d_in=2, d_out=3, depth=depth, width=12, w0=w0)
    params, x, y = random_problem(B, 97, shape, seed=B * 100 + chunk)
    loss, grads = siren.loss_and_grad(params, x, y, w0, chunk)
    ref_loss, ref_grads = autograd_reference(params, x, y, w0)
    assert loss.shape == (B,) and loss.dtype == torch.float64
    torch.testing.assert_close(loss, ref_loss, rtol=1e-10, atol=1e-12)
    assert len(grads) == len(ref_grads) == depth + 1
    for layer, ((gW, gb), (rW, rb)) in enumerate(zip(grads, ref_grads)):
        assert gW.shape == rW.shape and gb.shape == rb.shape, layer
        torch.testing.assert_close(gW, rW, rtol=1e-9, atol=1e-11, msg=f"layer {layer} W")
        torch.testing.assert_close(gb, rb, rtol=1e-9, atol=1e-11, msg=f"layer {layer} b")


def test_loss_and_grad_float32_matches_autograd():
    shape = siren.SirenShape(d_in=3, d_out=1, depth=2, width=16)
    params, x, y = random_problem(2, 130, shape, seed=5)
    ref_loss, ref_grads = autograd_reference(params, x, y, shape.w0)
    params32 = [(W.float(), b.float()) for W, b in params]
    loss, grads = siren.loss_and_grad(params32, x.float(), y.float(), shape.w0, 64)
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss.double(), ref_loss, rtol=1e-4, atol=1e-6)
    for (gW, gb), (rW, rb) in zip(grads, ref_grads):
        torch.testing.assert_close(gW.double(), rW, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(gb.double(), rb, rtol=1e-4, atol=1e-5)


def test_loss_and_grad_leaves_params_untouched():
    shape = siren.SirenShape(2, 3, 2, 8)
    params, x, y = random_problem(2, 40, shape)
    before = [(W.clone(), b.clone()) for W, b in params]
    siren.loss_and_grad(params, x, y, shape.w0, 16)
    assert all(torch.equal(W, W0) and torch.equal(b, b0) for (W, b), (W0, b0) in zip(params, before))


def test_predict_equals_forward_in_chunks():
    shape = siren.SirenShape(2, 3, 3, 10)
    params, x, _ = random_problem(3, 101, shape)
    torch.testing.assert_close(siren.predict(params, x, shape.w0, chunk=17), siren.forward(params, x, shape.w0))


def test_init_params_shapes_and_identical_instances():
    shape = siren.SirenShape(d_in=2, d_out=3, depth=4, width=9)
    params = siren.init_params(shape, 5, torch.Generator().manual_seed(0))
    assert [(tuple(W.shape), tuple(b.shape)) for W, b in params] == [
        ((5, o, i), (5, o)) for i, o in shape.layer_dims()]
    for W, b in params:
        assert all(torch.equal(W[k], W[0]) and torch.equal(b[k], b[0]) for k in range(5))
        assert W.is_contiguous() and W.stride(0) == W[0].numel()  # real copies: the fit updates each in place
    single = siren.init_params(shape, 1, torch.Generator().manual_seed(0))
    assert all(torch.equal(W[0], W1[0]) for (W, _), (W1, _) in zip(params, single))  # init ignores the batch


def test_init_params_deterministic_per_seed_and_bounded():
    shape = siren.SirenShape(d_in=2, d_out=1, depth=3, width=16, w0=30.0)
    a = siren.init_params(shape, 2, torch.Generator().manual_seed(42))
    b = siren.init_params(shape, 2, torch.Generator().manual_seed(42))
    c = siren.init_params(shape, 2, torch.Generator().manual_seed(43))
    assert all(torch.equal(p, q) for pa, pb in zip(a, b) for p, q in zip(pa, pb))
    assert not torch.equal(a[0][0], c[0][0])
    for layer, ((W, bias), (fan_in, _)) in enumerate(zip(a, shape.layer_dims())):
        bound = 1 / fan_in if layer == 0 else (6 / fan_in) ** 0.5 / shape.w0
        assert W.abs().max() <= bound and bias.abs().max() <= bound


def test_siren_shape_counts_parameters():
    shape = siren.SirenShape(d_in=2, d_out=3, depth=10, width=28)
    assert shape.layer_dims() == [(2, 28)] + [(28, 28)] * 9 + [(28, 3)]
    assert shape.num_params() == 2 * 28 + 28 + 9 * (28 * 28 + 28) + 28 * 3 + 3


@st.composite
def grids(draw):
    d = draw(st.integers(1, 3))
    grid = draw(st.lists(st.integers(1, 9), min_size=d, max_size=d))
    patch = draw(st.lists(st.integers(1, 5), min_size=d, max_size=d))
    return grid, patch, draw(st.integers(1, 3))


@SETTINGS
@given(case=grids())
def test_patches_split_merge_round_trip(case):
    grid, patch, channels = case
    array = np.arange(int(np.prod(grid)) * channels, dtype=np.float32).reshape(*grid, channels)
    split, pad = patches.split(array, patch)
    counts = [-(-n // p) for n, p in zip(grid, patch)]  # ceil
    assert pad == [c * p - n for c, p, n in zip(counts, patch, grid)]
    assert split.shape == (int(np.prod(counts)), *patch, channels)
    np.testing.assert_array_equal(patches.merge(split, grid), array)


def test_patches_are_in_c_order_and_edge_padded():
    array = np.arange(5 * 3).reshape(5, 3, 1)  # (H, W, C)
    split, pad = patches.split(array, (2, 2))
    assert pad == [1, 1]
    np.testing.assert_array_equal(split[0, ..., 0], [[0, 1], [3, 4]])
    np.testing.assert_array_equal(split[1, ..., 0], [[2, 2], [5, 5]])  # right edge repeated
    np.testing.assert_array_equal(split[-1, ..., 0], [[14, 14], [14, 14]])  # bottom-right corner


def test_patches_reject_a_patch_of_the_wrong_rank():
    with pytest.raises(ValueError, match="has 1 axes, grid"):
        patches.split(np.zeros((4, 4, 1)), (2,))


KODAK_POINTS, RGB = 768 * 512, (2, 3)


@pytest.mark.parametrize("preset", sorted(LEGACY_PRESETS))
def test_architecture_for_bpp_matches_paper_presets(preset):
    bpp = float(preset.removesuffix("bpp"))
    depth, width = architecture_for_bpp(bpp, KODAK_POINTS, *RGB)
    paper_depth, paper_width = ARCHITECTURES[LEGACY_PRESETS[preset]]
    assert depth == paper_depth
    assert abs(width - paper_width) <= 1  # paper sizes round the nominal bpp: 10x28 is 0.304 bpp
    assert siren.SirenShape(*RGB, depth, width).num_params() * 16 <= bpp * KODAK_POINTS


def test_architecture_for_03bpp_on_kodak():
    assert architecture_for_bpp(0.3, KODAK_POINTS, *RGB) in {(10, 27), (10, 28)}


@pytest.mark.parametrize("bpp", [0.05, 0.1, 0.3, 0.45, 0.9, 2.0, 8.0])
@pytest.mark.parametrize("points,d_in,d_out", [(768 * 512, 2, 3), (64 * 64, 2, 1), (16000, 1, 1), (32 ** 3, 3, 1)])
def test_architecture_for_bpp_is_the_widest_within_budget(bpp, points, d_in, d_out):
    budget_bits = bpp * points
    try:
        depth, width = architecture_for_bpp(bpp, points, d_in, d_out)
    except ValueError as exc:
        assert "no SIREN fits" in str(exc)
        assert siren.SirenShape(d_in, d_out, 1, 2).num_params() * 16 > budget_bits
        return
    assert width >= 2 and depth >= 1
    assert siren.SirenShape(d_in, d_out, depth, width).num_params() * 16 <= budget_bits
    assert siren.SirenShape(d_in, d_out, depth, width + 1).num_params() * 16 > budget_bits


def test_architecture_for_bpp_shrinks_depth_then_gives_up():
    depth, width = architecture_for_bpp(0.3, 32 * 32, 2, 3)  # 19 parameters' worth
    assert depth < 10 and width >= 2
    assert siren.SirenShape(2, 3, depth, width).num_params() * 16 <= 0.3 * 32 * 32
    with pytest.raises(ValueError, match="no SIREN fits"):
        architecture_for_bpp(0.01, 64, 2, 3)


@pytest.mark.parametrize("config", [{}, {"preset": "0.07bpp"}, {"preset": "13x49"}, {"depth": 3, "width": 7},
                                    {"bpp": 0.5}, {"depth": 1, "width": 4}])
@pytest.mark.parametrize("grid,d_in,d_out", [((512, 768), 2, 3), ((40, 30), 2, 1), ((8000,), 1, 2)])
def test_coin_layout_matches_siren_shape(config, grid, d_in, d_out):
    coin = Coin(config)
    shape = coin.shape(grid, d_in, d_out)
    layout = coin.layout(grid, d_in, d_out)
    expected = {}
    for i, (fan_in, fan_out) in enumerate(shape.layer_dims()):
        expected[f"l{i}.W"], expected[f"l{i}.b"] = (fan_out, fan_in), (fan_out,)
    assert layout == expected
    assert list(layout) == list(expected)  # order matters: it is the payload order
    assert sum(int(np.prod(s)) for s in layout.values()) == shape.num_params()
    if "preset" in config or not config:
        name = config.get("preset", "10x28")
        assert (shape.depth, shape.width) == ARCHITECTURES[LEGACY_PRESETS.get(name, name)]


def test_coin_requires_depth_and_width_together():
    with pytest.raises(SpecError, match="set both depth and width"):
        Coin(depth=3)


def test_coin_budget_too_small_for_any_network_is_a_spec_error():
    with pytest.raises(SpecError, match=r"no SIREN fits 0.01 bpp on 64 points; raise `bpp`"):
        Coin(bpp=0.01).layout((8, 8), 2, 3)
