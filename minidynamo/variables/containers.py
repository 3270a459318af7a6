"""Tuples, lists, dicts, sets, slices, ranges and iterators of trackers."""
from .base import BoundMethodVariable, ConstantVariable, UserError, VariableTracker, unsupported


def _method(vt, tx, name):
    """list.append, dict.items, ...: a bound method answered by vt.call_method."""
    kind = vt.python_type()
    if callable(getattr(kind, name, None)):
        return BoundMethodVariable(vt, name)
    raise UserError(AttributeError(f"'{kind.__name__}' object has no attribute '{name}'"))


def _const_items(items):
    return all(i.is_python_constant() for i in items)


class BaseListVariable(VariableTracker):
    kind = list

    def __init__(self, items, source=None):
        super().__init__(source)
        self.items = list(items)

    def python_type(self):
        return self.kind

    def is_python_constant(self):
        return _const_items(self.items)

    def as_python_constant(self):
        return self.kind(i.as_python_constant() for i in self.items)

    def truthy(self, tx):
        return bool(self.items)

    def unpack(self, tx):
        return list(self.items)

    def var_getattr(self, tx, name):
        return _method(self, tx, name)

    def getitem(self, tx, key):
        if isinstance(key, slice):
            return type(self)(self.items[key])
        try:
            return self.items[key]
        except (IndexError, TypeError) as e:
            raise UserError(e)

    def __repr__(self):
        return f"{type(self).__name__}({self.items})"


class TupleVariable(BaseListVariable):
    kind = tuple

    def reconstruct(self, cg):
        inner = ", ".join(cg(i) for i in self.items)
        return f"({inner},)" if len(self.items) == 1 else f"({inner})"

    def call_method(self, tx, name, args, kwargs):
        if name == "__getitem__":
            return self.getitem(tx, args[0].as_python_constant())
        if name in ("index", "count") and all(a.is_python_constant() for a in args) and self.is_python_constant():
            try:
                return ConstantVariable(getattr(self.as_python_constant(), name)(*[a.as_python_constant() for a in args]))
            except ValueError as e:
                raise UserError(e)
        if name == "__len__":
            return ConstantVariable(len(self.items))
        unsupported(f"tuple.{name}")


class NamedTupleVariable(TupleVariable):
    def __init__(self, items, tuple_cls, source=None):
        super().__init__(items, source)
        self.tuple_cls = tuple_cls

    def python_type(self):
        return self.tuple_cls

    def as_python_constant(self):
        return self.tuple_cls(*[i.as_python_constant() for i in self.items])

    def var_getattr(self, tx, name):
        fields = getattr(self.tuple_cls, "_fields", None)
        if fields and name in fields:
            return self.items[fields.index(name)]
        if name in ("values", "indices") and len(self.items) == 2:
            return self.items[0 if name == "values" else 1]
        unsupported(f"attribute {name} of {self.tuple_cls.__name__}")

    def reconstruct(self, cg):
        return f"{cg.global_obj(self.tuple_cls)}({', '.join(cg(i) for i in self.items)})"


class ListVariable(BaseListVariable):
    kind = list

    def reconstruct(self, cg):
        return "[" + ", ".join(cg(i) for i in self.items) + "]"

    def call_method(self, tx, name, args, kwargs):
        se = tx.output.side_effects
        if name == "__getitem__":
            return self.getitem(tx, args[0].as_python_constant())
        if name == "__len__":
            return ConstantVariable(len(self.items))
        if name in ("index", "count"):
            if not (self.is_python_constant() and all(a.is_python_constant() for a in args)):
                unsupported(f"list.{name} on traced values")
            try:
                return ConstantVariable(getattr(self.as_python_constant(), name)(*[a.as_python_constant() for a in args]))
            except ValueError as e:
                raise UserError(e)
        if name == "copy":
            return ListVariable(self.items)
        # mutations
        mutating = {"append", "extend", "insert", "pop", "clear", "reverse", "__setitem__",
                    "__delitem__", "remove", "sort"}
        if name not in mutating:
            unsupported(f"list.{name}")
        se.mutate(tx, self)
        if name == "append":
            self.items.append(args[0])
        elif name == "extend":
            self.items.extend(args[0].unpack(tx))
        elif name == "insert":
            self.items.insert(args[0].as_python_constant(), args[1])
        elif name == "pop":
            idx = args[0].as_python_constant() if args else -1
            try:
                return self.items.pop(idx)
            except IndexError as e:
                raise UserError(e)
        elif name == "clear":
            self.items.clear()
        elif name == "reverse":
            self.items.reverse()
        elif name == "__setitem__":
            key = args[0].as_python_constant()
            if isinstance(key, slice):
                self.items[key] = args[1].unpack(tx)
            else:
                try:
                    self.items[key] = args[1]
                except IndexError as e:
                    raise UserError(e)
        elif name == "__delitem__":
            try:
                del self.items[args[0].as_python_constant()]
            except IndexError as e:
                raise UserError(e)
        elif name == "remove":
            if not args[0].is_python_constant():
                unsupported("list.remove of a traced value")
            for i, it in enumerate(self.items):
                if it.is_python_constant() and it.as_python_constant() == args[0].as_python_constant():
                    del self.items[i]
                    break
            else:
                raise UserError(ValueError("list.remove(x): x not in list"))
        elif name == "sort":
            if not self.is_python_constant() or kwargs:
                unsupported("list.sort of traced values")
            self.items = [ConstantVariable(v) for v in sorted(self.as_python_constant())]
        return ConstantVariable(None)


