"""Module hooks: forward pre/post hooks, full backward (pre-)hooks, global hooks; PyTorch's order."""
from collections import OrderedDict

import numpy as np
import pytest

import tensorlite as tl
import tensorlite.nn as nn
from tensorlite.nn.modules import module as module_mod
from tensorlite.utils.hooks import RemovableHandle


class Scale(nn.Module):
    """forward(x, y=None) = 3 * x (+ y)."""

    def forward(self, x, y=None):
        out = x * 3.0
        return out if y is None else out + y


class Boom(nn.Module):
    def forward(self, x):
        raise ValueError("boom")


@pytest.fixture
def log():
    return []


def test_hook_dicts_are_named_like_pytorch():
    m = nn.Linear(2, 2)
    for name in ("_forward_pre_hooks", "_forward_hooks", "_backward_pre_hooks", "_backward_hooks",
                 "_forward_hooks_with_kwargs", "_forward_pre_hooks_with_kwargs", "_forward_hooks_always_called"):
        assert isinstance(getattr(m, name), OrderedDict), name
    h = m.register_forward_hook(lambda *a: None, with_kwargs=True, always_call=True)
    assert isinstance(h, RemovableHandle)
    assert list(m._forward_hooks) == [h.id] and list(m._forward_hooks_with_kwargs) == [h.id]
    assert list(m._forward_hooks_always_called) == [h.id]
    h.remove()
    h.remove()  # idempotent
    assert not m._forward_hooks and not m._forward_hooks_with_kwargs and not m._forward_hooks_always_called


def test_no_hooks_fast_path_adds_no_nodes():
    m = Scale()
    x = tl.ones(2, requires_grad=True)
    assert m(x).grad_fn.name() == "MulBackward0"


# ---------------------------------------------------------------------- forward pre-hooks
def test_forward_pre_hook_order_prepend_and_removal(log):
    m = Scale()
    h1 = m.register_forward_pre_hook(lambda mod, args: log.append("a"))
    m.register_forward_pre_hook(lambda mod, args: log.append("b"))
    m.register_forward_pre_hook(lambda mod, args: log.append("first"), prepend=True)
    m(tl.ones(1))
    assert log == ["first", "a", "b"]
    h1.remove()
    log.clear()
    m(tl.ones(1))
    assert log == ["first", "b"]


def test_forward_pre_hook_return_replaces_args():
    m = Scale()
    h = m.register_forward_pre_hook(lambda mod, args: args[0] + 1)  # non-tuple: wrapped in a tuple
    assert m(tl.tensor([1.0])).tolist() == [6.0]
    h.remove()
    m.register_forward_pre_hook(lambda mod, args: (args[0], tl.tensor([10.0])))
    assert m(tl.tensor([1.0])).tolist() == [13.0]


def test_forward_pre_hook_with_kwargs():
    m = Scale()
    seen = {}

    def hook(mod, args, kwargs):
        seen["args"], seen["kwargs"] = args, dict(kwargs)
        return (args[0] * 2,), {"y": tl.tensor([1.0])}

    m.register_forward_pre_hook(hook, with_kwargs=True)
    out = m(tl.tensor([1.0]), y=tl.tensor([100.0]))
    assert out.tolist() == [7.0]
    assert seen["kwargs"]["y"].tolist() == [100.0]
    bad = Scale()
    bad.register_forward_pre_hook(lambda mod, a, k: a, with_kwargs=True)
    with pytest.raises(RuntimeError, match="tuple of \\(new_args, new_kwargs\\)"):
        bad(tl.ones(1), tl.ones(1), tl.ones(1))


# ---------------------------------------------------------------------- forward hooks
def test_forward_hook_order_and_return(log):
    m = Scale()
    m.register_forward_hook(lambda mod, args, out: log.append(("a", out.tolist())))
    m.register_forward_hook(lambda mod, args, out: out + 1)
    m.register_forward_hook(lambda mod, args, out: log.append(("c", out.tolist())))
    m.register_forward_hook(lambda mod, args, out: log.append(("pre", out.tolist())), prepend=True)
    m.register_forward_pre_hook(lambda mod, args: log.append("pre-hook"))
    out = m(tl.tensor([1.0]))
    assert out.tolist() == [4.0]
    assert log == ["pre-hook", ("pre", [3.0]), ("a", [3.0]), ("c", [4.0])]


def test_forward_hook_receives_args_after_pre_hooks():
    m = Scale()
    got = []
    m.register_forward_pre_hook(lambda mod, args: (args[0] * 10,))
    m.register_forward_hook(lambda mod, args, out: got.append(args[0].tolist()))
    m(tl.tensor([1.0]))
    assert got == [[10.0]]


def test_forward_hook_with_kwargs():
    m = Scale()
    got = []

    def hook(mod, args, kwargs, out):
        got.append(sorted(kwargs))
        return out * 0

    m.register_forward_hook(hook, with_kwargs=True)
    assert m(tl.tensor([1.0]), y=tl.tensor([2.0])).tolist() == [0.0]
    assert got == [["y"]]


