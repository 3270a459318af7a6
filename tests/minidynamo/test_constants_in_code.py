"""Constants and guard values written into generated code (issue 18).

Generated code (guards, transformed functions, graph forwards) writes a value as a literal
only when the literal reads back as exactly that value; everything else is bound by name.
Guards compare values by exact type and behaviour, not by `==`: 0.0 and -0.0, range(0) and
range(-10), 1 and True are different programs. Every test compares md.compile(f) with plain
f, bit for bit, including the recompiles that such values must cause.
"""
import enum
import math
import operator
import struct

import numpy as np
import pytest

import fxlite
import minidynamo as md
import tensorlite as tl
from fxlite.codegen import literal, same
from minidynamo.source import AttrSource, GetItemSource, LocalSource

BACKENDS = ("eager", "aot_eager", "codegen")
NEG_NAN = struct.unpack("<d", struct.pack("<Q", 0xFFF8000000000000))[0]


@pytest.fixture(autouse=True)
def _reset():
    md.reset()
    yield
    md.reset()


def exact(v):
    """A key that tells apart everything a program can observe of a result."""
    t = type(v)
    if t is float:
        return t, struct.pack("<d", v)
    if t is complex:
        return t, struct.pack("<dd", v.real, v.imag)
    if t in (tuple, list):
        return t, tuple(exact(x) for x in v)
    if t is dict:
        return t, tuple((exact(k), exact(x)) for k, x in v.items())
    if isinstance(v, tl.Tensor):
        return t, str(v._data.dtype), v._data.shape, v._data.tobytes()
    if isinstance(v, np.generic):
        return t, v.tobytes()
    if isinstance(v, BaseException):
        return t, str(v)
    if t is int:
        return t, hex(v)
    return t, repr(v)


def run(f, *args):
    try:
        return f(*args)
    except Exception as e:  # noqa: BLE001 - the compiled call must raise the same
        return e


def check_calls(f, calls, backend="eager"):
    """Each call of md.compile(f) returns exactly what f returns, in order (recompiles)."""
    opt = md.compile(f, backend=backend)
    for args in calls:
        expected = run(f, *args)
        actual = run(opt, *args)
        assert exact(actual) == exact(expected), f"{args!r}: eager {expected!r}, compiled {actual!r}"
    return opt


def entries(opt):
    return len(md.inspect(opt).entries)


# -------------------------------------------------------------- constants in generated code
def test_inf_and_nan_constants_are_bound_not_named():
    check_calls(lambda: (math.inf, -math.inf, math.nan, NEG_NAN), [()])
    check_calls(lambda x: (x * math.inf, x - math.inf, x + math.nan), [(2.0,)])
    check_calls(lambda: complex(math.inf, math.nan), [()])  # test_cmath test_polar
    check_calls(lambda: (1.0, (math.inf, complex(0.0, math.inf))), [()])


def test_signed_zero_constants_keep_their_sign():
    check_calls(lambda: (complex(-0.0, -0.0), complex(0.0, -0.0), complex(-0.0, 0.0), -0.0), [()])
    check_calls(lambda x: (x, -0.0, (x, -0.0j)), [(0.0,)])  # test_complex test_plus_minus_0j


def test_huge_int_constants():
    # past the int-str digit limit: repr() raises, and so would compiling a literal
    big = 10 ** 5000
    check_calls(lambda: 10 ** 5000 + 1, [()])
    check_calls(lambda n: (n, n + 1, n > 0), [(big,), (big + 2,), (3,)])
    check_calls(lambda d: d[10 ** 5000] + 1, [({big: 1},), ({big: 2},)])


