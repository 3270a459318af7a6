"""Autograd: backward/grad options, higher-order gradients, version counters and in-place
rules, grad modes, autograd.Function, saved-tensor hooks, anomaly mode, gradcheck."""
import math
import warnings

import numpy as np
import pytest

import tensorlite as tl
from tensorlite.autograd import Function, gradcheck, gradgradcheck
from tensorlite.autograd.function import once_differentiable


def t64(values, requires_grad=True):
    return tl.tensor(values, dtype=tl.float64, requires_grad=requires_grad)


# ----------------------------------------------------------------------------- backward / grad

def test_backward_accumulates_across_calls():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 + 3, 4 + 3])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3, 3])


def test_backward_with_gradient_argument():
    x = t64([1.0, 2.0, 3.0])
    y = x * x
    y.backward(t64([1.0, 0.5, 0.0], False))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 0.0])


def test_second_backward_needs_retain_graph():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    e = np.exp([1.0, 2.0])
    np.testing.assert_allclose(x.grad.numpy(), 2 * (e + e * [1.0, 2.0]), rtol=1e-6)
    with pytest.raises(RuntimeError, match="Specify retain_graph=True"):
        y.backward()


def test_second_backward_through_freed_graph_raises_with_grad_too():
    x = tl.tensor([1.0], requires_grad=True)
    y = (x * x).sum()
    tl.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="Specify retain_graph=True"):
        tl.autograd.grad(y, x)


def test_grad_returns_without_touching_dot_grad():
    x = t64([1.0, 2.0])
    w = t64([3.0, 4.0])
    y = (x * w).sum()
    gx, gw = tl.autograd.grad(y, (x, w))
    np.testing.assert_allclose(gx.numpy(), [3, 4])
    np.testing.assert_allclose(gw.numpy(), [1, 2])
    assert x.grad is None and w.grad is None
    (g,) = tl.autograd.grad((x * x).sum(), x, grad_outputs=t64(2.0, False))
    np.testing.assert_allclose(g.numpy(), [4, 8])


def test_grad_of_intermediate_and_multiple_outputs():
    x = t64([1.0, 2.0])
    h = x * 2
    y1, y2 = (h * h).sum(), h.sum()
    (gh,) = tl.autograd.grad([y1, y2], [h])
    np.testing.assert_allclose(gh.numpy(), 2 * np.array([2, 4]) + 1)


def test_grad_stops_at_a_non_leaf_input():
    # as PyTorch: b's node (and its pre/post hooks) runs only if it leads to another input
    a = t64(1.0)
    b = a * 2
    c = b * 3
    ran = []
    b.grad_fn.register_prehook(lambda g: ran.append("pre"))
    b.grad_fn.register_hook(lambda gi, go: ran.append("post"))
    b.register_hook(lambda g: ran.append("tensor"))
    assert tl.autograd.grad(c, b, retain_graph=True)[0].item() == 3.0
    assert ran == ["tensor"]
    ran.clear()
    assert [g.item() for g in tl.autograd.grad(c, (a, b))] == [6.0, 3.0]
    assert ran == ["tensor", "pre", "post"]