def test_always_call_runs_when_forward_raises(log):
    m = Boom()
    m.register_forward_hook(lambda mod, args, out: log.append("normal"))
    m.register_forward_hook(lambda mod, args, out: log.append(("always", out)), always_call=True)
    with pytest.raises(ValueError, match="boom"):
        m(tl.ones(1))
    assert log == [("always", None)]


def test_always_call_hook_error_is_silenced_with_a_warning():
    m = Boom()

    def bad(mod, args, out):
        raise KeyError("secondary")

    m.register_forward_hook(bad, always_call=True)
    with pytest.warns(UserWarning, match="secondary"):
        with pytest.raises(ValueError, match="boom"):
            m(tl.ones(1))


def test_always_call_hook_not_called_twice_when_a_later_hook_raises(log):
    m = Scale()
    m.register_forward_hook(lambda mod, a, o: log.append("always"), always_call=True)

    def raising(mod, a, o):
        raise RuntimeError("late")

    m.register_forward_hook(raising)
    with pytest.raises(RuntimeError, match="late"):
        m(tl.ones(1))
    assert log == ["always"]


def test_handle_as_context_manager(log):
    m = Scale()
    with m.register_forward_hook(lambda *a: log.append(1)):
        m(tl.ones(1))
    m(tl.ones(1))
    assert log == [1]


# ---------------------------------------------------------------------- global hooks
def test_global_hooks_run_before_module_hooks(log):
    m = Scale()
    m.register_forward_pre_hook(lambda mod, args: log.append("module pre"))
    m.register_forward_hook(lambda mod, args, out: log.append("module fwd"))
    g1 = module_mod.register_module_forward_pre_hook(lambda mod, args: log.append(("global pre", type(mod).__name__)))
    g2 = module_mod.register_module_forward_hook(lambda mod, args, out: log.append("global fwd"))
    try:
        m(tl.ones(1))
        assert log == [("global pre", "Scale"), "module pre", "global fwd", "module fwd"]
        log.clear()
        nn.Sequential(nn.Identity())(tl.ones(1))
        assert log == [("global pre", "Sequential"), ("global pre", "Identity"), "global fwd", "global fwd"]
    finally:
        g1.remove()
        g2.remove()
    log.clear()
    m(tl.ones(1))
    assert log == ["module pre", "module fwd"]


def test_global_forward_hook_return_value_and_always_call(log):
    h = module_mod.register_module_forward_hook(lambda mod, args, out: out * 2 if out is not None else log.append("g"),
                                                always_call=True)
    try:
        assert Scale()(tl.tensor([1.0])).tolist() == [6.0]
        with pytest.raises(ValueError):
            Boom()(tl.ones(1))
        assert log == ["g"]
    finally:
        h.remove()


# ---------------------------------------------------------------------- backward hooks
def _linear(w, b):
    lin = nn.Linear(3, 2).double()
    with tl.no_grad():
        lin.weight.copy_(tl.tensor(w))
        lin.bias.copy_(tl.tensor(b))
    return lin


W = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
B = np.array([0.1, -0.2])
C = np.array([[1.0, 2.0], [-1.0, 0.5]])  # d loss / d output for loss = sum(out * C)


def test_full_backward_hook_values(log):
    lin = _linear(W, B)
    lin.register_full_backward_pre_hook(lambda mod, go: log.append(("pre", [g.numpy().copy() for g in go])))
    lin.register_full_backward_hook(lambda mod, gi, go: log.append(("full", [g.numpy().copy() for g in gi],
                                                                    [g.numpy().copy() for g in go])))
    x = tl.tensor(np.arange(6.0).reshape(2, 3), dtype=tl.float64, requires_grad=True)
    (lin(x) * tl.tensor(C)).sum().backward()
    assert [e[0] for e in log] == ["pre", "full"]
    np.testing.assert_allclose(log[0][1][0], C)
    np.testing.assert_allclose(log[1][1][0], C @ W)  # grad_input = dL/dx
    np.testing.assert_allclose(log[1][2][0], C)
    np.testing.assert_allclose(x.grad.numpy(), C @ W)
    np.testing.assert_allclose(lin.weight.grad.numpy(), C.T @ x.detach().numpy())


def test_backward_pre_hook_replaces_grad_output():
    lin = _linear(W, B)
    lin.register_full_backward_pre_hook(lambda mod, go: (go[0] * 2,))
    x = tl.tensor(np.ones((2, 3)), dtype=tl.float64, requires_grad=True)
    (lin(x) * tl.tensor(C)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * C @ W)
    np.testing.assert_allclose(lin.weight.grad.numpy(), 2 * C.T @ np.ones((2, 3)))  # the module's params see it too
    np.testing.assert_allclose(lin.bias.grad.numpy(), 2 * C.sum(0))


