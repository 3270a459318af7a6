"""The shortcuts taken to keep capture cheap (benchmarks/capture.py) agree with the general
code they stand in for: stack-trace text, argument binding, fxlite name legality, broadcast
shapes and fake arrays."""
import builtins
import functools
import inspect
import keyword
import traceback

import numpy as np
import pytest

import tensorlite as tl
from fxlite.graph import _Namespace
from minidynamo.symbolic_convert import _bound_arguments, format_frame, simple_positional_call
from tensorlite._modes import fake_array
from tensorlite._prims import broadcast_shapes


@pytest.mark.parametrize("filename,lineno,name,line", [
    ("a.py", 3, "f", "x = x + 1"), ("<chain_10>", 2, "chain_10", ""),
    ("/x/y.py", 10, "<lambda>", "lambda x: {a}"), ("<stdin>-3", 1, "g", "y"),
    ("f.py", 1, "g", "if a:  # c"), ("t.py", 99999, "h", "return {'a': \"b\"}")])
def test_format_frame_is_traceback_format_list(filename, lineno, name, line):
    ref = "".join(traceback.format_list([traceback.FrameSummary(filename, lineno, name, line=line)]))
    assert format_frame(filename, lineno, name, line) == ref


def _f1(a, b):
    return a


def _f2(a, b=2):
    return a


def _f3(a, *args):
    return a


def _f4(a, *, k):
    return a


def _f5(a, **kw):
    return a


def _f6(a, b, /):
    return a


@functools.wraps(_f1)
def _wrapped(*args):
    return args


@pytest.mark.parametrize("fn,args,kwargs", [
    (_f1, (1, 2), {}), (_f1, (1,), {"b": 2}), (_f2, (1,), {}), (_f2, (1, 3), {}),
    (_f3, (1, 2, 3), {}), (_f4, (1,), {"k": 2}), (_f5, (1,), {"z": 3}), (_f6, (1, 2), {}),
    (lambda: 0, (), {}), (_wrapped, (1, 2), {})])
def test_bound_arguments_match_inspect(fn, args, kwargs):
    # the frame's own parameters: a functools.wraps wrapper binds *args, not the wrapped
    # function's parameters (its frame has no locals named after them)
    sig = inspect.signature(fn, follow_wrapped=False)
    ba = sig.bind(*args, **kwargs)
    ba.apply_defaults()
    assert _bound_arguments(fn, args, kwargs) == {n: ba.arguments[n] for n in sig.parameters}
    if simple_positional_call(fn, args, kwargs):
        assert list(ba.arguments) == list(fn.__code__.co_varnames[:len(args)])


def test_simple_positional_call_is_narrow():
    assert simple_positional_call(_f1, (1, 2), {})
    assert simple_positional_call(_f6, (1, 2), {})
    assert not simple_positional_call(_f1, (1,), {"b": 2})
    assert not simple_positional_call(_f2, (1,), {})
    assert not simple_positional_call(_f3, (1,), {})
    assert not simple_positional_call(_f4, (1,), {})
    assert not simple_positional_call(_f5, (1,), {})
    assert not simple_positional_call(_wrapped, (1, 2), {})  # __wrapped__ changes the signature
    assert not simple_positional_call(functools.partial(_f1, 1), (2,), {})


@pytest.mark.parametrize("name", ["x", "add", "add_1", "self", "tl", "inf", "nan", "operator",
                                  "len", "print", "class", "lambda", "__name__", "__class__",
                                  "__dict__", "__spec__", "__loader__", "__x__", "_x", "sum_3"])
def test_name_legality_matches_definition(name):
    expected = keyword.iskeyword(name) or hasattr(builtins, name) or \
        name in ("self", "tl", "operator", "inf", "nan")
    assert _Namespace._illegal(name) == expected
    assert _Namespace._illegal(name) == expected  # remembered


@pytest.mark.parametrize("a,b", [((2, 3), (2, 3)), ((), (4,)), ((4,), ()), ((), ()),
                                 ((2, 1), (1, 3)), ((3,), (2, 3)), ((0,), (0,)), ((0,), ())])
def test_broadcast_shapes_fast_paths(a, b):
    assert broadcast_shapes(a, b) == np.broadcast_shapes(a, b)
    assert type(broadcast_shapes(a, b)) is tuple


def test_broadcast_shapes_still_reports_mismatch():
    with pytest.raises(RuntimeError):
        broadcast_shapes((2,), (3,))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_, np.complex64])
@pytest.mark.parametrize("shape", [(), (3,), (0, 2), (4096, 4096), (1, 0, 5), [np.int64(2), 3]])
def test_fake_array_is_as_strided(dtype, shape):
    a = fake_array(shape, dtype)
    from tensorlite._modes import _sentinel
    ref = np.lib.stride_tricks.as_strided(_sentinel(np.dtype(dtype)), tuple(int(s) for s in shape),
                                          (0,) * len(shape))
    assert a.shape == ref.shape and a.strides == ref.strides and a.dtype == ref.dtype
    assert a.flags.writeable and a.flags.c_contiguous == ref.flags.c_contiguous
    assert a.__array_interface__["data"][0] == ref.__array_interface__["data"][0]
    from tensorlite._modes import _is_fake_array
    assert _is_fake_array(a)


def test_fake_mode_records_autograd_only_for_grad_inputs():
    from tensorlite._modes import FakeTensorMode
    with FakeTensorMode() as m:
        x = m.from_real(tl.ones(3, requires_grad=True))
        y = m.from_real(tl.ones(3))
        assert (x + 1.0).grad_fn is not None
        assert (y + 1.0).grad_fn is None and not (y * y).requires_grad
