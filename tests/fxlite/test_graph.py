"""fxlite.Graph / Node / GraphModule: construction, naming, use lists, editing, lint, DCE,
printing in torch.fx's formats, generated code, recompile, tracebacks, copies and pickling."""
import copy
import operator
import os
import pickle
import traceback

import numpy as np
import pytest

import fxlite
import tensorlite as tl
from fxlite import Graph, GraphModule, Node, TensorMeta, map_arg
from minidynamo.expecttest import assert_expected_inline


def check(actual, expect):
    assert_expected_inline(None, actual, expect, skip=1)


def simple_graph():
    """x, y -> sin(x) + y * 2"""
    g = Graph()
    x = g.placeholder("x")
    y = g.placeholder("y")
    s = g.call_function(tl.sin, (x,))
    m = g.call_function(operator.mul, (y, 2))
    a = g.call_function(operator.add, (s, m))
    g.output(a)
    return g


def ref(x, y):
    return tl.sin(x) + y * 2


def close(a, b):
    return np.allclose(a.detach().numpy(), b.detach().numpy())


# ---------------------------------------------------------------------------- construction
def test_constructors_set_op_target_args_kwargs():
    g = Graph()
    x = g.placeholder("x")
    w = g.get_attr("weight")
    f = g.call_function(tl.add, (x, w), {"alpha": 2})
    m = g.call_method("sum", (f,), {"dim": 0})
    mod = g.call_module("lin", (m,))
    c = g.create_node("call_function", operator.neg, (mod,), name="custom")
    o = g.output((c, m))
    assert [n.op for n in g.nodes] == [
        "placeholder", "get_attr", "call_function", "call_method", "call_module", "call_function", "output"]
    assert [n.name for n in g.nodes] == ["x", "weight", "add", "sum_1", "lin", "custom", "output"]
    assert f.target is tl.add and f.args == (x, w) and f.kwargs == {"alpha": 2}
    assert m.target == "sum" and m.kwargs == {"dim": 0}
    assert o.args == ((c, m),)
    assert len(g.nodes) == 7
    assert list(g.nodes)[2] is f and g.nodes[-1] is o
    assert [n.name for n in reversed(g.nodes)][:2] == ["output", "custom"]
    assert f.next is m and m.prev is f
    assert f.all_input_nodes == [x, w]


def test_placeholder_default_value():
    g = Graph()
    x = g.placeholder("x")
    s = g.placeholder("scale", default_value=3)
    g.output(g.call_function(operator.mul, (x, s)))
    gm = GraphModule(tl.nn.Module(), g)
    check(gm.code, """\
def forward(self, x, scale=3):
    mul = x * scale;  x = scale = None
    return mul
""")
    assert close(gm(tl.ones(2)), tl.full((2,), 3.0))
    assert close(gm(tl.ones(2), 4), tl.full((2,), 4.0))


def test_names_are_unique_and_never_shadow_builtins_or_keywords():
    g = Graph()
    x = g.placeholder("x")
    names = [g.call_function(operator.add, (x, i)).name for i in range(3)]
    assert names == ["add", "add_1", "add_2"]
    assert g.call_method("sum", (x,)).name == "sum_1"
    assert g.call_function(tl.sum, (x,)).name == "sum_2"
    assert g.call_method("max", (x,)).name == "max_1"
    assert g.create_node("call_function", tl.sin, (x,), name="lambda").name == "lambda_1"
    assert g.create_node("call_function", tl.sin, (x,), name="self").name == "self_1"
    assert g.create_node("call_function", tl.sin, (x,), name="tl").name == "tl_1"
    assert g.create_node("call_function", tl.sin, (x,), name="a.b-c").name == "a_b_c"
    assert g.create_node("call_function", tl.sin, (x,), name="0weird").name == "_0weird"
    # an explicit suffixed name is kept when free, and a clash bumps the suffix
    assert g.create_node("call_function", tl.sin, (x,), name="y_1").name == "y_1"
    assert g.create_node("call_function", tl.sin, (x,), name="y_1").name == "y_2"
    assert g.get_attr("layers.0.weight").name == "layers_0_weight"
    assert g.call_module("Block", (x,)).name == "block"


def test_erased_names_can_be_reused():
    g = Graph()
    x = g.placeholder("x")
    s = g.call_function(tl.sin, (x,))
    g.erase_node(s)
    assert g.call_function(tl.sin, (x,)).name == "sin"


