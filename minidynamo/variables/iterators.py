"""Iterators as CPython makes them: over a list, a dict (or a view of it) and a set they read
the container at each step; zip, map, filter and enumerate pull from their iterators one item
at a time, only when asked, so an iterator shared with later code is left where CPython leaves
it.

next_item(tx) returns the next tracker or None when the iterator is exhausted; an exception
the real iterator would raise (a dict that changed size, zip(strict=True) of unequal lengths)
is a UserError, so the frame runs eagerly and raises it itself. Where CPython's behaviour
depends on what cannot be modelled (a dict whose keys changed but not their number: which
entries a dict iterator visits then depends on the hash table), the iterator raises
Unsupported instead.
"""
from .base import BoundMethodVariable, ConstantVariable, UserError, VariableTracker, unsupported
from .containers import LiveItems
from .lists import TupleVariable


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


def _drain(it, tx):
    out = []
    while True:
        v = it.next_item(tx)
        if v is None:
            return out
        out.append(v)


class _Iterator(IteratorVariable):
    """Base of the iterators below (no fixed item list)."""

    def __init__(self, output=None):
        IteratorVariable.__init__(self, ())
        self.output = output

    def _tx(self, tx):
        if tx is None and self.output is not None:
            tx = self.output.current_tx  # FOR_ITER asks without one: the innermost running frame
        return tx

    def python_type(self):
        return self.kind

    def unpack(self, tx):
        return _drain(self, tx)


class ListIteratorVariable(_Iterator):
    """iter(list): the item at the index, while the index is inside the list as it is now; once
    exhausted it stays exhausted (even if the list grows)."""

    kind = type(iter([]))

    def __init__(self, list_vt):
        super().__init__()
        self.seq = list_vt
        self.pos = 0

    def next_item(self, tx=None):
        if self.seq is None:
            return None
        items = self.seq.items
        if self.pos < len(items):
            v = items[self.pos]
            self.pos += 1
            return v
        self.seq = None
        return None


class ListReverseIteratorVariable(_Iterator):
    """reversed(list): from the last index down, while the index is inside the list."""

    kind = type(reversed([]))

    def __init__(self, list_vt):
        super().__init__()
        self.seq = list_vt
        self.pos = len(list_vt.items) - 1

    def next_item(self, tx=None):
        if self.seq is None:
            return None
        items = self.seq.items
        if 0 <= self.pos < len(items):
            v = items[self.pos]
            self.pos -= 1
            return v
        self.seq = None
        return None


class DictIteratorVariable(_Iterator):
    """iter(d), iter(d.values()), iter(d.items()) and their reversed(): the keys in the order
    they had when the iterator was made, each value read when reached. A change of size raises
    RuntimeError at the next step, as in CPython; other changes of the keys are not modelled."""

    def __init__(self, dict_vt, what, reverse=False):
        super().__init__()
        self.d = dict_vt
        self.what = what
        self.reverse = reverse
        self.keys = list(dict_vt.items)
        if reverse:
            self.keys.reverse()
        self.size = len(self.keys)
        self.version = dict_vt.version
        self.pos = 0
        self.broken = False

    def python_type(self):
        view = getattr(self.d.dict_cls(), self.what)()
        return type(reversed(view) if self.reverse else iter(view))

    def next_item(self, tx=None):
        d = self.d
        if self.broken or len(d.items) != self.size:
            self.broken = True
            name = "OrderedDict" if d.dict_cls is not dict else "dictionary"
            raise UserError(RuntimeError(f"{name} changed size during iteration"))
        if d.version != self.version:
            now = list(d.items)
            if self.reverse:
                now.reverse()
            if d.dict_cls is not dict or len(now) != len(self.keys) or \
                    any(a is not b and a != b for a, b in zip(now, self.keys)):
                unsupported("a dict whose keys changed (not their number) while it was iterated")
            self.version = d.version
        if self.pos >= len(self.keys):
            return None
        k = self.keys[self.pos]
        self.pos += 1
        if self.what == "keys":
            return ConstantVariable(k)
        if self.what == "values":
            return d.items[k]
        return TupleVariable([ConstantVariable(k), d.items[k]])


