"""Tuples, lists, dicts (and OrderedDicts), dict views, sets, slices and iterators of trackers.

What these trackers answer must be what CPython answers; where that cannot be known at trace
time they raise Unsupported (the graph breaks or the frame runs eagerly), never a guess:

- a container is a Python constant only when everything in it is a plain value: a builtin
  constant whose comparisons, hash and repr are C code (or trusted library code), never a
  user's Python `__eq__`/`__hash__`, which must not run behind the user's back. Cycles and
  nesting deeper than MAX_DEPTH are not constants either (folding or rebuilding them would
  overflow the interpreter's own stack).
- `as_python_constant()` keeps the container's class (an OrderedDict compares by order) and
  the sharing of sub-containers; it is for answers (==, repr, membership), never for values
  that escape: a folded result that could alias a container is not wrapped back.
- dict views read their dict when used (a view sees later changes); iterators over lists,
  dicts and sets read their container at each step (a list grown in a loop is iterated to its
  new end, a dict or set that changed size raises, as in CPython).
- a set keeps a real set of its values, changed by the same operations as the program's own,
  so its iteration order is CPython's.
"""
import collections
import enum
import inspect
import sys
import types

from ..exc import Unsupported
from .base import (BoundMethodVariable, ConstantVariable, LazyConstantVariable, UserError, VariableTracker,
                   unsupported)

MAX_DEPTH = 64  # nesting past this is not folded, compared or rebuilt: the frame falls back

# ------------------------------------------------------------------ plain values
_ATOMS = frozenset({int, float, complex, bool, str, bytes, type(None), type(Ellipsis), type(NotImplemented),
                    range, slice})
# dunders that folding on a value may run: comparisons, hashing, text
_FOLD_DUNDERS = ("__eq__", "__ne__", "__hash__", "__lt__", "__le__", "__gt__", "__ge__", "__repr__", "__str__",
                 "__format__", "__bool__", "__len__", "__contains__", "__iter__", "__index__")
_TRUSTED_FILES = {getattr(collections, "__file__", None), getattr(enum, "__file__", None)}
_PLAIN_TYPES = {}  # id(type) -> (type, plain?) for types that cannot change (builtins)


def _trusted_function(fn):
    code = getattr(fn, "__code__", None)
    if code is not None and code.co_filename in _TRUSTED_FILES:
        return True
    mod = getattr(fn, "__module__", None) or ""
    return mod.startswith(("tensorlite", "numpy"))


def plain_type(t):
    """Whether comparing, hashing or printing values of type t runs no user Python code."""
    if t in _ATOMS:
        return True
    hit = _PLAIN_TYPES.get(id(t))
    if hit is not None and hit[0] is t:
        return hit[1]
    ok = True
    for name in _FOLD_DUNDERS:
        try:
            attr = getattr(t, name, None)
        except Exception:  # noqa: BLE001 - a metaclass property that raises: not plain
            ok = False
            break
        if isinstance(attr, (types.FunctionType, types.MethodType)) and not _trusted_function(attr):
            ok = False
            break
        if attr is not None and not isinstance(attr, (types.WrapperDescriptorType, types.MethodWrapperType,
                                                      types.BuiltinFunctionType, types.MethodDescriptorType,
                                                      types.FunctionType, types.MethodType)):
            ok = False  # a property, a user descriptor, ...
            break
    if getattr(t, "__module__", None) == "builtins":  # builtin types cannot change: cached
        _PLAIN_TYPES[id(t)] = (t, ok)
    return ok


def plain_value(v, depth=0):
    """Whether v (a real value) is made of plain values only."""
    t = type(v)
    if t in _ATOMS:
        return True
    if depth > MAX_DEPTH:
        return False
    if t is tuple or t is frozenset:
        return all(plain_value(x, depth + 1) for x in v)
    return plain_type(t)


def _peek(vt):
    """A constant tracker's value, without installing a lazy scalar's guard (only its type is
    looked at; the value is guarded when it is used)."""
    if isinstance(vt, LazyConstantVariable):
        return vt._value
    return vt.as_python_constant()


class _Walk:
    """One constant check or copy of nested trackers: cycle detection, a depth limit, and
    each shared sub-container looked at once."""

    def __init__(self):
        self.active = set()   # containers on the current path (a cycle is not a constant)
        self.done = {}        # id(container) -> (constant?, nesting height) once checked
        self.memo = {}        # id(container) -> its value, once built


class _TooDeep(Exception):
    pass


def _is_const(vt, walk, depth):
    try:
        ok, height = _const_height(vt, walk)
    except _TooDeep:
        return False
    return ok and depth + height <= MAX_DEPTH


