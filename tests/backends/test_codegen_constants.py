"""Constants in compiled code are exactly the program's constants (issue #18).

The fusion tests force each fused form onto small arrays. The numexpr and numba ones skip
cleanly without the optional `fast` extra; run them with .venv-extras.

Every compiled result is compared with the plain function's bit for bit: dtype, shape and
bytes, which tells -0.0 from 0.0 and one nan from another. An exception must have the same
type and message. The signs of zeros are also checked with math.copysign and np.signbit.
The faults covered here:

* lowering.literal (constants in kernel source) accepted subclasses (an IntEnum member
  printed as `<E.A: 1>`: SyntaxError), wrote every nan as `_nan` (sign and payload lost), and
  crashed on huge ints.
* fusion merged constants with `==` (0.0 and -0.0 in one fused kernel became one constant),
  numexpr itself merges them too, and its optimizer divides by a constant as a
  multiplication by its reciprocal. Numba kernels were cached by their constants with `==`.
* Keys that merged different constants: CSE and the compile cache (every nan was `_nan`,
  every array `_k0`), aot_function's per-input cache (0.0 and -0.0 hash and compare equal),
  and the compile cache's description of a huge int input (repr past the digit limit).
* minidynamo.source.KEYS (`___K`) kept every key without a literal alive forever.
"""
import enum
import gc
import math
import struct

import numpy as np
import pytest

import fxlite
import minidynamo as md
import tensorlite as tl
from backends.aot import aot_function, nop
from backends.codegen import cache, compile_fx_graph, fusion, lowering
from fxlite.codegen import same, same_key
from minidynamo import source

BACKENDS = ["codegen", "aot_eager"]


def f64(bits):
    """The float with these IEEE-754 bits."""
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


NEG_NAN = -math.nan  # the sign bit set
PAYLOAD_NAN = f64(0x7FF8000000000123)


class Small(enum.IntEnum):
    ONE = 1
    TWO = 2


