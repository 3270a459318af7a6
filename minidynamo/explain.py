"""md.explain(fn)(*args): compile and run fn once, and report what was captured.

>>> import minidynamo as md, tensorlite as tl
>>> def f(x):
...     x = x.sin()
...     print("break")
...     return x.cos()
>>> out = md.explain(f)(tl.ones(2))
break
>>> out.graph_count, out.graph_break_count
(2, 1)
"""
from . import convert_frame as cf
from .testing import EagerAndRecordGraphs


class BreakReason:
    def __init__(self, reason, user_stack):
        self.reason = reason
        self.user_stack = list(user_stack or [])

    def __repr__(self):
        return f"BreakReason(reason={self.reason!r})"


class ExplainOutput:
    def __init__(self, graphs, break_reasons, guards, compile_times):
        self.graphs = graphs
        self.graph_count = len(graphs)
        self.graph_break_count = len(break_reasons)
        self.break_reasons = break_reasons
        self.ops_per_graph = [[_op_name(n) for n in g.graph.nodes
                               if n.op in ("call_function", "call_method", "call_module")] for g in graphs]
        self.op_count = sum(len(o) for o in self.ops_per_graph)
        self.out_guards = guards
        self.compile_times = compile_times

    def __str__(self):
        out = [f"Graph Count: {self.graph_count}", f"Graph Break Count: {self.graph_break_count}",
               f"Op Count: {self.op_count}"]
        out.append("Break Reasons:")
        for i, br in enumerate(self.break_reasons, 1):
            out.append(f"  Break Reason {i}:")
            out.append(f"    Reason: {br.reason}")
            out.append("    User Stack:")
            for fr in br.user_stack:
                out.append(f"      <FrameSummary file {fr.filename}, line {fr.lineno} in {fr.name}>")
        out.append("Ops per Graph:")
        for i, ops in enumerate(self.ops_per_graph, 1):
            out.append(f"  Ops {i}:")
            out += [f"    {op}" for op in ops]
        out.append("Out Guards:")
        for i, g in enumerate(self.out_guards, 1):
            out.append(f"  Guard {i}:")
            out.append(f"    Kind: {g.kind}")
            out.append(f"    Source: {g.source.name() if g.source is not None else 'global'}")
            out.append(f"    Check: {g.readable()}")
        out.append("Compile Times: " + ", ".join(f"{name}: {t:.4f}s" for name, t in self.compile_times))
        return "\n".join(out) + "\n"


def _op_name(n):
    if n.op == "call_method":
        return f"Tensor.{n.target}"
    if n.op == "call_module":
        return f"self.{n.target}"
    from fxlite.codegen import _Globals
    return _Globals().name_for(n.target)


class _Recorder:
    def __init__(self):
        self.results = []

    def __call__(self, fn, result):
        self.results.append((fn, result))


def explain(fn, *extra_args, **extra_kwargs):
    """explain(fn)(*args, **kwargs) -> ExplainOutput (fn is run once, compiled)."""
    if extra_args or extra_kwargs:
        return explain(fn)(*extra_args, **extra_kwargs)
    from .eval_frame import OptimizedFunction, compile as md_compile

    def inner(*args, **kwargs):
        backend = EagerAndRecordGraphs()
        target = fn._orig_fn if isinstance(fn, OptimizedFunction) else fn
        rec = _Recorder()
        cf.OBSERVERS.append(rec)
        try:
            dynamic = fn._dynamic if isinstance(fn, OptimizedFunction) else None  # md.compile's policy
            md_compile(target, backend=backend, dynamic=dynamic)(*args, **kwargs)
        finally:
            cf.OBSERVERS.remove(rec)
        breaks, guards, times = [], [], []
        for f, r in rec.results:
            if r.break_reason is not None:
                breaks.append(BreakReason(r.break_reason, r.user_stack))
            if r.entry is not None:
                guards.extend(r.entry.guards)
                times.append((getattr(f.__code__, "co_qualname", f.__code__.co_name), r.entry.compile_time))
        return ExplainOutput(list(backend.graphs), breaks, guards, times)

    return inner
