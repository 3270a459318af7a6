"""Serialize a Graph to plain picklable data and back (used to pickle GraphModules and by
the codegen cache). Node references become NodeRef(name); meta["val"] becomes TensorMeta.

>>> import pickle, fxlite, tensorlite as tl
>>> g = fxlite.Graph(); x = g.placeholder("x"); _ = g.output(g.call_function(tl.sin, (x,)))
>>> print(fxlite.serialize.graph_from_state(pickle.loads(pickle.dumps(fxlite.serialize.graph_to_state(g)))))
graph():
    %x : [num_users=1] = placeholder[target=x]
    %sin : [num_users=1] = call_function[target=tensorlite.sin](args = (%x,), kwargs = {})
    return sin
"""
from .graph import Graph
from .node import map_arg


class NodeRef:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __reduce__(self):
        return (NodeRef, (self.name,))


class TensorMeta:
    """Shape, dtype and requires_grad of a value: what meta["val"] needs to say."""

    __slots__ = ("shape", "dtype", "requires_grad")

    def __init__(self, shape, dtype, requires_grad=False):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.requires_grad = requires_grad

    def __reduce__(self):
        return (TensorMeta, (self.shape, self.dtype, self.requires_grad))

    def __repr__(self):
        return f"TensorMeta(shape={list(self.shape)}, dtype={self.dtype}, requires_grad={self.requires_grad})"

    def __eq__(self, other):
        return isinstance(other, TensorMeta) and (self.shape, self.dtype, self.requires_grad) == (
            other.shape, other.dtype, other.requires_grad)

    __hash__ = None


def _meta_val(v):
    if hasattr(v, "shape") and hasattr(v, "dtype") and not isinstance(v, TensorMeta):
        return TensorMeta(tuple(v.shape), v.dtype, bool(getattr(v, "requires_grad", False)))
    if isinstance(v, (list, tuple)):
        return type(v)(_meta_val(x) for x in v)
    return v


_KEPT_META = ("val", "stack_trace", "source", "tensor_meta", "nn_module_stack", "partitioner_tag")


def graph_to_state(graph):
    nodes = []
    for n in graph.nodes:
        meta = {k: (_meta_val(v) if k in ("val", "tensor_meta") else v)
                for k, v in n.meta.items() if k in _KEPT_META}
        nodes.append((n.op, n.name, n.target, map_arg(n.args, lambda a: NodeRef(a.name)),
                      map_arg(n.kwargs, lambda a: NodeRef(a.name)), n.type, meta))
    return {"version": 1, "nodes": nodes}


def graph_from_state(state):
    from .node import map_aggregate

    g = Graph()
    env = {}
    for op, name, target, args, kwargs, type_expr, meta in state["nodes"]:
        def resolve(a):
            return env[a.name] if isinstance(a, NodeRef) else a
        args = map_aggregate(args, resolve)
        kwargs = map_aggregate(kwargs, resolve)
        if op == "placeholder":
            n = g.create_node(op, target, args, kwargs, name=name, type_expr=type_expr)
        else:
            n = g.create_node(op, target, args, kwargs, name=name, type_expr=type_expr)
        n.meta.update(meta)
        env[name] = n
    return g
