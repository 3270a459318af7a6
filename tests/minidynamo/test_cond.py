"""tl.cond (torch.cond): eager semantics, capture into one cond node with two subgraphs,
compiled == eager (values, gradients) on every backend, and PyTorch's errors."""
import numpy as np
import pytest

import backends
import minidynamo as md
import tensorlite as tl
from minidynamo.expecttest import assert_expected_inline, normalize_gm
from minidynamo.testing import CompileCounterWithBackend, EagerAndRecordGraphs

BACKENDS = [b for b in ("eager", "aot_eager", "codegen") if b in backends.list_backends()]


@pytest.fixture(autouse=True)
def _reset():
    md.reset()
    yield
    md.reset()


def _np(t):
    return t.detach().numpy()


# ------------------------------------------------------------------ eager tl.cond
def test_eager_selects_one_branch():
    x = tl.tensor([1.0, -2.0])
    calls = []

    def t(v):
        calls.append("t")
        return v * 2

    def f(v):
        calls.append("f")
        return v.abs()

    assert tl.cond(tl.tensor(True), t, f, (x,)).tolist() == [2.0, -4.0]
    assert tl.cond(x.sum() > 0, t, f, [x]).tolist() == [1.0, 2.0]
    assert tl.cond(False, t, f, (x,)).tolist() == [1.0, 2.0]  # a Python bool works as `if`
    assert calls == ["t", "f", "f"]


@pytest.mark.parametrize("args, message", [
    ((None, tl.sin, tl.cos, ()), "Expected pred to be bool or tensor, but got None."),
    ((tl.tensor([True, False]), tl.sin, tl.cos, ()), "Expected pred to be bool or single-element tensor"),
    ((tl.tensor(True), tl.sin, 3, ()), "Expect both branches to be callable."),
    ((tl.tensor(True), tl.sin, tl.cos, (tl.ones(1), 2)), "Expect operands to be a tuple of possibly nested"),
])
def test_eager_errors_are_pytorchs(args, message):
    with pytest.raises(RuntimeError, match=message.replace("(", r"\(").replace(".", r"\.")):
        tl.cond(*args)


def test_eager_nested_operands():
    out = tl.cond(tl.tensor(True), lambda d: d["a"] + 1, lambda d: d["a"] - 1, ({"a": tl.ones(2)},))
    assert out.tolist() == [2.0, 2.0]


# ------------------------------------------------------------------ compiled == eager
def _sin_cos(x, w):
    return tl.cond(x.sum() > 0, lambda t: (t.sin() * w).exp(), lambda t: t.cos() + 1, (x,))


def _two_outputs(x, w):
    def true_fn(a, b):
        return a * b, a + b

    def false_fn(a, b):
        return a - b, (a * a).sum() * b
    out = tl.cond(x.mean() < 0.5, true_fn, false_fn, (x, w))
    return out[0] + out[1]


def _list_output(x, w):
    out = tl.cond(x[0] > 0, lambda a: [a.tanh()], lambda a: [a.relu() * w], [x])
    return out[0]


def _operand_is_computed(x, w):
    y = x * 2
    y.register_hook(lambda g: g * 3)  # a hook on the operand of the cond (the ported test)
    return tl.cond(x.sum() > 0, lambda t: t + 1, lambda t: t - 1, (y,)).sum() * w.sum()


PROGRAMS = [_sin_cos, _two_outputs, _list_output, _operand_is_computed]


