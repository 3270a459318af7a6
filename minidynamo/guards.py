"""Guards: data first (kind, source, expected), code second.

All guards of a cache entry compile into ONE generated Python function taking the same
parameters as the user's function; the same guard data explains a failure in words
(`tensor 'x' size mismatch at index 0. expected 3, actual 4`, `n == 2`).
"""
import builtins
import struct
import types

import numpy as np

import tensorlite as tl
from fxlite._source_files import compile_cached
from fxlite.codegen import literal, same  # same: shared with backends (fxlite is below both)
from tensorlite.nn.modules import module as _nn_module
from tensorlite import _state as tl_state

from .bytecode_compat import code_signature_names
from .source import KEYS, show, strip_local


class Guard:
    """One fact the compiled code relies on."""

    __slots__ = ("kind", "source", "expected", "extra", "user_line")

    def __init__(self, kind, source, expected=None, extra=None, user_line=None):
        self.kind = kind
        self.source = source
        self.expected = expected
        self.extra = extra
        self.user_line = user_line

    def key(self):
        return (self.kind, self.source.name() if self.source is not None else None, _hashable(self.expected))

    # ---- code ----------------------------------------------------------------------
    def code(self, consts):
        """A Python expression that is true when the guard holds; consts collects objects."""
        k = self.kind
        e = self.source.expr() if self.source is not None else None
        if k == "TENSOR_MATCH":
            dtype, shape, rg, typ = self.expected
            t = _const(consts, typ)
            d = _const(consts, dtype)
            parts = [f"type({e}) is {t}", f"{e}._data.dtype is {d}", f"{e}._rg is {rg}"]
            if None not in shape:
                parts.append(f"{e}._data.shape == {_literal(consts, tuple(shape))}")
            else:
                parts.append(f"len({e}._data.shape) == {len(shape)}")
                parts += [f"{e}._data.shape[{i}] == {s}" for i, s in enumerate(shape) if s is not None]
            return " and ".join(parts)
        if k == "TYPE_MATCH":
            return f"type({e}) is {_const(consts, self.expected)}"
        if k == "ID_MATCH":
            return f"{e} is {_const(consts, self.expected)}"
        if k == "EQUALS_MATCH":
            return _equals_code(consts, e, self.expected)
        if k == "LENGTH_CHECK":
            return f"len({e}) == {self.expected}"
        if k == "DICT_KEYS":
            return _dict_keys_code(consts, e, list(self.expected))
        if k == "HASATTR":
            return f"hasattr({e}, {self.expected!r})"
        if k == "NOT_HASATTR":
            return f"not hasattr({e}, {self.expected!r})"
        if k == "GRAD_MODE":
            return f"___st.grad_enabled is {self.expected}"
        if k == "EMPTY_DICT":
            return f"not {e}"
        if k == "DUPLICATE_INPUT":
            return f"{e} is {self.expected.expr()}"
        if k == "NO_DUPLICATE":
            return f"{e} is not {self.expected.expr()}"
        raise ValueError(f"unknown guard kind {k}")

    # ---- words -----------------------------------------------------------------------
    def readable(self):
        k = self.kind
        n = self.source.name() if self.source is not None else ""
        if k == "TENSOR_MATCH":
            dtype, shape, rg, typ = self.expected
            size = "[" + ", ".join("None" if s is None else str(s) for s in shape) + "]"
            return f"check_tensor({n}, {typ.__name__}, tl.{tl._dtype.from_np(dtype).name}, requires_grad={rg}, size={size})"
        if k == "TYPE_MATCH":
            return f"type({n}) is {self.expected.__qualname__}"
        if k == "ID_MATCH":
            return f"{n} is {_short_repr(self.expected)}"
        if k == "EQUALS_MATCH":
            return f"{n} == {show(self.expected)}"
        if k == "LENGTH_CHECK":
            return f"len({n}) == {self.expected}"
        if k == "DICT_KEYS":
            return f"list({n}.keys()) == [{', '.join(map(show, self.expected))}]"
        if k == "HASATTR":
            return f"hasattr({n}, {self.expected!r})"
        if k == "NOT_HASATTR":
            return f"not hasattr({n}, {self.expected!r})"
        if k == "GRAD_MODE":
            return f"tl.is_grad_enabled() == {self.expected}"
        if k == "EMPTY_DICT":
            return f"len({n}) == 0"
        if k in ("DUPLICATE_INPUT", "NO_DUPLICATE"):
            return f"{n} {'is' if k == 'DUPLICATE_INPUT' else 'is not'} {self.expected.name()}"
        return f"{k} {n}"

    def __str__(self):
        return f"{self.kind}: {self.readable()}"

    __repr__ = __str__

    def failure_reason(self, value):
        """Words for a failed guard, given the value now at its source."""
        name = self.source.local_name() if self.source is not None else ""
        if self.kind == "TENSOR_MATCH":
            return tensor_mismatch(name, value, self.expected)
        if self.kind == "GRAD_MODE":
            return f"grad_mode mismatch: expected {self.expected}, actual {tl_state.grad_enabled}"
        return strip_local(self.readable())


