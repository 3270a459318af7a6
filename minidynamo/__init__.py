"""minidynamo: capture Python functions written against tensorlite into fxlite graphs,
with guards, a compile cache, graph breaks and inspection (torch._dynamo rebuilt small).

>>> import minidynamo as md, tensorlite as tl
>>> @md.compile
... def f(x, y):
...     return tl.sin(x) + y * 2
>>> f(tl.zeros(3), tl.ones(3))
tensor([2., 2., 2.])
"""
from . import config, exc, utils
from .eval_frame import (OptimizedFunction, OptimizedModule, allow_in_graph, compile, disable,
                         graph_break, reset)
from .logs import set_logs
from . import testing
import os as _os

if _os.environ.get("MINIDYNAMO_REPORT"):
    from . import report as _report  # noqa: F401  (writes the report at exit)

__all__ = ["compile", "reset", "disable", "graph_break", "allow_in_graph", "config", "exc", "utils",
           "testing", "set_logs", "OptimizedFunction", "OptimizedModule"]


def __getattr__(name):
    import importlib
    lazy = {"explain": ("minidynamo.explain", "explain"), "inspect": ("minidynamo.inspect_api", "inspect"),
            "report": ("minidynamo.report", "report")}
    if name in lazy:
        mod, attr = lazy[name]
        val = getattr(importlib.import_module(mod), attr)
        globals()[name] = val
        return val
    raise AttributeError(f"module 'minidynamo' has no attribute {name!r}")
