"""Compiled autograd: `with md.compiled_autograd.enable(compiler_fn): loss.backward()`.

A backward() under the context is first captured: the autograd graph about to run is
executed once under a tracing mode that records every primitive of every backward rule, and
records the calls of user code instead of running them:

* tensor hooks (`call_hook(hooks, i, grad)`) and post-accumulate-grad hooks
  (`call_post_acc_hook(hooks, i, leaf)`);
* `trace_wrapped` calls met in the backward (the hook boxes of hooks registered inside a
  compiled forward): `call_wrapped(hooks, i, grad)`, which is `trace_wrapped(grad,
  fn=hooks[i])`;
* gradient accumulation (`accumulate_grad_(leaf, grad)`).

Every callable is lifted into the one `hooks` list input, never baked into the graph, so a
later backward with other hooks (a new hook box per forward call, a rebound hook) reuses the
compiled graph. The backward of an AOT-compiled graph (`CompiledFunctionBackward`) is
captured by running its backward *graph* op by op, not its compiled kernel (which a dispatch
mode cannot see into: codegen's numpy code), as PyTorch inlines the AOT backward graph. Saved
tensors, leaves and incoming gradients become graph inputs, and so do the Python numbers ops
saved (`x * i` saves i): the op is recorded as `call_with_scalars`, which gets the number as a
0-d tensor and calls the op with the number itself. `compiler_fn(gm)` compiles the graph
(typically `md.compile(gm, backend=..., fullgraph=True)`, which inlines the hook bodies and
replays their Python side effects once per backward; a hook that cannot be traced raises there,
under fullgraph). Compiled graphs are cached by their code (and the constants it names rather
than spells), so a later backward of the same shape reuses them, whatever the hooks' closures
now hold and whatever the saved numbers now are.

A backward the capture cannot model (node pre/post hooks, retain_grad, anomaly mode) runs
eagerly; the reason is logged (logger "minidynamo", DEBUG).

>>> import minidynamo as md, tensorlite as tl
>>> x = tl.ones(3, requires_grad=True)
>>> y = x * 2
>>> _ = y.register_hook(lambda g: g * 3)
>>> with md.compiled_autograd.enable(lambda gm: md.compile(gm, backend="eager", fullgraph=True)):
...     y.sum().backward()
>>> x.grad
tensor([6., 6., 6.])
"""
import contextlib
import logging

import numpy as np

import fxlite
import tensorlite as tl
from backends.aot.runtime import CompiledFunctionBackward
from backends.aot.trace_wrapped import TRACE_WRAPPED, trace_wrapped
from fxlite.codegen import literal, same_key
from fxlite.marks import mark_impure
from fxlite.node import Node, map_aggregate
from fxlite.proxy_tensor import ProxyMode
from tensorlite import _engine, _state
from tensorlite._node import AccumulateGrad, PrimNode
from tensorlite._primitive import PRIMITIVES, Primitive

from .hooks.runtime import HookBox

__all__ = ["enable", "call_hook", "call_wrapped", "accumulate_grad_", "call_post_acc_hook"]

log = logging.getLogger("minidynamo")


# ---------------------------------------------------------------- what the graph calls
def call_hook(hooks, i, grad):
    """Run the i-th captured tensor hook on grad (None keeps the gradient). The local is named
    `result` as in PyTorch's call_hook: minidynamo names the hook's output node after it."""
    result = hooks[i](grad)
    if result is None:
        return grad
    return result


def call_wrapped(hooks, i, *args):
    """A trace_wrapped call of the backward, its fn lifted into hooks[i]."""
    return trace_wrapped(*args, fn=hooks[i])


def accumulate_grad_(leaf, grad):
    """What AccumulateGrad does: the first gradient is copied in, later ones are added."""
    if leaf.grad is None:
        leaf.grad = grad.clone()
    else:
        leaf.grad.add_(grad)


def call_post_acc_hook(hooks, i, leaf):
    hooks[i](leaf)


