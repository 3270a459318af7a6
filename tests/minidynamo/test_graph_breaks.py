"""Graph breaks, differentially: programs that break (print, md.graph_break(), a branch on a
tensor's value, a C function minidynamo does not know, a function wrapped in md.disable) at
every position are run eagerly and compiled on the same inputs. Compared: the values, the
gradients of inputs that require grad, what was printed, the number of graphs compiled
(CompileCounter; md.explain's graph_count and graph_break_count agree), and that a second
call on equal inputs compiles nothing new.

Graph counts: a break compiles the graph before it (when it has ops) and the resume function
compiles the rest; a break inside a callee breaks the caller at its call, the callee is then
compiled as a frame of its own (which breaks again), so every level adds its graphs. A break
inside a loop runs that frame eagerly (0 graphs for it).
"""
import re
import zlib

import numpy as np
import pytest

import fxlite
import minidynamo as md
import tensorlite as tl
from tensorlite import _state as tl_state
from minidynamo.testing import CompileCounter, same

PROGRAMS = []


@pytest.fixture(autouse=True)
def _reset():
    md.reset()
    yield
    md.reset()
    grad_mode, tl_state.grad_enabled = tl_state.grad_enabled, True
    assert grad_mode, "the test left grad mode disabled"


def t(*shape, grad=False, seed=0):
    rng = np.random.default_rng(seed + 17 * len(shape) + sum(shape))
    return tl.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=grad)


def one():
    return (t(4, grad=True),)


def two():
    return (t(4, grad=True), t(4, seed=1))


def positive():
    return (t(4, grad=True).detach().abs().requires_grad_(),)


def negative():
    return ((-t(4).abs()).requires_grad_(),)


def prog(frames, breaks, args=one, kwargs=None):
    """Register a program: `frames` graphs and `breaks` graph breaks on the first call."""
    def deco(fn):
        PROGRAMS.append(pytest.param(fn, args, kwargs or {}, frames, breaks, id=fn.__name__))
        return fn
    return deco


# --------------------------------------------------------------------------- helpers
@md.disable
def disabled_double(x):
    return x * 2


def prints(x):
    print("prints", x.shape)
    return x.cos()


def breaks(x):
    md.graph_break()
    return x * 3


def breaks_kw(x, *, scale=1.0, shift=0.0):
    print("breaks_kw", scale, shift)
    return x * scale + shift


def breaks_star(*args, **kwargs):
    print("breaks_star", len(args), sorted(kwargs))
    return args[0] * kwargs.get("scale", 1.0) + sum(args[1:])


def returns_int():
    print("returns_int")
    return 5


def level3(x):
    y = x + 1
    print("level3", y.shape)
    return y * 2


def level2(x):
    return level3(x.sin()) + 1


def level1(x):
    return level2(x) * x


def level3_gb(x):
    md.graph_break()
    return x.exp()


def level2_gb(x):
    a = x * 2
    b = level3_gb(a)
    return a + b


def level1_gb(x):
    return level2_gb(x.cos()).sum()


def level3_if(x):
    if x.sum() > 0:
        return x + 10
    return x - 10


def level2_if(x):
    return level3_if(x * 2) * 3


def level1_if(x):
    return level2_if(x + 1) - 1


def loop_callee(x):
    for i in range(2):
        print("loop_callee", i)
        x = x + i
    return x


class Scaler:
    def __init__(self, k):
        self.k = k

    def apply(self, x):
        print("Scaler.apply", self.k)
        return x * self.k


SCALER = Scaler(3.0)


# ----------------------------------------------------------------- print at every position
@prog(frames=1, breaks=1)
def print_first(x):
    print("first")
    y = x.sin()
    return y * 2


@prog(frames=2, breaks=1)
def print_middle(x):
    y = x.sin()
    print("middle", 3, "x")
    return y.cos() * x


@prog(frames=1, breaks=1)
def print_last(x):
    y = x.sin() * x
    print("last")
    return y


@prog(frames=2, breaks=1)
def print_tensor(x):
    y = x * 2
    print(y)
    return y + 1


# ---------------------------------------------------------- md.graph_break() at every position
@prog(frames=1, breaks=1)
def gb_first(x):
    md.graph_break()
    return x.sin() + 1


