"""Hooks: tensor hooks, retain_grad, post-accumulate-grad hooks, node pre/post hooks,
multi-grad hooks, and the order PyTorch runs them in."""
import numpy as np
import pytest

import tensorlite as tl
from tensorlite.autograd.graph import register_multi_grad_hook
from tensorlite.utils.hooks import RemovableHandle


def leaf(values):
    return tl.tensor(values, dtype=tl.float64, requires_grad=True)


# ----------------------------------------------------------------------------- tensor hooks

def test_hooks_chain_in_registration_order():
    x = leaf([1.0, 2.0])
    calls = []
    x.register_hook(lambda g: calls.append(("a", g.tolist())) or g * 2)
    x.register_hook(lambda g: calls.append(("b", g.tolist())) or g + 1)
    (x * 3).sum().backward()
    assert calls == [("a", [3.0, 3.0]), ("b", [6.0, 6.0])]
    assert x.grad.tolist() == [7.0, 7.0]


def test_hook_returning_none_keeps_gradient():
    x = leaf([1.0])
    seen = []
    h = x.register_hook(lambda g: seen.append(g.item()))
    assert isinstance(h, RemovableHandle)
    (x * 5).sum().backward()
    assert seen == [5.0] and x.grad.item() == 5.0


def test_hook_removal_is_idempotent():
    x = leaf([1.0])
    h = x.register_hook(lambda g: g * 100)
    h.remove()
    h.remove()
    (x * 2).sum().backward()
    assert x.grad.item() == 2.0
    with x.register_hook(lambda g: g * 0):
        pass  # a handle is also a context manager that removes the hook
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.item() == 2.0


def test_hook_on_intermediate_sees_total_gradient_and_changes_upstream():
    x = leaf([2.0])
    h = x * 3
    seen = []

    def hook(g):
        seen.append(g.item())
        return g * 10

    h.register_hook(hook)
    y = h * h + h  # dy/dh = 2h + 1 = 13, flowing in along two paths
    y.sum().backward()
    assert seen == [13.0]
    assert x.grad.item() == 13.0 * 10 * 3
    assert h.grad is None  # non-leaf .grad stays empty without retain_grad


def test_hook_on_leaf_changes_accumulated_grad_only():
    x = leaf([1.0, 1.0])
    x.register_hook(lambda g: g * 0.5)
    y = x * 4
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_register_hook_requires_grad():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        tl.tensor([1.0]).register_hook(lambda g: g)


def test_hook_returning_wrong_shape_raises_and_keeps_grad():
    x = leaf([1.0, 2.0])
    x.grad = tl.tensor([5.0, 5.0], dtype=tl.float64)

    def bad_hook(g):
        return g.sum()

    x.register_hook(bad_hook)
    with pytest.raises(RuntimeError, match=r"hook 'test_hook_returning_wrong_shape_raises_and_keeps_grad.<locals>.bad_hook' has changed the size of value: expected \[2\], got \[\]"):
        (x * 2).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]


def test_hook_returning_non_tensor_raises():
    x = leaf([1.0])
    x.register_hook(lambda g: 3)
    with pytest.raises(TypeError, match="expected a Tensor or None"):
        (x * 2).sum().backward()


# ----------------------------------------------------------------------------- retain_grad

def test_retain_grad():
    x = leaf([1.0, 2.0])
    h = x * 2
    h.retain_grad()
    h.retain_grad()  # idempotent
    assert h.retains_grad and not x.retains_grad
    (h * h).sum().backward(retain_graph=True)
    assert h.grad.tolist() == [4.0, 8.0]
    (h * h).sum().backward()
    assert h.grad.tolist() == [8.0, 16.0]  # accumulates like a leaf
    x.retain_grad()  # no-op on a leaf
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        tl.ones(1).retain_grad()


def test_retain_grad_sees_hook_modified_gradient():
    x = leaf([1.0])
    h = x * 2
    h.retain_grad()
    h.register_hook(lambda g: g * 3)  # registered after retain_grad; still runs first
    h.sum().backward()
    assert h.grad.item() == 3.0


# ----------------------------------------------------------------------------- post accumulate

def test_post_accumulate_grad_hook():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_post_accumulate_grad_hook(lambda t: seen.append((t is x, t.grad.tolist())))
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    assert seen == [(True, [2.0, 2.0]), (True, [4.0, 4.0])]


def test_post_accumulate_grad_hook_can_update_in_place():
    w = leaf([1.0])

    def sgd(p):
        with tl.no_grad():
            p.sub_(p.grad * 0.1)
        p.grad = None

    w.register_post_accumulate_grad_hook(sgd)
    (w * 3).sum().backward()
    assert w.grad is None and w.item() == pytest.approx(0.7)