def _run(fn, x0, w0):
    x, w = x0.clone().requires_grad_(), w0.clone().requires_grad_()
    out = fn(x, w)
    out.sum().backward()
    # a tensor only the other branch reads gets no gradient in eager, zeros when compiled
    return [_np(t) if t is not None else np.zeros(w0.shape) for t in (out, x.grad, w.grad)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("program", PROGRAMS, ids=lambda f: f.__name__)
def test_compiled_matches_eager_both_branches(backend, program):
    cnt = CompileCounterWithBackend(backend)
    compiled = md.compile(program, backend=cnt, fullgraph=True)
    for x0 in (tl.tensor([0.5, 1.5, 2.0]), tl.tensor([-0.5, -1.5, 0.25])):  # one input per branch
        w0 = tl.tensor([0.3, -0.7, 1.1])
        for a, b in zip(_run(compiled, x0, w0), _run(program, x0, w0)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert cnt.frame_count == 1  # the predicate is data: the other branch needs no recompile


@pytest.mark.parametrize("backend", BACKENDS)
def test_closure_tensors_read_by_one_branch(backend):
    w = tl.tensor([2.0, 3.0], requires_grad=True)
    v = tl.tensor([5.0, 7.0], requires_grad=True)

    def fn(x):
        return tl.cond(x.sum() > 0, lambda t: t * w, lambda t: t + v * v, (x,))

    compiled = md.compile(fn, backend=backend, fullgraph=True)
    for sign in (1.0, -1.0):
        grads = []
        for f in (fn, compiled):
            w.grad = v.grad = None
            x = tl.tensor([1.0, 2.0]).mul(sign).requires_grad_()
            f(x).sum().backward()
            grads.append([_np(t.grad) if t.grad is not None else None for t in (x, w, v)])
        for a, b in zip(*grads):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_allclose(a, b)


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_grad_and_int_operands(backend):
    def fn(x, i):
        return tl.cond(i.sum() > 2, lambda a, b: a * b, lambda a, b: a - b, (x, i))

    compiled = md.compile(fn, backend=backend, fullgraph=True)
    x = tl.ones(3, requires_grad=True)
    with tl.no_grad():
        for i in (tl.tensor([1, 2, 3]), tl.tensor([0, 0, 1])):
            out = compiled(x, i)
            assert out.tolist() == fn(x, i).tolist() and not out.requires_grad


def test_double_backward_eager_backend():
    def fn(x):
        return tl.cond(x.sum() > 0, lambda t: t ** 3, lambda t: t ** 2, (x,))

    results = []
    for f in (fn, md.compile(fn, backend="eager", fullgraph=True)):
        x = tl.tensor([1.0, 2.0], requires_grad=True)
        g, = tl.autograd.grad(f(x).sum(), x, create_graph=True)
        g.sum().backward()
        results.append((_np(g), _np(x.grad)))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b)


def test_outputs_require_grad_as_in_eager():
    def fn(x):
        return tl.cond(x.sum() > 0, lambda t: t.detach() * 2, lambda t: t.detach() + 1, (x,))

    x = tl.ones(2, requires_grad=True)
    out = md.compile(fn, backend="aot_eager", fullgraph=True)(x)
    assert out.requires_grad is fn(x).requires_grad is False
    assert out.tolist() == [2.0, 2.0]


def test_constant_pred_inlines_the_branch():
    graphs = EagerAndRecordGraphs()

    @md.compile(backend=graphs, fullgraph=True)
    def fn(x):
        return tl.cond(x.shape[0] > 2, lambda t: t.sin(), lambda t: t.cos(), (x,))

    assert fn(tl.zeros(3)).tolist() == [0.0, 0.0, 0.0]
    assert fn(tl.zeros(2)).tolist() == [1.0, 1.0]
    assert not any(n.op == "get_attr" for g in graphs.graphs for n in g.graph.nodes)


def test_graph():
    graphs = EagerAndRecordGraphs()
    y = tl.ones(3)

    @md.compile(backend=graphs, fullgraph=True)
    def fn(x):
        return tl.cond(x.sum() > 0, lambda t: t.sin() * y, lambda t: t.cos(), (x,))

    fn(tl.ones(3))
    assert_expected_inline(None, normalize_gm(graphs.graphs[0].print_readable(print_output=False)), """\
class GraphModule(tl.nn.Module):
    def forward(self, L_x_: "f32[3]", L_y_: "f32[3]"):
        l_x_ = L_x_
        l_y_ = L_y_

        sum_1: "f32[]" = l_x_.sum()
        gt: "b8[]" = sum_1 > 0;  sum_1 = None
        cond_true_0 = self.cond_true_0
        cond_false_0 = self.cond_false_0
        cond = backends_cond_cond(gt, cond_true_0, cond_false_0, (l_x_, l_y_));  gt = cond_true_0 = cond_false_0 = l_x_ = l_y_ = None
        getitem: "f32[3]" = cond[0];  cond = None
        return (getitem,)

    class cond_true_0(tl.nn.Module):
        def forward(self, arg0: "f32[3]", arg1: "f32[3]"):
            sin: "f32[3]" = arg0.sin();  arg0 = None
            mul: "f32[3]" = sin * arg1;  sin = arg1 = None
            return (mul,)

    class cond_false_0(tl.nn.Module):
        def forward(self, arg0: "f32[3]", arg1: "f32[3]"):
            cos: "f32[3]" = arg0.cos();  arg0 = None
            return (cos,)
""")


# ------------------------------------------------------------------ errors
def _compile_error(true_fn, false_fn, x=None):
    def fn(x):
        return tl.cond(x.sum() > 0, true_fn, false_fn, (x,))

    with pytest.raises(md.exc.UncapturedHigherOrderOpError) as info:
        md.compile(fn, backend="eager")(tl.ones(3) if x is None else x)  # raised even without fullgraph
    return str(info.value)


GLOBAL_LIST = []


def _appends(t):
    GLOBAL_LIST.append(1)
    return t + 1


@pytest.mark.parametrize("true_fn, message", [
    (lambda t: t.sum(), "tl.cond: the branches' output 0 differ: float32[] and float32[3]"),
    (lambda t: t.long(), "tl.cond: the branches' output 0 differ: int64[3] and float32[3]"),
    (lambda t: (t + 1, t + 2), "the branches must return the same structure: got a tuple of 2 tensors and a tensor"),
    (lambda t: t, "the true branch returns one of its inputs or a view of one"),
    (lambda t: t[:2], "the true branch returns one of its inputs or a view of one"),
    (lambda t: t.add_(1) * 1, "the true branch changes one of its inputs in place"),
    (lambda t: print("x") or t + 1, "cannot capture the true branch"),
    (_appends, "a mutation of a list, dict or set from outside the frame"),
    (lambda t: 3, "the true branch must return a tensor or a tuple/list of tensors"),
])
def test_uncapturable_branches_raise(true_fn, message):
    assert message in _compile_error(true_fn, lambda t: t * 2)


def test_requires_grad_mismatch_breaks_the_graph():
    def fn(x):
        return tl.cond(x.sum() > 0, lambda t: t * 2, lambda t: t.detach() * 2, (x,))

    with pytest.raises(md.exc.Unsupported, match="differ in requires_grad"):
        md.compile(fn, fullgraph=True)(tl.ones(3, requires_grad=True))
    md.reset()
    for sign in (1.0, -1.0):
        x = tl.ones(3).mul(sign).requires_grad_()
        assert md.compile(fn)(x).requires_grad is fn(x).requires_grad is (sign > 0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_random_branch_draws_as_eager(backend):
    def fn(x):
        return tl.cond(x.sum() > 0, lambda t: tl.nn.functional.dropout(t, 0.5), lambda t: t * 2, (x,))

    compiled = md.compile(fn, backend=backend, fullgraph=True)
    compiled(tl.ones(8))  # compile first: tracing dropout draws from the generator (a separate problem)
    outs = []
    for f in (fn, compiled):
        tl.manual_seed(3)
        outs.append([f(tl.ones(8)).tolist() for _ in range(2)])
    assert outs[0] == outs[1] and outs[0][0] != outs[0][1]


def test_local_state_change_raises():
    def fn(x):
        seen = []

        def true_fn(t):
            seen.append(t)
            return t + 1

        out = tl.cond(x.sum() > 0, true_fn, lambda t: t - 1, (x,))
        return out, len(seen)

    with pytest.raises(md.exc.UncapturedHigherOrderOpError, match="ListVariable.items changed"):
        md.compile(fn)(tl.ones(2))


def test_local_containers_made_inside_a_branch_are_fine():
    def true_fn(t):
        parts = []
        for k in range(3):
            parts.append(t * k)
        return sum(parts)

    def f(x):
        return tl.cond(x.sum() > 0, true_fn, lambda t: t - 1, operands=(x,))

    assert md.compile(f, fullgraph=True)(tl.ones(2)).tolist() == f(tl.ones(2)).tolist()


def test_nested_operands_break_the_graph_and_run_eagerly():
    def fn(x):
        return tl.cond(x.sum() > 0, lambda d: d[0][0] + 1, lambda d: d[0][0] - 1, (((x,),),))

    with pytest.raises(md.exc.Unsupported, match="flat tuple or list of tensors"):
        md.compile(fn, fullgraph=True)(tl.ones(2))
    md.reset()
    assert md.compile(fn)(tl.ones(2)).tolist() == [2.0, 2.0]


def test_bad_pred_is_the_eager_error():
    def fn(x):
        return tl.cond(x > 0, lambda t: t + 1, lambda t: t - 1, (x,))

    with pytest.raises(RuntimeError, match="Expected pred to be bool or single-element tensor"):
        md.compile(fn)(tl.ones(2))