@prog(frames=2, breaks=1)
def gb_middle(x):
    y = x.sin()
    md.graph_break()
    return y.cos() + x


@prog(frames=1, breaks=1)
def gb_last(x):
    y = x.relu() * 3
    md.graph_break()
    return y


@prog(frames=3, breaks=2)
def gb_twice(x):
    a = x + 1
    md.graph_break()
    b = a * x
    md.graph_break()
    return a + b


# ------------------------------------------------------------ branch on a tensor's value
@prog(frames=2, breaks=1, args=positive)
def if_first_taken(x):
    if x.sum() > 0:
        y = x.sin()
    else:
        y = x.cos()
    return y * 2


@prog(frames=2, breaks=1, args=negative)
def if_first_not_taken(x):
    if x.sum() > 0:
        y = x.sin()
    else:
        y = x.cos()
    return y * 2


@prog(frames=2, breaks=1, args=positive)
def if_middle(x):
    y = x * 2
    if y.mean() > 0:
        y = y + 1
    z = y.sin()
    return z


@prog(frames=2, breaks=1, args=negative)
def if_last(x):
    y = x.cos()
    if (y * x).sum() > 0:
        return y * 2
    return y - x


@prog(frames=2, breaks=1, args=positive)
def if_not(x):
    n = 3
    if not x.max() > 100:
        n = n + 1
    return x * n


@prog(frames=2, breaks=2, args=positive)
def if_bool_call(x):
    y = x + 1
    if bool((y > 0).all()):
        return y.sum()
    return y.mean()


# ---------------------------------------------------- an untraceable C function (zlib.crc32)
@prog(frames=1, breaks=1)
def cfunc_first(x):
    n = zlib.crc32(b"minidynamo") % 7
    return x * n


@prog(frames=2, breaks=1)
def cfunc_middle(x):
    y = x.exp()
    n = zlib.crc32(b"abc") % 5 + 1
    return y / n


@prog(frames=1, breaks=1)
def cfunc_last(x):
    y = x.tanh()
    zlib.crc32(b"unused")
    return y


# -------------------------------------------------------------- a function in md.disable
@prog(frames=1, breaks=1)
def disabled_first(x):
    y = disabled_double(x)
    return y.sin()


@prog(frames=2, breaks=1)
def disabled_middle(x):
    y = x.sin()
    z = disabled_double(y)
    return z * 2


@prog(frames=1, breaks=1)
def disabled_last(x):
    return disabled_double(x.cos() + 1)


# --------------------------------------------------------- breaks inside nested calls
# f breaks at its call; the callee breaks at its own call, and so on down to the print:
# cos | (level1: nothing | (level2: sin | (level3: +1 | print | *2) | +1) | *x) | +
@prog(frames=7, breaks=4)
def nested_print(x):
    a = x.cos()
    b = level1(a)
    return a + b


@prog(frames=7, breaks=4)
def nested_graph_break(x):
    y = x * 0.5
    return level1_gb(y) + y.sum()


@prog(frames=7, breaks=4, args=positive)
def nested_tensor_if(x):
    return level1_if(x) * 2


@prog(frames=2, breaks=2)
def nested_callee_loops(x):
    y = x.sin()
    z = loop_callee(y)
    return z * y


@prog(frames=3, breaks=2)
def nested_method(x):
    y = x + 1
    return SCALER.apply(y) - x


# ----------------------------------------------------------------- inside `with` blocks
@prog(frames=2, breaks=1)
def with_no_grad_print(x):
    with tl.no_grad():
        y = x * 2
        print("in no_grad", y.requires_grad)
        z = y + 1
    return z + x


@prog(frames=2, breaks=1)
def with_no_grad_graph_break(x):
    a = x.sin()
    with tl.no_grad():
        b = a * 3
        md.graph_break()
        c = b.exp()
    return a + c


@prog(frames=2, breaks=1)
def with_enable_grad_inside_no_grad(x):
    with tl.no_grad():
        a = x * 2
        with tl.enable_grad():
            b = x * a
            print("enable_grad", tl.is_grad_enabled())
            c = b.sin()
        d = c + a
    return d + x


@prog(frames=2, breaks=1, args=positive)
def with_tensor_if(x):
    with tl.no_grad():
        y = x + 1
        if y.sum() > 0:
            y = y * 2
    return y + x


