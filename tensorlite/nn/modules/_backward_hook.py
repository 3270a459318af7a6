"""The machinery behind Module.register_full_backward_hook / register_full_backward_pre_hook.

An identity autograd.Function is applied to the module's tensor inputs before forward and to
its tensor outputs after forward. The node of the output identity sees the gradients w.r.t.
the module's outputs (grad_output: backward pre-hooks run there and may replace them); the
node of the input identity produces the gradients w.r.t. the module's inputs (grad_input:
backward hooks run there and their return value replaces them).
"""
from ... import _state
from ..._tensor import Tensor
from ...autograd.function import Function


class BackwardHookFunction(Function):
    """Identity on tensors; inputs that do not require grad stay non-differentiable."""

    @staticmethod
    def forward(ctx, *args):
        # Return fresh aliases (detach shares memory and version counter): marking an input
        # that is returned as-is non-differentiable is not honoured by the core (see report).
        outs = tuple(a.detach() for a in args)
        ctx.mark_non_differentiable(*[o for o, a in zip(outs, args) if not a._rg])
        return outs

    @staticmethod
    def backward(ctx, *grads):
        return tuple(g if need else None for g, need in zip(grads, ctx.needs_input_grad))


def _tensor_positions(values):
    return [i for i, v in enumerate(values) if isinstance(v, Tensor)]


class BackwardHook:
    """One module call's backward hooks: wraps its inputs and outputs in identity nodes."""

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_outputs = -1
        self.output_tensors_index = None
        self.n_inputs = -1
        self.input_tensors_index = None

    @staticmethod
    def _pack_with_none(indices, values, size):
        res = [None] * size
        for idx, val in zip(indices, values):
            res[idx] = val
        return tuple(res)

    @staticmethod
    def _unpack_none(indices, values):
        return tuple(values[idx] for idx in indices)

    def _apply_identity(self, args):
        """(new args, positions of the wrapped tensors, the identity node) or None."""
        is_tensor = isinstance(args, Tensor)
        values = (args,) if is_tensor else args
        if not isinstance(values, tuple):
            return None
        pos = _tensor_positions(values)
        tensors = [values[i] for i in pos]
        if not (_state.grad_enabled and any(t._rg for t in tensors)):
            return None
        new = BackwardHookFunction.apply(*tensors)
        node = next(t.grad_fn for t in new if t.grad_fn is not None)
        out = list(values)
        for i, t in zip(pos, new):
            out[i] = t
        return (out[0] if is_tensor else tuple(out)), pos, node

    def setup_input_hook(self, args):
        self.n_inputs = len(args)
        wrapped = self._apply_identity(args)
        if wrapped is None:
            return args
        args, pos, node = wrapped
        self.input_tensors_index = pos
        requires = [args[i]._rg for i in pos]

        def hook(grad_inputs, _grad_outputs):
            if self.grad_outputs is None:
                return None  # the gradient reached the inputs without passing through the outputs
            grads = [g if rq else None for g, rq in zip(grad_inputs, requires)]
            res = self._pack_with_none(pos, grads, self.n_inputs)
            for user_hook in self.user_hooks:
                out = user_hook(self.module, res, self.grad_outputs)
                if out is None:
                    continue
                if not isinstance(out, (tuple, list)) or len(out) != len(res):
                    n = len(out) if isinstance(out, (tuple, list)) else type(out).__name__
                    raise RuntimeError("Backward hook returned an invalid number of grad_input, "
                                       f"got {n}, but expected {len(res)}")
                res = tuple(out)
            self.grad_outputs = None
            return self._unpack_none(pos, res)

        node.register_hook(hook)
        return args

    def setup_output_hook(self, result):
        wrapped = self._apply_identity(result)
        if wrapped is None:
            return result
        result, pos, node = wrapped
        self.output_tensors_index = pos
        self.n_outputs = 1 if isinstance(result, Tensor) else len(result)

        def prehook(grad_outputs):
            self.grad_outputs = self._pack_with_none(pos, grad_outputs, self.n_outputs)
            for pre in self.user_pre_hooks:
                new = pre(self.module, self.grad_outputs)
                if new is None:
                    continue
                if isinstance(new, Tensor):
                    new = (new,)
                if len(new) != len(self.grad_outputs):
                    raise RuntimeError("Backward pre hook returned an invalid number of grad_output, "
                                       f"got {len(new)}, but expected {len(self.grad_outputs)}")
                self.grad_outputs = tuple(new)
            local = self.grad_outputs
            if self.input_tensors_index is None:
                # No input requires grad: the backward hooks fire here with grad_input all None.
                grad_inputs = (None,) * self.n_inputs
                for user_hook in self.user_hooks:
                    res = user_hook(self.module, grad_inputs, self.grad_outputs)
                    if res is not None and not (isinstance(res, tuple) and all(r is None for r in res)):
                        raise RuntimeError("Backward hook for Modules where no input requires gradient "
                                           "should always return None or None for all gradients.")
                self.grad_outputs = None
            return self._unpack_none(pos, local)

        node.register_prehook(prehook)
        return result
