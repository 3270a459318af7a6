"""How builtins behave on trackers: folded on constants, traced on tensors, structural on
containers."""
import builtins
import operator

import tensorlite as tl

from .base import ConstantVariable, UserError, VariableTracker, unsupported
from .containers import (BaseListVariable, DictVariable, IteratorVariable, ListVariable, SetVariable,
                         TupleVariable)
from .functions import PURE_BUILTINS, PURE_MODULES, _all_const, _consts, _has_tensor
from .tensor import TensorVariable

_TENSOR_OPERATORS = {
    operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.mod,
    operator.pow, operator.matmul, operator.neg, operator.pos, operator.abs, operator.invert,
    operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge, operator.and_,
    operator.or_, operator.xor, operator.getitem, abs,
}


_PURE_MODULE_NAMES = {m.__name__ for m in PURE_MODULES} | {"_operator"}


def _iter_items(tx, v):
    if isinstance(v, IteratorVariable):
        return v.unpack(tx)
    return v.unpack(tx)


def call_builtin(tx, fn, args, kwargs):
    # tensors: record the operation
    if fn in _TENSOR_OPERATORS and _has_tensor(args):
        if fn is abs:
            fn = operator.abs
        return tx.output.tensor_op(tx, "call_function", fn, args, kwargs)
    handler = _HANDLERS.get(fn)
    if handler is not None:
        r = handler(tx, args, kwargs)
        if r is not NotImplemented:
            return r
    if _all_const(args, kwargs) and (fn in PURE_BUILTINS or getattr(fn, "__module__", None) in
                                     _PURE_MODULE_NAMES or getattr(fn, "__self__", None) in PURE_MODULES):
        a, k = _consts(args, kwargs)
        try:
            r = fn(*a, **k)
        except Exception as e:
            raise UserError(e)
        from .builder import wrap_constant_result
        return wrap_constant_result(tx, r)
    if fn is print:
        unsupported("call to builtin print() (a side effect that must run eagerly)")
    unsupported(f"call to builtin {getattr(fn, '__qualname__', fn)} with arguments "
                f"({', '.join(type(a).__name__ for a in args)})")


def _len(tx, args, kwargs):
    (v,) = args
    if isinstance(v, (BaseListVariable, DictVariable)):
        return ConstantVariable(len(v.items))
    if isinstance(v, TensorVariable):
        if v.example.ndim == 0:
            raise UserError(TypeError("len() of a 0-d tensor"))
        v._specialize_shape(tx)
        return ConstantVariable(v.example.shape[0])
    if v.is_python_constant():
        return NotImplemented
    return v.call_method(tx, "__len__", [], {})


def _isinstance(tx, args, kwargs):
    obj, cls = args
    c = cls.as_python_constant()
    t = obj.python_type()
    try:
        return ConstantVariable(issubclass(t, c))
    except TypeError as e:
        raise UserError(e)


def _minmax(fn):
    def impl(tx, args, kwargs):
        if len(args) == 1:
            items = _iter_items(tx, args[0])
        else:
            items = args
        if all(i.is_python_constant() for i in items) and _all_const([], kwargs):
            try:
                return ConstantVariable(fn([i.as_python_constant() for i in items], **_consts([], kwargs)[1]))
            except Exception as e:
                raise UserError(e)
        if any(isinstance(i, TensorVariable) for i in items):
            unsupported(f"{fn.__name__}() over tensors compares tensor values (data-dependent)")
        return NotImplemented
    return impl


def _range(tx, args, kwargs):
    a, k = _consts(args, kwargs)
    try:
        return ConstantVariable(range(*a, **k))
    except Exception as e:
        raise UserError(e)


def _zip(tx, args, kwargs):
    if kwargs.get("strict"):
        unsupported("zip(strict=True)")
    seqs = [_iter_items(tx, a) for a in args]
    n = min((len(s) for s in seqs), default=0)
    return IteratorVariable([TupleVariable([s[i] for s in seqs]) for i in range(n)])


def _enumerate(tx, args, kwargs):
    start = args[1].as_python_constant() if len(args) > 1 else kwargs.get("start", ConstantVariable(0)).as_python_constant()
    items = _iter_items(tx, args[0])
    return IteratorVariable([TupleVariable([ConstantVariable(start + i), v]) for i, v in enumerate(items)])


def _reversed(tx, args, kwargs):
    return IteratorVariable(list(reversed(_iter_items(tx, args[0]))))


def _iter(tx, args, kwargs):
    v = args[0]
    if isinstance(v, IteratorVariable):
        return v
    return IteratorVariable(_iter_items(tx, v))


def _next(tx, args, kwargs):
    it = args[0]
    if not isinstance(it, IteratorVariable):
        unsupported("next() on a non-iterator")
    v = it.next_item()
    if v is None:
        if len(args) > 1:
            return args[1]
        raise UserError(StopIteration())
    return v


def _list(tx, args, kwargs):
    if not args:
        return ListVariable([])
    return ListVariable(_iter_items(tx, args[0]))


def _tuple(tx, args, kwargs):
    if not args:
        return TupleVariable([])
    v = args[0]
    if isinstance(v, TupleVariable) and type(v) is TupleVariable:
        return v
    return TupleVariable(_iter_items(tx, v))