def _const_height(vt, walk):
    """(whether vt is a plain constant, how deeply containers nest in it)."""
    if isinstance(vt, ContainerVariable):
        key = id(vt)
        hit = walk.done.get(key)
        if hit is not None:
            return hit
        if key in walk.active:
            return False, 0
        if len(walk.active) > MAX_DEPTH:
            raise _TooDeep
        walk.active.add(key)
        try:
            r = vt._const_parts(walk)
        finally:
            walk.active.discard(key)
        walk.done[key] = r
        return r
    if vt.is_python_constant():
        try:
            return plain_value(_peek(vt)), 0
        except Unsupported:
            return False, 0
    # a builtin class (tuple in `isinstance(x, (list, tuple))`) is a constant too
    return isinstance(getattr(vt, "fn", None), type) and type(vt).__name__ == "BuiltinVariable", 0


def _parts_height(walk, items):
    ok, height = True, 0
    for i in items:
        c, h = _const_height(i, walk)
        ok = ok and c
        height = max(height, h)
    return ok, height + 1


def _as_const(vt, walk):
    if isinstance(vt, ContainerVariable):
        hit = walk.memo.get(id(vt))
        if hit is None:
            hit = vt.__dict__.get("_const_value")  # a tuple's, built once: one object, as in CPython
        if hit is not None:
            return hit
        r = vt._build_const(walk)
        walk.memo[id(vt)] = r
        if type(vt) is TupleVariable:
            vt._const_value = r
        return r
    return vt.as_python_constant()


def is_plain_constant(vt):
    """Whether vt is a constant (folded at trace time) made of plain values only."""
    return _is_const(vt, _Walk(), 0)


def has_container(vt):
    """Whether vt holds (or is) a mutable container tracker: folding over it must not return
    values that could alias a container."""
    seen, todo = set(), [vt]
    while todo:
        v = todo.pop()
        if isinstance(v, (ListVariable, DictVariable, SetVariable, DictViewVariable)):
            return True
        if isinstance(v, TupleVariable) and id(v) not in seen:
            seen.add(id(v))
            todo.extend(v.items)
    return False


def _check_args(name, args, kwargs, lo, hi, kw=()):
    """The TypeError CPython raises for a wrong call of a builtin method (the frame then runs
    eagerly and raises it itself)."""
    if not lo <= len(args) <= hi:
        raise UserError(TypeError(f"{name}() takes from {lo} to {hi} positional arguments but {len(args)} were given"))
    for k in kwargs:
        if k not in kw:
            raise UserError(TypeError(f"{name}() got an unexpected keyword argument '{k}'"))


def dict_key(vt):
    """The real key (or set member) for a tracker: a plain constant, hashed here (its hash is
    C code); traced values and objects with a Python __hash__/__eq__ are not modelled."""
    if not is_plain_constant(vt):
        unsupported(f"a dict key or set member that is not a plain constant ({type(vt).__name__}): its "
                    "hash and equality cannot be decided at trace time")
    k = vt.as_python_constant()
    try:
        hash(k)
    except TypeError as e:
        raise UserError(e)
    return k


def values_equal(tx, a, b, depth=0):
    """PyObject_RichCompareBool(a, b, Py_EQ) on trackers, as containers compare their items
    (identity first); Unsupported when the answer would need a user's __eq__ or a tensor."""
    if a is b:
        return True
    if depth > MAX_DEPTH:
        unsupported("comparing containers nested too deeply")
    ca, cb = is_plain_constant(a), is_plain_constant(b)
    if ca and cb:
        x, y = a.as_python_constant(), b.as_python_constant()
        try:
            return x is y or bool(x == y)
        except Exception as e:  # noqa: BLE001 - a comparison that raises
            raise UserError(e)
    ta, tb = _known_type(a), _known_type(b)
    if ta is not None and tb is not None:
        seq = (list, tuple)
        if ta in seq and tb in seq:
            if ta is not tb:
                return False
            if len(a.items) != len(b.items):
                return False
            return all(values_equal(tx, x, y, depth + 1) for x, y in zip(a.items, b.items))
        if ta in _ATOMS and tb in (list, tuple, dict, set) or tb in _ATOMS and ta in (list, tuple, dict, set):
            return False
    ia, ib = _identity_eq(a), _identity_eq(b)
    if ia and ib and getattr(tx, "identical", None) is not None:
        return tx.identical(a, b)  # object's __eq__ on both sides: identity (guarded when needed)
    if (ia and (ta is not None or cb)) or (ib and (tb is not None or ca)):
        return False  # a builtin value and an object without __eq__: never equal
    unsupported(f"comparing {type(a).__name__} with {type(b).__name__} (the answer would need their __eq__)")


def _identity_eq(vt):
    """Whether vt is an object (not a container, constant or tensor) whose type compares with
    object's own __eq__ and __ne__: by identity."""
    value = getattr(vt, "value", None)
    if value is None or isinstance(vt, (ContainerVariable, ConstantVariable)) or vt.is_python_constant():
        return False
    t = type(value)
    return t.__eq__ is object.__eq__ and t.__ne__ is object.__ne__


