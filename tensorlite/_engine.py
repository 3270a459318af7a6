"""The backward engine: runs the graph of Nodes from the roots to the leaves.

Ready nodes run newest first (by sequence number), AccumulateGrad as soon as it is ready,
as in PyTorch. For each node: tensor hooks (then retain_grad), node pre-hooks, the node,
node post-hooks; the gradients it returns flow along its edges and are summed per input.
"""
import heapq
import itertools
import threading

import numpy as np

from . import _state
from ._node import AccumulateGrad, PrimNode


def _root_edge(t, i):
    if not t._rg:
        raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
    return t._edge()


def _make_grads(outputs, grads):
    from ._tensor import Tensor

    out = []
    for i, t in enumerate(outputs):
        g = None if grads is None else grads[i]
        if g is None:
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if t._data.dtype.kind != "f":
                raise RuntimeError(
                    f"grad can be implicitly created only for real scalar outputs but got {t.dtype}")
            g = Tensor._wrap(np.ones(t._data.shape, t._data.dtype)) if _state.mode is None else _filled(t, 1)
        else:
            if not isinstance(g, Tensor):
                g = Tensor._wrap(np.asarray(g, t._data.dtype))
            if g._data.shape != t._data.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] has a "
                    f"shape of {t.shape}.")
        out.append(g)
    return out


def _filled(t, value):
    """A tensor like t filled with value, made by the `full` primitive so a dispatch mode sees it."""
    from . import _prims as P
    from ._dtype import from_np
    from ._primitive import bind
    return bind(P.full, (), {"shape": t._data.shape, "value": value, "dtype": from_np(t._data.dtype)})


def _as_tuple(x):
    from ._tensor import Tensor

    if x is None:
        return None
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


