"""Symbolic shapes (issue 22): sizes as symbols through the interpreter, shape guards, the
`dynamic` policy, and every backend correct on graphs that take symbolic sizes.

A differential table of programs, each run over sizes 2..10 against eager with the number of
compiled entries asserted per policy; a GPT-style attention block over T = 1..32 on every
backend; and the printed graphs and guards of programs from PyTorch's dynamic-shape tests.
"""
import math

import numpy as np
import pytest

import minidynamo as md
import tensorlite as tl
import tensorlite.nn as nn
import tensorlite.nn.functional as F
from minidynamo.expecttest import assert_expected_inline, normalize_gm
from minidynamo.symbolic_shapes import ConstraintViolationError
from minidynamo.testing import EagerAndRecordGraphs, same

BACKENDS = ["eager", "aot_eager", "codegen"]


@pytest.fixture(autouse=True)
def _reset():
    md.reset()
    yield
    md.reset()


def entries(opt):
    return len(md.inspect(opt).entries)


def graph_text(graphs, i=0):
    return normalize_gm(graphs.graphs[i].print_readable(print_output=False))


def shape_guards(opt, i=0):
    return "\n".join(str(g) for g in md.inspect(opt).entries[i].guards
                     if g.kind in ("SHAPE_ENV", "TENSOR_MATCH"))


# ------------------------------------------------------------------------------ the table
PROGRAMS = []


def prog(shapes, auto=2, true=1, mark=1):
    """A program of tensors with the given shapes (a function of the size n); the number of
    entries compiled for n = 2..10 with automatic dynamic (the default), dynamic=True and
    mark_dynamic(x, 0) on every argument."""
    def deco(fn):
        PROGRAMS.append(pytest.param(fn, shapes, {"auto": auto, "true": true, "mark": mark}, id=fn.__name__))
        return fn
    return deco


@prog(lambda n: [(n, 3)])
def scale_by_size(x):
    return x * x.shape[0]


@prog(lambda n: [(n, 4)])
def view_doubled(x):
    return x.view(x.shape[0] * 2, -1)


@prog(lambda n: [(2 * n, 3)])
def view_minus_one(x):
    return x.view(-1, 2).sum(1)


