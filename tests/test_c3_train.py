"""The latent-grid backend's training: every parameter it stores is trained from the start a fit
really uses (random networks, or the shipped prior), on a real image."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from inrz_c3 import arch, fit, prior, priorfile, train_step, upsample

from .conftest import data_file


def real_crop(size: int = 64) -> torch.Tensor:
    """(3, size, size) in [0, 1]: a crop of a real photograph (textured, so nothing is flat)."""
    from PIL import Image

    img = np.asarray(Image.open(data_file("images", "coffee.png")).convert("RGB"), np.float32) / 255
    return torch.from_numpy(img[100:100 + size, 200:200 + size]).permute(2, 0, 1).contiguous()


def first_steps_grads(start: dict | None, mode: str, steps: int = 2, latents: float = 0.0):
    """The gradients of the first `steps` steps of a fit (Adam at the fit's learning rates), its
    latents starting at zero (as a fit does) or spread as after some training (`latents`: std)."""
    target = real_crop()
    shape = tuple(target.shape[1:])
    a = arch.architecture("medium", shape, 3)
    p = fit.initial_params(a, shape, 0, "cpu", start)
    if latents:
        p["y"].normal_(0, latents, generator=torch.Generator().manual_seed(1))
    levels = upsample.level_shapes(shape, a.levels)
    s = fit.Schedule()
    opt = torch.optim.Adam([{"params": [p["y"]], "lr": s.lr}, {"params": [v for k, v in p.items() if k != "y"],
                                                               "lr": s.lr_net}])
    out = []
    for _ in range(steps):
        train_step.loss_and_grad(p, a, levels, target, (False, False), mode, 0.3, 0.004,
                                 torch.Generator().manual_seed(0))
        out.append({k: v.grad.clone() for k, v in p.items()})
        opt.step()
    return out


def without_gradient(grads: dict[str, torch.Tensor]) -> list[str]:
    return [k for k, g in grads.items() if not g.any()]


def shipped_prior() -> dict[str, torch.Tensor]:
    """The first medium prior (477d7e8d, no longer the default but still shipped so its files
    decode): its res0 never trained, the case these tests guard."""
    weights = prior.load("medium", arch.architecture("medium", (64, 64), 3), priorfile.FOLDER / "medium-3ch.json")
    assert weights is not None and not weights["res0.W"].any()  # the case this guards
    return weights


@pytest.mark.parametrize("start", ["random", "prior"])
def test_every_trainable_tensor_gets_a_gradient_from_the_real_start(start):
    """Residual convolutions that start at zero behind a ReLU never train (its gradient at 0 is 0);
    the shipped medium prior holds such a layer (res0), so a fit from it must not start there
    (they start with a small positive bias instead).
    From random networks the context model's output layer starts at zero (mean 0, scale 1), so
    its hidden layers get their first gradient at the second step: every tensor must have one then."""
    mode = fit.Schedule().phase(0)[0]
    first, second = first_steps_grads(shipped_prior() if start == "prior" else None, mode)
    behind_zero_output = [] if start == "prior" else ["arm0.W", "arm0.b", "arm1.W", "arm1.b"]
    assert without_gradient(first) == behind_zero_output
    assert without_gradient(second) == []
    for k in ("res0.W", "res1.W"):  # each output channel of each residual convolution learns
        assert all(first[k][c].any() for c in range(first[k].shape[0])), k


@pytest.mark.parametrize("mode", ["soft", "hard"])
def test_every_trainable_tensor_gets_a_gradient_in_the_later_phases(mode):
    (grads,) = first_steps_grads(shipped_prior(), mode, steps=1, latents=1.5)
    assert without_gradient(grads) == []


def test_the_prior_is_the_start_except_for_layers_it_never_trained():
    a = arch.architecture("medium", (64, 64), 3)
    weights = shipped_prior()
    p = fit.initial_params(a, (64, 64), 0, "cpu", weights)
    trained = [k for k in weights if not (k.startswith("res") and not weights[k.split(".")[0] + ".W"].any())]
    assert trained and all(torch.equal(p[k], weights[k]) for k in trained)
    assert not p["res0.W"].any() and bool((p["res0.b"] == fit.RES_BIAS).all())  # the random start's res0


@pytest.mark.parametrize("mode", ["noise", "soft", "hard"])
def test_the_medium_step_on_a_real_crop_equals_whole_grid_autograd(mode):
    """The hand-written band step against `reference` (autograd through the straightforward
    model) at the medium preset, float64, on several bands with halos, every gradient to 1e-9."""
    from inrz_c3 import reference

    target = real_crop(48).double()
    shape = tuple(target.shape[1:])
    a = arch.architecture("medium", shape, 3)
    levels = upsample.level_shapes(shape, a.levels)
    g = torch.Generator().manual_seed(2)
    start = {k: (v + 0.2 * torch.randn(v.shape, generator=g)).double()
             for k, v in fit.initial_params(a, shape, 0, "cpu", shipped_prior()).items()}
    start["y"] = 1.5 * torch.randn(start["y"].shape, generator=g, dtype=torch.float64)
    ref = {k: v.clone().requires_grad_() for k, v in start.items()}
    loss, _, bits = reference.loss(ref, a, levels, target, (False, False), mode, 0.2, 0.004,
                                   torch.Generator().manual_seed(3))
    loss.backward()
    ours = {k: v.clone() for k, v in start.items()}
    loss2, _, bits2 = train_step.loss_and_grad(ours, a, levels, target, (False, False), mode, 0.2, 0.004,
                                               torch.Generator().manual_seed(3), band=400)
    assert loss2 == pytest.approx(float(loss), rel=1e-12) and bits2 == pytest.approx(float(bits), rel=1e-12)
    for k in ref:
        assert torch.allclose(ref[k].grad, ours[k].grad, rtol=1e-9, atol=1e-12), k


@pytest.mark.parametrize("mode", ["noise", "soft", "hard"])
def test_quantize_in_chunks_equals_the_model_definition(mode):
    """The step's quantization (closed-form soft-rounding derivative, chunks on workers) gives the
    model's quantized latents bit for bit and its autograd derivative to rounding."""
    from concurrent.futures import ThreadPoolExecutor

    from inrz_c3 import model

    y = 3 * torch.randn(10_007, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    q, dq = model.quantize(y, mode, 0.2, torch.Generator().manual_seed(1))
    with ThreadPoolExecutor(2) as pool:
        for p in (None, pool):
            q2, dq2 = train_step.quantize(y, mode, 0.2, torch.Generator().manual_seed(1), p)
            assert torch.equal(q, q2)
            assert (dq is None) == (dq2 is None) and (dq is None or torch.allclose(dq, dq2, rtol=1e-12, atol=0))


@pytest.mark.parametrize("shape,axis", [((3, 17), 1), ((2, 9, 13), 1), ((2, 9, 13), 2), ((2, 5, 6, 7), 2),
                                        ((2, 5, 6, 7), 3), ((1, 1), 1), ((1, 2, 3), 2), ((4, 3), 1)])
@pytest.mark.parametrize("periodic", [False, True])
def test_compiled_upsampling_equals_the_torch_ops(shape, axis, periodic):
    """The CPU kernels of one upsampling pass (forward, and backward to the input and the
    kernel) against the torch ops every other device runs, float64, at the edges too."""
    from inrz_c3 import upsample

    if periodic and shape[axis] < upsample.PAD:
        pytest.skip("the torch ops wrap at least PAD samples")
    g = torch.Generator().manual_seed(len(shape) * 10 + axis)
    z = torch.randn(shape, generator=g, dtype=torch.float64)
    k = torch.randn(2, upsample.TAPS, generator=g, dtype=torch.float64)
    n = shape[axis]
    for m in sorted({2 * n, 2 * n - 1, max(1, n + 1)}):  # the whole doubled axis, or a cut
        out = upsample.up_axis(z, k, axis, periodic, m)
        want = upsample.up_axis_torch(z, k, axis, periodic).narrow(axis, 0, m)
        assert torch.allclose(out, want, rtol=1e-12, atol=1e-12)
        grad = torch.randn(out.shape, generator=g, dtype=torch.float64)
        gz, gk = upsample.up_axis_backward(grad, z, k, axis, periodic)
        full = torch.zeros(want.shape[:axis] + (2 * n,) + want.shape[axis + 1:], dtype=torch.float64)
        full.narrow(axis, 0, m).copy_(grad)
        want_gz, want_gk = upsample.up_axis_backward_torch(full, z, k, axis, periodic)
        assert torch.allclose(gz, want_gz, rtol=1e-12, atol=1e-12)
        assert torch.allclose(gk, want_gk, rtol=1e-12, atol=1e-12)


def test_compiled_laplace_rate_equals_the_torch_ops():
    """The CPU kernel of the rate's bits and derivatives against the torch ops, float64: on and
    off the mean's bin, at exact ties (v == mu), scales clamped at both ends, probabilities under
    the floor, and a folded grid's free tail (`valid`)."""
    from inrz_c3 import band_grads

    g = torch.Generator().manual_seed(3)
    n = 5000
    mu = 4 * torch.randn(n, generator=g, dtype=torch.float64)
    v = torch.round(mu + 3 * torch.randn(n, generator=g, dtype=torch.float64))
    v[:50] = mu[:50]
    v[50:100] = mu[50:100] + 400.0  # far tail: P under 2**-24
    log_b = 3 * torch.randn(n, generator=g, dtype=torch.float64)
    log_b[100:120] = 7.0
    log_b[120:140] = -8.0
    for valid in (None, n - 777):
        bits, g_v, g_lb = band_grads.laplace_bits_grad(v, mu, log_b, valid)
        want_bits, want_v, want_lb = band_grads.laplace_bits_grad_torch(v, mu, log_b, valid)
        assert bits == pytest.approx(want_bits, rel=1e-12)
        assert torch.allclose(g_v, want_v, rtol=1e-10, atol=1e-15) and torch.allclose(g_lb, want_lb, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("channels,shape", [(3, (9, 13)), (1, (5, 4)), (3, (3, 3))])
def test_compiled_residual_convolution_equals_torch(channels, shape):
    """The CPU kernels of a 3x3 residual convolution (forward; backward to input, weight and
    bias) against torch's conv2d and its autograd, float64."""
    from inrz_c3 import band_grads

    g = torch.Generator().manual_seed(channels)
    x = torch.randn(1, channels, *shape, generator=g, dtype=torch.float64, requires_grad=True)
    W = torch.randn(channels, channels, 3, 3, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(channels, generator=g, dtype=torch.float64, requires_grad=True)
    want = torch.nn.functional.conv2d(x, W, b)
    out = band_grads._conv_compiled(x.detach(), W.detach(), b.detach())
    assert torch.allclose(out, want, rtol=1e-12, atol=1e-12)
    grad = torch.randn(want.shape, generator=g, dtype=torch.float64)
    want.backward(grad)
    gx, gw, gb = band_grads._conv_backward_compiled(grad, x.detach(), W.detach())
    for got, ref in ((gx, x.grad), (gw, W.grad), (gb, b.grad)):
        assert torch.allclose(got, ref, rtol=1e-12, atol=1e-12)
