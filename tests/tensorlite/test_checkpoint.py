"""tensorlite.utils.checkpoint: recomputation in backward gives the same gradients as a plain run."""
import gc
import weakref

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tensorlite as tl
import tensorlite.nn as nn
from tensorlite.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential


def _grads(model, x):
    return [p.grad.numpy().copy() for p in model.parameters()] + [x.grad.numpy().copy()]


def _reset(model, x):
    model.zero_grad()
    x.grad = None


def _rng_state():
    return tl._creation._rng().bit_generator.state


def _set_rng_state(s):
    tl._creation._rng().bit_generator.state = s


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_gradients_equal_plain_run_with_dropout(use_reentrant):
    tl.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Dropout(0.3), nn.LayerNorm(8), nn.Linear(8, 3)).double()
    x = tl.randn(6, 4, dtype=tl.float64, requires_grad=True)
    state = _rng_state()
    ref_out = net(x)
    (ref_out * ref_out).sum().backward()
    ref = _grads(net, x)
    _reset(net, x)
    _set_rng_state(state)
    out = checkpoint(net, x, use_reentrant=use_reentrant)
    np.testing.assert_allclose(out.detach().numpy(), ref_out.detach().numpy())
    (out * out).sum().backward()
    for a, b in zip(ref, _grads(net, x)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_recomputes_once_per_backward():
    calls = []

    def fn(a, b):
        calls.append(tl.is_grad_enabled())
        return (a.sin() * b).exp().sum(0)

    a = tl.randn(3, 2, dtype=tl.float64, requires_grad=True)
    b = tl.randn(3, 2, dtype=tl.float64, requires_grad=True)
    out = checkpoint(fn, a, b)
    assert calls == [True]
    out.sum().backward(retain_graph=True)
    assert calls == [True, True]  # one recomputation for all saved tensors, under enable_grad
    ga = a.grad.numpy().copy()
    out.sum().backward()  # a second backward recomputes again
    assert len(calls) == 3
    np.testing.assert_allclose(a.grad.numpy(), 2 * ga)
    np.testing.assert_allclose(ga, (b * a.cos() * (a.sin() * b).exp()).detach().numpy(), rtol=1e-12)


def test_intermediates_are_not_kept_alive():
    refs = []

    def fn(x):
        h = x.sin()
        refs.append(weakref.ref(h))
        return h * h

    x = tl.randn(4, requires_grad=True)
    plain = fn(x)
    gc.collect()
    assert refs[0]() is not None  # a plain run keeps sin's output alive (mul saves it)
    del plain
    out = checkpoint(fn, x)
    gc.collect()
    assert refs[1]() is None
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (2 * x.sin() * x.cos()).detach().numpy(), rtol=1e-6)


def test_kwargs_and_non_tensor_args():
    def fn(x, scale, *, shift):
        return (x * scale + shift).tanh()

    x = tl.randn(5, dtype=tl.float64, requires_grad=True)
    shift = tl.randn(5, dtype=tl.float64, requires_grad=True)
    checkpoint(fn, x, 3.0, shift=shift).sum().backward()
    gx, gs = x.grad.numpy().copy(), shift.grad.numpy().copy()
    x.grad = shift.grad = None
    fn(x, 3.0, shift=shift).sum().backward()
    np.testing.assert_allclose(gx, x.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gs, shift.grad.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="Unexpected keyword arguments"):
        checkpoint(fn, x, 3.0, shift=shift, use_reentrant=True)


def test_double_backward_through_checkpoint():
    f = lambda t: (t.sin() * t).exp()  # noqa: E731
    x = tl.tensor([0.3, 1.2, -0.7], dtype=tl.float64, requires_grad=True)
    results = []
    for use_ckpt in (False, True):
        y = checkpoint(f, x) if use_ckpt else f(x)
        (g,) = tl.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = tl.autograd.grad(g.sum(), x)
        results.append((g.detach().numpy(), gg.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


def test_gradcheck_through_checkpoint():
    w = tl.randn(3, 3, dtype=tl.float64, requires_grad=True)
    x = tl.randn(2, 3, dtype=tl.float64, requires_grad=True)
    assert tl.autograd.gradcheck(lambda a, b: checkpoint(lambda u, v: (u @ v).tanh() * u.sum(), a, b), (x, w))


def test_non_deterministic_function_is_detected():
    state = {"n": 0}

    def fn(x):
        state["n"] += 1
        y = x.sin()
        if state["n"] == 1:
            y = y.exp()  # one more saved tensor in the original run than in the recomputation
        return y * y

    x = tl.randn(3, requires_grad=True)
    out = checkpoint(fn, x)
    with pytest.raises(CheckpointError, match="different number of tensors"):
        out.sum().backward()


def test_no_grad_runs_plainly():
    with tl.no_grad():
        out = checkpoint(lambda t: t * 2, tl.ones(2, requires_grad=True))
    assert out.grad_fn is None


def test_checkpointed_module_in_training_loop_matches_plain():
    def run(use_ckpt):
        tl.manual_seed(5)
        blocks = nn.ModuleList([nn.Sequential(nn.Linear(4, 4), nn.Tanh()) for _ in range(3)]).double()
        opt = tl.optim.SGD(blocks.parameters(), lr=0.1, momentum=0.9)
        x = tl.randn(8, 4, dtype=tl.float64)
        for _ in range(3):
            opt.zero_grad()
            h = x
            for blk in blocks:
                h = checkpoint(blk, h) if use_ckpt else blk(h)
            h.pow(2).mean().backward()
            opt.step()
        return [p.detach().numpy().copy() for p in blocks.parameters()]

    for a, b in zip(run(False), run(True)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_checkpoint_sequential():
    tl.manual_seed(2)
    net = nn.Sequential(*[nn.Linear(3, 3) for _ in range(5)]).double()
    x = tl.randn(2, 3, dtype=tl.float64, requires_grad=True)
    net(x).sum().backward()
    ref = _grads(net, x)
    _reset(net, x)
    out = checkpoint_sequential(net, 2, x)
    out.sum().backward()
    for a, b in zip(ref, _grads(net, x)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.booleans())
def test_hypothesis_shapes(n, d, reentrant):
    rng = np.random.default_rng(n * 7 + d)
    x = tl.tensor(rng.standard_normal((n, d)), dtype=tl.float64, requires_grad=True)
    w = tl.tensor(rng.standard_normal((d, d)), dtype=tl.float64, requires_grad=True)
    fn = lambda a, b: nn.functional.gelu(a @ b).softmax(-1) * a  # noqa: E731
    fn(x, w).sum().backward()
    gx, gw = x.grad.numpy().copy(), w.grad.numpy().copy()
    x.grad = w.grad = None
    checkpoint(fn, x, w, use_reentrant=reentrant).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), gx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), gw, rtol=1e-10, atol=1e-12)
