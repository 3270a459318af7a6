"""Side effects, differentially: each program runs eagerly on one set of objects and compiled
on an identical set; afterwards the objects' states (attributes, list/dict contents, globals,
closure cells) and the returned values must be equal, and returned objects must keep their
identity. Programs that break the graph are included: effects before the break happen before
the unsupported instruction runs (it observes them), effects after it happen after."""
import copy

import numpy as np
import pytest

import minidynamo as md
import tensorlite as tl
from minidynamo.testing import CompileCounter, same


@pytest.fixture(autouse=True)
def _reset():
    md.reset()
    yield
    md.reset()


def t(*shape, seed=0):
    rng = np.random.default_rng(seed + sum(shape))
    return tl.tensor(rng.standard_normal(shape).astype(np.float32))


class Obj:
    def __init__(self):
        self.a = 1
        self.t = t(3)
        self.items = [1, 2]


class Counter(tl.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = tl.nn.Linear(3, 3)
        self.calls = 0
        self.scale = 1.0

    def forward(self, x):
        self.calls += 1
        self.last_input = x
        self.scale = self.scale * 2
        return self.lin(x) * self.scale


def state(v, seen=None):
    """A comparable snapshot of an object's state (tensors by value)."""
    seen = set() if seen is None else seen
    if isinstance(v, tl.Tensor):
        return ("tensor", v.shape, v._data.tolist())
    if isinstance(v, (list, tuple)):
        return (type(v).__name__, [state(i, seen) for i in v])
    if isinstance(v, dict):
        return ("dict", [(k, state(i, seen)) for k, i in v.items()])
    if isinstance(v, tl.nn.Module):
        keys = sorted(k for k in vars(v) if not k.startswith("_") and k != "training")
        return ("module", [(k, state(getattr(v, k), seen)) for k in keys],
                [(n, state(p, seen)) for n, p in v.named_parameters()])
    if hasattr(v, "__dict__") and not isinstance(v, type) and not callable(v):
        return (type(v).__name__, [(k, state(i, seen)) for k, i in sorted(vars(v).items())])
    return v


def run_both(fn, make_args, capsys=None, frames=None):
    """fn on fresh args eagerly and compiled: same result, same state of every argument."""
    args_e = make_args()
    args_c = copy.deepcopy(args_e)
    expected = fn(*args_e)
    printed_e = capsys.readouterr().out if capsys else None
    cnt = CompileCounter()
    actual = md.compile(fn, backend=cnt)(*args_c)
    if capsys:
        assert capsys.readouterr().out == printed_e
    assert same(state(expected), state(actual)), f"{state(expected)} != {state(actual)}"
    for a, b in zip(args_e, args_c):
        assert state(a) == state(b), f"eager state {state(a)} != compiled state {state(b)}"
    if frames is not None:
        assert cnt.frame_count == frames
    return args_c, actual


# --------------------------------------------------------------------- attribute writes
def test_attribute_writes_on_user_object():
    def f(o, x):
        o.a = o.a + 1
        o.t = x * 2
        o.new = "created"
        o.a = o.a * 10  # the last write wins
        return x + o.a

    (o, _), _ = run_both(f, lambda: (Obj(), t(3)), frames=1)
    assert (o.a, o.new) == (20, "created")


def test_attribute_read_after_write_sees_new_value():
    def f(o, x):
        o.t = o.t + x
        return o.t * 2

    run_both(f, lambda: (Obj(), t(3)), frames=1)


def test_attribute_writes_on_module():
    def f(m, x):
        return m(x) + m(x)

    (m, _), _ = run_both(f, lambda: (Counter(), t(2, 3)), frames=1)
    assert m.calls == 2 and m.scale == 4.0


def test_compiled_module_attribute_writes():
    m_e, m_c = Counter(), None
    m_c = copy.deepcopy(m_e)
    x = t(2, 3)
    opt = md.compile(m_c, backend=CompileCounter())
    assert same(m_e(x), opt(x))
    assert same(m_e(x), opt(x))
    assert state(m_e) == state(m_c)
    assert m_c.last_input is x


def test_setattr_builtin_and_nested_object():
    def f(o, x):
        setattr(o, "a", 5)
        o.child = None
        o.items.append(o.a)
        return x * o.a

    run_both(f, lambda: (Obj(), t(3)))


# ------------------------------------------------------------------------ list mutation
@pytest.mark.parametrize("op", ["append", "extend", "setitem", "pop", "pop_index", "insert",
                                "delitem", "clear", "inplace_add", "all"])
def test_input_list_mutation(op):
    def f(lst, x):
        if op in ("append", "all"):
            lst.append(x * 2)
        if op in ("extend", "all"):
            lst.extend([x + 1, 7])
        if op in ("setitem", "all"):
            lst[0] = x.sin()
        if op in ("pop", "all"):
            popped = lst.pop()
        elif op == "pop_index":
            popped = lst.pop(1)
        else:
            popped = None
        if op == "insert":
            lst.insert(1, "ins")
        if op == "delitem":
            del lst[0]
        if op == "clear":
            lst.clear()
        if op == "inplace_add":
            lst += [x]
        return popped, len(lst)

    (lst, _), out = run_both(f, lambda: ([t(3), 5, "s"], t(3)))


def test_popped_value_is_the_value_before_the_mutation():
    def f(lst, d, x):
        a = lst.pop(0)
        b = d.pop("k")
        lst.append(a)
        return a, b, x + 1

    run_both(f, lambda: ([1, t(3), 3], {"k": 10, "j": t(3)}, t(3)))


# ------------------------------------------------------------------------ dict mutation
@pytest.mark.parametrize("op", ["setitem", "update", "pop", "delitem", "setdefault", "clear", "all"])
def test_input_dict_mutation(op):
    def f(d, x):
        out = None
        if op in ("setitem", "all"):
            d["new"] = x * 2
            d["a"] = d["a"] + 1
        if op in ("update", "all"):
            d.update({"u": 1, "t": x})
        if op in ("pop", "all"):
            out = d.pop("b")
        if op == "delitem":
            del d["a"]
        if op == "setdefault":
            out = d.setdefault("sd", 3)
        if op == "clear":
            d.clear()
        return out, x.cos(), sorted(d)

    run_both(f, lambda: ({"a": 1, "b": t(3), "c": "s"}, t(3)))


# ------------------------------------------------------------------- globals, nonlocals
COUNT = 0
LOG = []
TENSOR_G = tl.zeros(3)


def bump_globals(x):
    global COUNT, TENSOR_G
    COUNT = COUNT + 1
    TENSOR_G = TENSOR_G + x
    LOG.append(COUNT)
    return x * COUNT


def test_global_writes():
    global COUNT, TENSOR_G
    x = t(3)
    COUNT, TENSOR_G, LOG[:] = 0, tl.zeros(3), []
    e1, e2 = bump_globals(x), bump_globals(x)
    snap = (COUNT, state(TENSOR_G), list(LOG))
    COUNT, TENSOR_G, LOG[:] = 0, tl.zeros(3), []
    opt = md.compile(bump_globals, backend=CompileCounter())
    c1, c2 = opt(x), opt(x)
    assert same(e1, c1) and same(e2, c2)
    assert (COUNT, state(TENSOR_G), list(LOG)) == snap


def make_closure():
    n = 0
    acc = []

    def inc(x):
        nonlocal n
        n += 1
        acc.append(n)
        return x * n

    return inc


def test_nonlocal_writes():
    f_e, f_c = make_closure(), make_closure()
    opt = md.compile(f_c, backend=CompileCounter())
    x = t(3)
    for _ in range(3):
        assert same(f_e(x), opt(x))
    cells = lambda f: [c.cell_contents for c in f.__closure__]  # noqa: E731
    assert cells(f_e) == cells(f_c) == [[1, 2, 3], 3]


def test_nonlocal_of_inlined_inner_function():
    def f(x):
        total = 0

        def add(v):
            nonlocal total
            total += v

        add(2)
        add(3)
        return x * total, total

    run_both(f, lambda: (t(3),), frames=1)


# --------------------------------------------------------- new objects and identity
def test_new_containers_escape_into_outputs():
    def f(x):
        inner = [x, x * 2]
        d = {"list": inner, "t": (inner, 3)}
        return d, inner

    _, (d, inner) = run_both(f, lambda: (t(3),), frames=1)
    assert d["list"] is inner and d["t"][0] is inner


def test_returning_the_same_object_twice():
    def f(x, lst):
        y = x * 2
        new = [y]
        return y, y, lst, lst, new, new

    x, lst = t(3), [1]
    out = md.compile(f, backend=CompileCounter())(x, lst)
    assert out[0] is out[1]
    assert out[2] is lst and out[3] is lst
    assert out[4] is out[5]


def test_returning_inputs_returns_those_objects():
    def f(x, lst, d, o, tup):
        lst.append(1)
        d["k"] = 2
        o.a = 3
        return x, lst, d, o, tup

    args = (t(3), [], {}, Obj(), (1, 2))
    out = md.compile(f, backend=CompileCounter())(*args)
    assert all(a is b for a, b in zip(out, args))
    assert args[1] == [1] and args[2] == {"k": 2} and args[3].a == 3


def test_new_user_object_escapes():
    class Box:
        def __init__(self, v):
            self.v = v

    def f(x):
        b = Box(x * 2)
        b.extra = 1
        return b

    x = t(3)
    out = md.compile(f, backend=CompileCounter())(x)
    assert isinstance(out, Box) and same(out.v, x * 2) and out.extra == 1


def test_aliased_input_list_mutated_through_both_names():
    def f(a, b, x):
        a.append(1)
        b.append(2)
        return x + len(a)

    lst = []
    out = md.compile(f, backend=CompileCounter())(lst, lst, t(3))
    assert lst == [1, 2] and same(out, t(3) + 2)


# ---------------------------------------------------------------- frames that break
def test_effects_before_and_after_break_in_program_order(capsys):
    def f(o, lst, x):
        o.a = 10
        lst.append("before")
        print("sees", o.a, list(lst))  # the break sees the effects before it
        o.b = o.a + 1
        lst.append("after")
        return x * o.b

    (o, lst, _), _ = run_both(f, lambda: (Obj(), [], t(3)), capsys, frames=1)
    assert lst == ["before", "after"] and o.b == 11


def test_effects_around_graph_break_in_callee(capsys):
    def callee(o, x):
        o.a = o.a + 1
        md.graph_break()
        o.a = o.a * 3
        return x * o.a

    def f(o, lst, x):
        lst.append(1)
        y = callee(o, x)
        lst.append(o.a)
        return y

    (o, lst, _), _ = run_both(f, lambda: (Obj(), [], t(3)), capsys)
    assert o.a == 6 and lst == [1, 6]


def test_global_and_nonlocal_effects_around_break(capsys):
    global COUNT
    COUNT = 0

    def f(x):
        global COUNT
        COUNT += 1
        print("count", COUNT)
        COUNT += 10
        return x * COUNT

    x = t(3)
    expected = f(x)
    COUNT = 0
    assert same(md.compile(f, backend=CompileCounter())(x), expected)
    assert COUNT == 11
    assert capsys.readouterr().out == "count 1\ncount 1\n"


def test_tensor_branch_after_effects(capsys):
    def f(o, x):
        o.a = 2
        if x.sum() > 0:
            o.a = 3
        else:
            o.a = 4
        return x * o.a

    for sign in (1, -1):
        run_both(f, lambda: (Obj(), t(3).abs() * sign))


def test_dict_value_passed_across_break_is_pre_mutation(capsys):
    def f(d, x):
        v = d.pop("a")
        print("popped", v)
        return x * v

    run_both(f, lambda: ({"a": 3, "b": 4}, t(3)), capsys)


def test_module_state_across_break(capsys):
    class M(tl.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = tl.nn.Linear(3, 3)
            self.steps = 0

        def forward(self, x):
            self.steps += 1
            print("step", self.steps)
            self.steps += 1
            return self.lin(x)

    m_e = M()
    m_c = copy.deepcopy(m_e)
    x = t(2, 3)
    opt = md.compile(m_c, backend=CompileCounter())
    for _ in range(2):
        assert same(m_e(x), opt(x))
    assert m_e.steps == m_c.steps == 4
    out = capsys.readouterr().out
    assert out == "step 1\nstep 1\nstep 3\nstep 3\n"  # eager, compiled, eager, compiled


def test_set_input_runs_eagerly():
    def f(s, x):
        s.add(3)
        return x + len(s)

    (s, _), _ = run_both(f, lambda: ({1}, t(3)), frames=0)
    assert s == {1, 3}
