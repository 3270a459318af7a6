"""fxlite.passes: ShapeProp against eager, DCE/CSE before/after, replace_pattern."""
import operator
import time
import tracemalloc

import numpy as np
import pytest

import fxlite
import tensorlite as tl
from fxlite.passes import ShapeProp, cse, dead_code_elimination, replace_pattern
from fxlite.serialize import TensorMeta
from tensorlite._modes import fake_tensor, is_fake


def assert_expected_inline(actual, expected):
    assert actual.strip("\n") == expected.strip("\n"), "\n" + actual


def code(gm):
    return gm.code.strip("\n")


def close(a, b):
    np.testing.assert_allclose(a._data, b._data, rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------------------ ShapeProp
SHAPE_FNS = [
    ("broadcast_add", lambda x, y: x + y, [(4, 1, 3), (5, 1)]),
    ("scalar_mul", lambda x: 2 * x - 1, [(3,)]),
    ("int_promote", lambda x: x.long() * 2.5, [(2, 2)]),
    ("compare", lambda x, y: x < y, [(2, 3), (3,)]),
    ("sum_keepdim", lambda x: x.sum(1, keepdim=True), [(2, 3, 4)]),
    ("sum_dims", lambda x: tl.sum(x, (0, 2)), [(2, 3, 4)]),
    ("mean", lambda x: x.mean(-1), [(2, 5)]),
    ("amax_keepdim", lambda x: x.amax(0, keepdim=True), [(3, 4)]),
    ("argmax", lambda x: x.argmax(1), [(3, 4)]),
    ("matmul", lambda x, y: x @ y, [(2, 3), (3, 4)]),
    ("batched_matmul", lambda x, y: tl.matmul(x, y), [(5, 2, 3), (3, 4)]),
    ("matvec", lambda x, y: x.matmul(y), [(2, 3), (3,)]),
    ("reshape", lambda x: x.reshape(-1, 2), [(3, 4)]),
    ("view_flatten", lambda x: x.view(12).unsqueeze(0).flatten(), [(3, 4)]),
    ("transpose", lambda x: x.transpose(0, 2), [(2, 3, 4)]),
    ("getitem_slice", lambda x: x[1:, ::2], [(4, 6)]),
    ("getitem_int", lambda x: x[0, 1], [(4, 6)]),
    ("getitem_none", lambda x: x[None, ..., 1], [(4, 6)]),
    ("operator_getitem", lambda x: operator.getitem(x, (slice(None), 0)), [(4, 6)]),
    ("softmax", lambda x: tl.softmax(x, -1), [(2, 7)]),
    ("cat", lambda x, y: tl.cat([x, y], 0), [(2, 3), (4, 3)]),
    ("chunk", lambda x: x.chunk(2, 1)[1], [(2, 6)]),
    ("where", lambda x, y: tl.where(x > 0, x, y), [(2, 1), (1, 3)]),
    ("cast", lambda x: x.to(tl.float64) + 1, [(3,)]),
    ("relu_tanh", lambda x: tl.relu(x).tanh().exp(), [(3, 3)]),
]


@pytest.mark.parametrize("name,fn,shapes", SHAPE_FNS, ids=[s[0] for s in SHAPE_FNS])
def test_shape_prop_matches_eager(name, fn, shapes):
    gm = fxlite.symbolic_trace(fn)
    args = [tl.randn(*s) for s in shapes]
    ref = fn(*args)
    out = ShapeProp(gm).propagate(*args)
    assert is_fake(out)
    assert (tuple(out.shape), out.dtype) == (tuple(ref.shape), ref.dtype)
    out_node = [n for n in gm.graph.nodes if n.op == "output"][0]
    assert out_node.args[0].meta["tensor_meta"] == TensorMeta(tuple(ref.shape), ref.dtype, False)
    # every intermediate tensor matches the eager intermediate (interpreting gives the values)
    env = {}
    interp = fxlite.Interpreter(gm, garbage_collect_values=False)
    interp.run(*args)
    env = interp.env
    for n in gm.graph.nodes:
        if n.op != "output" and isinstance(env[n], tl.Tensor):
            assert n.meta["tensor_meta"].shape == tuple(env[n].shape), n
            assert n.meta["tensor_meta"].dtype == env[n].dtype, n


def test_shape_prop_on_make_fx_graph_with_backward():
    def f(x, w):
        loss = (x @ w).relu().sum()
        loss.backward()
        return w.grad

    x, w = tl.randn(4, 3, requires_grad=True), tl.randn(3, 2, requires_grad=True)
    gm = fxlite.make_fx(f)(x, w)
    expected = {n.name: n.meta["val"] for n in gm.graph.nodes if n.op != "output"}
    for n in gm.graph.nodes:
        n.meta.clear()
    ShapeProp(gm).propagate(x, w)
    for n in gm.graph.nodes:
        if n.op != "output":
            tm = n.meta["tensor_meta"]
            assert (tm.shape, tm.dtype) == (expected[n.name].shape, expected[n.name].dtype), n


def test_shape_prop_of_module():
    class M(tl.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = tl.nn.Linear(8, 4)

        def forward(self, x):
            return self.lin(x).relu().sum(-1)

    gm = fxlite.symbolic_trace(M())
    out = ShapeProp(gm).propagate(TensorMeta((16, 8), tl.float32))
    assert tuple(out.shape) == (16,)
    lin = [n for n in gm.graph.nodes if n.op == "call_module"][0]
    assert lin.meta["tensor_meta"].shape == (16, 4)


def test_shape_prop_never_computes_values():
    gm = fxlite.symbolic_trace(lambda a, b: (a @ b).relu().sum(0, keepdim=True))
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        out = ShapeProp(gm).propagate(fake_tensor((4096, 4096)), TensorMeta((4096, 4096), tl.float32))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - t0 < 2.0  # a real matmul of this size takes far longer in numpy
    assert peak < 8 * 2 ** 20
    assert tuple(out.shape) == (1, 4096)


def test_shape_prop_shape_error():
    gm = fxlite.symbolic_trace(lambda a, b: a @ b)
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        ShapeProp(gm).propagate(TensorMeta((2, 3), tl.float32), TensorMeta((4, 5), tl.float32))


# ------------------------------------------------------------------------------ DCE
def test_dce_before_after():
    def f(x):
        a = x.cos()
        b = a * 2  # noqa: F841  (dead)
        c = x.sin()
        return c + 1

    gm = fxlite.symbolic_trace(f)
    assert_expected_inline(code(gm), '''
def forward(self, x):
    cos = x.cos()
    mul = cos * 2;  cos = mul = None
    sin = x.sin();  x = None
    add = sin + 1;  sin = None
    return add''')
    assert dead_code_elimination(gm) is True
    assert_expected_inline(code(gm), '''
def forward(self, x):
    sin = x.sin();  x = None
    add = sin + 1;  sin = None
    return add''')
    assert dead_code_elimination(gm) is False
    x = tl.randn(3)
    close(gm(x), f(x))


def test_dce_keeps_impure():
    def f(x):
        y = x * 1
        y.add_(1)  # in-place: kept (its result is unused but it mutates y)
        unused = x.exp()  # noqa: F841
        return y

    gm = fxlite.symbolic_trace(f)
    assert dead_code_elimination(gm) is True
    assert [n.target for n in gm.graph.nodes if n.op in ("call_method", "call_function")] == [operator.mul, "add_"]
    close(gm(tl.ones(2)), tl.full((2,), 2.0))

    g = fxlite.Graph()
    x = g.placeholder("x")
    g.call_function(print, (x,))  # I/O: kept
    g.call_function(tl.randn_like, (x,))  # random: kept (it advances the generator)
    g.call_function(tl.exp, (x,))  # pure and unused: removed
    g.call_method("mul_", (x, 2))  # in-place: kept
    g.output(x)
    gm = fxlite.GraphModule(tl.nn.Module(), g)
    assert dead_code_elimination(gm) is True
    assert [n.target for n in gm.graph.nodes if n.op in ("call_method", "call_function")] == [
        print, tl.randn_like, "mul_"]


def test_dce_on_make_fx_graph():
    def f(x):
        (x * x).sum().backward()
        return x.grad

    gm = fxlite.make_fx(f)(tl.ones(3, requires_grad=True))
    n_before = len(gm.graph.nodes)
    assert dead_code_elimination(gm)
    assert len(gm.graph.nodes) < n_before
    assert not any(n.target is tl.ops.sum for n in gm.graph.nodes)  # the loss itself is dead
    x = tl.tensor([1.0, 2.0, -3.0])
    close(gm(x), 2 * x)


# ------------------------------------------------------------------------------ CSE
def test_cse_before_after():
    def f(x, y):
        a = x.sin() + y
        b = x.sin() + y
        c = tl.relu(a) * tl.relu(b)
        return c + x.sum(0, keepdim=True) + x.sum(0, keepdim=False)

    gm = fxlite.symbolic_trace(f)
    x, y = tl.randn(2, 3), tl.randn(3)
    ref = gm(x, y)
    assert cse(gm) is True
    assert_expected_inline(code(gm), '''
def forward(self, x, y):
    sin = x.sin()
    add = sin + y;  sin = y = None
    relu = tl.relu(add);  add = None
    mul = relu * relu;  relu = None
    sum_1 = x.sum(0, keepdim = True)
    add_2 = mul + sum_1;  mul = sum_1 = None
    sum_2 = x.sum(0, keepdim = False);  x = None
    add_3 = add_2 + sum_2;  add_2 = sum_2 = None
    return add_3''')
    close(gm(x, y), ref)
    assert cse(gm) is False


def test_cse_keeps_signed_zeros_apart():
    def f(x):
        return x * 0.0, x * -0.0, x * 0.0

    gm = fxlite.symbolic_trace(f)
    assert cse(gm) is True  # the two x * 0.0 are one node, x * -0.0 stays its own
    x = tl.tensor([-1.0, 2.0])
    a, b, c = gm(x)
    assert np.signbit(a.numpy()).tolist() == [True, False]
    assert np.signbit(b.numpy()).tolist() == [False, True]


def test_cse_keeps_random_and_impure():
    def f(x):
        a = tl.randn(3)
        b = tl.randn(3)
        return x + a + b

    gm = fxlite.symbolic_trace(f)
    assert cse(gm) is False

    def g(x):
        a = x * 2
        a.add_(1)
        b = x * 2
        return a + b

    gm = fxlite.symbolic_trace(g)
    x = tl.ones(2)
    assert cse(gm) is False
    close(gm(x), g(x))


def test_cse_respects_mutation_between_uses():
    def f(x):
        y = x * 1
        a = y.exp()
        y.mul_(2)
        b = y.exp()
        return a + b

    gm = fxlite.symbolic_trace(f)
    assert cse(gm) is False
    x = tl.ones(2)
    close(gm(x), f(x))


def test_cse_on_make_fx_graph():
    def f(x):
        return x.sin() * x.sin() + x.sin()

    gm = fxlite.make_fx(f)(tl.ones(3))
    assert cse(gm)
    assert_expected_inline(gm.print_readable(False), '''
class f(tl.nn.Module):
    def forward(self, x_1: "f32[3]"):
        sin: "f32[3]" = tl.ops.sin(x_1);  x_1 = None
        mul: "f32[3]" = tl.ops.mul(sin, sin)
        add: "f32[3]" = tl.ops.add(mul, sin);  mul = sin = None
        return add
''')


# ------------------------------------------------------------------------------ replace_pattern
def test_replace_pattern_sin_cos_by_relu():
    def f(x, y):
        a = x.sin().cos()
        b = (y + 1).sin().cos()
        return a * b + x.sin()

    def pattern(v):
        return v.sin().cos()

    def replacement(v):
        return v.relu()

    gm = fxlite.symbolic_trace(f)
    matches = replace_pattern(gm, pattern, replacement)
    assert len(matches) == 2
    assert_expected_inline(code(gm), '''
def forward(self, x, y):
    relu = x.relu()
    add = y + 1;  y = None
    relu_1 = add.relu();  add = None
    mul = relu * relu_1;  relu = relu_1 = None
    sin_2 = x.sin();  x = None
    add_1 = mul + sin_2;  mul = sin_2 = None
    return add_1''')
    gm.graph.lint()
    x, y = tl.randn(3), tl.randn(3)
    close(gm(x, y), x.relu() * (y + 1).relu() + x.sin())


def test_replace_pattern_internal_use_outside_blocks_match():
    def f(x):
        s = x.sin()
        return s.cos() + s  # s escapes the would-be match

    gm = fxlite.symbolic_trace(f)
    before = gm.code
    assert replace_pattern(gm, lambda v: v.sin().cos(), lambda v: v.relu()) == []
    assert gm.code == before


def test_replace_pattern_two_inputs_and_functions():
    def f(a, b, c):
        return tl.relu(a * b + c) + tl.relu(c * a + b)

    def pattern(p, q, r):
        return tl.relu(p * q + r)

    def replacement(p, q, r):
        return tl.clamp(p * q + r, min=0.0)

    gm = fxlite.symbolic_trace(f)
    matches = replace_pattern(gm, pattern, replacement)
    assert len(matches) == 2
    m = matches[0]
    assert [m.nodes_map[p].name for p in m.nodes_map if p.op == "placeholder"] == ["a", "b", "c"]
    a, b, c = tl.randn(4), tl.randn(4), tl.randn(4)
    close(gm(a, b, c), f(a, b, c))
    assert not any(n.target is tl.relu for n in gm.graph.nodes)


def test_replace_pattern_constants_must_match():
    gm = fxlite.symbolic_trace(lambda x: x * 2 + x * 3)
    matches = replace_pattern(gm, lambda v: v * 2, lambda v: v + v)
    assert len(matches) == 1
    assert_expected_inline(code(gm), '''
def forward(self, x):
    add_1 = x + x
    mul_1 = x * 3;  x = None
    add = add_1 + mul_1;  add_1 = mul_1 = None
    return add''')
