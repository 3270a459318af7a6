"""GraphModule.print_readable in torch.fx's exact layout: annotations, placeholder renames,
dead-value clean-ups, operators, methods, modules, munged names, nested graphs and the
`# File: ...` provenance comments (and their removal by normalize_gm)."""
import operator
import traceback

import numpy as np

import fxlite
import tensorlite as tl
from fxlite import Graph, GraphModule, TensorMeta
from minidynamo.expecttest import assert_expected_inline, normalize_gm


def check(actual, expect):
    assert_expected_inline(None, actual, expect, skip=1)


def f32(*shape):
    return TensorMeta(shape, tl.float32)


def readable(g, root=None, name="GraphModule"):
    return GraphModule(root if root is not None else tl.nn.Module(), g, name).print_readable(False)


def dynamo_placeholder(g, name, val):
    """A placeholder as Dynamo makes it: target L_x_ (the source), name l_x_."""
    n = g.create_node("placeholder", f"L_{name}_", name=f"l_{name}_")
    n.meta["val"] = val
    return n


def spec_example_graph():
    g = Graph()
    x = dynamo_placeholder(g, "x", tl.zeros(3))
    y = dynamo_placeholder(g, "y", tl.zeros(3))
    s = g.call_function(tl.sin, (x,))
    m = g.call_function(operator.mul, (y, 2))
    a = g.call_function(operator.add, (s, m))
    for n in (s, m, a):
        n.meta["val"] = f32(3)
    g.output((a,))
    return g


def test_spec_example_exactly():
    expected = (
        "class GraphModule(tl.nn.Module):\n"
        '    def forward(self, L_x_: "f32[3]", L_y_: "f32[3]"):\n'
        "        l_x_ = L_x_\n"
        "        l_y_ = L_y_\n"
        "\n"
        '        sin: "f32[3]" = tl.sin(l_x_);  l_x_ = None\n'
        '        mul: "f32[3]" = l_y_ * 2;  l_y_ = None\n'
        '        add: "f32[3]" = sin + mul;  sin = mul = None\n'
        "        return (add,)\n"
    )
    gm = GraphModule(tl.nn.Module(), spec_example_graph())
    out = gm.print_readable(False)
    assert out == expected
    assert normalize_gm(out) == expected
    x, y = tl.randn(3), tl.randn(3)
    (res,) = gm(x, y)
    assert np.allclose(res.numpy(), (tl.sin(x) + y * 2).numpy())


def test_print_output_prints_and_returns(capsys):
    gm = GraphModule(tl.nn.Module(), spec_example_graph())
    out = gm.print_readable()
    assert capsys.readouterr().out == out + "\n"
    assert gm.print_readable(print_output=False) == out
    assert capsys.readouterr().out == ""


def test_annotations_from_tensors_and_tensor_meta():
    g = Graph()
    a = g.placeholder("a")
    a.meta["val"] = tl.zeros(2, 3, dtype=tl.int64)
    b = g.placeholder("b")
    b.meta["val"] = TensorMeta((), tl.bool)
    c = g.placeholder("c")
    c.meta["val"] = TensorMeta((4, 1), tl.float64)
    d = g.placeholder("d")  # no meta: no annotation
    e = g.placeholder("e")
    e.meta["val"] = tl.tensor(1.5, dtype=tl.float16)
    i32 = g.placeholder("i")
    i32.meta["val"] = TensorMeta((5,), tl.int32)
    s = g.call_method("sum", (a,))
    s.meta["val"] = TensorMeta((), tl.int64)
    n = g.call_function(operator.not_, (b,))
    n.meta["val"] = TensorMeta((), tl.bool)
    g.output((s, n, c, d, e, i32))
    check(readable(g), """\
class GraphModule(tl.nn.Module):
    def forward(self, a: "i64[2, 3]", b: "b8[]", c: "f64[4, 1]", d, e: "f16[]", i: "i32[5]"):
        sum_1: "i64[]" = a.sum();  a = None
        not_: "b8[]" = not b;  b = None
        return (sum_1, not_, c, d, e, i)
""")


def test_cleanups_after_last_use_in_argument_order():
    g = Graph()
    x = g.placeholder("x")
    y = g.placeholder("y")
    z = g.placeholder("z")
    a = g.call_function(operator.add, (x, y))  # y dies here, x lives on
    b = g.call_function(tl.where, (z, a, x))  # z, a, x die here, in that order
    g.call_function(tl.sin, (b,))  # dead value: freed on its own line
    g.output(b)
    check(readable(g), """\
class GraphModule(tl.nn.Module):
    def forward(self, x, y, z):
        add = x + y;  y = None
        where = tl.where(z, add, x);  z = add = x = None
        sin = tl.sin(where);  sin = None
        return where
""")