def test_users_follow_args_and_kwargs():
    g = Graph()
    x = g.placeholder("x")
    y = g.placeholder("y")
    a = g.call_function(operator.add, (x, x))
    assert list(x.users) == [a] and not y.users
    a.args = (y, [x, {"k": y}])
    assert list(x.users) == [a] and list(y.users) == [a]
    a.args = (1, 2)
    assert not x.users and not y.users
    a.kwargs = {"other": y}
    assert list(y.users) == [a] and a.all_input_nodes == [y]
    a.update_arg(0, x)
    assert a.args == (x, 2) and set(a.all_input_nodes) == {x, y}
    a.insert_arg(0, y)
    assert a.args == (y, x, 2)
    a.update_kwarg("other", 5)
    assert a.kwargs == {"other": 5}
    assert list(y.users) == [a]  # still used through args[0]
    a.update_arg(0, 0)
    assert not y.users


def test_replace_all_uses_with():
    g = simple_graph()
    x, y, s, m, a, out = g.nodes
    c = g.call_function(tl.cos, (x,))
    c.prepend(c)  # no-op
    with g.inserting_after(s):
        c2 = g.call_function(tl.cos, (x,))
    g.erase_node(c)
    changed = s.replace_all_uses_with(c2)
    assert changed == [a]
    assert a.args == (c2, m) and not s.users and list(c2.users) == [a]
    g.erase_node(s)
    g.lint()
    gm = GraphModule(tl.nn.Module(), g)
    xv, yv = tl.randn(3), tl.randn(3)
    assert close(gm(xv, yv), tl.cos(xv) + yv * 2)
    # a filter keeps some users
    g2 = Graph()
    p = g2.placeholder("p")
    u1 = g2.call_function(tl.sin, (p,))
    u2 = g2.call_function(tl.cos, (p,))
    q = g2.placeholder("q")
    assert p.replace_all_uses_with(q, delete_user_cb=lambda u: u is u2) == [u2]
    assert list(p.users) == [u1] and list(q.users) == [u2]


def test_inserting_before_and_after():
    g = Graph()
    x = g.placeholder("x")
    out = g.output(x)
    with g.inserting_before(out):
        a = g.call_function(tl.sin, (x,))
        b = g.call_function(tl.cos, (a,))
    with g.inserting_after(x):
        c = g.call_function(tl.exp, (x,))
        d = g.call_function(tl.neg, (c,))  # after c, not directly after x
    with g.inserting_before(None):
        first = g.placeholder("first")
    with g.inserting_after(None):
        pass
    assert [n.name for n in g.nodes] == ["first", "x", "exp", "neg", "sin", "cos", "output"]
    # the insertion point is restored after the block
    e = g.call_function(tl.tanh, (b,))
    assert g.nodes[-1] is e and g.nodes[-2] is out
    assert d.prev is c and first.next is x


def test_erase_node():
    g = simple_graph()
    x, y, s, m, a, out = g.nodes
    with pytest.raises(RuntimeError, match=r"Tried to erase Node sin but it still had 1 users.*\[add\]"):
        g.erase_node(s)
    other = Graph()
    with pytest.raises(RuntimeError, match="wrong graph"):
        other.erase_node(out)
    g.erase_node(out)
    g.erase_node(a)
    assert not s.users and not m.users
    assert [n.name for n in g.nodes] == ["x", "y", "sin", "mul"]
    assert len(g.nodes) == 4


def test_node_copy_and_graph_copy():
    g = simple_graph()
    g2 = Graph()
    val_map = {}
    out = g2.graph_copy(g, val_map)
    assert [n.name for n in g2.nodes] == ["x", "y", "sin", "mul", "add"]
    assert out is val_map[g.nodes[4]] and out.args == (val_map[g.nodes[2]], val_map[g.nodes[3]])
    assert all(k.graph is g and v.graph is g2 for k, v in val_map.items())
    g2.output(out)
    g2.lint()
    # node_copy maps inputs and keeps the name and meta (a copy of the dict)
    g3 = Graph()
    z = g3.placeholder("z")
    src = g.nodes[2]
    src.meta["val"] = TensorMeta((3,), tl.float32)
    c = g3.node_copy(src, lambda n: z)
    assert c.name == "sin" and c.target is tl.sin and c.args == (z,)
    assert c.meta == src.meta and c.meta is not src.meta
    # a dynamo-style placeholder keeps its name (and the rename it implies)
    g4 = Graph()
    ph = g4.create_node("placeholder", "L_x_", name="l_x_")
    g5 = Graph()
    assert g5.node_copy(ph).name == "l_x_"
    # graph_copy can hand back the output node
    g6 = Graph()
    rv, old_out = g6.graph_copy(g2, {}, return_output_node=True)
    assert old_out is g2.nodes[-1] and rv.name == "add"


