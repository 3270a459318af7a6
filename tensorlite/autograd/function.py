"""Custom differentiable functions: tl.autograd.Function.

>>> import tensorlite as tl
>>> class Square(tl.autograd.Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x * x
...     @staticmethod
...     def backward(ctx, g):
...         (x,) = ctx.saved_tensors
...         return 2 * x * g
>>> x = tl.tensor([3.0], requires_grad=True)
>>> Square.apply(x).sum().backward(); x.grad
tensor([6.])
"""
import functools

import numpy as np

from .. import _state
from .._node import Node, SavedTensor


class FunctionCtx:
    """The ctx methods; a BackwardCFunction node is its own ctx, as in PyTorch."""

    def save_for_backward(self, *tensors):
        self._to_save = tensors

    def save_for_forward(self, *tensors):
        self._to_save_fwd = tensors

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_diff = tensors

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)

    @property
    def saved_tensors(self):
        s = self._saved
        if s is None:
            from .._node import _FREED_MSG
            raise RuntimeError(_FREED_MSG)
        return tuple(x.get(self) if isinstance(x, SavedTensor) else x for x in s)


class BackwardCFunction(Node, FunctionCtx):
    def __init__(self, fn_cls, next_edges, in_meta):
        Node.__init__(self, next_edges, in_meta)
        self._fn_cls = fn_cls
        self._to_save = ()
        self._dirty = ()
        self._non_diff = ()
        self.materialize_grads = True
        self.needs_input_grad = tuple(e is not None for e in next_edges)
        self.n_outputs = 0
        self._out_meta = ()
        self._tensor_input_pos = ()
        self._n_args = 0

    def name(self):
        return f"{self._fn_cls.__name__}Backward"

    def apply(self, grads):
        from .._tensor import Tensor

        if self.materialize_grads:
            grads = [Tensor._wrap(np.zeros(m[0], m[1])) if g is None and m is not None else g
                     for g, m in zip(grads, self._out_meta)]
        result = self._fn_cls.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) != self._n_args:
            if len(result) > self._n_args and all(r is None for r in result[self._n_args:]):
                result = result[:self._n_args]
            else:
                raise RuntimeError(
                    f"function {self.name()} returned an incorrect number of gradients (expected "
                    f"{self._n_args}, got {len(result)})")
        out = []
        for pos in self._tensor_input_pos:
            out.append(result[pos])
        return out


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)


class Function(metaclass=_FunctionMeta):
    """Subclass with static forward/backward (and optionally setup_context); call `.apply`."""

    @staticmethod
    def forward(*args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not overridden")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    def __init__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is deprecated. "
                           "Please use new-style autograd function with static forward method.")

    @classmethod
    def apply(cls, *args, **kwargs):
        from .._tensor import Tensor

        mode = _state.mode
        if mode is not None and hasattr(mode, "apply_function"):
            return mode.apply_function(cls, args, kwargs)
        tensor_pos = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
        edges = tuple(args[i]._edge() if args[i]._rg else None for i in tensor_pos)
        in_meta = tuple((args[i]._data.shape, args[i]._data.dtype) for i in tensor_pos)
        ctx = BackwardCFunction(cls, edges, in_meta)
        ctx._tensor_input_pos = tensor_pos
        ctx._n_args = len(args)
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
        separate = cls.setup_context is not Function.setup_context
        prev = _state.grad_enabled
        _state.grad_enabled = False
        try:
            if separate:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        finally:
            _state.grad_enabled = prev
        return _wrap_outputs(ctx, args, output, prev and any(e is not None for e in edges))


def _wrap_outputs(ctx, args, output, needs_graph):
    from .._tensor import Tensor

    is_tuple = isinstance(output, tuple)
    outs = list(output) if is_tuple else [output]
    input_ids = {id(a) for a in args if isinstance(a, Tensor)}
    dirty = {id(t) for t in ctx._dirty}
    non_diff = {id(t) for t in ctx._non_diff}
    meta = []
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            meta.append(None)
            continue
        if id(o) in input_ids and id(o) not in dirty:
            alias = Tensor._wrap(o._data)  # returning an input gives a new tensor (a view of it)
            if o._vc is None:
                o._vc = [0]
            alias._vc = o._vc
            if id(o) in non_diff:  # the mark applies to the returned alias
                non_diff.add(id(alias))
            o = outs[i] = alias
        if id(o) in dirty and needs_graph and o.grad_fn is None and o._rg:
            raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
        meta.append((o._data.shape, o._data.dtype))
    ctx._out_meta = tuple(meta)
    ctx.n_outputs = len(outs)
    if needs_graph:
        for i, o in enumerate(outs):
            if isinstance(o, Tensor) and id(o) not in non_diff and o._data.dtype.kind == "f":
                o.grad_fn = ctx
                o._out_nr = i
                o._rg = True
                o._creation_meta = None  # a view made by forward (under no_grad): ctx owns it
    saved = []
    out_nrs = {id(o): i for i, o in enumerate(outs) if isinstance(o, Tensor) and o.grad_fn is ctx}
    for t in ctx._to_save:
        if t is None:
            saved.append(None)
        elif isinstance(t, Tensor):
            saved.append(SavedTensor(t, out_nrs.get(id(t))))
        else:
            raise TypeError(f"save_for_backward can only save variables, but argument {len(saved)} is of type {type(t).__name__}")
    ctx._saved = tuple(saved)
    ctx._to_save = ()
    return tuple(outs) if is_tuple else outs[0]


def once_differentiable(fn):
    """Run backward without recording a graph; differentiating its result again raises."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        from .. import _state as st
        from .._tensor import Tensor

        create_graph = st.grad_enabled
        prev = st.grad_enabled
        st.grad_enabled = False
        try:
            outputs = fn(ctx, *args)
        finally:
            st.grad_enabled = prev
        if not create_graph:
            return outputs
        needs = any(isinstance(a, Tensor) and a._rg for a in args)
        if not needs:
            return outputs
        tup = outputs if isinstance(outputs, tuple) else (outputs,)
        err = _DelayedError("trying to differentiate twice a function that was marked with @once_differentiable",
                            tuple(a._edge() if isinstance(a, Tensor) and a._rg else None for a in args))
        for o in tup:
            if isinstance(o, Tensor):
                o.grad_fn = err
                o._rg = True
        return outputs

    return wrapper


class _DelayedError(Node):
    _name = "DelayedError"

    def __init__(self, msg, edges):
        Node.__init__(self, edges)
        self.msg = msg

    def apply(self, grads):
        raise RuntimeError(self.msg)
