"""How builtins behave on trackers: folded on constants, traced on tensors, structural on
containers.

Folding runs the real builtin on constant values at trace time. That is exact only when it
runs no user code and its result cannot alias a container the program holds, so: arguments
must be plain constants (containers.plain_value), a fold over a container tracker must give
an atomic value (a number, a string, a tuple of those...), and builtins that change or
identify their arguments (operator.setitem, operator.iadd, id, operator.is_) act on the
trackers instead. Builtins that consume iterators (zip, map, filter, enumerate, any, all, ...)
pull from them one item at a time, as CPython does.
"""
import operator


from .base import ConstantVariable, UserError, unsupported
from .containers import ContainerVariable, has_container, is_plain_constant
from .dicts import DictVariable, DictViewVariable
from .functions import PURE_BUILTINS, PURE_MODULES, _all_const, _consts, _has_tensor
from .iterators import (ConstantIteratorVariable, DictIteratorVariable, EnumerateVariable, FilterVariable,
                        IteratorVariable, ListReverseIteratorVariable, MapVariable, ZipVariable)
from .lists import BaseListVariable, ListVariable, TupleVariable, sort_keys
from .operators import contains, inplace
from .sets import SetVariable
from .sym import SymNodeVariable, builtin as sym_builtin
from .tensor import TensorVariable

_TENSOR_OPERATORS = {
    operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.mod,
    operator.pow, operator.matmul, operator.neg, operator.pos, operator.abs, operator.invert,
    operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge, operator.and_,
    operator.or_, operator.xor, operator.getitem, abs,
}


_PURE_MODULE_NAMES = {m.__name__ for m in PURE_MODULES} | {"_operator"}

# values whose folded result stands for nothing the program holds
_ATOMIC = (int, float, complex, bool, str, bytes, type(None), range, type(Ellipsis), type(NotImplemented))


def _atomic(value, depth=0):
    if type(value) in _ATOMIC:
        return True
    if depth > 64:
        return False
    if type(value) in (tuple, frozenset):
        return all(_atomic(v, depth + 1) for v in value)
    if type(value) is slice:
        return all(_atomic(v, depth + 1) for v in (value.start, value.stop, value.step))
    return False


def _iter_items(tx, v):
    """Everything an iterable tracker yields (an iterator is drained)."""
    return v.unpack(tx)


def get_iter(tx, v):
    """iter(v) as a tracker, as GET_ITER makes it."""
    if isinstance(v, IteratorVariable):
        return v
    if isinstance(v, ContainerVariable):
        return v.iter_variable(tx)
    if is_plain_constant(v):
        value = v.as_python_constant()
        if type(value) in (range, str, bytes, tuple, frozenset):
            return ConstantIteratorVariable(value)
    if isinstance(v, TensorVariable) or v.is_python_constant():
        return IteratorVariable(v.unpack(tx))
    it = v.call_method(tx, "__iter__", [], {})
    return it if isinstance(it, IteratorVariable) else IteratorVariable(it.unpack(tx))


def call_builtin(tx, fn, args, kwargs):
    if tx.output.shape_env.symbols and any(isinstance(a, SymNodeVariable) for a in args):
        r = sym_builtin(tx, fn, args, kwargs)  # min/max/int/abs of sizes stay symbolic
        if r is not None:
            return r
    # tensors: record the operation
    if fn in _TENSOR_OPERATORS and _has_tensor(args):
        if fn is abs:
            fn = operator.abs
        return tx.output.tensor_op(tx, "call_function", fn, args, kwargs)
    handler = _HANDLERS.get(fn)
    if handler is None and getattr(fn, "__module__", None) == "_operator":
        # another import of _operator (test.support's import_fresh_module): the same function
        handler = _HANDLERS.get(getattr(operator, getattr(fn, "__name__", ""), None))
    if handler is not None:
        r = handler(tx, args, kwargs)
        if r is not NotImplemented:
            return r
    if _all_const(args, kwargs) and (fn in PURE_BUILTINS or getattr(fn, "__module__", None) in
                                     _PURE_MODULE_NAMES or getattr(fn, "__self__", None) in PURE_MODULES):
        return _fold(tx, fn, args, kwargs)
    if fn is print:
        unsupported("call to builtin print() (a side effect that must run eagerly)")
    unsupported(f"call to builtin {getattr(fn, '__qualname__', fn)} with arguments "
                f"({', '.join(type(a).__name__ for a in args)})")