def _known_type(vt):
    """The exact builtin type of a tracker when it is one this module compares, else None."""
    if type(vt) in (ListVariable, TupleVariable):
        return vt.python_type()
    if isinstance(vt, DictVariable) and vt.dict_cls is dict:
        return dict
    if isinstance(vt, SetVariable):
        return set
    if is_plain_constant(vt):
        t = type(vt.as_python_constant())
        return t if t in _ATOMS else None
    return None


def _method(vt, tx, name):
    """list.append, dict.items, ...: a bound method answered by vt.call_method."""
    kind = vt.python_type()
    if name == "__class__":
        from .builder import VariableBuilder
        return VariableBuilder(tx, None).wrap(kind)
    try:
        attr = getattr(kind, name)
    except AttributeError:
        raise UserError(AttributeError(f"'{kind.__name__}' object has no attribute '{name}'")) from None
    if isinstance(attr, (types.MethodDescriptorType, types.WrapperDescriptorType, types.FunctionType)):
        return BoundMethodVariable(vt, name)
    unsupported(f"attribute {name!r} of a {kind.__name__}")


def _unpack_values(tx, vt):
    """The items an iterable tracker yields, in order (an iterator is drained)."""
    return vt.unpack(tx)


class LiveItems(list):
    """What a container's unpack() returns: its items now, and how to make a live iterator
    over it (IteratorVariable(c.unpack(tx)), as GET_ITER builds one, iterates the container
    itself, as CPython does)."""

    def __init__(self, items, container):
        super().__init__(items)
        self.container = container


class ContainerVariable(VariableTracker):
    """Base of the container trackers (tuples, lists, dicts, sets, dict views)."""

    def is_python_constant(self):
        return _is_const(self, _Walk(), 0)

    def as_python_constant(self):
        walk = _Walk()
        if not _is_const(self, walk, 0):
            unsupported(f"{type(self).__name__} is not a constant (it holds traced values, user objects, "
                        "itself, or is nested too deeply)")
        return _as_const(self, walk)

    def _const_parts(self, walk):
        """(constant?, nesting height) from the parts (see _const_height)."""
        raise NotImplementedError

    def _build_const(self, walk):
        raise NotImplementedError

    def var_getattr(self, tx, name):
        return _method(self, tx, name)

    def iter_variable(self, tx):
        """iter(self), as CPython makes it."""
        return IteratorVariable(self.unpack(tx))

    def _reconstruct_guard(self):
        """Rebuilding a value in generated code: cycles and deep nesting fall back."""
        if _nesting_too_deep(self):
            unsupported("rebuilding a container that contains itself or is nested too deeply")


def _children(v):
    if isinstance(v, (BaseListVariable, SetVariable)):
        return v.items
    if isinstance(v, DictVariable):
        return list(v.items.values())
    if isinstance(v, DictViewVariable):
        return [v.dict_vt]
    return []


def _nesting_too_deep(vt):
    """Whether vt contains itself or nests containers deeper than MAX_DEPTH."""
    heights, active = {}, set()

    def height(v):
        if not isinstance(v, ContainerVariable):
            return 0
        key = id(v)
        if key in heights:
            return heights[key]
        if key in active or len(active) > MAX_DEPTH:
            raise _TooDeep
        active.add(key)
        try:
            h = 1 + max((height(c) for c in _children(v)), default=0)
        finally:
            active.discard(key)
        heights[key] = h
        return h

    try:
        return height(vt) > MAX_DEPTH
    except _TooDeep:
        return True