@prog(lambda n: [(2 * n, 3)])
def view_floordiv(x):
    return x.view(x.shape[0] // 2, -1) * 2


@prog(lambda n: [(n, 3)])
def numel_and_len(x):
    return x.sum() / x.numel() + len(x)


@prog(lambda n: [(n, 5)])
def symbolic_slices(x):
    t = x.shape[0]
    return x[: t - 1] * 2 + x[1:]


@prog(lambda n: [(n, 5)])
def negative_slice(x):
    return x[-(x.shape[0] // 2):]


@prog(lambda n: [(n, 3)])
def index_by_size(x):
    return x[x.shape[0] - 1] + x[0]


@prog(lambda n: [(n, 5)])
def arange_and_zeros(x):
    n = x.size(0)
    return tl.arange(n).float() + tl.zeros(n) + x.sum(1)


@prog(lambda n: [(n,)])
def full_and_ones_like(x):
    return tl.full((x.shape[0],), 2.0) + tl.ones_like(x)


@prog(lambda n: [(n, 3), (n, 3)])
def broadcast_two_inputs(x, y):
    return (x + y) * x.shape[0]


@prog(lambda n: [(n, 3), (3, n)], mark=None)  # y's dim 0 is 3: marking it is an error
def matmul_two_inputs(x, y):
    return (x @ y).sum(0) * y.shape[1]


@prog(lambda n: [(2, n, 4)], mark=2)  # marks B (always 2): T is dynamic after it changes
def reshape_batch_time(x):
    b, t, c = x.size()
    return x.reshape(b * t, c).relu().reshape(b, t, c)


@prog(lambda n: [(n, 6)])
def cat_and_stack(x):
    return tl.cat([x, x * 2], 0).sum(0) + tl.stack([x, x], 1).reshape(x.shape[0] * 2, -1).sum(0)


@prog(lambda n: [(n, 6)], auto=3, true=2, mark=2)  # one entry per side of the branch
def branch_on_size(x):
    if x.shape[0] > 4:
        return x + 1
    return x - 1


@prog(lambda n: [(2 * n, 3)])
def assert_even(x):
    assert x.shape[0] % 2 == 0
    return x.view(2, -1)


@prog(lambda n: [(n, 6)])
def min_and_max(x):
    k = min(x.shape[0], 4)
    return x[:k].sum(0) * max(x.shape[0], 3)


@prog(lambda n: [(n, 3)])
def expand_unsqueeze(x):
    return x.unsqueeze(0).expand(2, x.shape[0], 3).sum(0)


@prog(lambda n: [(n, 4)])
def transpose_mean(x):
    return x.t().mean(1) * x.size(-2)


@prog(lambda n: [(n, 8)])
def split_a_static_dim(x):
    a, b = x.split(4, dim=1)
    return a * b.shape[0]


@prog(lambda n: [(n, 3)])
def returns_a_size(x):
    return x.shape[0] * 2 + 1, x + 1


@prog(lambda n: [(n, 3)])
def softmax_of_scaled(x):
    return F.softmax(x * x.shape[-2], dim=-1)


@prog(lambda n: [(n, n)], mark=None)  # x @ x relies on dim 0 == dim 1: marking dim 0 alone is an error
def square_matmul(x):
    return x @ x + x.shape[0]


@prog(lambda n: [(n, 3)])
def flatten_mean(x):
    return x.unsqueeze(1).flatten(0, 1).sum(0) / x.shape[0]


@prog(lambda n: [(n, 3)])
def tensor_of_sizes(x):
    return x + tl.tensor([x.shape[0], 1, 2]).float()


@prog(lambda n: [(n, 4)])
def sdpa_causal(x):
    q = x.view(1, x.shape[0], 4)
    return F.scaled_dot_product_attention(q, q, q, is_causal=True) + x.tril().cumsum(0)


@prog(lambda n: [(n, 4)])
def sort_topk_gather(x):
    v = x.sort(0)[0] + x.topk(2, 1)[0].sum(1, keepdim=True)
    return v.gather(1, tl.zeros(x.shape[0], 2).long()) + x.index_select(0, tl.arange(x.shape[0])).sum()


@prog(lambda n: [(n,)])
def tensor_copy_of_a_tensor(x):
    return tl.tensor(x) * x.shape[0] + tl.zeros(x.shape[0], dtype=tl.float32)


@prog(lambda n: [(n, 3)], auto=8, true=8, mark=None)  # iterating unrolls: a constant length (cache limit 8)
def iterate_rows(x):
    return tl.stack([r * 2 for r in x])


@prog(lambda n: [(n, 3)])
def size_across_a_graph_break(x):
    t = x.shape[0]
    md.graph_break()
    return x * t


def _run(fn, shapes, mode, backend, sizes=range(2, 11)):
    opt = md.compile(fn, backend=backend, dynamic=True if mode == "true" else None)
    for n in sizes:
        tl.manual_seed(n)
        args = [tl.randn(*s) for s in shapes(n)]
        if mode == "mark":
            for a in args:
                md.mark_dynamic(a, 0)
        expected = fn(*args)
        actual = opt(*args)
        assert same(expected, actual), (n, expected, actual)
    return opt


@pytest.mark.parametrize("mode", ["auto", "true", "mark"])
@pytest.mark.parametrize("fn, shapes, counts", PROGRAMS)
def test_table_eager(fn, shapes, counts, mode):
    if counts[mode] is None:
        with pytest.raises(ConstraintViolationError, match="You marked L"):
            _run(fn, shapes, mode, "eager")
        return
    opt = _run(fn, shapes, mode, "eager")
    assert entries(opt) == counts[mode]


@pytest.mark.parametrize("backend", ["aot_eager", "codegen"])
@pytest.mark.parametrize("fn, shapes, counts", PROGRAMS[:12])
def test_table_other_backends(fn, shapes, counts, backend):
    opt = _run(fn, shapes, "auto", backend)
    assert entries(opt) == counts["auto"]


@pytest.mark.parametrize("mode, sizes, count", [
    ("auto", [1, 2, 3, 4, 5, 6, 1], 2),  # 1 is static, then one symbolic entry for 2..6
    ("true", [1, 2, 3, 4, 5, 6, 1], 2),
    ("true", [0, 1, 2, 3, 4, 5, 6, 0, 1], 3),
    ("auto", [2, 3, 4, 5, 6, 1, 0], 4),  # 2, then symbolic for 3..6, then 1 and 0 each
])
def test_sizes_zero_and_one_get_their_own_entry(mode, sizes, count):
    opt = _run(scale_by_size, lambda n: [(n, 3)], mode, "eager", sizes)
    assert entries(opt) == count


def test_dynamic_false_never_makes_symbols():
    opt = md.compile(scale_by_size, backend="eager", dynamic=False)
    for n in range(2, 8):
        opt(tl.ones(n, 3))
    assert entries(opt) == 6


def test_mark_static_keeps_a_dim_static_under_dynamic_true():
    opt = md.compile(scale_by_size, backend="eager", dynamic=True)
    for n in range(2, 6):
        x = tl.ones(n, 3)
        md.mark_static(x, 0)
        assert same(opt(x), scale_by_size(x))
    assert entries(opt) == 4


def test_maybe_mark_dynamic_may_be_specialized():
    def f(x):
        if x.shape[0] == 4:
            return x + 1
        return x - 1

    opt = md.compile(f, backend="eager")
    x = tl.ones(4, 3)
    md.maybe_mark_dynamic(x, 0)
    assert same(opt(x), f(x))  # no error: specialized to 4
    assert "size=[4, 3]" in shape_guards(opt)


def test_mark_dynamic_then_specialized_names_the_line():
    def f(x):
        if x.shape[0] == 5:
            return x + 1
        return x - 1

    x = tl.ones(5, 3)
    md.mark_dynamic(x, 0)
    with pytest.raises(ConstraintViolationError) as e:
        md.compile(f, backend="eager")(x)
    msg = str(e.value)
    assert msg.startswith("Constraints violated (L['x'].size()[0])!"), msg
    assert "You marked L['x'].size()[0] as dynamic but your code specialized it to be a constant (5)" in msg
    assert "if x.shape[0] == 5:" in msg and "test_dynamic_shapes.py" in msg


def test_mark_dynamic_range_is_guarded():
    def f(x):
        return x.view(x.shape[0], 3, 2)

    opt = md.compile(f, backend="eager")
    x = tl.ones(5, 6)
    md.mark_dynamic(x, 0, min=2, max=10)
    opt(x)
    assert_expected_inline(None, shape_guards(opt), """\
TENSOR_MATCH: check_tensor(L['x'], Tensor, tl.float32, requires_grad=False, size=[None, 6])
SHAPE_ENV: 2 <= L['x'].size()[0] <= 10""")
    opt(tl.ones(10, 6))
    opt(tl.ones(11, 6))  # outside the range: another entry
    assert entries(opt) == 2


# ------------------------------------------------------------------------------ GPT block
class CausalSelfAttention(nn.Module):
    """minGPT's attention, as its author wrote it (y.transpose(1, 2).contiguous().view(B, T, C)
    is .reshape here: tensorlite's contiguous() keeps the strides, so view raises eagerly)."""

    def __init__(self, n_embd=8, n_head=2, block_size=32):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        mask = np.tril(np.ones((block_size, block_size), np.float32))
        self.register_buffer("bias", tl.tensor(mask).view(1, 1, block_size, block_size))
        self.n_head = n_head
        self.n_embd = n_embd

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = att @ v
        y = y.transpose(1, 2).contiguous().reshape(B, T, C)
        return self.c_proj(y)


@pytest.mark.parametrize("backend", BACKENDS)
def test_gpt_block_over_sequence_lengths(backend):
    tl.manual_seed(0)
    m = CausalSelfAttention()
    cm = md.compile(m, backend=backend)
    for t in range(1, 33):
        x = tl.randn(2, t, 8, requires_grad=True)
        x_ref = x.detach().clone().requires_grad_(True)
        out, ref = cm(x), m(x_ref)
        assert np.allclose(out.detach().numpy(), ref.detach().numpy(), atol=1e-5), t
        out.sum().backward()
        ref.sum().backward()
        assert np.allclose(x.grad.numpy(), x_ref.grad.numpy(), atol=1e-5), t
        m.zero_grad()
    assert entries(cm._compiled_forward) <= 2


def test_gpt_block_graph_and_guards():
    graphs = EagerAndRecordGraphs()
    cm = md.compile(CausalSelfAttention(), backend=graphs)
    for t in (1, 2, 3):
        cm(tl.randn(2, t, 8))
    assert len(graphs.graphs) == 2
    assert_expected_inline(None, graph_text(graphs, 1), """\
class GraphModule(tl.nn.Module):
    def forward(self, s0: "Sym(s0)", L_args_0_: "f32[2, s0, 8]", L_self_c_attn_weight: "f32[24, 8]", L_self_c_attn_bias: "f32[24]", L_self_bias: "f32[1, 1, 32, 32]", L_self_c_proj_weight: "f32[8, 8]", L_self_c_proj_bias: "f32[8]"):
        l_args_0_ = L_args_0_
        l_self_c_attn_weight = L_self_c_attn_weight
        l_self_c_attn_bias = L_self_c_attn_bias
        l_self_bias = L_self_bias
        l_self_c_proj_weight = L_self_c_proj_weight
        l_self_c_proj_bias = L_self_c_proj_bias

        linear: "f32[2, s0, 24]" = tl.nn.functional.linear(l_args_0_, l_self_c_attn_weight, l_self_c_attn_bias);  l_args_0_ = l_self_c_attn_weight = l_self_c_attn_bias = None

        split = linear.split(8, dim = 2);  linear = None
        q: "f32[2, s0, 8]" = split[0]
        k: "f32[2, s0, 8]" = split[1]
        v: "f32[2, s0, 8]" = split[2];  split = None

        view: "f32[2, s0, 2, 4]" = k.view(2, s0, 2, 4);  k = None
        k_1: "f32[2, 2, s0, 4]" = view.transpose(1, 2);  view = None

        view_1: "f32[2, s0, 2, 4]" = q.view(2, s0, 2, 4);  q = None
        q_1: "f32[2, 2, s0, 4]" = view_1.transpose(1, 2);  view_1 = None

        view_2: "f32[2, s0, 2, 4]" = v.view(2, s0, 2, 4);  v = None
        v_1: "f32[2, 2, s0, 4]" = view_2.transpose(1, 2);  view_2 = None

        transpose_3: "f32[2, 2, 4, s0]" = k_1.transpose(-2, -1);  k_1 = None
        matmul: "f32[2, 2, s0, s0]" = q_1 @ transpose_3;  q_1 = transpose_3 = None
        att: "f32[2, 2, s0, s0]" = matmul * 0.5;  matmul = None

        getitem_3: "f32[1, 1, s0, s0]" = l_self_bias[(slice(None, None, None), slice(None, None, None), slice(None, s0, None), slice(None, s0, None))];  l_self_bias = None
        eq: "b8[1, 1, s0, s0]" = getitem_3 == 0;  getitem_3 = None
        att_1: "f32[2, 2, s0, s0]" = att.masked_fill(eq, -inf);  att = eq = None

        att_2: "f32[2, 2, s0, s0]" = tl.nn.functional.softmax(att_1, dim = -1);  att_1 = None

        y: "f32[2, 2, s0, 4]" = att_2 @ v_1;  att_2 = v_1 = None

        transpose_4: "f32[2, s0, 2, 4]" = y.transpose(1, 2);  y = None
        contiguous: "f32[2, s0, 2, 4]" = transpose_4.contiguous();  transpose_4 = None
        y_1: "f32[2, s0, 8]" = contiguous.reshape(2, s0, 8);  contiguous = s0 = None

        linear_1: "f32[2, s0, 8]" = tl.nn.functional.linear(y_1, l_self_c_proj_weight, l_self_c_proj_bias);  y_1 = l_self_c_proj_weight = l_self_c_proj_bias = None
        return (linear_1,)
""")
    guards = [str(g) for g in md.inspect(cm._compiled_forward).entries[0].guards if g.kind == "SHAPE_ENV"]
    assert guards == ["SHAPE_ENV: 2 <= L['args'][0].size()[1] <= 32"]  # the mask has 32 rows


# ------------------------------------------------------------------------------ printing
def test_sizes_as_values_print_as_pytorch():
    # the program of PyTorch's dynamic-shape printing tests: floordiv, a view with -1, sizes
    # as graph inputs and as arguments, a branch and an assert on sizes
    graphs = EagerAndRecordGraphs()

    @md.compile(backend=graphs, dynamic=True)
    def f(x, y):
        a = x.shape[0] // 2
        b = x.size(1) * 2 + 1
        if x.shape[0] > 3:
            z = x.view(a, -1)
        else:
            z = x.view(-1)
        assert x.shape[0] % 2 == 0
        return z * 2, y + a, x.shape[0] - x.shape[1], tl.zeros(b, len(y))

    out = f(tl.randn(6, 3), tl.randn(5))
    assert out[2] == 3 and tuple(out[3].shape) == (7, 5)
    assert_expected_inline(None, graph_text(graphs), """\
class GraphModule(tl.nn.Module):
    def forward(self, s0: "Sym(s0)", s1: "Sym(s1)", L_x_: "f32[s0, s1]", s2: "Sym(s2)", L_y_: "f32[s2]"):
        l_x_ = L_x_
        l_y_ = L_y_

        floordiv: "Sym((s0//2))" = s0 // 2;  s0 = None

        z: "f32[(s0//2), 2*s1]" = l_x_.view(floordiv, -1);  l_x_ = None

        mul: "f32[(s0//2), 2*s1]" = z * 2;  z = None
        add: "f32[s2]" = l_y_ + floordiv;  l_y_ = floordiv = None

        mul_1: "Sym(2*s1)" = s1 * 2;  s1 = None
        add_1: "Sym(2*s1 + 1)" = mul_1 + 1;  mul_1 = None

        zeros: "f32[2*s1 + 1, s2]" = tl.zeros(add_1, s2);  add_1 = s2 = None
        return (mul, add, zeros)
""")
    assert_expected_inline(None, shape_guards(f), """\
TENSOR_MATCH: check_tensor(L['x'], Tensor, tl.float32, requires_grad=False, size=[None, None])
TENSOR_MATCH: check_tensor(L['y'], Tensor, tl.float32, requires_grad=False, size=[None])
SHAPE_ENV: (L['x'].size()[0] % 2) == 0
SHAPE_ENV: 4 <= L['x'].size()[0]
SHAPE_ENV: 2 <= L['x'].size()[1]
SHAPE_ENV: 2 <= L['y'].size()[0]""")
    # the size returned is computed from the input's sizes, not baked in
    assert_expected_inline(None, md.inspect(f).entries[0].source, """\
def ___transformed(x, y):
    ___graph_out = ___compiled_fn(x._data.shape[0], x._data.shape[1], x, y._data.shape[0], y)
    return (___graph_out[0], ___graph_out[1], (x._data.shape[0] - x._data.shape[1]), ___graph_out[2])
""")
    assert f(tl.randn(8, 5), tl.randn(2))[2] == 3 and entries(f) == 1


def test_filter_graph_break_reconstruct_dynamic():
    # PyTorch test_functions.py test_filter_graph_break_reconstruct, dynamic: all sizes symbolic
    def fn(x, y):
        if x.sum() > 0:
            return x + y
        return x * y

    graphs = EagerAndRecordGraphs()
    opt = md.compile(fn, backend=graphs, dynamic=True)
    a, b = tl.zeros(3), tl.ones(3)
    assert same(opt(a, b), fn(a, b))
    assert_expected_inline(None, graph_text(graphs), """\
class GraphModule(tl.nn.Module):
    def forward(self, s0: "Sym(s0)", L_x_: "f32[s0]"):
        l_x_ = L_x_

        sum_1: "f32[]" = l_x_.sum();  l_x_ = None
        gt: "b8[]" = sum_1 > 0;  sum_1 = None
        return (gt,)
""")


def udf_mul2(x, y, z):
    return x * y * z


def test_partials_graph_break_reconstruct_args_and_kwargs_dynamic():
    # PyTorch test_functions.py, dynamic: distinct symbols for the two dims (no duck sizing)
    def fn(udf_mul_0, x):
        lambda0 = __import__("functools").partial(udf_mul_0, x, 4, z=x)
        lambda1 = __import__("functools").partial(udf_mul_0, 4, z=x)
        return tl.mul(lambda0(), lambda1(5))

    graphs = EagerAndRecordGraphs()
    x = tl.randn(2, 2)
    assert same(md.compile(fn, backend=graphs, dynamic=True)(udf_mul2, x), fn(udf_mul2, x))
    assert_expected_inline(None, graph_text(graphs), """\
class GraphModule(tl.nn.Module):
    def forward(self, s0: "Sym(s0)", s1: "Sym(s1)", L_x_: "f32[s0, s1]"):
        l_x_ = L_x_

        mul: "f32[s0, s1]" = l_x_ * 4
        mul_1: "f32[s0, s1]" = mul * l_x_;  mul = None
        mul_2: "f32[s0, s1]" = 20 * l_x_;  l_x_ = None

        mul_3: "f32[s0, s1]" = tl.mul(mul_1, mul_2);  mul_1 = mul_2 = None
        return (mul_3,)
""")


def test_equal_dims_share_a_symbol_when_relied_on():
    graphs = EagerAndRecordGraphs()
    opt = md.compile(lambda x, y: (x + y) @ y.t(), backend=graphs, dynamic=True)
    opt(tl.randn(4, 3), tl.randn(4, 3))
    assert_expected_inline(None, graph_text(graphs), """\
class GraphModule(tl.nn.Module):
    def forward(self, s0: "Sym(s0)", s1: "Sym(s1)", L_x_: "f32[s0, s1]", L_y_: "f32[s0, s1]"):
        l_x_ = L_x_
        l_y_ = L_y_

        add: "f32[s0, s1]" = l_x_ + l_y_;  l_x_ = None
        t: "f32[s1, s0]" = l_y_.t();  l_y_ = None
        matmul: "f32[s0, s0]" = add @ t;  add = t = None
        return (matmul,)
""")
    assert_expected_inline(None, shape_guards(opt), """\
TENSOR_MATCH: check_tensor(L['x'], Tensor, tl.float32, requires_grad=False, size=[None, None])
TENSOR_MATCH: check_tensor(L['y'], Tensor, tl.float32, requires_grad=False, size=[None, None])
SHAPE_ENV: L['y'].size()[0] == L['x'].size()[0]
SHAPE_ENV: L['y'].size()[1] == L['x'].size()[1]
SHAPE_ENV: 2 <= L['x'].size()[0]
SHAPE_ENV: 2 <= L['x'].size()[1]""")


def test_a_shared_symbol_keeps_both_ranges():
    # y's range (>= 5) must survive y's symbol being replaced by x's when x + y unifies them
    def f(x, y):
        if y.shape[0] > 4:
            return x + y
        return x - y

    opt = md.compile(f, backend="eager", dynamic=True)
    for n in (6, 3, 7, 2):
        assert same(opt(tl.ones(n), tl.ones(n)), f(tl.ones(n), tl.ones(n)))
    assert entries(opt) == 2
    assert shape_guards(opt, 1).splitlines()[2:] == [
        "SHAPE_ENV: L['y'].size()[0] == L['x'].size()[0]", "SHAPE_ENV: 5 <= L['x'].size()[0]"]


# ------------------------------------------------------------------------------ int inputs
def test_an_int_argument_whose_value_changes_becomes_a_symbol():
    def f(x, n):
        return x * n + n

    opt = md.compile(f, backend="eager")
    for n in range(2, 9):
        assert same(opt(tl.ones(3), n), f(tl.ones(3), n))
    assert entries(opt) == 2
    assert md.inspect(opt).recompile_reasons == ["n == 2"]
    guards = [str(g) for g in md.inspect(opt).entries[0].guards]
    assert "TYPE_MATCH: type(L['n']) is int" in guards and "SHAPE_ENV: 2 <= L['n']" in guards
    assert same(opt(tl.ones(3), 1), f(tl.ones(3), 1)) and entries(opt) == 3  # 0 and 1 stay constants


def test_a_dynamic_global_int_read_twice_is_one_symbol():
    # each LOAD_GLOBAL wraps the value anew: one input, one symbol (it was two `G_G_K_` parameters)
    def f(x):
        for i in range(2):
            x = x + G_K
        return x * G_K

    global G_K
    opt = md.compile(f, backend="eager")
    for G_K in (2, 5, 7):
        assert same(opt(tl.ones(3)), f(tl.ones(3)))
    assert entries(opt) == 2


def test_huge_ints_stay_constants():
    def f(x, n):
        return x + 1, 10 ** 50 + n

    opt = md.compile(f, backend="eager")
    for n in (2, 3, 4):
        assert same(opt(tl.ones(2), n), f(tl.ones(2), n))


G_K = 2


def test_int_argument_prints_as_pytorch_under_dynamic_true():
    # PyTorch 2.13 prints this program as forward(self, s77, L_x_: "f32[s77]", L_n_: "Sym(s86)")
    graphs = EagerAndRecordGraphs()
    opt = md.compile(lambda x, n: x * n + n, backend=graphs, dynamic=True)
    opt(tl.ones(3), 4)
    assert_expected_inline(None, graph_text(graphs), """\
class GraphModule(tl.nn.Module):
    def forward(self, s0: "Sym(s0)", L_x_: "f32[s0]", L_n_: "Sym(s1)"):
        l_x_ = L_x_
        l_n_ = L_n_

        mul: "f32[s0]" = l_x_ * l_n_;  l_x_ = None
        add: "f32[s0]" = mul + l_n_;  mul = l_n_ = None
        return (add,)
""")
    assert same(opt(tl.ones(5), 7), tl.ones(5) * 14) and entries(opt) == 1


def test_a_size_live_across_a_graph_break_stays_symbolic():
    import importlib
    graph_break = importlib.import_module("minidynamo.graph_break")

    def f(x):
        t = x.shape[0]
        md.graph_break()
        return x * t

    opt = md.compile(f, backend="eager")
    for n in range(2, 11):
        assert same(opt(tl.ones(n, 3)), f(tl.ones(n, 3)))
    assert entries(opt) == 2
    resumes = [w._cache for w in graph_break._RESUME_WRAPPERS.values()]
    assert [len(c.entries) for c in resumes] == [2]  # t is an int argument of the resume function


# ------------------------------------------------------------------------------ guards
def test_failing_shape_guard_names_expression_and_values():
    def f(x):
        if x.shape[0] % 2 == 0:
            return x * 2
        return x * 3

    opt = md.compile(f, backend="eager", dynamic=True)
    for n in (4, 6, 7):
        assert same(opt(tl.ones(n)), f(tl.ones(n)))
    assert entries(opt) == 2
    assert md.inspect(opt).recompile_reasons == [
        "(x.size()[0] % 2) == 0 (x.size()[0] = 7)  # if x.shape[0] % 2 == 0:  # test_dynamic_shapes.py:"
        f"{f.__code__.co_firstlineno + 1} in f"]


def test_recompile_reason_of_a_range_guard():
    opt = md.compile(lambda x, m: x * m[: x.shape[0]].sum(), backend="eager", dynamic=True)
    m = tl.ones(8)
    md.mark_static(m, 0)  # a mask of 8 rows: x may have at most 8
    opt(tl.ones(4), m)
    opt(tl.ones(9), m)
    reason = md.inspect(opt).recompile_reasons[0]
    assert reason.startswith("2 <= x.size()[0] <= 8 (x.size()[0] = 9)"), reason


def test_guards_log_and_explain_show_shape_guards(caplog):
    import logging

    def f(x):
        return x.view(-1, 2)

    md.set_logs(guards=True, dynamic=True)
    try:
        with caplog.at_level(logging.INFO, logger="minidynamo"):
            md.compile(f, backend="eager", dynamic=True)(tl.ones(6))
    finally:
        md.set_logs(guards=False, dynamic=False)
    text = caplog.text
    assert "create_symbol s0 = 6 for L['x'].size()[0] [2, int_oo] (dynamic=True)" in text
    assert "eval Eq(Mod(s0, 2), 0) [guard added] at return x.view(-1, 2)  # test_dynamic_shapes.py:" in text
    assert "+- SHAPE_ENV: (L['x'].size()[0] % 2) == 0" in text
    md.reset()
    report = str(md.explain(md.compile(f, dynamic=True))(tl.ones(6)))
    assert "Kind: SHAPE_ENV\n    Source: L['x'].size()[0]\n    Check: (L['x'].size()[0] % 2) == 0" in report


def test_dynamic_log_says_why_a_symbol_was_specialized(caplog):
    import logging

    def f(x):
        return x * float(x.shape[0])

    md.set_logs(dynamic=True)
    try:
        with caplog.at_level(logging.INFO, logger="minidynamo"):
            md.compile(f, backend="eager", dynamic=True)(tl.ones(3))
    finally:
        md.set_logs(dynamic=False)
    assert ("specialize s0 = 3 (L['x'].size()[0]) because it was used as a Python value at "
            "return x * float(x.shape[0])  # test_dynamic_shapes.py:") in caplog.text


def test_an_op_without_a_shape_rule_specializes(caplog):
    import logging

    def f(x):  # conv2d has no shape rule: its input sizes are guarded exactly
        return F.conv2d(x, tl.ones(1, 1, 2, 2)) * x.shape[2]

    md.set_logs(dynamic=True)
    try:
        with caplog.at_level(logging.INFO, logger="minidynamo"):
            opt = md.compile(f, backend="eager", dynamic=True)
            for n in (3, 4, 5):
                x = tl.randn(1, 1, n, n)
                assert same(opt(x), f(x))
    finally:
        md.set_logs(dynamic=False)
    assert entries(opt) == 3
    assert "because F.conv2d has no shape rule" in caplog.text
    assert "SHAPE_ENV" not in shape_guards(opt)


# ------------------------------------------------------------------------------ backends
def test_backend_receives_ints_for_sym_placeholders():
    seen = []

    def backend(gm, example_inputs):
        seen.append([type(a).__name__ for a in example_inputs])
        return gm.forward

    opt = md.compile(lambda x: x.reshape(x.shape[0] * 3), backend=backend, dynamic=True)
    for n in (2, 3):
        assert same(opt(tl.ones(n, 3)), tl.ones(n * 3))
    assert seen[0] == ["int", "int", "Tensor"]


@pytest.mark.parametrize("backend", ["aot_eager", "codegen"])
def test_per_shape_backend_recompiles_for_a_size_whose_tensor_is_not_an_input(backend):
    # x is read only for its size: the graph takes s0 and y, so the backend compiled for one
    # s0 must not serve another with the same y
    def f(x, y):
        return y * x.shape[0]

    opt = md.compile(f, backend=backend, dynamic=True)
    y = tl.randn(12)
    for n in (2, 3, 4, 6):
        assert same(opt(tl.ones(n), y), f(tl.ones(n), y))
    assert entries(opt) == 1


def test_size_inside_nested_compile_region_is_correct():
    @md.nested_compile_region
    def gn(x):
        return x * x.shape[0]

    opt = md.compile(lambda x: gn(x) + 1, backend="eager", dynamic=True)
    assert [opt(tl.ones(n))[0].item() for n in (2, 3, 4)] == [3.0, 4.0, 5.0]


def test_data_dependent_ops_still_break():
    def f(x):
        return x * x.sum().item()

    opt = md.compile(f, backend="eager", dynamic=True)
    for n in (2, 3):
        assert same(opt(tl.ones(n)), f(tl.ones(n)))
