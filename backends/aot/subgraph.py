"""Nested compile regions under AOT autograd: one opaque call per call site.

Dynamo emits `invoke_subgraph(subgraph_k, 'subgraph_k', *operands)` for every call of a
`md.nested_compile_region` function. While joint.py traces a graph with `make_fx`, a
`SubgraphTracer` is installed as the `backends.higher_order.invoke_subgraph` handler; each call
it sees (with tensor operands, under the tracing ProxyMode) is recorded as one node instead of
being traced through:

* the first call of a subgraph with given operand metadata (shape, dtype, requires_grad)
  traces the subgraph's own joint graph (joint.trace_joint) and partitions it with the outer
  compile's partitioner into a forward subgraph `fw_subgraph_k` (primals -> outputs + saved
  values) and a backward subgraph `bw_subgraph_k` (saved values + tangents -> one gradient
  or None per primal); later calls with the same subgraph and metadata reuse the pair;
* the call becomes `invoke_subgraph(fw_subgraph_k, 'fw_subgraph_k', *operands)` with one
  `getitem` per output and per saved value (a saved value that is an operand is passed
  directly, not returned again);
* its outputs get an `InvokeSubgraphBackward` autograd node. When the joint trace's backward
  reaches it, it records `invoke_subgraph(bw_subgraph_k, 'bw_subgraph_k', *saved,
  *tangents)`: the autograd engine runs these nodes in reverse order of the calls, so the
  backward graph calls the backward subgraphs in reverse order.

The partitioner then sees opaque calls: the forward call and the getitems of its saved values
land in the forward graph, the backward call in the backward graph, and the subgraph modules
become attributes of the graph that calls them (get_attr). A call that needs no gradient
(inference graphs, or operands that do not require grad) calls a forward-only subgraph
`subgraph_k` traced at the primitive level. Calls whose subgraph mutates or returns (views
of) its inputs, or returns non-tensors, are traced through (inlined) as before.
"""
import operator

import tensorlite as tl
from tensorlite import _state
from tensorlite._dtype import from_np
from tensorlite._modes import fake_tensor, is_fake
from tensorlite._node import Node
from tensorlite._tensor import Tensor

from .. import higher_order

__all__ = ["SubgraphTracer", "InvokeSubgraphBackward"]


class SubgraphTracer:
    """The invoke_subgraph handler for one AOT trace (a context manager that installs it)."""

    def __init__(self, partition_fn=None):
        self.partition_fn = partition_fn
        self.mode = None
        self.cache = {}
        self.uses = {}  # subgraph attribute -> get_attr nodes made so far (for node names)

    def __enter__(self):
        higher_order._tracing.append(self)
        return self

    def __exit__(self, *exc):
        higher_order._tracing.remove(self)
        return False

    def __call__(self, subgraph, identifier, operands):
        from fxlite.proxy_tensor import ProxyMode

        mode = _state.mode
        if not isinstance(mode, ProxyMode) or not all(isinstance(o, Tensor) for o in operands):
            return NotImplemented
        if mode is not self.mode:  # a new make_fx trace (e.g. the real-values retry)
            self.mode, self.cache, self.uses = mode, {}, {}
        rg = None
        if _state.grad_enabled and any(o._rg for o in operands):
            rg = tuple(bool(o._rg and o._data.dtype.kind == "f") for o in operands)
        key = (id(subgraph), identifier, tuple((o._data.shape, o._data.dtype) for o in operands), rg)
        entry = self.cache.get(key)
        if entry is None:
            entry = self.cache[key] = _Entry.trace(self, subgraph, identifier, operands, rg)
        if entry is None:
            return NotImplemented
        return entry.call(self, operands)

    def get_attr(self, name):
        """A get_attr node of a subgraph attribute: `name`, then `name_1`, `name_2`... (as Dynamo)."""
        k = self.uses[name] = self.uses.get(name, -1) + 1
        return self.mode.graph.create_node("get_attr", name, name=name if k == 0 else f"{name}_{k}")


def _unique(mode, name):
    if name not in mode.constants:
        return name
    k = 1
    while f"{name}_{k}" in mode.constants:
        k += 1
    return f"{name}_{k}"


def _fresh(t):
    """A new tensor object with t's metadata (and values, for a real tensor)."""
    if is_fake(t):
        return fake_tensor(t._data.shape, t._data.dtype)
    return Tensor._wrap(t._data.copy())


