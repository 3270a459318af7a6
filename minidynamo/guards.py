"""Guards: data first (kind, source, expected), code second.

Each kind of guard is one row of KINDS: how it reads as Python code, in words, and why it
failed. All guards of a cache entry compile into ONE generated Python function taking the
same parameters as the user's function; the same guard data explains a failure in words
(`tensor 'x' size mismatch at index 0. expected 3, actual 4`, `n == 2`).
"""
from typing import Callable, NamedTuple

import numpy as np

import tensorlite as tl
from fxlite._source_files import compile_cached
from fxlite.codegen import literal
from tensorlite import _state as tl_state

from .namespaces import base_namespace, complex_bits, eval_namespace, float_bits, rename_code, signature_src
from .source import KEYS, show, strip_local
from .symbolic_shapes import failure_reason as shape_failure_reason


class TensorMeta(NamedTuple):
    """What a TENSOR_MATCH guard expects of a tensor; None in shape is a dynamic size."""

    dtype: np.dtype
    shape: tuple
    requires_grad: bool
    type: type


class GuardKind(NamedTuple):
    """One kind of guard: the rules that turn a guard's data into code and words."""

    name: str
    code: Callable  # (guard, consts, expr) -> a Python expression true when the guard holds
    words: Callable  # (guard, name) -> the check as str(guard) and explain print it
    failure: Callable = None  # (guard, local name, value) -> why it failed; None: its words


class Guard:
    """One fact the compiled code relies on: a kind (a name in KINDS), the source it reads
    and the value it expects there."""

    __slots__ = ("kind", "source", "expected")

    def __init__(self, kind, source, expected=None):
        if kind not in KINDS:
            raise ValueError(f"unknown guard kind {kind}")
        self.kind = kind  # a name in KINDS ("TENSOR_MATCH", "EQUALS_MATCH", ...)
        self.source = source  # where the checked value is read (None: global state)
        self.expected = expected  # what it must be (a TensorMeta for TENSOR_MATCH)

    def key(self):
        """What makes two guards the same check: kind, source name and expected value."""
        return (self.kind, self.source.name() if self.source is not None else None, _hashable(self.expected))

    def code(self, consts):
        """A Python expression that is true when the guard holds; consts collects objects."""
        return KINDS[self.kind].code(self, consts, self.source.expr() if self.source is not None else None)

    def readable(self):
        """The check in words, over source names (`len(L['xs']) == 2`)."""
        return KINDS[self.kind].words(self, self.source.name() if self.source is not None else "")

    def __str__(self):
        return f"{self.kind}: {self.readable()}"

    __repr__ = __str__

    def failure_reason(self, value):
        """Words for a failed guard, given the value now at its source."""
        failure = KINDS[self.kind].failure
        name = self.source.local_name() if self.source is not None else ""
        reason = failure(self, name, value) if failure is not None else None
        return reason if reason is not None else strip_local(self.readable())


# ---- TENSOR_MATCH ---------------------------------------------------------------------
def _tensor_code(guard, consts, e):
    m = guard.expected
    parts = [f"type({e}) is {_const(consts, m.type)}", f"{e}._data.dtype is {_const(consts, m.dtype)}",
             f"{e}._rg is {m.requires_grad}"]
    if None not in m.shape:
        parts.append(f"{e}._data.shape == {_literal(consts, tuple(m.shape))}")
    else:
        parts.append(f"len({e}._data.shape) == {len(m.shape)}")
        parts += [f"{e}._data.shape[{i}] == {s}" for i, s in enumerate(m.shape) if s is not None]
    return " and ".join(parts)


def _tensor_words(guard, n):
    m = guard.expected
    return (f"check_tensor({n}, {m.type.__name__}, tl.{tl._dtype.from_np(m.dtype).name}, "
            f"requires_grad={m.requires_grad}, size=[{', '.join(map(str, m.shape))}])")


def _tensor_failure(guard, name, value):
    m = guard.expected
    if not isinstance(value, tl.Tensor):
        return f"expected type of '{name}' to be a tensor type, but found {type(value)}"
    if type(value) is not m.type:
        return f"tensor '{name}' type mismatch. expected {m.type.__name__}, actual {type(value).__name__}"
    if value._data.dtype != m.dtype:
        return (f"tensor '{name}' dtype mismatch. expected {tl.scalar_type_name(tl._dtype.from_np(m.dtype))}, "
                f"actual {tl.scalar_type_name(value.dtype)}")
    if value.requires_grad != m.requires_grad:
        return f"tensor '{name}' requires_grad mismatch. expected requires_grad={int(m.requires_grad)}"
    if value.dim() != len(m.shape):
        return f"tensor '{name}' rank mismatch. expected {len(m.shape)}, actual {value.dim()}"
    for i, (e, a) in enumerate(zip(m.shape, value.shape)):
        if e is not None and e != a:
            return f"tensor '{name}' size mismatch at index {i}. expected {e}, actual {a}"
    return None


KINDS = {k.name: k for k in (
    GuardKind("TENSOR_MATCH", _tensor_code, _tensor_words, _tensor_failure),
    GuardKind("TYPE_MATCH", lambda g, consts, e: f"type({e}) is {_const(consts, g.expected)}",
              lambda g, n: f"type({n}) is {g.expected.__qualname__}"),
    GuardKind("ID_MATCH", lambda g, consts, e: f"{e} is {_const(consts, g.expected)}",
              lambda g, n: f"{n} is {_short_repr(g.expected)}"),
    GuardKind("EQUALS_MATCH", lambda g, consts, e: _equals_code(consts, e, g.expected),
              lambda g, n: f"{n} == {show(g.expected)}"),
    GuardKind("LENGTH_CHECK", lambda g, consts, e: f"len({e}) == {g.expected}",
              lambda g, n: f"len({n}) == {g.expected}"),
    GuardKind("DICT_KEYS", lambda g, consts, e: _dict_keys_code(consts, e, list(g.expected)),
              lambda g, n: f"list({n}.keys()) == [{', '.join(map(show, g.expected))}]"),
    GuardKind("GRAD_MODE", lambda g, consts, e: f"___st.grad_enabled is {g.expected}",
              lambda g, n: f"tl.is_grad_enabled() == {g.expected}",
              lambda g, name, value: f"grad_mode mismatch: expected {g.expected}, actual {tl_state.grad_enabled}"),
    # expected is the other source: two parameters are (or are not) the same object
    GuardKind("DUPLICATE_INPUT", lambda g, consts, e: f"{e} is {g.expected.expr()}",
              lambda g, n: f"{n} is {g.expected.name()}"),
    GuardKind("NO_DUPLICATE", lambda g, consts, e: f"{e} is not {g.expected.expr()}",
              lambda g, n: f"{n} is not {g.expected.name()}"),
    # a fact about symbolic sizes (symbolic_shapes.ShapeGuard); the source reads the sizes
    GuardKind("SHAPE_ENV", lambda g, consts, e: g.expected.code, lambda g, n: g.expected.text,
              lambda g, name, value: shape_failure_reason(g.expected, value)),
)}


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
        return f"type({e}) is float and ___float_bits({e}) == {float_bits(v)!r}"
    if t is complex:
        return f"type({e}) is complex and ___complex_bits({e}) == {complex_bits(v)!r}"
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
        ns = eval_namespace(code, fn, args, kwargs)
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
                out.append(g.failure_reason(value))
                if first_only:
                    break
        return out


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
    src = (f"def ___guard({signature_src(code, fn)}):\n"
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
