"""Graph forwards written straight to bytecode (fxlite/_assemble.py with
bytecode_compat.Assembler): each plain form is assembled, normalizes to exactly what compile()
makes of the same source (instructions, constants, lines), and computes the same values; other
forms fall back to compile(); tracebacks through assembled code show the graph's source line."""
import operator
import traceback

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fxlite
import minidynamo  # noqa: F401 - registers the assembler
import tensorlite as tl
from fxlite import Graph, GraphModule, _assemble, _source_files
from minidynamo import bytecode_compat as bc


def compiled_forward(gm):
    """forward as compile() makes it from gm's source (the reference)."""
    ns = dict(gm._graph.python_code(root_module="self").globals)
    exec(compile(gm.code, "<reference>", "exec"), ns)  # noqa: S102
    return ns["forward"]


def assembled(gm):
    """gm's forward built by the assembler (asserting that it was, and matches compile())."""
    pc = gm._graph.python_code(root_module="self")
    fn = _assemble.build_forward(pc, "<assembled>", dict(pc.globals))
    assert fn is not None, gm.code
    ref = _source_files.compile_cached(pc.src, "<assembled>")
    _assemble.check(fn.__code__, ref)
    return fn


def same(a, b):
    if isinstance(a, tuple):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, tl.Tensor):
        return a.dtype == b.dtype and np.array_equal(a.detach().numpy(), b.detach().numpy(), equal_nan=True)
    return type(a) is type(b) and a == b


def run_both(gm, *args):
    fn, ref = assembled(gm), compiled_forward(gm)
    out, expect = fn(gm, *args), ref(gm, *args)
    assert same(out, expect), (out, expect)
    return out


def helper_fn(a, b, scale=1.0):
    return a * scale + b


