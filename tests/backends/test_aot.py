"""backends.aot / aot_eager: gradients vs eager tensorlite, runtime semantics, graph printouts."""
import logging

import numpy as np
import pytest

import fxlite
import minidynamo as md
import tensorlite as tl
from backends.aot import (aot_function, aot_module_simplified, default_partition,
                          min_cut_rematerialization_partition, nop)
from backends.aot.trace_wrapped import register_hook, trace_wrapped
from minidynamo.expecttest import assert_expected_inline, normalize_gm

PARTITIONERS = [default_partition, min_cut_rematerialization_partition]


def _compile(fn, backend, partition_fn=None):
    if backend == "eager":
        return fn
    if backend == "aot_eager":
        return aot_function(fn, nop, partition_fn=partition_fn)
    md.reset()
    return md.compile(fn, backend="aot_eager")


def _inputs(shapes, seed=0, positive=False):
    tl.manual_seed(seed)
    out = []
    for s in shapes:
        t = tl.randn(*s)
        if positive:
            t = t.abs() + 0.5
        out.append(t.requires_grad_())
    return out


def _grads(fn, shapes, positive=False, seed=0):
    xs = _inputs(shapes, seed, positive)
    out = fn(*xs)
    outs = out if isinstance(out, tuple) else (out,)
    total = sum((o * (i + 1.0)).sum() for i, o in enumerate(outs))
    total.backward()
    return [o.detach() for o in outs], [x.grad for x in xs]


def check_against_eager(fn, shapes, backend="aot_eager", positive=False, partition_fn=None):
    ref_out, ref_grads = _grads(fn, shapes, positive)
    out, grads = _grads(_compile(fn, backend, partition_fn), shapes, positive)
    for a, b in zip(out, ref_out):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)
    for a, b in zip(grads, ref_grads):
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)


# one program per differentiable primitive: (name, fn, input shapes, positive inputs)
PRIMS = [
    ("add", lambda a, b: a + b, [(3,), (3,)], False),
    ("add_broadcast", lambda a, b: a + b, [(2, 3), (3,)], False),
    ("sub", lambda a, b: a - b, [(3,), (3,)], False),
    ("mul", lambda a, b: a * b, [(2, 3), (2, 3)], False),
    ("div", lambda a, b: a / b, [(3,), (3,)], True),
    ("pow", lambda a, b: a ** b, [(3,), (3,)], True),
    ("pow_scalar", lambda a: a ** 3, [(3,)], False),
    ("maximum", lambda a, b: tl.maximum(a, b), [(4,), (4,)], False),
    ("minimum", lambda a, b: tl.minimum(a, b), [(4,), (4,)], False),
    ("where", lambda a, b: tl.where(a > 0, a, b), [(4,), (4,)], False),
    ("neg", lambda a: -a, [(3,)], False),
    ("abs", lambda a: a.abs(), [(3,)], False),
    ("sign", lambda a: a.sign() * a, [(3,)], False),
    ("exp", lambda a: a.exp(), [(3,)], False),
    ("log", lambda a: a.log(), [(3,)], True),
    ("sin", lambda a: a.sin(), [(3,)], False),
    ("cos", lambda a: a.cos(), [(3,)], False),
    ("tanh", lambda a: a.tanh(), [(3,)], False),
    ("sigmoid", lambda a: a.sigmoid(), [(3,)], False),
    ("sqrt", lambda a: a.sqrt(), [(3,)], True),
    ("rsqrt", lambda a: a.rsqrt(), [(3,)], True),
    ("erf", lambda a: tl.erf(a), [(3,)], False),
    ("relu", lambda a: a.relu(), [(5,)], False),
    ("floor", lambda a: a.floor() + a, [(3,)], False),
    ("ceil", lambda a: a.ceil() + a, [(3,)], False),
    ("round", lambda a: a.round() + a, [(3,)], False),
    ("clamp", lambda a: a.clamp(-0.5, 0.5), [(5,)], False),
    ("cast", lambda a: a.double().float() * 2, [(3,)], False),
    ("clone", lambda a: a.clone() * 2, [(3,)], False),
    ("sum", lambda a: a.sum(1), [(2, 3)], False),
    ("mean", lambda a: a.mean(), [(2, 3)], False),
    ("amax", lambda a: a.amax(1), [(2, 3)], False),
    ("amin", lambda a: a.amin(0), [(2, 3)], False),
    ("reshape", lambda a: a.reshape(3, 2) * 2, [(2, 3)], False),
    ("permute", lambda a: a.permute(1, 0) * 2, [(2, 3)], False),
    ("expand", lambda a: a.expand(4, 3) * 2, [(1, 3)], False),
    ("index", lambda a: a[1:, ::2] * 2, [(3, 4)], False),
    ("index_tensor", lambda a: a[tl.tensor([0, 2, 2])] * 2, [(3, 4)], False),
    ("index_put", lambda a, b: _setitem(a, b), [(4,), (2,)], False),
    ("cat", lambda a, b: tl.cat([a, b], 0) * 2, [(2, 3), (1, 3)], False),
    ("matmul", lambda a, b: a @ b, [(2, 3), (3, 4)], False),
    ("matmul_vec", lambda a, b: a @ b, [(2, 3), (3,)], False),
    ("bmm", lambda a, b: a @ b, [(2, 2, 3), (2, 3, 2)], False),
    ("softmax", lambda a: a.softmax(-1), [(2, 3)], False),
    ("log_softmax", lambda a: a.log_softmax(-1), [(2, 3)], False),
    ("var", lambda a: a.var(1), [(2, 4)], False),
]