@prog(frames=2, breaks=1)
def with_break_then_exit(x):
    with tl.no_grad():
        y = x.cos()
        md.graph_break()
    return y * x, tl.is_grad_enabled()


@prog(frames=2, breaks=1)
def with_set_grad_enabled(x):
    with tl.set_grad_enabled(False):
        y = x * 3
        print("set_grad_enabled", tl.is_grad_enabled())
    return y + x


# ------------------------------------------- live tensors and non-tensors on the stack
@prog(frames=2, breaks=2)
def stack_binary(x):
    y = x + prints(x) * 2
    return y


@prog(frames=3, breaks=2)
def stack_list(x):
    lst = [x.sin(), breaks(x), 3]
    return lst[0] + lst[1] * lst[2]


@prog(frames=3, breaks=2)
def stack_tuple_mixed(x):
    tup = (x.cos(), "label", 2.5, breaks(x), None)
    return tup[0] * tup[2] + tup[3], tup[1], tup[4]


@prog(frames=3, breaks=2)
def stack_dict(x):
    d = {"a": x.sin(), "b": breaks(x + 1)}
    return d["a"] - d["b"]


@prog(frames=1, breaks=2)
def stack_int_from_break(x):
    n = 2 + returns_int() * 3
    return x * n


@prog(frames=3, breaks=2)
def stack_call_args(x):
    return tl.add(x.sin(), breaks(x), alpha=2.0)


@prog(frames=1, breaks=1)
def stack_print_many(x):
    y = x.abs()
    print("values", 1, 2.5, "s", None, (1, 2), y.shape)
    return y


@prog(frames=2, breaks=1)
def live_locals_mixed(x):
    n = 3
    s = "scale"
    lst = [1, 2]
    y = x * n
    print(s, n, lst)
    lst.append(3)
    return y * len(lst), s, lst


@prog(frames=2, breaks=1, args=two)
def two_inputs(x, y):
    a = x * y
    print("two inputs")
    return a + y - x


# ------------------------------------------------------ keyword and star-arg calls that break
@prog(frames=3, breaks=2)
def kw_call(x):
    return x.sin() + breaks_kw(x, scale=2.0, shift=1.0)


@prog(frames=3, breaks=2)
def star_call(x):
    args = (x, 1.0)
    return x.sin() + breaks_star(*args, **{"scale": 3.0})


@prog(frames=3, breaks=2)
def star_only_call(x):
    args = (x, x.cos())
    return breaks_star(*args) * 2


@prog(frames=2, breaks=1)
def print_kw(x):
    y = x * 2
    print("a", "b", sep="-", end="!\n")
    return y + 1


@prog(frames=2, breaks=1)
def print_star(x):
    y = x * 2
    parts = ["p", 1, 2.5]
    print(*parts, sep="|")
    return y + 1


@prog(frames=2, breaks=2, kwargs={"scale": 4.0})
def kwargs_frame(x, scale=1.0):
    return breaks_kw(x, scale=scale) + x


# ----------------------------------------------------------------------- breaks in loops
@prog(frames=0, breaks=1)
def loop_print(x):
    for i in range(3):
        x = x + i
        print("loop", i)
    return x


@prog(frames=0, breaks=1)
def loop_graph_break(x):
    i = 0
    while i < 3:
        x = x * 2
        md.graph_break()
        i += 1
    return x


@prog(frames=0, breaks=1, args=positive)
def loop_tensor_if(x):
    for _ in range(3):
        if x.sum() > 0:
            x = x - 1
    return x


@prog(frames=0, breaks=1)
def loop_break_after(x):
    y = x.sin()
    for i in range(2):
        y = y + disabled_double(y)
    return y


# ------------------------------------------------------------------------- the table
def _clone(v):
    if isinstance(v, tl.Tensor):
        c = v.detach().clone()
        return c.requires_grad_() if v.requires_grad else c
    return v


def _tensors(v):
    if isinstance(v, tl.Tensor):
        return [v]
    if isinstance(v, (list, tuple)):
        return [t_ for item in v for t_ in _tensors(item)]
    if isinstance(v, dict):
        return [t_ for item in v.values() for t_ in _tensors(item)]
    return []