@pytest.fixture(autouse=True)
def _fresh(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIDYNAMO_CACHE_DIR", str(tmp_path / "cache"))
    cache.clear_memory()
    md.reset()
    yield
    md.reset()


def _outcome(fn, *args):
    try:
        return "ok", fn(*args)
    except Exception as e:  # the compiled function must raise what the plain one raises
        return "raised", (type(e), str(e))


def _flat(x):
    if isinstance(x, (tuple, list)):
        return [z for y in x for z in _flat(y)]
    return [x]


def assert_exact(got, want):
    """The same values: tensors by dtype, shape and bytes (signed zeros, nan payloads), with
    the sign of every zero also checked with np.signbit; scalars with same()."""
    got, want = _flat(got), _flat(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if not isinstance(w, tl.Tensor):
            assert same(g, w), (g, w)
            continue
        assert isinstance(g, tl.Tensor), g
        gd, wd = np.asarray(g._data), np.asarray(w._data)
        assert (gd.dtype, gd.shape) == (wd.dtype, wd.shape), (gd.dtype, gd.shape, wd.dtype, wd.shape)
        if wd.dtype.kind == "f":
            np.testing.assert_array_equal(np.signbit(gd), np.signbit(wd))
        assert gd.tobytes() == wd.tobytes(), (gd, wd)


def check(fn, *args, backends=BACKENDS):
    """md.compile(fn) with each backend behaves as fn: the same values or the same exception."""
    want = _outcome(fn, *args)
    for backend in backends:
        md.reset()
        got = _outcome(md.compile(fn, backend=backend), *args)
        assert got[0] == want[0], (backend, got, want)
        if want[0] == "raised":
            assert got[1] == want[1], (backend, got, want)
        else:
            assert_exact(got[1], want[1])
    return want


X = tl.tensor([[1.5, -2.0, 0.0], [-0.0, 3.0, -7.25]])


# ----------------------------------------------------------------------------- 1. literals

@pytest.mark.parametrize("value", [
    -0.0, 0.0, math.inf, -math.inf, math.nan, NEG_NAN, PAYLOAD_NAN, 10 ** 5000, -(10 ** 5000),
    complex(-0.0, -0.0), complex(math.nan, -math.inf), 1, True, 1.0, Small.TWO, np.float32(-0.0),
    np.float64(PAYLOAD_NAN), np.int64(-3), np.dtype(">f4"), np.dtype("float32"), tl.float32,
    (1, True, 1.0, -0.0, None), [0.0, -0.0], {"a": -0.0, "b": NEG_NAN}, slice(None, -1, Small.ONE),
], ids=lambda v: f"{type(v).__name__}:{v!r}"[:40] if not (type(v) is int and abs(v) > 10 ** 100) else "hugeint")
def test_literal_reads_back_exactly(value):
    """Kernel source names exactly the constant: same type and same bits, or a bound name."""
    consts = {}
    text = lowering.literal(value, consts)
    ns = lowering.impl_namespace()
    ns.update({k: (v[()] if isinstance(v, np.ndarray) and v.ndim == 0 else v) for k, v in consts.items()})
    back = eval(text, ns)
    if isinstance(value, list):
        assert type(back) is list and same(tuple(back), tuple(value))
    elif isinstance(value, dict):
        assert type(back) is dict and list(back) == list(value)
        assert all(same(back[k], value[k]) for k in value)
    elif isinstance(value, slice):
        assert type(back) is slice and same((back.start, back.stop, back.step), (value.start, value.stop, value.step))
    else:
        assert same(back, value) or back is value, (text, back, value)


def test_key_text_tells_constants_apart():
    """Cache and CSE keys: equal texts only for the same type and bits."""
    values = [0.0, -0.0, 1, 1.0, True, math.nan, NEG_NAN, PAYLOAD_NAN, np.float32(0.0), np.float32(-0.0),
              np.float64(0.0), np.array([0.0, 1.0]), np.array([-0.0, 1.0]), np.array([0.0, 1.0], np.float32),
              10 ** 5000, 10 ** 5000 + 1, complex(0.0, -0.0), complex(-0.0, 0.0)]
    texts = [lowering.key_text(v) for v in values]
    assert len(set(texts)) == len(texts), texts
    with pytest.raises(lowering.Uncacheable):
        lowering.key_text(Small.ONE)  # an object: never keyed by its value


def test_intenum_constants_compile():
    """An IntEnum constant printed `<Small.TWO: 2>` into the kernel: a SyntaxError."""
    check(lambda x: tl.clamp(x, min=Small.ONE), X)
    check(lambda x: x[Small.ONE], X)
    check(lambda x: tl.clamp(x, max=Small.TWO) * 2, X)


def test_huge_int_constant_raises_what_eager_raises():
    """repr of a 5000-digit int raised ValueError at compile time; eager raises OverflowError."""
    want = check(lambda x: x + tl.full((2, 3), 10 ** 5000), X)
    assert want[0] == "raised" and want[1][0] is OverflowError


def test_nan_sign_and_payload_are_kept():
    """Every nan was written as `_nan`: -nan lost its sign, a payload its bits."""
    want = check(lambda x: tl.clamp(x, min=NEG_NAN), X)
    assert np.signbit(want[1]._data).all()
    check(lambda x: x + tl.full((), PAYLOAD_NAN, dtype=tl.float64), X.double())
    check(lambda x: tl.clamp(x, max=PAYLOAD_NAN), X.double())


def test_signed_zero_constants():
    want = check(lambda x: (x * -0.0, x * 0.0, x + tl.full((2, 3), -0.0), tl.clamp(x, min=-0.0, max=-0.0)), X)
    assert math.copysign(1.0, want[1][0]._data[0, 0]) == -1.0  # 1.5 * -0.0
    assert math.copysign(1.0, want[1][1]._data[0, 0]) == 1.0
    check(lambda x: (x.double() * -0.0).sum(), X)


def test_cse_keeps_nans_apart():
    """CSE keyed both clamps by the text `_nan`: the second returned the first's result."""
    want = check(lambda x: (tl.clamp(x, min=math.nan), tl.clamp(x, min=NEG_NAN)), X)
    assert not np.signbit(want[1][0]._data).any() and np.signbit(want[1][1]._data).all()


def test_cse_keeps_signed_zeros_apart():
    check(lambda x: (tl.clamp(x, min=0.0, max=0.0), tl.clamp(x, min=-0.0, max=-0.0)), X)


# ----------------------------------------------------------------------------- 3. keys

def _full_graph(value):
    gm = fxlite.make_fx(lambda x: x + tl.full((2,), 1.0))(tl.ones(2))
    for n in gm.graph.nodes:
        if n.op == "call_function" and getattr(n.target, "name", None) == "full":
            n.kwargs = {**n.kwargs, "value": value}
    gm.recompile()
    return gm


def test_compile_cache_key_tells_array_constants_apart():
    """Every array parameter was keyed `_k0`: a graph reused the kernel of another graph."""
    a = tl.ones(2)
    pos, neg = _full_graph(np.array([0.0, 0.0])), _full_graph(np.array([-0.0, -0.0]))
    assert cache.graph_key(pos, [a]) != cache.graph_key(neg, [a])
    neg_out = compile_fx_graph(neg, [a])(tl.tensor([-0.0, -0.0]))
    pos_out = compile_fx_graph(pos, [a])(tl.tensor([-0.0, -0.0]))
    assert np.signbit(neg_out._data).all() and not np.signbit(pos_out._data).any()


def test_compile_cache_key_tells_nans_apart():
    a = tl.ones(2)
    assert cache.graph_key(_full_graph(math.nan), [a]) != cache.graph_key(_full_graph(NEG_NAN), [a])


def test_compile_cache_key_of_huge_int_input():
    """The key described a non-tensor input by repr(): a ValueError past the digit limit."""
    gm = fxlite.make_fx(lambda x: x * 2)(tl.ones(2))
    assert cache.graph_key(gm, [10 ** 5000]) != cache.graph_key(gm, [10 ** 5000 + 1])
    assert cache.graph_key(gm, [0.0]) != cache.graph_key(gm, [-0.0])


def test_aot_function_cache_tells_signed_zeros_apart():
    """aot_function keyed a non-tensor input by (type, value): 0.0 and -0.0 shared an entry."""
    f = aot_function(lambda x, c: x * c, nop)
    x = tl.ones(2)
    for c in (0.0, -0.0, 1, 1.0, True, math.nan, NEG_NAN):
        assert_exact(f(x, c), x * c)


def test_same_key():
    keys = [same_key(v) for v in (0.0, -0.0, 1, 1.0, True, (1, -0.0), (1, 0.0), np.float32(0), np.float64(0))]
    assert len(set(keys)) == len(keys)
    assert same_key((1, 2.5)) == same_key((1, 2.5))
    obj = object()
    assert same_key(obj) == same_key(obj) and same_key(obj) != same_key(object())


# ----------------------------------------------------------------------------- 2. fusion

@pytest.fixture
def force(monkeypatch):
    """Every fusable chain of at least one element takes the given fused form."""
    def set_form(strategy):
        monkeypatch.setattr(fusion, "MIN_ELEMENTS", 1)
        monkeypatch.setattr(fusion, "FORCE", strategy)
        fusion.decisions.clear()
    yield set_form
    fusion.decisions.clear()


BIG = tl.tensor(np.linspace(-3.0, 3.0, 64, dtype=np.float32).reshape(8, 8))
BIG64 = tl.tensor(np.concatenate([[0.0, -0.0, 1.0, -1.0], np.linspace(-3.0, 3.0, 60)]))


def test_fused_group_keeps_signed_zeros_apart(force, monkeypatch):
    """ne_expression merged constants with `==`: 0.0 and -0.0 were one constant."""
    groups = []
    choose = fusion.Group.choose

    def record(self, options):
        groups.append(self)
        return choose(self, options)
    monkeypatch.setattr(fusion.Group, "choose", record)
    force("blocked")  # a pure-numpy form: the group exists without numexpr or numba
    check(lambda x: (x * -0.0 + 0.0) * 2.0, BIG, backends=["codegen"])
    assert groups
    _, _, cvals = groups[0].ne_expression()
    assert [c for c in cvals if c == 0.0] == [-0.0, 0.0] or [c for c in cvals if c == 0.0] == [0.0, -0.0]
    assert {math.copysign(1.0, c) for c in cvals if c == 0.0} == {1.0, -1.0}


SIGNED_ZERO_PROGRAMS = [
    ("neg_then_pos", lambda x: (x * -0.0 + 0.0) * 2.0),
    ("pos_then_neg", lambda x: (x * 0.0 + -0.0) * 2.0),
    ("mul_zeros", lambda x: (x * -0.0) * (x * 0.0 + 1.0)),
    ("sigmoid_and_neg_zero", lambda x: (x * -0.0 + 0.0).sigmoid() + x * -0.0),
]
FUSED = ["blocked", "parallel",
         pytest.param("numexpr", marks=pytest.mark.skipif(not fusion.numexpr_available(), reason="numexpr not installed")),
         pytest.param("numba", marks=pytest.mark.skipif(not fusion.numba_available(), reason="numba not installed"))]


@pytest.mark.parametrize("strategy", FUSED)
@pytest.mark.parametrize("name,fn", SIGNED_ZERO_PROGRAMS, ids=[p[0] for p in SIGNED_ZERO_PROGRAMS])
def test_fused_signed_zeros(force, strategy, name, fn):
    """Both signed zeros in one fused chain (numexpr also merges them itself: no numexpr form)."""
    force(strategy)
    for a in (BIG, BIG64):
        want = check(fn, a, backends=["codegen"])
        assert want[0] == "ok"


@pytest.mark.parametrize("strategy", FUSED)
def test_fused_kernels_with_other_zero_sign(force, strategy):
    """Numba kernels were cached by (text, constants) with `==`: the kernel for `x * 0.0` ran
    for `x * -0.0`."""
    force(strategy)
    for sign in (0.0, -0.0, 0.0):
        def fn(x, c=sign):
            return (x * c) * 1.5
        want = check(fn, BIG, backends=["codegen"])
        assert np.signbit(want[1]._data[BIG._data > 0]).all() == (math.copysign(1.0, sign) < 0)


@pytest.mark.parametrize("strategy", FUSED)
def test_fused_division_by_constant_is_division(force, strategy):
    """numexpr's optimizer divided by a constant as a multiplication by its reciprocal: off by
    an ulp, and 0 / 1e-310 gave nan (0 * inf), not 0."""
    force(strategy)
    check(lambda x: (x / 3.0 + 1.0) / 7.0, BIG64, backends=["codegen"])
    check(lambda x: (x * 1.0) / 1e-310, BIG64, backends=["codegen"])
    check(lambda x: (x * 1.0) / -0.0, BIG64, backends=["codegen"])


@pytest.mark.skipif(not fusion.numexpr_available(), reason="numexpr not installed")
def test_numexpr_form_is_refused_for_both_signed_zeros(force):
    force("numexpr")
    gm = fxlite.make_fx(lambda x: (x * -0.0 + 0.0) * 2.0)(BIG)
    assert "# fused (numexpr)" not in compile_fx_graph(gm, [BIG]).source
    gm = fxlite.make_fx(lambda x: (x * -0.0 + 1.0) * 2.0)(BIG)
    assert "# fused (numexpr)" in compile_fx_graph(gm, [BIG]).source


# ----------------------------------------------------------------------------- 4. ___K

def _keyed_by(keys):
    return {k: tl.ones(2) * (i + 1) for i, k in enumerate(keys)}


def _reader(key, n):
    def f(d):  # a closure: a function cache of its own
        return d[key] + n
    return f


def test_reset_clears_keys():
    def f(d):
        return d[Small.ONE] * 2 + d[Small.TWO]
    d = _keyed_by([Small.ONE, Small.TWO])
    assert_exact(md.compile(f, backend="eager")(d), f(d))
    assert len(source.KEYS) >= 2
    md.reset()
    assert len(source.KEYS) == 0


def test_keys_are_bounded(monkeypatch):
    """Every distinct key without a literal stayed in ___K forever."""
    monkeypatch.setattr(source, "KEYS_LIMIT", 4, raising=False)
    for i in range(20):
        key = 10 ** 700 + i  # a huge int: no literal
        f = _reader(key, 1)
        d = _keyed_by([key])
        assert_exact(md.compile(f, backend="eager")(d), f(d))
    assert len(source.KEYS) <= 4


def test_entries_keep_their_keys(monkeypatch):
    """A cache entry still finds its keys after the table dropped them, and its guards still
    tell another dict apart."""
    monkeypatch.setattr(source, "KEYS_LIMIT", 2, raising=False)

    def f(d):
        return d[Small.ONE] * 2 + d[Small.TWO]
    cf = md.compile(f, backend="eager")
    d = _keyed_by([Small.ONE, Small.TWO])
    assert_exact(cf(d), f(d))
    for i in range(10):  # other frames name other keys: Small's slots leave the table
        key = 10 ** 700 + i
        md.compile(_reader(key, -1), backend="eager")(_keyed_by([key]))
    gc.collect()
    entries = len(cf._cache.entries)
    assert_exact(cf(d), f(d))
    assert len(cf._cache.entries) == entries  # a hit: no recompilation
    other = {Small.ONE: tl.zeros(2), Small.TWO: tl.ones(2) * 5}
    assert_exact(cf(other), f(other))


def test_key_slots_are_never_reused():
    table = source.KeyTable()
    a, b = float("nan"), float("nan")
    ta = table.text(a)
    table.clear()
    tb = table.text(b)
    assert ta != tb  # an old text never names a new value
    assert table.text(b) == tb and table.bind(tb) == {int(tb[5:-1]): b}
    with pytest.raises(RuntimeError):
        table.bind(ta)


def _local_class(name):
    return type(name, (), {})


K = _local_class("K")  # its reconstruction was named ___K, the name of the keys
G = _local_class("G")  # ... and ___G, the name of the globals
W = tl.ones(2) * 3


def test_keys_and_globals_are_not_shadowed_by_objects_named_k_or_g():
    def f(d, x):
        return K, G, d[Small.ONE] * W + x
    d = _keyed_by([Small.ONE])
    got = md.compile(f, backend="eager")(d, tl.ones(2))
    want = f(d, tl.ones(2))
    assert got[0] is K and got[1] is G
    assert_exact(got[2], want[2])


def test_numpy_scalar_constant_survives_the_disk_cache():
    """The disk cache stored 0-d constants 1-d (np.ascontiguousarray): a numpy scalar constant
    read back from disk turned a 0-d float32 result into a float64 vector."""
    def f(x):
        return x.sum() * np.float64(1.0 / 3.0)
    x = tl.ones(3)
    gm = fxlite.make_fx(f)(x)
    first = compile_fx_graph(gm, [x])
    cache.clear_memory()
    counters = dict(cache.counters)
    again = compile_fx_graph(gm, [x])
    assert cache.counters["disk_hits"] == counters.get("disk_hits", 0) + 1
    assert_exact(first(x), f(x))
    assert_exact(again(x), f(x))


def test_exact_constants_stay_disk_cacheable():
    """Binding is for objects without an exact text: dtypes, signed zeros, nans and numpy
    scalars keep the kernel cacheable on disk (constants there must be arrays)."""
    for value in (np.dtype("float32"), np.dtype("int64"), tl.float32, -0.0, NEG_NAN, 10 ** 5000):
        consts = {}
        lowering.literal(value, consts)
        assert not consts, value
    x = tl.ones(3)
    for f in (lambda x: x.double() + tl.full((3,), -0.0, dtype=tl.float64),
              lambda x: tl.clamp(x, min=NEG_NAN) * np.float32(-0.0)):
        art = compile_fx_graph(fxlite.make_fx(f)(x), [x]).artifact
        assert art.cacheable and all(isinstance(v, np.ndarray) for v in art.consts.values())
        assert_exact(compile_fx_graph(fxlite.make_fx(f)(x), [x])(x), f(x))
