"""In-place ops: the leaf/view checks, writing a result into a tensor, and the history it takes.

An in-place op is computed out of place, checked (shape, dtype), written into the tensor's
array, and the tensor adopts the result's autograd history. On a view, the base adopts a
view_scatter ("CopySlices") node that writes the new view value into the old base value.
"""
import numpy as np

from . import _prims as P
from . import _state
from . import _tensor as _T  # partially imported here; its names are read at call time
from ._dtype import promote, scalar_type_name
from ._node import SavedTensor
from ._primitive import bind


def view_rebase_error(creation_meta):
    """PyTorch's error for an in-place change of a view made in no_grad or inference mode."""
    mode, tracked = (("inference mode", "in normal mode") if creation_meta == "inference"
                     else ("no_grad mode", "with grad mode enabled"))
    msg = f"A view was created in {mode} and is being modified inplace {tracked}."
    if creation_meta == "no_grad":
        msg += (" Given that this use case is ambiguous and error-prone, it is forbidden. You can "
                "clarify your code by moving both the view and the inplace either both inside the "
                "no_grad block (if you don't want the inplace to be tracked) or both outside (if "
                "you want the inplace to be tracked).")
    return RuntimeError(msg)


class InplaceMixin:
    def _check_inplace(self, other=None):
        if self._creation_meta is not None and _state.grad_enabled and (
                self._base._rg or isinstance(other, _T.Tensor) and other._rg):
            raise view_rebase_error(self._creation_meta)
        if _state.grad_enabled and self._rg:
            if self.grad_fn is None:
                raise RuntimeError(
                    "a leaf Variable that requires grad is being used in an in-place operation.")
            base = self._base
            if base is not None and base.grad_fn is None and base._rg:
                raise RuntimeError(
                    "a view of a leaf Variable that requires grad is being used in an in-place operation.")
        if not self._data.flags.writeable or any(p.name == "expand" for p, _, _ in self._view_chain):
            # (the second test catches expanded fake tensors, whose zero-strided arrays are writable)
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers to a single "
                "memory location. Please clone() the tensor before performing the operation.")
        if self._base is not None and _made_by_view_op(self.grad_fn):
            # the op reads the view through a node regenerated from the base, not through the
            # view op's node: PyTorch's CopySlices calls the op's backward itself, so the old
            # view node (and hooks registered on it) is not on the new value's path
            self._view_version = -1

    def _commit_inplace(self, res):
        """Write res (computed out of place from self) into self, and give self res's history."""
        if res._data.shape != self._data.shape:
            raise RuntimeError(
                f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                f"{list(res._data.shape)}")
        if res._data.dtype != self._data.dtype:
            want = promote(res._data.dtype, self._data.dtype)
            if want != self._data.dtype and res._data.dtype.kind != self._data.dtype.kind:
                raise RuntimeError(
                    f"result type {scalar_type_name(res.dtype)} can't be cast to the desired output type "
                    f"{scalar_type_name(self.dtype)}")
        fn = res.grad_fn
        if fn is not None and fn._saved:
            _snapshot_saved_self(self, fn)
        if res._data.dtype != self._data.dtype:
            # self keeps its dtype: an explicit cast, so that tracers (and autograd) see it too
            res = res.to(self.dtype)
        self._data[...] = res._data
        self._bump_version()
        self._hook_box = None  # a compiled graph's hook slot holds the old version's gradient
        mode = _state.mode
        if mode is not None and hasattr(mode, "on_inplace"):
            mode.on_inplace(self, res)
        if res._rg and _state.grad_enabled:
            base = self._base
            if base is not None:
                base_res = bind(P.view_scatter, (base, res), {"chain": self._view_chain})
                _adopt(base, base_res)
                if mode is not None and hasattr(mode, "rebind"):
                    mode.rebind(base, base_res)  # a tracer: base now holds base_res's value
            _adopt(self, res)
            if base is not None:
                # as in PyTorch, the view's gradient flows through the base's new history (so
                # hooks on the base see it): regenerated from the base when next used, or now
                # if it retains grad (its .grad is that of the regenerated node)
                self._view_version = -1
                if self._retains_grad:
                    self._refresh_view_history()

    def _inplace_binary(self, prim, other):
        self._check_inplace(other)
        res = _T._binary(prim, self, other)
        if res is NotImplemented:
            raise TypeError(f"unsupported operand type for in-place {prim.name}: {type(other).__name__}")
        self._commit_inplace(res)
        return self

    def add_(self, other, alpha=1):
        return self._inplace_binary(P.add, other if alpha == 1 else other * alpha)

    def sub_(self, other, alpha=1):
        return self._inplace_binary(P.sub, other if alpha == 1 else other * alpha)

    def mul_(self, other):
        return self._inplace_binary(P.mul, other)

    def div_(self, other):
        return self._inplace_binary(P.div, other)

    def pow_(self, other):
        return self._inplace_binary(P.pow_, other)

    def clamp_(self, min=None, max=None):
        self._check_inplace()
        self._commit_inplace(self.clamp(min, max))
        return self

    def _replace_(self, value):
        """Overwrite every element; under autograd the old value gets a zero gradient."""
        self._check_inplace(value)
        if not isinstance(value, _T.Tensor):
            value = _T.Tensor._wrap(np.asarray(value, dtype=self._data.dtype))
        elif value._data.shape != self._data.shape:
            try:
                np.broadcast_shapes(value._data.shape, self._data.shape)
            except ValueError:
                raise RuntimeError(
                    f"The size of tensor a ({self._data.shape[-1] if self._data.ndim else 1}) must match the size "
                    f"of tensor b ({value._data.shape[-1] if value._data.ndim else 1}) at non-singleton dimension") from None
        if (self._rg or value._rg) and _state.grad_enabled or _state.mode is not None:
            if value._data.dtype != self._data.dtype:
                value = value.to(self.dtype)
            res = bind(P.where, (True, value, self), {})
            if res._data.shape != self._data.shape:
                res = res.expand(self._data.shape)
            self._commit_inplace(res)
        else:
            self._data[...] = value._data
            self._bump_version()
        return self

    def zero_(self):
        return self._replace_(0)

    def fill_(self, value):
        return self._replace_(value.item() if isinstance(value, _T.Tensor) and value._data.ndim == 0 and not value._rg else value)

    def copy_(self, src):
        return self._replace_(src if isinstance(src, _T.Tensor) else _T.Tensor._wrap(np.asarray(src)))

    def masked_fill_(self, mask, value):
        self._check_inplace(value)
        self._commit_inplace(self.masked_fill(mask, value))
        return self

    def uniform_(self, a=0.0, b=1.0):
        from ._creation import _rng
        self._check_inplace()
        self._data[...] = _rng().uniform(a, b, self._data.shape)
        self._bump_version()
        return self

    def normal_(self, mean=0.0, std=1.0):
        from ._creation import _rng
        self._check_inplace()
        self._data[...] = _rng().normal(mean, std, self._data.shape)
        self._bump_version()
        return self