for _f in (call_hook, call_wrapped, accumulate_grad_, call_post_acc_hook):
    _f.__module__ = "minidynamo.compiled_autograd"
mark_impure(accumulate_grad_)
mark_impure(call_post_acc_hook)
mark_impure(call_wrapped)  # it runs user code, like the trace_wrapped it stands for


def _call_with_scalars_impl(*arrays, op, scalars_at, **params):
    prim = PRIMITIVES[op]
    args = [np.asarray(a).item() if k in scalars_at else a for k, a in enumerate(arrays)]
    return prim.impl(*args, **params)


def _call_with_scalars_meta(*args, op, scalars_at, **params):
    prim = PRIMITIVES[op]
    return prim.meta(*[_example_scalar(a) if k in scalars_at else a for k, a in enumerate(args)], **params)


def _example_scalar(t):
    """A Python number of the kind a lifted scalar's 0-d tensor holds (its value is unknown
    while tracing; the ops it is lifted for have metadata rules that read only its type)."""
    return {"i": 1, "u": 1, "f": 1.0, "c": 1j}[t._data.dtype.kind]


# `op(*args)` where the args at scalars_at are Python numbers that the graph receives as 0-d
# tensors (int64, float64: they hold the number exactly), so a graph compiled for one value
# serves every value and computes exactly what eager computes with the number itself.
CALL_WITH_SCALARS = PRIMITIVES.get("call_with_scalars") or Primitive(
    "call_with_scalars", _call_with_scalars_impl, _call_with_scalars_meta)


# ---------------------------------------------------------------- capture
class _Unsupported(Exception):
    """The backward cannot be captured; it runs eagerly (the message says why)."""


class _CaptureMode(ProxyMode):
    """make_fx's tracing mode, except that tensors from outside become graph inputs and
    trace_wrapped calls are recorded with their fn lifted (see _Capture.record_call)."""

    def __init__(self, graph, capture):
        super().__init__(graph)
        self.capture = capture
        self.lifted = []  # values of the inputs made while tracing, in placeholder order
        self._lifted_count = {}  # placeholder prefix -> last number used
        self._anchor = None

    def placeholder(self, name, value=None):
        if self._anchor is None:
            first = next(iter(self.graph.nodes), None)
            ctx = self.graph.inserting_before(first) if first is not None else self.graph.inserting_after(None)
        else:
            ctx = self.graph.inserting_after(self._anchor)
        with ctx:
            node = self.graph.placeholder(name)
        self._anchor = node
        if value is not None:
            self.bind_tensor(value, node)
        return node

    def node_of(self, t):
        node = self._node_of.get(id(t))
        if node is None:
            node = self._node_of_data.get(id(t._data))
        if node is None:
            node = self.lift("inputs", t)
        return node

    def lift(self, prefix, value):
        """A new graph input (placeholder `<prefix>_<k>`) the compiled graph receives value for."""
        k = self._lifted_count[prefix] = self._lifted_count.get(prefix, -1) + 1
        node = self.placeholder(f"{prefix}_{k}", value)
        self.lifted.append(value)
        return node

    def dispatch(self, prim, args, params):
        if prim is TRACE_WRAPPED:
            return self.capture.record_wrapped(args, params["fn"])
        if self.capture.lifts_scalars:
            if any(type(a) in _LIFTED for a in args):
                return self.capture.record_with_scalars(prim, args, params)
            params = map_aggregate(params, _unlift)  # a number in params is a constant
        return super().dispatch(prim, args, params)


class _LiftedInt(int):
    """A Python int saved for backward (`x * 3`), as a backward rule sees it during capture:
    the same number, tagged with the saved slot it came from. Arithmetic on it gives a plain
    int (a constant of the graph, so its value is in the graph's code and cache key); passed
    to a primitive, it becomes an input of the graph (_Capture.record_with_scalars)."""


class _LiftedFloat(float):
    __doc__ = _LiftedInt.__doc__.replace("int", "float").replace("x * 3", "x * 0.5")


