"""Tracing `tl.cond(pred, true_fn, false_fn, operands)`, as Dynamo traces torch.cond.

* A pred that is a Python value at trace time (`x.shape[0] > 2`) selects its branch, which is
  inlined: no cond node (as PyTorch does).
* A tensor pred: each branch is traced into a subgraph of its own (taking the operands, then
  the tensors the branches read from outside), and the graph gets one node
  `cond(pred, cond_true_k, cond_false_k, (*operands, *outer tensors))` whose outputs are read
  with getitem. backends/cond.py runs it: the selected branch's ops, recorded by autograd as
  eager tl.cond's are.

The branches must return a tensor, or a tuple/list of tensors, with the same shapes and dtypes
(PyTorch's rule); they may not return an input or a view of one, change an input in place,
register hooks or change any state outside themselves (speculate.py). A violation, or a graph
break inside a branch, raises `md.exc.UncapturedHigherOrderOpError` (PyTorch's error), with or
without fullgraph. What the graph cannot represent but eager tl.cond runs fine is a graph
break, and tl.cond then runs eagerly: outputs whose requires_grad differs between the branches,
nested operands, a pred that is neither a constant nor a tensor, a cond inside a nested compile
region or another cond.

>>> import minidynamo as md, tensorlite as tl
>>> graphs = md.testing.EagerAndRecordGraphs()
>>> @md.compile(backend=graphs, fullgraph=True)
... def f(x):
...     return tl.cond(x.sum() > 0, lambda t: t.sin(), lambda t: t.cos(), (x,))
>>> f(tl.zeros(2))
tensor([1., 1.])
>>> [n.name for n in graphs.graphs[0].graph.nodes if n.op == "get_attr"]
['cond_true_0', 'cond_false_0']
"""
import dataclasses
import operator

import fxlite
from backends.cond import cond as cond_op
from fxlite.marks import is_impure_target, is_mutating
from tensorlite._cond import cond_error

from .exc import UncapturedHigherOrderOpError, Unsupported
from .speculate import no_outside_effects
from .variables.base import UserError, VariableTracker, unsupported
from .variables.lists import ListVariable, NamedTupleVariable, TupleVariable
from .variables.tensor import TensorVariable

__all__ = ["CondVariable"]


def _error(msg):
    """The error a tensor-pred cond that cannot be captured raises (one place for the prefix)."""
    return UncapturedHigherOrderOpError(f"tl.cond: {msg}")


class CondVariable(VariableTracker):
    """tl.cond itself, as the interpreter sees it."""

    def __init__(self, value, source=None):
        super().__init__(source)
        self.value = value

    def call_function(self, tx, args, kwargs):
        pred, true_fn, false_fn, operands = _bind(args, kwargs)
        if pred.is_python_constant() and isinstance(pred.as_python_constant(), (bool, int, float)):
            branch = true_fn if pred.as_python_constant() else false_fn
            return branch.call_function(tx, _unpack(tx, operands), {})
        if not isinstance(pred, TensorVariable):
            unsupported(f"tl.cond with pred {pred} (only a constant or a tensor is traced)")
        if not _one_element(pred.example):
            raise UserError(cond_error("pred_numel", f"a tensor of shape {list(pred.example.shape)}"))
        if not isinstance(operands, (TupleVariable, ListVariable)) or isinstance(operands, NamedTupleVariable) \
                or not all(isinstance(o, TensorVariable) for o in operands.items):
            unsupported("tl.cond operands other than a flat tuple or list of tensors")
        if tx.output.subgraph_depth():
            unsupported("tl.cond inside a nested compile region or another tl.cond")
        return trace_cond(tx, pred, true_fn, false_fn, list(operands.items))

    def reconstruct(self, cg):
        return self.source.expr() if self.source is not None else cg.global_obj(self.value)


def _bind(args, kwargs):
    """(pred, true_fn, false_fn, operands) from a call as cond(pred, true_fn, false_fn, operands=())."""
    names = ("pred", "true_fn", "false_fn", "operands")
    bound = dict(zip(names, args))
    for k, v in kwargs.items():
        if k not in names or k in bound:
            unsupported(f"tl.cond() argument {k!r}")
        bound[k] = v
    if len(args) > 4 or any(n not in bound for n in names[:3]):
        unsupported("tl.cond() called with the wrong number of arguments")
    return bound["pred"], bound["true_fn"], bound["false_fn"], bound.get("operands", TupleVariable([]))


def _unpack(tx, operands):
    if not isinstance(operands, (TupleVariable, ListVariable)):
        unsupported("tl.cond operands that are not a tuple or list")
    return operands.unpack(tx)


def _one_element(example):
    n = 1
    for s in example.shape:
        if not isinstance(s, int):
            unsupported("tl.cond pred with a symbolic shape")
        n *= s
    return n == 1


# ------------------------------------------------------------------ the branches
@dataclasses.dataclass
class _Branch:
    """One traced branch: its graph, the outer tensors it reads, what it returns."""

    graph: fxlite.Graph
    lifted: list  # nodes of the enclosing graph read inside, in placeholder order
    outputs: list  # TensorVariables of the branch graph
    kind: type  # what it returned: TensorVariable, TupleVariable or ListVariable