def _setitem(a, b):
    c = a * 1
    c[1:3] = b
    return c


@pytest.mark.parametrize("backend", ["eager", "aot_eager"])
@pytest.mark.parametrize("name,fn,shapes,positive", PRIMS, ids=[p[0] for p in PRIMS])
def test_primitive_gradients(backend, name, fn, shapes, positive):
    check_against_eager(fn, shapes, backend, positive)


@pytest.mark.parametrize("name,fn,shapes,positive", PRIMS[::3], ids=[p[0] for p in PRIMS[::3]])
def test_primitive_gradients_min_cut(name, fn, shapes, positive):
    check_against_eager(fn, shapes, "aot_eager", positive, min_cut_rematerialization_partition)


def mlp(x, w1, b1, w2):
    return ((x @ w1 + b1).relu() @ w2).tanh().sum()


def attention(q, k, v):
    return (q @ k.T / 2.0).softmax(-1) @ v


def layer_norm(x, w, b):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / (var + 1e-5).sqrt() * w + b


PROGRAMS = [
    ("mlp", mlp, [(4, 3), (3, 5), (5,), (5, 2)]),
    ("attention", attention, [(4, 8), (6, 8), (6, 3)]),
    ("layer_norm", layer_norm, [(3, 6), (6,), (6,)]),
    ("F.layer_norm", lambda x, w, b: tl.nn.functional.layer_norm(x, (6,), w, b), [(3, 6), (6,), (6,)]),
    ("two_outputs", lambda x, y: (x.sin() * y, (x @ y.T).sum()), [(2, 3), (2, 3)]),
]


@pytest.mark.parametrize("backend", ["eager", "aot_eager", "md_aot_eager"])
@pytest.mark.parametrize("partition_fn", PARTITIONERS, ids=["default", "min_cut"])
@pytest.mark.parametrize("name,fn,shapes", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_programs(backend, partition_fn, name, fn, shapes):
    check_against_eager(fn, shapes, backend, partition_fn=partition_fn)


# ---------------------------------------------------------------------- runtime semantics
class Recorder:
    def __init__(self):
        self.fw, self.bw = [], []

    def fw_compiler(self, gm, inputs):
        self.fw.append(gm)
        return gm.forward

    def bw_compiler(self, gm, inputs):
        self.bw.append(gm)
        return gm.forward


def test_backward_compiled_lazily_once():
    rec = Recorder()
    f = aot_function(lambda x: x.sin().sum(), rec.fw_compiler, rec.bw_compiler)
    x = tl.randn(3, requires_grad=True)
    y = f(x)
    assert (len(rec.fw), len(rec.bw)) == (1, 0)
    y.backward()
    assert (len(rec.fw), len(rec.bw)) == (1, 1)
    f(x).backward()
    f(x).backward()
    assert (len(rec.fw), len(rec.bw)) == (1, 1)
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.cos(x.detach().numpy()), rtol=1e-5)


