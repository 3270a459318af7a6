"""Code generation for the transformed function: Python source that calls the compiled
graph, performs the recorded side effects and rebuilds the return value.

The result is readable; `md.inspect(fn).entries[0].source` shows it, for example:

    def f(x, y):
        ___graph_out = ___compiled_fn(x, y)
        return ___graph_out[0]
"""
import sys

from fxlite.codegen import literal

from .namespaces import base_namespace, signature_src
from .variables.base import unsupported
from .variables.dicts import DictVariable
from .variables.lists import BaseListVariable, ListVariable
from .variables.sets import SetVariable
from .variables.tensor import TensorVariable


class PyCodegen:
    def __init__(self, output):
        self.output = output
        self.graph_outputs = []  # nodes, in output order
        self._out_index = {}
        self.globals = {}
        self._temps = {}
        self._late_cells = set()  # names of cells made after the graph (their users follow)
        self.prelude = []
        self.early = []  # lines that need no graph output (rebuilt functions): before the graph

    def __call__(self, vt):
        key = id(vt)
        if key in self._temps:
            return self._temps[key][0]
        if isinstance(vt, TensorVariable):
            return self.tensor(vt)
        if isinstance(vt, (BaseListVariable, DictVariable)) and vt.source is not None:
            # an object from outside the frame is returned as itself (identity is kept); its
            # recorded mutations are replayed on it before this expression is evaluated
            return vt.source.expr()
        if isinstance(vt, (ListVariable, DictVariable, SetVariable)) and vt.source is None:
            expr = vt.reconstruct(self)
            name = f"___tmp_{len(self._temps)}"
            self.prelude.append(f"{name} = {expr}")
            self._temps[key] = (name, vt)
            return name
        return vt.reconstruct(self)

    def tensor(self, vt):
        if vt.source is not None:
            return vt.source.expr()
        node = vt.node
        i = self._out_index.get(node)
        if i is None:
            i = self._out_index[node] = len(self.graph_outputs)
            self.graph_outputs.append(node)
        return f"___graph_out[{i}]"

    def const(self, value):
        """Text for a constant: a literal when one round-trips exactly (fxlite's literal:
        exact types, finite floats, ints under any digit limit), else a bound name (inf,
        nan, -0j, huge ints, enum members, numpy scalars, ...)."""
        text = literal(value) if _same_object_at_run_time(value) else None
        if text is not None:
            return text
        return self.global_obj(value)  # the object itself: `is` holds as in the trace

    def global_obj(self, obj):
        """A name for obj in the transformed function's namespace (readable when possible)."""
        for k, v in self.globals.items():
            if v is obj:
                return k
        import re
        import types
        hint = obj.co_name if isinstance(obj, types.CodeType) else getattr(obj, "__name__", None)
        hint = re.sub(r"[^0-9a-zA-Z_]+", "_", hint).strip("_") if isinstance(hint, str) else ""
        base = f"___{hint}" if hint else "___const"
        if not _free_name(base):
            base = f"___obj_{hint}"
        name, i = base, 0
        while name in self.globals or not _free_name(name):
            i += 1
            name = f"{base}_{i}"
        self.globals[name] = obj
        return name

    def temp(self, expr):
        """Evaluate expr once, after the graph and before any side effect."""
        name = f"___tmp_{len(self._temps)}"
        self.prelude.append(f"{name} = {expr}")
        self._temps[("expr", name)] = (name, None)
        return name

    def dict_items(self, vt):
        return "{" + ", ".join(f"{self.const(k)}: {self(v)}" for k, v in vt.items.items()) + "}"

    def nested_function(self, vt):
        """Rebuild a function created inside the region (a lambda or local def) at run time."""
        import types
        from .variables.functions import CellVariable
        if vt.fn_globals is not self.output.root_globals:
            unsupported("rebuilding a nested function of another module")
        code = self.global_obj(vt.code)
        defaults = self(vt.defaults) if vt.defaults is not None else "None"
        cells = []
        for c in (vt.closure.items if vt.closure is not None else []):
            if not isinstance(c, CellVariable):
                unsupported("closure that is not a cell")
            cells.append(self.cell(c))
        fn = self.global_obj(types.FunctionType)
        closure = "(" + "".join(c + ", " for c in cells) + ")" if cells else "None"
        kwd = ""
        if vt.kwdefaults is not None:
            kwd = f"; ___f.__kwdefaults__ = {self(vt.kwdefaults)}"
        name = f"___fn_{len(self._temps)}"
        line = f"{name} = {fn}({code}, ___G, {vt.code.co_name!r}, {defaults}, {closure}){kwd.replace('___f', name)}"
        self._place(line)
        self._temps[id(vt)] = (name, vt)
        return name

    def cell(self, c):
        """A closure cell, made once: the functions that close over one variable share it
        (`nonlocal x` in two nested functions)."""
        if c.real is not None and c.source is not None:
            return c.source.expr().rsplit(".cell_contents", 1)[0]
        hit = self._temps.get(("cell", id(c)))
        if hit is not None:
            return hit[0]
        init = "" if c.contents is None else self(c.contents)
        name = f"___cell_{len(self._temps)}"
        self._place(f"{name} = ___make_cell({init})")
        self._temps[("cell", id(c))] = (name, c)
        return name

    def _place(self, line):
        """Lines that read graph outputs or temporaries run after the graph (prelude); the
        others before it (early), where they also serve lines placed later."""
        late = "___graph_out" in line or "___tmp_" in line or any(
            name in line for name in self._late_cells)
        if late and line.startswith("___cell_"):
            self._late_cells.add(line.split(" = ", 1)[0])
        (self.prelude if late else self.early).append(line)


