"""What the container trackers share: plain values, constants, equality, ContainerVariable.

The trackers themselves are in lists.py (tuples, lists, slices), dicts.py (dicts and dict
views) and sets.py; iterators over them are in iterators.py. Those modules import this one, so
the few helpers here that name their classes import them inside the function.

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
"""
import collections
import enum
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
_PLAIN_TYPES = {}  # id(type) -> (type, plain?), for builtin types only (see plain_type)


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
    if getattr(t, "__module__", None) == "builtins":
        # the answer is kept only for builtins: their dunders cannot be reassigned, while a
        # class can be given an __eq__ after it was first looked at
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
        # id(container) -> (constant?, nesting height): nothing changes during one walk, so
        # the answer for a shared container holds wherever else it appears
        self.done = {}
        self.memo = {}        # id(container) -> its value: shared in the value as in the trackers


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
            # a tuple's value, kept on it: its items never change, and folding it again must
            # give the same object, as a tuple is one object in CPython
            hit = vt.__dict__.get("_const_value")
        if hit is not None:
            return hit
        r = vt._build_const(walk)
        walk.memo[id(vt)] = r
        from .lists import TupleVariable  # cycle: lists.py imports this module
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
    from .dicts import DictVariable, DictViewVariable  # cycle: these modules import this one
    from .lists import ListVariable, TupleVariable
    from .sets import SetVariable
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
    ia, ib = identity_eq(a), identity_eq(b)
    if ia and ib and getattr(tx, "identical", None) is not None:
        return tx.identical(a, b)  # object's __eq__ on both sides: identity (guarded when needed)
    if (ia and (ta is not None or cb)) or (ib and (tb is not None or ca)):
        return False  # a builtin value and an object without __eq__: never equal
    unsupported(f"comparing {type(a).__name__} with {type(b).__name__} (the answer would need their __eq__)")


def identity_eq(vt):
    """Whether vt is an object (not a container, constant or tensor) whose type compares with
    object's own __eq__ and __ne__: by identity (a user object, a function, a class)."""
    value = getattr(vt, "value", None)
    if value is None:
        value = getattr(vt, "fn", None)
    if value is None or isinstance(vt, (ContainerVariable, ConstantVariable)) or vt.is_python_constant():
        return False
    t = type(value)
    return t.__eq__ is object.__eq__ and t.__ne__ is object.__ne__


def _known_type(vt):
    """The exact builtin type of a tracker when it is one this module compares, else None."""
    from .dicts import DictVariable  # cycle: these modules import this one
    from .lists import ListVariable, TupleVariable
    from .sets import SetVariable
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

    def protocol_method(self, tx, name, args, kwargs):
        """`__contains__` and `__iter__`, which every container answers alike."""
        if name == "__contains__":
            _check_args(name, args, kwargs, 1, 1)
            return ConstantVariable(self.contains(tx, args[0]))
        _check_args(name, args, kwargs, 0, 0)
        return self.iter_variable(tx)

    def iter_variable(self, tx):
        """iter(self), as CPython makes it."""
        from .iterators import IteratorVariable  # cycle: iterators.py imports this module
        return IteratorVariable(self.unpack(tx))

    def _reconstruct_guard(self):
        """Rebuilding a value in generated code: cycles and deep nesting fall back."""
        if _nesting_too_deep(self):
            unsupported("rebuilding a container that contains itself or is nested too deeply")


def _children(v):
    from .dicts import DictVariable, DictViewVariable  # cycle: these modules import this one
    from .lists import BaseListVariable
    from .sets import SetVariable
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
