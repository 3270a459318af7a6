"""convert_frame: trace one call of a function into a cache entry (guards + transformed code)."""
import functools
import linecache
import logging
import time

import fxlite
import tensorlite as tl
from backends import backend_name, lookup_backend
from fxlite._source_files import compile_cached

from . import config
from .codegen import PyCodegen, transformed_source
from .exc import (BackendCompilerFailed, InternalError, RecompileError, UncapturedHigherOrderOpError,
                  Unsupported)
from .guards import GuardSet, base_namespace, rename_code
from .hooks import HookBox
from .logs import log_graph, log_guards, log_output_code
from .output_graph import OutputGraph
from .source import KEYS
from .graph_break import break_code, can_break_at
from .symbolic_convert import InstructionTranslator, StopTrace
from .utils import counters
from .variables.base import UserError

log = logging.getLogger("minidynamo")

OBSERVERS = []  # callables(fn, FrameResult) told about every converted frame (md.explain)


class CacheEntry:
    """One compiled version of a function: valid while its guards hold."""

    def __init__(self, guards, fn, code_obj, source, graphs, guard_set, compile_time, eager=False, reason=None):
        self.guards = guards
        self.fn = fn
        self.code = code_obj
        self.source = source
        self.graphs = graphs
        self.guard_set = guard_set
        self.compile_time = compile_time
        self.eager = eager
        self.reason = reason
        self.check = guard_set.check_fn if guard_set is not None else None
        self.break_reason = None
        self.break_stack = None

    @property
    def graph(self):
        return self.graphs[0] if len(self.graphs) == 1 else (self.graphs or None)

    def __repr__(self):
        return f"<CacheEntry guards={len(self.guards)} graphs={len(self.graphs)}>"


class FrameResult:
    """What tracing produced: a cache entry, or a decision to run eagerly."""

    def __init__(self, entry=None, break_reason=None, user_stack=None, user_error=None):
        self.entry = entry
        self.break_reason = break_reason
        self.user_stack = user_stack
        self.user_error = user_error


def convert_frame(fn, args, kwargs, backend, *, fullgraph=False, dynamic_dims=None, on_graph=None):
    """Trace fn(*args, **kwargs); return a FrameResult."""
    result = _convert_frame(fn, args, kwargs, backend, fullgraph=fullgraph, dynamic_dims=dynamic_dims,
                            on_graph=on_graph)
    for obs in OBSERVERS:
        obs(fn, result)
    return result


def _convert_frame(fn, args, kwargs, backend, *, fullgraph=False, dynamic_dims=None, on_graph=None):
    counters["frames"]["total"] += 1
    code = fn.__code__
    t0 = time.perf_counter()
    output = OutputGraph(code, dynamic_dims, fullgraph)
    try:
        tx = InstructionTranslator(fn, args, kwargs, output)
    except (Unsupported, RecursionError) as e:  # an argument minidynamo cannot wrap: run eagerly
        output.restore_global_state()
        why = e.msg if isinstance(e, Unsupported) else "an argument nested too deeply to trace"
        counters["graph_break"][why] += 1
        if fullgraph:
            raise Unsupported(why) if not isinstance(e, Unsupported) else e from None
        return FrameResult(break_reason=why, user_stack=getattr(e, "user_stack", None))
    try:
        ret = tx.run()
    except Unsupported as e:
        output.restore_global_state()
        e.user_stack = e.user_stack or tx_user_stack(tx)
        counters["graph_break"][e.msg] += 1
        from .logs import log_graph_break
        log_graph_break(e.msg, e.user_stack)
        from .higher_order import RegionError
        if fullgraph or isinstance(e, RegionError):
            raise
        ok, why = can_break_at(tx, e)
        if ok:
            try:
                entry = trace_with_break(fn, args, kwargs, backend, e, dynamic_dims, on_graph, t0)
                entry.break_reason = e.msg
                entry.break_stack = e.user_stack
                counters["frames"]["ok"] += 1
                return FrameResult(entry=entry, break_reason=e.msg, user_stack=e.user_stack)
            except (Unsupported, RecursionError) as e2:
                log.debug("cannot split the graph at the break in %s: %s", code.co_name, e2)
            except UserError as e3:
                return FrameResult(user_error=e3.exc)
        log.debug("graph break in %s: %s; running the frame eagerly", code.co_name, e.msg)
        return FrameResult(break_reason=e.msg, user_stack=e.user_stack)
    except UserError as e:
        output.restore_global_state()
        return FrameResult(user_error=e.exc)
    except (BackendCompilerFailed, UncapturedHigherOrderOpError, RecompileError):
        raise
    except RecursionError:  # values nested deeper than the interpreter's own recursion
        output.restore_global_state()
        why = "a value nested too deeply to trace (RecursionError while tracing)"
        counters["graph_break"][why] += 1
        if fullgraph:
            raise Unsupported(why) from None
        log.debug("%s in %s; running the frame eagerly", why, code.co_name)
        return FrameResult(break_reason=why, user_stack=tx_user_stack(tx))
    except Exception as e:  # a bug in the interpreter
        output.restore_global_state()
        where = tx_user_stack(tx)
        loc = f"{where[-1].filename}:{where[-1].lineno}" if where else code.co_filename
        err = InternalError(f"minidynamo internal error while tracing {code.co_name} at {loc}: "
                            f"{type(e).__name__}: {e}")
        if config.suppress_errors:
            import warnings
            warnings.warn(f"{err}; running {code.co_name} eagerly", RuntimeWarning, stacklevel=3)
            return FrameResult(break_reason=str(err))
        raise err from e
    finally:
        output.restore_global_state()

    try:
        entry = build_entry(fn, output, ret, backend, on_graph, t0)
    except (Unsupported, RecursionError) as e:  # a value that cannot be rebuilt after the graph
        why = e.msg if isinstance(e, Unsupported) else "a value nested too deeply to rebuild after the graph"
        counters["graph_break"][why] += 1
        if fullgraph:
            raise Unsupported(why) if not isinstance(e, Unsupported) else e from None
        return FrameResult(break_reason=why, user_stack=tx_user_stack(tx))
    counters["frames"]["ok"] += 1
    return FrameResult(entry=entry)