class _Entry:
    """The traced subgraph(s) for one subgraph and operand signature within one trace."""

    fw_gm = bw_gm = None
    bw_name = None

    @classmethod
    def trace(cls, tracer, subgraph, identifier, operands, rg):
        from .joint import collect_metadata, trace_inference, trace_joint
        from .partition import default_partition

        saved_mode, saved_grad = _state.mode, _state.grad_enabled
        _state.mode = None  # trace the subgraph on its own, not into the enclosing graph
        try:
            training = rg is not None
            args = [fake_tensor(o._data.shape, o._data.dtype, bool(training and r))
                    for o, r in zip(operands, rg or (False,) * len(operands))]
            meta = collect_metadata(subgraph, args, training)
            if meta.mutated_inputs or any(not o.is_tensor or o.alias is not None or o.dup_of is not None or o.view_of is not None
                                          for o in meta.outputs):
                return None  # not a pure function of its operands: trace through it
            self = cls()
            self.n_out = len(meta.outputs)
            self.meta = meta
            base = identifier if isinstance(identifier, str) and identifier.isidentifier() else "subgraph"
            mode = tracer.mode
            if training and meta.grad_inputs and meta.tangent_outputs:
                partition_fn = tracer.partition_fn or default_partition
                joint = trace_joint(subgraph, args, meta, partition_fn=partition_fn)
                self.fw_gm, self.bw_gm = partition_fn(joint, args, num_fwd_outputs=self.n_out)
                self.fw_name = _unique(mode, "fw_" + base)
                mode.constants[self.fw_name] = self.fw_gm
                self.bw_name = _unique(mode, "bw_" + base)
                mode.constants[self.bw_name] = self.bw_gm
            else:
                self.fw_gm = trace_inference(subgraph, args, meta)
                self.fw_name = _unique(mode, base)
                mode.constants[self.fw_name] = self.fw_gm
            return self
        finally:
            _state.mode, _state.grad_enabled = saved_mode, saved_grad

    def call(self, tracer, operands):
        mode = tracer.mode
        graph = mode.graph
        attr = tracer.get_attr(self.fw_name)
        call = mode._call(higher_order.invoke_subgraph,
                          (attr, self.fw_name, *[mode.node_of(o) for o in operands]), {})
        outs = _run(mode, self.fw_gm, operands)
        call.meta["val"] = tuple(mode._meta(o) for o in outs)
        n_out = self.n_out
        op_nodes = {id(o): mode.node_of(o) for o in operands}
        items = []
        by_id = {}
        for i, o in enumerate(outs):
            if i >= n_out and id(o) in op_nodes:  # a saved operand: pass the operand itself
                items.append(op_nodes[id(o)])
                continue
            if id(o) in by_id:  # a saved value that is also an output
                items.append(by_id[id(o)])
                continue
            item = graph.call_function(operator.getitem, (call, i))
            item.meta.update({k: v for k, v in call.meta.items() if k == "stack_trace"})
            mode.bind_tensor(o, item)
            by_id[id(o)] = item
            items.append(item)
        user = tuple(outs[:n_out])
        if self.bw_gm is None:
            return user
        rg = [o._rg and o._data.dtype.kind == "f" for o in operands]
        node = InvokeSubgraphBackward(
            tuple(o._edge() if r else None for o, r in zip(operands, rg)),
            tuple((o._data.shape, o._data.dtype) for o in operands))
        node._entry = self
        node._tracer = tracer
        node._saved = tuple(outs[n_out:])
        node._saved_nodes = tuple(items[n_out:])
        node.n_outputs = len(self.meta.tangent_outputs)
        for slot, i in enumerate(self.meta.tangent_outputs):
            o = user[i]
            o.grad_fn = node
            o._out_nr = slot
            o._rg = True
        return user


def _run(mode, gm, args):
    """gm(*args) computed by the mode below the tracer (fake tensors, or eagerly), no grad."""
    saved_mode, saved_grad = _state.mode, _state.grad_enabled
    _state.mode, _state.grad_enabled = mode.previous, False
    try:
        return tuple(gm(*args))
    finally:
        _state.mode, _state.grad_enabled = saved_mode, saved_grad


class InvokeSubgraphBackward(Node):
    """The autograd node of one traced invoke_subgraph call: records the backward call."""

    _name = "InvokeSubgraphBackward"

    def apply(self, grads):
        saved = self._saved
        if saved is None:
            from tensorlite._node import _FREED_MSG
            raise RuntimeError(_FREED_MSG)
        if _state.grad_enabled:
            raise RuntimeError("invoke_subgraph: double backward (create_graph=True) through a traced "
                               "nested compile region is not supported")
        entry, tracer = self._entry, self._tracer
        mode = tracer.mode
        meta = entry.meta
        tangents = []
        for g, i in zip(grads, meta.tangent_outputs):
            if g is None:
                o = meta.outputs[i]
                g = tl.zeros(o.shape, dtype=from_np(o.dtype))  # recorded by the tracer
            tangents.append(g)
        graph = mode.graph
        attr = tracer.get_attr(entry.bw_name)
        call = mode._call(higher_order.invoke_subgraph,
                          (attr, entry.bw_name, *self._saved_nodes, *[mode.node_of(t) for t in tangents]), {})
        res = _run(mode, entry.bw_gm, (*saved, *tangents))
        inputs = {id(t) for t in (*saved, *tangents)}
        res = [_fresh(r) if isinstance(r, Tensor) and id(r) in inputs else r for r in res]
        call.meta["val"] = tuple(mode._meta(r) if isinstance(r, Tensor) else None for r in res)
        for i, r in enumerate(res):
            if isinstance(r, Tensor):
                item = graph.call_function(operator.getitem, (call, i))
                mode.bind_tensor(r, item)
        return [r if e is not None else None for r, e in zip(res, self._next)]

    def _release(self):
        self._saved = None