def test_backward_hook_return_replaces_grad_input_only():
    lin = _linear(W, B)
    lin.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0 + 7,))
    x = tl.tensor(np.ones((2, 3)), dtype=tl.float64, requires_grad=True)
    (lin(x) * tl.tensor(C)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 3), 7.0))
    np.testing.assert_allclose(lin.weight.grad.numpy(), C.T @ np.ones((2, 3)))


def test_backward_hook_on_module_whose_inputs_do_not_require_grad(log):
    lin = _linear(W, B)
    lin.register_full_backward_hook(lambda mod, gi, go: log.append((gi, go[0].numpy().copy())))
    (lin(tl.ones(2, 3, dtype=tl.float64)) * tl.tensor(C)).sum().backward()
    assert len(log) == 1 and log[0][0] == (None,)
    np.testing.assert_allclose(log[0][1], C)
    assert lin.weight.grad is not None
    bad = _linear(W, B)
    bad.register_full_backward_hook(lambda mod, gi, go: (tl.ones(2, 3),))
    with pytest.raises(RuntimeError, match="no input requires gradient"):
        bad(tl.ones(2, 3, dtype=tl.float64)).sum().backward()


def test_backward_hook_grad_input_none_for_non_requiring_inputs(log):
    m = Scale()
    m.register_full_backward_hook(lambda mod, gi, go: log.append(gi))
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    y = tl.tensor([5.0, 5.0])
    m(x, y).sum().backward()
    (gi,) = log
    assert len(gi) == 2 and gi[1] is None
    np.testing.assert_allclose(gi[0].numpy(), [3.0, 3.0])
    log.clear()
    m(y, x).sum().backward()
    assert log[0][0] is None and log[0][1].tolist() == [1.0, 1.0]


def test_backward_hook_wrong_length_raises():
    m = Scale()
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
    x = tl.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but expected 1"):
        m(x).sum().backward()


def test_backward_hooks_order_in_nested_modules(log):
    inner1, inner2 = Scale(), Scale()
    seq = nn.Sequential(inner1, inner2)
    for name, mod in (("seq", seq), ("m1", inner1), ("m2", inner2)):
        mod.register_full_backward_pre_hook(lambda m, go, name=name: log.append(name + " pre"))
        mod.register_full_backward_hook(lambda m, gi, go, name=name: log.append(name + " full"))
    x = tl.ones(2, requires_grad=True)
    seq(x).sum().backward()
    assert log == ["seq pre", "m2 pre", "m2 full", "m1 pre", "m1 full", "seq full"]
    np.testing.assert_allclose(x.grad.numpy(), [9.0, 9.0])


def test_backward_hooks_with_tuple_outputs_and_unused_output(log):
    class Two(nn.Module):
        def forward(self, x):
            return x * 2, x * 3

    m = Two()
    m.register_full_backward_hook(lambda mod, gi, go: log.append((gi, go)))
    x = tl.ones(2, requires_grad=True)
    a, b = m(x)
    a.sum().backward()
    (gi, go), = log
    assert go[1] is None and go[0].tolist() == [1.0, 1.0]
    assert gi[0].tolist() == [2.0, 2.0]


def test_global_backward_hooks_and_removal(log):
    h1 = module_mod.register_module_full_backward_pre_hook(lambda m, go: log.append("global pre"))
    h2 = module_mod.register_module_full_backward_hook(lambda m, gi, go: log.append("global full"))
    try:
        m = Scale()
        m.register_full_backward_hook(lambda mod, gi, go: log.append("module full"))
        m(tl.ones(1, requires_grad=True)).sum().backward()
        assert log == ["global pre", "global full", "module full"]
    finally:
        h1.remove()
        h2.remove()
    log.clear()
    Scale()(tl.ones(1, requires_grad=True)).sum().backward()
    assert log == []


def test_backward_hooks_not_set_up_under_no_grad(log):
    m = Scale()
    m.register_full_backward_hook(lambda *a: log.append("x"))
    m.register_forward_hook(lambda *a: log.append("fwd"))
    with tl.no_grad():
        out = m(tl.ones(1, requires_grad=True))
    assert out.grad_fn is None and log == ["fwd"]


def test_backward_hook_removed_before_backward_does_not_fire(log):
    m = Scale()
    h = m.register_full_backward_hook(lambda *a: log.append("x"))
    h.remove()
    m(tl.ones(1, requires_grad=True)).sum().backward()
    assert log == []


def test_backward_hook_module_gradients_match_plain_run():
    tl.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    x = tl.randn(5, 3, dtype=tl.float64, requires_grad=True)
    net(x).sum().backward()
    plain = [p.grad.numpy().copy() for p in net.parameters()] + [x.grad.numpy().copy()]
    net.zero_grad()
    x.grad = None
    for m in net.modules():
        m.register_full_backward_hook(lambda *a: None)
        m.register_full_backward_pre_hook(lambda *a: None)
    net(x).sum().backward()
    hooked = [p.grad.numpy() for p in net.parameters()] + [x.grad.numpy()]
    for a, b in zip(plain, hooked):
        np.testing.assert_allclose(a, b)