def tensor_mismatch(name, value, expected):
    dtype, shape, rg, typ = expected
    if not isinstance(value, tl.Tensor):
        return f"expected type of '{name}' to be a tensor type, but found {type(value)}"
    if type(value) is not typ:
        return f"tensor '{name}' type mismatch. expected {typ.__name__}, actual {type(value).__name__}"
    if value._data.dtype != dtype:
        return (f"tensor '{name}' dtype mismatch. expected {tl.scalar_type_name(tl._dtype.from_np(dtype))}, "
                f"actual {tl.scalar_type_name(value.dtype)}")
    if value.requires_grad != rg:
        return f"tensor '{name}' requires_grad mismatch. expected requires_grad={int(rg)}"
    if value.dim() != len(shape):
        return f"tensor '{name}' rank mismatch. expected {len(shape)}, actual {value.dim()}"
    for i, (e, a) in enumerate(zip(shape, value.shape)):
        if e is not None and e != a:
            return f"tensor '{name}' size mismatch at index {i}. expected {e}, actual {a}"
    return None


def _short_repr(v):
    name = getattr(v, "__qualname__", None) or getattr(v, "__name__", None)
    if name:
        return f"<{type(v).__name__} {name}>"
    return f"<{type(v).__name__} object>"


def _hashable(v):
    try:
        hash(v)
        return v
    except TypeError:
        return id(v)


def _const(consts, obj):
    for k, v in consts.items():
        if v is obj:
            return k
    name = f"___c{len(consts)}"
    consts[name] = obj
    return name


def _literal(consts, v):
    """v as text in guard code: its literal when one reads back as exactly v (exact types
    only: an IntFlag member's repr is no expression), else a name bound to v."""
    text = literal(v)
    return text if text is not None else _const(consts, v)


_pack_d = struct.Struct("<d").pack
_pack_dd = struct.Struct("<dd").pack
_PLAIN = (int, str, bytes)  # exact types whose == is identity of behaviour


def _equals_code(consts, e, v):
    """A guard expression true exactly when the value of e behaves as v: same exact type
    and same value, where `==` is not coarser than behaviour (0.0 == -0.0, nan != nan,
    range(0) == range(-10), 1 == 1.0 == True). Other types (enum and IntFlag members,
    instances of subclasses of int, str, float) are matched by identity."""
    t = type(v)
    if v is None or t is bool or v is Ellipsis or v is NotImplemented:
        return f"{e} is {_literal(consts, v)}"
    if t in _PLAIN:
        return f"type({e}) is {t.__name__} and {e} == {_literal(consts, v)}"
    if t is float:
        if v != 0.0 and v == v:  # nonzero and not nan: equal floats are the same float
            return f"type({e}) is float and {e} == {_literal(consts, v)}"
        return f"type({e}) is float and ___float_bits({e}) == {_pack_d(v)!r}"
    if t is complex:
        return f"type({e}) is complex and ___complex_bits({e}) == {_pack_dd(v.real, v.imag)!r}"
    if t is range:
        return (f"type({e}) is range and ({e}.start, {e}.stop, {e}.step) == "
                f"{_literal(consts, (v.start, v.stop, v.step))}")
    if t in (tuple, frozenset, slice) or isinstance(v, (np.generic, np.dtype)):
        return f"___same({e}, {_const(consts, v)})"
    return f"{e} is {_const(consts, v)}"


def _dict_keys_code(consts, e, keys):
    """list(e.keys()) == keys, with the keys' exact types (True == 1 == 1.0 as keys), and
    float keys told apart by sign (0.0 and -0.0)."""
    types_ok = f"tuple(map(type, {e})) == {_const(consts, tuple(map(type, keys)))}" if keys else None
    if all(type(k) in (str, int, bool, type(None)) or (type(k) is float and k != 0.0 and k == k)
           for k in keys):
        eq = f"list({e}.keys()) == [{', '.join(_literal(consts, k) for k in keys)}]"
        return f"{eq} and {types_ok}" if types_ok else eq
    return f"___same(tuple({e}), {_const(consts, tuple(keys))})"


