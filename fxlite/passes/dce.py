"""Dead-code elimination that keeps side effects (in-place ops, printing, random ops).

>>> import tensorlite as tl, fxlite
>>> from fxlite.passes import dead_code_elimination
>>> def f(x):
...     unused = x.cos()
...     return x.sin()
>>> gm = fxlite.symbolic_trace(f)
>>> dead_code_elimination(gm)
True
>>> print(gm.code.strip())
def forward(self, x):
    sin = x.sin();  x = None
    return sin
"""
from ..marks import is_mutating as _is_mutating


def is_mutating(node):
    """Whether node writes into one of its inputs (x.add_(y), x += y, x[i] = v)."""
    return _is_mutating(node.op, node.target)


def is_impure(node):
    """Nodes that must stay even when unused: I/O, mutation, randomness, module calls."""
    return node.is_impure()


def dead_code_elimination(gm):
    """Remove pure nodes whose values are never used; recompile gm. Returns whether it changed."""
    changed = gm.graph.eliminate_dead_code(is_impure_node=is_impure)
    if changed:
        gm.recompile()
    return changed

