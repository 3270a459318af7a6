"""Compiled autograd: `with md.compiled_autograd.enable(compiler_fn): loss.backward()`.

A backward() under the context is first captured: the autograd graph about to run is
executed once under a tracing mode that records every primitive of every backward rule, and
records tensor hooks, gradient accumulation and post-accumulate-grad hooks as calls
(`call_hook`, `accumulate_grad_`, `call_post_acc_hook`) instead of running them. Saved
tensors, leaves and incoming gradients become graph inputs; the hooks travel in one list
input. `compiler_fn(gm)` compiles that graph (typically `md.compile(gm, backend=...,
fullgraph=True)`, which inlines the hook bodies and replays their Python side effects once per
backward); the result runs the backward. Compiled graphs are cached by their code, so a
later backward of the same shape reuses them, whatever the hooks' closures now hold.

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

import fxlite
import tensorlite as tl
from fxlite.marks import mark_impure
from fxlite.proxy_tensor import ProxyMode
from tensorlite import _engine, _state
from tensorlite._node import AccumulateGrad

__all__ = ["enable", "call_hook", "accumulate_grad_", "call_post_acc_hook"]


def call_hook(hooks, i, grad):
    """Run the i-th captured tensor hook on grad (None keeps the gradient)."""
    r = hooks[i](grad)
    if r is None:
        return grad
    return r


def accumulate_grad_(leaf, grad):
    """What AccumulateGrad does: the first gradient is copied in, later ones are added."""
    if leaf.grad is None:
        leaf.grad = grad.clone()
    else:
        leaf.grad.add_(grad)


def call_post_acc_hook(hooks, i, leaf):
    hooks[i](leaf)


for _f in (call_hook, accumulate_grad_, call_post_acc_hook):
    _f.__module__ = "minidynamo.compiled_autograd"
mark_impure(accumulate_grad_)
mark_impure(call_post_acc_hook)


class _Unsupported(Exception):
    pass


class _CaptureMode(ProxyMode):
    """make_fx's tracing mode, except that tensors from outside become graph inputs."""

    def __init__(self, graph):
        super().__init__(graph)
        self.lifted = []
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
            node = self.placeholder(f"inputs_{len(self.lifted)}", t)
            self.lifted.append(t)
        return node


class _HookRecorder:
    """Stands in for a tensor hook during capture: records call_hook(hooks, i, grad)."""

    def __init__(self, state, index):
        self.state = state
        self.index = index

    def __call__(self, grad):
        mode = self.state.mode
        node = mode.graph.call_function(call_hook, (self.state.hooks_node, self.index, mode.node_of(grad)))
        out = tl.Tensor._wrap(grad._data.copy())
        mode.bind_tensor(out, node)
        return out


class _PostAccRecorder(_HookRecorder):
    def __call__(self, leaf):
        mode = self.state.mode
        n = mode.graph.call_function(call_post_acc_hook, (self.state.hooks_node, self.index, mode.node_of(leaf)))
        n.meta["val"] = None


class _State:
    def __init__(self):
        self.mode = None
        self.hooks_node = None
        self.hooks = []
        self.restore = []

    def record_hooks(self, d, recorder_cls):
        if not d:
            return
        for k, fn in list(d.items()):
            self.restore.append((d, k, fn))
            d[k] = recorder_cls(self, len(self.hooks))
            self.hooks.append(fn)

    def undo(self):
        for d, k, fn in reversed(self.restore):
            if k in d:
                d[k] = fn
        self.restore.clear()


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


def _record_accumulate(state):
    def apply(node, grads):
        g = grads[0]
        if g is None:
            return ()
        mode = state.mode
        leaf = node.variable
        n = mode.graph.call_function(accumulate_grad_, (mode.node_of(leaf), mode.node_of(g)))
        n.meta["val"] = None
        for fn in list((leaf._post_acc_hooks or {}).values()):
            fn(leaf)
        return ()
    return apply


class _Compiled:
    def __init__(self):
        self.cache = {}  # code -> compiled callable
        self.graphs = []


# one cache per compiler_fn, shared by every `enable(compiler_fn)` block (as in PyTorch)
_CACHES = {}


def reset():
    _CACHES.clear()


def capture(roots):
    """Trace the backward of roots into a GraphModule; returns (gm, inputs)."""
    nodes = _nodes(roots)
    state = _State()
    for n in nodes:
        if n._pre_hooks or n._post_hooks or n._retain_grad:
            raise _Unsupported("node pre/post hooks or retain_grad")
        if isinstance(n, AccumulateGrad):
            state.record_hooks(n.variable._hooks, _HookRecorder)
            state.record_hooks(n.variable._post_acc_hooks, _PostAccRecorder)
        elif n._tensor_pre_hooks:
            for d in n._tensor_pre_hooks.values():
                state.record_hooks(d, _HookRecorder)
    graph = fxlite.Graph()
    mode = _CaptureMode(graph)
    state.mode = mode
    grads = []
    for i, (_, g) in enumerate(roots):
        mode.placeholder(f"grads_{i}", g)
        grads.append(g)
    state.hooks_node = mode.placeholder("hooks")
    saved_apply = AccumulateGrad.apply
    AccumulateGrad.apply = _record_accumulate(state)
    try:
        with mode:
            _engine.run(roots, True, False)
    finally:
        AccumulateGrad.apply = saved_apply
        state.undo()
    graph.output(())
    gm = fxlite.GraphModule({}, graph, "CompiledAutograd")
    return gm, grads + [state.hooks] + list(mode.lifted), nodes


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
            return False
        try:
            gm, inputs, nodes = capture(roots)
        except _Unsupported:
            return False
        key = (gm.code, tuple(_meta(v) for v in inputs))
        fn = self.compiled.cache.get(key)
        if fn is None:
            self.compiled.graphs.append(gm)
            prev = _engine.compiled_autograd_hook
            _engine.compiled_autograd_hook = None  # compiling must not recurse into us
            try:
                fn = self.compiler_fn(gm)
            finally:
                _engine.compiled_autograd_hook = prev
            self.compiled.cache[key] = fn
        prev_grad = _state.grad_enabled
        _state.grad_enabled = False
        prev_hook = _engine.compiled_autograd_hook
        _engine.compiled_autograd_hook = None
        try:
            fn(*inputs)
        finally:
            _state.grad_enabled = prev_grad
            _engine.compiled_autograd_hook = prev_hook
        if not retain_graph:
            for n in nodes:
                n._release()
        return True

    @property
    def graphs(self):
        """The captured backward graphs that were compiled (one per distinct structure)."""
        return self.compiled.graphs


def _meta(v):
    if isinstance(v, tl.Tensor):
        return (tuple(v.shape), v.dtype.name, v.requires_grad)
    if isinstance(v, list):
        return ("list", len(v))
    return type(v).__name__
