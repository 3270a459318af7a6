"""Autograd graph utilities: Node, saved_tensors_hooks, register_multi_grad_hook.

>>> import tensorlite as tl
>>> x = tl.ones(2, requires_grad=True)
>>> with tl.autograd.graph.saved_tensors_hooks(lambda t: t * 1, lambda t: t):
...     y = x.sin()
"""
import threading

from .. import _state
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
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = tuple(tensors)
    lock = threading.Lock()
    if mode == "any":
        state = {"fired_for": None}

        def make_any(i):
            def hook(g):
                from .. import _state as st
                key = id(st)  # one call per backward: reset in the engine via a post hook below
                with lock:
                    if state["fired_for"] is not None:
                        return None
                    state["fired_for"] = key
                fn(g)
            return hook

        handles = [t.register_hook(make_any(i)) for i, t in enumerate(tensors)]
        handles += _reset_after_backward(tensors, lambda: state.__setitem__("fired_for", None))
        return _MultiHandle(handles)

    grads = [None] * len(tensors)
    count = {"n": 0, "expected": None}

    def make_all(i):
        def hook(g):
            with lock:
                grads[i] = g
                count["n"] += 1
                if count["expected"] is None:
                    count["expected"] = _expected_count(tensors)
                done = count["n"] >= count["expected"]
            if done:
                out = tuple(grads)
                reset()
                r = fn(out)
                if r is not None:
                    raise RuntimeError("register_multi_grad_hook: the hook must return None")
            return None
        return hook

    def reset():
        for j in range(len(grads)):
            grads[j] = None
        count["n"] = 0
        count["expected"] = None

    handles = [t.register_hook(make_all(i)) for i, t in enumerate(tensors)]
    return _MultiHandle(handles)


def _expected_count(tensors):
    """How many of the tensors will receive a gradient in the running backward."""
    from .. import _engine
    cur = _engine.current_graph()
    if cur is None:
        return len(tensors)
    n = 0
    for t in tensors:
        e = t._edge()
        if e[0] in cur:
            n += 1
    return max(n, 1)


def _reset_after_backward(tensors, reset):
    from .. import _engine
    return [_engine.on_backward_end(reset)]

