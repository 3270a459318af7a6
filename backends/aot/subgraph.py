"""Nested compile regions under AOT autograd: opaque calls, partitioned as PyTorch's AOTDispatcher
partitions `invoke_subgraph`.

Dynamo emits `invoke_subgraph(subgraph_k, 'subgraph_k', *operands)` for every call of a
`md.nested_compile_region` function. While joint.py traces a graph with `make_fx`, a
`SubgraphTracer` is installed as the `backends.higher_order.invoke_subgraph` handler; each call
it sees (with tensor operands, under the tracing ProxyMode) is recorded as one node instead of
being traced through:

* the subgraph is traced once per operand signature (shape, dtype, requires_grad) at the
  primitive level, dead code dropped, as attribute `repeated_subgraph{i}`; a call that needs
  no gradient calls it as it is: `invoke_subgraph(repeated_subgraph0, 'subgraph_0', ...)`;
* a call that needs gradients calls it as `'fw_subgraph_0'`, and its outputs get an
  `InvokeSubgraphBackward` node. When the trace's backward reaches the node, the subgraph's
  joint graph is traced for the tangents it got (once per identifier and tangent metadata:
  suffix s) and the call `invoke_subgraph(joint, 'bw_subgraph_0_s', *primals, *tangents)` is
  recorded, returning (*grads, *forward outputs). The autograd engine reaches these nodes in
  reverse order of the calls, so the backward calls come in reverse order;
* after the trace, `partition_calls` (PyTorch's run_joint_graph_passes_on_hops) splits each
  joint graph with the outer compile's partitioner into `partitioned_fw_subgraph_0_s`
  (primals -> outputs, saved values) and `partitioned_bw_subgraph_0_s` (saved values,
  tangents -> grads), and rewires each pair of calls to them. The outer partitioner then sees
  opaque calls: a forward call and the getitems of its saved values land in the forward graph,
  a backward call in the backward graph.

Calls whose subgraph mutates or returns (views of) its inputs, or returns non-tensors, are
traced through (inlined) as before.
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
        self._reset(None)

    def _reset(self, mode):
        self.mode = mode
        self.forwards = {}  # (subgraph, identifier, operand signature) -> _Forward, or None: inline
        self.joints = {}  # (_Forward, tangent signature) -> _Joint
        self.n_calls = 0  # call ids pair a forward call with its backward call

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
            self._reset(mode)
        rg = None
        if _state.grad_enabled and any(o._rg for o in operands):
            rg = tuple(bool(o._rg and o._data.dtype.kind == "f") for o in operands)
        key = (id(subgraph), identifier, tuple((o._data.shape, o._data.dtype) for o in operands), rg)
        if key not in self.forwards:
            self.forwards[key] = _Forward.trace(self, subgraph, identifier, operands, rg)
        forward = self.forwards[key]
        if forward is None:
            return NotImplemented
        return forward.call(self, operands)

    def install(self, gm):
        """Make gm an attribute of the traced graph: repeated_subgraph0, repeated_subgraph1, ...
        (torch.fx's fresh qualified names, as PyTorch's tracer names the subgraphs it traces)."""
        constants = self.mode.constants
        k = 0
        while f"repeated_subgraph{k}" in constants:
            k += 1
        constants[f"repeated_subgraph{k}"] = gm
        return f"repeated_subgraph{k}"

    def record(self, attr_name, identifier, operand_nodes, values):
        """`invoke_subgraph(attr, identifier, *operands)` in the traced graph and one getitem per
        value (None included, as PyTorch's tracer indexes every output); binds the tensors."""
        mode = self.mode
        graph = mode.graph
        attr = graph.get_attr(attr_name)
        call = mode._call(higher_order.invoke_subgraph, (attr, identifier, *operand_nodes), {})
        call.meta["val"] = tuple(mode._meta(v) if isinstance(v, Tensor) else None for v in values)
        for i, v in enumerate(values):
            item = graph.call_function(operator.getitem, (call, i))
            if isinstance(v, Tensor):
                mode.bind_tensor(v, item)
        return call

    def joint(self, forward, primals, tangents):
        """The _Joint of forward's subgraph for these tangents (traced on first use)."""
        groups = _aliasing_groups(tangents, offset=len(primals))
        key = (forward, tuple((t._data.shape, t._data.dtype) for t in tangents), groups)
        joint = self.joints.get(key)
        if joint is None:
            suffix = sum(1 for k in self.joints if k[0].identifier == forward.identifier)
            joint = self.joints[key] = _Joint.trace(self, forward, suffix, groups)
        return joint

    def partition_calls(self, gm):
        """Split each joint graph a backward call calls into partitioned forward and backward
        subgraphs and rewire the calls to them; returns gm."""
        return _partition_calls(gm, self.partition_fn)


def _fresh(t):
    """A new tensor object with t's metadata (and values, for a real tensor)."""
    if is_fake(t):
        return fake_tensor(t._data.shape, t._data.dtype)
    return Tensor._wrap(t._data.copy())


def _run(mode, gm, args):
    """gm(*args) computed by the mode below the tracer (fake tensors, or eagerly), no grad."""
    saved_mode, saved_grad = _state.mode, _state.grad_enabled
    _state.mode, _state.grad_enabled = mode.previous, False
    try:
        return gm(*args)
    finally:
        _state.mode, _state.grad_enabled = saved_mode, saved_grad


def _aliasing_groups(tangents, offset):
    """The joint's input positions (tangent i: offset + i) of tangents passed more than once:
    one gradient tensor for several outputs (as PyTorch keys its backward subgraphs)."""
    at = {}
    for i, t in enumerate(tangents):
        at.setdefault(id(t), []).append(offset + i)
    return tuple(tuple(p) for p in at.values() if len(p) > 1)


class _Forward:
    """A subgraph traced for one operand signature, and the calls of it that need gradients."""

    @classmethod
    def trace(cls, tracer, subgraph, identifier, operands, rg):
        from .joint import collect_metadata, trace_inference

        saved_mode, saved_grad = _state.mode, _state.grad_enabled
        _state.mode = None  # trace the subgraph on its own, not into the enclosing graph
        try:
            training = rg is not None
            args = [fake_tensor(o._data.shape, o._data.dtype, bool(training and r))
                    for o, r in zip(operands, rg or (False,) * len(operands))]
            meta = collect_metadata(subgraph, args, training)
            if meta.mutated_inputs or any(not o.is_tensor or o.alias is not None or o.dup_of is not None
                                          or o.view_of is not None for o in meta.outputs):
                return None  # not a pure function of its operands: trace through it
            self = cls()
            self.subgraph, self.args, self.meta = subgraph, args, meta
            self.identifier = identifier if isinstance(identifier, str) and identifier.isidentifier() \
                else "subgraph"
            self.gm = trace_inference(subgraph, args, meta)
            self.gm.graph.eliminate_dead_code()  # dead code inside the region (as PyTorch's DCE)
            self.gm.recompile()
            self.name = tracer.install(self.gm)
            # the calls that need gradients are forward halves, until partition_calls pairs them
            self.needs_grad = training and bool(meta.grad_inputs) and bool(meta.tangent_outputs)
            return self
        finally:
            _state.mode, _state.grad_enabled = saved_mode, saved_grad

    def call(self, tracer, operands):
        mode = tracer.mode
        outs = tuple(_run(mode, self.gm, operands))
        identifier = f"fw_{self.identifier}" if self.needs_grad else self.identifier
        call = tracer.record(self.name, identifier, [mode.node_of(o) for o in operands], outs)
        if not self.needs_grad:
            return outs
        call.meta["call_id"] = tracer.n_calls
        tracer.n_calls += 1
        rg = [o._rg and o._data.dtype.kind == "f" for o in operands]
        node = InvokeSubgraphBackward(tuple(o._edge() if r else None for o, r in zip(operands, rg)),
                                      tuple((o._data.shape, o._data.dtype) for o in operands))
        node._forward, node._tracer, node._call_id = self, tracer, call.meta["call_id"]
        node._saved = tuple(operands)
        node.n_outputs = len(self.meta.tangent_outputs)
        for slot, i in enumerate(self.meta.tangent_outputs):
            o = outs[i]
            o.grad_fn = node
            o._out_nr = slot
            o._rg = True
        return outs


class _Joint:
    """The joint graph of a _Forward's subgraph for one tangent signature: takes (*primals,
    *tangents), returns (forward outputs, one grad or None per primal)."""

    @classmethod
    def trace(cls, tracer, forward, suffix, groups):
        from .joint import trace_joint

        saved_mode, saved_grad = _state.mode, _state.grad_enabled
        _state.mode = None
        try:
            gm = trace_joint(forward.subgraph, forward.args, forward.meta)
        finally:
            _state.mode, _state.grad_enabled = saved_mode, saved_grad
        _as_traced_with_aliases(gm, groups)
        _number_from_zero(gm)
        self = cls()
        self.gm = gm
        self.identifier = f"bw_{forward.identifier}_{suffix}"
        self.name = tracer.install(gm)
        self.n_primals = len(forward.args)
        self.n_out = len(forward.meta.outputs)
        return self

    def values(self, mode, primals, tangents):
        """What the call returns: (*grads, *forward outputs), computed below the tracer."""
        outs, grads = _run(mode, self.gm, (*primals, *tangents))
        inputs = {id(t) for t in (*primals, *tangents)}
        grads = [_fresh(g) if isinstance(g, Tensor) and id(g) in inputs else g for g in grads]
        return (*grads, *outs)


def _as_traced_with_aliases(gm, groups):
    """A gradient tensor passed as several tangents is one traced value: PyTorch's tracer binds
    it to its last placeholder, so the joint reads only that one (the cache key has the
    groups). Only tangents: the forward half of the joint stays the same for every call."""
    phs = [n for n in gm.graph.nodes if n.op == "placeholder"]
    for group in groups:
        last = phs[group[-1]]
        for i in group[:-1]:
            phs[i].replace_all_uses_with(last)
    if groups:
        gm.recompile()


def _number_from_zero(gm):
    """primals_0.., tangents_0.. (PyTorch's prepare_for_partitioner names)."""
    counts = {}
    for n in gm.graph.nodes:
        if n.op == "placeholder":
            kind = n.target.rsplit("_", 1)[0]
            n.name = n.target = f"{kind}_{counts.setdefault(kind, 0)}"
            counts[kind] += 1
    gm.recompile()


class InvokeSubgraphBackward(Node):
    """The autograd node of one traced forward call: records the backward call."""

    _name = "InvokeSubgraphBackward"

    def apply(self, grads):
        saved = self._saved
        if saved is None:
            from tensorlite._node import _FREED_MSG
            raise RuntimeError(_FREED_MSG)
        if _state.grad_enabled:
            raise RuntimeError("invoke_subgraph: double backward (create_graph=True) through a traced "
                               "nested compile region is not supported")
        forward, tracer = self._forward, self._tracer
        mode = tracer.mode
        tangents = []
        for g, i in zip(grads, forward.meta.tangent_outputs):
            if g is None:
                o = forward.meta.outputs[i]
                g = tl.zeros(o.shape, dtype=from_np(o.dtype))  # recorded by the tracer
            tangents.append(g)
        joint = tracer.joint(forward, saved, tangents)
        values = joint.values(mode, saved, tangents)
        call = tracer.record(joint.name, joint.identifier, [mode.node_of(t) for t in (*saved, *tangents)], values)
        call.meta["call_id"] = self._call_id
        return [g if e is not None else None for g, e in zip(values[:joint.n_primals], self._next)]

    def _release(self):
        self._saved = None


# ------------------------------------------------------------------ after the trace
def _is_call(n, prefix):
    return n.op == "call_function" and n.target is higher_order.invoke_subgraph \
        and isinstance(n.args[1], str) and n.args[1].startswith(prefix)


def _partition_calls(gm, partition_fn):
    from .partition import default_partition

    graph = gm.graph
    bws = [n for n in graph.nodes if _is_call(n, "bw_")]
    if not bws:
        return gm
    fws = {n.meta["call_id"]: n for n in graph.nodes if _is_call(n, "fw_")}
    parts = {}
    for bw in bws:
        key = bw.args[1][len("bw"):]  # "_subgraph_0_0"
        if key not in parts:
            joint = getattr(gm, bw.args[0].target)
            parts[key] = _Parts(gm, key, joint, partition_fn or default_partition)
    replaced = []
    partitioned = {}  # the subgraph a forward call calls -> the key of its partitioned subgraphs
    for bw in reversed(bws):  # the first call's pair first, as PyTorch
        key = bw.args[1][len("bw"):]
        fw = fws[bw.meta["call_id"]]
        partitioned.setdefault(fw.args[0].target, key)
        saved = _stitch_forward(graph, fw, parts[key], with_saved=True)
        _stitch_backward(graph, bw, parts[key], saved)
        replaced += [fw, bw]
    for fw in fws.values():  # forward calls whose backward never ran call the new forward too
        if fw not in replaced and fw.args[0].target in partitioned:
            _stitch_forward(graph, fw, parts[partitioned[fw.args[0].target]], with_saved=False)
            replaced.append(fw)
    for n in replaced:  # erased last: the names they free are not handed out again
        graph.erase_node(n)
    graph.eliminate_dead_code()
    gm.recompile()
    return gm


class _Parts:
    """The partitioned subgraphs of one joint graph, installed as attributes of gm."""

    def __init__(self, gm, key, joint, partition_fn):
        self.n_out = len(next(n for n in joint.graph.nodes if n.op == "output").args[0][0])
        self.n_primals = sum(1 for n in joint.graph.nodes if n.op == "placeholder" and n.target.startswith("primals"))
        fw_gm, bw_gm = partition_fn(joint, None, num_fwd_outputs=self.n_out)
        self.fw_name, self.bw_name = f"partitioned_fw{key}", f"partitioned_bw{key}"
        setattr(gm, self.fw_name, fw_gm)
        setattr(gm, self.bw_name, bw_gm)
        self.fw_vals = _output_values(fw_gm)
        self.bw_vals = _output_values(bw_gm)
        self.n_saved = len(self.fw_vals) - self.n_out


def _output_values(gm):
    out = next(n for n in gm.graph.nodes if n.op == "output")
    return tuple(a.meta.get("val") if a is not None else None for a in out.args[0])


def _stitch_forward(graph, fw, parts, with_saved):
    """Call the partitioned forward instead of fw; returns the getitems of its saved values."""
    with graph.inserting_after(fw):
        attr = graph.get_attr(parts.fw_name)
    with graph.inserting_after(attr):
        call = graph.call_function(higher_order.invoke_subgraph, (attr, parts.fw_name, *fw.args[2:]))
    call.meta = dict(fw.meta, val=parts.fw_vals)
    saved = []
    if with_saved:
        for i in range(parts.n_out, parts.n_out + parts.n_saved):
            with graph.inserting_after(call):  # each right after the call, as PyTorch inserts them
                item = graph.call_function(operator.getitem, (call, i))
            item.meta["val"] = parts.fw_vals[i]
            saved.append(item)
    fw.replace_all_uses_with(call)
    return saved


def _stitch_backward(graph, bw, parts, saved):
    """Call the partitioned backward (saved values, tangents) instead of the joint."""
    tangents = list(bw.args[2 + parts.n_primals:])
    with graph.inserting_after(bw):
        attr = graph.get_attr(parts.bw_name)
    with graph.inserting_after(attr):
        call = graph.call_function(higher_order.invoke_subgraph, (attr, parts.bw_name, *saved, *tangents))
    call.meta = dict(bw.meta, val=parts.bw_vals)
    bw.replace_all_uses_with(call)