def _fold(tx, fn, args, kwargs):
    """fn run on the arguments' values at trace time (see the module's docstring)."""
    values = list(args) + list(kwargs.values())
    if not all(is_plain_constant(a) for a in values):
        unsupported(f"{getattr(fn, '__qualname__', fn)}() of a value whose methods are user code")
    a, k = _consts(args, kwargs)
    try:
        r = fn(*a, **k)
    except Exception as e:
        raise UserError(e)
    if any(has_container(v) for v in values):
        if not _atomic(r):
            unsupported(f"{getattr(fn, '__qualname__', fn)}() of a container: its result could share "
                        "objects with the container")
        if _consts(args, kwargs) != (a, k):
            unsupported(f"{getattr(fn, '__qualname__', fn)}() changed a container it was given")
    from .builder import wrap_constant_result
    return wrap_constant_result(tx, r)


def _arity(name, args, lo, hi):
    if not lo <= len(args) <= hi:
        raise UserError(TypeError(f"{name} expected from {lo} to {hi} arguments, got {len(args)}"))


def _no_kwargs(name, kwargs):
    if kwargs:
        raise UserError(TypeError(f"{name}() takes no keyword arguments"))


def _len(tx, args, kwargs):
    _no_kwargs("len", kwargs)
    _arity("len", args, 1, 1)
    (v,) = args
    if isinstance(v, (BaseListVariable, DictVariable)):
        return ConstantVariable(len(v.items))
    if isinstance(v, SetVariable):
        return ConstantVariable(len(v.real))
    if isinstance(v, DictViewVariable):
        return ConstantVariable(len(v.dict_vt.items))
    if isinstance(v, IteratorVariable):
        raise UserError(TypeError("object of type 'iterator' has no len()"))
    if isinstance(v, TensorVariable):
        if v.example.ndim == 0:
            raise UserError(TypeError("len() of a 0-d tensor"))
        return v.call_method(tx, "__len__", [], {})
    if v.is_python_constant():
        return NotImplemented
    return v.call_method(tx, "__len__", [], {})


def _isinstance(tx, args, kwargs):
    _no_kwargs("isinstance", kwargs)
    _arity("isinstance", args, 2, 2)
    obj, cls = args
    c = cls.as_python_constant()
    t = obj.python_type()
    try:
        return ConstantVariable(issubclass(t, c))
    except TypeError as e:
        raise UserError(e)


def _minmax(fn):
    name = fn.__name__

    def impl(tx, args, kwargs):
        if not args:
            raise UserError(TypeError(f"{name} expected at least 1 argument, got 0"))
        if set(kwargs) - {"key", "default"}:
            raise UserError(TypeError(f"{name}() got an unexpected keyword argument"))
        if len(args) == 1:
            items = _iter_items(tx, args[0])
        else:
            if "default" in kwargs:
                raise UserError(TypeError(f"Cannot specify a default for {name}() with multiple positional "
                                          "arguments"))
            items = list(args)
        if any(isinstance(i, TensorVariable) for i in items):
            unsupported(f"{name}() over tensors compares tensor values (data-dependent)")
        if not items:
            if "default" in kwargs:
                return kwargs["default"]
            raise UserError(ValueError(f"{name}() iterable argument is empty" if len(args) == 1 else
                                       f"{name}() arg is an empty sequence"))
        keys = sort_keys(tx, items, kwargs.get("key"))
        try:
            # the same comparisons as min/max on the items: the first extreme one wins
            best = fn(range(len(keys)), key=keys.__getitem__)
        except Exception as e:  # noqa: BLE001
            raise UserError(e)
        return items[best]
    return impl


def _range(tx, args, kwargs):
    if not all(is_plain_constant(a) for a in args) or kwargs:
        return NotImplemented
    a, k = _consts(args, kwargs)
    try:
        return ConstantVariable(range(*a, **k))
    except Exception as e:
        raise UserError(e)


def _zip(tx, args, kwargs):
    if set(kwargs) - {"strict"}:
        raise UserError(TypeError("zip() got an unexpected keyword argument"))
    strict = kwargs.get("strict", ConstantVariable(False))
    if not strict.is_python_constant():
        unsupported("zip(strict=) of a traced value")
    return ZipVariable([get_iter(tx, a) for a in args], bool(strict.as_python_constant()), tx.output)