# ------------------------------------------------------------------ tuples and lists
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

    def _common_method(self, tx, name, args, kwargs):
        """Methods lists and tuples share; NotImplemented when name is not one of them."""
        if name == "__getitem__":
            _check_args(name, args, kwargs, 1, 1)
            if not args[0].is_python_constant():
                unsupported(f"indexing a {self.kind.__name__} with a traced value")
            return self.getitem(tx, args[0].as_python_constant())
        if name == "__len__":
            _check_args(name, args, kwargs, 0, 0)
            return ConstantVariable(len(self.items))
        if name in ("index", "count"):
            return self._index_count(tx, name, args, kwargs)
        if name == "__contains__":
            _check_args(name, args, kwargs, 1, 1)
            return ConstantVariable(self.contains(tx, args[0]))
        if name == "__iter__":
            _check_args(name, args, kwargs, 0, 0)
            return self.iter_variable(tx)
        return NotImplemented

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
        mutable = (ListVariable, DictVariable, SetVariable, DictViewVariable)
        return ok and not any(isinstance(i, mutable) for i in self.items), height

    def _build_const(self, walk):
        return tuple(_as_const(i, walk) for i in self.items)

    def call_method(self, tx, name, args, kwargs):
        r = self._common_method(tx, name, args, kwargs)
        if r is not NotImplemented:
            return r
        unsupported(f"tuple.{name}")


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

    def call_method(self, tx, name, args, kwargs):
        r = self._common_method(tx, name, args, kwargs)
        if r is not NotImplemented:
            return r
        if name == "copy":
            _check_args("list.copy", args, kwargs, 0, 0)
            return ListVariable(self.items)
        if name == "__reversed__":
            _check_args(name, args, kwargs, 0, 0)
            from .iterators import ListReverseIteratorVariable
            return ListReverseIteratorVariable(self)
        mutating = {"append", "extend", "insert", "pop", "clear", "reverse", "__setitem__", "__delitem__",
                    "remove", "sort", "__iadd__", "__imul__"}
        if name not in mutating:
            unsupported(f"list.{name}")
        if name == "sort":
            return self._sort(tx, args, kwargs)
        arity = {"append": (1, 1), "extend": (1, 1), "insert": (2, 2), "pop": (0, 1), "clear": (0, 0),
                 "reverse": (0, 0), "__setitem__": (2, 2), "__delitem__": (1, 1), "remove": (1, 1),
                 "__iadd__": (1, 1), "__imul__": (1, 1)}[name]
        _check_args(f"list.{name}", args, kwargs, *arity)
        if name in ("extend", "__iadd__"):
            new = _unpack_values(tx, args[0])  # before the list changes (l.extend(l) doubles it)
            tx.output.side_effects.mutate(tx, self)
            self.items.extend(new)
            return self if name == "__iadd__" else ConstantVariable(None)
        if name in ("__setitem__", "__delitem__", "insert", "pop") and args and not args[0].is_python_constant():
            unsupported(f"list.{name} with a traced index")
        if name == "__setitem__" and isinstance(args[0].as_python_constant(), slice):
            new = _unpack_values(tx, args[1])
            tx.output.side_effects.mutate(tx, self)
            try:
                self.items[args[0].as_python_constant()] = new
            except (TypeError, ValueError, IndexError) as e:
                raise UserError(e)
            return ConstantVariable(None)
        if name == "remove":
            for i, it in enumerate(list(self.items)):
                if values_equal(tx, it, args[0]):
                    tx.output.side_effects.mutate(tx, self)
                    del self.items[i]
                    return ConstantVariable(None)
            raise UserError(ValueError("list.remove(x): x not in list"))
        if name == "__imul__":
            n = args[0].as_python_constant() if args[0].is_python_constant() else None
            if not isinstance(n, int):
                unsupported("list *= of a value that is not an int constant")
            tx.output.side_effects.mutate(tx, self)
            self.items *= n
            return self
        tx.output.side_effects.mutate(tx, self)
        try:
            if name == "append":
                self.items.append(args[0])
            elif name == "insert":
                self.items.insert(args[0].as_python_constant(), args[1])
            elif name == "pop":
                return self.items.pop(args[0].as_python_constant() if args else -1)
            elif name == "clear":
                self.items.clear()
            elif name == "reverse":
                self.items.reverse()
            elif name == "__setitem__":
                self.items[args[0].as_python_constant()] = args[1]
            elif name == "__delitem__":
                del self.items[args[0].as_python_constant()]
        except (IndexError, TypeError, ValueError) as e:
            raise UserError(e)
        return ConstantVariable(None)

    def _sort(self, tx, args, kwargs):
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


