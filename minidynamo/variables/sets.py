"""Sets of plain constants.

A set keeps a real set of its values, changed by the same operations as the program's own, so
its iteration order is CPython's.
"""
import sys

from .base import ConstantVariable, UserError, unsupported
from .containers import ContainerVariable, LiveItems, _check_args, _unpack_values, dict_key, plain_value
from .dicts import DictVariable
from .iterators import SetIteratorVariable


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
        """A new set whose real set is real, its members' trackers from maps (see _members_of)."""
        r = SetVariable([])
        r.real = real
        r.ordered = ordered
        r.members = r._members_of(maps)
        return r

    def call_method(self, tx, name, args, kwargs):
        if kwargs:
            raise UserError(TypeError(f"set.{name}() takes no keyword arguments"))
        handler = self._METHODS.get(name)
        if handler is None:
            unsupported(f"set.{name}")
        return handler(self, tx, name, args, kwargs)

    def _members_of(self, maps):
        """{value: tracker} for the values of self.real: each from the first map that has it."""
        members = {}
        for v in self.real:
            for m in maps:
                if v in m:
                    members[v] = m[v]
                    break
            else:
                members[v] = ConstantVariable(v)
        return members

    # Method handlers: handler(self, tx, name, args, kwargs), as call_method is called.
    def _call_len(self, tx, name, args, kwargs):
        _check_args(name, args, kwargs, 0, 0)
        return ConstantVariable(len(self.real))

    def _call_copy(self, tx, name, args, kwargs):
        _check_args(name, args, kwargs, 0, 0)
        return self._result(self.real.copy(), [self.members], self.ordered)

    def _call_algebra(self, tx, name, args, kwargs):
        """union, intersection, difference, symmetric_difference, issubset, issuperset,
        isdisjoint: the real set's method on the operands' real values."""
        was = self.ordered
        ops = [self._operand(tx, a) for a in args]
        # _operand marks self unordered for an unordered operand: that is the result's order, not self's
        ordered, self.ordered = self.ordered, was
        try:
            r = getattr(self.real, name)(*[o[0] for o in ops])
        except TypeError as e:
            raise UserError(e)
        if isinstance(r, bool):
            return ConstantVariable(r)
        return self._result(r, [self.members] + [o[1] for o in ops], ordered)

    def _call_add_discard_remove(self, tx, name, args, kwargs):
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

    def _call_pop(self, tx, name, args, kwargs):
        _check_args(f"set.{name}", args, kwargs, 0, 0)
        tx.output.side_effects.mutate(tx, self)
        self.version += 1
        self._need_order("set.pop()")
        if not self.real:
            raise UserError(KeyError("pop from an empty set"))
        return self.members.pop(self.real.pop())

    def _call_clear(self, tx, name, args, kwargs):
        _check_args(f"set.{name}", args, kwargs, 0, 0)
        tx.output.side_effects.mutate(tx, self)
        self.version += 1
        self.real.clear()
        self.members.clear()
        return ConstantVariable(None)

    def _call_update(self, tx, name, args, kwargs):
        """update, intersection_update, difference_update, symmetric_difference_update."""
        ops = [self._operand(tx, a) for a in args]
        tx.output.side_effects.mutate(tx, self)
        self.version += 1
        try:
            getattr(self.real, name)(*[o[0] for o in ops])
        except TypeError as e:
            raise UserError(e)
        self.members = self._members_of([self.members] + [o[1] for o in ops])
        return ConstantVariable(None)

    _METHODS = {
        "__len__": _call_len,
        "__contains__": ContainerVariable.protocol_method,
        "__iter__": ContainerVariable.protocol_method,
        "copy": _call_copy,
        **dict.fromkeys(("union", "intersection", "difference", "symmetric_difference", "issubset", "issuperset",
                         "isdisjoint"), _call_algebra),
        **dict.fromkeys(("add", "discard", "remove"), _call_add_discard_remove),
        "pop": _call_pop,
        "clear": _call_clear,
        **dict.fromkeys(("update", "intersection_update", "difference_update", "symmetric_difference_update"),
                        _call_update),
    }

    def __repr__(self):
        return f"SetVariable({len(self.real)} items)"