def test_no_grad_runs_forward_only():
    rec = Recorder()
    f = aot_function(lambda x: x.sin() * 2, rec.fw_compiler, rec.bw_compiler)
    x = tl.randn(3, requires_grad=True)
    with tl.no_grad():
        y = f(x)
    assert not y.requires_grad and y.grad_fn is None
    assert (len(rec.fw), len(rec.bw)) == (1, 0)
    assert "tangents" not in rec.fw[0].code
    np.testing.assert_allclose(y.numpy(), 2 * np.sin(x.detach().numpy()), rtol=1e-6)
    z = f(x)  # grad mode on: the training variant is compiled on first use
    assert z.requires_grad and len(rec.fw) == 2 and len(rec.bw) == 0


def test_requires_grad_of_outputs():
    f = aot_function(lambda x, y: (x * 2, y * 2, x.argmax(), x.sum() > 0), nop)
    x = tl.randn(3, requires_grad=True)
    y = tl.randn(3)
    a, b, c, d = f(x, y)
    assert a.requires_grad and a.grad_fn.name() == "CompiledFunctionBackward"
    assert not b.requires_grad and not c.requires_grad and not d.requires_grad
    assert a.is_leaf is False and b.is_leaf


def test_retain_graph_twice_and_freed_error():
    f = aot_function(lambda x: (x * x).sin().sum(), nop)
    x = tl.randn(3, requires_grad=True)
    y = f(x)
    y.backward(retain_graph=True)
    g1 = x.grad.clone()
    y.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1.numpy(), rtol=1e-6)
    y.backward()
    with pytest.raises(RuntimeError, match="Specify retain_graph=True"):
        y.backward()


def test_autograd_grad():
    f = aot_function(mlp, nop)
    xs = _inputs([(4, 3), (3, 5), (5,), (5, 2)])
    gs = tl.autograd.grad(f(*xs), xs[1:3])
    ref = tl.autograd.grad(mlp(*xs), xs[1:3])
    for a, b in zip(gs, ref):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5)
    assert all(x.grad is None for x in xs)


def test_hooks_on_inputs_and_outputs():
    f = aot_function(lambda x: (x.sin() * 3, x.cos()), nop)
    x = tl.randn(3, requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(("x", g.clone())) or g * 2)
    a, b = f(x)
    a.register_hook(lambda g: seen.append(("a", g.clone())) or g * 10)
    (a.sum() + b.sum()).backward()
    assert [s[0] for s in seen] == ["a", "x"]
    xv = x.detach().numpy()
    expected = 2 * (10 * 3 * np.cos(xv) - np.sin(xv))
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-5)


def test_retain_grad_on_output_and_partial_use():
    f = aot_function(lambda x: (x * 2, x * 3), nop)
    x = tl.randn(3, requires_grad=True)
    a, b = f(x)
    a.retain_grad()
    a.sum().backward()  # b unused: its tangent is materialised as zeros
    np.testing.assert_allclose(a.grad.numpy(), np.ones(3))
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.ones(3))


def test_inplace_modified_saved_input_raises():
    f = aot_function(lambda x, w: (x * w).sum(), nop)
    x = tl.randn(3)
    w = tl.randn(3, requires_grad=True)
    y = f(x, w)
    x.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_create_graph_falls_back_to_eager():
    f = aot_function(lambda x: (x ** 3).sum(), nop)
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    (g,) = tl.autograd.grad(f(x), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [3.0, 12.0])
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 12.0])