class Holder(tl.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = tl.nn.Linear(2, 2)
        self.register_buffer("buf", tl.ones(2))


def graph_of(build, n_inputs=1):
    g = Graph()
    xs = [g.placeholder(f"x{i}") for i in range(n_inputs)]
    g.output(build(g, *xs))
    return g


FORMS = {
    "arithmetic": lambda g, x: tuple(g.call_function(op, (x, 1.5)) for op in (
        operator.add, operator.sub, operator.mul, operator.truediv, operator.pow)),
    "reflected and floor": lambda g, x: (g.call_function(operator.floordiv, (2.0, x)),
                                         g.call_function(operator.mod, (x, 0.75))),
    "matmul": lambda g, x: g.call_function(operator.matmul, (x, g.call_function(getattr, (x, "T")))),
    "negative and invert": lambda g, x: (g.call_function(operator.neg, (x,)),
                                         g.call_function(operator.invert, (g.call_method("gt", (x, 0)),))),
    "getitem int": lambda g, x: g.call_function(operator.getitem, (x, 1)),
    "getitem tuple with None": lambda g, x: g.call_function(operator.getitem, (x, (None, 0))),
    "getitem by node": lambda g, x: g.call_function(operator.getitem, (x, g.call_method("argmax", (x,)))),
    "getattr": lambda g, x: g.call_function(getattr, (x, "T")),
    "dotted call": lambda g, x: g.call_function(tl.nn.functional.relu, (x,)),
    "plain global call with keyword": lambda g, x: g.call_function(helper_fn, (x, x), {"scale": -0.0}),
    "method with args and keywords": lambda g, x: g.call_method("sum", (x,), {"dim": 0, "keepdim": True}),
    "dtype argument": lambda g, x: g.call_method("to", (x, tl.float64)),
    "tuple of nodes and constants": lambda g, x: g.call_method("reshape", (x, (1, g.call_method("numel", (x,))))),
    "constants kept apart": lambda g, x: (g.call_function(operator.add, (x, 1)),
                                          g.call_function(operator.add, (x, True)),
                                          g.call_function(operator.add, (x, 1.0)),
                                          g.call_function(operator.mul, (x, -0.0))),
    "unused value": lambda g, x: (g.call_function(tl.cos, (x,)), x)[1],
    "output None and constants": lambda g, x: (g.call_function(tl.exp, (x,)), None, 3, "s", (1, (2.5, None))),
    "single output": lambda g, x: g.call_function(tl.exp, (x,)),
}


@pytest.mark.parametrize("name", sorted(FORMS))
def test_each_plain_form_is_assembled_like_compile(name):
    gm = GraphModule(tl.nn.Module(), graph_of(FORMS[name]))
    run_both(gm, tl.tensor([0.5, -2.0]).reshape(1, 2) if name == "matmul" else tl.tensor([0.5, -2.0]))


def test_module_and_attribute_forms():
    root = Holder()
    g = Graph()
    x = g.placeholder("x")
    lin = g.call_module("lin", (x,))
    buf = g.get_attr("buf")
    w = g.get_attr("lin.weight")
    g.output((g.call_function(operator.add, (lin, buf)), w))
    run_both(GraphModule(root, g), tl.randn(3, 2))


def test_many_dead_values_in_one_line_and_renamed_inputs():
    g = Graph()
    a, b, c = (g.placeholder(n) for n in ("a", "b", "c"))
    for p, name in ((a, "l_a_"), (b, "l_b_")):
        p.name = name
    s = g.call_function(operator.add, (a, b))
    t = g.call_function(operator.add, (s, c))  # a, b, c, s all die on some line
    g.output(t)
    gm = GraphModule(tl.nn.Module(), g)
    assert "l_a_ = a" in gm.code
    run_both(gm, tl.ones(2), tl.ones(2), tl.ones(2))


def test_long_graph_needs_extended_arguments():
    # more than 256 locals and constants: EXTENDED_ARG prefixes
    def build(g, x):
        for i in range(300):
            x = g.call_function(operator.add, (x, float(i)))
        return x
    gm = GraphModule(tl.nn.Module(), graph_of(build))
    out = run_both(gm, tl.zeros(2))
    assert out.numpy().tolist() == [sum(range(300))] * 2


def test_many_names_need_extended_arguments_too():
    # more than 128 attribute names: LOAD_ATTR's (index << 1) needs EXTENDED_ARG on 3.12+
    root = tl.nn.Module()
    for i in range(200):
        root.register_buffer(f"b{i}", tl.full((2,), float(i)))
    g = Graph()
    x = g.placeholder("x")
    for i in range(200):
        x = g.call_function(operator.add, (x, g.get_attr(f"b{i}")))
    g.output(x)
    out = run_both(GraphModule(root, g), tl.zeros(2))
    assert out.numpy().tolist() == [sum(range(200))] * 2


@pytest.mark.parametrize("build", [
    lambda g, x: g.call_function(operator.lt, (x, 0)),  # comparisons: other opcodes
    lambda g, x: g.call_method("view", (x, [2])),  # a list argument
    lambda g, x: g.call_function(operator.getitem, (x, slice(0, 1))),  # a slice
    lambda g, x: g.call_function(operator.pos, (x,)),
    lambda g, x: g.call_function(operator.mul, (x, float("inf"))),  # prints as a name
    lambda g, x: g.call_function(operator.iadd, (g.call_function(tl.sin, (x,)), 1)),  # `a += b` form
], ids=["compare", "list", "slice", "pos", "inf", "inplace"])
def test_other_forms_fall_back_to_compile(build):
    gm = GraphModule(tl.nn.Module(), graph_of(build))
    pc = gm._graph.python_code(root_module="self")
    assert _assemble.build_forward(pc, "<x>", dict(pc.globals)) is None
    x = tl.tensor([0.5, -2.0])
    assert same(gm(x), compiled_forward(gm)(gm, x))


def test_defaults_and_star_inputs_fall_back():
    g = Graph()
    x = g.placeholder("x", default_value=2.0)
    g.output(g.call_function(operator.add, (x, 1)))
    gm = GraphModule(tl.nn.Module(), g)
    assert gm._graph.python_code().statements is None
    assert gm() == 3.0


def fails(a):
    raise ValueError("from inside the graph")


def test_traceback_shows_the_graph_source_line():
    g = Graph()
    x = g.placeholder("x")
    y = g.call_function(tl.sin, (x,))
    z = g.call_function(fails, (y,))
    g.output(z)
    gm = GraphModule(tl.nn.Module(), g)
    assert gm.forward.__code__.co_linetable != compiled_forward(gm).__code__.co_linetable  # assembled
    with pytest.raises(ValueError) as info:
        gm(tl.ones(2))
    frames = traceback.extract_tb(info.value.__traceback__)
    graph_frame = [f for f in frames if f.name == "forward"][-1]
    assert graph_frame.line.startswith("fails = ") and "fails(sin)" in graph_frame.line, graph_frame
    assert gm.code.splitlines()[graph_frame.lineno - 1].strip() == graph_frame.line


def test_captured_chain_is_assembled():
    from minidynamo.testing import EagerAndRecordGraphs
    import minidynamo as md
    rec = EagerAndRecordGraphs()

    def f(x):
        y = x + 1.0
        y = y.sin() * 0.5
        return y.cos(), y - 0.25

    out = md.compile(f, backend=rec)(tl.tensor([0.5, 1.5]))
    assert same(out, f(tl.tensor([0.5, 1.5])))
    run_both(rec.graphs[0], tl.tensor([0.5, 1.5]))


def test_assembler_rejects_unknown_local():
    asm = bc.Assembler(["self"])
    with pytest.raises(ValueError, match="'y' is read before it is assigned"):
        asm.load_fast("y")


def test_check_catches_a_different_code():
    a = compile("def forward(self, x):\n    return x + 1\n", "<a>", "exec")
    b = compile("def forward(self, x):\n    return x - 1\n", "<b>", "exec")
    fa = next(c for c in a.co_consts if hasattr(c, "co_code"))
    with pytest.raises(AssertionError, match="differs from compile"):
        _assemble.check(fa, b)


_UNARY_METHODS = ["sin", "cos", "exp", "tanh", "relu", "abs", "sum"]
_BINARY_OPS = [operator.add, operator.sub, operator.mul, operator.truediv]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 6), st.integers(0, 50),
                          st.sampled_from([0.5, -1.0, 2, True, -0.0])), min_size=1, max_size=25),
       st.integers(1, 4))
