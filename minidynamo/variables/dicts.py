"""Dicts (and OrderedDicts) with plain constant keys, and their views.

A dict view reads its dict when used (a view sees later changes); an iterator over a dict or a
view reads the dict at each step, and raises if the dict changed size, as in CPython.
"""
from .base import ConstantVariable, UserError, unsupported
from .containers import (ContainerVariable, LiveItems, _as_const, _check_args, _const_height, _parts_height,
                         _unpack_values, dict_key, is_plain_constant, plain_value, values_equal)
from .iterators import DictIteratorVariable, IteratorVariable
from .lists import BaseListVariable, TupleVariable


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
        methods = self._DICT_METHODS if self.dict_cls is dict else self._ORDERED_DICT_METHODS
        handler = methods.get(name)
        if handler is None:
            unsupported(f"{self.dict_cls.__name__}.{name}")
        return handler(self, tx, name, args, kwargs)

    # Method handlers: handler(self, tx, name, args, kwargs), as call_method is called.
    def _call_getitem(self, tx, name, args, kwargs):
        _check_args(name, args, kwargs, 1, 1)
        return self._get(dict_key(args[0]))

    def _call_len(self, tx, name, args, kwargs):
        _check_args(name, args, kwargs, 0, 0)
        return ConstantVariable(len(self.items))

    def _call_get(self, tx, name, args, kwargs):
        _check_args("get", args, kwargs, 1, 2)
        return self.items.get(dict_key(args[0]), args[1] if len(args) > 1 else ConstantVariable(None))

    def _call_view(self, tx, name, args, kwargs):
        """keys(), values(), items()."""
        _check_args(name, args, kwargs, 0, 0)
        return DictViewVariable(self, name)

    def _call_reversed(self, tx, name, args, kwargs):
        _check_args(name, args, kwargs, 0, 0)
        return DictIteratorVariable(self, "keys", reverse=True)

    def _call_copy(self, tx, name, args, kwargs):
        _check_args("copy", args, kwargs, 0, 0)
        return DictVariable(self.items, dict_cls=self.dict_cls)

    def _call_setitem(self, tx, name, args, kwargs):
        _check_args(name, args, kwargs, 2, 2)
        k = dict_key(args[0])
        if k not in self.items:
            self._changed(tx)
        else:
            tx.output.side_effects.mutate(tx, self)
        self.items[k] = args[1]
        return ConstantVariable(None)

    def _call_delitem(self, tx, name, args, kwargs):
        _check_args(name, args, kwargs, 1, 1)
        k = dict_key(args[0])
        self._get(k)
        self._changed(tx)
        del self.items[k]
        return ConstantVariable(None)

    def _call_update(self, tx, name, args, kwargs):
        _check_args("update", args, kwargs, 0, 1, kw=tuple(kwargs))
        pairs = self._pairs(tx, args[0]) if args else []
        pairs += [(k, v) for k, v in kwargs.items()]
        self._set_pairs(tx, pairs)
        return ConstantVariable(None)

    def _call_pop(self, tx, name, args, kwargs):
        od = self.dict_cls is not dict
        _check_args(f"{self.dict_cls.__name__}.pop", args, kwargs, 1 if not (od and "key" in kwargs) else 0, 2,
                    kw=("key", "default") if od else ())
        a = _bind(args, kwargs, ("key", "default"))
        k = dict_key(a["key"])
        if k in self.items:
            self._changed(tx)
            return self.items.pop(k)
        if "default" in a:
            return a["default"]
        raise UserError(KeyError(k))

    def _call_popitem(self, tx, name, args, kwargs):
        od = self.dict_cls is not dict
        _check_args(f"{self.dict_cls.__name__}.popitem", args, kwargs, 0, 1 if od else 0, kw=("last",) if od else ())
        last = _bind(args, kwargs, ("last",)).get("last", ConstantVariable(True))
        if not last.is_python_constant():
            unsupported("OrderedDict.popitem(last=) of a traced value")
        if not self.items:
            raise UserError(KeyError("dictionary is empty" if od else "popitem(): dictionary is empty"))
        self._changed(tx)
        k = next(iter(self.items)) if not last.as_python_constant() else next(reversed(self.items))
        v = self.items.pop(k)
        return TupleVariable([ConstantVariable(k), v])

    def _call_setdefault(self, tx, name, args, kwargs):
        od = self.dict_cls is not dict
        _check_args(f"{self.dict_cls.__name__}.setdefault", args, kwargs, 0 if od and "key" in kwargs else 1, 2,
                    kw=("key", "default") if od else ())
        a = _bind(args, kwargs, ("key", "default"))
        k = dict_key(a["key"])
        if k in self.items:
            return self.items[k]
        self._changed(tx)
        self.items[k] = a.get("default", ConstantVariable(None))
        return self.items[k]

    def _call_clear(self, tx, name, args, kwargs):
        _check_args("clear", args, kwargs, 0, 0)
        self._changed(tx)
        self.items.clear()
        return ConstantVariable(None)

    def _call_move_to_end(self, tx, name, args, kwargs):
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

    _DICT_METHODS = {
        "__getitem__": _call_getitem,
        "__len__": _call_len,
        "__contains__": ContainerVariable.protocol_method,
        "__iter__": ContainerVariable.protocol_method,
        "get": _call_get,
        "keys": _call_view,
        "values": _call_view,
        "items": _call_view,
        "__reversed__": _call_reversed,
        "copy": _call_copy,
        "__setitem__": _call_setitem,
        "__delitem__": _call_delitem,
        "update": _call_update,
        "pop": _call_pop,
        "popitem": _call_popitem,
        "setdefault": _call_setdefault,
        "clear": _call_clear,
    }
    _ORDERED_DICT_METHODS = {**_DICT_METHODS, "move_to_end": _call_move_to_end}

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
        from .sets import SetVariable  # cycle: sets.py imports this module
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
        if name in ("__contains__", "__iter__"):
            return self.protocol_method(tx, name, args, kwargs)
        if name == "__reversed__":
            _check_args(name, args, kwargs, 0, 0)
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