def test_input_mutation_copied_back():
    def fn(x, y):
        x.add_(1)
        return x * y

    f = aot_function(fn, nop)
    x, y = tl.ones(3), tl.randn(3, requires_grad=True)
    x_ref = tl.ones(3)
    out = f(x, y)
    ref = fn(x_ref, y)
    np.testing.assert_allclose(x.numpy(), x_ref.numpy())
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy())
    out.sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), x_ref.numpy())


def test_mutating_input_that_requires_grad_is_rejected():
    def fn(x):
        x.mul_(2)
        return x

    with pytest.raises(RuntimeError, match="mutates an input that requires grad"):
        aot_function(fn, nop)(tl.randn(3, requires_grad=True))


def test_outputs_aliasing_inputs_and_non_tensor_outputs():
    f = aot_function(lambda x: (x, x.reshape(2, 2), x.sum(), 7, None), nop)
    x = tl.randn(4, requires_grad=True)
    a, b, c, d, e = f(x)
    assert a is x and (d, e) == (7, None)
    assert b._base is x  # a real view, as in eager
    (b * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.ones(4))


def test_duplicate_outputs_are_the_same_object():
    f = aot_function(lambda x: (x.sin(),) * 2, nop)
    a, b = f(tl.randn(2, requires_grad=True))
    assert a is b


def test_nested_inputs_and_outputs_and_recompile_on_shape():
    rec = Recorder()
    f = aot_function(lambda d, xs: {"s": d["a"] * xs[0], "t": [xs[1].sum()]}, rec.fw_compiler, rec.bw_compiler)
    a = tl.randn(3, requires_grad=True)
    out = f({"a": a}, [tl.ones(3), tl.ones(2)])
    assert set(out) == {"s", "t"} and isinstance(out["t"], list)
    out["s"].sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.ones(3))
    f({"a": tl.randn(5, requires_grad=True)}, [tl.ones(5), tl.ones(2)])
    assert len(rec.fw) == 2


# ---------------------------------------------------------------------- trace_wrapped hooks
def test_trace_wrapped_is_one_opaque_node():
    calls = []

    def hook(g):
        calls.append(1)
        return g * 100

    gm = fxlite.make_fx(lambda x: trace_wrapped(x, fn=hook) + 1, tracing_mode="fake")(tl.ones(2))
    ops = [n.target for n in gm.graph.nodes if n.op == "call_function"]
    # the hook is bound into the node's target, as PyTorch's self_invoke
    assert [getattr(op, "fn", op) for op in ops] == [hook, tl.ops.add] and calls == []
    np.testing.assert_allclose(gm(tl.ones(2)).numpy(), [101.0, 101.0])


def _hooked_dynamo_graph():
    """A Dynamo-level graph: y = x.sin(); y.register_hook(hook) (hook is a graph input); y * 2."""
    g = fxlite.Graph()
    x = g.placeholder("L_x_")
    hook = g.placeholder("L_hook_")
    y = g.call_method("sin", (x,))
    g.call_function(register_hook, (y, hook))
    out = g.call_function(tl.mul, (y, 2))
    g.output((out,))
    return fxlite.GraphModule({}, g)


def test_hook_on_intermediate_runs_in_backward_graph():
    rec = Recorder()
    seen = []

    def hook1(g):
        seen.append("h1")
        return g * 10

    def hook2(g):
        seen.append("h2")

    gm = _hooked_dynamo_graph()
    x = tl.randn(3, requires_grad=True)
    compiled = aot_module_simplified(gm, [x, hook1], rec.fw_compiler, rec.bw_compiler)
    assert seen == []
    (out,) = compiled(x, hook1)
    out.sum().backward()
    assert seen == ["h1"]
    xv = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), 20 * np.cos(xv), rtol=1e-5)
    assert "trace_wrapped" in rec.bw[0].code and "trace_wrapped" not in rec.fw[0].code
    x.grad = None
    (out,) = compiled(x, hook2)  # a new hook: used without recompiling
    out.sum().backward()
    assert seen == ["h1", "h2"] and len(rec.fw) == 1
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos(xv), rtol=1e-5)
    # the eager backend runs the same graph with the same result
    x.grad = None
    gm(x, hook1)[0].sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 20 * np.cos(xv), rtol=1e-5)