def _enumerate(tx, args, kwargs):
    a = dict(zip(("iterable", "start"), args))
    for k, v in kwargs.items():
        if k in a or k not in ("iterable", "start"):
            raise UserError(TypeError(f"enumerate() got an unexpected keyword argument '{k}'"))
        a[k] = v
    if "iterable" not in a or len(args) > 2:
        raise UserError(TypeError("enumerate() takes at most 2 arguments"))
    start = a.get("start", ConstantVariable(0))
    if not is_plain_constant(start) or type(start.as_python_constant()) not in (int, bool):
        unsupported("enumerate(start=) that is not an int constant")
    return EnumerateVariable(get_iter(tx, a["iterable"]), int(start.as_python_constant()), tx.output)


def _reversed(tx, args, kwargs):
    _no_kwargs("reversed", kwargs)
    _arity("reversed", args, 1, 1)
    v = args[0]
    if isinstance(v, ListVariable):
        return ListReverseIteratorVariable(v)
    if isinstance(v, DictVariable):
        return DictIteratorVariable(v, "keys", reverse=True)
    if isinstance(v, DictViewVariable):
        return DictIteratorVariable(v.dict_vt, v.kind, reverse=True)
    if isinstance(v, TupleVariable) and getattr(v.python_type(), "__reversed__", None) is None:
        return IteratorVariable(list(reversed(v.items)))  # a tuple: its items never change
    if isinstance(v, (SetVariable, IteratorVariable)):
        raise UserError(TypeError(f"'{v.python_type().__name__}' object is not reversible"))
    if is_plain_constant(v):
        try:
            items = list(reversed(v.as_python_constant()))
        except TypeError as e:
            raise UserError(e)
        return IteratorVariable([ConstantVariable(i) for i in items])
    unsupported(f"reversed() of {type(v).__name__}")


def _iter(tx, args, kwargs):
    _no_kwargs("iter", kwargs)
    if len(args) != 1:
        unsupported("iter(callable, sentinel)" if len(args) == 2 else "iter() with a wrong number of arguments")
    return get_iter(tx, args[0])


def _next(tx, args, kwargs):
    _no_kwargs("next", kwargs)
    _arity("next", args, 1, 2)
    it = args[0]
    if not isinstance(it, IteratorVariable):
        if isinstance(it, ContainerVariable) or is_plain_constant(it):
            raise UserError(TypeError(f"'{it.python_type().__name__}' object is not an iterator"))
        unsupported("next() on a value that is not a known iterator")
    v = it.next_item(tx)
    if v is None:
        if len(args) > 1:
            return args[1]
        raise UserError(StopIteration())
    return v


def _list(tx, args, kwargs):
    _no_kwargs("list", kwargs)
    _arity("list", args, 0, 1)
    if not args:
        return ListVariable([])
    return ListVariable(_iter_items(tx, args[0]))


def _tuple(tx, args, kwargs):
    _no_kwargs("tuple", kwargs)
    _arity("tuple", args, 0, 1)
    if not args:
        return TupleVariable([])
    v = args[0]
    if type(v) is TupleVariable:
        return v  # tuple(t) is t
    return TupleVariable(_iter_items(tx, v))


def _dict(tx, args, kwargs):
    _arity("dict", args, 0, 1)
    d = DictVariable({})
    if args:
        d.items.update(d._pairs(tx, args[0]))
    for k, v in kwargs.items():
        d.items[k] = v
    return d