# ------------------------------------------------------------------ dicts and views
class DictVariable(ContainerVariable):
    """A dict (or an OrderedDict) with plain constant keys; values are trackers."""

    def __init__(self, items, source=None, dict_cls=dict):
        super().__init__(source)
        self.items = dict(items)
        self.dict_cls = dict_cls
        self.version = 0  # changes whenever the keys change (iterators compare it)

    def python_type(self):
        return self.dict_cls

    def truthy(self, tx):
        return bool(self.items)

    def _const_parts(self, walk):
        ok, height = _parts_height(walk, self.items.values())
        return ok and all(plain_value(k) for k in self.items), height

    def _build_const(self, walk):
        out = self.dict_cls()
        for k, v in self.items.items():
            out[k] = _as_const(v, walk)
        return out

    def unpack(self, tx):
        return LiveItems([ConstantVariable(k) for k in self.items], self)

    def iter_variable(self, tx):
        from .iterators import DictIteratorVariable
        return DictIteratorVariable(self, "keys")

    def reconstruct(self, cg):
        self._reconstruct_guard()
        if self.dict_cls is dict:
            return "{" + ", ".join(f"{cg.const(k)}: {cg(v)}" for k, v in self.items.items()) + "}"
        pairs = ", ".join(f"({cg.const(k)}, {cg(v)})" for k, v in self.items.items())
        return f"{cg.global_obj(self.dict_cls)}([{pairs}])"

    def contains(self, tx, item):
        return dict_key(item) in self.items

    def _changed(self, tx):
        tx.output.side_effects.mutate(tx, self)
        self.version += 1

    def _get(self, key):
        try:
            return self.items[key]
        except KeyError:
            raise UserError(KeyError(key)) from None

    def call_method(self, tx, name, args, kwargs):
        od = self.dict_cls is not dict
        cls_name = self.dict_cls.__name__
        if name == "__getitem__":
            _check_args(name, args, kwargs, 1, 1)
            return self._get(dict_key(args[0]))
        if name == "__len__":
            _check_args(name, args, kwargs, 0, 0)
            return ConstantVariable(len(self.items))
        if name == "__contains__":
            _check_args(name, args, kwargs, 1, 1)
            return ConstantVariable(dict_key(args[0]) in self.items)
        if name == "get":
            _check_args("get", args, kwargs, 1, 2)
            return self.items.get(dict_key(args[0]), args[1] if len(args) > 1 else ConstantVariable(None))
        if name in ("keys", "values", "items"):
            _check_args(name, args, kwargs, 0, 0)
            return DictViewVariable(self, name)
        if name == "__iter__":
            _check_args(name, args, kwargs, 0, 0)
            return self.iter_variable(tx)
        if name == "__reversed__":
            _check_args(name, args, kwargs, 0, 0)
            from .iterators import DictIteratorVariable
            return DictIteratorVariable(self, "keys", reverse=True)
        if name == "copy":
            _check_args("copy", args, kwargs, 0, 0)
            return DictVariable(self.items, dict_cls=self.dict_cls)
        if name == "__setitem__":
            _check_args(name, args, kwargs, 2, 2)
            k = dict_key(args[0])
            if k not in self.items:
                self._changed(tx)
            else:
                tx.output.side_effects.mutate(tx, self)
            self.items[k] = args[1]
            return ConstantVariable(None)
        if name == "__delitem__":
            _check_args(name, args, kwargs, 1, 1)
            k = dict_key(args[0])
            self._get(k)
            self._changed(tx)
            del self.items[k]
            return ConstantVariable(None)
        if name == "update":
            _check_args("update", args, kwargs, 0, 1, kw=tuple(kwargs))
            pairs = self._pairs(tx, args[0]) if args else []
            pairs += [(k, v) for k, v in kwargs.items()]
            self._set_pairs(tx, pairs)
            return ConstantVariable(None)
        if name == "pop":
            _check_args(f"{cls_name}.pop", args, kwargs, 1 if not (od and "key" in kwargs) else 0, 2,
                        kw=("key", "default") if od else ())
            a = _bind(args, kwargs, ("key", "default"))
            k = dict_key(a["key"])
            if k in self.items:
                self._changed(tx)
                return self.items.pop(k)
            if "default" in a:
                return a["default"]
            raise UserError(KeyError(k))
        if name == "popitem":
            _check_args(f"{cls_name}.popitem", args, kwargs, 0, 1 if od else 0, kw=("last",) if od else ())
            last = _bind(args, kwargs, ("last",)).get("last", ConstantVariable(True))
            if not last.is_python_constant():
                unsupported("OrderedDict.popitem(last=) of a traced value")
            if not self.items:
                raise UserError(KeyError("dictionary is empty" if od else "popitem(): dictionary is empty"))
            self._changed(tx)
            k = next(iter(self.items)) if not last.as_python_constant() else next(reversed(self.items))
            v = self.items.pop(k)
            return TupleVariable([ConstantVariable(k), v])
        if name == "setdefault":
            _check_args(f"{cls_name}.setdefault", args, kwargs, 0 if od and "key" in kwargs else 1, 2,
                        kw=("key", "default") if od else ())
            a = _bind(args, kwargs, ("key", "default"))
            k = dict_key(a["key"])
            if k in self.items:
                return self.items[k]
            self._changed(tx)
            self.items[k] = a.get("default", ConstantVariable(None))
            return self.items[k]
        if name == "clear":
            _check_args("clear", args, kwargs, 0, 0)
            self._changed(tx)
            self.items.clear()
            return ConstantVariable(None)
        if name == "move_to_end" and od:
            _check_args("move_to_end", args, kwargs, 0 if "key" in kwargs else 1, 2, kw=("key", "last"))
            a = _bind(args, kwargs, ("key", "last"))
            k = dict_key(a["key"])
            last = a.get("last", ConstantVariable(True))
            if not last.is_python_constant():
                unsupported("OrderedDict.move_to_end(last=) of a traced value")
            v = self._get(k)
            self._changed(tx)
            del self.items[k]
            if last.as_python_constant():
                self.items[k] = v
            else:
                self.items = {k: v, **self.items}
            return ConstantVariable(None)
        unsupported(f"{cls_name}.{name}")

    def merge_keywords(self, tx, other):
        """DICT_MERGE (f(**a, **b)): other's items added, raising CPython's TypeError for a key
        that is not a string or that is already there."""
        if not isinstance(other, DictVariable):
            unsupported(f"**{type(other).__name__} in a call (a mapping that is not a dict)")
        for k in other.items:
            if not isinstance(k, str):
                raise UserError(TypeError("keywords must be strings"))
            if k in self.items:
                raise UserError(TypeError(f"got multiple values for keyword argument '{k}'"))
        self._set_pairs(tx, list(other.items.items()))

    def _pairs(self, tx, src):
        """(key, value tracker) pairs of dict.update's positional argument."""
        if isinstance(src, DictVariable):
            return list(src.items.items())
        if not isinstance(src, (BaseListVariable, IteratorVariable, DictViewVariable, SetVariable)) and \
                not (src.is_python_constant() and isinstance(src.as_python_constant(), (tuple, list))):
            unsupported(f"dict.update from a {type(src).__name__}")
        out = []
        for n, kv in enumerate(_unpack_values(tx, src)):
            pair = kv.unpack(tx)
            if len(pair) != 2:
                raise UserError(ValueError(f"dictionary update sequence element #{n} has length {len(pair)}; "
                                           "2 is required"))
            out.append((dict_key(pair[0]), pair[1]))
        return out

    def _set_pairs(self, tx, pairs):
        if not pairs:
            return
        if any(k not in self.items for k, _ in pairs):
            self._changed(tx)
        else:
            tx.output.side_effects.mutate(tx, self)
        for k, v in pairs:
            self.items[k] = v

    def __repr__(self):
        return f"DictVariable({self.dict_cls.__name__}, {list(self.items)})"