# ---------------------------------------------------------------------- graph printouts
def _fw_bw(fn, *args, partition_fn=None):
    rec = Recorder()
    f = aot_function(fn, rec.fw_compiler, rec.bw_compiler, partition_fn=partition_fn)
    out = f(*args)
    (out if not isinstance(out, tuple) else out[0]).sum().backward()
    return (normalize_gm(rec.fw[0].print_readable(False)), normalize_gm(rec.bw[0].print_readable(False)))


def test_expected_graphs_linear_relu():
    def f(x, w):
        return (x @ w).relu().sum()

    fw, bw = _fw_bw(f, tl.randn(2, 3, requires_grad=True), tl.randn(3, 4, requires_grad=True))
    assert_expected_inline(None, fw, """\
class GraphModule(tl.nn.Module):
    def forward(self, primals_1: "f32[2, 3]", primals_2: "f32[3, 4]"):
        matmul: "f32[2, 4]" = tl.ops.matmul(primals_1, primals_2)
        relu: "f32[2, 4]" = tl.ops.relu(matmul);  matmul = None
        sum_1: "f32[]" = tl.ops.sum(relu, dims = (0, 1), keepdim = False, dtype = None)
        return (sum_1, primals_1, primals_2, relu)
""")
    assert_expected_inline(None, bw, """\
class GraphModule(tl.nn.Module):
    def forward(self, primals_1: "f32[2, 3]", primals_2: "f32[3, 4]", relu: "f32[2, 4]", tangents_1: "f32[]"):
        reshape: "f32[1, 1]" = tl.ops.reshape(tangents_1, shape = (1, 1));  tangents_1 = None
        expand: "f32[2, 4]" = tl.ops.expand(reshape, shape = (2, 4));  reshape = None
        gt: "b8[2, 4]" = tl.ops.gt(relu, 0);  relu = None
        where: "f32[2, 4]" = tl.ops.where(gt, expand, 0.0);  gt = expand = None
        permute: "f32[4, 3]" = tl.ops.permute(primals_2, dims = (1, 0));  primals_2 = None
        matmul_1: "f32[2, 3]" = tl.ops.matmul(where, permute);  permute = None
        permute_1: "f32[3, 2]" = tl.ops.permute(primals_1, dims = (1, 0));  primals_1 = None
        matmul_2: "f32[3, 4]" = tl.ops.matmul(permute_1, where);  permute_1 = where = None
        return (matmul_1, matmul_2)
""")


def test_expected_graphs_sin_cos_min_cut():
    def f(x):
        return x.sin().cos()

    fw, bw = _fw_bw(f, tl.randn(3, requires_grad=True), partition_fn=min_cut_rematerialization_partition)
    assert_expected_inline(None, fw, """\
class GraphModule(tl.nn.Module):
    def forward(self, primals_1: "f32[3]"):
        sin: "f32[3]" = tl.ops.sin(primals_1)
        cos: "f32[3]" = tl.ops.cos(sin);  sin = None
        return (cos, primals_1)
""")
    assert_expected_inline(None, bw, """\
class GraphModule(tl.nn.Module):
    def forward(self, primals_1: "f32[3]", tangents_1: "f32[3]"):
        sin: "f32[3]" = tl.ops.sin(primals_1)
        sin_1: "f32[3]" = tl.ops.sin(sin);  sin = None
        mul: "f32[3]" = tl.ops.mul(tangents_1, sin_1);  tangents_1 = sin_1 = None
        neg: "f32[3]" = tl.ops.neg(mul);  mul = None
        cos_1: "f32[3]" = tl.ops.cos(primals_1);  primals_1 = None
        mul_1: "f32[3]" = tl.ops.mul(neg, cos_1);  neg = cos_1 = None
        return (mul_1,)
""")