def test_numpy_scalar_in_forward():
    x = tl.ones(3)
    for backend in BACKENDS:
        md.reset()
        check_calls(lambda x: x.sum() * (1.0 / np.sqrt(3)), [(x,)], backend)
        md.reset()
        check_calls(lambda x: x * np.float64(-0.0) + np.float32(2.5), [(x,)], backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_special_floats_in_tensor_graphs(backend):
    x = tl.tensor([1.0, -2.0, 0.0])
    check_calls(lambda x: (x * math.inf, x + -math.inf, x + math.nan), [(x,)], backend)
    md.reset()
    check_calls(lambda x: 1.0 / (x * 0.0 * -0.0), [(x,)], backend)
    md.reset()
    check_calls(lambda x: (-2.0) ** x + x.clamp(min=-math.inf, max=math.inf), [(x,)], backend)


def test_graph_code_stays_readable():
    gms = []

    def backend(gm, example_inputs):
        gms.append(gm)
        return gm.forward

    def f(x):
        return ((x * math.inf + math.nan) * -0.0 + 1.5) + (-2.0) ** x

    x = tl.ones(2)
    out = md.compile(f, backend=backend)(x)
    assert exact(out) == exact(f(x))
    code = gms[0].code
    assert "l_x_ * inf" in code and "mul + nan" in code and "* -0.0" in code and "+ 1.5" in code
    assert "(-2.0) ** l_x_" in code  # not -(2.0 ** x)


def _graph_module(calls):
    """A GraphModule of forward(x) returning the calls' results: (fn, args), "x" for x."""
    g = fxlite.Graph()
    x = g.placeholder("x")
    outs = [g.call_function(fn, tuple(x if a == "x" and type(a) is str else a for a in args))
            for fn, args in calls]
    g.output(tuple(outs))
    return fxlite.GraphModule(tl.nn.Module(), g)


def test_fx_graph_with_constants_that_have_no_literal():
    values = [10 ** 5000, NEG_NAN, math.inf, complex(-0.0, -0.0), np.float64(0.5), -0.0, _Int(3)]
    gm = _graph_module([(operator.pos, (v,)) for v in values]
                       + [(operator.getitem, ((1, -math.inf), 1)), (operator.pow, (-2, "x"))])
    assert "(-2) ** x" in gm.code and "-2 ** x" not in gm.code
    want = tuple(+v for v in values) + (-math.inf, 0.25)
    assert exact(gm(-2)) == exact(want)
    gm = _graph_module([(getattr, (-1.5, "imag")), (getattr, (5, "real"))])
    assert "(-1.5).imag" in gm.code and "(5).real" in gm.code
    assert exact(gm(0)) == exact((0.0, 5))  # not -(1.5.imag), which is -0.0


def test_regions_with_other_bound_constants_are_other_subgraphs():
    def make(c):
        @md.nested_compile_region
        def g(x):
            return x * c
        return g

    g2, g3 = make(np.float64(2.0)), make(np.float64(3.0))  # the same code text: x * _const_5
    check_calls(lambda x: g2(x) + g3(x), [(tl.ones(2),)])

    @md.nested_compile_region
    def h(x, n):
        return x + n % 7

    md.reset()
    check_calls(lambda x: h(x, 10 ** 5000) + h(x, 10 ** 5001), [(tl.ones(2),)])


# -------------------------------------------------------------------------- guards: exact
def test_enum_and_intflag_members_in_guards():
    class Perm(enum.IntFlag):
        R = 4
        W = 2

    class Color(enum.IntEnum):
        RED = 1
        BLUE = 2

    class Mode(str, enum.Enum):
        A = "a"

    f = lambda p: (str(p), repr(p), int(p), type(p).__name__)  # noqa: E731
    check_calls(f, [(Perm.R,), (Perm.W,), (Perm.R | Perm.W,), (4,), (Perm.R,)])
    md.reset()
    check_calls(f, [(Color.RED,), (1,), (True,), (Color.BLUE,), (Color.RED,)])
    md.reset()
    check_calls(f, [(Mode.A,), ("a",)])
    md.reset()
    check_calls(lambda d: d[Color.RED] + 1, [({Color.RED: 1},), ({Color.RED: 2},)])


def test_signed_zero_guards():
    f = lambda x: (str(x), math.copysign(1.0, x))  # noqa: E731
    opt = check_calls(f, [(0.0,), (-0.0,), (0.0,), (-0.0,)])
    assert entries(opt) == 2
    md.reset()
    check_calls(lambda t: str(t), [((0.0, 1),), ((-0.0, 1),)])
    md.reset()
    check_calls(lambda c: (repr(c), c.imag), [(0j,), (complex(-0.0, -0.0),), (complex(0.0, -0.0),), (0j,)])
    md.reset()
    check_calls(lambda x: str(x), [(np.float64(0.0),), (np.float64(-0.0),)])


def test_nan_guards_match_nan_of_the_same_sign():
    f = lambda x: (str(x), math.copysign(1.0, x))  # noqa: E731
    opt = check_calls(f, [(math.nan,), (float("nan"),), (NEG_NAN,), (math.nan,)])
    assert entries(opt) == 2


def test_range_guards_compare_start_stop_step():
    f = lambda r: (repr(r), r.start, r.stop, r.step, len(r))  # noqa: E731
    check_calls(f, [(range(0),), (range(-10),), (range(0),)])  # test_range test_attributes
    md.reset()
    check_calls(f, [(range(1, 2, 5),), (range(1, 3, 5),), (range(10 ** 5000, 10 ** 5000 + 1),)])


def test_numbers_of_other_types_are_other_programs():
    f = lambda v: (type(v).__name__, str(v))  # noqa: E731
    check_calls(f, [(1,), (True,), (1.0,), (1 + 0j,), (np.int64(1),), (np.float64(1.0),), (1,)])
    md.reset()
    check_calls(f, [(b"a",), (bytearray(b"a"),), ("a",)])


def test_dict_key_guards_keep_key_types_and_signs():
    f = lambda d: [(type(k).__name__, str(k), v) for k, v in d.items()]  # noqa: E731
    check_calls(f, [({1: "a"},), ({True: "a"},), ({1.0: "a"},), ({1: "a"},)])
    md.reset()
    check_calls(f, [({0.0: 1},), ({-0.0: 1},), ({0.0: 1},)])
    md.reset()
    check_calls(lambda d: d[math.inf] + d["a"], [({math.inf: 1, "a": 2},), ({math.inf: 3, "a": 2},)])


def test_slice_guards_compare_start_stop_step():
    f = lambda s: (s.start, s.stop, s.step, str(s))  # noqa: E731
    check_calls(f, [(slice(1, 2),), (slice(1, 3),), (slice(0.0, 2),), (slice(-0.0, 2),), (slice(True, 2),)])


def test_ordinary_guards_read_as_before():
    opt = md.compile(lambda x, n, s, f: x * n if s == "a" and f > 1 else x, backend="eager")
    opt(tl.ones(2), 2, "a", 1.5)
    src = md.inspect(opt).entries[0].guard_set.check_fn.source
    assert "n == 2" in src and "s == 'a'" in src and "f == 1.5" in src


# ------------------------------------------------------------------------- the text itself
@pytest.mark.parametrize("v", [0, -5, 2 ** 200, 1.5, -0.0, 1e308, "a\n'", b"\x00", True, None, ...,
                               1j, complex(1.5, -2.0), (), (1,), (1, (2.5, "x"))], ids=lambda v: type(v).__name__)
def test_literal_reads_back_exactly(v):
    text = literal(v)
    assert text is not None
    assert same(eval(text, {"__builtins__": {}}), v)  # noqa: S307


class _Int(int):
    pass


@pytest.mark.parametrize("v", [10 ** 5000, math.inf, -math.inf, math.nan, complex(-0.0, -0.0),
                               complex(0.0, -0.0), complex(math.inf, 0), np.float64(0.5),
                               np.int64(3), _Int(3), enum.IntFlag("P", "R W").R, [1], (1, math.inf),
                               range(3), slice(1, 2), frozenset()], ids=lambda v: type(v).__name__)
def test_no_literal_for_values_whose_repr_does_not_round_trip(v):
    assert literal(v) is None


def test_sources_name_keys_without_literals():
    class Color(enum.IntEnum):
        RED = 1

    for key in (Color.RED, math.inf, 10 ** 5000, complex(-0.0, 0.0)):
        d = {key: 7}
        src = GetItemSource(LocalSource("d"), key)
        ns = md.namespaces.base_namespace(None)
        ns["d"] = d
        assert eval(src.expr(), ns) == 7  # noqa: S307
        hash(src), src.name()
    obj = type("O", (), {"class": 3})()
    ns = {"o": obj}
    assert eval(AttrSource(LocalSource("o"), "class").expr(), ns) == 3  # noqa: S307


def test_same_is_exact():
    assert same(0.0, 0.0) and not same(0.0, -0.0) and same(math.nan, float("nan"))
    assert not same(math.nan, NEG_NAN) and not same(1, True) and not same(1, 1.0)
    assert not same(range(0), range(-10)) and same(range(1, 5, 2), range(1, 5, 2))
    assert not same(slice(0.0), slice(-0.0)) and same(slice(1, 2), slice(1, 2))
    assert not same(frozenset({0.0}), frozenset({-0.0})) and same(frozenset({1, "a"}), frozenset({"a", 1}))
    assert not same(frozenset({1}), frozenset({True})) and not same((0.0,), (-0.0,))
    assert not same(np.float64(0.0), np.float64(-0.0)) and not same(np.float64(1), np.float32(1))
