"""trace_wrapped: an opaque call that survives tracing, and how a backward hook on an
intermediate tensor is expressed in a Dynamo-level graph so that aot_eager keeps it.

`trace_wrapped(*args, fn)` is a higher-order op:

* eagerly it returns `fn(*args)` computed under no_grad, or `args[0]` when fn returns None
  (the result must have args[0]'s shape and dtype: that is its declared output metadata);
* under `fxlite.make_fx` it is recorded as ONE `call_function` node, never traced into: with
  fake tensors only its metadata rule runs, so `fn` is not called while tracing. As PyTorch's
  `_trace_wrapped_higher_order_op` does, a constant `fn` is bound into the node's target, a
  `self_invoke` closure (printed `backends.aot.trace_wrapped.self_invoke(grad_1)`); an `fn`
  that is a graph input (a hook passed to an AOT graph) stays a visible argument of the
  primitive node (`tl.ops.trace_wrapped(grad, fn = hook_box)`), since a closure could not
  refer to a placeholder;
* for differentiation it is the identity in its first argument (a hook's result is not
  differentiated through).

It is a tensorlite Primitive named "trace_wrapped" (registered when this module is imported),
so every interpreter of the primitive table (eager, fake tensors, make_fx, fxlite.Interpreter)
knows it without special cases.

The hook contract (what Dynamo emits for `t.register_hook(hook)` on an intermediate `t`)
-----------------------------------------------------------------------------------------
The Dynamo-level graph contains one node

    call_function(backends.aot.trace_wrapped.register_hook, (t, hook))

where `t` is the node of the tensor and `hook` is either a constant or, preferably, a
placeholder of the graph (a graph input whose example value is the callable: then a new hook
object passed at run time is used without recompiling). The node returns the
RemovableHandle and usually has no users; it must not be dead-code eliminated.

* The "eager" backend runs it as `t.register_hook(lambda g: trace_wrapped(g, fn=hook))`,
  which is exactly eager semantics (the hook sees t's total gradient, including gradient
  flowing from uses of t before the registration).
* aot_eager traces the Dynamo graph with its backward: when the traced backward reaches t,
  the engine calls the registered wrapper, which records the opaque node
  `trace_wrapped(grad, fn=hook)` into the joint graph. The partitioner puts it in the
  backward graph; a `hook` placeholder becomes a saved (non-tensor) value passed from the
  forward to the backward. At backward time the node calls `hook(grad)` and its result
  replaces the gradient. Hooks on graph inputs are not part of this contract (Dynamo replays
  them on the real inputs after the graph).

>>> import tensorlite as tl
>>> from backends.aot.trace_wrapped import register_hook, trace_wrapped
>>> x = tl.ones(2, requires_grad=True)
>>> y = x * 3
>>> _ = register_hook(y, lambda g: g * 10)
>>> y.sum().backward(); x.grad
tensor([30., 30.])
>>> trace_wrapped(tl.ones(2), fn=lambda g: g + 1)
tensor([2., 2.])
"""
import numpy as np

from fxlite.marks import mark_impure
from fxlite.proxy_tensor import ProxyMode
from tensorlite import _state
from tensorlite._primitive import PRIMITIVES, Primitive, bind
from tensorlite._tensor import Tensor

__all__ = ["trace_wrapped", "register_hook", "TRACE_WRAPPED"]

# > 0 while aot traces a graph with real values: the op must then not call user hooks.
_suspended = [0]


def _impl(*arrays, fn):
    first = arrays[0]
    if _suspended[0]:
        return first
    # a 0-d value may arrive as a numpy scalar (generated kernels): hooks always see tensors
    args = [Tensor._wrap(np.asarray(a)) if isinstance(a, (np.ndarray, np.generic)) else a for a in arrays]
    prev = _state.grad_enabled
    _state.grad_enabled = False
    try:
        r = fn(*args)
    finally:
        _state.grad_enabled = prev
    if r is None:
        return first
    if not isinstance(r, Tensor):
        raise TypeError(f"trace_wrapped: {_name(fn)} returned {type(r).__name__}; expected a Tensor or None")
    if r._data.shape != first.shape or r._data.dtype != first.dtype:
        raise RuntimeError(
            f"trace_wrapped: {_name(fn)} changed the metadata of its argument: expected "
            f"{first.dtype}{list(first.shape)}, got {r._data.dtype}{list(r._data.shape)}")
    return r._data


def _meta(*tensors, fn):
    d = tensors[0]._data
    return d.shape, d.dtype


def _backward(ctx, g):
    return (g,) + (None,) * (len(ctx._next) - 1)


def _name(fn):
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__


TRACE_WRAPPED = PRIMITIVES.get("trace_wrapped") or Primitive(
    "trace_wrapped", _impl, _meta, _backward, node_name="TraceWrappedBackward0")
mark_impure(TRACE_WRAPPED)  # it calls the user's hook: never folded, merged or dropped


def trace_wrapped(*args, fn):
    """fn(*args) under no_grad (args[0] when fn returns None); opaque to make_fx.

    >>> import tensorlite as tl
    >>> trace_wrapped(tl.zeros(1), fn=lambda g: None)
    tensor([0.])
    """
    mode = _state.mode
    if isinstance(mode, ProxyMode) and not _is_graph_input(fn):
        return _record_self_invoke(mode, args, fn)
    return bind(TRACE_WRAPPED, args, {"fn": fn})


def _is_graph_input(fn):
    """Whether fn stands for a graph input while AOT traces (joint.GraphInput)."""
    from .joint import GraphInput  # cycle: joint imports this module
    return isinstance(fn, GraphInput)


def _self_invoke(fn):
    """The target of a make_fx node for trace_wrapped(..., fn=fn): fn bound in, as PyTorch's
    ProxyTorchDispatchMode rule for the op records `self_invoke`."""
    def self_invoke(*args):
        return bind(TRACE_WRAPPED, args, {"fn": fn})
    self_invoke.__qualname__ = "self_invoke"
    self_invoke.fn = fn
    return mark_impure(self_invoke)  # it calls the user's fn: never folded, merged or dropped


def _record_self_invoke(mode, args, fn):
    """One `trace_wrapped = self_invoke(*args)` node of mode's graph; the value is what the
    primitive computes under the modes below (only metadata under fake tensors)."""
    saved = _state.mode
    _state.mode = mode.previous
    try:
        out = mode.redispatch(TRACE_WRAPPED, args, {"fn": fn})
    finally:
        _state.mode = saved
    node = mode.graph.create_node("call_function", _self_invoke(fn), mode.to_arg(tuple(args)),
                                  name="trace_wrapped")
    mode.bind_tensor(out, node)
    return out


class _HookCaller:
    """The tensor hook registered by register_hook: routes the call through trace_wrapped."""

    __slots__ = ("hook", "__qualname__")

    def __init__(self, hook):
        self.hook = hook
        self.__qualname__ = _name(hook)

    def __call__(self, grad):
        return bind(TRACE_WRAPPED, (grad,), {"fn": self.hook})


def register_hook(tensor, hook):
    """The graph-level form of `tensor.register_hook(hook)` (see the module docstring).

    >>> import tensorlite as tl
    >>> x = tl.ones(1, requires_grad=True)
    >>> y = x * 2
    >>> h = register_hook(y, lambda g: g * 0)
    >>> y.backward(); x.grad
    tensor([0.])
    """
    return tensor.register_hook(_HookCaller(hook))


mark_impure(register_hook)  # registering is the effect: dead-code elimination keeps it