def test_find_nodes():
    g = simple_graph()
    g.call_function(tl.sin, (g.nodes[0],))
    assert [n.name for n in g.find_nodes(op="placeholder")] == ["x", "y"]
    assert [n.name for n in g.find_nodes(op="call_function", target=tl.sin)] == ["sin", "sin_1"]
    assert [n.name for n in g.find_nodes(op="call_function", target=operator.add)] == ["add"]
    assert g.find_nodes(op="call_method") == []


def test_eliminate_dead_code():
    g = Graph()
    x = g.placeholder("x")
    unused = g.placeholder("unused")
    a = g.call_function(tl.sin, (x,))
    dead1 = g.call_function(tl.cos, (x,))
    g.call_function(operator.mul, (dead1, 2))
    g.call_method("add_", (x, 1))  # in-place: impure, kept
    g.call_function(print, ("side effect",))  # impure, kept
    g.output(a)
    assert g.eliminate_dead_code() is True
    assert [n.name for n in g.nodes] == ["x", "unused", "sin", "add_", "print_1", "output"]
    assert g.eliminate_dead_code() is False
    # a custom purity test
    g.eliminate_dead_code(is_impure_node=lambda n: n.op in ("placeholder", "output"))
    assert [n.name for n in g.nodes] == ["x", "unused", "sin", "output"]


# ---------------------------------------------------------------------------- printing
def test_graph_str_in_torch_fx_format():
    g = Graph()
    x = g.placeholder("x")
    y = g.placeholder("y")
    s = g.call_function(tl.sin, (x,))
    a = g.call_function(operator.add, (s, y))
    r = g.call_method("relu", (a,))
    sm = g.call_method("sum", (r,), {"dim": 0})
    w = g.get_attr("lin.weight")
    lin = g.call_module("lin", (sm,), {"bias": w})
    mul = g.call_function(operator.mul, (a, 2))
    g.output((mul, sm, lin, [1, "s"]))
    check(str(g), """\
graph():
    %x : [num_users=1] = placeholder[target=x]
    %y : [num_users=1] = placeholder[target=y]
    %sin : [num_users=1] = call_function[target=tensorlite.sin](args = (%x,), kwargs = {})
    %add : [num_users=2] = call_function[target=operator.add](args = (%sin, %y), kwargs = {})
    %relu : [num_users=1] = call_method[target=relu](args = (%add,), kwargs = {})
    %sum_1 : [num_users=2] = call_method[target=sum](args = (%relu,), kwargs = {dim: 0})
    %lin_weight : [num_users=1] = get_attr[target=lin.weight]
    %lin : [num_users=1] = call_module[target=lin](args = (%sum_1,), kwargs = {bias: %lin_weight})
    %mul : [num_users=1] = call_function[target=operator.mul](args = (%add, 2), kwargs = {})
    return (mul, sum_1, lin, [1, 's'])""")


def test_node_format_matches_torch_fx():
    g = Graph()
    x = g.placeholder("x")
    a = g.call_function(operator.add, (x, 1))
    assert a.format_node() == "%add : [num_users=0] = call_function[target=operator.add](args = (%x, 1), kwargs = {})"
    assert repr(a) == "add"


def test_print_tabular(capsys):
    g = simple_graph()
    text = g.print_tabular()
    assert capsys.readouterr().out == text + "\n"
    check(text, """\
opcode         name    target          args        kwargs
-------------  ------  --------------  ----------  ------
placeholder    x       x               ()          {}
placeholder    y       y               ()          {}
call_function  sin     tensorlite.sin  (x,)        {}
call_function  mul     operator.mul    (y, 2)      {}
call_function  add     operator.add    (sin, mul)  {}
output         output  output          (add,)      {}""")


# ---------------------------------------------------------------------------- bad input
def test_lint_accepts_good_graphs():
    simple_graph().lint()


def test_lint_names_a_use_before_definition():
    g = simple_graph()
    x, y, s, m, a, out = g.nodes
    s.prepend(a)  # add now comes before sin
    with pytest.raises(RuntimeError, match=r"Argument 'sin' of Node 'add' was used before it has been defined"):
        g.lint()


def test_lint_names_an_argument_from_another_graph():
    g = simple_graph()
    other = Graph()
    stranger = other.placeholder("stranger")
    g.nodes[2].args = (stranger,)
    with pytest.raises(RuntimeError, match=r"Argument 'stranger' of Node 'sin'.*not in the graph"):
        g.lint()


def test_lint_names_a_dangling_user():
    g = simple_graph()
    other = Graph()
    other.call_function(tl.cos, (g.nodes[2],))  # a user of sin that lives in another graph
    with pytest.raises(RuntimeError, match=r"Node 'sin' has a dangling user 'cos'"):
        g.lint()