# Set by minidynamo.compiled_autograd.enable: called as hook(roots, retain_graph) for a plain
# backward(); returns True when it ran the backward itself (compiled), False to run eagerly.
compiled_autograd_hook = None


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """tl.autograd.backward: accumulate gradients of tensors into leaves' (or inputs') .grad."""
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    grads = _make_grads(tensors, grad_tensors)
    roots = [(_root_edge(t, i), g) for i, (t, g) in enumerate(zip(tensors, grads))]
    hook = compiled_autograd_hook
    if hook is not None and inputs is None and not create_graph and _state.mode is None:
        if hook(roots, retain_graph):
            return
    if inputs is not None:
        edges = []
        for t in inputs:
            if not t._rg:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            edges.append(t._edge())
        run(roots, retain_graph, create_graph, accumulate_edges=edges, input_tensors=inputs)
    else:
        run(roots, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """tl.autograd.grad: return d(outputs)/d(inputs) without touching any .grad."""
    from ._tensor import Tensor

    outputs = _as_tuple(outputs)
    single = isinstance(inputs, Tensor)
    inputs = _as_tuple(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(outputs, _as_tuple(grad_outputs))
    roots = [(_root_edge(t, i), g) for i, (t, g) in enumerate(zip(outputs, grads))]
    edges = []
    for t in inputs:
        if not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        edges.append(t._edge())
    captured = run(roots, retain_graph, create_graph, capture_edges=edges)
    result = []
    for t, g in zip(inputs, captured):
        if g is None:
            if materialize_grads:
                g = Tensor._wrap(np.zeros(t._data.shape, t._data.dtype)) if _state.mode is None else _filled(t, 0)
            elif not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior.")
        result.append(g)
    return tuple(result)


_local = threading.local()  # .tasks: this thread's running backwards, innermost last


def current_graph_task():
    """The backward running in this thread (the innermost one when a hook runs another), or
    None: what per-backward state is keyed by, as PyTorch keys it by graph task id."""
    tasks = getattr(_local, "tasks", None)
    return tasks[-1] if tasks else None


def _needed_nodes(root_nodes, targets):
    """Nodes from which some target node is reachable (the only ones worth running)."""
    memo = {}
    for t in targets:
        memo[t] = True
    order, stack, seen = [], list(root_nodes), set()
    while stack:  # iterative post-order
        n = stack[-1]
        if n in seen:
            stack.pop()
            if n not in memo:
                memo[n] = any(e is not None and memo.get(e[0], False) for e in n._next)
            continue
        seen.add(n)
        for e in n._next:
            if e is not None and e[0] not in seen:
                stack.append(e[0])
    return {n for n, v in memo.items() if v}


def run(roots, retain_graph, create_graph, capture_edges=None, accumulate_edges=None, input_tensors=None):
    """Execute the backward graph. Returns the captured gradients when capture_edges is given."""
    # the task sums the gradients given for the same root under the caller's grad mode
    task = _GraphTask(roots, capture_edges, accumulate_edges, input_tensors)
    prev_grad = _state.grad_enabled
    # backward runs under a copy of the caller's saved-tensor hooks, as PyTorch's engine runs
    # each node under the thread-local state captured with the graph task: a hook that enters
    # or exits a saved_tensors_hooks context during backward changes nothing after it
    hooks = _state.saved_tensors_hooks
    prev_hooks = list(hooks)
    _state.grad_enabled = bool(create_graph)
    tasks = getattr(_local, "tasks", None)
    if tasks is None:
        tasks = _local.tasks = []
    tasks.append(task)
    try:
        task.execute(retain_graph)
    finally:
        _state.grad_enabled = prev_grad
        hooks[:] = prev_hooks
        tasks.pop()
    return task.captured


class _GraphTask:
    """One backward run (PyTorch's GraphTask): how many incoming gradients each node still
    waits for, the gradients summed so far per node output, and the ready nodes."""

    def __init__(self, roots, capture_edges, accumulate_edges, input_tensors):
        self.root_nodes = root_nodes = [e[0] for e, _ in roots]
        # autograd.grad and backward(inputs=...) run only what leads to the requested inputs
        targets = capture_edges if capture_edges is not None else accumulate_edges
        needed = None if targets is None else _needed_nodes(root_nodes, {e[0] for e in targets})
        self.deps = _dependencies(root_nodes, needed)
        # autograd.grad takes an input's gradient where it enters the input's node, and runs
        # that node only if it leads on to another input (PyTorch's exec_info needed_)
        self.stop_at = _capture_only(capture_edges, needed)
        self.capture_at = _by_node(capture_edges, itertools.count())
        self.captured = None if capture_edges is None else [None] * len(capture_edges)
        self.accumulate_at = _by_node(accumulate_edges, input_tensors)
        self.buffers = {}
        for (node, nr), g in roots:
            self._add(node, nr, g)
        self.counter = itertools.count()  # ties in sequence number pop in push order
        self.ready = []
        for node in dict.fromkeys(root_nodes):
            if self.deps.get(node, 0) == 0 and (needed is None or node in needed):
                self._push(node)

    def will_execute(self, node):
        """Whether node receives gradients in this backward (PyTorch's _will_engine_execute_node)."""
        return node in self.deps or node in self.root_nodes

    def _add(self, node, nr, g):
        buf = self.buffers.get(node)
        if buf is None:
            buf = self.buffers[node] = [None] * _n_outputs(node)
        buf[nr] = g if buf[nr] is None else buf[nr] + g

    def _push(self, node):
        heapq.heappush(self.ready, (-node._seq, next(self.counter), node))

    def execute(self, retain_graph):
        from ._tensor import Tensor

        while self.ready:
            node = heapq.heappop(self.ready)[2]
            grads = self.buffers.pop(node, None) or [None] * _n_outputs(node)
            grads = _call_tensor_hooks(node, grads)
            self._deliver(node, grads)
            if node in self.stop_at:
                continue
            if all(g is None for g in grads):
                out = [None] * len(node._next)
            else:
                out = _call_node(node, grads, Tensor)
            if not retain_graph:
                node._release()
            self._send(node, out)

    def _deliver(self, node, grads):
        """Hand grads to the requested inputs whose gradients end at node."""
        at = self.capture_at.get(node)
        if at is not None:
            for nr, slot in at:
                self.captured[slot] = grads[nr]
        at = self.accumulate_at.get(node)
        if at is not None and not isinstance(node, AccumulateGrad):
            for nr, t in at:
                _accumulate_nonleaf(t, grads[nr])

    def _send(self, node, out):
        """Pass node's input gradients along its edges; a node that has received all of its
        gradients is ready."""
        deps = self.deps
        for e, g in zip(node._next, out):
            if e is None:
                continue
            nx, nr = e
            if nx not in deps:
                continue
            if g is not None:
                self._add(nx, nr, g)
            deps[nx] -= 1
            if deps[nx] == 0:
                self._push(nx)


def _capture_only(capture_edges, needed):
    """The nodes of autograd.grad's inputs that lead to no other input: they receive their
    gradient (tensor hooks run, the gradient is captured) but do not run, nor their hooks."""
    if capture_edges is None:
        return ()
    return {node for node, _ in capture_edges
            if not any(e is not None and e[0] in needed for e in node._next)}


def _dependencies(root_nodes, needed):
    """Per node reachable from the roots (within needed, when given): its number of incoming
    edges, i.e. how many gradients it receives before it can run."""
    deps = {}
    stack = [n for n in root_nodes if needed is None or n in needed]
    seen = set(stack)
    while stack:
        for e in stack.pop()._next:
            if e is None:
                continue
            nx = e[0]
            if needed is not None and nx not in needed:
                continue
            deps[nx] = deps.get(nx, 0) + 1
            if nx not in seen:
                seen.add(nx)
                stack.append(nx)
    return deps


def _by_node(edges, values):
    """{node: [(input_nr, value), ...]} for edges paired with values ({} for no edges)."""
    at = {}
    if edges is not None:
        for value, (node, nr) in zip(values, edges):
            at.setdefault(node, []).append((nr, value))
    return at


def _n_outputs(node):
    return getattr(node, "n_outputs", 1)


def _accumulate_nonleaf(t, g):
    if g is None:
        return
    t._grad = g.detach() if t._grad is None else t._grad + g.detach()


def _hook_name(fn):
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__


def _check_hook_result(fn, old, new):
    from ._tensor import Tensor

    if old is None:
        raise RuntimeError("can't replace a None gradient with a non-None value")
    if not isinstance(new, Tensor):
        raise TypeError(f"hook '{_hook_name(fn)}' returned {type(new).__name__}; expected a Tensor or None")
    if new._data.shape != old._data.shape:
        raise RuntimeError(
            f"hook '{_hook_name(fn)}' has changed the size of value: expected {list(old._data.shape)}, "
            f"got {list(new._data.shape)}")
    if new._data.dtype != old._data.dtype:
        raise RuntimeError(
            f"hook '{_hook_name(fn)}' has changed the type of value (was {old.dtype} got {new.dtype})")


def _call_tensor_hooks(node, grads):
    """The tensor hooks of node's outputs that got a gradient, then retain_grad."""
    if isinstance(node, AccumulateGrad):
        hooks = node.variable._hooks
        if hooks and grads[0] is not None:
            grads = [_run_hooks(hooks, grads[0])]
        return grads
    th = node._tensor_pre_hooks
    if th:
        grads = list(grads)
        missing_too = _hooks_see_missing(node, grads)
        for nr, hooks in th.items():
            if grads[nr] is not None or missing_too:
                grads[nr] = _run_hooks(hooks, grads[nr])
    rg = node._retain_grad
    if rg:
        for nr, t in rg.items():
            g = grads[nr]
            if g is None:
                continue
            if t._grad is None:
                t._grad = g.detach() if not _state.grad_enabled else g
                if not _state.grad_enabled:
                    from ._tensor import Tensor
                    t._grad = Tensor._wrap(g._data.copy()) if _state.mode is None else g.clone()
            else:
                t._grad = t._grad + g
    return grads


def _hooks_see_missing(node, grads):
    """Whether the hooks of node's outputs that got no gradient run too, with None: PyTorch
    does so when another output of the node got one. Only for tensorlite's own multi-output
    primitives (unbind, var_mean): a compiled graph's node joins outputs that are separate
    nodes in eager, whose hooks must not see a None that eager's do not."""
    return node.n_outputs > 1 and isinstance(node, PrimNode) and any(g is not None for g in grads)


def _run_hooks(hooks, g):
    for fn in list(hooks.values()):
        r = fn(g)
        if r is not None:
            _check_hook_result(fn, g, r)
            g = r
    return g


def _call_node(node, grads, Tensor):
    if node._pre_hooks:
        for fn in list(node._pre_hooks.values()):
            r = fn(tuple(grads))
            if r is not None:
                grads = list(r)
    if _state.anomaly_enabled:
        try:
            out = node.apply(grads)
        except Exception:
            _report_anomaly(node)
            raise
    else:
        out = node.apply(grads)
    if not isinstance(out, (tuple, list)):
        out = (out,)
    out = list(out)
    if len(out) < len(node._next):
        out += [None] * (len(node._next) - len(out))
    elif len(out) > len(node._next) and not isinstance(node, AccumulateGrad):
        if any(g is not None for g in out[len(node._next):]):
            raise RuntimeError(
                f"function {node.name()} returned an incorrect number of gradients (expected "
                f"{len(node._next)}, got {len(out)})")
        out = out[:len(node._next)]
    _validate(node, out, Tensor)
    if node._post_hooks:
        for fn in list(node._post_hooks.values()):
            r = fn(tuple(out), tuple(grads))
            if r is not None:
                out = list(r)
    return out


def _validate(node, out, Tensor):
    meta = node._in_meta
    if not meta:
        return
    for i, g in enumerate(out):
        if g is None or i >= len(meta) or meta[i] is None:
            continue
        if not isinstance(g, Tensor):
            raise TypeError(f"Function {node.name()} returned a gradient of type {type(g).__name__} at index {i}")
        shape, dtype = meta[i]
        if g._data.shape != shape:
            from ._prims import sum_to
            try:
                if np.broadcast_shapes(g._data.shape, shape) == g._data.shape:
                    g = out[i] = sum_to(g, shape)
                else:
                    raise ValueError
            except ValueError:
                raise RuntimeError(
                    f"Function {node.name()} returned an invalid gradient at index {i} - got "
                    f"{list(g._data.shape)} but expected shape compatible with {list(shape)}") from None
        if g._data.dtype != dtype and dtype.kind == "f":
            out[i] = g.to(dtype)
        if _state.anomaly_enabled and _state.anomaly_check_nan and np.isnan(out[i]._data).any():
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")


def _report_anomaly(node):
    import warnings

    trace = node._anomaly_trace
    if trace:
        warnings.warn(
            f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n"
            + "".join(trace), RuntimeWarning, stacklevel=2)