def _bind(args, kwargs, names):
    """A call's arguments by parameter name (a positional and a keyword for one name: TypeError)."""
    out = dict(zip(names, args))
    for k, v in kwargs.items():
        if k in out:
            raise UserError(TypeError(f"argument for {k!r} given by name and position"))
        out[k] = v
    if names and names[0] not in out and names[0] == "key":
        raise UserError(TypeError("missing required argument 'key'"))
    return out


class DictViewVariable(ContainerVariable):
    """d.keys(), d.values(), d.items(): a view of the dict tracker, read when used."""

    def __init__(self, dict_vt, kind):
        super().__init__(None)
        self.dict_vt = dict_vt
        self.kind = kind

    def python_type(self):
        return type(getattr(self.dict_vt.dict_cls(), self.kind)())

    def _const_parts(self, walk):
        if self.kind == "values":
            # values views compare by identity: a view rebuilt at trace time would not be itself
            return False, 1
        if self.kind == "keys":
            return all(plain_value(k) for k in self.dict_vt.items), 1
        ok, height = _const_height(self.dict_vt, walk)
        return ok, height + 1

    def _build_const(self, walk):
        d = self.dict_vt
        if self.kind == "keys":
            return d.dict_cls.fromkeys(d.items).keys()
        return _as_const(d, walk).items()

    def truthy(self, tx):
        return bool(self.dict_vt.items)

    def _values(self):
        d = self.dict_vt.items
        if self.kind == "keys":
            return [ConstantVariable(k) for k in d]
        if self.kind == "values":
            return list(d.values())
        return [TupleVariable([ConstantVariable(k), v]) for k, v in d.items()]

    def unpack(self, tx):
        return LiveItems(self._values(), self)

    def iter_variable(self, tx):
        from .iterators import DictIteratorVariable
        return DictIteratorVariable(self.dict_vt, self.kind)

    def contains(self, tx, item):
        d = self.dict_vt.items
        if self.kind == "keys":
            return dict_key(item) in d
        if self.kind == "items":
            if isinstance(item, TupleVariable) or (is_plain_constant(item) and
                                                   isinstance(item.as_python_constant(), tuple)):
                pair = item.unpack(tx)
            elif isinstance(item, ContainerVariable) or is_plain_constant(item):
                return False  # not a tuple
            else:
                unsupported("`in` a dict's items() view with a value that may be a tuple subclass")
            if len(pair) != 2:
                return False
            k = dict_key(pair[0])
            return k in d and values_equal(tx, d[k], pair[1])
        return any(values_equal(tx, v, item) for v in list(d.values()))

    def call_method(self, tx, name, args, kwargs):
        if name == "__len__":
            _check_args(name, args, kwargs, 0, 0)
            return ConstantVariable(len(self.dict_vt.items))
        if name == "__contains__":
            _check_args(name, args, kwargs, 1, 1)
            return ConstantVariable(self.contains(tx, args[0]))
        if name == "__iter__":
            _check_args(name, args, kwargs, 0, 0)
            return self.iter_variable(tx)
        if name == "__reversed__":
            _check_args(name, args, kwargs, 0, 0)
            from .iterators import DictIteratorVariable
            return DictIteratorVariable(self.dict_vt, self.kind, reverse=True)
        if name == "isdisjoint" and self.is_python_constant() and all(a.is_python_constant() for a in args):
            _check_args(name, args, kwargs, 1, 1)
            try:
                return ConstantVariable(self.as_python_constant().isdisjoint(args[0].as_python_constant()))
            except TypeError as e:
                raise UserError(e)
        unsupported(f"{self.python_type().__name__}.{name}")

    def reconstruct(self, cg):
        return f"{cg(self.dict_vt)}.{self.kind}()"

    def __repr__(self):
        return f"DictViewVariable({self.kind})"


