"""md.compile and the compile cache.

Without PEP 523 there is no frame hook: the wrapper object owns the cache. A call checks the
cache entries' guards (newest first); a hit runs the transformed function, a miss traces
the frame again and records why.
"""
import builtins
import functools
import inspect
import logging
import threading
import warnings

import tensorlite as tl
from backends import lookup_backend

from . import config
from .convert_frame import convert_frame
from .exc import RecompileError
from .graph_break import reads_frames
from .namespaces import base_namespace, eval_namespace, rename_code, signature_src
from .symbolic_convert import simple_positional_call
from .symbolic_shapes import changed_dims, mark_dynamic, mark_static, maybe_mark_dynamic, with_policy  # noqa: F401
from .utils import counters

log = logging.getLogger("minidynamo")

_CACHES = {}
_COMPILE_LOCK = threading.RLock()


class FrameCache:
    """The compiled entries of one function (one per code object, or per closure)."""

    def __init__(self, fn):
        self.fn = fn
        self.entries = []
        self.hits = 0
        self.misses = 0
        self.recompile_reasons = []
        self.skip_reason = None  # set when the frame runs eagerly from now on
        self.break_reasons = []
        self.dynamic_dims = {}
        self.warned_limit = False
        self._arity = None
        self.graphs_seen = []

    def check_arity(self, args, kwargs):
        """Raise exactly Python's TypeError for a call with the wrong arguments."""
        if self._arity is None:
            if simple_positional_call(self.fn, args, kwargs):
                return
            # checked against the code's own parameters (not a __wrapped__ function's or a
            # __signature__'s), with exactly Python's messages
            code = self.fn.__code__
            src = f"def ___arity({signature_src(code, self.fn)}):\n    pass\n"
            ns = base_namespace(self.fn)
            exec(builtins.compile(src, "<arity>", "exec"), ns)  # noqa: S102
            f = ns["___arity"]
            rename_code(f, code)
            self._arity = f
        self._arity(*args, **kwargs)


class _BackendKey:
    """Keys caches by the backend object itself (held alive), never by a reusable id()."""

    __slots__ = ("backend",)

    def __init__(self, backend):
        self.backend = backend

    def __hash__(self):
        return id(self.backend)

    def __eq__(self, other):
        return isinstance(other, _BackendKey) and other.backend is self.backend


def _cache_key(fn, backend, fullgraph, dynamic):
    """Entries are shared by compiles of the same code with the same settings: an entry built
    without fullgraph (graph breaks allowed) or with another dynamic policy must not serve a
    compile that asked for different ones."""
    key = fn if fn.__closure__ else fn.__code__
    return (key, _BackendKey(backend), bool(fullgraph), dynamic)


def reset():
    """Forget every compiled entry and counter."""
    _CACHES.clear()
    _COMPILED_CALLABLES.clear()
    counters.clear()
    from .graph_break import _RESUME_WRAPPERS
    _RESUME_WRAPPERS.clear()
    from . import compiled_autograd
    compiled_autograd.reset()
    from .source import KEYS
    KEYS.clear()