class GuardSet:
    """The guards of one cache entry, compiled into a single check function."""

    def __init__(self, guards, code, fn, extra_ns=None):
        self.extra_ns = extra_ns or {}
        if fn is not None and (fn.__defaults__ or fn.__kwdefaults__):
            # the guard and transformed functions bind defaults captured now: a function
            # whose defaults were reassigned is another program
            for attr in ("__defaults__", "__kwdefaults__"):
                if getattr(fn, attr):
                    guards.insert(0, Guard("ID_MATCH", FunctionAttrSource(code.co_name, attr), getattr(fn, attr)))
        self.guards = guards
        self.check_fn = _compile_check(guards, code, fn, self.extra_ns)

    def __call__(self, /, *args, **kwargs):
        return self.check_fn(*args, **kwargs)

    def failures(self, args, kwargs, code, fn, first_only=True):
        """Reasons why the guards fail for these arguments (the first, or all)."""
        ns = _eval_namespace(code, fn, args, kwargs)
        ns.update(self.extra_ns)
        out = []
        for g in self.guards:
            try:
                ok = eval(g.code(ns_consts := {}), {**ns, **ns_consts})  # noqa: S307
            except Exception:
                ok = False
            if not ok:
                try:
                    value = eval(g.source.expr(), ns) if g.source is not None else None  # noqa: S307
                except Exception:
                    value = None
                out.append(g.failure_reason(value) or strip_local(g.readable()))
                if first_only:
                    break
        return out


def _signature_src(code, fn, prefix="___"):
    """Parameter list text with defaults bound to names in the namespace."""
    pos, varargs, kwonly, varkw = code_signature_names(code)
    defaults = fn.__defaults__ or () if fn is not None else ()
    kwdefaults = (fn.__kwdefaults__ or {}) if fn is not None else {}
    parts = []
    nd = len(defaults)
    for i, name in enumerate(pos):
        j = i - (len(pos) - nd)
        parts.append(f"{name}={prefix}defaults[{j}]" if j >= 0 else name)
        if i + 1 == code.co_posonlyargcount:
            parts.append("/")
    if varargs:
        parts.append(f"*{varargs}")
    elif kwonly:
        parts.append("*")
    for name in kwonly:
        parts.append(f"{name}={prefix}kwdefaults[{name!r}]" if name in kwdefaults else name)
    if varkw:
        parts.append(f"**{varkw}")
    return ", ".join(parts)


def base_namespace(fn):
    g = fn.__globals__ if fn is not None else {}
    b = g.get("__builtins__", builtins)
    if not isinstance(b, dict):
        b = b.__dict__
    cells = {}
    if fn is not None and fn.__closure__:
        cells = dict(zip(fn.__code__.co_freevars, fn.__closure__))
    return {"___G": g, "___B": b, "___cells": cells, "___st": tl_state,
            "___defaults": (fn.__defaults__ or ()) if fn is not None else (),
            "___kwdefaults": (fn.__kwdefaults__ or {}) if fn is not None else {},
            "Tensor": tl.Tensor, "___nn_module_globals": _nn_module, "___fn": fn,
            "___make_cell": types.CellType, "___K": KEYS, "___same": same,
            "___float_bits": _pack_d, "___complex_bits": _complex_bits}


def _complex_bits(c):
    return _pack_dd(c.real, c.imag)


class FunctionAttrSource:
    """An attribute of the compiled function itself (its __defaults__)."""

    def __init__(self, fn_name, attr):
        self.fn_name = fn_name
        self.attr = attr

    def name(self):
        return f"{self.fn_name}.{self.attr}"

    def expr(self):
        return f"___fn.{self.attr}"

    def local_name(self):
        return self.name()


def _compile_check(guards, code, fn, extra_ns=None):
    consts = {}
    parts = [f"({g.code(consts)})" for g in guards]
    body = " and ".join(parts) if parts else "True"
    src = (f"def ___guard({_signature_src(code, fn)}):\n"
           f"    try:\n        return {body}\n    except Exception:\n        return False\n")
    ns = base_namespace(fn)
    ns.update(extra_ns or {})
    ns.update(consts)
    ns["___K"] = KEYS.bind(src)  # the entry holds its own keys (source.KeyTable)
    exec(compile_cached(src, f"<guards for {code.co_name}>"), ns)  # noqa: S102
    check = ns["___guard"]
    rename_code(check, code)
    check.source = src
    return check


_RENAMED = {}  # (id of a generated code object, name, qualname) -> (that code: kept alive, so the
#               id stays its own, renamed code). Generated code is shared per text, so is this


def rename_code(f, code):
    """Give a generated function the name of the user's function (so that argument errors
    read exactly as Python's own: `f() takes 1 positional argument but 2 were given`)."""
    key = (id(f.__code__), code.co_name, code.co_qualname)
    hit = _RENAMED.get(key)
    if hit is None:
        if len(_RENAMED) >= 1024:
            _RENAMED.clear()
        hit = _RENAMED[key] = (f.__code__, f.__code__.replace(co_name=code.co_name, co_qualname=code.co_qualname))
    f.__code__ = hit[1]
    f.__name__ = code.co_name
    f.__qualname__ = code.co_qualname


def _eval_namespace(code, fn, args, kwargs):
    ns = base_namespace(fn)
    src = f"def ___bind({_signature_src(code, fn)}):\n    return dict(locals())\n"
    exec(compile(src, "<bind>", "exec"), ns)  # noqa: S102
    ns.update(ns["___bind"](*args, **kwargs))
    return ns