# ------------------------------------------------------------------ sets
class _SetItems(list):
    """A set's items in iteration order, remembering the trackers the set was built from (the
    interpreter's SET_ADD writes `s.items = SetVariable(s.items + [v]).items`)."""

    def __init__(self, items, built_from):
        super().__init__(items)
        self.built_from = built_from


class SetVariable(ContainerVariable):
    """A set of plain constants. `real` is a real set changed by the same operations as the
    program's (so iteration order and pop() are CPython's); `members` maps each value to its
    tracker. When the set was changed in a way whose effect on the order is not known,
    `ordered` is False: its size and members are exact, its order is not, so nothing that
    depends on the order (iteration, pop, repr, folding, rebuilding it) is traced."""

    def __init__(self, items, source=None):
        super().__init__(source)
        self.real = set()
        self.members = {}
        self.ordered = True
        self.version = 0  # changes with every mutation (iterators compare it)
        self._built_from = list(items)
        for i in self._built_from:  # BUILD_SET, set(iterable): one insertion per item, in order
            self._add(i)

    def _add(self, vt):
        k = dict_key(vt)
        if k not in self.real:
            self.real.add(k)
            self.members[k] = vt

    @property
    def items(self):
        return _SetItems([self.members[v] for v in self.real], self._built_from)

    @items.setter
    def items(self, new):
        old = [self.members[v] for v in self.real]
        built = getattr(new, "built_from", None)
        self.version += 1
        if built is not None and len(built) >= len(old) and all(a is b for a, b in zip(built, old)):
            extra = built[len(old):]
        else:
            extra, self.ordered = list(new), False
        for vt in extra:
            self._add(vt)
        if len(extra) > 1:
            # SET_UPDATE: CPython merges a set or frozenset table to table but inserts the
            # items of other iterables one by one; which it was is not known here
            self.ordered = False

    def python_type(self):
        return set

    def truthy(self, tx):
        return bool(self.real)

    def _need_order(self, what):
        if not self.ordered:
            unsupported(f"{what} of a set whose iteration order is not known at trace time (it was "
                        "updated from several values at once)")

    def _const_parts(self, walk):
        return self.ordered, 1

    def _build_const(self, walk):
        # the set itself, not a copy: a copy's table (so its order) can differ; folds only read it
        return self.real

    def unpack(self, tx):
        self._need_order("iterating")
        return LiveItems([self.members[v] for v in self.real], self)

    def iter_variable(self, tx):
        self._need_order("iterating")
        from .iterators import SetIteratorVariable
        return SetIteratorVariable(self)

    def getitem(self, tx, key):
        raise UserError(TypeError("'set' object is not subscriptable"))

    def reconstruct(self, cg):
        self._need_order("rebuilding")
        if not self.real:
            return "set()"
        order = list(self.real)
        rebuilt = set()
        for v in order:  # what the set display below does
            rebuilt.add(v)
        if list(rebuilt) != order or sys.getsizeof(rebuilt) != sys.getsizeof(self.real):
            unsupported("rebuilding a set whose layout a set display would not reproduce")
        return "{" + ", ".join(cg(self.members[v]) for v in order) + "}"

    def contains(self, tx, item):
        return dict_key(item) in self.real

    def _operand(self, tx, vt):
        """(real value, {value: tracker}) of a set method's argument: a set's own real set, a
        frozenset or other plain constant, or the plain values of an iterable, in order."""
        if isinstance(vt, SetVariable):
            if not vt.ordered:
                self.ordered = False
            return vt.real, vt.members
        if isinstance(vt, DictVariable) and vt.dict_cls is dict:
            # CPython has a path of its own for an exact dict (presized): a real dict takes it
            return dict.fromkeys(vt.items), {}
        if vt.is_python_constant() and not isinstance(vt, ContainerVariable):
            v = vt.as_python_constant()
            if not plain_value(v):
                unsupported("a set operation with a value that is not a plain constant")
            return v, {}
        items = _unpack_values(tx, vt)
        values = [dict_key(i) for i in items]
        return values, dict(zip(values, items))

    def _result(self, real, maps, ordered):
        r = SetVariable([])
        r.real = real
        r.ordered = ordered
        for v in real:
            for m in maps:
                if v in m:
                    r.members[v] = m[v]
                    break
            else:
                r.members[v] = ConstantVariable(v)
        return r

    def call_method(self, tx, name, args, kwargs):
        if kwargs:
            raise UserError(TypeError(f"set.{name}() takes no keyword arguments"))
        if name == "__len__":
            _check_args(name, args, kwargs, 0, 0)
            return ConstantVariable(len(self.real))
        if name == "__contains__":
            _check_args(name, args, kwargs, 1, 1)
            return ConstantVariable(self.contains(tx, args[0]))
        if name == "__iter__":
            _check_args(name, args, kwargs, 0, 0)
            return self.iter_variable(tx)
        if name == "copy":
            _check_args(name, args, kwargs, 0, 0)
            return self._result(self.real.copy(), [self.members], self.ordered)
        if name in ("union", "intersection", "difference", "symmetric_difference", "issubset", "issuperset",
                    "isdisjoint"):
            was = self.ordered
            ops = [self._operand(tx, a) for a in args]
            ordered, self.ordered = self.ordered, was
            try:
                r = getattr(self.real, name)(*[o[0] for o in ops])
            except TypeError as e:
                raise UserError(e)
            if isinstance(r, bool):
                return ConstantVariable(r)
            return self._result(r, [self.members] + [o[1] for o in ops], ordered)
        if name in ("add", "discard", "remove"):
            _check_args(f"set.{name}", args, kwargs, 1, 1)
            k = dict_key(args[0])
            if name == "remove" and k not in self.real:
                raise UserError(KeyError(k))
            tx.output.side_effects.mutate(tx, self)
            self.version += 1
            if name == "add":
                self._add(args[0])
            else:
                self.real.discard(k)
                self.members.pop(k, None)
            return ConstantVariable(None)
        if name in ("pop", "clear"):
            _check_args(f"set.{name}", args, kwargs, 0, 0)
            tx.output.side_effects.mutate(tx, self)
            self.version += 1
            if name == "clear":
                self.real.clear()
                self.members.clear()
                return ConstantVariable(None)
            self._need_order("set.pop()")
            if not self.real:
                raise UserError(KeyError("pop from an empty set"))
            return self.members.pop(self.real.pop())
        if name in ("update", "intersection_update", "difference_update", "symmetric_difference_update"):
            ops = [self._operand(tx, a) for a in args]
            tx.output.side_effects.mutate(tx, self)
            self.version += 1
            try:
                getattr(self.real, name)(*[o[0] for o in ops])
            except TypeError as e:
                raise UserError(e)
            before = self.members
            self.members = {}
            for v in self.real:
                for m in [before] + [o[1] for o in ops]:
                    if v in m:
                        self.members[v] = m[v]
                        break
                else:
                    self.members[v] = ConstantVariable(v)
            return ConstantVariable(None)
        unsupported(f"set.{name}")

    def __repr__(self):
        return f"SetVariable({len(self.real)} items)"


