"""Sources: where a traced value came from. A source gives both the guard expression and
the code that re-loads the value at run time.

>>> from minidynamo.source import LocalSource, AttrSource, GetItemSource
>>> s = AttrSource(LocalSource("self"), "lin")
>>> s.name(), s.expr()
("L['self'].lin", 'self.lin')
"""
import collections
import keyword
import re
import threading

from fxlite.codegen import literal


def show(v):
    """repr(v) for names and hashes, also for an int past the int-str digit limit (in hex)."""
    try:
        return repr(v)
    except ValueError:
        if isinstance(v, int):
            return hex(v)
        return f"<{type(v).__name__} object at {id(v):#x}>"


KEYS_LIMIT = 4096  # values the table keeps for texts not yet bound (least recently named go first)
_K_SLOT = re.compile(r"___K\[(\d+)\]")


class KeyTable:
    """The values generated code names as ___K[i], having no literal that reads back as exactly
    them (enum members, inf, nan, -0j, huge ints, numpy scalars, objects used as dict keys).
    The same object always gets the same slot while the table holds it, and a slot number is
    never given twice, so a text names one value forever.

    Generated code that lives on does not read this table. A guard function or a transformed
    function gets its own `___K`: a dict of exactly the slots its source names (bind), kept
    alive by its namespace and dropped with its cache entry. So the table holds each value only
    from the text's making to that binding, or for a guard failure report, which evaluates a
    fresh text at once. It keeps the KEYS_LIMIT values most recently named, and md.reset()
    empties it.

    >>> t = KeyTable()
    >>> nan = float("nan")
    >>> text = f"d[{t.text(nan)}]"
    >>> t.text(nan) == text[2:-1], t.bind(text)[0] is nan
    (True, True)
    """

    def __init__(self):
        self._values = collections.OrderedDict()  # slot -> value, least recently named first
        self._slots = {}  # id(value) -> slot (the table holds the value, so its id stays its own)
        self._next = 0
        self._lock = threading.Lock()

    def text(self, v):
        """___K[i] for v."""
        with self._lock:
            i = self._slots.get(id(v))
            if i is not None and i in self._values and self._values[i] is v:
                self._values.move_to_end(i)
            else:
                i = self._slots[id(v)] = self._next
                self._next += 1
                self._values[i] = v
                while len(self._values) > KEYS_LIMIT:
                    old, value = self._values.popitem(last=False)
                    if self._slots.get(id(value)) == old:
                        del self._slots[id(value)]
        return f"___K[{i}]"

    def __getitem__(self, i):
        return self._values[i]

    def __len__(self):
        return len(self._values)

    def bind(self, src):
        """{i: value} for every ___K[i] that src names: the `___K` of the namespace src runs in."""
        if "___K[" not in src:
            return {}
        out = {}
        with self._lock:
            for i in map(int, _K_SLOT.findall(src)):
                try:
                    out[i] = self._values[i]
                except KeyError:  # more than KEYS_LIMIT others named since: never guess
                    raise RuntimeError(f"minidynamo: ___K[{i}] was dropped before its code was built "
                                       f"(raise minidynamo.source.KEYS_LIMIT)") from None
        return out

    def clear(self):
        with self._lock:
            self._values.clear()
            self._slots.clear()


KEYS = KeyTable()


def value_text(v):
    """An expression for v in generated code: its literal (fxlite.codegen.literal: exact
    types only) or ___K[i] (enum members, inf, nan, -0j, huge ints, numpy scalars...)."""
    text = literal(v)
    if text is not None:
        return text
    return KEYS.text(v)


class Source:
    def name(self):
        """How users see it: L['x'], G['w'], L['self'].lin.weight."""
        raise NotImplementedError

    def expr(self):
        """A Python expression evaluating the value inside generated code (guards and
        transformed functions), where locals are plain names and globals come from G."""
        raise NotImplementedError

    def local_name(self):
        """The name in recompile reasons: L['x'] -> x."""
        return strip_local(self.name())

    def graph_name(self):
        """Placeholder target: L['x'] -> L_x_."""
        return _NOT_ALNUM.sub("_", self.name())

    def __eq__(self, other):
        if isinstance(other, str):
            return self.name() == other
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __str__(self):
        return self.name()

    def __hash__(self):
        return hash((type(self).__name__,) + tuple(sorted(f"{k}={show(v)}" for k, v in self.__dict__.items())))

    def __repr__(self):
        return self.name()

