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
                         graph_break, mark_dynamic, mark_static, maybe_mark_dynamic, reset)
from .logs import set_logs
from . import testing
from .explain import explain
from .inspect_api import inspect
from .higher_order import mark_compile_region, nested_compile_region
from . import compiled_autograd
from backends.aot.trace_wrapped import trace_wrapped
from .report import report  # also writes the report at exit when MINIDYNAMO_REPORT is set

__all__ = ["compile", "reset", "disable", "graph_break", "allow_in_graph", "config", "exc", "utils",
           "testing", "set_logs", "OptimizedFunction", "OptimizedModule"]


__all__ += ["mark_dynamic", "maybe_mark_dynamic", "mark_static", "explain", "inspect", "report", "nested_compile_region", "mark_compile_region", "trace_wrapped",
            "compiled_autograd"]
