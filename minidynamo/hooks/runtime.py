"""What a graph with hooks calls at run time: hook boxes and the nodes that route gradients.

These functions are graph node targets; their `__module__` is the package's, whose namespace
exports them, so printed graphs name them `minidynamo.hooks.<name>`.
"""
import tensorlite as tl
from fxlite.marks import mark_impure, mark_run_graph_as_is
from tensorlite.utils.hooks import RemovableHandle


class HookBox:
    """The hooks of one register_hook call made inside a compiled region (one per call)."""

    __slots__ = ("hooks", "handle")

    def __init__(self, hook):
        self.hooks = {}
        self.handle = RemovableHandle(self.hooks)
        if hook is not None:  # None: an empty slot that hooks may be added to later
            self.hooks[self.handle.id] = hook

    def add(self, hook):
        """Another hook on the same tensor: runs after the earlier ones."""
        h = RemovableHandle(self.hooks)
        self.hooks[h.id] = hook
        return h

    def in_order(self):
        """The hooks, in the order they run."""
        return list(self.hooks.values())

    def __call__(self, grad):
        for fn in self.in_order():
            r = fn(grad)
            if r is not None:
                grad = r
        return grad


class _BackwardHook(tl.autograd.Function):
    @staticmethod
    def forward(ctx, x, box):
        ctx.box = box
        return x.view(x.shape)

    @staticmethod
    def backward(ctx, grad):
        return _call_box(grad, ctx.box), None


def _call_box(grad, box):
    """box(grad) through the trace_wrapped primitive, so that tracing the backward records one
    opaque node with the box as its visible `fn` argument (a graph input under AOT, a hook that
    compiled autograd lifts into its hooks list)."""
    from backends.aot.trace_wrapped import TRACE_WRAPPED
    from tensorlite._primitive import bind
    return bind(TRACE_WRAPPED, (grad,), {"fn": box})


def apply_backward_hook(x, box):
    """Identity in the forward; in the backward, x's gradient goes through box (the hooks)."""
    if not x.requires_grad or not tl.is_grad_enabled():
        return x
    return _BackwardHook.apply(x, box)


def apply_output_view_hook(x, box):
    """apply_backward_hook for a graph output that views a graph input and is also used inside
    the graph. AOT backends rebuild such an output from the input outside their one autograd
    node, so its direct gradient would bypass the slot: graphs with it run as they are."""
    return apply_backward_hook(x, box)


def identity_hook(grad):
    """The example value that stands in for a hook box while tracing."""
    return None


def module_backward_begin(module, *args):
    """Graph node before a module's forward: the module's full backward hooks, read at run
    time, wrap its tensor inputs (Module.__call__'s BackwardHook). Returns (state, *args)."""
    from tensorlite.nn.modules import module as M
    from tensorlite.nn.modules._backward_hook import BackwardHook

    full = [*M._global_backward_hooks.values(), *module._backward_hooks.values()]
    pre = [*M._global_backward_pre_hooks.values(), *module._backward_pre_hooks.values()]
    if not (full or pre) or not tl.is_grad_enabled():
        return (None,) + args
    bw = BackwardHook(module, full, pre)
    return (bw,) + tuple(bw.setup_input_hook(args))


def module_backward_end(state, *outs):
    """Graph node after a module's forward hooks: wraps its outputs (grad_output side)."""
    result = outs[0] if len(outs) == 1 else outs
    if state is None:
        return result
    return state.setup_output_hook(result)


for _f in (apply_backward_hook, apply_output_view_hook, module_backward_begin, module_backward_end):
    _f.__module__ = "minidynamo.hooks"
# AOT backends rebuild a view output outside their one autograd node (see above), and a
# module's own BackwardHook nodes carry its hooks: graphs with these run as they are
mark_run_graph_as_is(apply_output_view_hook)
for _f in (module_backward_begin, module_backward_end):
    mark_impure(mark_run_graph_as_is(_f))