def trace_branch(tx, fn, operands, which):
    output = tx.output
    output.start_subgraph()
    try:
        sub_args = [output.subgraph_input(o) for o in operands]
        try:
            with no_outside_effects(tx, f"the {which} branch", error=_error):
                ret = fn.call_function(tx, sub_args, {})
        except Unsupported as e:
            raise _error(f"cannot capture the {which} branch: {e.msg}") from None
        kind = type(ret)
        outs = [ret] if kind is TensorVariable else list(ret.items) if kind in (TupleVariable, ListVariable) else None
        if not outs or not all(isinstance(o, TensorVariable) for o in outs):
            raise _error(f"the {which} branch must return a tensor or a tuple/list of tensors, got {ret}")
        graph = output.graph
        _check_branch_graph(graph, outs, which)
        graph.output(tuple(o.node for o in outs))
    finally:
        lifted = output.end_subgraph()
    return _Branch(graph, lifted, outs, kind)


def _check_branch_graph(graph, outs, which):
    """The branch is a pure function of its inputs: no aliasing, no input mutation, no effects."""
    inputs = [n.meta.get("val") for n in graph.nodes if n.op == "placeholder"]
    input_ids = {id(t) for t in inputs} | {id(t._base) for t in inputs if t is not None and t._base is not None}

    def is_input(t):
        return t is not None and (id(t) in input_ids or t._base is not None and id(t._base) in input_ids)

    for o in outs:
        if o.node.op == "placeholder" or is_input(o.example):
            raise _error(f"the {which} branch returns one of its inputs or a view of one (return a copy, "
                         "e.g. x.clone())")
    for n in graph.nodes:
        if n.op in ("placeholder", "output", "get_attr"):
            continue
        if is_mutating(n.op, n.target):
            if n.args and is_input(getattr(n.args[0], "meta", {}).get("val")):
                raise _error(f"the {which} branch changes one of its inputs in place ({n.name})")
        elif n.op == "call_function" and is_impure_target(n.target):
            raise _error(f"the {which} branch calls {getattr(n.target, '__name__', n.target)}, which has "
                         "an effect (a hook registration)")


def _check_same_outputs(t, f):
    """PyTorch's errors for branches whose outputs differ; differing requires_grad, which eager
    tl.cond handles and one traced output cannot, is a graph break."""
    if len(t.outputs) != len(f.outputs) or t.kind is not f.kind:
        raise _error("the branches must return the same structure: got "
                     f"{_structure(t)} and {_structure(f)}")
    for i, (a, b) in enumerate(zip(t.outputs, f.outputs)):
        ma, mb = _meta_of(a.example), _meta_of(b.example)
        if ma != mb:
            raise _error(f"the branches' output {i} differ: {_describe(ma)} and {_describe(mb)}")
        if a.example.requires_grad != b.example.requires_grad:
            unsupported(f"tl.cond whose branches' output {i} differ in requires_grad")


def _meta_of(t):
    return tuple(t.shape), t.dtype.name


def _structure(branch):
    kinds = {TensorVariable: "a tensor", TupleVariable: "a tuple", ListVariable: "a list"}
    return kinds[branch.kind] + ("" if branch.kind is TensorVariable else f" of {len(branch.outputs)} tensors")


def _describe(meta):
    shape, dtype = meta
    return f"{dtype}{list(shape)}"


# ------------------------------------------------------------------ the node
def trace_cond(tx, pred, true_fn, false_fn, operands):
    t = trace_branch(tx, true_fn, operands, "true")
    f = trace_branch(tx, false_fn, operands, "false")
    _check_same_outputs(t, f)
    outer = t.lifted + [n for n in f.lifted if n not in t.lifted]
    output = tx.output
    names = _branch_names(output)
    for name, branch in zip(names, (t, f)):
        graph = _with_inputs(branch.graph, len(operands), branch.lifted, outer)
        output.constants[name] = fxlite.GraphModule(_attrs_used(output, graph), graph)
    graph = output.graph
    attrs = [graph.create_node("get_attr", name, name=name) for name in names]
    node_args = [output._node_arg(o) for o in operands] + outer
    call = graph.call_function(cond_op, (output._node_arg(pred), *attrs, tuple(node_args)))
    for n in (*attrs, call):
        n.meta["stack_trace"] = tx.stack_trace()
    call.meta["val"] = tuple(o.example for o in t.outputs)
    results = [_result(tx, call, i, o.example) for i, o in enumerate(t.outputs)]
    return results[0] if t.kind is TensorVariable else t.kind(results)


def _branch_names(output):
    k = 0
    while f"cond_true_{k}" in output.constants:
        k += 1
    return f"cond_true_{k}", f"cond_false_{k}"


def _attrs_used(output, graph):
    """The constants (tensors) a branch graph reads with get_attr, for its GraphModule."""
    return {n.target: output.constants[n.target] for n in graph.nodes if n.op == "get_attr"}


def _with_inputs(graph, n_operands, lifted, outer):
    """A copy of a branch graph whose placeholders are the operands then every outer tensor
    either branch reads (each branch takes the same inputs; a branch ignores the other's)."""
    old = [n for n in graph.nodes if n.op == "placeholder"]
    assert len(old) == n_operands + len(lifted), "a branch's inputs are its operands, then what it lifted"
    by_parent = dict(zip(lifted, old[n_operands:]))
    new = fxlite.Graph()
    env = {}
    sources = old[:n_operands] + [by_parent.get(p, p) for p in outer]
    for i, src in enumerate(sources):
        ph = new.placeholder(f"arg{i}")
        ph.meta["val"] = src.meta.get("val")
        env[src] = ph
    for n in graph.nodes:
        if n.op != "placeholder":
            env[n] = new.node_copy(n, env.__getitem__)
    return new


def _result(tx, call, i, example):
    """Output i of the cond node."""
    item = tx.output.graph.call_function(operator.getitem, (call, i))
    item.meta["val"] = example
    item.meta["stack_trace"] = call.meta["stack_trace"]
    return TensorVariable(item, example)