def test_lint_names_an_inconsistent_user_list():
    g = simple_graph()
    x, y, s, m, a, out = g.nodes
    x.users[m] = None  # mul does not use x
    with pytest.raises(RuntimeError, match=r"Node 'x' lists 'mul' as a user, but 'mul' does not use it"):
        g.lint()


def test_lint_checks_targets_against_the_owning_module():
    g = Graph()
    x = g.placeholder("x")
    g.output(g.call_module("missing", (x,)))
    gm = GraphModule({"missing": tl.nn.ReLU()}, g)
    gm.graph.lint()
    del gm._modules["missing"]
    with pytest.raises(RuntimeError, match="Node 'missing' target missing does not reference"):
        gm.graph.lint()


def test_unknown_op_is_a_clear_error():
    g = Graph()
    with pytest.raises(ValueError, match=r"unknown node op 'call_fn'.*placeholder, get_attr, call_function"):
        g.create_node("call_fn", tl.sin)
    with pytest.raises(ValueError, match="unknown node op 'root'"):
        g.create_node("root", "")
    assert len(g.nodes) == 0
    with pytest.raises(ValueError, match="not callable"):
        g.call_function("sin", ())
    with pytest.raises(ValueError, match="call_method target must be a string"):
        g.call_method(tl.sin, ())


# ---------------------------------------------------------------------------- GraphModule
def test_graph_module_runs_and_has_code():
    gm = GraphModule(tl.nn.Module(), simple_graph())
    assert isinstance(gm, tl.nn.Module) and type(gm).__name__ == "GraphModule"
    x, y = tl.randn(3), tl.randn(3)
    assert close(gm(x, y), ref(x, y))
    check(gm.code, """\
def forward(self, x, y):
    sin = tl.sin(x);  x = None
    mul = y * 2;  y = None
    add = sin + mul;  sin = mul = None
    return add
""")
    assert gm.graph.owning_module is gm
    assert gm.code in str(gm)


def test_graph_modules_of_one_name_share_a_class_but_not_forward():
    a, b = GraphModule(tl.nn.Module(), simple_graph()), GraphModule(tl.nn.Module(), simple_graph(), "Custom")
    c = GraphModule(tl.nn.Module(), simple_graph(), class_name="Custom")
    assert type(a) is GraphModule and type(b) is type(c) and type(b).__name__ == "Custom"
    assert issubclass(type(b), GraphModule)
    node = next(n for n in c.graph.nodes if n.target is tl.sin)
    node.target = tl.cos
    c.recompile()  # only c's forward changes
    x, y = tl.randn(3), tl.randn(3)
    assert close(b(x, y), ref(x, y)) and close(a(x, y), ref(x, y))
    assert close(c(x, y), tl.cos(x) + y * 2)
    assert c.forward.__func__ is not b.forward.__func__
    b.__init__(tl.nn.Module(), simple_graph(), "Other")  # renaming one module renames only its class
    assert type(b).__name__ == "Other" and type(c).__name__ == "Custom"
    assert close(b(x, y), ref(x, y))


def test_graph_module_from_dict_root():
    g = Graph()
    x = g.placeholder("x")
    w = g.get_attr("sub.w")
    g.output(g.call_module("act", (g.call_function(operator.mul, (x, w)),)))
    gm = GraphModule({"sub.w": tl.full((3,), -2.0), "act": tl.nn.ReLU()}, g, class_name="Custom")
    assert type(gm).__name__ == "Custom"
    assert close(gm(tl.ones(3)), tl.zeros(3))
    assert close(gm(-tl.ones(3)), tl.full((3,), 2.0))
    assert "w" in dict(gm.sub.named_buffers())
    with pytest.raises(RuntimeError, match="referenced target act but that target was not provided"):
        GraphModule({"sub.w": tl.ones(3)}, g)
    with pytest.raises(RuntimeError, match="Unsupported type"):
        GraphModule(42, g)
    with pytest.raises(TypeError, match="expects a fxlite.Graph"):
        gm.graph = "nope"


def test_recompile_after_editing_the_graph():
    gm = GraphModule(tl.nn.Module(), simple_graph())
    x, y = tl.randn(3), tl.randn(3)
    before = gm(x, y)
    sin = gm.graph.find_nodes(op="call_function", target=tl.sin)[0]
    sin.target = tl.cos
    assert close(gm(x, y), before)  # not yet recompiled
    gm.recompile()
    assert close(gm(x, y), tl.cos(x) + y * 2)
    assert "tl.cos(x)" in gm.code
    # a new graph assigned to .graph recompiles on its own
    g = Graph()
    a = g.placeholder("a")
    g.placeholder("b")
    g.output(g.call_function(operator.neg, (a,)))
    gm.graph = g
    assert close(gm(x, y), -x)


