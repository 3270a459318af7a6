"""fxlite: the graph IR (Node, Graph, GraphModule), its printing, interpretation, tracing
and passes, modelled on torch.fx.

>>> import fxlite, tensorlite as tl
>>> def f(x):
...     return tl.sin(x) + 1
>>> gm = fxlite.symbolic_trace(f)
>>> print(gm.code.strip())
def forward(self, x):
    sin = tl.sin(x);  x = None
    add = sin + 1;  sin = None
    return add
"""
from .node import Node, map_arg, map_aggregate
from .graph import Graph
from .graph_module import GraphModule
from . import serialize
from .serialize import TensorMeta

__all__ = ["Node", "Graph", "GraphModule", "map_arg", "map_aggregate", "TensorMeta", "serialize"]


def __getattr__(name):
    # tracing and interpretation live in their own modules, loaded on first use
    import importlib
    lazy = {
        "Interpreter": "interpreter", "Transformer": "interpreter", "Tracer": "tracer",
        "Proxy": "tracer", "symbolic_trace": "tracer", "make_fx": "proxy_tensor",
        "passes": None, "drawing": None,
    }
    if name in lazy:
        mod = importlib.import_module(f"fxlite.{lazy[name] or name}")
        val = mod if lazy[name] is None else getattr(mod, name)
        globals()[name] = val
        return val
    raise AttributeError(f"module 'fxlite' has no attribute {name!r}")