_LIFTED = {_LiftedInt: int, _LiftedFloat: float}
_INT64 = np.iinfo(np.int64)


def _lift(v):
    """The lifted stand-in for a saved value, or v itself (bools, big ints, non-numbers)."""
    t = type(v)
    if t is float or t is int and _INT64.min <= v <= _INT64.max:
        lifted = (_LiftedInt if t is int else _LiftedFloat)(v)
        lifted.value = v
        return lifted
    return v


def _unlift(v):
    return _LIFTED[type(v)](v) if type(v) in _LIFTED else v


class _HookRecorder:
    """Stands in for a tensor hook during capture: records call_hook(hooks, i, grad)."""

    def __init__(self, capture, fn):
        self.capture = capture
        self.fn = fn

    def __call__(self, grad):
        return self.capture.record_call(call_hook, self.fn, (grad,))


class _PostAccRecorder(_HookRecorder):
    def __call__(self, leaf):
        self.capture.record_call(call_post_acc_hook, self.fn, (leaf,), returns=False)


class _AOTBackwardGraph:
    """The runtime of a CompiledFunctionBackward node while capturing (it replaces the node's
    `_rt`): the same, except that the backward is the AOT backward graph itself, run op by op
    so the capture records its ops (and sees its trace_wrapped hooks), rather than the
    compiled backward, whose kernel a dispatch mode cannot see into."""

    def __init__(self, rt):
        self._rt = rt
        self.bw = rt.bw_gm

    def __getattr__(self, name):
        return getattr(self._rt, name)

    def pruned_bw(self, live):
        from backends.aot.runtime import _prune_absent_tangents
        rt = self._rt
        return _prune_absent_tangents(rt.bw_gm, live, rt.tangent_reach())