def test_two_graph_modules_have_separate_forwards():
    gm1 = GraphModule(tl.nn.Module(), simple_graph())
    g = simple_graph()
    g.nodes[4].target = operator.sub
    gm2 = GraphModule(tl.nn.Module(), g)
    x, y = tl.randn(3), tl.randn(3)
    assert close(gm1(x, y), tl.sin(x) + y * 2)
    assert close(gm2(x, y), tl.sin(x) - y * 2)


def test_traceback_points_at_the_generated_line():
    g = Graph()
    x = g.placeholder("x")
    y = g.placeholder("y")
    s = g.call_function(tl.sin, (x,))
    mm = g.call_function(operator.matmul, (s, y))
    g.output(mm)
    gm = GraphModule(tl.nn.Module(), g)
    with pytest.raises(RuntimeError) as info:
        gm(tl.ones(3), tl.ones(2, 2))
    frames = [f for f in traceback.extract_tb(info.value.__traceback__) if f.name == "forward"]
    assert len(frames) == 1
    fr = frames[0]
    assert fr.line == "matmul = sin @ y;  sin = y = None"  # from linecache, before the file exists
    from fxlite import _source_files
    _source_files.flush()  # the file is written in the background
    assert os.path.exists(fr.filename)
    assert fr.line == "matmul = sin @ y;  sin = y = None"
    with open(fr.filename) as f:
        assert f.read() == gm.code
    assert gm.code.splitlines()[fr.lineno - 1].strip() == fr.line


def test_round_trip_graph_module_of_its_own_graph_prints_the_same():
    g = simple_graph()
    root = tl.nn.Module()
    root.lin = tl.nn.Linear(3, 3)
    with g.inserting_before(g.nodes[-1]):
        lin = g.call_module("lin", (g.nodes[4],))
    g.nodes[-1].args = (lin,)
    gm = GraphModule(root, g)
    gm2 = GraphModule(gm, gm.graph)
    assert gm2.print_readable(False) == gm.print_readable(False)
    assert gm2.code == gm.code
    x, y = tl.randn(3), tl.randn(3)
    assert close(gm2(x, y), gm(x, y))
    assert gm2.lin is gm.lin


def _gm_with_params():
    root = tl.nn.Module()
    root.lin = tl.nn.Linear(3, 2)
    root.register_buffer("offset", tl.full((2,), 0.5))
    g = Graph()
    x = g.placeholder("x")
    x.meta["val"] = TensorMeta((4, 3), tl.float32)
    h = g.call_module("lin", (x,))
    o = g.get_attr("offset")
    a = g.call_function(operator.add, (h, o))
    a.meta["val"] = TensorMeta((4, 2), tl.float32)
    a.meta["stack_trace"] = '  File "/tmp/m.py", line 3, in forward\n    return self.lin(x) + self.offset\n'
    g.output((a,))
    return GraphModule(root, g, "Model")


def test_deepcopy():
    gm = _gm_with_params()
    gm2 = copy.deepcopy(gm)
    assert type(gm2).__name__ == "Model"
    assert gm2.print_readable(False) == gm.print_readable(False)
    assert gm2.graph is not gm.graph and gm2.lin is not gm.lin
    assert gm2.lin.weight is not gm.lin.weight
    x = tl.randn(4, 3)
    assert close(gm2(x)[0], gm(x)[0])
    with tl.no_grad():
        gm2.lin.weight.fill_(0.0)
    assert not close(gm2(x)[0], gm(x)[0])
    gm3 = copy.copy(gm)
    assert gm3.lin is gm.lin and gm3.code == gm.code


def test_pickle_round_trip():
    gm = _gm_with_params()
    gm2 = pickle.loads(pickle.dumps(gm))
    assert type(gm2).__name__ == "Model"
    assert gm2.print_readable(False) == gm.print_readable(False)
    assert str(gm2.graph) == str(gm.graph)
    x = tl.randn(4, 3)
    assert close(gm2(x)[0], gm(x)[0])
    assert gm2.graph.nodes[-2].meta["stack_trace"] == gm.graph.nodes[-2].meta["stack_trace"]


def test_map_arg():
    g = Graph()
    x = g.placeholder("x")
    y = g.placeholder("y")
    arg = (x, [1, {"a": y}], slice(x, None))
    out = map_arg(arg, lambda n: n.name)
    assert out == ("x", [1, {"a": "y"}], slice("x", None, None))
    assert isinstance(x, Node)
