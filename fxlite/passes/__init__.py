"""Graph passes: shape propagation, dead-code elimination, CSE, subgraph rewriting, and walks
over dependencies (`walk`: ancestors, what a node views, what shares its memory).

>>> import tensorlite as tl, fxlite
>>> from fxlite.passes import ShapeProp, cse, dead_code_elimination, replace_pattern
>>> gm = fxlite.symbolic_trace(lambda x: tl.sin(x) + tl.sin(x))
>>> cse(gm)
True
>>> print(gm.code.strip())
def forward(self, x):
    sin = tl.sin(x);  x = None
    add = sin + sin;  sin = None
    return add
"""
from .shape_prop import ShapeProp
from .dce import dead_code_elimination, is_impure
from .cse import cse
from .subgraph_rewriter import Match, replace_pattern
from .walk import ancestors, sharing_memory, viewed_by

__all__ = ["ShapeProp", "dead_code_elimination", "is_impure", "cse", "replace_pattern", "Match", "ancestors",
           "sharing_memory", "viewed_by"]
