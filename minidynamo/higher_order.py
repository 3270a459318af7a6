"""Nested compile regions: `md.nested_compile_region(fn)` marks a function (method, module)
whose calls are traced into a subgraph of their own and called through `invoke_subgraph`;
calls with the same code and input metadata share one subgraph.

>>> import minidynamo as md, tensorlite as tl
>>> @md.nested_compile_region
... def block(x):
...     return x.sin() * 2
>>> @md.compile
... def f(x):
...     return block(x) + block(x + 1)
>>> f(tl.zeros(2))
tensor([1.8186, 1.8186])
"""
import functools

import tensorlite as tl
from backends.higher_order import invoke_subgraph

from .exc import UncapturedHigherOrderOpError, Unsupported
from .source import show
from .variables.base import VariableTracker, unsupported
from .variables.lists import ListVariable, TupleVariable
from .variables.tensor import TensorVariable


def nested_compile_region(fn):
    """Mark fn (a function, method or module instance) as a region compiled once and reused."""
    if isinstance(fn, tl.nn.Module):
        fn._md_nested_region = True
        return fn
    if getattr(fn, "_md_nested_region", None) is not None:
        return fn

    @functools.wraps(fn)
    def region(*args, **kwargs):
        return fn(*args, **kwargs)

    region._md_nested_region = fn
    return region


mark_compile_region = nested_compile_region


class RegionError(Unsupported):
    """A graph break inside a nested compile region: an error even without fullgraph."""


class RegionVariable(VariableTracker):
    """A call into a nested compile region (wraps the function to trace)."""

    def __init__(self, fn_vt, source=None):
        super().__init__(source)
        self.fn_vt = fn_vt

    def call_function(self, tx, args, kwargs):
        return call_region(tx, self.fn_vt, list(args), dict(kwargs))

    def reconstruct(self, cg):
        return self.source.expr() if self.source is not None else self.fn_vt.reconstruct(cg)


def _metadata(args):
    out = []
    for a in args:
        if isinstance(a, TensorVariable):
            ex = a.example
            out.append(("T", tuple(ex.shape), ex.dtype.name, ex.requires_grad))
        elif a.is_python_constant():
            v = a.as_python_constant()
            out.append(("C", type(v), show(v)))  # show: repr, also past the int-str digit limit
        else:
            unsupported(f"nested compile region argument {a} (only tensors and constants)")
    return tuple(out)


def call_region(tx, fn_vt, args, kwargs):
    output = tx.output
    if output.subgraph_depth():
        return fn_vt.call_function(tx, args, kwargs)  # a region inside a region is inlined
    meta = _metadata(args) + _metadata(list(kwargs.values()))
    sub_args = []
    output.start_subgraph()
    try:
        for a in args:
            sub_args.append(output.subgraph_input(a) if isinstance(a, TensorVariable) else a)
        sub_kwargs = {k: output.subgraph_input(v) if isinstance(v, TensorVariable) else v
                      for k, v in kwargs.items()}
        try:
            ret = fn_vt.call_function(tx, sub_args, sub_kwargs)
        except RegionError:
            raise
        except Unsupported as e:
            raise RegionError(
                f"graph break inside a nested compile region: {e.msg}. A region marked with "
                "md.nested_compile_region must be capturable into a single graph", user_stack=e.user_stack) from None
        single = isinstance(ret, TensorVariable)
        items = [ret] if single else (ret.items if isinstance(ret, (TupleVariable, ListVariable)) else None)
        if items is None or not all(isinstance(i, TensorVariable) for i in items):
            unsupported("a nested compile region must return a tensor or a tuple of tensors")
        inputs = {n for n in output.graph.nodes if n.op == "placeholder"}
        for it in items:
            if it.node in inputs or it.node.target in ("view", "reshape") and False:
                raise UncapturedHigherOrderOpError(
                    "nested compile region: an output aliases an input (return a copy, e.g. x.clone())")
            if it.example._base is not None and any(it.example._base is s.example or
                                                    it.example._base is s.example._base
                                                    for s in sub_args if isinstance(s, TensorVariable)):
                raise UncapturedHigherOrderOpError(
                    "nested compile region: an output is a view of an input (return a copy, e.g. x.clone())")
        sub_graph = output.graph
        sub_graph.output(tuple(i.node for i in items))
    finally:
        lifted = output.end_subgraph()
    name = output.register_subgraph(sub_graph, meta)
    graph = output.graph
    uses = output.__dict__.setdefault("_subgraph_uses", {})
    k = uses[name] = uses.get(name, -1) + 1
    attr = graph.create_node("get_attr", name, name=name if k == 0 else f"{name}_{k}")
    operands = [a.node for a in args if isinstance(a, TensorVariable)]
    operands += [v.node for v in kwargs.values() if isinstance(v, TensorVariable)]
    operands += lifted
    call = graph.call_function(invoke_subgraph, (attr, name, *operands))
    call.meta["stack_trace"] = tx.stack_trace()
    outs = []
    for i, it in enumerate(items):
        g = graph.call_function(__import__("operator").getitem, (call, i))
        g.meta["val"] = it.example
        g.meta["stack_trace"] = call.meta["stack_trace"]
        outs.append(TensorVariable(g, it.example))
    call.meta["val"] = tuple(it.example for it in items)
    return outs[0] if single else TupleVariable(outs)
