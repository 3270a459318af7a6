"""Autograd graph utilities: Node, saved_tensors_hooks, register_multi_grad_hook.

>>> import tensorlite as tl
>>> x = tl.ones(2, requires_grad=True)
>>> with tl.autograd.graph.saved_tensors_hooks(lambda t: t * 1, lambda t: t):
...     y = x.sin()
"""
import threading
import weakref

from .. import _engine, _state
from .._node import Node  # noqa: F401  (the type of grad_fn, as torch.autograd.graph.Node)


class saved_tensors_hooks:
    """Within the block, tensors saved for backward go through pack(t) and come back through unpack."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        _state.saved_tensors_hooks.append((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc):
        _state.saved_tensors_hooks.pop()


def increment_version(tensor):
    """Bump the version counter of a tensor (or of each tensor of an iterable), as an in-place
    change made behind autograd's back would: a saved copy of it then fails in backward."""
    from .._tensor import Tensor
    for t in ((tensor,) if isinstance(tensor, Tensor) else tensor):
        t._bump_version()


class save_on_cpu(saved_tensors_hooks):
    def __init__(self, pin_memory=False):
        super().__init__(lambda t: t, lambda t: t)


class disable_saved_tensors_hooks:
    def __init__(self, error_message):
        self.msg = error_message

    def __enter__(self):
        self.prev = list(_state.saved_tensors_hooks)

    def __exit__(self, *exc):
        _state.saved_tensors_hooks[:] = self.prev


class _MultiHandle:
    def __init__(self, handles):
        self.handles = handles

    def remove(self):
        for h in self.handles:
            h.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """Call fn once per backward after the gradients of the tensors are computed.

    mode="all": fn(grads) with a tuple holding each tensor's gradient (None for tensors that
    got no gradient in this backward). mode="any": fn(grad) with the first gradient computed.
    The state is kept per running backward, as PyTorch keys it by graph task: concurrent
    backwards do not mix, and one that raised midway leaves nothing behind.
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = tuple(tensors)
    make = _any_hook if mode == "any" else _all_hook
    per_task = _PerTask()
    handles = [t.register_hook(make(per_task, tensors, i, fn)) for i, t in enumerate(tensors)]
    return _MultiHandle(handles)


class _PerTask:
    """State per running backward (dropped with it); outside any backward (a compiled
    backward calling hooks itself), one shared slot that the hook resets once it fired."""

    def __init__(self):
        self.lock = threading.Lock()
        self._by_task = weakref.WeakKeyDictionary()
        self._outside = None

    def get(self, new):
        task = _engine.current_graph_task()
        if task is None:
            if self._outside is None:
                self._outside = new()
            return self._outside
        st = self._by_task.get(task)
        if st is None:
            st = self._by_task[task] = new()
        return st

    def drop(self):
        task = _engine.current_graph_task()
        if task is None:
            self._outside = None
        else:
            self._by_task.pop(task, None)


def _any_hook(per_task, tensors, i, fn):
    def hook(g):
        with per_task.lock:
            fired = per_task.get(lambda: [False])
            if fired[0]:
                return None
            fired[0] = True
        if _engine.current_graph_task() is None:
            per_task.drop()  # no end of backward to wait for: fire for the next call again
        fn(g)
    return hook


def _all_hook(per_task, tensors, i, fn):
    def hook(g):
        with per_task.lock:
            st = per_task.get(lambda: {"grads": [None] * len(tensors), "n": 0,
                                       "expected": _expected_count(tensors)})
            st["grads"][i] = g
            st["n"] += 1
            done = st["n"] >= st["expected"]
            if done:
                per_task.drop()
        if done and fn(tuple(st["grads"])) is not None:
            raise RuntimeError("register_multi_grad_hook: the hook must return None")
    return hook


def _expected_count(tensors):
    """How many of the tensors will receive a gradient in the running backward."""
    task = _engine.current_graph_task()
    if task is None:
        return len(tensors)
    return max(sum(task.will_execute(t._edge()[0]) for t in tensors), 1)
