"""Python's operators on trackers where a container is involved: `in` (contains), `a op= b`
(inplace) and `a op b` (container_binary_op); `is` is the interpreter's `identical`.

The interpreter calls them for CONTAINS_OP and BINARY_OP; the operator module's
functions (operator.is_, operator.contains, operator.iadd, ...) reach them through
builtins_impl.py. A result is a new tracker made as CPython makes it, never a folded container.
"""
import operator

from .base import ConstantVariable, UserError, unsupported
from .containers import ContainerVariable, is_plain_constant, values_equal
from .dicts import DictVariable, DictViewVariable
from .iterators import IteratorVariable
from .lists import ListVariable, TupleVariable
from .sets import SetVariable
from .tensor import TensorVariable


def contains(tx, container, item):
    """`item in container` for trackers: True/False, or Unsupported."""
    if isinstance(container, IteratorVariable):
        unsupported("`in` an iterator (it consumes the iterator)")
    if isinstance(container, TensorVariable):
        unsupported("`in` a tensor compares tensor values")
    if isinstance(container, ContainerVariable):
        return container.contains(tx, item)
    if is_plain_constant(container):
        if not is_plain_constant(item):
            unsupported("`in` with a value that is traced or has a user-defined __eq__")
        try:
            return item.as_python_constant() in container.as_python_constant()
        except TypeError as e:
            raise UserError(e)
    return bool(container.call_method(tx, "__contains__", [item], {}).as_python_constant())


def inplace(tx, fn, a, b):
    """a op= b for a list, set or dict tracker (changed in place, itself returned), else None."""
    if isinstance(a, ListVariable):
        name = {operator.iadd: "__iadd__", operator.imul: "__imul__"}.get(fn)
        if name is not None:
            return a.call_method(tx, name, [b], {})
    if isinstance(a, SetVariable):
        name = {operator.ior: "update", operator.iand: "intersection_update", operator.isub: "difference_update",
                operator.ixor: "symmetric_difference_update"}.get(fn)
        if name is None:
            return None
        if isinstance(b, SetVariable) or (is_plain_constant(b) and not isinstance(b, ContainerVariable) and
                                          isinstance(b.as_python_constant(), (set, frozenset))):
            a.call_method(tx, name, [b], {})
            return a
        if isinstance(b, ContainerVariable) or is_plain_constant(b):
            raise UserError(TypeError(f"unsupported operand type(s) for {fn.__name__}: 'set' and "
                                      f"'{b.python_type().__name__}'"))
        unsupported(f"set {fn.__name__} {type(b).__name__}")
    if isinstance(a, DictVariable) and fn is operator.ior:
        a.call_method(tx, "update", [b], {})
        return a
    return None


def _set_like(v):
    """The real set or frozenset a tracker is, for set operators (None when it is not one)."""
    if isinstance(v, SetVariable):
        return v.real
    if isinstance(v, DictViewVariable) and v.kind != "values" and v.is_python_constant():
        return v.as_python_constant()
    if is_plain_constant(v) and not isinstance(v, ContainerVariable) and \
            isinstance(v.as_python_constant(), frozenset):
        return v.as_python_constant()
    return None


def container_binary_op(tx, fn, a, b):
    """`a <op> b` when an operand is a container tracker: a new tracker, made as CPython makes
    the result (a new list of the same items, a set with CPython's order...), never a folded
    container shared by every call; None when it is not such a case (a user's __radd__...)."""
    if not (isinstance(a, ContainerVariable) or isinstance(b, ContainerVariable)):
        return None
    handler = _BINARY_OPS.get(fn)
    return None if handler is None else handler(tx, fn, a, b)


_SEQ = (ListVariable, TupleVariable)


def _concat(tx, fn, a, b):
    """a + b of lists and tuples."""
    if isinstance(a, _SEQ):
        if isinstance(b, _SEQ) and a.kind is b.kind:
            return ListVariable(a.items + b.items) if a.kind is list else TupleVariable(a.items + b.items)
        if a.kind is tuple and is_plain_constant(b) and type(b.as_python_constant()) is tuple:
            return TupleVariable(a.items + [ConstantVariable(v) for v in b.as_python_constant()])
        if isinstance(b, ContainerVariable) or is_plain_constant(b):
            raise UserError(TypeError(f"can only concatenate {a.kind.__name__} (not "
                                      f"\"{b.python_type().__name__}\") to {a.kind.__name__}"))
        return None
    if type(b) is TupleVariable and is_plain_constant(a) and type(a.as_python_constant()) is tuple:
        return TupleVariable([ConstantVariable(v) for v in a.as_python_constant()] + b.items)
    return None