# ------------------------------------------------------------------ slices and iterators
class SliceVariable(VariableTracker):
    def __init__(self, start, stop, step):
        super().__init__(None)
        self.parts = (start, stop, step)

    def is_python_constant(self):
        return all(p.is_python_constant() for p in self.parts)

    def as_python_constant(self):
        return slice(*[p.as_python_constant() for p in self.parts])


class IteratorVariable(VariableTracker):
    """An iterator. Made from a list of trackers it yields them in order (an iterator over an
    immutable sequence: a tuple, a range, a string); made from a container's unpack() (what
    GET_ITER does) it is that container's live iterator. Subclasses (iterators.py) model
    list, dict and set iterators, zip, map, filter, enumerate and reversed."""

    def __init__(self, items=()):
        super().__init__(None)
        self._live = None
        if isinstance(items, LiveItems):
            self._live = items.container.iter_variable(None)
            self.items = []
        else:
            self.items = list(items)
        self.index = 0

    def python_type(self):
        if self._live is not None:
            return self._live.python_type()
        unsupported("type of an iterator")

    def truthy(self, tx):
        return True

    def next_item(self, tx=None):
        """The next tracker, or None when the iterator is exhausted."""
        if self._live is not None:
            return self._live.next_item(tx)
        if self.index >= len(self.items):
            return None
        v = self.items[self.index]
        self.index += 1
        return v

    def unpack(self, tx):
        if self._live is not None:
            return self._live.unpack(tx)
        rest = self.items[self.index:]
        self.index = len(self.items)
        return rest

    def iter_variable(self, tx):
        return self

    def var_getattr(self, tx, name):
        if name in ("__next__", "__iter__"):
            return BoundMethodVariable(self, name)
        unsupported(f"attribute {name} of an iterator")

    def call_method(self, tx, name, args, kwargs):
        if name == "__iter__" and not args and not kwargs:
            return self
        if name == "__next__" and not args and not kwargs:
            v = self.next_item(tx)
            if v is None:
                raise UserError(StopIteration())
            return v
        unsupported(f"iterator.{name}")

    def __repr__(self):
        return f"{type(self).__name__}()"