def test_post_accumulate_grad_hook_rules():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)
    x.register_post_accumulate_grad_hook(lambda t: t)
    with pytest.raises(RuntimeError, match=r"^Tensor post accumulate grad hooks should return None\.$"):
        (x * 2).sum().backward()


def test_accumulate_grad_posthook_sees_grad_changed_by_post_accumulate_hook():
    # PyTorch steals the first gradient into .grad: the node's grad_outputs[0] is .grad
    x = leaf([1.0])
    seen = []
    x.register_post_accumulate_grad_hook(lambda t: t.grad.add_(0.5) and None)
    acc = (x * 1).grad_fn.next_functions[0][0]
    acc.register_hook(lambda grad_in, grad_out: seen.append((grad_in, grad_out[0].tolist())))
    (x * 2).sum().backward()
    assert seen == [((), [2.5])]
    (x * 2).sum().backward()  # later ones add into .grad: grad_outputs[0] is the incoming one
    assert seen[1] == ((), [2.0]) and x.grad.tolist() == [5.0]


# ----------------------------------------------------------------------------- node hooks

def test_node_names_and_next_functions():
    x = leaf([1.0])
    w = leaf([2.0])
    y = (x * w).sin()
    assert y.grad_fn.name() == "SinBackward0"
    (mul, _), = y.grad_fn.next_functions
    assert mul.name() == "MulBackward0"
    names = [(f.name(), nr) for f, nr in mul.next_functions]
    assert names == [("torch::autograd::AccumulateGrad", 0)] * 2  # PyTorch's name()
    assert mul.next_functions[0][0].variable is x
    z = x * 2  # a non-tensor operand has no edge
    assert z.grad_fn.next_functions[1] == (None, 0)
    assert (x + 1).grad_fn.name() == "AddBackward0" and x.sum().grad_fn.name() == "SumBackward0"
    assert x.view(1).grad_fn.name() == "ViewBackward0" and x.view(1, 1).permute(1, 0).grad_fn.name() == "PermuteBackward0"
    assert (x @ w).grad_fn.name() == "MmBackward0" and x.grad_fn is None


def test_node_prehook_and_posthook_values():
    x = leaf([1.0, 2.0])
    y = x.exp()
    seen = {}

    def pre(grad_outputs):
        seen["pre"] = [g.tolist() for g in grad_outputs]
        return (grad_outputs[0] * 2,)

    def post(grad_inputs, grad_outputs):
        seen["post_in"] = [g.tolist() for g in grad_inputs]
        seen["post_out"] = [g.tolist() for g in grad_outputs]
        return (grad_inputs[0] + 1,)

    y.grad_fn.register_prehook(pre)
    y.grad_fn.register_hook(post)
    y.sum().backward()
    e = np.exp([1.0, 2.0])
    assert seen["pre"] == [[1.0, 1.0]]
    assert seen["post_out"] == [[2.0, 2.0]]
    np.testing.assert_allclose(seen["post_in"][0], 2 * e)
    np.testing.assert_allclose(x.grad.numpy(), 2 * e + 1)


def test_node_hook_removal():
    x = leaf([1.0])
    y = x * 2
    h1 = y.grad_fn.register_prehook(lambda go: (go[0] * 100,))
    h2 = y.grad_fn.register_hook(lambda gi, go: (gi[0] * 100, None))
    h1.remove()
    h2.remove()
    h2.remove()
    y.sum().backward()
    assert x.grad.item() == 2.0


def test_full_order_for_intermediate_and_leaf():
    log = []
    x = leaf([1.0])
    y = x * 2
    z = y.sin()
    acc = y.grad_fn.next_functions[0][0]
    # leaf x
    x.register_hook(lambda g: log.append("x tensor hook 1"))
    x.register_hook(lambda g: log.append("x tensor hook 2"))
    acc.register_prehook(lambda go: log.append("acc prehook"))
    acc.register_hook(lambda gi, go: log.append("acc posthook"))
    x.register_post_accumulate_grad_hook(lambda t: log.append(f"x post-accumulate (grad set: {t.grad is not None})"))
    # intermediate y (its grad_fn is MulBackward0)
    y.grad_fn.register_hook(lambda gi, go: log.append("mul posthook"))
    y.grad_fn.register_prehook(lambda go: log.append("mul prehook"))
    y.register_hook(lambda g: log.append("y tensor hook"))
    z.grad_fn.register_prehook(lambda go: log.append("sin prehook"))
    z.grad_fn.register_hook(lambda gi, go: log.append("sin posthook"))
    z.register_hook(lambda g: log.append("z tensor hook"))
    z.sum().backward()
    assert log == [
        "z tensor hook", "sin prehook", "sin posthook",
        "y tensor hook", "mul prehook", "mul posthook",
        "x tensor hook 1", "x tensor hook 2", "acc prehook",
        "x post-accumulate (grad set: True)", "acc posthook",
    ]


