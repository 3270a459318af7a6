"""Partitioners: split a joint graph into a forward and a backward graph.

A partitioner is `partition_fn(joint_gm, joint_inputs, *, num_fwd_outputs) -> (fw_gm, bw_gm)`.
The joint graph (see joint.py) returns `(forward outputs, one gradient or None per primal)`.
The forward graph takes the primals and returns `(*forward outputs, *saved values)`; the
backward graph takes `(*saved values, *tangents)` and returns one gradient (or None) per
primal. Saved values keep their joint-graph names, so the two printouts read together.

* `default_partition`: the forward graph is what the forward outputs need; every forward
  value (or primal) the backward uses is saved; values computable from primals that only
  the backward needs are computed in the backward.
* `min_cut_rematerialization_partition`: a real max-flow/min-cut (Edmonds-Karp) over the
  forward-computable nodes, with capacity = the value's size in bytes, chooses the cheapest
  set of values to save; values downstream of the cut are recomputed in the backward.
  Only cheap ops may be recomputed (elementwise ops, views, casts, `full`): a node whose op
  is not recomputable (matmul, reductions, cat, indexing writes, trace_wrapped...) and that
  the forward computes anyway is tied to the source, so it is saved rather than recomputed.

>>> import tensorlite as tl
>>> from backends.aot.joint import collect_metadata, trace_joint
>>> f = lambda x: x.sin().sum()
>>> x = tl.ones(3, requires_grad=True)
>>> joint = trace_joint(f, [x], collect_metadata(f, [x], True))
>>> fw, bw = min_cut_rematerialization_partition(joint, None, num_fwd_outputs=1)
>>> [n.name for n in bw.graph.nodes if n.op == "placeholder"]
['primals_1', 'tangents_1']
"""
import collections
import math
import operator

import numpy as np

from fxlite.graph import Graph
from fxlite.graph_module import GraphModule
from fxlite.node import Node, map_arg
from fxlite.passes.walk import ancestors, sharing_memory

__all__ = ["default_partition", "min_cut_rematerialization_partition"]


def _parts(joint):
    nodes = list(joint.graph.nodes)
    out = nodes[-1]
    fw_outs, grads = out.args[0]
    primals = [n for n in nodes if n.op == "placeholder" and n.target.startswith("primals")]
    tangents = [n for n in nodes if n.op == "placeholder" and n.target.startswith("tangents")]
    return nodes, primals, tangents, list(fw_outs), list(grads)


def _nodes_in(values):
    return [v for v in values if isinstance(v, Node)]


def _forward_nodes(fw_outs):
    """The nodes the forward outputs need, plus every `getitem` of a multi-output forward
    node (e.g. the saved values an opaque invoke_subgraph call returns): the forward graph
    unpacks them, so a tuple-valued node is never saved for (or recomputed in) the backward."""
    fw_nodes = ancestors(_nodes_in(fw_outs))
    for n in list(fw_nodes):
        for u in n.users:
            if u.op == "call_function" and u.target is operator.getitem and u.args[0] is n:
                fw_nodes.add(u)
    return fw_nodes


def _extract(joint, order, inputs, outputs, class_name="GraphModule"):
    """A GraphModule computing `outputs` from `inputs` with the joint graph's nodes."""
    g = Graph()
    env = {}
    for p in inputs:
        env[p] = g.placeholder(p.name)
        env[p].meta = dict(p.meta)
    needed = ancestors(_nodes_in(outputs), stop=set(inputs))
    for n in order:
        if n in env or n not in needed or n.op == "output":
            continue
        if n.op == "placeholder":
            raise RuntimeError(f"partition: {n.name} is needed by the {class_name} but is not one of its inputs")
        env[n] = g.node_copy(n, env.__getitem__)
    g.output(tuple(map_arg(list(outputs), env.__getitem__)))
    return GraphModule(joint, g, class_name)


def _split(joint, order, primals, tangents, fw_outs, grads, saved):
    fw = _extract(joint, order, primals, fw_outs + saved)
    bw = _extract(joint, order, saved + tangents, grads)
    return fw, bw


def default_partition(joint_module, _joint_inputs=None, *, num_fwd_outputs=None):
    """Forward = what the outputs need; save every forward value the backward uses.

    >>> import tensorlite as tl
    >>> from backends.aot.joint import collect_metadata, trace_joint
    >>> f = lambda x, w: (x @ w).sum()
    >>> args = [tl.ones(2, 3, requires_grad=True), tl.ones(3, 4, requires_grad=True)]
    >>> fw, bw = default_partition(trace_joint(f, args, collect_metadata(f, args, True)))
    >>> [n.name for n in bw.graph.nodes if n.op == "placeholder"]
    ['primals_1', 'primals_2', 'tangents_1']
    """
    order, primals, tangents, fw_outs, grads = _parts(joint_module)
    fw_nodes = _forward_nodes(fw_outs)
    bad = [t.name for t in tangents if t in fw_nodes]
    if bad:
        raise RuntimeError(f"partition: forward outputs depend on tangents {bad}")
    boundary = {n for n in fw_nodes | set(primals) if n.op != "get_attr"}
    bw_seen = ancestors(_nodes_in(grads), stop=boundary)
    saved = [n for n in order if n in boundary and n in bw_seen]
    return _split(joint_module, order, primals, tangents, fw_outs, grads, saved)


