"""Joint tracing: one trace of a function's forward and backward at the primitive level.

`collect_metadata` runs the function once on fake tensors (with autograd) to learn what the
runtime needs to know: which outputs are tensors that require grad (they get tangents),
which outputs alias inputs (they are regenerated outside the compiled graph by replaying
their view ops on the real input, as eager would have produced them), duplicated outputs,
and which inputs are mutated in place (the traced graphs are functional: they return the
new value, and the runtime copies it back into the input after the forward).

`trace_joint` then traces

    def inner_f(primals, tangents):
        outs = fn(*primals)
        grads = tl.autograd.grad(diff_outs, grad_inputs, tangents, allow_unused=True)
        return (outs + new values of mutated inputs, one grad or None per primal)

with `fxlite.make_fx` (fake tensors), so the backward rules' primitives appear in the
graph; its placeholders are `primals_1..N` and `tangents_1..M`.

>>> import tensorlite as tl
>>> def f(x):
...     return x.sin()
>>> x = tl.ones(2, requires_grad=True)
>>> meta = collect_metadata(f, [x], grad_enabled=True)
>>> joint = trace_joint(f, [x], meta)
>>> print(joint.print_readable(False).strip())
class inner_f(tl.nn.Module):
    def forward(self, primals_1: "f32[2]", tangents_1: "f32[2]"):
        sin: "f32[2]" = tl.ops.sin(primals_1)
        cos: "f32[2]" = tl.ops.cos(primals_1);  primals_1 = None
        mul: "f32[2]" = tl.ops.mul(tangents_1, cos);  tangents_1 = cos = None
        return ([sin], [mul])
"""
import numpy as np

import tensorlite as tl
from tensorlite import _state
from tensorlite._modes import DataDependentError, FakeTensorMode, fake_tensor
from tensorlite._tensor import Tensor

from . import trace_wrapped as _tw

__all__ = ["collect_metadata", "trace_joint", "trace_inference", "ViewAndMutationMeta",
           "tree_flatten", "tree_unflatten", "GraphInput"]


# ---------------------------------------------------------------------------- tiny pytree
def tree_flatten(obj):
    """(leaves, spec) over nested tuples, lists and dicts; anything else is a leaf."""
    leaves = []
    spec = _flatten(obj, leaves)
    return leaves, spec


def _flatten(obj, leaves):
    t = type(obj)
    if t is tuple or t is list:
        return (t, [_flatten(o, leaves) for o in obj])
    if t is dict:
        return (dict, list(obj), [_flatten(v, leaves) for v in obj.values()])
    leaves.append(obj)
    return None


def tree_unflatten(leaves, spec):
    it = iter(leaves)
    return _unflatten(it, spec)


def _unflatten(it, spec):
    if spec is None:
        return next(it)
    if spec[0] is dict:
        return {k: _unflatten(it, s) for k, s in zip(spec[1], spec[2])}
    items = [_unflatten(it, s) for s in spec[1]]
    return tuple(items) if spec[0] is tuple else items


class GraphInput:
    """Stands for a callable graph input (a hook) while tracing; replaced by its placeholder."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index

    def __repr__(self):
        return f"GraphInput({self.index})"

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            f"aot: graph input {self.index} is a callable and was called during the forward; "
            "callable graph inputs may only be passed to trace_wrapped/register_hook")


# ---------------------------------------------------------------------------- metadata
class OutputInfo:
    __slots__ = ("is_tensor", "requires_grad", "alias", "dup_of", "shape", "dtype", "view_of")

    def __init__(self, is_tensor, requires_grad=False, alias=None, dup_of=None, shape=None, dtype=None):
        self.is_tensor = is_tensor
        self.requires_grad = requires_grad
        self.alias = alias  # (input index, view chain) when the output is (a view of) an input
        self.dup_of = dup_of  # index of an earlier identical output
        self.shape = shape
        self.dtype = dtype
        self.view_of = None  # (output index, view chain) when the output is a view of another


class ViewAndMutationMeta:
    """What the runtime wrapper needs to know about a traced function's inputs and outputs."""

    def __init__(self, n_inputs, tensor_inputs, grad_inputs, mutated_inputs, outputs, out_spec,
                 graph_inputs):
        self.n_inputs = n_inputs
        self.tensor_inputs = tensor_inputs  # positions of tensor inputs
        self.grad_inputs = grad_inputs  # positions of inputs that require grad (in this variant)
        self.mutated_inputs = mutated_inputs  # positions of inputs mutated in place
        self.outputs = outputs  # OutputInfo per flat output
        self.out_spec = out_spec
        self.graph_inputs = graph_inputs  # positions of callable inputs traced as placeholders
        self.tangent_outputs = [i for i, o in enumerate(outputs)
                                if o.is_tensor and o.requires_grad and o.alias is None and o.dup_of is None
                                and o.view_of is None]


