"""convert_frame: trace one call of a function into a cache entry (guards + transformed code)."""
import functools
import logging
import time

import tensorlite as tl
from backends import backend_name

from . import config
from .codegen import PyCodegen
from .exc import (BackendCompilerFailed, InternalError, RecompileError, UncapturedHigherOrderOpError,
                  Unsupported)
from .cache_entry import FrameBody, make_cache_entry
from .graph_break import _set_grad_mode
from .hooks import HookBox
from .logs import log_graph
from .output_graph import OutputGraph
from .graph_break import break_code, can_break_at
from .symbolic_convert import InstructionTranslator, StopTrace
from .utils import counters
from .variables.base import UserError

log = logging.getLogger("minidynamo")

OBSERVERS = []  # callables(fn, FrameResult) told about every converted frame (md.explain)


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
    t0 = time.perf_counter()
    output = OutputGraph(fn.__code__, dynamic_dims, fullgraph)
    try:
        tx = InstructionTranslator(fn, args, kwargs, output)
    except (Unsupported, RecursionError) as e:  # an argument minidynamo cannot wrap: run eagerly
        output.restore_global_state()
        return _run_eagerly(fn, e, "an argument nested too deeply to trace", fullgraph,
                            getattr(e, "user_stack", None))
    failure = None
    try:
        ret = tx.run()
    except Exception as e:
        failure = e
    finally:
        output.restore_global_state()
    if failure is not None:
        return _on_trace_failure(fn, args, kwargs, backend, tx, failure, fullgraph, dynamic_dims, on_graph, t0)
    try:
        entry = build_entry(fn, output, ret, backend, on_graph, t0)
    except (Unsupported, RecursionError) as e:  # a value that cannot be rebuilt after the graph
        return _run_eagerly(fn, e, "a value nested too deeply to rebuild after the graph", fullgraph,
                            tx_user_stack(tx))
    counters["frames"]["ok"] += 1
    return FrameResult(entry=entry)


def _run_eagerly(fn, e, recursion_reason, fullgraph, user_stack):
    """The frame runs eagerly because of `e` (Unsupported, or RecursionError: `recursion_reason`);
    under fullgraph=True that is an error."""
    why = e.msg if isinstance(e, Unsupported) else recursion_reason
    counters["graph_break"][why] += 1
    if fullgraph:
        raise Unsupported(why) if not isinstance(e, Unsupported) else e from None
    log.debug("%s in %s; running the frame eagerly", why, fn.__code__.co_name)
    return FrameResult(break_reason=why, user_stack=user_stack)


def _on_trace_failure(fn, args, kwargs, backend, tx, e, fullgraph, dynamic_dims, on_graph, t0):
    """What an exception out of tracing means: a graph break, the user's own error, an error
    to raise, or a bug in the interpreter."""
    if isinstance(e, Unsupported):
        return _on_break(fn, args, kwargs, backend, tx, e, fullgraph, dynamic_dims, on_graph, t0)
    if isinstance(e, UserError):
        return FrameResult(user_error=e.exc)
    if isinstance(e, (BackendCompilerFailed, UncapturedHigherOrderOpError, RecompileError)):
        raise e
    if isinstance(e, RecursionError):  # values nested deeper than the interpreter's own recursion
        return _run_eagerly(fn, e, "a value nested too deeply to trace (RecursionError while tracing)",
                            fullgraph, tx_user_stack(tx))
    code = fn.__code__
    where = tx_user_stack(tx)
    loc = f"{where[-1].filename}:{where[-1].lineno}" if where else code.co_filename
    err = InternalError(f"minidynamo internal error while tracing {code.co_name} at {loc}: "
                        f"{type(e).__name__}: {e}")
    if config.suppress_errors:
        import warnings
        warnings.warn(f"{err}; running {code.co_name} eagerly", RuntimeWarning, stacklevel=4)
        return FrameResult(break_reason=str(err))
    raise err from e