# ops that are cheap enough to recompute in the backward instead of saving their result
_RECOMPUTABLE = {
    "add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge",
    "where", "neg", "abs", "sign", "exp", "log", "sin", "cos", "tanh", "sigmoid", "sqrt", "rsqrt",
    "erf", "relu", "logical_not", "floor", "ceil", "round", "clamp", "cast", "detach", "clone",
    "reshape", "permute", "expand", "full", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_not",
}


def _recomputable(n):
    if n.op == "get_attr":
        return True
    if n.op != "call_function":
        return False
    name = getattr(n.target, "name", None)
    if name == "index":
        return not any(isinstance(a, Node) for a in n.args[1:])  # basic indexing is a view
    return name in _RECOMPUTABLE


def _size(n):
    val = n.meta.get("val")
    if isinstance(val, (tuple, list)):
        return math.inf  # a multi-output node: its getitems are saved, never the tuple
    shape = getattr(val, "shape", None)
    dtype = getattr(val, "dtype", None)
    if shape is None or dtype is None:
        return 1.0  # a non-tensor (a hook callable): as cheap to save as anything
    np_dtype = getattr(dtype, "np", None) or np.dtype(getattr(dtype, "name", "float32"))
    return float(max(1, int(np.prod(shape))) * np_dtype.itemsize)


def _max_flow_cut(cap, source, sink):
    """Edmonds-Karp; returns the set of vertices reachable from source in the residual graph."""
    flow = collections.defaultdict(float)
    adj = collections.defaultdict(set)
    for (u, v) in cap:
        adj[u].add(v)
        adj[v].add(u)

    def residual(u, v):
        return cap.get((u, v), 0.0) - flow[(u, v)]

    while True:
        parent = {source: None}
        q = collections.deque([source])
        while q and sink not in parent:
            u = q.popleft()
            for v in adj[u]:
                if v not in parent and residual(u, v) > 0:
                    parent[v] = u
                    q.append(v)
        if sink not in parent:
            return set(parent)
        path = []
        v = sink
        while parent[v] is not None:
            path.append((parent[v], v))
            v = parent[v]
        amount = min(residual(u, v) for u, v in path)
        if amount == math.inf:
            raise RuntimeError("partition: no finite cut separates the forward from the backward")
        for u, v in path:
            flow[(u, v)] += amount
            flow[(v, u)] -= amount


def min_cut_rematerialization_partition(joint_module, _joint_inputs=None, *, num_fwd_outputs=None):
    """Save the cheapest set of values (by bytes, min-cut); recompute cheap ops after it.

    >>> import tensorlite as tl
    >>> from backends.aot.joint import collect_metadata, trace_joint
    >>> f = lambda x: x.sin().cos().sum()
    >>> x = tl.ones(3, requires_grad=True)
    >>> fw, bw = min_cut_rematerialization_partition(trace_joint(f, [x], collect_metadata(f, [x], True)))
    >>> [n.name for n in bw.graph.nodes if n.op == "placeholder"]
    ['primals_1', 'tangents_1']
    """
    order, primals, tangents, fw_outs, grads = _parts(joint_module)
    fw_nodes = _forward_nodes(fw_outs)
    tangent_dep = set(tangents)
    for n in order:
        if n not in tangent_dep and any(i in tangent_dep for i in n.all_input_nodes):
            tangent_dep.add(n)
    bw_needed = ancestors(_nodes_in(grads))
    # a primal or a forward output, or a view of one or what one views (what the caller can
    # change in place after the call) is saved only where eager's backward would save it too
    # (fuzz seed 6000508: a reshape of an output, saved to recompute tanh, changed in place
    # through the output after a graph break): recomputing from a value changed in
    # place would be wrong (or raise where eager does not); the default partition's saved set
    # is always a finite cut, so one exists
    boundary = {n for n in fw_nodes | set(primals) if n.op != "get_attr"}
    eager_saved = ancestors(_nodes_in(grads), stop=boundary)
    visible = sharing_memory(list(primals) + _nodes_in(fw_outs))
    candidates = (fw_nodes | bw_needed) - tangent_dep
    required_bw = bw_needed & tangent_dep
    cap = {}
    for n in order:
        if n.op == "output" or (n not in candidates and n not in required_bw):
            continue
        if n in required_bw:
            cap[(("in", n), "sink")] = math.inf
            continue
        if n.op == "placeholder":
            cap[("source", ("in", n))] = math.inf
        elif n in fw_nodes and not _recomputable(n):
            cap[("source", ("in", n))] = math.inf
        pinned = n.op == "get_attr" or (n in visible and n not in eager_saved)
        cap[(("in", n), ("out", n))] = math.inf if pinned else _size(n)
        for u in n.users:
            if u in candidates or u in required_bw:
                cap[(("out", n), ("in", u))] = math.inf
    for g in _nodes_in(grads):  # a gradient that needs no tangent must still reach the backward
        if g in candidates:
            cap[(("out", g), "sink")] = math.inf
    reachable = _max_flow_cut(cap, "source", "sink") if cap else {"source"}
    saved = [n for n in order if ("in", n) in reachable and ("out", n) not in reachable
             and n.op != "get_attr"]
    return _split(joint_module, order, primals, tangents, fw_outs, grads, saved)