def test_operators_print_infix():
    g = Graph()
    x = g.placeholder("x")
    y = g.placeholder("y")
    outs = [g.call_function(op, (x, y)) for op in (
        operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
        operator.mod, operator.pow, operator.matmul, operator.gt, operator.le, operator.eq,
        operator.ne, operator.and_, operator.or_)]
    outs.append(g.call_function(operator.neg, (x,)))
    outs.append(g.call_function(operator.invert, (y,)))
    outs.append(g.call_function(operator.getitem, (x, (0, slice(None, 2, None)))))
    outs.append(g.call_function(operator.getitem, (x, y)))
    outs.append(g.call_function(getattr, (x, "shape")))
    outs.append(g.call_function(operator.add, (2.5, x)))
    g.output(tuple(outs))
    check(readable(g), """\
class GraphModule(tl.nn.Module):
    def forward(self, x, y):
        add = x + y
        sub = x - y
        mul = x * y
        truediv = x / y
        floordiv = x // y
        mod = x % y
        pow_1 = x ** y
        matmul = x @ y
        gt = x > y
        le = x <= y
        eq = x == y
        ne = x != y
        and_ = x & y
        or_ = x | y
        neg = -x
        invert = ~y
        getitem = x[(0, slice(None, 2, None))]
        getitem_1 = x[y];  y = None
        getattr_1 = x.shape
        add_1 = 2.5 + x;  x = None
        return (add, sub, mul, truediv, floordiv, mod, pow_1, matmul, gt, le, eq, ne, and_, or_, neg, invert, getitem, getitem_1, getattr_1, add_1)
""")


def test_methods_functions_and_keywords():
    g = Graph()
    x = g.placeholder("x")
    s = g.call_method("sum", (x,), {"dim": 0})
    v = g.call_method("view", (s, -1, 1))
    t = g.call_function(tl.sin, (v,))
    p = g.call_function(tl.ops.sin, (t,))
    c = g.call_function(tl.cat, ([p, t],), {"dim": 1})
    r = g.call_function(tl.nn.functional.relu, (c,))
    h = g.call_function(tl.full, ((2,), float("inf")), {"dtype": tl.float64})
    mx = g.call_function(max, (1, 2))
    g.output({"r": r, "h": h, "mx": mx, "none": None, "s": "str"})
    check(readable(g), """\
class GraphModule(tl.nn.Module):
    def forward(self, x):
        sum_1 = x.sum(dim = 0);  x = None
        view = sum_1.view(-1, 1);  sum_1 = None
        sin = tl.sin(view);  view = None
        sin_1 = tl.ops.sin(sin)
        cat = tl.cat([sin_1, sin], dim = 1);  sin_1 = sin = None
        relu = tl.nn.functional.relu(cat);  cat = None
        full = tl.full((2,), inf, dtype = tl.float64)
        max_1 = max(1, 2)
        return {'r': relu, 'h': full, 'mx': max_1, 'none': None, 's': 'str'}
""")
    gm = GraphModule(tl.nn.Module(), g)
    out = gm(tl.ones(3, 2))
    assert out["mx"] == 2 and out["s"] == "str" and out["h"].dtype == tl.float64
    assert out["r"].shape == (2, 2)


def my_fn(a, b):
    return a * 10 + b


def test_user_function_prints_as_munged_qualified_name():
    class Holder:
        @staticmethod
        def helper(a):
            return a - 1

    g = Graph()
    x = g.placeholder("x")
    a = g.call_function(my_fn, (x, 1))
    b = g.call_function(Holder.helper, (a,))
    g.output(b)
    gm = GraphModule(tl.nn.Module(), g)
    check(gm.print_readable(False), """\
class GraphModule(tl.nn.Module):
    def forward(self, x):
        my_fn = tests_fxlite_test_print_readable_my_fn(x, 1);  x = None
        helper = tests_fxlite_test_print_readable_test_user_function_prints_as_munged_qualified_name__locals__Holder_helper(my_fn);  my_fn = None
        return helper
""")
    assert np.allclose(gm(tl.ones(2)).numpy(), [10.0, 10.0])


