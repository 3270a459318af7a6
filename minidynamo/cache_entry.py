"""The cache entry of one traced frame: its guards, and the transformed function made from
the pieces of its body (see FrameBody).

>>> import minidynamo as md, tensorlite as tl
>>> f = md.compile(lambda x: x + 1)
>>> _ = f(tl.ones(2))
>>> entry = md.inspect(f).entries[0]
>>> entry.source.splitlines()[0].startswith("def ___transformed(")
True
"""
import dataclasses
import linecache
import time

from fxlite._source_files import compile_cached

from .codegen import transformed_source
from .guards import GuardSet
from .logs import log_guards, log_output_code
from .namespaces import base_namespace, rename_code
from .source import KEYS


class CacheEntry:
    """One compiled version of a function: valid while its guards hold."""

    def __init__(self, guards, fn, code_obj, source, graphs, guard_set, compile_time):
        self.guards = guards  # [Guard], as md.inspect shows them
        self.fn = fn  # the transformed function, called when the guards hold
        self.code = code_obj  # its code object
        self.source = source  # its source text (the output_code log)
        self.graphs = graphs  # [GraphModule]: the entry's graph, if it has one
        self.guard_set = guard_set
        self.compile_time = compile_time  # seconds from the start of tracing
        self.check = guard_set.check_fn
        self.break_reason = None  # why the frame's graph ends early, when it does
        self.break_stack = None  # the user's frames at that break

    @property
    def graph(self):
        return self.graphs[0] if len(self.graphs) == 1 else (self.graphs or None)

    def __repr__(self):
        return f"<CacheEntry guards={len(self.guards)} graphs={len(self.graphs)}>"


@dataclasses.dataclass
class FrameBody:
    """The lines of a transformed function, in the order they run."""

    early: list = dataclasses.field(default_factory=list)  # before everything (cells, closures)
    pre_graph: list = dataclasses.field(default_factory=list)  # hook boxes passed to the graph
    graph_call: str = None  # `___compiled_fn(<graph inputs>)`, or None without a graph
    prelude: list = dataclasses.field(default_factory=list)  # values rebuilt from the graph's outputs
    effects: list = dataclasses.field(default_factory=list)  # replayed side effects
    return_expr: str = None  # what the frame returns, unless it ends in a graph break's tail
    tail: list = None  # a graph break: the breaking instruction, then the resume call


def make_cache_entry(fn, output, body, namespace, graphs, t0):
    """Compile the transformed function of `body` in `namespace` and guard it."""
    code = fn.__code__
    src = transformed_source(fn, code, body)
    ns = base_namespace(fn)
    # the transformed function stands in for fn's frame: a callee asking for its caller's
    # module (namedtuple, sys._getframemodulename) gets fn's
    ns["__name__"] = fn.__globals__.get("__name__")
    ns["___Gs"] = output.globals_list
    ns.update(namespace)
    ns["___K"] = KEYS.bind(src)  # the entry holds its own keys (source.KeyTable)
    filename = f"<minidynamo transformed {code.co_name} at {code.co_filename}:{code.co_firstlineno}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    exec(compile_cached(src, filename), ns)  # noqa: S102
    new_fn = ns["___transformed"]
    rename_code(new_fn, code)
    for lazy in output.lazy_exprs:
        lazy.settle()
    guards = list(output.guards.values())
    guard_set = GuardSet(guards, code, fn, {"___Gs": output.globals_list})
    log_guards(guards, code)
    log_output_code(src, code)
    return CacheEntry(guards, new_fn, new_fn.__code__, src, graphs, guard_set, time.perf_counter() - t0)