def _set(tx, args, kwargs):
    _no_kwargs("set", kwargs)
    _arity("set", args, 0, 1)
    if not args:
        return SetVariable([])
    v = args[0]
    # set(x) as CPython builds it: a set or dict argument is merged table by table (a real set
    # built from a real set or dict of the same values does the same), other iterables are
    # added one item at a time
    if isinstance(v, SetVariable):
        return v._result(set(v.real), [v.members], v.ordered)
    if isinstance(v, DictVariable) and v.dict_cls is dict:  # an exact dict: CPython's own path
        return SetVariable([])._result(set(dict.fromkeys(v.items)), [], True)
    if is_plain_constant(v) and not isinstance(v, ContainerVariable):
        value = v.as_python_constant()
        try:
            return SetVariable([])._result(set(value), [], True)
        except TypeError as e:
            raise UserError(e)
    return SetVariable(_iter_items(tx, v))


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
    if set(kwargs) - {"start"} or not 1 <= len(args) <= 2 or (len(args) == 2 and kwargs):
        raise UserError(TypeError("sum() takes at most 2 arguments"))
    items = _iter_items(tx, args[0])
    start = args[1] if len(args) > 1 else kwargs.get("start", ConstantVariable(0))
    if all(is_plain_constant(i) for i in items) and is_plain_constant(start):
        values = [i.as_python_constant() for i in items]
        if all(_atomic(v) for v in values) and _atomic(start.as_python_constant()):
            try:  # the real sum: CPython sums floats with compensation
                return ConstantVariable(sum(values, start.as_python_constant()))
            except Exception as e:  # noqa: BLE001
                raise UserError(e)
    if any(has_container(i) for i in items) or has_container(start):
        unsupported("sum() of containers")
    acc = start
    for it in items:
        acc = tx.binary_op(operator.add, acc, it)
    return acc


def _map(tx, args, kwargs):
    _no_kwargs("map", kwargs)
    if len(args) < 2:
        raise UserError(TypeError("map() must have at least two arguments."))
    return MapVariable(args[0], [get_iter(tx, a) for a in args[1:]], tx.output)


def _filter(tx, args, kwargs):
    _no_kwargs("filter", kwargs)
    _arity("filter", args, 2, 2)
    return FilterVariable(args[0], get_iter(tx, args[1]), tx.output)


def _any_all(fn):
    def impl(tx, args, kwargs):
        _no_kwargs(fn.__name__, kwargs)
        _arity(fn.__name__, args, 1, 1)
        it = get_iter(tx, args[0])
        stop_on = fn is any  # any stops at the first true item, all at the first false one
        while True:
            v = it.next_item(tx)
            if v is None:
                return ConstantVariable(not stop_on)
            if isinstance(v, TensorVariable):
                unsupported(f"{fn.__name__}() over tensors needs their values (data-dependent)")
            if v.truthy(tx) == stop_on:
                return ConstantVariable(stop_on)
    return impl


def _bool(tx, args, kwargs):
    _no_kwargs("bool", kwargs)
    _arity("bool", args, 0, 1)
    if not args:
        return ConstantVariable(False)
    if isinstance(args[0], TensorVariable):
        unsupported("bool() of a tensor needs its value (data-dependent)")
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
    if len(args) != 1:
        raise UserError(TypeError(f"sorted expected 1 argument, got {len(args)}"))
    if set(kwargs) - {"key", "reverse"}:
        raise UserError(TypeError("sorted() got an unexpected keyword argument"))
    items = ListVariable(_iter_items(tx, args[0]))  # sorted() copies, then list.sort()s the copy
    items.call_method(tx, "sort", [], kwargs)
    return items


def _float_int(fn):
    def impl(tx, args, kwargs):
        if args and isinstance(args[0], TensorVariable):
            unsupported(f"{fn.__name__}() of a tensor needs its value (data-dependent)")
        return NotImplemented
    return impl


def _id(tx, args, kwargs):
    unsupported("id() of a value: an object's address is not known at trace time")


def _hash(tx, args, kwargs):
    _no_kwargs("hash", kwargs)
    _arity("hash", args, 1, 1)
    if not is_plain_constant(args[0]):
        unsupported("hash() of a value that is traced or has a user-defined __hash__")
    return NotImplemented


# ------------------------------------------------------------------ the operator module
_BINARY = {operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.mod,
           operator.matmul, operator.and_, operator.or_, operator.xor, operator.lshift, operator.rshift,
           operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge}
_INPLACE = {operator.iadd, operator.isub, operator.imul, operator.itruediv, operator.ifloordiv, operator.imod,
            operator.imatmul, operator.iand, operator.ior, operator.ixor, operator.ilshift, operator.irshift,
            operator.ipow, operator.iconcat}


def _operator_binary(fn):
    def impl(tx, args, kwargs):
        _no_kwargs(fn.__name__, kwargs)
        _arity(fn.__name__, args, 2, 2)
        return tx.binary_op(fn, args[0], args[1])
    return impl