class _Capture:
    """One capture: the graph being recorded, the lifted hooks, and the changes made to the
    autograd graph for the capture (undone afterwards)."""

    def __init__(self):
        self.graph = fxlite.Graph()
        self.mode = _CaptureMode(self.graph, self)
        self.hooks = []  # the `hooks` input: every callable the graph calls
        self.hooks_node = None
        self.lifts_scalars = False  # some saved Python number was lifted (prepare)
        self._scalar_nodes = {}  # id(lifted number) -> its placeholder
        self._undo = []  # (setter, old value), most recent last

    # ---- preparing the autograd graph -------------------------------------------------
    def prepare(self, nodes):
        """Put recorders in place of the hooks of `nodes` and of gradient accumulation, and
        graph runtimes in place of compiled AOT backwards."""
        self._swap_attr(AccumulateGrad, "apply", lambda node, grads: self.accumulate(node, grads))
        for n in nodes:
            if n._pre_hooks or n._post_hooks or n._retain_grad:
                raise _Unsupported("a node pre/post hook or retain_grad in the graph")
            if isinstance(n, AccumulateGrad):
                self._record_hooks(n.variable._hooks, _HookRecorder)
                self._record_hooks(n.variable._post_acc_hooks, _PostAccRecorder)
            elif n._tensor_pre_hooks:
                for d in n._tensor_pre_hooks.values():
                    self._record_hooks(d, _HookRecorder)
            if isinstance(n, CompiledFunctionBackward) and n._rt is not None:
                self._swap_attr(n, "_rt", _AOTBackwardGraph(n._rt))
            if isinstance(n, PrimNode) and n._saved:
                self._lift_saved_numbers(n)

    def _lift_saved_numbers(self, n):
        """A Python number saved by an op (`x * i` saves i) is lifted: the graph takes it as an
        input, so one graph serves every value of i (PyTorch lifts it as a SymInt/scalar)."""
        lifted = tuple(_lift(v) for v in n._saved)
        if any(a is not b for a, b in zip(lifted, n._saved)):
            self._swap_attr(n, "_saved", lifted)
            self.lifts_scalars = True

    def _record_hooks(self, d, recorder_cls):
        for k, fn in list((d or {}).items()):
            self._swap_item(d, k, recorder_cls(self, fn))

    def _swap_item(self, d, k, new):
        old = d[k]
        d[k] = new
        self._undo.append((lambda v, d=d, k=k: d.__setitem__(k, v) if k in d else None, old))

    def _swap_attr(self, obj, name, new):
        old = getattr(obj, name)
        setattr(obj, name, new)
        self._undo.append((lambda v, obj=obj, name=name: setattr(obj, name, v), old))

    def undo(self):
        for setter, old in reversed(self._undo):
            setter(old)
        self._undo.clear()

    # ---- recording ---------------------------------------------------------------------
    def record_call(self, target, fn, args, returns=True):
        """Record target(hooks, i, *args) with fn lifted into hooks[i]. Its value during the
        capture is a copy of args[0]: the hook does not run, and what comes after it needs
        only metadata (shape, dtype), which a hook may not change."""
        mode = self.mode
        i = len(self.hooks)
        self.hooks.append(fn)
        node = self.graph.call_function(target, (self.hooks_node, i, *mode.to_arg(tuple(args))))
        if not returns:
            node.meta["val"] = None
            return None
        out = tl.Tensor._wrap(args[0]._data.copy())
        mode.bind_tensor(out, node)
        return out

    def record_wrapped(self, args, fn):
        """A trace_wrapped call of the backward: recorded, not run. A hook box (hooks
        registered inside a compiled forward) is recorded as one call per hook it holds now:
        each hook is an input of its own, so the graph never depends on the box (a new one
        per forward call) nor on its handle ids, which would be guarded if the graph read the
        box's dict."""
        fns = fn.in_order() if isinstance(fn, HookBox) else [fn]
        out, rest = args[0], tuple(args[1:])
        for f in fns:
            out = self.record_call(call_wrapped, f, (out, *rest))
        return out

    def record_with_scalars(self, prim, args, params):
        """prim(*args) where some args are lifted numbers: recorded as call_with_scalars with
        those numbers as graph inputs; computed with the plain numbers, as eager computes it."""
        mode = self.mode
        at = tuple(k for k, a in enumerate(args) if type(a) in _LIFTED)
        plain = tuple(_unlift(a) for a in args)
        params = map_aggregate(params, _unlift)
        if not self._liftable(prim, plain, params, at):
            return ProxyMode.dispatch(mode, prim, plain, params)  # the numbers are constants
        out = mode.redispatch(prim, plain, params)
        node_args = tuple(self._scalar_node(a) if k in at else mode.to_arg(a) for k, a in enumerate(args))
        node = self.graph.create_node("call_function", CALL_WITH_SCALARS, node_args,
                                      {"op": prim.name, "scalars_at": at, **params}, name=prim.name)
        mode.bind_tensor(out, node)
        return out

    @staticmethod
    def _liftable(prim, args, params, at):
        """Whether call_with_scalars can stand for prim here: one output, no parameter named
        like its own, and metadata that does not depend on the numbers' values."""
        if prim.n_outputs != 1 or "op" in params or "scalars_at" in params:
            return False
        examples = [type(a)(1) if k in at else a for k, a in enumerate(args)]
        try:
            return prim.meta(*examples, **params) == prim.meta(*args, **params)
        except Exception:  # noqa: BLE001 - a rule that rejects the example: keep the constant
            return False

    def _scalar_node(self, lifted):
        node = self._scalar_nodes.get(id(lifted))
        if node is None:
            value = tl.Tensor._wrap(np.asarray(lifted.value, np.int64 if type(lifted) is _LiftedInt else np.float64))
            node = self._scalar_nodes[id(lifted)] = self.mode.lift("scalars", value)
        return node

    def accumulate(self, node, grads):
        """What capture runs instead of AccumulateGrad.apply."""
        g = grads[0]
        if g is None:
            return ()
        mode = self.mode
        leaf = node.variable
        n = self.graph.call_function(accumulate_grad_, (mode.node_of(leaf), mode.node_of(g)))
        n.meta["val"] = None
        for fn in list((leaf._post_acc_hooks or {}).values()):
            fn(leaf)  # recorders (prepare put them in place)
        return ()