def test_allow_unused():
    x, z = t64([1.0]), t64([2.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        tl.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = tl.autograd.grad(y, [x, z], allow_unused=True, retain_graph=True)
    assert gz is None and gx.tolist() == [2.0]
    gx, gz = tl.autograd.grad(y, [x, z], materialize_grads=True)
    assert gz.tolist() == [0.0]


def test_backward_inputs_restricts_accumulation():
    x, w = t64([1.0, 2.0]), t64([3.0, 4.0])
    y = (x * w).sum()
    y.backward(inputs=[x])
    assert w.grad is None
    np.testing.assert_allclose(x.grad.numpy(), [3, 4])
    h = x * 2
    (h * h).sum().backward(inputs=[h])
    np.testing.assert_allclose(h.grad.numpy(), [4, 8])
    np.testing.assert_allclose(x.grad.numpy(), [3, 4])  # unchanged
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (x * 2).sum().backward(inputs=[])


def test_non_scalar_backward_needs_gradient():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()
    assert x.grad is None


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        tl.tensor([1.0]).sum().backward()


def test_gradient_shape_mismatch_in_backward():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(tl.ones(3))


def test_diamond_graph_sums_gradients():
    x = t64([0.5])
    a = x.sin()
    y = a * a + a.exp()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [(2 * math.sin(0.5) + math.exp(math.sin(0.5))) * math.cos(0.5)])


def test_leaf_used_twice_and_non_float_outputs_do_not_require_grad():
    x = t64([1.0, -1.0])
    assert not (x > 0).requires_grad and not x.argmax().requires_grad
    y = x * x * x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_detach_and_requires_grad_rules():
    x = t64([1.0])
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    y = x * 2
    assert not y.is_leaf
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf variables"):
        y.requires_grad = False
    with pytest.raises(RuntimeError, match="floating point"):
        tl.tensor([1, 2]).requires_grad_()
    d.add_(1)  # detach shares memory and the version counter
    assert x.item() == 2.0 and x._version == 1


# ----------------------------------------------------------------------------- higher order

def test_create_graph_second_derivative():
    x = t64([0.3, 1.2])
    y = (x ** 3 + x.sin()).sum()
    (g,) = tl.autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * np.array([0.3, 1.2]) ** 2 + np.cos([0.3, 1.2]))
    assert g.requires_grad
    (g2,) = tl.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g2.numpy(), 6 * np.array([0.3, 1.2]) - np.sin([0.3, 1.2]))


def test_third_derivative_of_exp_times_x():
    x = t64([0.7])
    y = x * x.exp()
    (g1,) = tl.autograd.grad(y, x, create_graph=True)
    (g2,) = tl.autograd.grad(g1, x, create_graph=True)
    (g3,) = tl.autograd.grad(g2, x)
    e = math.exp(0.7)
    np.testing.assert_allclose([g1.item(), g2.item(), g3.item()], [e * 1.7, e * 2.7, e * 3.7])


def test_backward_create_graph_leaves_differentiable_grad():
    x = t64([2.0])
    (x ** 3).backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    np.testing.assert_allclose(g.item(), 12.0)
    x.grad = None
    g.backward()
    np.testing.assert_allclose(x.grad.item(), 12.0)  # d(3x^2)/dx = 6x


def test_gradgradcheck_composites():
    x = t64(np.random.default_rng(0).uniform(-1, 1, (2, 3)))
    assert gradgradcheck(lambda a: a.softmax(1), (x,))
    assert gradgradcheck(lambda a: (a.tanh() * a).sum(0), (x,))
    assert gradgradcheck(lambda a: a.var(1), (x,))


def test_hessian_vector_product_of_quadratic():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    x = t64([1.0, -1.0])
    y = 0.5 * (x @ t64(A, False) @ x)
    (g,) = tl.autograd.grad(y, x, create_graph=True)
    v = t64([1.0, 2.0], False)
    (hv,) = tl.autograd.grad((g * v).sum(), x)
    np.testing.assert_allclose(hv.numpy(), A @ [1.0, 2.0])


# ----------------------------------------------------------------------------- versions and in-place

def test_modifying_saved_tensor_raises():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y.sin()  # saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_modifying_saved_output_raises():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()  # saves its output
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation") as e:
        y.sum().backward()
    assert "ExpBackward0" in str(e.value) and "expected version 0" in str(e.value)


def test_leaf_inplace_error_changes_nothing():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        x[0] = 3.0
    assert x.tolist() == [1.0, 2.0] and x._version == 0 and x.grad_fn is None
    with tl.no_grad():
        x.add_(1)
    assert x.tolist() == [2.0, 3.0] and x._version == 1