def test_random_straight_line_graphs(steps, n_out):
    g = Graph()
    vals = [g.placeholder("x"), g.placeholder("y")]
    for kind, which, pick, const in steps:
        a = vals[pick % len(vals)]
        b = vals[(pick * 7 + 3) % len(vals)]
        if kind == 0:
            v = g.call_method(_UNARY_METHODS[which % len(_UNARY_METHODS)], (a,))
        elif kind == 1:
            v = g.call_function(_BINARY_OPS[which % 4], (a, b))
        elif kind == 2:
            v = g.call_function(_BINARY_OPS[which % 4], (a, const))
        else:
            v = g.call_function(tl.maximum, (a, b))
        vals.append(v)
    g.output(tuple(vals[-n_out:]) if n_out > 1 else vals[-1])
    gm = GraphModule(tl.nn.Module(), g)
    with np.errstate(all="ignore"):
        run_both(gm, tl.tensor([0.5, -1.5]), tl.tensor([2.0, 0.25]))


def test_without_an_assembler_everything_is_compiled(monkeypatch):
    monkeypatch.setattr(_assemble, "_ASSEMBLER", [])
    gm = GraphModule(tl.nn.Module(), graph_of(FORMS["single output"]))
    pc = gm._graph.python_code()
    assert _assemble.build_forward(pc, "<x>", {}) is None
    assert same(gm(tl.ones(2)), tl.ones(2).exp())
    assert fxlite  # the public package still imports without minidynamo's assembler