def _operator_inplace(fn):
    def impl(tx, args, kwargs):
        _no_kwargs(fn.__name__, kwargs)
        _arity(fn.__name__, args, 2, 2)
        a, b = args
        r = inplace(tx, operator.iadd if fn is operator.iconcat else fn, a, b)
        if r is not None:
            return r
        if (isinstance(a, (ContainerVariable, IteratorVariable)) and not type(a) is TupleVariable) or \
                fn in (operator.iconcat, operator.ipow):
            unsupported(f"operator.{fn.__name__} on {type(a).__name__}")
        return tx.inplace_op(fn, a, b)
    return impl


def _operator_pow(tx, args, kwargs):
    _no_kwargs("pow", kwargs)
    _arity("pow", args, 2, 2)
    return tx.binary_op(operator.pow, args[0], args[1])


def _operator_getitem(tx, args, kwargs):
    _no_kwargs("getitem", kwargs)
    _arity("getitem", args, 2, 2)
    return tx.getitem(args[0], args[1])


def _operator_setitem(tx, args, kwargs):
    _no_kwargs("setitem", kwargs)
    _arity("setitem", args, 3, 3)
    obj, key, value = args
    if not isinstance(obj, (TensorVariable, ListVariable, DictVariable)):
        if is_plain_constant(obj):  # a tuple, a string...: CPython's TypeError
            raise UserError(TypeError(f"'{obj.python_type().__name__}' object does not support item assignment"))
        unsupported(f"operator.setitem on {type(obj).__name__}")
    tx.setitem(obj, key, value)
    return ConstantVariable(None)


def _operator_delitem(tx, args, kwargs):
    _no_kwargs("delitem", kwargs)
    _arity("delitem", args, 2, 2)
    obj, key = args
    if not isinstance(obj, (ListVariable, DictVariable)):
        if is_plain_constant(obj):
            raise UserError(TypeError(f"'{obj.python_type().__name__}' object does not support item deletion"))
        unsupported(f"operator.delitem on {type(obj).__name__}")
    obj.call_method(tx, "__delitem__", [key], {})
    return ConstantVariable(None)


def _operator_contains(tx, args, kwargs):
    _no_kwargs("contains", kwargs)
    _arity("contains", args, 2, 2)
    return ConstantVariable(contains(tx, args[0], args[1]))


def _operator_is(negate):
    def impl(tx, args, kwargs):
        _no_kwargs("is_", kwargs)
        _arity("is_not" if negate else "is_", args, 2, 2)
        return ConstantVariable(tx.identical(args[0], args[1]) != negate)
    return impl


def _operator_truth(tx, args, kwargs):
    _no_kwargs("truth", kwargs)
    _arity("truth", args, 1, 1)
    if isinstance(args[0], TensorVariable):
        unsupported("operator.truth of a tensor needs its value (data-dependent)")
    return ConstantVariable(args[0].truthy(tx))


def _operator_not(tx, args, kwargs):
    r = _operator_truth(tx, args, kwargs)
    return ConstantVariable(not r.value)


def _operator_concat(tx, args, kwargs):
    _no_kwargs("concat", kwargs)
    _arity("concat", args, 2, 2)
    a, b = args
    if isinstance(a, ContainerVariable) or isinstance(b, ContainerVariable):
        if type(a) is type(b) and type(a) in (ListVariable, TupleVariable):
            return tx.binary_op(operator.add, a, b)
        unsupported("operator.concat of containers of different kinds")
    return NotImplemented


_HANDLERS = {
    len: _len, isinstance: _isinstance, min: _minmax(min), max: _minmax(max), range: _range,
    zip: _zip, enumerate: _enumerate, reversed: _reversed, iter: _iter, next: _next,
    list: _list, tuple: _tuple, dict: _dict, set: _set, getattr: _getattr, hasattr: _hasattr,
    sum: _sum, map: _map, filter: _filter, any: _any_all(any), all: _any_all(all), bool: _bool,
    type: _type, callable: _callable, sorted: _sorted, float: _float_int(float), int: _float_int(int),
    id: _id, hash: _hash,
    operator.pow: _operator_pow, operator.getitem: _operator_getitem, operator.setitem: _operator_setitem,
    operator.delitem: _operator_delitem, operator.contains: _operator_contains, operator.is_: _operator_is(False),
    operator.is_not: _operator_is(True), operator.truth: _operator_truth, operator.not_: _operator_not,
    operator.concat: _operator_concat,
}
_HANDLERS.update({f: _operator_binary(f) for f in _BINARY})
_HANDLERS.update({f: _operator_inplace(f) for f in _INPLACE})