def test_modules_and_attributes_with_numeric_names():
    root = tl.nn.Module()
    root.layers = tl.nn.Sequential(tl.nn.Linear(2, 2), tl.nn.ReLU())
    root.register_buffer("scale", tl.ones(2))
    g = Graph()
    x = g.placeholder("x")
    l0 = g.call_module("layers.0", (x,))
    l1 = g.call_module("layers.1", (l0,))
    w = g.get_attr("layers.0.weight")
    s = g.get_attr("scale")
    m = g.call_function(operator.mul, (l1, s))
    g.output((m, w))
    gm = GraphModule(root, g, "Net")
    check(gm.print_readable(False), """\
class Net(tl.nn.Module):
    def forward(self, x):
        layers_0 = getattr(self.layers, "0")(x);  x = None
        layers_1 = getattr(self.layers, "1")(layers_0);  layers_0 = None
        layers_0_weight = getattr(self.layers, "0").weight
        scale = self.scale
        mul = layers_1 * scale;  layers_1 = scale = None
        return (mul, layers_0_weight)
""")
    x = tl.randn(3, 2)
    out, w = gm(x)
    assert w is root.layers[0].weight
    assert np.allclose(out.detach().numpy(), root.layers(x).detach().numpy())


def test_nested_graph_modules_print_as_nested_classes():
    inner = Graph()
    g_in = inner.placeholder("g")
    g_in.meta["val"] = f32(3)
    mul = inner.call_function(operator.mul, (g_in, 2))
    mul.meta["val"] = f32(3)
    inner.output((mul,))

    deeper = Graph()
    d = deeper.placeholder("d")
    deeper.output(deeper.call_function(tl.neg, (d,)))
    inner_root = tl.nn.Module()
    inner_root.deep_0 = GraphModule(tl.nn.Module(), deeper)
    with inner.inserting_before(inner.nodes[-1]):
        dn = inner.call_module("deep_0", (mul,))
    inner.nodes[-1].args = ((mul, dn),)

    g = Graph()
    x = dynamo_placeholder(g, "x", f32(3))
    body = g.get_attr("hook_body_0")
    call = g.call_function(_invoke, (body, x))
    call.meta["val"] = (f32(3), f32(3))
    item = g.call_function(operator.getitem, (call, 0))
    item.meta["val"] = f32(3)
    g.output((item,))
    root = tl.nn.Module()
    root.hook_body_0 = GraphModule(inner_root, inner)
    gm = GraphModule(root, g)
    check(gm.print_readable(False), """\
class GraphModule(tl.nn.Module):
    def forward(self, L_x_: "f32[3]"):
        l_x_ = L_x_

        hook_body_0 = self.hook_body_0
        _invoke = tests_fxlite_test_print_readable__invoke(hook_body_0, l_x_);  hook_body_0 = l_x_ = None
        getitem: "f32[3]" = _invoke[0];  _invoke = None
        return (getitem,)

    class hook_body_0(tl.nn.Module):
        def forward(self, g: "f32[3]"):
            mul: "f32[3]" = g * 2;  g = None
            deep_0 = self.deep_0(mul)
            return (mul, deep_0)

        class deep_0(tl.nn.Module):
            def forward(self, d):
                neg = tl.neg(d);  d = None
                return neg
""")
    x = tl.randn(3)
    (res,) = gm(x)
    assert np.allclose(res.numpy(), (x * 2).numpy())


def _invoke(body, *args):
    return body(*args)


def _trace(file, line, fn, code):
    return (f'  File "/tmp/outer.py", line 1, in <module>\n    main()\n'
            f'  File "{file}", line {line}, in {fn}\n    {code}\n')


def provenance_graph():
    g = Graph()
    x = dynamo_placeholder(g, "x", f32(3))
    y = dynamo_placeholder(g, "y", f32(3))
    line5 = _trace("/tmp/exp1.py", 5, "f", "a = tl.sin(x) + y")
    line6 = _trace("/tmp/exp1.py", 6, "f", "if a.sum() > 0:")
    s = g.call_function(tl.sin, (x,))
    s.meta.update(val=f32(3), stack_trace=line5)
    a = g.create_node("call_function", operator.add, (s, y), name="a")
    a.meta.update(val=f32(3), stack_trace=line5)
    sm = g.call_method("sum", (a,))
    sm.meta.update(val=TensorMeta((), tl.float32), stack_trace=line6)
    gt = g.call_function(operator.gt, (sm, 0))
    gt.meta.update(val=TensorMeta((), tl.bool), stack_trace=line6)
    g.output((gt, a))
    return g