def _trace_args(flat_args, graph_inputs):
    return [GraphInput(i) if i in graph_inputs else a for i, a in enumerate(flat_args)]


def collect_metadata(fn, flat_args, grad_enabled, graph_inputs=()):
    """Run fn once on fake copies of flat_args and describe its outputs and mutations."""
    graph_inputs = set(graph_inputs)
    tensor_inputs = [i for i, a in enumerate(flat_args) if isinstance(a, Tensor)]
    grad_inputs = [i for i in tensor_inputs
                   if grad_enabled and flat_args[i].requires_grad and flat_args[i]._data.dtype.kind == "f"]
    try:
        inputs, out, layout_dependent = _run_on_copies(fn, flat_args, grad_enabled, graph_inputs, fake=True)
    except DataDependentError:
        inputs, out, layout_dependent = _run_on_copies(fn, flat_args, grad_enabled, graph_inputs, fake=False)
    flat, spec = tree_flatten(out)
    pos = {id(inputs[i]): i for i in tensor_inputs}
    seen = {}
    infos = []
    for k, o in enumerate(flat):
        if not isinstance(o, Tensor):
            infos.append(OutputInfo(False))
            continue
        alias = None
        if id(o) in pos:
            alias = (pos[id(o)], ())
        elif o._base is not None and id(o._base) in pos and not any(
                isinstance(e, Tensor) for _, extra, _ in o._view_chain for e in extra):
            alias = (pos[id(o._base)], o._view_chain)
        infos.append(OutputInfo(True, o.requires_grad and o._data.dtype.kind == "f", alias,
                                seen.get(id(o)), o._data.shape, o._data.dtype))
        seen.setdefault(id(o), k)
    # an output that views another output (t and t[0]) is rebuilt from it after the call, so
    # that, as in eager, a later in-place change through the view moves the base's history
    # (or of a full-size alias of the same base: a hook node's output)
    bases = {}
    for j, (o, info) in enumerate(zip(flat, infos)):
        if info.is_tensor and info.alias is None and info.dup_of is None:
            if o._base is None:
                bases.setdefault(id(o), j)
            elif o._data.shape == o._base._data.shape and all(
                    getattr(p, "name", "") == "reshape" for p, _, _ in o._view_chain):
                bases.setdefault(id(o._base), j)
    for k, (o, info) in enumerate(zip(flat, infos)):
        if info.is_tensor and info.alias is None and info.dup_of is None and o._base is not None \
                and bases.get(id(o._base), k) != k \
                and not any(isinstance(e, Tensor) for _, extra, _ in o._view_chain for e in extra):
            info.view_of = (bases[id(o._base)], o._view_chain)
    mutated = [i for i in tensor_inputs if inputs[i]._vc[0] != 0]
    meta = ViewAndMutationMeta(len(flat_args), tensor_inputs, grad_inputs, mutated, infos, spec,
                               sorted(graph_inputs))
    # an input that did not require grad but now holds a value with history (x.add_(w))
    meta.mutation_gains_grad = grad_enabled and any(
        inputs[i].requires_grad and not flat_args[i].requires_grad for i in mutated)
    # an in-place write into memory a reshape may or may not share (see _LayoutWatch)
    meta.layout_dependent = layout_dependent
    return meta


class _LayoutWatch(FakeTensorMode):
    """FakeTensorMode noting in-place writes into memory that a reshape made a view of. Whether
    numpy's reshape returns a view or a copy depends on the real memory layout, which fake
    tensors (no strides) do not model, so a functional graph would fix one answer where eager
    may take the other."""

    def __init__(self):
        self.reshaped, self.mutated = set(), set()

    def dispatch(self, prim, args, params):
        out = super().dispatch(prim, args, params)
        if prim.name == "reshape" and getattr(out, "_base", None) is not None:
            self.reshaped.add(id(out._base))
        return out

    def inplace(self, tensor, result):
        self.mutated.add(id(tensor._base if tensor._base is not None else tensor))