def trace_with_break(fn, args, kwargs, backend, err, dynamic_dims, on_graph, t0):
    """Trace again up to the breaking instruction, then build an entry that runs the graph,
    the instruction eagerly, and a resume function for the rest."""
    output = OutputGraph(fn.__code__, dynamic_dims, False)
    tx = InstructionTranslator(fn, args, kwargs, output, stop_at=err.root_index)
    try:
        tx.run()
    except StopTrace as st:
        inst = st.inst
    else:
        raise Unsupported("the second trace did not reach the break")
    finally:
        output.restore_global_state()
    if tx.grad_enabled() != output.initial_grad_mode and not any(
            type(v).__name__ == "GradModeExit" for v in tx.stack):
        raise Unsupported("graph break with a changed grad mode outside a with block")
    return build_entry(fn, output, None, backend, on_graph, t0, break_tx=tx, break_inst=inst)


def tx_user_stack(tx):
    cur = tx
    deepest = tx
    # the innermost translator that was running is reachable through the output's record
    deepest = getattr(tx.output, "current_tx", None) or deepest
    try:
        return deepest.user_stack()
    except Exception:
        return cur.user_stack()


def build_entry(fn, output, ret, backend, on_graph, t0, break_tx=None, break_inst=None):
    code = fn.__code__
    cg = PyCodegen(output)
    cg.globals["___call_compiled"] = functools.partial(call_compiled, backend=backend)
    cg.globals["___HookBox"] = HookBox
    if break_tx is not None:
        tail = break_code(break_tx, break_inst, cg, fn, backend)
        return_expr = None
    else:
        tail = None
        return_expr = cg(ret)
    effects = output.side_effects.replay(cg) + output.hooks.replay(cg)
    defined_by_effects = [ln.split(" = ", 1)[0] for ln in effects if " = " in ln and ln.split(" = ", 1)[0].isidentifier()]
    if effects and return_expr is not None and not _is_plain_name(return_expr) \
            and not any(name in return_expr for name in defined_by_effects):
        # the return value reads sourced values as they were before the replayed mutations
        cg.prelude.append(f"___return_value = {return_expr}")
        return_expr = "___return_value"
    if break_tx is None and output.current_grad_mode != output.initial_grad_mode:
        # the frame leaves grad mode changed (set_grad_enabled, or a resume function that
        # ends a `with no_grad()` block): set it whatever the backend did with the graph
        from .graph_break import _set_grad_mode
        effects.append(f"{cg.global_obj(_set_grad_mode)}({bool(output.current_grad_mode)!r})")
    pre_graph = output.hooks.pre_graph_lines(cg)
    graph = output.graph
    # inputs not used by any node need not be passed
    for ga in list(output.graphargs):
        if not ga.node.users:
            graph.erase_node(ga.node)
            output.graphargs.remove(ga)
    output.graphargs = output.ordered_graphargs()
    graphs = []
    graph_call = None
    n_calls = output.count_calls()
    if n_calls or cg.graph_outputs:
        graph.output(tuple(cg.graph_outputs))
        gm = fxlite.GraphModule(dict(output.constants), graph)
        gm.meta["minidynamo"] = {"code": code}
        graphs.append(gm)
        example_inputs = [ga.value for ga in output.graphargs]
        compiled = call_backend(backend, gm, example_inputs)
        runs_graph_as_is = getattr(compiled, "__self__", None) is gm  # gm.forward: any shape works
        slots = output.hooks.hooked_output_slots(cg.graph_outputs)
        if not runs_graph_as_is and output.hooks.outputs_changed_in_place(gm, cg.graph_outputs):
            # a hook registered later on such an output belongs to the value after the change,
            # which the graph has no node for: only eager autograd routes its gradient right
            log.debug("running the graph of %s as it is: an output was changed in place (through a "
                      "view, or by an index assignment)", code.co_name)
            compiled, runs_graph_as_is = gm.forward, True
        if not runs_graph_as_is:
            new_slots = output.hooks.add_output_slots(gm, cg.graph_outputs)
            if new_slots:  # the graph changed: compile it again
                gm.recompile()
                example_inputs = [ga.value for ga in output.graphargs]
                compiled = call_backend(backend, gm, example_inputs)
                pre_graph = output.hooks.pre_graph_lines(cg)
                slots += new_slots
                n_calls = output.count_calls()
        effects = [f"___graph_out[{i}]._hook_box = {box}" for i, box in slots] + effects
        if not runs_graph_as_is and any(g.kind == "TENSOR_MATCH" and None in g.expected[1]
                                        for g in output.guards.values()):
            compiled = PerShape(backend, gm, example_inputs, compiled)
        counters["stats"]["unique_graphs"] += 1
        counters["stats"]["calls_captured"] += n_calls
        if on_graph is not None:
            on_graph(gm)
        name = "___compiled_fn"  # one graph per entry, each entry its own namespace
        cg.globals[name] = compiled
        graph_call = f"{name}({', '.join(ga.source.expr() for ga in output.graphargs)})"
        log_graph(gm, code)
    src = transformed_source(fn, code, graph_call, cg.prelude, effects, return_expr, tail, pre_graph, cg.early)
    ns = base_namespace(fn)
    # the transformed function stands in for fn's frame: a callee asking for its caller's
    # module (namedtuple, sys._getframemodulename) gets fn's
    ns["__name__"] = fn.__globals__.get("__name__")
    ns["___Gs"] = output.globals_list
    ns.update(cg.globals)
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
    return CacheEntry(guards, new_fn, new_fn.__code__, src, graphs, guard_set,
                      time.perf_counter() - t0)


