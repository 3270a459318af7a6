"""Autograd graph nodes (what `Tensor.grad_fn` is), saved tensors, and AccumulateGrad.

A Node is created by a differentiable op when grad mode is on and an input requires grad.
`next_functions` are its edges to the nodes of its inputs' gradients.

>>> import tensorlite as tl
>>> x = tl.ones(2, requires_grad=True)
>>> y = x.sin()
>>> y.grad_fn.name(), y.grad_fn.next_functions[0][0].name()
('SinBackward0', 'AccumulateGrad')
"""
import traceback

from . import _state
from .utils.hooks import RemovableHandle

_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


def describe_tensor(t):
    return f"[tensorlite.{t.dtype.name} {list(t.shape)}]"


class SavedTensor:
    """A tensor saved for backward, with the version it had, packed by saved_tensors_hooks."""

    __slots__ = ("value", "version", "tensor_ref", "packed", "unpack", "is_output")

    def __init__(self, t, is_output=False):
        vc = t._vc
        if vc is None:
            vc = t._vc = _new_version()
        self.version = vc[0]
        self.is_output = is_output
        hooks = _state.saved_tensors_hooks
        if hooks:
            pack, unpack = hooks[-1]
            self.packed = pack(t)
            self.unpack = unpack
            self.tensor_ref = t
            self.value = None
        else:
            self.value = t
            self.unpack = None
            self.tensor_ref = t

    def get(self, node):
        t = self.tensor_ref
        if t._vc[0] != self.version:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: {describe_tensor(t)}, which is output "
                f"{t._out_nr} of {t.grad_fn.name() if t.grad_fn is not None else 'a leaf'}, is at version "
                f"{t._vc[0]}; expected version {self.version} instead. Hint: the backtrace further "
                "above shows the operation that failed to compute its gradient. The variable in "
                "question was changed in there or anywhere later. Good luck!"
            )
        if self.unpack is not None:
            v = self.unpack(self.packed)
            if v is None or not hasattr(v, "_data"):
                raise TypeError("saved_tensors_hooks: the unpack hook must return a Tensor")
            return v
        return self.value


def _new_version():
    return [0]


class Node:
    """One backward function. Subclasses implement `apply(grads) -> grads for next_functions`."""

    _name = "Node"

    def __init__(self, next_edges, in_meta=None):
        self._next = next_edges  # tuple of (node, input_nr) or None per input
        self._in_meta = in_meta  # tuple of (shape, np dtype) per input, for validation
        _state.sequence_nr += 1
        self._seq = _state.sequence_nr
        self._saved = ()
        self._pre_hooks = None
        self._post_hooks = None
        self._tensor_pre_hooks = None  # {output_nr: {id: fn}}
        self._retain_grad = None  # {output_nr: tensor}
        self._anomaly_trace = traceback.format_stack()[:-3] if _state.anomaly_enabled else None
        self.metadata = {}

    # -- PyTorch's Node API -------------------------------------------------------------
    def name(self):
        return self._name

    @property
    def next_functions(self):
        return tuple((None, 0) if e is None else e for e in self._next)

    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) -> new grad_inputs or None; runs after the node."""
        if self._post_hooks is None:
            self._post_hooks = {}
        h = RemovableHandle(self._post_hooks)
        self._post_hooks[h.id] = fn
        return h

    def register_prehook(self, fn):
        """fn(grad_outputs) -> new grad_outputs or None; runs before the node."""
        if self._pre_hooks is None:
            self._pre_hooks = {}
        h = RemovableHandle(self._pre_hooks)
        self._pre_hooks[h.id] = fn
        return h

    def _register_tensor_hook(self, output_nr, fn):
        if self._tensor_pre_hooks is None:
            self._tensor_pre_hooks = {}
        d = self._tensor_pre_hooks.setdefault(output_nr, {})
        h = RemovableHandle(d)
        d[h.id] = fn
        return h

    def _release(self):
        if self._saved:
            self._saved = None

    @property
    def saved_tensors(self):
        s = self._saved
        if s is None:
            raise RuntimeError(_FREED_MSG)
        return tuple(x.get(self) if isinstance(x, SavedTensor) else x for x in s)

    def __repr__(self):
        return f"<{self.name()} object>"

    def __call__(self, *grads):
        return self.apply(list(grads))


class PrimNode(Node):
    """The backward of one primitive call; also the ctx its backward rule reads."""

    def __init__(self, prim, next_edges, in_meta, params, n_outputs, out_meta):
        Node.__init__(self, next_edges, in_meta)
        self.prim = prim
        self.params = params
        self.n_outputs = n_outputs
        self.out_meta = out_meta
        self.needs_input_grad = tuple(e is not None for e in next_edges)

    def name(self):
        return self.prim.node_name

    @property
    def saved(self):
        return self.saved_tensors

    def apply(self, grads):
        return self.prim.backward(self, *grads)


class AccumulateGrad(Node):
    """Accumulates a leaf's gradient into `.grad` (the leaf's tensor hooks run first)."""

    _name = "AccumulateGrad"

    def __init__(self, variable):
        Node.__init__(self, (), ((variable._data.shape, variable._data.dtype),))
        self._seq = float("inf")  # runs as soon as it is ready, as in PyTorch
        self.variable = variable
        self.n_outputs = 1

    def apply(self, grads):
        from ._tensor import Tensor

        g = grads[0]
        var = self.variable
        if g is None:
            return ()
        if _state.grad_enabled:  # create_graph=True: keep the graph of the gradient
            var._grad = g if var._grad is None else var._grad + g
        elif var._grad is None:
            var._grad = Tensor._wrap(g._data.copy())
        else:
            cur = var._grad
            if cur.requires_grad:
                var._grad = cur + g.detach()
            else:
                cur._data = cur._data + g._data if cur._data.shape != var._data.shape else cur._data.__iadd__(g._data)
                cur._bump_version()
        hooks = var._post_acc_hooks
        if hooks:
            for fn in list(hooks.values()):
                r = fn(var)
                if r is not None:
                    raise RuntimeError("post accumulate grad hooks cannot return a value, got " + type(r).__name__)
        return ()