def _nodes(roots):
    seen, stack = set(), [e[0] for e, _ in roots]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        for e in n._next:
            if e is not None:
                stack.append(e[0])
    return seen


def capture(roots):
    """Trace the backward of roots into a GraphModule; returns (gm, inputs, nodes)."""
    nodes = _nodes(roots)
    cap = _Capture()
    mode = cap.mode
    try:
        cap.prepare(nodes)
        grads = []
        for i, (_, g) in enumerate(roots):
            mode.placeholder(f"grads_{i}", g)
            grads.append(g)
        cap.hooks_node = mode.placeholder("hooks")
        with mode:
            _engine.run(roots, True, False)
    finally:
        cap.undo()
    cap.graph.output(())
    gm = fxlite.GraphModule({}, cap.graph, "CompiledAutograd")
    return gm, grads + [cap.hooks] + list(mode.lifted), nodes


# ---------------------------------------------------------------- the context manager
class _Compiled:
    def __init__(self):
        self.cache = {}  # code -> compiled callable
        self.graphs = []


# one cache per compiler_fn, shared by every `enable(compiler_fn)` block (as in PyTorch)
_CACHES = {}


def reset():
    _CACHES.clear()


class enable(contextlib.ContextDecorator):
    """Within the block, backward() is captured and run through compiler_fn(gm)."""

    def __init__(self, compiler_fn):
        self.compiler_fn = compiler_fn
        self.compiled = _CACHES.setdefault(compiler_fn, _Compiled())
        self.prev = None

    def __enter__(self):
        self.prev = _engine.compiled_autograd_hook
        _engine.compiled_autograd_hook = self._run
        return self

    def __exit__(self, *exc):
        _engine.compiled_autograd_hook = self.prev

    def _run(self, roots, retain_graph):
        if _state.anomaly_enabled:
            log.debug("compiled autograd: running the backward eagerly: anomaly mode is on")
            return False
        try:
            gm, inputs, nodes = capture(roots)
        except _Unsupported as e:
            log.debug("compiled autograd: running the backward eagerly: %s", e)
            return False
        key = (gm.code, _constants_key(gm), tuple(_meta(v) for v in inputs))
        fn = self.compiled.cache.get(key)
        if fn is None:
            self.compiled.graphs.append(gm)
            with _no_compiled_autograd():  # compiling must not recurse into us
                fn = self.compiler_fn(gm)
            self.compiled.cache[key] = fn
        prev_grad = _state.grad_enabled
        _state.grad_enabled = False
        try:
            with _no_compiled_autograd():
                fn(*inputs)
        finally:
            _state.grad_enabled = prev_grad
        if not retain_graph:
            for n in nodes:
                n._release()
        return True

    @property
    def graphs(self):
        """The captured backward graphs that were compiled (one per distinct structure)."""
        return self.compiled.graphs


@contextlib.contextmanager
def _no_compiled_autograd():
    prev = _engine.compiled_autograd_hook
    _engine.compiled_autograd_hook = None
    try:
        yield
    finally:
        _engine.compiled_autograd_hook = prev


def _constants_key(gm):
    """The constants of gm's nodes that its code names rather than spells (a numpy scalar, an
    object): two graphs with the same code may hold different ones."""
    out = []

    def visit(v):
        if not isinstance(v, (Node, Primitive)) and literal(v) is None:
            out.append(same_key(v))
        return v
    for n in gm.graph.nodes:
        map_aggregate((n.args, n.kwargs), visit)
    return tuple(out)


def _meta(v):
    if isinstance(v, tl.Tensor):
        return (tuple(v.shape), v.dtype.name, v.requires_grad)
    if isinstance(v, list):
        return ("list", len(v))
    return type(v).__name__
