"""Common-subexpression elimination: merge identical pure call_function/call_method nodes.

Two nodes are merged when they have the same op, target, args and kwargs (argument nodes
compared by identity, constants by type and value). Impure nodes (mutation, printing, random
ops), nodes whose value is mutated later (directly or through a view), and arguments that
cannot be compared are never merged.

>>> import tensorlite as tl, fxlite
>>> from fxlite.passes import cse
>>> gm = fxlite.symbolic_trace(lambda x: x.relu() * x.relu())
>>> cse(gm)
True
>>> print(gm.code.strip())
def forward(self, x):
    relu = x.relu();  x = None
    mul = relu * relu;  relu = None
    return mul
"""

from ..codegen import same_key
from ..node import Node
from .dce import is_impure, is_mutating

_VIEW_NAMES = {"reshape", "view", "view_as", "reshape_as", "index", "getitem", "transpose",
               "permute", "t", "T", "mT", "expand", "expand_as", "broadcast_to", "squeeze",
               "unsqueeze", "flatten", "detach", "data", "split", "chunk", "unbind", "narrow",
               "swapaxes", "contiguous", "to", "type", "float", "double", "long", "int", "bool",
               "half", "view_scatter"}


class _Unhashable(Exception):
    pass


def _key(a):
    """A hashable key equal for equal arguments (types included, so 1 and 1.0 differ)."""
    if isinstance(a, Node):
        return ("node", id(a))
    if isinstance(a, (tuple, list)):
        return (type(a).__name__, tuple(_key(x) for x in a))
    if isinstance(a, dict):
        return ("dict", tuple((k, _key(v)) for k, v in a.items()))
    if isinstance(a, slice):
        return ("slice", _key(a.start), _key(a.stop), _key(a.step))
    if type(a) in (float, complex):  # by their bits: 0.0 and -0.0 are two constants
        return same_key(a)
    try:
        hash(a)
    except TypeError:
        raise _Unhashable from None
    if hasattr(a, "_data"):  # tensors compare by identity
        return ("id", id(a))
    return (type(a), a)


def _name(node):
    t = node.target
    return t if isinstance(t, str) else (getattr(t, "__name__", None) or getattr(t, "name", ""))


def _mutated_nodes(graph):
    """Nodes whose value is written to by an in-place op, directly or through views."""
    mutated = set()
    for n in graph.nodes:
        if is_mutating(n) and n.args and isinstance(n.args[0], Node):
            mutated.add(n.args[0])
    changed = True
    while changed:  # a view's base is mutated when the view is
        changed = False
        for n in graph.nodes:
            if n in mutated and n.op in ("call_function", "call_method") and _name(n).strip("_") in _VIEW_NAMES:
                for inp in n.all_input_nodes[:1]:
                    if inp not in mutated:
                        mutated.add(inp)
                        changed = True
    return mutated


def cse(gm):
    """Merge identical pure nodes of gm.graph in place; recompile. Returns whether it changed."""
    graph = gm.graph
    mutated = _mutated_nodes(graph)
    seen = {}
    changed = False
    for n in list(graph.nodes):
        if n.op not in ("call_function", "call_method") or is_impure(n) or n in mutated:
            continue
        if any(i in mutated for i in n.all_input_nodes):  # its input changes between uses
            continue
        try:
            key = (n.op, _key(n.target) if not callable(n.target) else ("fn", id(n.target)),
                   _key(n.args), _key(n.kwargs))
        except _Unhashable:
            continue
        prev = seen.get(key)
        if prev is None:
            seen[key] = n
            continue
        n.replace_all_uses_with(prev)
        graph.erase_node(n)
        changed = True
    if changed:
        gm.recompile()
    return changed
