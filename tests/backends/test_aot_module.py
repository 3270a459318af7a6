"""aot_module_simplified on a plain tl.nn.Module (not a GraphModule): traced through its call,
parameters and buffers as graph inputs; values, gradients and buffer updates equal eager's."""
import functools

import numpy as np
import pytest

import tensorlite as tl
from backends import lookup_backend
from backends.aot import aot_module_simplified, nop
from backends.codegen import compile_fx_graph
from tensorlite.nn.utils.stateless import functional_call

COMPILERS = {"aot_eager": nop, "codegen": compile_fx_graph}


class MLP(tl.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = tl.nn.Linear(4, 8)
        self.fc2 = tl.nn.Linear(8, 2)
        self.register_buffer("scale", tl.full((2,), 0.5))

    def forward(self, x):
        return (self.fc2(self.fc1(x).relu()) * self.scale,)


class Tied(tl.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = tl.nn.Linear(3, 3, bias=False)
        self.b = tl.nn.Linear(3, 3, bias=False)
        self.b.weight = self.a.weight  # one parameter under two names

    def forward(self, x):
        return self.b(self.a(x).tanh())


class RunningMean(tl.nn.Module):
    """Mutates its buffer in place, as BatchNorm's running statistics."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", tl.zeros(3))

    def forward(self, x):
        with tl.no_grad():
            self.mean.mul_(0.9).add_(x.detach().mean(0) * 0.1)
        return x * 2 - self.mean


class HookedInForward(tl.nn.Module):
    def forward(self, x):
        x.register_hook(functools.partial(lambda g, k: g + k, k=3))
        y = x.mul(2)
        y.register_hook(lambda g: g * 5)
        return (y.mul(3),)


def _run(fn, mod, x):
    out = fn(x)
    outs = out if isinstance(out, tuple) else (out,)
    sum(o.sum() * (i + 1) for i, o in enumerate(outs)).backward()
    return [o.detach().numpy() for o in outs], [p.grad.numpy() for p in mod.parameters()], x.grad.numpy()


def _np(t):
    return t.detach().numpy()


def _same(a, b):
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("backend", list(COMPILERS))
@pytest.mark.parametrize("make", [MLP, Tied, HookedInForward], ids=lambda c: c.__name__)
def test_plain_module_matches_eager(backend, make):
    tl.manual_seed(0)
    mod = make()
    x = tl.randn(2, 4 if make is MLP else 3, requires_grad=True)
    ref_out, ref_pgrads, ref_xgrad = _run(mod, mod, x)
    mod.zero_grad()
    x2 = x.detach().requires_grad_()
    compiled = aot_module_simplified(mod, (x2,), COMPILERS[backend])
    out, pgrads, xgrad = _run(compiled, mod, x2)
    _same(out, ref_out)
    _same(pgrads, ref_pgrads)
    np.testing.assert_allclose(xgrad, ref_xgrad, rtol=1e-5)
    assert len(pgrads) == len(ref_pgrads)


@pytest.mark.parametrize("backend", list(COMPILERS))
def test_buffer_mutation_is_copied_back(backend):
    ref, mod = RunningMean(), RunningMean()
    x = tl.randn(4, 3)
    compiled = aot_module_simplified(mod, (x,), COMPILERS[backend])
    for _ in range(2):
        np.testing.assert_allclose(compiled(x).numpy(), ref(x).numpy(), rtol=1e-6)
    np.testing.assert_allclose(mod.mean.numpy(), ref.mean.numpy(), rtol=1e-6)


@pytest.mark.parametrize("backend", ["aot_eager", "codegen"])
def test_registered_backend_takes_a_plain_module(backend):
    tl.manual_seed(1)
    mod = MLP()
    x = tl.randn(3, 4)
    compiled = lookup_backend(backend)(mod, [x])
    np.testing.assert_allclose(_np(compiled(x)[0]), _np(mod(x)[0]), rtol=1e-5)


def test_sees_in_place_updates_and_reassigned_parameters():
    mod = MLP()
    x = tl.randn(2, 4)
    compiled = aot_module_simplified(mod, (x,), nop)
    with tl.no_grad():
        mod.fc1.weight.mul_(2)  # an optimizer step
    np.testing.assert_allclose(_np(compiled(x)[0]), _np(mod(x)[0]), rtol=1e-5)
    mod.fc2.weight = tl.nn.Parameter(tl.randn(2, 8))
    np.testing.assert_allclose(_np(compiled(x)[0]), _np(mod(x)[0]), rtol=1e-5)


def test_changed_state_shape_raises():
    mod = MLP()
    x = tl.randn(2, 4)
    compiled = aot_module_simplified(mod, (x,), nop)
    mod.fc2.bias = tl.nn.Parameter(tl.zeros(1))
    with pytest.raises(RuntimeError, match="changed name, number, shape or dtype since it was compiled"):
        compiled(x)


def test_returned_function_exposes_module_state():
    mod = MLP()
    compiled = aot_module_simplified(mod, (tl.randn(2, 4),), nop)
    assert [n for n, _ in compiled.named_parameters()] == [n for n, _ in mod.named_parameters()]
    assert [n for n, _ in compiled.named_buffers()] == ["scale"]


def test_functional_call_replaces_state_for_one_call():
    lin = tl.nn.Linear(2, 1, bias=False)
    w = lin.weight
    out = functional_call(lin, {"weight": tl.ones(1, 2)}, (tl.tensor([1.0, 2.0]),))
    assert out.tolist() == [3.0]
    assert lin.weight is w


def test_functional_call_ties_weights():
    mod = Tied()
    w0 = mod.a.weight.detach()
    w = tl.randn(3, 3)
    x = tl.ones(1, 3)
    # both names see the replacement (tie_weights=True), as in PyTorch
    tied = functional_call(mod, {"a.weight": w}, (x,))
    np.testing.assert_allclose(_np(tied), _np((x @ w.T).tanh() @ w.T), rtol=1e-5)
    untied = functional_call(mod, {"a.weight": w}, (x,), tie_weights=False)
    np.testing.assert_allclose(_np(untied), _np((x @ w.T).tanh() @ w0.T), rtol=1e-5)


def test_functional_call_unknown_name_raises():
    with pytest.raises(AttributeError, match="no parameter or buffer named 'nope'"):
        functional_call(tl.nn.Linear(2, 2), {"nope": tl.ones(1)}, (tl.ones(2),))