def test_version_counter_counts_inplace_ops():
    x = tl.zeros(3)
    assert x._version == 0
    x.add_(1)
    x[0] = 5.0
    x.zero_()
    assert x._version == 3
    v = x[1:]
    v.fill_(2.0)
    assert x._version == 4 and v._version == 4
    assert x.tolist() == [0.0, 2.0, 2.0]


def test_inplace_on_non_leaf_gradient():
    a = t64([1.0, 2.0, 3.0])
    x = a * 1
    x.mul_(2)
    x.add_(a)  # x = 3a
    x.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 3.0, 3.0])


def test_inplace_mul_by_tensor_requiring_grad():
    a, b = t64([1.0, 2.0]), t64([3.0, 4.0])
    x = a * 1
    x.mul_(b)
    x.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [3, 4])
    np.testing.assert_allclose(b.grad.numpy(), [1, 2])


def test_inplace_on_view_of_non_leaf():
    a = t64([1.0, 2.0, 3.0])
    x = a * 1
    v = x[1:]
    v.mul_(2)
    assert x.grad_fn.name() == "CopySlices"
    np.testing.assert_allclose(x.detach().numpy(), [1, 4, 6])
    (x * t64([1.0, 10.0, 100.0], False)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [1.0, 20.0, 200.0])


def test_inplace_on_view_then_use_view():
    a = t64([1.0, 2.0, 3.0, 4.0])
    x = a * 1
    v = x.view(2, 2)[0]
    v.mul_(v.detach().clone())  # x[:2] = a[:2] * a[:2] (constant factor)
    (v.sum() + x.sum()).backward()
    np.testing.assert_allclose(x.detach().numpy(), [1, 4, 3, 4])
    np.testing.assert_allclose(a.grad.numpy(), [2 * 1, 2 * 2, 1, 1])


def test_index_add_pattern():
    a = t64([1.0, 2.0])
    x = a * 2
    x[0] += 1
    np.testing.assert_allclose(x.detach().numpy(), [3, 4])
    (x * x).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [2 * 3 * 2, 2 * 4 * 2])


def test_setitem_with_tensor_value_requiring_grad():
    v = t64([5.0, 6.0])
    x = tl.zeros(3, dtype=tl.float64)
    x[1:] = v * 2
    assert x.requires_grad
    x.sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), [2, 2])


def test_inplace_after_use_by_op_not_saving_it_is_fine():
    a = t64([1.0, 2.0])
    x = a * 1
    y = x + 1  # add saves nothing
    x.mul_(3)
    (y.sum() + x.sum()).backward()
    np.testing.assert_allclose(a.grad.numpy(), [4, 4])


def test_copy_and_zero_on_non_leaf():
    a, b = t64([1.0, 2.0]), t64([3.0, 4.0])
    x = a * 2
    x.copy_(b * 3)
    x.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0, 0])
    np.testing.assert_allclose(b.grad.numpy(), [3, 3])
    y = a * 2
    y.zero_()
    assert y.tolist() == [0, 0] and y.requires_grad


def test_inplace_with_detached_alias_of_saved_tensor_raises():
    a = t64([1.0, 2.0])
    x = a * 1
    x.mul_(x.detach())  # mul saved x.detach(), which shares x's version counter (as in PyTorch)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        x.sum().backward()


def test_int_index_is_a_view():
    x = tl.zeros(3)
    x[1].fill_(4.0)
    x[2].add_(1)
    assert x.tolist() == [0.0, 4.0, 1.0]


def test_view_of_leaf_inplace_raises():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x[0].mul_(2)
    assert x.tolist() == [1.0, 2.0]


# ----------------------------------------------------------------------------- grad modes

def test_grad_mode_context_managers():
    x = tl.tensor([1.0], requires_grad=True)
    with tl.no_grad():
        assert not tl.is_grad_enabled()
        y = x * 2
        with tl.enable_grad():
            z = x * 2
            assert tl.is_grad_enabled()
        assert not tl.is_grad_enabled()
    assert tl.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad
    with tl.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert tl.is_grad_enabled()


def test_grad_mode_restored_after_exception():
    with pytest.raises(ValueError):
        with tl.no_grad():
            raise ValueError
    assert tl.is_grad_enabled()