def test_joint_graph_printout():
    from backends.aot.joint import collect_metadata, trace_joint

    f = lambda x, y: (x * y).sum()  # noqa: E731
    args = [tl.randn(2, requires_grad=True), tl.randn(2)]
    joint = trace_joint(f, args, collect_metadata(f, args, True))
    assert_expected_inline(None, normalize_gm(joint.print_readable(False)), """\
class inner_f(tl.nn.Module):
    def forward(self, primals_1: "f32[2]", primals_2: "f32[2]", tangents_1: "f32[]"):
        mul: "f32[2]" = tl.ops.mul(primals_1, primals_2);  primals_1 = None
        sum_1: "f32[]" = tl.ops.sum(mul, dims = (0,), keepdim = False, dtype = None);  mul = None
        reshape: "f32[1]" = tl.ops.reshape(tangents_1, shape = (1,));  tangents_1 = None
        expand: "f32[2]" = tl.ops.expand(reshape, shape = (2,));  reshape = None
        mul_1: "f32[2]" = tl.ops.mul(expand, primals_2);  expand = primals_2 = None
        return ([sum_1], [mul_1, None])
""")


# ---------------------------------------------------------------------- through minidynamo
def test_md_compile_aot_eager_end_to_end():
    class M(tl.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin1 = tl.nn.Linear(3, 4)
            self.lin2 = tl.nn.Linear(4, 2)

        def forward(self, x):
            return self.lin2(self.lin1(x).relu()).softmax(-1)

    tl.manual_seed(0)
    m = M()
    x = tl.randn(5, 3)
    m(x).sum().backward()
    ref = {k: p.grad.clone() for k, p in m.named_parameters()}
    for p in m.parameters():
        p.grad = None
    md.reset()
    cm = md.compile(m, backend="aot_eager")
    out = cm(x)
    np.testing.assert_allclose(out.detach().numpy(), m(x).detach().numpy(), rtol=1e-5)
    out.sum().backward()
    for k, p in m.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), ref[k].numpy(), rtol=1e-4, atol=1e-6)


def test_aot_eager_and_record_graphs():
    md.reset()
    backend = md.testing.AotEagerAndRecordGraphs()

    @md.compile(backend=backend)
    def f(x, y):
        return (x.sin() * y).sum()

    x, y = tl.randn(3, requires_grad=True), tl.randn(3, requires_grad=True)
    out = f(x, y)
    assert (len(backend.graphs), len(backend.fw_graphs), len(backend.bw_graphs)) == (1, 1, 0)
    out.backward()
    assert len(backend.bw_graphs) == 1
    np.testing.assert_allclose(x.grad.numpy(), np.cos(x.detach().numpy()) * y.detach().numpy(), rtol=1e-5)
    assert "tangents_1" in backend.bw_graphs[0].code


def test_md_compile_input_mutation():
    md.reset()

    def fn(x, w):
        x.mul_(2)
        return (x * w).sum()

    x1, x2 = tl.ones(3), tl.ones(3)
    w = tl.randn(3, requires_grad=True)
    md.compile(fn, backend="aot_eager")(x1, w).backward()
    g = w.grad.clone()
    w.grad = None
    fn(x2, w).backward()
    np.testing.assert_allclose(x1.numpy(), x2.numpy())
    np.testing.assert_allclose(g.numpy(), w.grad.numpy())


def test_aot_graphs_logging(caplog):
    md.reset()
    md.set_logs(aot_graphs=True)
    try:
        with caplog.at_level(logging.INFO, logger="minidynamo"):
            md.compile(lambda x: x.cos().sum(), backend="aot_eager")(tl.randn(2, requires_grad=True))
    finally:
        md.set_logs(aot_graphs=False)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "Forward graph" in text and "Backward graph" in text and "tangents_1" in text
