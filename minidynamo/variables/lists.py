"""Tuples, named tuples and lists of trackers, the sort helpers list.sort and sorted() share,
and slices.

Iterating a list reads it at each step (iterators.py): a list grown in a loop is iterated to
its new end, as in CPython.
"""
import inspect

from .base import ConstantVariable, UserError, VariableTracker, unsupported
from .containers import (ContainerVariable, LiveItems, _as_const, _check_args, _is_const, _method, _parts_height,
                         _unpack_values, _Walk, plain_type, values_equal)


class BaseListVariable(ContainerVariable):
    kind = list

    def __init__(self, items, source=None):
        super().__init__(source)
        self.items = list(items)

    def python_type(self):
        return self.kind

    def _const_parts(self, walk):
        return _parts_height(walk, self.items)

    def _build_const(self, walk):
        return [_as_const(i, walk) for i in self.items]  # shared sub-containers stay shared: memo

    def truthy(self, tx):
        return bool(self.items)

    def unpack(self, tx):
        return list(self.items)

    def getitem(self, tx, key):
        if isinstance(key, slice):
            try:
                items = self.items[key]
            except (TypeError, ValueError) as e:
                raise UserError(e)
            return ListVariable(items) if self.kind is list else TupleVariable(items)
        try:
            return self.items[key]
        except (IndexError, TypeError) as e:
            raise UserError(e)

    def _find(self, tx, name, args):
        """index/count: (positions equal to args[0]) with CPython's start/stop."""
        value = args[0]
        n = len(self.items)
        start, stop = 0, n
        if name == "index" and len(args) > 1:
            bounds = [a.as_python_constant() for a in args[1:]]
            if not all(isinstance(b, int) for b in bounds):  # None too: CPython's TypeError
                raise UserError(TypeError("slice indices must be integers or have an __index__ method"))
            try:
                start, stop, _ = slice(*([bounds[0], bounds[1] if len(bounds) > 1 else None])).indices(n)
            except (TypeError, ValueError) as e:
                raise UserError(e)
        return start, stop, value

    def _index_count(self, tx, name, args, kwargs):
        _check_args(f"{self.kind.__name__}.{name}", args, kwargs, 1, 3 if name == "index" else 1)
        start, stop, value = self._find(tx, name, args)
        if name == "count":
            return ConstantVariable(sum(1 for i in list(self.items) if values_equal(tx, i, value)))
        for i in range(start, stop):
            if i < len(self.items) and values_equal(tx, self.items[i], value):
                return ConstantVariable(i)
        raise UserError(ValueError(f"{self.kind.__name__}.index(x): x not in {self.kind.__name__}"))

    def contains(self, tx, item):
        for i in list(self.items):
            if values_equal(tx, i, item):
                return True
        return False

    def call_method(self, tx, name, args, kwargs):
        handler = self._METHODS.get(name)
        if handler is None:
            unsupported(f"{self.kind.__name__}.{name}")
        return handler(self, tx, name, args, kwargs)

    # Method handlers: handler(self, tx, name, args, kwargs), as call_method is called.
    def _call_getitem(self, tx, name, args, kwargs):
        _check_args(name, args, kwargs, 1, 1)
        if not args[0].is_python_constant():
            unsupported(f"indexing a {self.kind.__name__} with a traced value")
        return self.getitem(tx, args[0].as_python_constant())

    def _call_len(self, tx, name, args, kwargs):
        _check_args(name, args, kwargs, 0, 0)
        return ConstantVariable(len(self.items))

    # what lists and tuples share
    _METHODS = {
        "__getitem__": _call_getitem,
        "__len__": _call_len,
        "index": _index_count,
        "count": _index_count,
        "__contains__": ContainerVariable.protocol_method,
        "__iter__": ContainerVariable.protocol_method,
    }

    def __repr__(self):
        return f"{type(self).__name__}({self.items})"