def _dict(tx, args, kwargs):
    items = {}
    if args:
        src = args[0]
        if isinstance(src, DictVariable):
            items.update(src.items)
        else:
            for kv in _iter_items(tx, src):
                k, v = kv.unpack(tx)
                items[k.as_python_constant()] = v
    items.update(kwargs)
    return DictVariable(items)


def _set(tx, args, kwargs):
    return SetVariable(_iter_items(tx, args[0]) if args else [])


def _getattr(tx, args, kwargs):
    obj, name = args[0], args[1].as_python_constant()
    if len(args) > 2:
        try:
            return obj.var_getattr(tx, name)
        except UserError as e:
            if isinstance(e.exc, AttributeError):
                return args[2]
            raise
    return obj.var_getattr(tx, name)


def _hasattr(tx, args, kwargs):
    obj, name = args[0], args[1].as_python_constant()
    try:
        obj.var_getattr(tx, name)
        return ConstantVariable(True)
    except UserError as e:
        if isinstance(e.exc, AttributeError):
            return ConstantVariable(False)
        raise


def _sum(tx, args, kwargs):
    items = _iter_items(tx, args[0])
    start = args[1] if len(args) > 1 else kwargs.get("start", ConstantVariable(0))
    if all(i.is_python_constant() for i in items) and start.is_python_constant():
        return NotImplemented
    acc = start
    for it in items:
        acc = tx.binary_op(operator.add, acc, it)
    return acc


def _map(tx, args, kwargs):
    fn = args[0]
    seqs = [_iter_items(tx, a) for a in args[1:]]
    n = min(len(s) for s in seqs)
    return IteratorVariable([fn.call_function(tx, [s[i] for s in seqs], {}) for i in range(n)])


def _filter(tx, args, kwargs):
    fn = args[0]
    out = []
    for it in _iter_items(tx, args[1]):
        keep = it if fn.is_python_constant() and fn.as_python_constant() is None else fn.call_function(tx, [it], {})
        if keep.truthy(tx):
            out.append(it)
    return IteratorVariable(out)


def _any_all(fn):
    def impl(tx, args, kwargs):
        items = _iter_items(tx, args[0])
        vals = [i.truthy(tx) for i in items]
        return ConstantVariable(fn(vals))
    return impl


def _bool(tx, args, kwargs):
    if not args:
        return ConstantVariable(False)
    return ConstantVariable(args[0].truthy(tx))


def _type(tx, args, kwargs):
    if len(args) != 1:
        return NotImplemented
    from .builder import VariableBuilder
    return VariableBuilder(tx, None).wrap(args[0].python_type())


def _callable(tx, args, kwargs):
    v = args[0]
    if v.is_python_constant():
        return NotImplemented
    from ..exc import Unsupported
    from .functions import BaseUserFunction, BuiltinVariable, TLFunctionVariable, UserMethodVariable
    try:
        t = v.python_type()
    except Unsupported:
        return ConstantVariable(isinstance(v, (BaseUserFunction, BuiltinVariable, TLFunctionVariable,
                                               UserMethodVariable)))
    return ConstantVariable(hasattr(t, "__call__"))


def _sorted(tx, args, kwargs):
    items = _iter_items(tx, args[0])
    if all(i.is_python_constant() for i in items) and _all_const([], kwargs):
        try:
            return ListVariable([ConstantVariable(v) for v in sorted([i.as_python_constant() for i in items],
                                                                      **_consts([], kwargs)[1])])
        except Exception as e:
            raise UserError(e)
    key = kwargs.get("key")
    reverse = kwargs.get("reverse", ConstantVariable(False))
    if set(kwargs) - {"key", "reverse"} or not reverse.is_python_constant():
        unsupported("sorted() with unsupported arguments")
    if key is None or (key.is_python_constant() and key.as_python_constant() is None):
        keys = items
    else:
        keys = [key.call_function(tx, [i], {}) for i in items]
    if not all(k.is_python_constant() for k in keys):
        unsupported("sorted() over traced values")
    kv = [k.as_python_constant() for k in keys]
    try:
        order = sorted(range(len(items)), key=kv.__getitem__, reverse=reverse.as_python_constant())
    except Exception as e:
        raise UserError(e)
    return ListVariable([items[i] for i in order])


def _float_int(fn):
    def impl(tx, args, kwargs):
        if args and isinstance(args[0], TensorVariable):
            unsupported(f"{fn.__name__}() of a tensor needs its value (data-dependent)")
        return NotImplemented
    return impl


_HANDLERS = {
    len: _len, isinstance: _isinstance, min: _minmax(min), max: _minmax(max), range: _range,
    zip: _zip, enumerate: _enumerate, reversed: _reversed, iter: _iter, next: _next,
    list: _list, tuple: _tuple, dict: _dict, set: _set, getattr: _getattr, hasattr: _hasattr,
    sum: _sum, map: _map, filter: _filter, any: _any_all(any), all: _any_all(all), bool: _bool,
    type: _type, callable: _callable, sorted: _sorted, float: _float_int(float), int: _float_int(int),
}
_ = (builtins, tl, VariableTracker)