def _backward(out):
    ts = [o for o in _tensors(out) if o.requires_grad]
    if ts:
        sum(o.sum() for o in ts).backward()


def _printed(out):
    # a tensor printed after a compiled graph has the backend's grad_fn (CompiledFunctionBackward)
    return re.sub(r"grad_fn=<\w+>", "grad_fn=<...>", out)


def run_eager_and_compiled(fn, make_args, kwargs, capsys, backend):
    args_e = make_args()
    args_c = tuple(_clone(a) for a in args_e)
    capsys.readouterr()
    expected = fn(*args_e, **kwargs)
    printed_e = capsys.readouterr().out
    opt = md.compile(fn, backend=backend)
    actual = opt(*args_c, **kwargs)
    printed_c = capsys.readouterr().out
    assert same(expected, actual), f"eager {expected!r} != compiled {actual!r}"
    assert _printed(printed_c) == _printed(printed_e)
    for e, c in zip(_tensors(expected), _tensors(actual)):
        assert e.requires_grad == c.requires_grad
    _backward(expected)
    _backward(actual)
    for a, b in zip(args_e, args_c):
        if isinstance(a, tl.Tensor) and a.requires_grad:
            assert same(a.grad, b.grad), f"grad eager {a.grad!r} != compiled {b.grad!r}"
    return opt, printed_e


@pytest.mark.parametrize("fn,make_args,kwargs,frames,breaks", PROGRAMS)
def test_program(fn, make_args, kwargs, frames, breaks, capsys):
    cnt = CompileCounter()
    opt, printed = run_eager_and_compiled(fn, make_args, kwargs, capsys, cnt)
    assert cnt.frame_count == frames
    # a second call on equal inputs runs cached code: nothing is compiled, same output
    args = make_args()
    expected = fn(*args, **kwargs)
    capsys.readouterr()
    assert same(expected, opt(*[_clone(a) for a in args], **kwargs))
    assert capsys.readouterr().out == printed
    assert cnt.frame_count == frames
    # md.explain agrees
    ex = md.explain(fn)(*make_args(), **kwargs)
    capsys.readouterr()
    assert (ex.graph_count, ex.graph_break_count) == (frames, breaks), str(ex)


# A graph that switches grad mode inside (a `with tl.no_grad()` block a break split open)
# runs as it is under aot_eager: one autograd node per call cannot express the switch.
@pytest.mark.parametrize("fn,make_args,kwargs,frames,breaks", [pytest.param(*p.values, id=p.id) for p in PROGRAMS])
def test_program_aot_eager(fn, make_args, kwargs, frames, breaks, capsys):
    """The same programs through the aot_eager backend (a traced backward per graph)."""
    run_eager_and_compiled(fn, make_args, kwargs, capsys, "aot_eager")


def test_branch_both_ways_compiles_each_resume_once(capsys):
    cnt = CompileCounter()
    opt = md.compile(if_first_taken, backend=cnt)
    pos, neg = positive()[0], negative()[0]
    assert same(opt(pos), if_first_taken(pos))
    assert same(opt(neg), if_first_taken(neg))
    assert cnt.frame_count == 3  # the condition's graph + one resume per branch
    assert same(opt(pos * 2), if_first_taken(pos * 2))
    assert same(opt(neg * 2), if_first_taken(neg * 2))
    assert cnt.frame_count == 3


# -------------------------------------------------------------- recompiles after a break
def test_break_then_recompile_on_new_shapes(capsys):
    cnt = CompileCounter()
    opt = md.compile(print_middle, backend=cnt)
    for n in (3, 3, 5, 7, 5):
        x = t(n)
        assert same(opt(x), print_middle(x))
    out = capsys.readouterr().out
    assert out == "middle 3 x\n" * 10
    # shape 3: two graphs; shape 5: a recompile of both frames (the second one with the
    # changed dimension made dynamic, so shape 7 reuses it); shape 7 and 5 again: hits
    assert cnt.frame_count == 4
    cache = md.inspect(opt)
    assert len(cache.entries) == 2
    assert cache.recompile_reasons == ["tensor 'x' size mismatch at index 0. expected 3, actual 5"]