_NOT_ALNUM = re.compile(r"[^a-zA-Z0-9]+")
_LOCAL = re.compile(r"L\['([^']+)'\]")


def strip_local(s):
    return _LOCAL.sub(r"\1", s)


class LocalSource(Source):
    def __init__(self, local):
        self.local = local

    def name(self):
        return f"L['{self.local}']"

    def expr(self):
        return self.local


class GlobalSource(Source):
    """A global of the compiled function (index 0) or of another module's function that was
    inlined (index > 0: that module's globals dict is entry `index` of ___Gs)."""

    def __init__(self, gname, index=0, module=None):
        self.gname = gname
        self.index = index
        self.module = module

    def name(self):
        if self.index:
            return f"G[{self.module!r}]['{self.gname}']"
        return f"G['{self.gname}']"

    def expr(self):
        if self.index:
            return f"___Gs[{self.index}][{self.gname!r}]"
        return f"___G[{self.gname!r}]"


class BuiltinSource(Source):
    def __init__(self, bname):
        self.bname = bname

    def name(self):
        return f"G['__builtins__']['{self.bname}']"

    def expr(self):
        return f"___B[{self.bname!r}]"


class ClosureSource(Source):
    """A free variable of the compiled function: its cell's contents."""

    def __init__(self, var):
        self.var = var

    def name(self):
        return f"L['{self.var}']"

    def expr(self):
        return f"___cells[{self.var!r}].cell_contents"


class AttrSource(Source):
    def __init__(self, base, member):
        self.base = base
        self.member = member

    def name(self):
        return f"{self.base.name()}.{self.member}"

    def expr(self):
        if self.member.isidentifier() and not keyword.iskeyword(self.member):
            return f"{self.base.expr()}.{self.member}"
        return f"getattr({self.base.expr()}, {self.member!r})"


class GetItemSource(Source):
    def __init__(self, base, index):
        self.base = base
        self.index = index

    def name(self):
        return f"{self.base.name()}[{show(self.index)}]"

    def expr(self):
        return f"{self.base.expr()}[{value_text(self.index)}]"


class DefaultsSource(Source):
    """fn.__defaults__[i] (or __kwdefaults__[name]) of an inlined function."""

    def __init__(self, fn_source, key):
        self.fn_source = fn_source
        self.key = key

    def name(self):
        attr = "__defaults__" if isinstance(self.key, int) else "__kwdefaults__"
        return f"{self.fn_source.name()}.{attr}[{self.key!r}]"

    def expr(self):
        attr = "__defaults__" if isinstance(self.key, int) else "__kwdefaults__"
        return f"{self.fn_source.expr()}.{attr}[{self.key!r}]"


class CellContentsSource(Source):
    """The contents of a closure cell of an inlined function: fn.__closure__[i]."""

    def __init__(self, fn_source, index, varname):
        self.fn_source = fn_source
        self.index = index
        self.varname = varname

    def name(self):
        return f"{self.fn_source.name()}.__closure__[{self.index}].cell_contents"

    def expr(self):
        return f"{self.fn_source.expr()}.__closure__[{self.index}].cell_contents"


class ConstSource(Source):
    """A value baked into the guard function's namespace (used for identity checks)."""

    def __init__(self, label):
        self.label = label

    def name(self):
        return self.label

    def expr(self):
        return self.label


class DictValueSource(Source):
    """The i-th value of a dict in insertion order (hook dicts are keyed by handle ids,
    which differ between module instances; their order does not)."""

    def __init__(self, base, index):
        self.base = base
        self.index = index

    def name(self):
        return f"list({self.base.name()}.values())[{self.index}]"

    def expr(self):
        return f"list({self.base.expr()}.values())[{self.index}]"


class ExprSource(Source):
    """An arbitrary expression over other sources (for guards such as membership tests)."""

    def __init__(self, expr_text, name_text):
        self.expr_text = expr_text
        self.name_text = name_text

    def name(self):
        return self.name_text

    def expr(self):
        return self.expr_text