class OptimizedFunction:
    """The callable md.compile returns for a function."""

    def __init__(self, fn, backend, fullgraph=False, dynamic=None, bound_self=None):
        self._orig_fn = fn
        self._bound_self = bound_self
        self._backend = lookup_backend(backend)
        self._backend_arg = backend
        self._fullgraph = fullgraph
        self._dynamic = dynamic
        functools.update_wrapper(self, fn)
        self._key = _cache_key(fn, self._backend, fullgraph, dynamic)

    @property
    def _cache(self):
        c = _CACHES.get(self._key)
        if c is None:  # setdefault: two threads creating it at once share one cache
            c = _CACHES.setdefault(self._key, FrameCache(self._orig_fn))
        return c

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return functools.partial(self.__call__, obj)

    def __call__(self, /, *args, **kwargs):
        if self._bound_self is not None:
            args = (self._bound_self,) + args
        cache = _CACHES.get(self._key) or self._cache
        if kwargs:
            for entry in cache.entries:
                if entry.check(*args, **kwargs):
                    cache.hits += 1
                    return entry.fn(*args, **kwargs)
        else:  # no keywords: calling without **{} is the same call
            for entry in cache.entries:
                if entry.check(*args):
                    cache.hits += 1
                    return entry.fn(*args)
        return self._miss(cache, args, kwargs)

    def _miss(self, cache, args, kwargs):
        # one compile at a time: a thread that waited finds the entry another thread compiled
        with _COMPILE_LOCK:
            for entry in cache.entries:
                if entry.check(*args, **kwargs):
                    cache.hits += 1
                    break
            else:
                return self._miss_locked(cache, args, kwargs)
        return entry.fn(*args, **kwargs)

    def _miss_locked(self, cache, args, kwargs):
        fn = self._orig_fn
        cache.check_arity(args, kwargs)
        cache.misses += 1
        if cache.skip_reason is not None:
            return fn(*args, **kwargs)
        if cache.entries:
            reasons = self._failure_reasons(cache, args, kwargs)
            self._note_dynamic(cache, args, kwargs)
            if config.error_on_recompile:
                raise RecompileError(recompile_message(fn, reasons))
            if len(cache.entries) >= config.cache_size_limit:
                if not cache.warned_limit:
                    cache.warned_limit = True
                    code = fn.__code__
                    warnings.warn(
                        f"minidynamo hit config.cache_size_limit ({config.cache_size_limit})\n"
                        f"   function: '{code.co_name}' ({code.co_filename}:{code.co_firstlineno})\n"
                        f"   last reason: {reasons[0] if reasons else 'unknown'}\n"
                        "the function now runs eagerly", UserWarning, stacklevel=3)
                cache.skip_reason = "cache_size_limit reached"
                return fn(*args, **kwargs)
        result = convert_frame(fn, args, kwargs, self._backend, fullgraph=self._fullgraph,
                               dynamic_dims=with_policy(cache.dynamic_dims, self._dynamic),
                               on_graph=cache.graphs_seen.append)
        if result.entry is not None:
            cache.entries.insert(0, result.entry)
            return result.entry.fn(*args, **kwargs)
        if result.user_error is not None:
            return fn(*args, **kwargs)
        cache.skip_reason = result.break_reason
        cache.break_reasons.append((result.break_reason, result.user_stack))
        return fn(*args, **kwargs)

    def _failure_reasons(self, cache, args, kwargs):
        fn = self._orig_fn
        code = fn.__code__
        lines = []
        n = len(cache.entries)
        for i, e in enumerate(cache.entries):
            fails = e.guard_set.failures(args, kwargs, code, fn)
            if fails:
                lines.append(f"{n - 1 - i}: " + "; ".join(fails))
        reasons = [ln.split(": ", 1)[1] for ln in lines]
        cache.recompile_reasons.extend(reasons[:1])
        counters["recompiles"][reasons[0] if reasons else "unknown"] += 1
        from .logs import log_recompile
        log_recompile(fn, lines)
        return reasons

    def _note_dynamic(self, cache, args, kwargs):
        if not config.automatic_dynamic_shapes or self._dynamic is False:
            return
        fn = self._orig_fn
        e = cache.entries[0]
        ns = eval_namespace(fn.__code__, fn, args, kwargs)
        ns.update(e.guard_set.extra_ns)
        for g in e.guards:
            if g.kind not in ("TENSOR_MATCH", "EQUALS_MATCH"):
                continue
            try:
                v = eval(g.source.expr(), ns)  # noqa: S307
            except Exception:
                continue
            dims = changed_dims(g, v)  # the sizes (or the int) that changed become symbols
            if dims:
                cache.dynamic_dims.setdefault(g.source.name(), set()).update(dims)


def recompile_message(fn, lines):
    code = fn.__code__
    out = [f"Recompiling function {code.co_name} in {code.co_filename}:{code.co_firstlineno}",
           "    triggered by the following guard failure(s):"]
    out += [f"    - {ln}" for ln in lines]
    return "\n".join(out)


def _call_module(self, /, *args, **kwargs):
    return self(*args, **kwargs)


class OptimizedModule(tl.nn.Module):
    """md.compile(module): forwards attributes to the original module. A call is compiled
    as a whole, hooks included (they run inside the same frame as forward: one graph)."""

    def __init__(self, mod, backend, fullgraph=False, dynamic=None):
        super().__init__()
        object.__setattr__(self, "_orig_mod", mod)
        self._modules["_orig_mod"] = mod
        object.__setattr__(self, "_compiled_forward",
                           OptimizedFunction(_call_module, backend, fullgraph, dynamic, bound_self=mod))

    def forward(self, /, *args, **kwargs):
        return self._compiled_forward(*args, **kwargs)

    def __call__(self, /, *args, **kwargs):
        return self._compiled_forward(*args, **kwargs)

    def __getattr__(self, name):
        if name in ("_orig_mod", "_compiled_forward"):
            return object.__getattribute__(self, name)
        return getattr(self._orig_mod, name)

    def __setattr__(self, name, value):
        if name in ("training",) or name.startswith("_") and name in self.__dict__:
            object.__setattr__(self, name, value)
            return
        setattr(self._orig_mod, name, value)


def _call_impl_frame(self, /, *args, **kwargs):
    """The frame `mod.compile()` compiles: the module's call, hooks included, without its
    compiled call (the interpreter traces `self._call_impl(...)` as calling the module, and
    run eagerly it does not come back to the compiled call)."""
    return self._call_impl(*args, **kwargs)


def _is_module_call_impl(fn):
    """Whether fn is `mod._call_impl` (what `Module.compile` hands to compile)."""
    return inspect.ismethod(fn) and fn.__func__ is tl.nn.Module._call_impl and isinstance(fn.__self__, tl.nn.Module)