class DictVariable(VariableTracker):
    """A dict with constant keys; values are trackers."""

    def __init__(self, items, source=None, dict_cls=dict):
        super().__init__(source)
        self.items = dict(items)
        self.dict_cls = dict_cls

    def python_type(self):
        return self.dict_cls

    def truthy(self, tx):
        return bool(self.items)

    def var_getattr(self, tx, name):
        return _method(self, tx, name)

    def is_python_constant(self):
        return _const_items(self.items.values())

    def as_python_constant(self):
        return {k: v.as_python_constant() for k, v in self.items.items()}

    def unpack(self, tx):
        return [ConstantVariable(k) for k in self.items]

    def reconstruct(self, cg):
        return "{" + ", ".join(f"{cg.const(k)}: {cg(v)}" for k, v in self.items.items()) + "}"

    def call_method(self, tx, name, args, kwargs):
        se = tx.output.side_effects
        c = [a.as_python_constant() if a.is_python_constant() else a for a in args]
        if name == "__getitem__":
            try:
                return self.items[c[0]]
            except KeyError as e:
                raise UserError(e)
            except TypeError as e:
                raise UserError(e)
        if name == "__len__":
            return ConstantVariable(len(self.items))
        if name == "__contains__":
            return ConstantVariable(c[0] in self.items)
        if name == "get":
            return self.items.get(c[0], args[1] if len(args) > 1 else ConstantVariable(None))
        if name == "keys":
            return TupleVariable([ConstantVariable(k) for k in self.items])
        if name == "values":
            return TupleVariable(list(self.items.values()))
        if name == "items":
            return TupleVariable([TupleVariable([ConstantVariable(k), v]) for k, v in self.items.items()])
        mutating = {"__setitem__", "update", "pop", "setdefault", "clear", "__delitem__"}
        if name not in mutating:
            unsupported(f"dict.{name}")
        se.mutate(tx, self)
        if name == "__setitem__":
            if not args[0].is_python_constant():
                unsupported("dict key that is not a constant")
            self.items[c[0]] = args[1]
        elif name == "__delitem__":
            try:
                del self.items[c[0]]
            except KeyError as e:
                raise UserError(e)
        elif name == "update":
            if args:
                src = args[0]
                if isinstance(src, DictVariable):
                    self.items.update(src.items)
                else:
                    for kv in src.unpack(tx):
                        k, v = kv.unpack(tx)
                        self.items[k.as_python_constant()] = v
            for k, v in kwargs.items():
                self.items[k] = v
        elif name == "pop":
            if c[0] in self.items:
                return self.items.pop(c[0])
            if len(args) > 1:
                return args[1]
            raise UserError(KeyError(c[0]))
        elif name == "setdefault":
            return self.items.setdefault(c[0], args[1] if len(args) > 1 else ConstantVariable(None))
        elif name == "clear":
            self.items.clear()
        return ConstantVariable(None)


class SetVariable(BaseListVariable):
    kind = set

    def __init__(self, items, source=None):
        uniq = []
        seen = set()
        for i in items:
            if not i.is_python_constant():
                unsupported("set of traced values")
            v = i.as_python_constant()
            if v not in seen:
                seen.add(v)
                uniq.append(i)
        super().__init__(uniq, source)

    def reconstruct(self, cg):
        return "{" + ", ".join(cg(i) for i in self.items) + "}" if self.items else "set()"

    def call_method(self, tx, name, args, kwargs):
        if name == "__contains__":
            return ConstantVariable(args[0].as_python_constant() in self.as_python_constant())
        if name == "__len__":
            return ConstantVariable(len(self.items))
        if name in ("add", "discard", "remove", "update", "clear"):
            tx.output.side_effects.mutate(tx, self)
            cur = self.as_python_constant()
            if name == "add":
                cur.add(args[0].as_python_constant())
            elif name == "update":
                cur.update(args[0].as_python_constant())
            elif name == "clear":
                cur.clear()
            else:
                try:
                    getattr(cur, name)(args[0].as_python_constant())
                except KeyError as e:
                    raise UserError(e)
            self.items = [ConstantVariable(v) for v in cur]
            return ConstantVariable(None)
        unsupported(f"set.{name}")


class SliceVariable(VariableTracker):
    def __init__(self, start, stop, step):
        super().__init__(None)
        self.parts = (start, stop, step)

    def is_python_constant(self):
        return _const_items(self.parts)

    def as_python_constant(self):
        return slice(*[p.as_python_constant() for p in self.parts])


class IteratorVariable(VariableTracker):
    """An iterator over a fixed list of trackers (lists, tuples, ranges, zip, enumerate...)."""

    def __init__(self, items):
        super().__init__(None)
        self.items = list(items)
        self.index = 0

    def next_item(self):
        if self.index >= len(self.items):
            return None
        v = self.items[self.index]
        self.index += 1
        return v

    def unpack(self, tx):
        rest = self.items[self.index:]
        self.index = len(self.items)
        return rest