def _same_object_at_run_time(v):
    """Whether a literal in generated code evaluates to v itself, not only to an equal value:
    singletons, CPython's cached small ints, empty and one-character strings and bytes, and
    interned strings (compile() interns identifier-like literals). Any other value made
    while tracing is bound by name, so `is` between it and the frame's other values holds at
    run time as it did in the trace (`a[:3] + a[3:] is a` is False, `'xyzpdq' is a` True)."""
    t = type(v)
    if v is None or t is bool or v is Ellipsis:
        return True
    if t is int:
        return -5 <= v <= 256
    if t is str:
        return len(v) <= 1 or (v.isidentifier() and v.isascii() and sys.intern(v) is v)
    if t is bytes:
        return len(v) <= 1
    if t is tuple:
        return not v
    return False


def transformed_source(fn, code, body):
    """The source of the transformed function, with the original signature, from the lines
    of a cache_entry.FrameBody in the order they run."""
    lines = [f"def ___transformed({signature_src(code, fn)}):"]
    defined_late = {ln.split(" = ", 1)[0] for ln in body.prelude}
    for ln in body.pre_graph:
        if "___graph_out" in ln or any(name in ln for name in defined_late):
            unsupported("a hook that closes over a value computed inside the graph")
    graph = [f"___graph_out = {body.graph_call}"] if body.graph_call else []
    end = body.tail if body.tail is not None else [f"return {body.return_expr}"]
    for part in (body.early, body.pre_graph, graph, body.prelude, body.effects, end):
        lines += [f"    {ln}" for ln in part]
    return "\n".join(lines) + "\n"


# names the transformed function's namespace and body already use (namespaces.base_namespace,
# convert_frame, transformed_source, graph breaks, hooks): global_obj never picks them, or a
# class named G or K would hide ___G (the globals) or ___K (the keys)
_RESERVED = {"___Gs", "___K", "___graph_out", "___result", "___return_value", "___transformed",
             "___compiled_fn", "___call_compiled", "___HookBox", "___"}
_RESERVED_PREFIXES = ("___tmp_", "___hook_box_", "___handle_", "___cell_", "___fn_", "___stack")
_RESERVED_NAMES = set()


def _free_name(name):
    if not _RESERVED_NAMES:
        _RESERVED_NAMES.update(base_namespace(None), _RESERVED)
    return name not in _RESERVED_NAMES and not name.startswith(_RESERVED_PREFIXES)