def _is_plain_name(expr):
    return expr.isidentifier()


def call_compiled(fn, backend):
    """A callable that runs fn compiled with backend (used to call into a callee whose
    tracing broke the caller's graph)."""
    from .eval_frame import compiled_callable
    return compiled_callable(fn, backend)


class PerShape:
    """The compiled graph of an entry with dynamic dimensions: backends may specialize on
    their example inputs' shapes, so each new combination of input shapes is compiled again
    (the graph itself stays valid for any size)."""

    def __init__(self, backend, gm, example_inputs, first):
        self.backend = backend
        self.gm = gm
        self.by_shape = {self._key(example_inputs): first}

    @staticmethod
    def _key(args):
        return tuple(getattr(getattr(a, "_data", None), "shape", None) for a in args)

    def __call__(self, *args):
        key = self._key(args)
        fn = self.by_shape.get(key)
        if fn is None:
            fn = self.by_shape[key] = self._compile_for(args)
        return fn(*args)

    def _compile_for(self, args):
        # the new shapes must be valid for every op of the graph, including ops a backend may
        # drop as dead: if the shape rules reject them, run the graph as it is (it raises the
        # error eager raises)
        from tensorlite._modes import FakeTensorMode
        fake = FakeTensorMode()
        try:
            with fake:
                self.gm.forward(*[fake.from_real(a) if isinstance(a, tl.Tensor) else a for a in args])
        except Exception:
            return self.gm.forward
        return call_backend(self.backend, self.gm, list(args))


def call_backend(backend, gm, example_inputs):
    try:
        compiled = backend(gm, example_inputs)
    except Exception as e:
        err = BackendCompilerFailed(backend_name(backend), e)
        if config.suppress_errors:  # run the captured graph as it is (what the eager backend does)
            import warnings
            warnings.warn(f"{err}; running the graph without the backend (suppress_errors=True)",
                          RuntimeWarning, stacklevel=2)
            return gm.forward
        raise err from e
    if not callable(compiled):
        raise BackendCompilerFailed(backend_name(backend), TypeError(
            f"backend returned {type(compiled).__name__}, expected a callable"))
    return compiled


_ = lookup_backend
