"""make_fx: primitive-level graphs, replayed against eager (values and gradients)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fxlite
import tensorlite as tl
from fxlite.serialize import TensorMeta
from tensorlite._modes import DataDependentError, is_fake


def assert_expected_inline(actual, expected):
    assert actual.strip("\n") == expected.strip("\n"), "\n" + actual


def readable(gm):
    return gm.print_readable(print_output=False)


def close(a, b, tol=1e-5):
    np.testing.assert_allclose(np.asarray(a._data, dtype=np.float64), np.asarray(b._data, dtype=np.float64),
                               rtol=tol, atol=tol)


# ------------------------------------------------------------------------------ printing
def test_print_single_op():
    def f(x):
        return tl.sin(x)

    gm = fxlite.make_fx(f)(tl.ones(3))
    assert type(gm).__name__ == "f"
    assert_expected_inline(readable(gm), '''
class f(tl.nn.Module):
    def forward(self, x_1: "f32[3]"):
        sin: "f32[3]" = tl.ops.sin(x_1);  x_1 = None
        return sin
''')


def test_print_tuple_output_and_methods():
    def f(x, y):
        a = x.relu() * 2
        b = (a @ y).sum(dim=1, keepdim=True)
        return a, b

    gm = fxlite.make_fx(f)(tl.ones(2, 3), tl.ones(3, 4))
    assert_expected_inline(readable(gm), '''
class f(tl.nn.Module):
    def forward(self, x_1: "f32[2, 3]", y_1: "f32[3, 4]"):
        relu: "f32[2, 3]" = tl.ops.relu(x_1);  x_1 = None
        mul: "f32[2, 3]" = tl.ops.mul(relu, 2);  relu = None
        matmul: "f32[2, 4]" = tl.ops.matmul(mul, y_1);  y_1 = None
        sum_1: "f32[2, 1]" = tl.ops.sum(matmul, dims = (1,), keepdim = True, dtype = None);  matmul = None
        return (mul, sum_1)
''')


def test_print_backward_inside_fn():
    def f(x, w):
        loss = (x * w).sum()
        loss.backward()
        return x.grad, w.grad

    gm = fxlite.make_fx(f)(tl.ones(3, requires_grad=True), tl.ones(3, requires_grad=True))
    assert_expected_inline(readable(gm), '''
class f(tl.nn.Module):
    def forward(self, x_1: "f32[3]", w_1: "f32[3]"):
        mul: "f32[3]" = tl.ops.mul(x_1, w_1)
        sum_1: "f32[]" = tl.ops.sum(mul, dims = (0,), keepdim = False, dtype = None);  mul = sum_1 = None
        full: "f32[]" = tl.ops.full(shape = (), value = 1, dtype = tl.float32)
        reshape: "f32[1]" = tl.ops.reshape(full, shape = (1,));  full = None
        expand: "f32[3]" = tl.ops.expand(reshape, shape = (3,));  reshape = None
        mul_1: "f32[3]" = tl.ops.mul(expand, w_1);  w_1 = None
        mul_2: "f32[3]" = tl.ops.mul(expand, x_1);  expand = x_1 = None
        clone: "f32[3]" = tl.ops.clone(mul_1);  mul_1 = None
        clone_1: "f32[3]" = tl.ops.clone(mul_2);  mul_2 = None
        return (clone, clone_1)
''')


def test_print_constants_inplace_and_control_flow():
    c = tl.tensor([1.0, 2.0, 3.0])

    def f(x):
        z = tl.zeros(3)
        z.add_(x)
        z[0] = 5.0
        if x.sum() > 0:  # real values: the branch taken is baked in
            z = z * c
        else:
            z = z - c
        return z

    gm = fxlite.make_fx(f)(tl.ones(3))
    assert_expected_inline(readable(gm), '''
class f(tl.nn.Module):
    def forward(self, x_1: "f32[3]"):
        full: "f32[3]" = tl.ops.full(shape = (3,), value = 0, dtype = tl.float32)
        add: "f32[3]" = tl.ops.add(full, x_1);  full = None
        index_put: "f32[3]" = tl.ops.index_put(add, 5.0, spec = (0,), accumulate = False);  add = None
        sum_1: "f32[]" = tl.ops.sum(x_1, dims = (0,), keepdim = False, dtype = None);  x_1 = None
        gt: "b8[]" = tl.ops.gt(sum_1, 0);  sum_1 = gt = None
        _tensor_constant0: "f32[3]" = self._tensor_constant0
        mul: "f32[3]" = tl.ops.mul(index_put, _tensor_constant0);  index_put = _tensor_constant0 = None
        return mul
''')
    assert gm._tensor_constant0 is c
    close(gm(tl.tensor([1.0, -2.0, 4.0])), f(tl.tensor([1.0, -2.0, 4.0])))


def test_stack_traces():
    def f(x):
        y = x.cos()
        return y * y

    gm = fxlite.make_fx(f, record_stack_traces=True)(tl.ones(2))
    nodes = [n for n in gm.graph.nodes if n.op == "call_function"]
    assert all("test_make_fx.py" in n.meta["stack_trace"] for n in nodes)
    text = readable(gm)
    assert "# File: " in text and "code: y = x.cos()" in text and "code: return y * y" in text


# ------------------------------------------------------------------------------ meta
def test_every_node_has_val():
    def f(x, w):
        h = (x @ w).tanh()
        loss = h.mean()
        gx, gw = tl.autograd.grad(loss, [x, w])
        return loss, gx, gw

    gm = fxlite.make_fx(f)(tl.randn(4, 3, requires_grad=True), tl.randn(3, 2, requires_grad=True))
    for n in gm.graph.nodes:
        if n.op != "output":
            v = n.meta["val"]
            assert isinstance(v, TensorMeta) and hasattr(v, "requires_grad"), n
    vals = {n.name: n.meta["val"] for n in gm.graph.nodes if n.op != "output"}
    assert vals["x_1"] == TensorMeta((4, 3), tl.float32, True)
    assert vals["matmul"] == TensorMeta((4, 2), tl.float32, True)
    assert all(n.op == "call_function" and isinstance(n.target, type(tl.ops.sin))
               for n in gm.graph.nodes if n.op not in ("placeholder", "output", "get_attr"))


def test_fake_mode_computes_no_values():
    def f(x, w):
        loss = (x @ w).relu().sum()
        loss.backward()
        return loss, w.grad

    x, w = tl.randn(64, 32, requires_grad=True), tl.randn(32, 16, requires_grad=True)
    gm_fake = fxlite.make_fx(f, tracing_mode="fake")(x, w)
    gm_real = fxlite.make_fx(f)(x, w)
    assert gm_fake.code == gm_real.code
    assert all(is_fake(n.meta["val"]) for n in gm_fake.graph.nodes if n.op != "output")
    assert x.grad is None and w.grad is None  # tracing never touches the caller's tensors
    out, gw = gm_fake(x, w)
    w2 = w.detach().requires_grad_()
    ref = (x.detach() @ w2).relu().sum()
    ref.backward()
    close(out, ref)
    close(gw, w2.grad)


def test_fake_mode_data_dependent_control_flow_raises():
    def f(x):
        return x * 2 if x.sum() > 0 else x

    with pytest.raises(DataDependentError, match="bool"):
        fxlite.make_fx(f, tracing_mode="fake")(tl.ones(3))
    with pytest.raises(ValueError, match="tracing_mode"):
        fxlite.make_fx(f, tracing_mode="symbolic")


# ------------------------------------------------------------------------------ autograd.Function
class Square(tl.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g


def test_autograd_function_traced_through():
    def f(x):
        y = Square.apply(x).sum()
        (gx,) = tl.autograd.grad(y, [x])
        return y, gx

    gm = fxlite.make_fx(f)(tl.ones(3, requires_grad=True))
    assert_expected_inline(readable(gm), '''
class f(tl.nn.Module):
    def forward(self, x_1: "f32[3]"):
        mul: "f32[3]" = tl.ops.mul(x_1, x_1)
        sum_1: "f32[]" = tl.ops.sum(mul, dims = (0,), keepdim = False, dtype = None);  mul = None
        full: "f32[]" = tl.ops.full(shape = (), value = 1, dtype = tl.float32)
        reshape: "f32[1]" = tl.ops.reshape(full, shape = (1,));  full = None
        expand: "f32[3]" = tl.ops.expand(reshape, shape = (3,));  reshape = None
        mul_1: "f32[3]" = tl.ops.mul(2, x_1);  x_1 = None
        mul_2: "f32[3]" = tl.ops.mul(mul_1, expand);  mul_1 = expand = None
        return (sum_1, mul_2)
''')
    x = tl.tensor([1.0, -2.0, 0.5])
    y, gx = gm(x)
    close(gx, 2 * x)


# ------------------------------------------------------------------------------ in-place + views
def test_inplace_through_view_is_functionalized():
    def f(x, y):
        v = x[1:]
        v.mul_(2)
        x.add_(1)
        return x @ y.t()

    gm = fxlite.make_fx(f)(tl.ones(3, 3), tl.ones(2, 3))
    targets = [n.target.name for n in gm.graph.nodes if n.op == "call_function"]
    assert "view_scatter" in targets
    a, b = tl.randn(3, 3), tl.randn(2, 3)
    close(gm(a, b), f(a.clone(), b))


def test_grad_accumulates_over_two_backwards():
    def f(x):
        (x * 3).sum().backward()
        (x * x).sum().backward()
        return x.grad

    gm = fxlite.make_fx(f)(tl.ones(2, requires_grad=True))
    x = tl.tensor([1.5, -1.0])
    close(gm(x), 3 + 2 * x)


def test_replay_matches_eager_on_new_values_module():
    lin = tl.nn.Linear(3, 2)

    def f(x):
        out = lin(x).relu().sum()
        out.backward()
        return out, lin.weight.grad

    gm = fxlite.make_fx(f)(tl.randn(4, 3))
    lin.weight.grad = None
    lin.bias.grad = None
    x = tl.randn(4, 3)
    out, gw = gm(x)
    ref = lin(x).relu().sum()
    ref.backward()
    close(out, ref)
    close(gw, lin.weight.grad)
    assert any(n.op == "get_attr" for n in gm.graph.nodes)  # the parameters are constants


FNS = [
    lambda x: (x.sin() * x.exp()).sum(),
    lambda x: (x.softmax(-1) * x).sum(),
    lambda x: (x.tanh() - x.sigmoid() ** 2).mean(),
    lambda x: (x.reshape(-1).unsqueeze(0) @ x.reshape(-1, 1)).sum(),
    lambda x: x.t().clamp(-0.5, 0.5).abs().sum() + x.amax(),
    lambda x: tl.cat([x, x * 2], 0).var(),
    lambda x: tl.where(x > 0, x, x * 0.1).sum(),
    lambda x: x[..., :1].expand_as(x).log_softmax(1).sum(),
]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, len(FNS) - 1), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2 ** 16))
def test_values_and_grads_match_eager(i, n, m, seed):
    fn = FNS[i]

    def f(x):
        y = fn(x)
        (g,) = tl.autograd.grad(y, [x])
        return y, g

    rng = np.random.default_rng(seed)
    x0 = tl.tensor(rng.standard_normal((n, m)).astype(np.float32), requires_grad=True)
    gm = fxlite.make_fx(f)(x0)
    x = tl.tensor(rng.standard_normal((n, m)).astype(np.float32), requires_grad=True)
    y, g = gm(x)
    y_ref, g_ref = f(x)
    close(y, y_ref, 1e-4)
    close(g, g_ref, 1e-4)
    gm_fake = fxlite.make_fx(f, tracing_mode="fake")(x0)
    y2, g2 = gm_fake(x)
    close(y2, y_ref, 1e-4)
    close(g2, g_ref, 1e-4)


def test_nested_inputs_and_non_tensor_args():
    def f(xs, k):
        return xs[0] * k + xs[1]

    gm = fxlite.make_fx(f)([tl.ones(2), tl.ones(2)], 3)
    names = [n.name for n in gm.graph.nodes if n.op == "placeholder"]
    assert names == ["xs_1", "xs_2", "k_1"]
    close(gm(tl.ones(2), tl.full((2,), 2.0), 3), tl.full((2,), 5.0))


def test_views_see_mutations_of_their_base():
    def f(x):
        v = x[0]
        w = x[0]
        v.add_(1)  # writes through v into x, so w changes too
        x.mul_(2)  # and v, w see this
        return w * 1, v + 0, x

    gm = fxlite.make_fx(f)(tl.ones(2, 3))
    a = tl.randn(2, 3)
    for got, want in zip(gm(a), f(a.clone())):
        close(got, want)


def test_backward_through_mutated_view_matches_eager():
    def f(x):
        y = x * 1
        v = y[:, 1]
        y.add_(1)
        loss = (v * v).sum()
        loss.backward()
        return loss, x.grad

    gm = fxlite.make_fx(f)(tl.randn(2, 3, requires_grad=True))
    a = tl.randn(2, 3, requires_grad=True)
    b = a.detach().requires_grad_()
    for got, want in zip(gm(a), f(b)):
        close(got, want)


@pytest.mark.parametrize("mode", ["real", "fake"])
def test_pickle_round_trip(mode):
    import pickle

    c = tl.tensor([1.0, 2.0])

    def f(x):
        return (x.sin() * c).sum(0, keepdim=True)

    gm = fxlite.make_fx(f, tracing_mode=mode)(tl.ones(2))
    gm2 = pickle.loads(pickle.dumps(gm))
    assert readable(gm2) == readable(gm)
    x = tl.randn(2)
    close(gm2(x), f(x))