def _wrap_inline(fn):
    """A function calling fn (config.wrap_top_frame: fn is traced inlined into it)."""
    @functools.wraps(fn)
    def inner(*args, **kwargs):
        return fn(*args, **kwargs)
    return inner


def _has_module_hooks(m):
    from tensorlite.nn.modules import module as M
    return bool(m._forward_pre_hooks or m._forward_hooks or m._backward_hooks or m._backward_pre_hooks
                or M._global_forward_pre_hooks or M._global_forward_hooks)


def compile(model=None, *, fullgraph=False, dynamic=None, backend="eager", options=None, disable=False):
    """Compile a function, bound method or tl.nn.Module (bare decorator or called).

    >>> import minidynamo as md, tensorlite as tl
    >>> @md.compile
    ... def f(x):
    ...     return tl.sin(x) + 1
    >>> f(tl.zeros(2))
    tensor([1., 1.])
    """
    if model is None:
        def decorator(m):
            return compile(m, fullgraph=fullgraph, dynamic=dynamic, backend=backend, options=options,
                           disable=disable)
        return decorator
    if disable:
        return model
    lookup_backend(backend)
    if isinstance(model, tl.nn.Module):
        return OptimizedModule(model, backend, fullgraph, dynamic)
    if _is_module_call_impl(model):  # mod.compile()
        return OptimizedFunction(_call_impl_frame, backend, fullgraph, dynamic, bound_self=model.__self__)
    if config.wrap_top_frame and callable(model) and not isinstance(model, OptimizedFunction):
        model = _wrap_inline(model)
    if inspect.ismethod(model):
        return OptimizedFunction(model.__func__, backend, fullgraph, dynamic, bound_self=model.__self__)
    if inspect.isfunction(model):
        return OptimizedFunction(model, backend, fullgraph, dynamic)
    if isinstance(model, OptimizedFunction):
        return model
    if callable(model) and hasattr(type(model), "__call__") and inspect.isfunction(type(model).__call__):
        return OptimizedFunction(type(model).__call__, backend, fullgraph, dynamic, bound_self=model)
    raise TypeError(f"md.compile expects a function, a bound method or a tl.nn.Module, "
                    f"got {type(model).__name__}")


def disable(fn=None, recursive=True):
    """Run fn eagerly, never traced (a graph break where a compiled function calls it)."""
    if fn is None:
        return functools.partial(disable, recursive=recursive)
    if isinstance(fn, OptimizedFunction):
        fn = fn._orig_fn

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    wrapper._minidynamo_disable = True
    return wrapper


_ALLOW_IN_GRAPH = set()


def allow_in_graph(fn):
    """Put calls to fn in the graph as one node instead of tracing into it."""
    _ALLOW_IN_GRAPH.add(fn)
    return fn


_COMPILED_CALLABLES = {}


def _module_forward(mod):
    """The function a call of mod runs as forward (self first): its class's, or one bound to
    it on the instance (GraphModule's); None for another callable set as forward."""
    fwd = mod.__dict__.get("forward")
    if fwd is None:
        return type(mod).forward
    if inspect.ismethod(fwd) and fwd.__self__ is mod and inspect.isfunction(fwd.__func__):
        return fwd.__func__
    return None


def compiled_callable(fn, backend):
    """fn compiled with backend, cached (functions, bound methods, modules); else fn."""
    if isinstance(fn, OptimizedFunction):
        return fn
    if isinstance(fn, tl.nn.Module):
        if _has_module_hooks(fn):
            return fn
        forward = _module_forward(fn)
        if forward is None:
            return fn
        key = (id(fn), _BackendKey(backend))
        hit = _COMPILED_CALLABLES.get(key)
        if hit is None or hit[0] is not fn or hit[2] is not forward:  # forward changes on recompile()
            hit = _COMPILED_CALLABLES[key] = (fn, OptimizedFunction(forward, backend, bound_self=fn), forward)
        return hit[1]
    if _is_module_call_impl(fn):
        # the module's call without its compiled call: its compiled forward, else itself, eagerly
        compiled = compiled_callable(fn.__self__, backend)
        return fn if compiled is fn.__self__ else compiled
    if inspect.ismethod(fn) and inspect.isfunction(fn.__func__):
        return functools.partial(compiled_callable(fn.__func__, backend), fn.__self__)
    if inspect.isfunction(fn) and not getattr(fn, "_minidynamo_disable", False):
        key = (fn, _BackendKey(backend))
        w = _COMPILED_CALLABLES.get(key)
        if w is None:  # a function that reads frames runs as itself, under its real caller
            w = _COMPILED_CALLABLES[key] = fn if reads_frames(fn.__code__) else OptimizedFunction(fn, backend)
        return w
    return fn


def graph_break():
    """Force a graph break here (no effect when run eagerly)."""