class SetIteratorVariable(_Iterator):
    """iter(s): the values in the set's iteration order; a change of size raises RuntimeError
    at the next step, as in CPython."""

    kind = type(iter(set()))

    def __init__(self, set_vt):
        super().__init__()
        self.s = set_vt
        self.order = list(set_vt.real)
        self.size = len(self.order)
        self.version = set_vt.version
        self.pos = 0
        self.broken = False

    def next_item(self, tx=None):
        s = self.s
        if self.broken or len(s.real) != self.size:
            self.broken = True
            raise UserError(RuntimeError("Set changed size during iteration"))
        if s.version != self.version:
            if list(s.real) != self.order or not s.ordered:
                unsupported("a set whose members changed (not their number) while it was iterated")
            self.version = s.version
        if self.pos >= len(self.order):
            return None
        v = self.order[self.pos]
        self.pos += 1
        return s.members[v]


class ZipVariable(_Iterator):
    """zip(*iterators): one item from each, in order, until one is exhausted (the items already
    taken from the ones before it in that round are dropped, as CPython drops them)."""

    kind = zip

    def __init__(self, iterators, strict, output):
        super().__init__(output)
        self.iterators = list(iterators)
        self.strict = strict

    def next_item(self, tx=None):
        tx = self._tx(tx)
        if not self.iterators:
            return None
        out = []
        for i, it in enumerate(self.iterators):
            v = it.next_item(tx)
            if v is None:
                if self.strict:
                    self._check_strict(tx, i)
                return None
            out.append(v)
        return TupleVariable(out)

    def _check_strict(self, tx, i):
        if i > 0:
            plural = " " if i == 1 else "s 1-"
            raise UserError(ValueError(f"zip() argument {i + 1} is shorter than argument{plural}{i}"))
        for j, it in enumerate(self.iterators[1:], start=1):
            if it.next_item(tx) is not None:
                plural = " " if j == 1 else "s 1-"
                raise UserError(ValueError(f"zip() argument {j + 1} is longer than argument{plural}{j}"))


class MapVariable(_Iterator):
    """map(fn, *iterators): fn called on one item of each, when the next item is asked for."""

    kind = map

    def __init__(self, fn, iterators, output):
        super().__init__(output)
        self.func = fn  # not `fn`: trackers with .fn/.value are taken for real objects
        self.iterators = list(iterators)

    def next_item(self, tx=None):
        tx = self._tx(tx)
        args = []
        for it in self.iterators:
            v = it.next_item(tx)
            if v is None:
                return None
            args.append(v)
        return self.func.call_function(tx, args, {})


class FilterVariable(_Iterator):
    """filter(fn, iterator): the next item whose fn(item) (or the item itself, for None and
    bool) is true."""

    kind = filter

    def __init__(self, fn, iterator, output):
        super().__init__(output)
        self.func = fn
        self.iterator = iterator
        f = getattr(fn, "fn", None)
        self.plain = (fn.is_python_constant() and fn.as_python_constant() is None) or f is bool

    def next_item(self, tx=None):
        tx = self._tx(tx)
        while True:
            v = self.iterator.next_item(tx)
            if v is None:
                return None
            keep = v if self.plain else self.func.call_function(tx, [v], {})
            if keep.truthy(tx):
                return v


class EnumerateVariable(_Iterator):
    """enumerate(iterator, start): (count, item) pairs, one item at a time."""

    kind = enumerate

    def __init__(self, iterator, start, output):
        super().__init__(output)
        self.iterator = iterator
        self.count = start

    def next_item(self, tx=None):
        v = self.iterator.next_item(self._tx(tx))
        if v is None:
            return None
        r = TupleVariable([ConstantVariable(self.count), v])
        self.count += 1
        return r


class ConstantIteratorVariable(_Iterator):
    """iter() of a constant (a range, a string, a tuple, a frozenset...): its real iterator,
    one item at a time (iterating range(10**7) must not make ten million trackers first)."""

    def __init__(self, value):
        super().__init__()
        self.it = iter(value)
        self.kind = type(self.it)

    def next_item(self, tx=None):
        try:
            return ConstantVariable(next(self.it))
        except StopIteration:
            return None
