"""Code generation for the transformed function: Python source that calls the compiled
graph, performs the recorded side effects and rebuilds the return value.

The result is readable; `md.inspect(fn).entries[0].source` shows it, for example:

    def f(x, y):
        ___graph_out = ___compiled_fn_0(x, y)
        return ___graph_out[0]
"""
import math

from .bytecode_compat import code_signature_names
from .guards import _signature_src
from .variables.base import ConstantVariable, unsupported
from .variables.containers import DictVariable, ListVariable, SetVariable
from .variables.tensor import TensorVariable


class PyCodegen:
    def __init__(self, output):
        self.output = output
        self.graph_outputs = []  # nodes, in output order
        self._out_index = {}
        self.globals = {}
        self._temps = {}
        self.prelude = []

    def __call__(self, vt):
        key = id(vt)
        if key in self._temps:
            return self._temps[key][0]
        if isinstance(vt, TensorVariable):
            return self.tensor(vt)
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
        if isinstance(value, float) and (math.isinf(value) or math.isnan(value)):
            return f"float({str(value)!r})"
        if value is None or type(value) in (bool, int, float, str, bytes, complex) or value is Ellipsis:
            return repr(value)
        if type(value) is tuple and all(type(v) in (bool, int, float, str, type(None)) for v in value):
            return repr(value)
        return self.global_obj(value)

    def global_obj(self, obj):
        for k, v in self.globals.items():
            if v is obj:
                return k
        name = f"___const_{len(self.globals)}"
        self.globals[name] = obj
        return name

    def dict_items(self, vt):
        return "{" + ", ".join(f"{self.const(k)}: {self(v)}" for k, v in vt.items.items()) + "}"

    def nested_function(self, vt):
        unsupported("returning a function created inside the compiled region")


def transformed_source(fn, code, graph_call, prelude, effects, return_expr, tail=None):
    """The source of the transformed function, with the original signature."""
    lines = [f"def ___transformed({_signature_src(code, fn)}):"]
    if graph_call:
        lines.append(f"    ___graph_out = {graph_call}")
    lines += [f"    {ln}" for ln in prelude]
    lines += [f"    {ln}" for ln in effects]
    if tail is not None:
        lines += [f"    {ln}" for ln in tail]
    else:
        lines.append(f"    return {return_expr}")
    return "\n".join(lines) + "\n"


_ = (ConstantVariable, code_signature_names)