def _made_by_view_op(fn):
    """fn is the node of a view primitive (what replaying the view's chain makes again), not of
    a custom Function returning a view, nor of an in-place op: those nodes must stay."""
    prim = getattr(fn, "prim", None)
    return prim is not None and prim.view


def _snapshot_saved_self(t, fn):
    """fn saved t (the value before an in-place op on t): keep a copy of that value instead."""
    old = None
    for s in fn._saved:
        if isinstance(s, SavedTensor) and s.value is t:
            if old is None:
                data = t._data
                mode = _state.mode
                # a fake (zero-strided) array has no values to preserve: do not allocate
                fake = mode is not None and data.ndim and not any(data.strides)
                old = _T.Tensor._wrap(data if fake else data.copy())
                old.grad_fn, old._out_nr, old._rg, old._acc = t.grad_fn, t._out_nr, t._rg, t._acc
                old._vc = [0]
                if mode is not None and hasattr(mode, "alias"):
                    mode.alias(old, t)  # a tracer: the copy is the value t had before the op
            s.value = old
            s.vc = old._vc
            s.version = 0


def _adopt(t, res):
    """t now holds res's value: take res's autograd history."""
    fn = res.grad_fn
    t._set_history(fn, res._out_nr)
    t._rg = True
    if fn is not None and fn._saved:
        for s in fn._saved:  # an output saved by fn now lives on in t
            if isinstance(s, SavedTensor) and s.out_nr == res._out_nr and s.data is not None:
                s.data = t._data
                s.vc = t._vc
                s.version = t._vc[0]