def test_grad_mode_decorators_bare_and_called():
    x = tl.tensor([1.0], requires_grad=True)

    @tl.no_grad
    def bare():
        return x * 2

    @tl.no_grad()
    def called():
        return x * 2

    @tl.enable_grad()
    def enabled():
        return x * 2

    @tl.set_grad_enabled(False)
    def disabled():
        return x * 2

    assert not bare().requires_grad and not called().requires_grad
    assert not disabled().requires_grad
    assert tl.is_grad_enabled()
    with tl.no_grad():
        assert enabled().requires_grad
    assert bare.__name__ == "bare"


def test_grad_mode_on_generator_functions():
    x = tl.tensor([1.0], requires_grad=True)
    seen = []

    @tl.no_grad()
    def gen():
        for _ in range(2):
            seen.append(tl.is_grad_enabled())
            got = yield x * 2
            seen.append(got)

    g = gen()
    first = next(g)
    assert tl.is_grad_enabled()  # restored between steps
    second = g.send("sent")
    assert not first.requires_grad and not second.requires_grad
    assert seen == [False, "sent", False]
    assert tl.is_grad_enabled()

    @tl.enable_grad
    def gen2():
        yield tl.is_grad_enabled()

    with tl.no_grad():
        assert list(gen2()) == [True]


def test_set_grad_enabled_as_plain_call():
    try:
        tl.set_grad_enabled(False)
        assert not tl.is_grad_enabled()
        x = tl.tensor([1.0], requires_grad=True)
        assert not (x * 2).requires_grad
        tl.set_grad_enabled(True)
        assert tl.is_grad_enabled()
    finally:
        tl.set_grad_enabled(True)


# ----------------------------------------------------------------------------- autograd.Function

class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        out = x.exp()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


class MulConst(Function):
    @staticmethod
    def forward(x, k):
        return x * k

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.k = inputs[1]

    @staticmethod
    def backward(ctx, g):
        return g * ctx.k, None


def test_function_old_style_with_saved_output():
    x = t64([0.5, 1.0])
    y = Exp.apply(x)
    assert y.grad_fn.name() == "ExpBackward"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, 1.0]))
    assert gradcheck(Exp.apply, (t64([0.1, 0.2]),))
    assert gradgradcheck(Exp.apply, (t64([0.1, 0.2]),))


def test_function_setup_context_style():
    x = t64([1.0, 2.0])
    MulConst.apply(x, 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3, 3])


def test_function_needs_input_grad_and_non_tensor_args():
    seen = {}

    class F(Function):
        @staticmethod
        def forward(ctx, a, n, b):
            seen["needs"] = ctx.needs_input_grad
            return a * n + b

        @staticmethod
        def backward(ctx, g):
            return (g * 2 if ctx.needs_input_grad[0] else None), None, (g if ctx.needs_input_grad[2] else None)

    a, b = t64([1.0]), t64([1.0], False)
    F.apply(a, 2, b).sum().backward()
    assert seen["needs"] == (True, False, False)
    assert a.grad.tolist() == [2.0]


def test_function_mark_dirty():
    class AddOne_(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    a = t64([1.0, 2.0])
    x = a * 2
    y = AddOne_.apply(x)
    assert y is x and x.grad_fn.name() == "AddOne_Backward"
    assert x.tolist() == [3.0, 5.0] and x._version == 1
    (y * y).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [2 * 3 * 2, 2 * 5 * 2])


