"""Higher-order ops that graphs call (defined here, the lowest layer that runs them;
users import them from minidynamo).

`invoke_subgraph(subgraph, identifier, *operands)` runs a nested compile region's graph.
Eagerly (and under any tracer that does not know it) it just calls the subgraph. While AOT
autograd traces a graph (backends/aot/subgraph.py), the call is instead recorded as ONE opaque
node calling a partitioned forward subgraph, with an autograd rule that records one call of
the matching backward subgraph.

>>> import fxlite, tensorlite as tl
>>> from backends.higher_order import invoke_subgraph
>>> sub = fxlite.symbolic_trace(lambda x: (x.sin(),))
>>> invoke_subgraph(sub, "subgraph_0", tl.zeros(2))[0]
tensor([0., 0.])
"""

# Handlers pushed by tracers (backends.aot.subgraph) while they trace: the innermost one is
# asked first; it returns NotImplemented to let the call run (be traced through) as usual.
_tracing = []


def invoke_subgraph(subgraph, identifier, *operands):
    """Call the subgraph (a GraphModule returning a tuple) on the operands."""
    if _tracing:
        out = _tracing[-1](subgraph, identifier, operands)
        if out is not NotImplemented:
            return out
    return subgraph(*operands)


invoke_subgraph.__module__ = "backends.higher_order"
