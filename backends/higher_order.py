"""Higher-order ops that graphs call (defined here, the lowest layer that runs them;
users import them from minidynamo).

`invoke_subgraph(subgraph, identifier, *operands)` runs a nested compile region's graph.

>>> import fxlite, tensorlite as tl
>>> from backends.higher_order import invoke_subgraph
>>> sub = fxlite.symbolic_trace(lambda x: (x.sin(),))
>>> invoke_subgraph(sub, "subgraph_0", tl.zeros(2))[0]
tensor([0., 0.])
"""


def invoke_subgraph(subgraph, identifier, *operands):
    """Call the subgraph (a GraphModule returning a tuple) on the operands."""
    return subgraph(*operands)


invoke_subgraph.__module__ = "backends.higher_order"