def test_function_mark_non_differentiable():
    class SortLike(Function):
        @staticmethod
        def forward(ctx, x):
            idx = x.argmax()
            val = x * 1
            ctx.mark_non_differentiable(idx)
            return val, idx

        @staticmethod
        def backward(ctx, g, gi):
            assert gi is None or float(gi.sum()) == 0.0
            return g

    x = t64([1.0, 3.0])
    val, idx = SortLike.apply(x)
    assert val.requires_grad and not idx.requires_grad
    val.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_function_set_materialize_grads():
    received = {}

    class TwoOut(Function):
        @staticmethod
        def forward(ctx, x, materialize):
            ctx.set_materialize_grads(materialize)
            return x * 1, x * 2

        @staticmethod
        def backward(ctx, g1, g2):
            received["g2"] = g2
            return (g1 if g1 is not None else 0) + (g2 * 2 if g2 is not None else 0), None

    x = t64([1.0])
    a, _ = TwoOut.apply(x, True)
    a.sum().backward()
    assert received["g2"].tolist() == [0.0]
    x.grad = None
    a, _ = TwoOut.apply(x, False)
    a.sum().backward()
    assert received["g2"] is None and x.grad.tolist() == [1.0]


def test_function_saved_tensors_freed_after_backward():
    x = t64([1.0])
    y = Exp.apply(x)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="Specify retain_graph=True"):
        y.grad_fn.saved_tensors


def test_function_wrong_number_of_gradients():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g, g

    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(t64([1.0])).sum().backward()