def test_break_recompile_on_dtype_and_requires_grad(capsys):
    cnt = CompileCounter()
    opt = md.compile(gb_middle, backend=cnt)
    x = t(4)
    for v in (x, x.to(tl.float64), _clone(x).requires_grad_()):
        assert same(opt(v), gb_middle(v))
    assert cnt.frame_count == 6
    assert len(md.inspect(opt).entries) == 3


def test_tensor_if_recompile_new_shape(capsys):
    cnt = CompileCounter()
    opt = md.compile(if_middle, backend=cnt)
    for n in (2, 6):
        x = positive()[0].detach()
        x = tl.ones(n) * 0.5 if n == 6 else x[:2]
        assert same(opt(x), if_middle(x))
    assert cnt.frame_count == 4


# ------------------------------------------------------------------------- fullgraph=True
@pytest.mark.parametrize("fn,reason,line", [
    (print_middle, "print", "print(\"middle\", 3, \"x\")"),
    (gb_middle, "graph_break() called", "md.graph_break()"),
    (if_middle, "data-dependent branch", "if y.mean() > 0:"),
    (cfunc_middle, "crc32", "n = zlib.crc32(b\"abc\") % 5 + 1"),
    (disabled_middle, "md.disable", "z = disabled_double(y)"),
    (nested_print, "print", "print(\"level3\", y.shape)"),
])
def test_fullgraph_raises_with_reason_and_user_line(fn, reason, line, capsys):
    opt = md.compile(fn, fullgraph=True)
    with pytest.raises(md.exc.Unsupported) as info:
        opt(positive()[0])
    msg = str(info.value)
    assert reason in msg
    assert line in msg
    frame = info.value.user_stack[-1]
    assert frame.filename == __file__
    assert frame.line == line
    assert f'File "{__file__}", line {frame.lineno}' in msg
    assert capsys.readouterr().out == ""  # nothing ran


def test_fullgraph_nested_user_stack_has_every_level():
    opt = md.compile(nested_print, fullgraph=True)
    with pytest.raises(md.exc.Unsupported) as info:
        opt(t(3))
    names = [fr.name for fr in info.value.user_stack]
    assert names == ["nested_print", "level1", "level2", "level3"]


# ----------------------------------------------------------------- breaks and identity
def test_break_returns_inputs_and_non_tensors(capsys):
    def f(x, n, lst):
        y = x * n
        print("f")
        return x, y, n, lst

    lst = [1, 2]
    x = t(3)
    out = md.compile(f, backend=CompileCounter())(x, 4, lst)
    assert out[0] is x and out[3] is lst and out[2] == 4
    assert same(out[1], x * 4)


def test_resume_functions_are_cached_per_code_and_offset(capsys):
    cnt = CompileCounter()
    opt1 = md.compile(gb_middle, backend=cnt)
    opt1(t(3))
    opt1(t(3))
    from minidynamo.graph_break import _RESUME_WRAPPERS
    assert len(_RESUME_WRAPPERS) == 1
    assert cnt.frame_count == 2


def _prints(x):
    print("inside")
    return x + 1


def test_break_inside_a_graph_module_follows_its_recompiled_forward(capsys):
    # the caller's graph breaks at m(x) (its forward prints); the call runs m's forward
    # compiled on its own, and after m.recompile() the new forward
    g = fxlite.Graph()
    x = g.placeholder("x")
    g.output(g.call_function(_prints, (g.call_function(tl.sin, (x,)),)))
    gm = fxlite.GraphModule(tl.nn.Module(), g)

    def f(m, x):
        return m(x) * 2

    opt = md.compile(f, backend="eager")
    x = tl.randn(3)
    assert same(opt(gm, x), f(gm, x))
    next(n for n in g.nodes if n.target is tl.sin).target = tl.cos
    gm.recompile()
    assert same(opt(gm, x), tl.cos(x) * 2 + 2)
    assert capsys.readouterr().out == "inside\n" * 3


def test_break_inside_a_module_with_a_forward_set_on_the_instance(capsys):
    class M(tl.nn.Module):
        def forward(self, x):
            return x.sin()

    def other(x):
        print("other")
        return x.cos()

    m = M()
    m.forward = other  # what m(x) calls, and a graph break

    def f(m, x):
        return m(x) * 2

    x = tl.randn(3)
    assert same(md.compile(f, backend="eager")(m, x), x.cos() * 2)
    assert capsys.readouterr().out == "other\n"
