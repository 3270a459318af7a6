"""Nested compile regions: `md.nested_compile_region(fn)` marks a function (method, module)
whose calls are traced into a subgraph of their own and called through `invoke_subgraph`;
calls whose graphs are equal (up to the names of their inputs) share one subgraph.

>>> import minidynamo as md, tensorlite as tl
>>> @md.nested_compile_region
... def block(x):
...     return x.sin() * 2
>>> @md.compile
... def f(x):
...     return block(x) + block(x + 1)
>>> f(tl.zeros(2))
tensor([1.8186, 1.8186])

As in Dynamo, the region's body is traced with the trackers it is given; the tensors it
makes are its graph's outputs: first those it returns (inside any structure: nested tuples, a
user object), then every other one it made, since a side effect (a list append) may carry it
out. After the call each of those trackers reads the call's output, and the intermediate
outputs no code reads are dropped when the graph is finished (OutputGraph._finish_subgraphs).
"""
import functools

import tensorlite as tl

from .exc import UncapturedHigherOrderOpError, Unsupported
from .variables.base import VariableTracker
from .variables.dicts import DictVariable
from .variables.lists import BaseListVariable
from .variables.objects import NewUserObjectVariable
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

# PyTorch's texts (Dynamo's, for the same situations), so that the same tests match
_MESSAGES = {
    "graph_break": "torch.compile requires the `nested_compile_region` decorated function to be "
                   "capturable into a single graph (md.compile too): {reason}",
    "aliasing": "Encountered aliasing during higher order op tracing: output {name} of the nested "
                "compile region is one of its inputs or a view of one. Higher order ops do not support "
                "aliasing: replace `return input` with `return input.clone()`",
    "direct_call": "Directly using invoke_subgraph is not supported. Use nested_compile_region "
                   "(md.nested_compile_region)",
    "escaped": "An intermediate tensor '{name}' created inside a nested compile region aliases an input "
               "or output, so it was not included in the subgraph outputs, but it is used after the "
               "region (e.g. through a side effect like list.append): its node does not belong to this "
               "Graph. Clone the tensor before capturing it (tensor.clone() instead of tensor)",
}


def region_message(kind, **details):
    """The user-visible text of an error about a nested compile region."""
    return _MESSAGES[kind].format(**details)


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


def call_region(tx, fn_vt, args, kwargs):
    output = tx.output
    if output.subgraph_depth():
        return fn_vt.call_function(tx, args, kwargs)  # a region inside a region is inlined
    # the explicit tensor operands, as the enclosing graph reads them (checked before the region)
    operands = [(vt, output._node_arg(vt)) for vt in [*args, *kwargs.values()] if isinstance(vt, TensorVariable)]
    region = output.start_subgraph()
    try:
        inputs = {id(vt): output.subgraph_input(vt) for vt, _ in operands}
        ret = _trace(tx, fn_vt, [inputs.get(id(a), a) for a in args],
                     {k: inputs.get(id(v), v) for k, v in kwargs.items()})
        returned = _returned_tensors(ret)
        outputs = returned + _escaping(output, region, returned)
        graph = output.graph
        graph.output(tuple(vt.node for vt in outputs))
    finally:
        output.end_subgraph()
    sub = output.register_subgraph(graph, len(returned))
    call, items = output.call_subgraph(sub, [n for _, n in operands] + region.freevars,
                                       [vt.example for vt in outputs])
    _read_outputs(region, outputs, items)
    _restore_inputs(region, [(inputs[id(vt)], vt) for vt, _ in operands], call)
    return ret


def _trace(tx, fn_vt, args, kwargs):
    try:
        return fn_vt.call_function(tx, args, kwargs)
    except RegionError:
        raise
    except Unsupported as e:
        raise RegionError(region_message("graph_break", reason=e.msg), user_stack=e.user_stack) from None


# ------------------------------------------------------------------ the region's outputs
def _returned_tensors(ret):
    """The tensors in what the region returns, in order, each once (PyTorch flattens the
    returned structure the same way)."""
    found = {}

    def visit(vt):
        if isinstance(vt, TensorVariable):
            found.setdefault(id(vt), vt)
        elif isinstance(vt, BaseListVariable):
            for item in vt.items:
                visit(item)
        elif isinstance(vt, DictVariable):
            for item in vt.items.values():
                visit(item)
        elif isinstance(vt, NewUserObjectVariable):
            for item in vt.attrs.values():
                visit(item)

    visit(ret)
    return list(found.values())


def _storage(t):
    while t._base is not None:
        t = t._base
    return id(t)


def _escaping(output, region, returned):
    """The returned tensors must not alias an input (PyTorch raises); the other tensors the
    region made become outputs too, except those that alias an input or an earlier output."""
    graph = output.graph
    taken = {_storage(n.meta["val"]) for n in graph.nodes if n.op == "placeholder"}
    for vt in returned:  # a tensor from outside returned as it is is an input too
        if vt.node.graph is not graph or vt.node.op == "placeholder" or _storage(vt.example) in taken:
            raise UncapturedHigherOrderOpError(region_message("aliasing", name=repr(vt.node.name)))
    taken |= {_storage(vt.example) for vt in returned}
    seen = {vt.node for vt in returned}
    extra = []
    for vt in region.made:
        node = vt.node
        if node.graph is not graph or node in seen:
            continue
        seen.add(node)
        storage = _storage(vt.example)
        if storage not in taken:  # else it stays in the region: reading it later is an error
            taken.add(storage)
            extra.append(vt)
    return extra


# ------------------------------------------------------------------ after the call
def _read_outputs(region, outputs, items):
    """Every tracker of an output now reads the call's getitem. A name the region gave the
    value stays (the getitem is not renamed after a later variable, as in Dynamo)."""
    item_of = {vt.node: item for vt, item in zip(outputs, items)}
    for vt in [*outputs, *region.made]:
        item = item_of.get(vt.node)
        if item is not None:
            item.meta["_user_named"] = vt.node.meta.get("_user_named", False)
            vt.node = item


def _restore_inputs(region, operands, call):
    """Trackers of tensors from outside the region read their nodes from before the call again
    (the call changes the same tensors in place): the operands' trackers inside the region,
    and trackers from outside that the region changed in place (their last change: the call)."""
    for sub, outer in operands:
        if sub.mutated:
            outer.mutated, outer.last_mutation = True, call
        sub.node, sub.mutated, sub.last_mutation = outer.node, outer.mutated, outer.last_mutation
    for vt, node in region.changed.values():
        vt.node, vt.mutated, vt.last_mutation = node, True, call
