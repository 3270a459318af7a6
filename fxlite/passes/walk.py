"""Walks over a graph's dependencies: what a set of nodes needs, and what shares memory.

>>> import tensorlite as tl, fxlite
>>> gm = fxlite.make_fx(lambda x: (x.sin() + 1).reshape(-1))(tl.ones(2))
>>> out = gm.graph.find_nodes(op="output")[0].args[0]
>>> sorted(n.name for n in ancestors([out]))
['add', 'reshape', 'sin', 'x_1']
>>> sorted(n.name for n in viewed_by([out]))
['add', 'reshape']
"""
import operator

from ..node import Node

__all__ = ["ancestors", "viewed_by", "sharing_memory"]


def ancestors(roots, stop=()):
    """The roots and every node they depend on, not looking past the nodes in stop."""
    seen = set()
    stack = list(roots)
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        if n not in stop:
            stack.extend(n.all_input_nodes)
    return seen


def _is_view(n):
    """n is a view of n.args[0]: a view primitive's result, or an output (getitem) of a
    multi-output view primitive's (unbind) result."""
    if n.op != "call_function" or not n.args or not isinstance(n.args[0], Node):
        return False
    if n.target is operator.getitem:
        return _is_view(n.args[0])
    return getattr(n.target, "view", False)


def viewed_by(nodes):
    """The nodes and every node they are views of (through view primitives): what shares
    memory, and a version counter, with them."""
    seen = set()
    stack = list(nodes)
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            if _is_view(n):
                stack.append(n.args[0])
    return seen


def sharing_memory(nodes):
    """viewed_by(nodes) and every view of those (through view primitives): all that changes,
    and bumps its version, when one of them is changed in place."""
    seen = viewed_by(nodes)
    stack = list(seen)
    while stack:
        for u in stack.pop().users:
            if u not in seen and _is_view(u) and u.args[0] in seen:
                seen.add(u)
                stack.append(u)
    return seen
