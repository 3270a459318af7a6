"""Autograd graph nodes (what `Tensor.grad_fn` is), saved tensors, and AccumulateGrad.

A Node is created by a differentiable op when grad mode is on and an input requires grad.
`next_functions` are its edges to the nodes of its inputs' gradients.

>>> import tensorlite as tl
>>> x = tl.ones(2, requires_grad=True)
>>> y = x.sin()
>>> y.grad_fn.name(), y.grad_fn.next_functions[0][0].name()
('SinBackward0', 'torch::autograd::AccumulateGrad')
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


class SavedTensor:
    """A tensor saved for backward, with the version it had, packed by saved_tensors_hooks.

    An input is kept as the tensor itself. An output (out_nr given) is kept as its array and
    version counter only, and unpacked as a fresh tensor whose grad_fn is the node, as in
    PyTorch: holding the output itself would make a node -> tensor -> node reference cycle.
    """

    __slots__ = ("value", "version", "vc", "data", "out_nr", "packed", "unpack", "desc")

    def __init__(self, t, out_nr=None):
        vc = t._vc
        if vc is None:
            vc = t._vc = [0]
        self.vc = vc
        self.version = vc[0]
        self.out_nr = out_nr
        if _state.saved_tensors_hooks:
            pack, unpack = _state.saved_tensors_hooks[-1]
            # the autograd identity the unpacked tensor gets back (PyTorch's SavedVariable
            # keeps grad_fn/output_nr, or the leaf's grad accumulator, next to the packed
            # value); a saved output's grad_fn is the node itself, passed to get()
            fn = t.grad_fn if out_nr is None else None
            if fn is None and out_nr is None and t._rg:
                if t._base is not None and t._vc[0] != t._view_version:
                    t._refresh_view_history()
                fn = t.grad_fn
                if fn is None:
                    t._edge()  # creates the leaf's AccumulateGrad
            self.desc = (t._data.shape, t._data.dtype, fn, t._out_nr, t._rg,
                         t._acc if fn is None and out_nr is None else None)
            self.packed = pack(t)
            self.unpack = unpack
            self.value = self.data = None
        elif out_nr is None:
            self.value = t
            self.unpack = self.data = None
        else:
            self.data = t._data
            self.unpack = self.value = None

    def _describe(self, node):
        if self.value is not None:
            t = self.value
            shape, dtype, fn, nr = t._data.shape, t._data.dtype, t.grad_fn, t._out_nr
        elif self.data is not None:
            shape, dtype, fn, nr = self.data.shape, self.data.dtype, node, self.out_nr
        else:
            shape, dtype, fn, nr = self.desc[:4]
            if self.out_nr is not None:
                fn = node
        from ._dtype import from_np
        where = f"output {nr} of {fn.name()}" if fn is not None else "a leaf"
        return f"[tensorlite.{from_np(dtype).name} {list(shape)}], which is {where}"

    def _reattach(self, v, node):
        """The unpack hook's tensor with the saved tensor's autograd history: same grad_fn and
        output_nr for a non-leaf, the same AccumulateGrad for a leaf (as PyTorch does), so
        that double backward through the unpacked value reaches the original graph."""
        _, _, fn, nr, rg, acc = self.desc
        if self.out_nr is not None:
            fn, nr, rg = node, self.out_nr, True
        if not rg and not v._rg:
            return v
        out = type(v)._wrap(v._data)
        out._vc = v._vc if v._vc is not None else self.vc
        if fn is not None:
            out.grad_fn = fn
            out._out_nr = nr
            out._rg = True
        elif rg:
            out._rg = True
            out._acc = acc
        return out

    def get(self, node):
        if self.vc[0] != self.version:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: {self._describe(node)}, is at version "
                f"{self.vc[0]}; expected version {self.version} instead. Hint: the backtrace further "
                "above shows the operation that failed to compute its gradient. The variable in "
                "question was changed in there or anywhere later. Good luck!"
            )
        if self.unpack is not None:
            v = self.unpack(self.packed)
            if v is None or not hasattr(v, "_data"):
                raise TypeError("saved_tensors_hooks: the unpack hook must return a Tensor")
            return self._reattach(v, node)
        if self.value is not None:
            return self.value
        from ._tensor import Tensor
        t = Tensor._wrap(self.data)
        t._vc = self.vc
        t.grad_fn = node
        t._out_nr = self.out_nr
        t._rg = True
        return t


class Node:
    """One backward function. Subclasses implement `apply(grads) -> grads for next_functions`.

    Hook tables, saved tensors and metadata default to class attributes so that creating a
    node (once per differentiable op) writes only the attributes that differ.
    """

    _name = "Node"
    _in_meta = None
    _saved = ()
    _pre_hooks = None
    _post_hooks = None
    _tensor_pre_hooks = None  # {output_nr: {id: fn}}
    _retain_grad = None  # {output_nr: tensor}
    _anomaly_trace = None
    n_outputs = 1

    def __init__(self, next_edges, in_meta=None):
        self._next = next_edges  # tuple of (node, input_nr) or None per input
        self._in_meta = in_meta  # tuple of (shape, np dtype) per input, for validation
        _state.sequence_nr = seq = _state.sequence_nr + 1
        self._seq = seq
        if _state.anomaly_enabled:
            self._anomaly_trace = traceback.format_stack()[:-3]

    @property
    def metadata(self):
        d = self.__dict__.get("_metadata")
        if d is None:
            d = self._metadata = {}
        return d

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

    def _retain(self, output_nr, t):
        """Keep the gradient of output output_nr in t.grad (t.retain_grad())."""
        if self._retain_grad is None:
            self._retain_grad = {}
        self._retain_grad[output_nr] = t

    def _unretain(self, output_nr):
        if self._retain_grad:
            self._retain_grad.pop(output_nr, None)

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

    out_meta = None

    def __init__(self, prim, next_edges, in_meta, params, n_outputs=1, out_meta=None):
        self._next = next_edges
        self._in_meta = in_meta
        _state.sequence_nr = seq = _state.sequence_nr + 1
        self._seq = seq
        if _state.anomaly_enabled:
            self._anomaly_trace = traceback.format_stack()[:-3]
        self.prim = prim
        self.params = params
        if n_outputs != 1:
            self.n_outputs = n_outputs
            self.out_meta = out_meta

    @property
    def needs_input_grad(self):
        return tuple([e is not None for e in self._next])

    def name(self):
        return self.prim.node_name

    @property
    def saved(self):
        return self.saved_tensors

    def apply(self, grads):
        return self.prim.backward(self, *grads)


class AccumulateGrad(Node):
    """Accumulates a leaf's gradient into `.grad` (the leaf's tensor hooks run first)."""

    _name = "torch::autograd::AccumulateGrad"  # PyTorch's name(): its C++ class name

    def __init__(self, variable):
        Node.__init__(self, (), ((variable._data.shape, variable._data.dtype),))
        self._seq = float("inf")  # runs as soon as it is ready, as in PyTorch
        self.variable = variable

    def apply(self, grads):
        from ._tensor import Tensor

        g = grads[0]
        var = self.variable
        if g is None:
            return ()
        if _state.grad_enabled:  # create_graph=True: keep the graph of the gradient
            var._grad = g if var._grad is None else var._grad + g
        elif var._grad is None:
            # under a dispatch mode (make_fx, fake tensors) the copy is an op the mode sees
            var._grad = Tensor._wrap(g._data.copy()) if _state.mode is None else g.clone()
            # PyTorch steals the incoming gradient into .grad, so the node's post hooks get
            # .grad itself as grad_outputs[0] (as changed by post-accumulate-grad hooks)
            grads[0] = var._grad
        else:
            cur = var._grad
            if cur.requires_grad:
                var._grad = cur + g.detach()
            elif _state.mode is not None and cur._data.shape == var._data.shape:
                cur.add_(g)
            else:
                cur._data = cur._data + g._data if cur._data.shape != var._data.shape else cur._data.__iadd__(g._data)
                cur._bump_version()
        hooks = var._post_acc_hooks
        if hooks:
            for fn in list(hooks.values()):
                if fn(var) is not None:
                    raise RuntimeError("Tensor post accumulate grad hooks should return None.")
        return ()