def _repeat(tx, fn, a, b):
    """a * n, n * a of a list or tuple."""
    if not (isinstance(a, _SEQ) or isinstance(b, _SEQ)):
        return None
    s, n = (a, b) if isinstance(a, _SEQ) else (b, a)
    if not is_plain_constant(n):
        return None
    k = n.as_python_constant()
    if not isinstance(k, int):
        raise UserError(TypeError(f"can't multiply sequence by non-int of type '{type(k).__name__}'"))
    return ListVariable(s.items * k) if s.kind is list else TupleVariable(s.items * k)


def _set_operator(tx, fn, a, b):
    """|, &, -, ^ where an operand is a set or a dict view; a dict | a dict."""
    if isinstance(a, (SetVariable, DictViewVariable)) or isinstance(b, (SetVariable, DictViewVariable)):
        return _set_op(fn, a, b)
    if fn is operator.or_ and isinstance(a, DictVariable):
        return _dict_or(a, b)
    return None


def _set_op(fn, a, b):
    x, y = _set_like(a), _set_like(b)
    if isinstance(a, DictViewVariable) or isinstance(b, DictViewVariable):
        # a view with any iterable: the real operation on a view of an equal dict
        if isinstance(a, DictViewVariable) and a.is_python_constant() and is_plain_constant(b):
            return _set_result(fn(a.as_python_constant(), b.as_python_constant()), [a, b])
        if isinstance(b, DictViewVariable) and b.is_python_constant() and is_plain_constant(a):
            return _set_result(fn(a.as_python_constant(), b.as_python_constant()), [a, b])
        unsupported("a set operation on a dict view of values that are not plain constants")
    if x is None or y is None:
        if isinstance(a, ContainerVariable) and isinstance(b, ContainerVariable) or \
                is_plain_constant(a) and is_plain_constant(b):
            raise UserError(TypeError(f"unsupported operand type(s) for {_SET_OPS[fn]}: "
                                      f"'{a.python_type().__name__}' and '{b.python_type().__name__}'"))
        return None
    for v in (a, b):
        if isinstance(v, SetVariable) and not v.ordered:
            unsupported("a set operation on a set whose order is not known at trace time")
    return _set_result(fn(x, y), [a, b])


def _dict_or(a, b):
    if isinstance(b, DictVariable):
        # dict | OrderedDict is OrderedDict.__ror__'s: an OrderedDict, in the same order
        cls = a.dict_cls if a.dict_cls is not dict else b.dict_cls
        return DictVariable({**a.items, **b.items}, dict_cls=cls)
    if isinstance(b, ContainerVariable) or is_plain_constant(b):
        raise UserError(TypeError(f"unsupported operand type(s) for |: '{a.python_type().__name__}' and "
                                  f"'{b.python_type().__name__}'"))
    return None


def _compare(tx, fn, a, b):
    """==, !=, <, <=, >, >=: folded for plain constants; == and != of lists and tuples item by item."""
    if is_plain_constant(a) and is_plain_constant(b):
        try:
            return ConstantVariable(fn(a.as_python_constant(), b.as_python_constant()))
        except Exception as e:  # noqa: BLE001
            raise UserError(e)
    if fn in (operator.eq, operator.ne) and isinstance(a, _SEQ) and isinstance(b, _SEQ):
        if a.kind is not b.kind or len(a.items) != len(b.items):
            eq = False
        else:
            eq = all(values_equal(tx, x, y) for x, y in zip(a.items, b.items))
        return ConstantVariable(eq == (fn is operator.eq))
    return None


_SET_OPS = {operator.or_: "|", operator.and_: "&", operator.sub: "-", operator.xor: "^"}
_BINARY_OPS = {
    operator.add: _concat,
    operator.mul: _repeat,
    **dict.fromkeys(_SET_OPS, _set_operator),
    **dict.fromkeys((operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge), _compare),
}


def _set_result(real, operands):
    """A set (a new SetVariable, in the real result's order) or a frozenset constant."""
    if isinstance(real, frozenset):
        return ConstantVariable(real)
    maps = [v.members for v in operands if isinstance(v, SetVariable)]
    return SetVariable([])._result(real, maps, True)