def test_provenance_comments_grouped_by_source_line():
    out = readable(provenance_graph())
    check(out, """\
class GraphModule(tl.nn.Module):
    def forward(self, L_x_: "f32[3]", L_y_: "f32[3]"):
        l_x_ = L_x_
        l_y_ = L_y_

        # File: /tmp/exp1.py:5 in f, code: a = tl.sin(x) + y
        sin: "f32[3]" = tl.sin(l_x_);  l_x_ = None
        a: "f32[3]" = sin + l_y_;  sin = l_y_ = None

        # File: /tmp/exp1.py:6 in f, code: if a.sum() > 0:
        sum_1: "f32[]" = a.sum()
        gt: "b8[]" = sum_1 > 0;  sum_1 = None
        return (gt, a)
""")
    # normalize_gm removes the comments and keeps the layout of the real Dynamo example
    check(normalize_gm(out), """\
class GraphModule(tl.nn.Module):
    def forward(self, L_x_: "f32[3]", L_y_: "f32[3]"):
        l_x_ = L_x_
        l_y_ = L_y_

        sin: "f32[3]" = tl.sin(l_x_);  l_x_ = None
        a: "f32[3]" = sin + l_y_;  sin = l_y_ = None

        sum_1: "f32[]" = a.sum()
        gt: "b8[]" = sum_1 > 0;  sum_1 = None
        return (gt, a)
""")


def test_nodes_without_a_stack_trace_after_traced_ones():
    g = provenance_graph()
    out_node = g.nodes[-1]
    with g.inserting_before(out_node):
        extra = g.call_function(tl.cos, (g.nodes[3],))
    out_node.args = ((g.nodes[5], extra),)
    out = readable(g)
    check(out, """\
class GraphModule(tl.nn.Module):
    def forward(self, L_x_: "f32[3]", L_y_: "f32[3]"):
        l_x_ = L_x_
        l_y_ = L_y_

        # File: /tmp/exp1.py:5 in f, code: a = tl.sin(x) + y
        sin: "f32[3]" = tl.sin(l_x_);  l_x_ = None
        a: "f32[3]" = sin + l_y_;  sin = l_y_ = None

        # File: /tmp/exp1.py:6 in f, code: if a.sum() > 0:
        sum_1: "f32[]" = a.sum()
        gt: "b8[]" = sum_1 > 0;  sum_1 = None

        # No stacktrace found for following nodes
        cos = tl.cos(a);  a = None
        return (gt, cos)
""")
    assert "# No stacktrace" not in normalize_gm(out)


def test_provenance_from_a_real_stack():
    def user_code():
        return "".join(traceback.format_stack(limit=1))

    st = user_code()
    g = Graph()
    x = g.placeholder("x")
    s = g.call_function(tl.sin, (x,))
    s.meta["stack_trace"] = st
    g.output(s)
    out = readable(g)
    assert f"# File: {__file__}:" in out
    assert " in user_code, code: return \"\".join(traceback.format_stack(limit=1))" in out
    check(normalize_gm(out), """\
class GraphModule(tl.nn.Module):
    def forward(self, x):
        sin = tl.sin(x);  x = None
        return sin
""")


def test_code_has_no_annotations_or_comments_and_still_runs():
    gm = GraphModule(tl.nn.Module(), provenance_graph())
    check(gm.code, """\
def forward(self, L_x_, L_y_):
    l_x_ = L_x_
    l_y_ = L_y_

    # File: /tmp/exp1.py:5 in f, code: a = tl.sin(x) + y
    sin = tl.sin(l_x_);  l_x_ = None
    a = sin + l_y_;  sin = l_y_ = None

    # File: /tmp/exp1.py:6 in f, code: if a.sum() > 0:
    sum_1 = a.sum()
    gt = sum_1 > 0;  sum_1 = None
    return (gt, a)
""")
    x, y = tl.ones(3), tl.ones(3)
    gt, a = gm(x, y)
    assert bool(gt) and np.allclose(a.numpy(), (tl.sin(x) + y).numpy())


def test_symbolic_trace_class_names():
    def my_function(x):
        return x + 1

    assert fxlite.symbolic_trace(my_function).print_readable(False).startswith("class my_function(tl.nn.Module):\n")

    class Block(tl.nn.Module):
        def forward(self, x):
            return x.relu()

    check(fxlite.symbolic_trace(Block()).print_readable(False), """\
class Block(tl.nn.Module):
    def forward(self, x):
        relu = x.relu();  x = None
        return relu
""")