def test_once_differentiable():
    class Sq(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            assert not tl.is_grad_enabled()
            return 2 * x * g

    x = t64([3.0])
    (g,) = tl.autograd.grad(Sq.apply(x), x)
    assert g.tolist() == [6.0]
    go = t64([1.0])  # a grad_output that requires grad, as in PyTorch's test
    (g,) = tl.autograd.grad(Sq.apply(x), x, grad_outputs=go, create_graph=True)
    assert g.tolist() == [6.0] and g.requires_grad
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.backward()


# ----------------------------------------------------------------------------- saved tensor hooks

def test_saved_tensors_hooks_pack_and_unpack_are_used():
    packed, unpacked = [], []

    def pack(t):
        packed.append(t)
        return ("box", t.detach().numpy().copy())

    def unpack(box):
        unpacked.append(box)
        return tl.tensor(box[1] * 10, dtype=tl.float64)  # the unpacked value is what backward sees

    x = t64([1.0, 2.0])
    with tl.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = x.sin()
    assert len(packed) == 1 and packed[0] is x
    y.sum().backward()
    assert len(unpacked) == 1
    np.testing.assert_allclose(x.grad.numpy(), np.cos([10.0, 20.0]))
    z = x.sin()  # hooks no longer active
    assert len(packed) == 1
    del z


# ----------------------------------------------------------------------------- anomaly mode

def test_detect_anomaly_nan_message():
    class NanBw(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g * float("nan")

    x = t64([1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with tl.autograd.detect_anomaly():
            y = NanBw.apply(x)
            with pytest.raises(RuntimeError, match="Function 'NanBwBackward' returned nan values in its 0th output"):
                y.sum().backward()
    NanBw.apply(x).sum().backward()  # outside anomaly mode the NaN passes through
    assert np.isnan(x.grad.numpy()).all()


def test_detect_anomaly_warns_with_forward_trace():
    class Boom(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            raise ValueError("boom")

    def user_forward_line(x):
        return Boom.apply(x)

    x = t64([1.0])
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        cm = tl.autograd.detect_anomaly()
    with cm:
        y = user_forward_line(x)
        with pytest.warns(RuntimeWarning, match="Error detected in BoomBackward") as rec:
            with pytest.raises(ValueError, match="boom"):
                y.sum().backward()
    assert any("user_forward_line" in str(w.message) for w in rec)
    assert not tl.autograd.is_anomaly_enabled()
    assert y.grad_fn._anomaly_trace is not None
    assert (x * 2).grad_fn._anomaly_trace is None


# ----------------------------------------------------------------------------- gradcheck itself

def test_gradcheck_catches_wrong_backward():
    class WrongSin(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.cos() * 1.01

    x = t64([0.1, 0.5])
    with pytest.raises(tl.autograd.GradcheckError, match="Jacobian mismatch"):
        gradcheck(WrongSin.apply, (x,))
    assert gradcheck(WrongSin.apply, (x,), raise_exception=False) is False
    assert x.tolist() == [0.1, 0.5]  # inputs restored after perturbation


def test_view_used_after_base_modified_in_place():
    a = t64([1.0, 2.0, 3.0])
    x = a * 1
    v = x[1:]
    x.mul_(2)  # v now holds 2 * a[1:]: its gradient must go through the mul
    np.testing.assert_allclose(v.detach().numpy(), [4.0, 6.0])
    (v * v).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.0, 2 * 4 * 2, 2 * 6 * 2])


def test_sibling_view_after_inplace_on_other_view():
    a = t64([1.0, 2.0, 3.0, 4.0])
    x = a * 1
    v1, v2 = x[:2], x.view(2, 2)[:, 0]  # v2 overlaps v1 at element 0
    v1.mul_(3)
    np.testing.assert_allclose(v2.detach().numpy(), [3.0, 3.0])
    v2.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 0.0, 1.0, 0.0])


def test_retain_grad_follows_the_tensor_through_inplace_ops():
    a = t64([1.0]).clone()
    a.retain_grad()
    a.mul_(2)
    a.mul_(3)
    (a * 5).sum().backward()
    assert a.grad.tolist() == [5.0]  # d/d(latest a), as PyTorch; not the clone's 30
    base = t64([1.0]).clone()
    view, view2 = base[:], base[:]
    view.retain_grad()
    view2.retain_grad()
    view.mul_(2)  # both views now read the base's new history
    (view * 3 + view2 * 4).sum().backward()
    assert (view.grad.tolist(), view2.grad.tolist()) == ([3.0], [4.0])


def test_retained_view_not_used_after_its_inplace_gets_no_grad():
    base = t64([1.0]).clone()
    view = base[:]
    view.retain_grad()
    view.mul_(2)
    (base * 5).sum().backward()
    assert view.grad is None  # as PyTorch: its regenerated node is not in this graph


def test_hooks_on_a_view_stay_with_the_version_they_were_registered_on():
    base = t64([1.0, 2.0]).clone()
    view, view2 = base[:1], base[1:]
    calls = []
    view.register_hook(lambda g: calls.append(("old view", g.tolist())))
    view2.register_hook(lambda g: calls.append(("old view2", g.tolist())))
    y = view * 3  # reads the old view: its hook fires for this path only
    view.mul_(2)
    # a hook goes to the node in use, regenerated first (PyTorch puts a stale view's second
    # hook where its first one is, on the old node, unless view2.grad_fn was read before)
    view2.register_hook(lambda g: calls.append(("new view2", g.tolist())))
    (view * 5 + y + view2 * 7).sum().backward()
    assert sorted(calls) == [("new view2", [7.0]), ("old view", [3.0])]


def test_unbind_is_one_node_whose_outputs_are_views():
    x = t64([[1.0, 2.0], [3.0, 4.0]])
    y = x * 1
    a, b = y.unbind(1)
    assert a.grad_fn is b.grad_fn and a.grad_fn.name() == "UnbindBackward0"
    assert (a.output_nr, b.output_nr) == (0, 1) and a._base is y and b._base is y
    b.mul_(3)  # writes through to y, as in PyTorch (which forbids it: tensorlite allows it)
    assert y.tolist() == [[1.0, 6.0], [3.0, 12.0]]
    (y.sum() + a.sum()).backward()
    assert x.grad.tolist() == [[2.0, 3.0], [2.0, 3.0]]
    assert gradcheck(lambda t: t.unbind(0), (t64([[1.0, 2.0], [3.0, 4.0]]),))


def test_unbind_outputs_are_views_under_fake_tensors():
    # dynamo traces with fake tensors: an in-place write through any output must reach the base
    from tensorlite._modes import FakeTensorMode
    with FakeTensorMode() as m:
        x = m.from_real(tl.ones(2, 3))
        a, b = x.unbind(0)
    assert a._base is x and b._base is x
    assert [t._view_chain[-1][2]["spec"] for t in (a, b)] == [(0,), (1,)]


def test_var_mean_is_one_node_with_var_and_mean_values():
    x = t64([[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]])
    var, mean = tl.var_mean(x, dim=1)
    assert var.grad_fn is mean.grad_fn and var.grad_fn.name() == "VarMeanBackward0"
    np.testing.assert_allclose(var.detach().numpy(), x.detach().numpy().var(1, ddof=1))
    np.testing.assert_allclose(mean.detach().numpy(), [7 / 3, 17 / 3])
    v0, m0 = tl.var_mean(x, unbiased=False, keepdim=True)
    assert v0.shape == (1, 1) and v0.item() == pytest.approx(x.detach().numpy().var())
    with pytest.raises(RuntimeError, match="var_mean only support floating point"):
        tl.var_mean(tl.tensor([1, 2]))
    assert gradcheck(lambda t: tl.var_mean(t, 0, correction=0), (x,))
    assert gradgradcheck(lambda t: tl.var_mean(t, (0, 1), keepdim=True), (x,))


def test_mark_non_differentiable_on_input_returned_unchanged():
    class Id(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.mark_non_differentiable(b)
            return a, b

        @staticmethod
        def backward(ctx, ga, gb):
            return ga, gb

    a = tl.ones(2, requires_grad=True)
    x, y = Id.apply(a, tl.ones(2))
    assert x.requires_grad and x.grad_fn is not None
    assert not y.requires_grad and y.grad_fn is None
    # also when the marked input itself requires grad
    b = tl.ones(2, requires_grad=True)
    x, y = Id.apply(a, b)
    assert not y.requires_grad and y.grad_fn is None and y is not b
    x.sum().backward()
    assert a.grad.tolist() == [1.0, 1.0]
    assert b.grad.tolist() == [0.0, 0.0]  # the materialized zero grad of y, as in PyTorch


def test_saved_tensors_hooks_unpacked_leaf_keeps_history_for_double_backward():
    x = t64([1.0, 2.0])
    with tl.autograd.graph.saved_tensors_hooks(lambda t: t.detach(), lambda t: t):
        y = x * x
    g, = tl.autograd.grad(y.sum(), x, create_graph=True)
    assert g.requires_grad
    np.testing.assert_allclose(g.detach().numpy(), [2.0, 4.0])
    gg, = tl.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), [2.0, 2.0])


def test_saved_tensors_hooks_unpacked_nonleaf_and_output_keep_history():
    x = t64([0.5, 1.5])
    with tl.autograd.graph.saved_tensors_hooks(lambda t: t.detach() * 1, lambda t: t):
        h = x * 3          # non-leaf saved as an input of sin
        y = h.sin().exp()  # exp saves its output
    g, = tl.autograd.grad(y.sum(), x, create_graph=True)
    gg, = tl.autograd.grad(g.sum(), x)
    x2 = t64([0.5, 1.5])
    y2 = (x2 * 3).sin().exp()
    g2, = tl.autograd.grad(y2.sum(), x2, create_graph=True)
    gg2, = tl.autograd.grad(g2.sum(), x2)
    np.testing.assert_allclose(g.detach().numpy(), g2.detach().numpy())
    np.testing.assert_allclose(gg.numpy(), gg2.numpy())
    # .backward(create_graph=True) accumulates into the original leaf too
    x.grad = None
    with tl.autograd.graph.saved_tensors_hooks(lambda t: t.detach(), lambda t: t):
        z = (x * x).sum()
    z.backward(create_graph=True)
    assert x.grad.requires_grad
    x.grad.sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), [1.0 + 2.0, 3.0 + 2.0])


def test_grad_mode_is_per_thread():
    import threading

    from tensorlite import _state

    seen = []
    with tl.no_grad():
        t = threading.Thread(target=lambda: seen.append(tl.is_grad_enabled()))
        t.start()
        t.join()
        assert not tl.is_grad_enabled()
    assert seen == [True] and tl.is_grad_enabled() and _state.grad_enabled