def _run_on_copies(fn, flat_args, grad_enabled, graph_inputs, fake):
    """(input copies, output, whether an in-place write reached reshaped memory: fake runs only;
    real arrays take numpy's own view-or-copy decision)."""
    inputs = []
    layout_dependent = False
    for i, a in enumerate(_trace_args(flat_args, graph_inputs)):
        if isinstance(a, Tensor):
            rg = grad_enabled and a.requires_grad
            t = fake_tensor(a._data.shape, a._data.dtype, rg) if fake else Tensor._wrap(np.array(a._data), rg)
            t._vc = [0]
            a = t
        inputs.append(a)
    prev = _state.grad_enabled
    _state.grad_enabled = grad_enabled
    _tw._suspended[0] += 1
    try:
        if fake:
            with _LayoutWatch() as watch:
                out = fn(*inputs)
            layout_dependent = bool(watch.reshaped & watch.mutated)
        else:
            out = fn(*inputs)
    except RuntimeError as e:
        if "leaf Variable that requires grad" in str(e):
            raise RuntimeError(
                "aot_eager: the compiled graph mutates an input that requires grad in place; "
                "in-place mutation of graph inputs that require grad is not supported by AOT "
                "autograd here (clone the input first, or run the function eagerly)") from e
        raise
    finally:
        _state.grad_enabled = prev
        _tw._suspended[0] -= 1
    return inputs, out, layout_dependent


# ---------------------------------------------------------------------------- tracing
def _make_fx(fn, args, grad_enabled, partition_fn=None):
    from fxlite.proxy_tensor import make_fx

    from .subgraph import SubgraphTracer

    with SubgraphTracer(partition_fn) as tracer:  # invoke_subgraph calls become opaque subgraph calls
        gm = _make_fx_inner(make_fx, fn, args, grad_enabled)
    return tracer.partition_calls(gm)


def _make_fx_inner(make_fx, fn, args, grad_enabled):
    prev = _state.grad_enabled
    _state.grad_enabled = grad_enabled
    try:
        try:
            return make_fx(fn, tracing_mode="fake")(*args)
        except DataDependentError:
            _tw._suspended[0] += 1  # real values: trace_wrapped must not run user hooks
            try:
                return make_fx(fn, tracing_mode="real")(*args)
            finally:
                _tw._suspended[0] -= 1
    finally:
        _state.grad_enabled = prev


def _bind_graph_inputs(gm, flat_args):
    """Replace GraphInput constants by the placeholders they stand for."""
    subst = {}
    for n in gm.graph.nodes:
        if n.op == "placeholder" and isinstance(n.meta.get("val"), GraphInput):
            subst[n.meta["val"]] = n
            n.meta["val"] = flat_args[n.meta["val"].index]
    if not subst:
        return gm
    from fxlite.node import map_aggregate
    fix = lambda a: subst.get(a, a) if isinstance(a, GraphInput) else a  # noqa: E731
    for n in gm.graph.nodes:
        if n.op in ("call_function", "output"):
            n.args = map_aggregate(n.args, fix)
            n.kwargs = map_aggregate(n.kwargs, fix)
    gm.recompile()
    return gm


def trace_joint(fn, flat_args, meta, partition_fn=None):
    """The joint forward+backward GraphModule (class `inner_f`) of fn on flat_args.

    Nested compile regions (invoke_subgraph calls) are partitioned with partition_fn
    (default_partition when None) and called opaquely; see subgraph.py."""
    tangent_outputs = meta.tangent_outputs
    grad_inputs = meta.grad_inputs
    mutated = meta.mutated_inputs
    n = meta.n_inputs

    def inner_f(primals, tangents):
        flat = tree_flatten(fn(*primals))[0]
        fw = list(flat) + [primals[i] for i in mutated]
        grads = [None] * n
        if tangents and grad_inputs:
            gs = tl.autograd.grad([flat[i] for i in tangent_outputs], [primals[i] for i in grad_inputs],
                                  grad_outputs=list(tangents), allow_unused=True)
            for i, g in zip(grad_inputs, gs):
                grads[i] = g
        return fw, grads

    primals = _trace_args(flat_args, set(meta.graph_inputs))
    primals = [_with_rg(a, i in grad_inputs) if isinstance(a, Tensor) else a for i, a in enumerate(primals)]
    tangents = [fake_tensor(meta.outputs[i].shape, meta.outputs[i].dtype) for i in tangent_outputs]
    return _bind_graph_inputs(_make_fx(inner_f, (primals, tangents), True, partition_fn), flat_args)


def trace_inference(fn, flat_args, meta):
    """The forward-only GraphModule of fn: returns (*outputs, *new values of mutated inputs)."""
    mutated = meta.mutated_inputs

    def inner_f(*primals):
        flat = tree_flatten(fn(*primals))[0]
        return tuple(flat) + tuple(primals[i] for i in mutated)

    primals = _trace_args(flat_args, set(meta.graph_inputs))
    primals = [_with_rg(a, False) if isinstance(a, Tensor) else a for a in primals]
    return _bind_graph_inputs(_make_fx(inner_f, primals, False), flat_args)


def _with_rg(t, rg):
    """A fake stand-in for t with the requires_grad this variant traces with."""
    return fake_tensor(t._data.shape, t._data.dtype, rg)
