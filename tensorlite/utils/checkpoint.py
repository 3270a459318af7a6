"""Activation checkpointing: trade compute for memory by recomputing a function during backward.

>>> import tensorlite as tl
>>> from tensorlite.utils.checkpoint import checkpoint
>>> x = tl.randn(3, requires_grad=True)
>>> y = checkpoint(lambda t: t.sin().exp(), x, use_reentrant=False)
>>> y.sum().backward()
>>> tl.allclose(x.grad, x.cos() * x.sin().exp())
True
"""
import weakref

from .. import _state
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad
from ..autograd.graph import saved_tensors_hooks

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError"]


class CheckpointError(RuntimeError):
    pass


def _get_rng_state():
    from .._creation import _rng
    return _rng().bit_generator.state


class _fork_rng:
    """Run a block with the RNG set to `state`, then put the RNG back where it was."""

    def __init__(self, state):
        self.state = state

    def __enter__(self):
        from .._creation import _rng
        if self.state is not None:
            gen = _rng()
            self.saved = gen.bit_generator.state
            gen.bit_generator.state = self.state

    def __exit__(self, *exc):
        from .._creation import _rng
        if self.state is not None:
            _rng().bit_generator.state = self.saved


class _Packed:
    """What the pack hook keeps for one saved tensor: an index, metadata, and how to re-attach it."""

    __slots__ = ("index", "shape", "dtype", "tensor", "grad_fn_ref", "out_nr", "requires_grad")

    def __init__(self, index, t, keep):
        self.index = index
        self.shape = t._data.shape
        self.dtype = t._data.dtype
        self.tensor = t if keep else None
        fn = t.grad_fn
        self.grad_fn_ref = weakref.ref(fn) if fn is not None else None
        self.out_nr = t._out_nr
        self.requires_grad = t._rg


class _Frame:
    """One non-reentrant checkpointed call: how to recompute it and the tensors it saves."""

    def __init__(self, fn, args, kwargs, rng_state):
        self.fn, self.args, self.kwargs, self.rng_state = fn, args, kwargs, rng_state
        self.count = 0
        self.recomputed = {}
        self.arg_ids = {id(a) for a in args if isinstance(a, Tensor)}

    def pack(self, t):
        keep = id(t) in self.arg_ids or (t.grad_fn is None and t._rg)  # inputs and parameters are alive anyway
        packed = _Packed(self.count, t, keep)
        self.count += 1
        return packed

    def recompute(self):
        store = self.recomputed = {}
        counter = [0]

        def pack(t):
            store[counter[0]] = t.detach() if t._rg else t
            counter[0] += 1
            return None

        with _fork_rng(self.rng_state), enable_grad(), saved_tensors_hooks(pack, lambda _: None):
            self.fn(*self.args, **self.kwargs)
        if counter[0] != self.count:
            raise CheckpointError(
                "tensorlite.utils.checkpoint: the recomputation saved a different number of tensors for "
                f"backward ({counter[0]}) than the original forward ({self.count}); the checkpointed "
                "function must run the same operations every time it is called.")

    def unpack(self, packed):
        if packed.tensor is not None:
            return packed.tensor
        if packed.index not in self.recomputed:
            self.recompute()
        t = self.recomputed.pop(packed.index)
        if t._data.shape != packed.shape or t._data.dtype != packed.dtype:
            raise CheckpointError(
                "tensorlite.utils.checkpoint: Recomputed values for the following tensors have different "
                f"metadata than during the forward pass.\ntensor at position {packed.index}: saved with "
                f"shape {list(packed.shape)} and dtype {packed.dtype}, recomputed with shape "
                f"{list(t._data.shape)} and dtype {t._data.dtype}")
        # Re-attach the autograd history the original tensor had (matters for double backward).
        fn = packed.grad_fn_ref() if packed.grad_fn_ref is not None else None
        if fn is not None:
            out = Tensor._wrap(t._data)
            out.grad_fn = fn
            out._out_nr = packed.out_nr
            out._rg = True
            return out
        return t


def _checkpoint_without_reentrant(fn, preserve_rng_state, args, kwargs):
    rng_state = _get_rng_state() if preserve_rng_state else None
    frame = _Frame(fn, args, kwargs, rng_state)
    with saved_tensors_hooks(frame.pack, frame.unpack):
        return fn(*args, **kwargs)


class _CheckpointFunction(Function):
    """Reentrant checkpoint: forward under no_grad, backward recomputes and runs a nested backward."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        ctx.run_function = run_function
        ctx.rng_state = _get_rng_state() if preserve_rng_state else None
        ctx.inputs = args
        outputs = run_function(*args)
        return outputs

    @staticmethod
    def backward(ctx, *grads):
        from .._engine import backward as engine_backward

        inputs = []
        for a in ctx.inputs:
            if isinstance(a, Tensor):
                d = a.detach()
                d._rg = a._rg
                inputs.append(d)
            else:
                inputs.append(a)
        with _fork_rng(ctx.rng_state), enable_grad():
            outputs = ctx.run_function(*inputs)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        outs, gs = [], []
        for o, g in zip(outputs, grads):
            if isinstance(o, Tensor) and o._rg and g is not None:
                outs.append(o)
                gs.append(g)
        if not outs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        engine_backward(outs, gs, create_graph=_state.grad_enabled)
        return (None, None) + tuple(i.grad if isinstance(i, Tensor) else None for i in inputs)


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default",
               debug=False, preserve_rng_state=True, **kwargs):
    """Run function(*args, **kwargs) without keeping its intermediate tensors; recompute them in backward.

    use_reentrant=False (the default here): saved tensors go through saved_tensors_hooks and the
    function is recomputed (same inputs, same RNG state) the first time backward needs one of them.
    use_reentrant=True: the classic autograd.Function version (no keyword arguments; its inputs'
    gradients come from a nested backward).
    """
    if use_reentrant is None:
        use_reentrant = False
    if context_fn is not None:
        raise NotImplementedError("checkpoint(context_fn=...) is not supported by tensorlite")
    if not _state.grad_enabled:
        return function(*args, **kwargs)
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        return _CheckpointFunction.apply(function, preserve_rng_state, *args)
    return _checkpoint_without_reentrant(function, preserve_rng_state, args, kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Split a Sequential (or list of modules) into segments and checkpoint all but the last one."""
    from ..nn import Sequential
    functions = list(functions.children()) if isinstance(functions, Sequential) else list(functions)
    size = max(len(functions) // segments, 1)

    def run(start, end):
        def fwd(x):
            for f in functions[start:end]:
                x = f(x)
            return x
        return fwd

    start = 0
    for _ in range(segments - 1):
        end = start + size
        if end >= len(functions):
            break
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, **kwargs)
        start = end
    return run(start, len(functions))(input)