def _on_break(fn, args, kwargs, backend, tx, e, fullgraph, dynamic_dims, on_graph, t0):
    """A graph break: split the frame at it when possible, else run the frame eagerly."""
    from .higher_order import RegionError
    from .logs import log_graph_break
    e.user_stack = e.user_stack or tx_user_stack(tx)
    counters["graph_break"][e.msg] += 1
    log_graph_break(e.msg, e.user_stack)
    if fullgraph or isinstance(e, RegionError):
        raise e
    ok, _ = can_break_at(tx, e)
    if ok:
        try:
            entry = trace_with_break(fn, args, kwargs, backend, e, dynamic_dims, on_graph, t0)
        except (Unsupported, RecursionError) as e2:
            log.debug("cannot split the graph at the break in %s: %s", fn.__code__.co_name, e2)
        except UserError as e3:
            return FrameResult(user_error=e3.exc)
        else:
            entry.break_reason = e.msg
            entry.break_stack = e.user_stack
            counters["frames"]["ok"] += 1
            return FrameResult(entry=entry, break_reason=e.msg, user_stack=e.user_stack)
    log.debug("graph break in %s: %s; running the frame eagerly", fn.__code__.co_name, e.msg)
    return FrameResult(break_reason=e.msg, user_stack=e.user_stack)


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
    deepest = tx.output.current_tx or deepest
    try:
        return deepest.user_stack()
    except Exception:
        return cur.user_stack()


def build_entry(fn, output, ret, backend, on_graph, t0, break_tx=None, break_inst=None):
    """The cache entry of a traced frame: finish its graph, compile it with hook slots for
    its outputs, and build the transformed function around the graph call."""
    cg = PyCodegen(output)
    cg.globals["___call_compiled"] = functools.partial(call_compiled, backend=backend)
    cg.globals["___HookBox"] = HookBox
    body = _frame_body(fn, output, ret, cg, backend, break_tx, break_inst)
    gm = output.finish_graph(cg.graph_outputs)
    if gm is not None:
        body.graph_call = _compile_graph(output, gm, cg, body, backend, on_graph)
    body.pre_graph = output.hooks.pre_graph_lines(cg)
    body.early, body.prelude = cg.early, cg.prelude
    return make_cache_entry(fn, output, body, cg.globals, [gm] if gm is not None else [], t0)


def _frame_body(fn, output, ret, cg, backend, break_tx, break_inst):
    """What runs after the graph: the replayed side effects, then the return or the break."""
    body = FrameBody()
    if break_tx is not None:
        body.tail = break_code(break_tx, break_inst, cg, fn, backend)
    else:
        body.return_expr = cg(ret)
    body.effects = output.side_effects.replay(cg)
    defined = [ln.split(" = ", 1)[0] for ln in body.effects if " = " in ln]
    if body.effects and body.return_expr is not None and not body.return_expr.isidentifier() \
            and not any(name.isidentifier() and name in body.return_expr for name in defined):
        # the return value reads sourced values as they were before the replayed mutations
        cg.prelude.append(f"___return_value = {body.return_expr}")
        body.return_expr = "___return_value"
    if break_tx is None and output.current_grad_mode != output.initial_grad_mode:
        # the frame leaves grad mode changed (set_grad_enabled, or a resume function that
        # ends a `with no_grad()` block): set it whatever the backend did with the graph
        body.effects.append(f"{cg.global_obj(_set_grad_mode)}({bool(output.current_grad_mode)!r})")
    return body


def _compile_graph(output, gm, cg, body, backend, on_graph):
    """Compile the frame's graph; returns the expression that calls it."""
    def compile_graph(gm):
        return call_backend(backend, gm, [ga.value for ga in output.graphargs])

    prepared = output.hooks.prepare_outputs(gm, cg.graph_outputs, compile_graph)
    compiled = prepared.compiled
    body.effects[:0] = [f"___graph_out[{i}]._hook_box = {box}" for i, box in prepared.slots]
    if not prepared.runs_graph_as_is and output.has_dynamic_dims():
        compiled = PerShape(backend, gm, [ga.value for ga in output.graphargs], compiled)
    counters["stats"]["unique_graphs"] += 1
    counters["stats"]["calls_captured"] += output.count_calls()
    if on_graph is not None:
        on_graph(gm)
    cg.globals["___compiled_fn"] = compiled  # one graph per entry, each entry its own namespace
    log_graph(gm, output.code)
    return f"___compiled_fn({', '.join(ga.source.expr() for ga in output.graphargs)})"


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
        # a symbolic size is an input too: its tensor need not be one (y.view(x.shape[0], -1))
        return tuple(a if type(a) is int else getattr(getattr(a, "_data", None), "shape", None) for a in args)

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