def test_tensor_hooks_see_gradient_before_node_prehook_changes_it():
    x = leaf([1.0])
    y = x * 3
    seen = []
    y.grad_fn.register_prehook(lambda go: (go[0] * 2,))
    y.register_hook(lambda g: seen.append(("tensor", g.item())))
    y.grad_fn.register_prehook(lambda go: seen.append(("pre", go[0].item())))
    y.sum().backward()
    assert seen == [("tensor", 1.0), ("pre", 2.0)]
    assert x.grad.item() == 6.0


def test_hook_on_an_output_that_got_no_gradient_sees_none():
    # PyTorch: unbind is one node; backward from xs[1] calls xs[0]'s hook with None
    x = leaf([1.0, 2.0, 3.0])
    xs = x.unbind()
    seen = []
    xs[0].register_hook(lambda g: seen.append(None if g is None else g.item()))
    xs[0].retain_grad()
    xs[1].backward()
    assert seen == [None] and xs[0].grad is None and x.grad.tolist() == [0.0, 1.0, 0.0]
    xs[0].register_hook(lambda g: tl.ones(()))
    with pytest.raises(RuntimeError, match="can't replace a None gradient with a non-None value"):
        xs[2].backward()


def test_prehook_of_var_mean_node_sees_both_gradients():
    a = leaf([[1.0, 2.0], [4.0, 8.0]])
    var, mean = tl.var_mean(a, dim=0)
    seen = []
    mean.grad_fn.register_prehook(lambda go: seen.append([None if g is None else g.tolist() for g in go]))
    (var * 2).sum().backward()
    assert seen == [[[2.0, 2.0], None]]


# ----------------------------------------------------------------------------- multi grad hooks

def test_multi_grad_hook_all_mode():
    a, b, c = leaf([1.0]), leaf([2.0]), leaf([3.0])
    calls = []
    register_multi_grad_hook((a, b, c), lambda grads: calls.append(
        tuple(None if g is None else g.item() for g in grads)))
    (a * 2 + b * 3).sum().backward()
    assert calls == [(2.0, 3.0, None)]  # c got no gradient: None, and the hook fired once
    (a * 5 + c).sum().backward()
    assert calls[1] == (5.0, None, 1.0)
    (a * b * c).sum().backward()
    assert calls[2] == (6.0, 3.0, 2.0) and len(calls) == 3


def test_multi_grad_hook_any_mode():
    a, b = leaf([1.0]), leaf([2.0])
    calls = []
    handle = register_multi_grad_hook((a, b), lambda g: calls.append(g.item()), mode="any")
    (a * 2 + b * 3).sum().backward()
    assert len(calls) == 1 and calls[0] in (2.0, 3.0)
    (b * 7).sum().backward()
    assert calls[1] == 7.0 and len(calls) == 2
    handle.remove()
    (a * 2).sum().backward()
    assert len(calls) == 2


def test_multi_grad_hook_on_intermediates():
    x = leaf([1.0, 2.0])
    h1, h2 = x * 2, x * 3
    got = []
    register_multi_grad_hook([h1, h2], lambda grads: got.append([g.tolist() for g in grads]))
    (h1 * h2).sum().backward()
    assert got == [[[3.0, 6.0], [2.0, 4.0]]]


def test_multi_grad_hook_all_mode_forgets_a_backward_that_raised():
    class Boom(tl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            raise ValueError("boom")

    a, b = leaf([1.0]), leaf([2.0])
    calls = []
    register_multi_grad_hook((a, b), lambda grads: calls.append([g.item() for g in grads]))
    with pytest.raises(ValueError):
        (Boom.apply(b) + a * 2).sum().backward()  # a's gradient arrives, then Boom raises
    assert calls == []
    (a * 4 + b * 5).sum().backward()  # not fired early with a's gradient from the failed run
    assert calls == [[4.0, 5.0]]


def test_multi_grad_hook_bad_mode():
    with pytest.raises(ValueError, match="Expects mode"):
        register_multi_grad_hook([leaf([1.0])], lambda g: None, mode="some")