class TupleVariable(BaseListVariable):
    kind = tuple

    def reconstruct(self, cg):
        self._reconstruct_guard()
        inner = ", ".join(cg(i) for i in self.items)
        return f"({inner},)" if len(self.items) == 1 else f"({inner})"

    def _const_parts(self, walk):
        # a tuple is a constant only when it holds no mutable container: a folded tuple must not
        # stand for lists that are changed later
        ok, height = _parts_height(walk, self.items)
        from .dicts import DictVariable, DictViewVariable  # cycle: dicts.py imports this module
        from .sets import SetVariable
        mutable = (ListVariable, DictVariable, SetVariable, DictViewVariable)
        return ok and not any(isinstance(i, mutable) for i in self.items), height

    def _build_const(self, walk):
        return tuple(_as_const(i, walk) for i in self.items)



class NamedTupleVariable(TupleVariable):
    def __init__(self, items, tuple_cls, source=None):
        super().__init__(items, source)
        self.tuple_cls = tuple_cls

    def python_type(self):
        return self.tuple_cls

    def _const_parts(self, walk):
        ok, height = super()._const_parts(walk)
        return ok and plain_type(self.tuple_cls), height

    def _build_const(self, walk):
        # tuple.__new__: the class's own (Python) __new__ is not run at trace time
        return tuple.__new__(self.tuple_cls, [_as_const(i, walk) for i in self.items])

    def var_getattr(self, tx, name):
        fields = getattr(self.tuple_cls, "_fields", None)
        field = type(inspect.getattr_static(self.tuple_cls, name, None)).__name__ == "_tuplegetter"
        if fields and name in fields and field and len(self.items) == len(fields):
            return self.items[fields.index(name)]
        if name in ("values", "indices") and len(self.items) == 2 and not fields:
            return self.items[0 if name == "values" else 1]
        if name == "__class__" or (getattr(self.tuple_cls, name, None) is getattr(tuple, name, object())):
            return _method(self, tx, name)
        unsupported(f"attribute {name} of {self.tuple_cls.__name__}")

    def call_method(self, tx, name, args, kwargs):
        if name in ("__len__", "__getitem__", "__iter__") or \
                getattr(self.tuple_cls, name, None) is getattr(tuple, name, object()):
            return super().call_method(tx, name, args, kwargs)
        unsupported(f"{self.tuple_cls.__name__}.{name}")

    def reconstruct(self, cg):
        self._reconstruct_guard()
        return f"{cg.global_obj(self.tuple_cls)}({', '.join(cg(i) for i in self.items)})"


def _changes_list(lo, hi, change, index=False):
    """A list method handler that changes the list by change(items, *args) (a constant first
    argument when index is set); what change raises is the program's error, raised eagerly."""
    def method(self, tx, name, args, kwargs):
        _check_args(f"list.{name}", args, kwargs, lo, hi)
        if index and args and not args[0].is_python_constant():
            unsupported(f"list.{name} with a traced index")
        tx.output.side_effects.mutate(tx, self)
        try:
            r = change(self.items, *args)
        except (IndexError, TypeError, ValueError) as e:
            raise UserError(e)
        return ConstantVariable(None) if r is None else r
    return method


