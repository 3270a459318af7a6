"""Higher-order ops and compiled autograd: re-creations of PyTorch's
test_backward_higher_order_ops.py and the main invoke_subgraph behaviours, on tensorlite."""
import functools

import pytest

import backends
import fxlite
import minidynamo as md
import tensorlite as tl
from minidynamo import trace_wrapped
from minidynamo.expecttest import assert_expected_inline, normalize_gm
from minidynamo.testing import EagerAndRecordGraphs, same

BACKENDS = [b for b in ("eager", "aot_eager", "codegen") if b in backends.list_backends()]


@pytest.fixture(autouse=True)
def _reset():
    md.reset()
    yield
    md.reset()


def _multiply(x):
    return x * x


def _multiply_invoke(grad):
    return trace_wrapped(grad, fn=_multiply)


# ------------------------------------------------------------------- trace_wrapped


def test_trace_wrapped_in_eager():
    x = tl.tensor([0.5, 0.5], requires_grad=True)
    y = tl.tensor([0.5, 0.5], requires_grad=True)
    x.register_hook(_multiply_invoke)
    (x * y).backward(tl.tensor([2.0, 2.0]))
    assert x.grad.tolist() == (y * tl.tensor([2.0, 2.0])).tolist() or same(x.grad, (y * 2.0) ** 2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_trace_wrapped_hook_in_compiled_function(backend):
    results = []
    for compiled in (False, True):
        x = tl.tensor([0.5, 0.5], requires_grad=True)
        y = tl.tensor([0.5, 0.5], requires_grad=True)

        def fn(x, y):
            x.register_hook(_multiply_invoke)
            return x * y

        f = md.compile(fn, backend=backend) if compiled else fn
        f(x, y).backward(tl.tensor([2.0, 2.0]))
        results.append(x.grad.tolist())
    assert results[0] == results[1]


def test_trace_wrapped_make_fx_is_one_opaque_node():
    out = fxlite.make_fx(_multiply_invoke)(tl.tensor([0.5, 0.5], requires_grad=True))
    assert same(out(tl.tensor([0.5, 0.5])), tl.tensor([0.25, 0.25]))
    text = normalize_gm(out.print_readable(False)).replace(__name__.replace(".", "_"), "MOD")
    assert_expected_inline(None, text, """\
class _multiply_invoke(tl.nn.Module):
    def forward(self, grad_1: "f32[2]"):
        trace_wrapped: "f32[2]" = backends_aot_trace_wrapped_self_invoke(grad_1);  grad_1 = None
        return trace_wrapped
""")


# ------------------------------------------------------------------- compiled autograd


class MyObj:
    def __init__(self):
        self.counter = 0


def _side_effect_stateful_fn(x, obj):
    obj.counter = obj.counter + 1
    return _multiply(x)


def _side_effectful_invoke(grad, fn):
    return trace_wrapped(grad, fn=fn)


@pytest.mark.parametrize("backend", BACKENDS)
def test_compiled_autograd_hook_side_effect_once_per_backward(backend):
    graphs = []

    def compiler_fn(gm):
        def inner(gm_, example_inputs):
            graphs.append(gm_)
            return backends.lookup_backend(backend)(gm_, example_inputs)
        return md.compile(gm, backend=inner, fullgraph=True)

    obj = MyObj()
    fwd = md.compile(lambda x, y: x + y, backend=backend, fullgraph=True)
    for i in range(3):
        x = tl.tensor([0.5, 0.5], requires_grad=True)
        y = tl.tensor([0.5, 0.5], requires_grad=True)
        hook = functools.partial(_side_effectful_invoke, fn=functools.partial(_side_effect_stateful_fn, obj=obj))
        x.register_hook(hook)
        out = fwd(x, y)
        with md.compiled_autograd.enable(compiler_fn):
            out.backward(tl.tensor([2.0, 2.0]))
        assert obj.counter == i + 1
        assert x.grad.tolist() == [4.0, 4.0] and y.grad.tolist() == [2.0, 2.0]
    assert len(graphs) == 1  # cached: no recompile although the counter changed


def test_compiled_autograd_graph_inlines_the_hook():
    graphs = []

    def compiler_fn(gm):
        def inner(gm_, example_inputs):
            graphs.append(gm_)
            return gm_.forward
        return md.compile(gm, backend=inner, fullgraph=True)

    x = tl.tensor([0.5, 0.5], requires_grad=True)
    x.register_hook(_multiply_invoke)
    out = x * 3
    with md.compiled_autograd.enable(compiler_fn):
        out.backward(tl.tensor([2.0, 2.0]))
    assert x.grad.tolist() == [36.0, 36.0]
    assert_expected_inline(None, normalize_gm(graphs[0].print_readable(False)), """\
class GraphModule(tl.nn.Module):
    def forward(self, L_args_0_: "f32[2]", L_args_2_: "i64[]"):
        l_args_0_ = L_args_0_
        l_args_2_ = L_args_2_

        mul: "f32[2]" = tl.ops.call_with_scalars(l_args_0_, l_args_2_, op = 'mul', scalars_at = (1,));  l_args_0_ = l_args_2_ = None

        result: "f32[2]" = mul * mul;  mul = None

        clone: "f32[2]" = result.clone();  result = None
        return (clone,)
""")


def test_compiled_autograd_untraceable_hook_raises_without_side_effects():
    obj = MyObj()

    def bad_hook(g):
        obj.counter += 100
        print("hook")
        return g

    x = tl.ones(2, requires_grad=True)
    y = x * 2
    y.register_hook(bad_hook)
    with pytest.raises(md.exc.Unsupported, match="print"):
        with md.compiled_autograd.enable(lambda gm: md.compile(gm, backend="eager", fullgraph=True)):
            y.sum().backward()
    assert obj.counter == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_compiled_autograd_post_accumulate_hook_and_grads(backend):
    def hook(t):
        t.mul_(t.grad)
        t.grad.mul_(5)

    res = []
    for compiled in (False, True):
        x = tl.tensor([0.5, 0.5, 0.5], requires_grad=True)
        x.register_post_accumulate_grad_hook(hook)
        loss = (x * 2).sum()
        if compiled:
            with md.compiled_autograd.enable(lambda gm: md.compile(gm, backend=backend, fullgraph=True)):
                loss.backward()
        else:
            loss.backward()
        res.append((x.detach().tolist(), x.grad.tolist()))
    assert res[0] == res[1] == ([1.0, 1.0, 1.0], [10.0, 10.0, 10.0])


# ------------------------------------------------------------------- nested compile regions


@md.nested_compile_region
def block(x, y):
    return (x.sin() * y).cos()


def test_region_is_a_noop_eagerly():
    x, y = tl.randn(4), tl.randn(4)
    assert same(block(x, y), (x.sin() * y).cos())
    assert md.nested_compile_region(block) is block  # double decoration is one region
    assert md.mark_compile_region is md.nested_compile_region


def test_region_calls_share_one_subgraph():
    rec = EagerAndRecordGraphs()

    @md.compile(backend=rec)
    def f(x, y):
        a = block(x, y)
        return block(a, y)

    x, y = tl.randn(8, 8), tl.randn(8, 8)
    assert same(f(x, y), f._orig_fn(x, y))
    assert_expected_inline(None, normalize_gm(rec.graphs[0].print_readable(False)), """\
class GraphModule(tl.nn.Module):
    def forward(self, L_x_: "f32[8, 8]", L_y_: "f32[8, 8]"):
        l_x_ = L_x_
        l_y_ = L_y_

        subgraph_0 = self.subgraph_0
        invoke_subgraph = backends_higher_order_invoke_subgraph(subgraph_0, 'subgraph_0', l_x_, l_y_);  subgraph_0 = l_x_ = None
        a: "f32[8, 8]" = invoke_subgraph[0];  invoke_subgraph = None
        subgraph_1 = self.subgraph_0
        invoke_subgraph_1 = backends_higher_order_invoke_subgraph(subgraph_1, 'subgraph_0', a, l_y_);  subgraph_1 = a = l_y_ = None
        getitem_3: "f32[8, 8]" = invoke_subgraph_1[0];  invoke_subgraph_1 = None
        return (getitem_3,)

    class subgraph_0(tl.nn.Module):
        def forward(self, l_x_: "f32[8, 8]", l_y_: "f32[8, 8]"):
            sin: "f32[8, 8]" = l_x_.sin();  l_x_ = None
            mul: "f32[8, 8]" = sin * l_y_;  sin = l_y_ = None
            cos: "f32[8, 8]" = mul.cos();  mul = None
            return (cos,)
""")


def test_region_new_shapes_give_a_new_subgraph():
    rec = EagerAndRecordGraphs()

    @md.compile(backend=rec)
    def f(a, b):
        return block(a, a), block(b, b)

    a, b = tl.randn(8, 8), tl.randn(16, 16)
    assert same(f(a, b), f._orig_fn(a, b))
    names = sorted(n for n, _ in rec.graphs[0].named_children())
    assert names == ["subgraph_0", "subgraph_1"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_region_gradients_equal_eager(backend):
    def f(x, y):
        return (block(x, y) + block(x * 2, y)).sum()

    x, y = tl.randn(8, 8, requires_grad=True), tl.randn(8, 8, requires_grad=True)
    f(x, y).backward()
    gx, gy = x.grad, y.grad
    x2 = tl.tensor(x.detach().tolist(), requires_grad=True)
    y2 = tl.tensor(y.detach().tolist(), requires_grad=True)
    md.compile(f, backend=backend)(x2, y2).backward()
    assert same(x2.grad, gx) and same(y2.grad, gy)


def test_region_on_module_lifts_parameters():
    rec = EagerAndRecordGraphs()

    class M(tl.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = md.nested_compile_region(tl.nn.Linear(4, 4))

        def forward(self, x):
            return self.lin(self.lin(x).relu())

    m = M()
    x = tl.randn(2, 4)
    assert same(md.compile(m, backend=rec)(x), m(x))
    sub = rec.graphs[0].subgraph_0
    phs = [n.name for n in sub.graph.nodes if n.op == "placeholder"]
    # named as the outer graph's nodes: the input, then the lifted weight and bias
    assert phs == ["l_args_0_", "l_self_lin_weight", "l_self_lin_bias"]


def test_region_graph_break_is_an_error():
    @md.nested_compile_region
    def breaks(x):
        print("inside")
        return x * 2

    with pytest.raises(md.exc.Unsupported, match="single graph"):
        md.compile(lambda x: breaks(x) + 1)(tl.ones(2))


def test_calling_invoke_subgraph_directly_is_unsupported():
    from backends.higher_order import invoke_subgraph

    with pytest.raises(md.exc.Unsupported, match="Directly using invoke_subgraph is not supported"):
        md.compile(lambda x: invoke_subgraph(tl.sin, None, x), fullgraph=True)(tl.ones(2))


def test_region_aliasing_is_an_error():
    @md.nested_compile_region
    def alias(x):
        return x

    with pytest.raises(md.exc.UncapturedHigherOrderOpError):
        md.compile(lambda x: alias(x) + 1)(tl.ones(2))


def _fresh(args):
    return [tl.tensor(a.detach().tolist(), requires_grad=a.requires_grad) if isinstance(a, tl.Tensor) else a
            for a in args]


def _matches_eager(fn, args, backend):
    """fn compiled (fullgraph) returns eager's values; the gradients of its first result
    (summed) reach the inputs as eagerly."""
    eager_args, compiled_args = _fresh(args), _fresh(args)
    ref = fn(*eager_args)
    out = md.compile(fn, backend=backend, fullgraph=True)(*compiled_args)
    assert same(out, ref)
    first = ref[0] if isinstance(ref, tuple) else ref
    if first.requires_grad:
        first.sum().backward()
        (out[0] if isinstance(out, tuple) else out).sum().backward()
        for a, b in zip(eager_args, compiled_args):
            if isinstance(a, tl.Tensor) and a.requires_grad:
                assert same(a.grad, b.grad)


@md.nested_compile_region
def appends_to(x, z):
    z.append(x.sin())  # made inside, carried out by the list
    return x.cos() * 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_region_tensor_escaping_through_a_list_is_an_output(backend):
    def f(x):
        z = []
        y = appends_to(x, z)
        return y + z[0], z[0]

    _matches_eager(f, [tl.randn(3, requires_grad=True)], backend)


def test_region_escaping_tensor_graph():
    rec = EagerAndRecordGraphs()

    def f(x):
        z = []
        return appends_to(x, z), z[0]

    md.compile(f, backend=rec, fullgraph=True)(tl.randn(3))
    # every tensor the region made was an output; those no one reads (cos) were dropped
    assert_expected_inline(None, normalize_gm(rec.graphs[0].print_readable(False)), """\
class GraphModule(tl.nn.Module):
    def forward(self, L_x_: "f32[3]"):
        l_x_ = L_x_

        subgraph_0 = self.subgraph_0
        invoke_subgraph = backends_higher_order_invoke_subgraph(subgraph_0, 'subgraph_0', l_x_);  subgraph_0 = l_x_ = None
        getitem: "f32[3]" = invoke_subgraph[0]
        getitem_1: "f32[3]" = invoke_subgraph[1];  invoke_subgraph = None
        return (getitem, getitem_1)

    class subgraph_0(tl.nn.Module):
        def forward(self, l_x_: "f32[3]"):
            sin: "f32[3]" = l_x_.sin()

            cos: "f32[3]" = l_x_.cos();  l_x_ = None
            mul: "f32[3]" = cos * 2;  cos = None
            return (mul, sin)
""")


def test_region_escaping_alias_of_an_output_is_an_error():
    views = []

    @md.nested_compile_region
    def keeps_a_view(x):
        y = x.sin()
        views.append(y.view(2, 2))  # aliases y: not made an output
        return y

    with pytest.raises(md.exc.InternalError, match="does not belong to this Graph"):
        md.compile(lambda x: keeps_a_view(x) + views[0].sum(), fullgraph=True)(tl.ones(4))


class _Buffered(tl.nn.Module):
    def __init__(self):
        super().__init__()
        self.c = 5
        self.register_buffer("buf", tl.ones(4))

    @md.nested_compile_region
    def forward(self, x, y):
        self.buf.add_(1)
        return (x * y).sin() * self.buf + self.c


@pytest.mark.parametrize("backend", BACKENDS)
def test_region_method_of_a_module(backend):
    def f(mod, x, y):
        return mod(x, y) + mod(x, y)

    x, y = tl.randn(4), tl.randn(4)
    eager_mod, compiled_mod = _Buffered(), _Buffered()
    with tl.no_grad():
        ref = f(eager_mod, x, y)
        out = md.compile(f, backend=backend, fullgraph=True)(compiled_mod, x, y)
    assert same(out, ref) and same(compiled_mod.buf, eager_mod.buf)


class _Pair:
    def __init__(self, a, b):
        self.a, self.b = a, b


@md.nested_compile_region
def structured(x):
    return (x * 2, (x * 3,)), None, x.shape, _Pair(x.sin(), x.cos())


@pytest.mark.parametrize("backend", BACKENDS)
def test_region_returns_any_structure(backend):
    def f(x):
        (a, (b,)), none, shape, pair = structured(x)
        return a + b + pair.a * pair.b, none, shape

    _matches_eager(f, [tl.randn(2, 3, requires_grad=True)], backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_region_changes_a_tensor_from_outside_in_place(backend):
    state = {}

    @md.nested_compile_region
    def bump(x):
        state["w"].add_(1)
        return x * state["w"]

    def f(x):
        return bump(x) + state["w"], state["w"] * 2

    x = tl.randn(4)
    state["w"] = tl.ones(4)
    ref, ref_w = f(x), state["w"]
    state["w"] = tl.ones(4)
    out = md.compile(f, backend=backend, fullgraph=True)(x)
    assert same(out, ref) and same(state["w"], ref_w)


# ------------------------------------------------------------------- inference mode


def _inference_block(x, y):
    z = tl.cos(x)
    with tl.inference_mode():
        w = tl.cos(z)
        v = w.view(2, 2)  # a view of an inference tensor made inside
        w.add_(1)
    return w * y, v.sum(), w.is_inference(), z.is_inference(), tl.is_grad_enabled()


@pytest.mark.parametrize("backend", BACKENDS)
def test_inference_mode_block_is_traced(backend):
    x, y = tl.randn(4, requires_grad=True), tl.randn(4)
    ref = _inference_block(x, y)
    rec = EagerAndRecordGraphs()
    out = md.compile(_inference_block, backend=rec, fullgraph=True)(x, y)
    assert same(out, ref)
    assert out[0].is_inference() == ref[0].is_inference() and out[0].requires_grad == ref[0].requires_grad


def test_inference_mode_block_graph():
    rec = EagerAndRecordGraphs()
    md.compile(_inference_block, backend=rec, fullgraph=True)(tl.randn(4), tl.randn(4))
    targets = [n.target.__name__ for n in rec.graphs[0].graph.nodes if n.op == "call_function"
               and n.target.__name__.endswith("_inference_mode")]
    assert targets == ["_enter_inference_mode", "_exit_inference_mode"]


def test_graph_break_inside_inference_mode_runs_the_frame_eagerly():
    def f(x):
        with tl.inference_mode():
            y = x * 2
            md.graph_break()  # the code after it must run inside the block: no split
            return y + 1

    with pytest.raises(md.exc.Unsupported):
        md.compile(f, backend="eager", fullgraph=True)(tl.ones(2))
    md.reset()
    out = md.compile(f, backend="eager")(tl.ones(2))
    assert same(out, f(tl.ones(2))) and out.is_inference()


@pytest.mark.parametrize("backend", BACKENDS)
def test_region_called_inside_inference_mode(backend):
    @md.nested_compile_region
    def bump(x, y):
        x.add_(1)  # an inference tensor, changed inside inference mode
        return x * y

    def f(x, y):
        with tl.inference_mode():
            return bump(tl.cos(x), y)

    x, y = tl.randn(8), tl.randn(8)
    ref = f(x, y)
    out = md.compile(f, backend=backend, fullgraph=True)(x, y)
    assert same(out, ref) and out.is_inference() and ref.is_inference()


def test_inference_mode_inside_a_region_is_an_error():
    @md.nested_compile_region
    def infer(x):
        with tl.inference_mode():
            return x * 2

    with pytest.raises(md.exc.Unsupported, match="inference_mode inside a nested compile region"):
        md.compile(lambda x: infer(x) + 1, backend="eager")(tl.ones(2))