class ListVariable(BaseListVariable):
    kind = list

    def reconstruct(self, cg):
        self._reconstruct_guard()
        return "[" + ", ".join(cg(i) for i in self.items) + "]"

    def unpack(self, tx):
        return LiveItems(self.items, self)

    def iter_variable(self, tx):
        from .iterators import ListIteratorVariable
        return ListIteratorVariable(self)

    def _call_copy(self, tx, name, args, kwargs):
        _check_args("list.copy", args, kwargs, 0, 0)
        return ListVariable(self.items)

    def _call_reversed(self, tx, name, args, kwargs):
        _check_args(name, args, kwargs, 0, 0)
        from .iterators import ListReverseIteratorVariable  # cycle: iterators.py imports this module
        return ListReverseIteratorVariable(self)

    def _call_extend(self, tx, name, args, kwargs):
        """extend and +=."""
        _check_args(f"list.{name}", args, kwargs, 1, 1)
        new = _unpack_values(tx, args[0])  # before the list changes (l.extend(l) doubles it)
        tx.output.side_effects.mutate(tx, self)
        self.items.extend(new)
        return self if name == "__iadd__" else ConstantVariable(None)

    def _call_imul(self, tx, name, args, kwargs):
        _check_args(f"list.{name}", args, kwargs, 1, 1)
        n = args[0].as_python_constant() if args[0].is_python_constant() else None
        if not isinstance(n, int):
            unsupported("list *= of a value that is not an int constant")
        tx.output.side_effects.mutate(tx, self)
        self.items *= n
        return self

    def _call_remove(self, tx, name, args, kwargs):
        _check_args(f"list.{name}", args, kwargs, 1, 1)
        for i, it in enumerate(list(self.items)):
            if values_equal(tx, it, args[0]):
                tx.output.side_effects.mutate(tx, self)
                del self.items[i]
                return ConstantVariable(None)
        raise UserError(ValueError("list.remove(x): x not in list"))

    def _call_setitem(self, tx, name, args, kwargs):
        """l[i] = v, and l[a:b] = iterable."""
        _check_args(f"list.{name}", args, kwargs, 2, 2)
        if not args[0].is_python_constant():
            unsupported(f"list.{name} with a traced index")
        index = args[0].as_python_constant()
        new = _unpack_values(tx, args[1]) if isinstance(index, slice) else args[1]
        tx.output.side_effects.mutate(tx, self)
        try:
            self.items[index] = new
        except (IndexError, TypeError, ValueError) as e:
            raise UserError(e)
        return ConstantVariable(None)

    def _call_sort(self, tx, name, args, kwargs):
        """list.sort as CPython does it: keys computed once per item in order while the list
        looks empty, then the same comparisons (a stable sort of positions by key)."""
        if args:
            raise UserError(TypeError("sort() takes no positional arguments"))
        _check_args("list.sort", args, kwargs, 0, 0, kw=("key", "reverse"))
        key = kwargs.get("key")
        reverse = kwargs.get("reverse", ConstantVariable(False))
        if not reverse.is_python_constant():
            unsupported("list.sort(reverse=) of a traced value")
        tx.output.side_effects.mutate(tx, self)
        saved, self.items = self.items, []
        try:
            keys = sort_keys(tx, saved, key)
        finally:
            changed = bool(self.items)
            self.items = saved
        if changed:
            raise UserError(ValueError("list modified during sort"))
        self.items = [saved[i] for i in sorted_order(keys, reverse.as_python_constant())]
        return ConstantVariable(None)

    _METHODS = {
        **BaseListVariable._METHODS,
        "copy": _call_copy,
        "__reversed__": _call_reversed,
        "extend": _call_extend,
        "__iadd__": _call_extend,
        "__imul__": _call_imul,
        "remove": _call_remove,
        "__setitem__": _call_setitem,
        "sort": _call_sort,
        "append": _changes_list(1, 1, lambda items, v: items.append(v)),
        "insert": _changes_list(2, 2, lambda items, i, v: items.insert(i.as_python_constant(), v), index=True),
        "pop": _changes_list(0, 1, lambda items, i=None: items.pop(-1 if i is None else i.as_python_constant()),
                             index=True),
        "__delitem__": _changes_list(1, 1, lambda items, i: items.__delitem__(i.as_python_constant()), index=True),
        "clear": _changes_list(0, 0, lambda items: items.clear()),
        "reverse": _changes_list(0, 0, lambda items: items.reverse()),
    }


def sort_keys(tx, items, key):
    """The real sort keys of items (key(item) traced for each, in order): plain constants only."""
    if key is None or (key.is_python_constant() and key.as_python_constant() is None):
        keys = list(items)
    else:
        keys = [key.call_function(tx, [i], {}) for i in items]
    walk = _Walk()
    for k in keys:
        if not _is_const(k, walk, 0):
            unsupported("sorting values that are not plain constants (traced values or user objects)")
    return [_as_const(k, _Walk()) for k in keys]


def sorted_order(keys, reverse):
    """The positions of keys in sorted order: list.sort's comparisons, on positions."""
    try:
        return sorted(range(len(keys)), key=keys.__getitem__, reverse=bool(reverse))
    except Exception as e:  # noqa: BLE001 - an incomparable pair raises as in CPython
        raise UserError(e)


class SliceVariable(VariableTracker):
    def __init__(self, start, stop, step):
        super().__init__(None)
        self.parts = (start, stop, step)

    def is_python_constant(self):
        return all(p.is_python_constant() for p in self.parts)

    def as_python_constant(self):
        return slice(*[p.as_python_constant() for p in self.parts])
