"""Tensor: a numpy array with autograd history.

>>> import tensorlite as tl
>>> x = tl.tensor([1.0, 2.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
tensor([2., 4.])
"""
import numpy as np

from . import _prims as P
from . import _state
from ._device import CPU as _CPU, check_device, device as _device
from ._dtype import as_dtype, from_np, scalar_type_name
from ._inplace import InplaceMixin
from ._tensor_ops import OpsMixin
from ._node import AccumulateGrad
from . import _primitive
from ._primitive import bind, record, record_binary, record_unary, tensor_of
from ._size import Size
from .utils.hooks import RemovableHandle

_new = object.__new__
_ALL_DIMS = [tuple(range(n)) for n in range(8)]
_NUMBER = (int, float, bool)


def _binary(prim, a, b):
    """Fast path of a broadcasting binary primitive (the hottest code in the package)."""
    cls = b.__class__
    if _state.mode is not None:  # the operands eager accepts, no others (`t * None` raises)
        if cls is Tensor or cls in _NUMBER or isinstance(b, (Tensor, np.number, np.bool_)):
            return bind(prim, (a, b), {})
        return NotImplemented
    if cls is Tensor or isinstance(b, Tensor):
        bd = b._data
        out = prim.impl(a._data, bd)
        rg = a._rg or b._rg
    elif cls in _NUMBER or isinstance(b, (np.number, np.bool_)):
        out = prim.impl(a._data, b)
        rg = a._rg
    else:
        return NotImplemented
    t = tensor_of(out)
    if rg and _state.grad_enabled:
        record_binary(prim, a, b, t)
    return t


def _rbinary(prim, a, b):
    """b (a number) op a (a tensor)."""
    if not isinstance(b, (int, float, bool, np.number, np.bool_)):
        return NotImplemented
    if _state.mode is not None:
        return bind(prim, (b, a), {})
    out = prim.impl(b, a._data)
    t = tensor_of(out)
    if a._rg and _state.grad_enabled:
        record(prim, (b, a), {}, (t,))
    return t


def _unary(prim, a):
    if _state.mode is not None:
        return bind(prim, (a,), {})
    out = prim.impl(a._data)
    t = tensor_of(out)
    if a._rg and _state.grad_enabled:
        record_unary(prim, a, t)
    return t


def _dim(d, ndim):
    n = max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
    return d % n


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _to_index(key):
    """Split a user index into a hashable spec and the tensors it contains."""
    if not isinstance(key, tuple):
        key = (key,)
    spec, tensors = [], []
    for k in key:
        if isinstance(k, Tensor):
            spec.append(P._TENSOR)
            tensors.append(k)
        elif isinstance(k, (list, np.ndarray)):
            spec.append(P._TENSOR)
            arr = np.asarray(k)
            tensors.append(Tensor._wrap(arr if arr.dtype == np.bool_ else arr.astype(np.int64)))
        elif isinstance(k, (bool, np.bool_)):
            spec.append(P._TENSOR)
            tensors.append(Tensor._wrap(np.asarray(bool(k))))
        elif k is None or k is Ellipsis or isinstance(k, (int, slice)):
            spec.append(k)
        elif hasattr(k, "__index__"):
            spec.append(k.__index__())
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                f"are valid indices (got {type(k).__name__})")
    return tuple(spec), tensors


class Tensor(InplaceMixin, OpsMixin):
    """An n-dimensional array with reverse-mode autograd. Create with `tl.tensor(...)`."""

    # Every attribute but _data has a class-level default, so a tensor made by object.__new__
    # and given its _data (tensor_of, _wrap) is complete.
    grad_fn = None
    _rg = False
    _grad = None
    _out_nr = 0
    _vc = None
    _base = None
    _view_chain = ()
    _view_version = 0
    # how a view was made, when not the default: "no_grad" or "inference" (PyTorch's
    # CreationMeta); such a view may not be changed in place while its history is recorded
    _creation_meta = None
    _acc = None
    _hooks = None
    _post_acc_hooks = None
    _retains_grad = False
    _inference = False  # made inside tl.inference_mode()
    # set on an output of a compiled graph that the graph also uses itself: hooks registered on
    # the tensor go to this slot inside the graph, so they see its total gradient
    _hook_box = None
    __array_priority__ = 1000
    __hash__ = object.__hash__

    def __init__(self, data=None, dtype=None, requires_grad=False):
        if data is None:
            data = np.zeros(0, np.float32)
        self._data = _as_array(data, dtype)
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, arr, requires_grad=False):
        t = _new(cls)
        t._data = arr
        if requires_grad:
            t._rg = True
        return t

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_dim(dim, self._data.ndim)]

    @property
    def dtype(self):
        return from_np(self._data.dtype)

    @property
    def device(self):
        return _CPU

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def is_inference(self):
        """Whether this tensor was made inside `tl.inference_mode()` (an inference tensor)."""
        return self._inference

    def is_contiguous(self):
        return self._data.flags.c_contiguous

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def requires_grad(self):
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        value = bool(value)
        if self.grad_fn is not None:
            if not value:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to use "
                    "a computed variable in a subgraph that doesn't require differentiation use "
                    "var_no_grad = var.detach().")
            return
        if value and self._data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._rg = value

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"assigned grad has data of a different size: expected {list(self._data.shape)}, "
                    f"got {list(value._data.shape)}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"assigned grad has data of a different type: expected {self.dtype}, got {value.dtype}")
        self._grad = value

    @grad.deleter
    def grad(self):  # `del x.grad`, the same as `x.grad = None` (as PyTorch)
        self._grad = None

    @property
    def data(self):
        t = Tensor._wrap(self._data)
        t._vc = self._vc
        return t

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    @property
    def _version(self):
        return self._vc[0] if self._vc is not None else 0

    @property
    def retains_grad(self):
        return self._retains_grad

    @property
    def output_nr(self):
        return self._out_nr

    # ------------------------------------------------------------------ autograd
    def _edge(self):
        if self._base is not None and self._vc[0] != self._view_version:
            self._refresh_view_history()
        fn = self.grad_fn
        if fn is not None:
            return (fn, self._out_nr)
        acc = self._acc
        if acc is None:
            acc = self._acc = AccumulateGrad(self)
        return (acc, 0)

    def _refresh_view_history(self):
        """The base was modified in place since this view's history was recorded: replay the
        view ops on the base so that gradients flow through the base's new history (PyTorch
        regenerates a view's grad_fn the same way)."""
        base = self._base
        self._view_version = self._vc[0]
        if not base._rg or not _state.grad_enabled:
            return
        t = base
        for prim, extra, params in self._view_chain:
            t = bind(prim, (t, *extra), params)
        self._set_history(t.grad_fn, t._out_nr)
        self._rg = t._rg

    def _current_grad_fn(self):
        """grad_fn, regenerated first if this view's base changed in place since (as reading
        grad_fn does in PyTorch): hooks and retain_grad then attach to the node in use."""
        if self._base is not None and self._vc[0] != self._view_version:
            self._refresh_view_history()
        return self.grad_fn

    def _set_history(self, fn, output_nr):
        """self's value is now output output_nr of fn (an in-place op, a regenerated view). As
        in PyTorch, hooks registered before stay on the old node (they fire only if it still
        gets a gradient) and retain_grad moves to the new one."""
        if self._retains_grad:
            self.grad_fn._unretain(self._out_nr)
            if fn is not None:
                fn._retain(output_nr, self)
        self.grad_fn = fn
        self._out_nr = output_nr

    def _bump_version(self):
        vc = self._vc
        if vc is None:
            vc = self._vc = [0]
        vc[0] += 1

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into the `.grad` of every leaf (or of `inputs`)."""
        from ._engine import backward

        if inputs is not None and isinstance(inputs, Tensor):
            inputs = (inputs,)
        backward((self,), None if gradient is None else (gradient,), retain_graph, create_graph,
                 inputs=inputs)

    def register_hook(self, hook):
        """hook(grad) -> Tensor or None, run on this tensor's gradient before it is used."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._hook_box is not None:
            return self._hook_box.add(hook)
        fn = self._current_grad_fn()
        if fn is not None:
            return fn._register_tensor_hook(self._out_nr, hook)
        if self._hooks is None:
            self._hooks = {}
        h = RemovableHandle(self._hooks)
        self._hooks[h.id] = hook
        if self._acc is None:
            self._acc = AccumulateGrad(self)
        return h

    def register_post_accumulate_grad_hook(self, hook):
        """hook(tensor) -> None, run after the gradient is accumulated into a leaf's `.grad`."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._post_acc_hooks is None:
            self._post_acc_hooks = {}
        h = RemovableHandle(self._post_acc_hooks)
        self._post_acc_hooks[h.id] = hook
        return h

    def retain_grad(self):
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        fn = self._current_grad_fn()
        if fn is None or self._retains_grad:
            return
        fn._retain(self._out_nr, self)
        self._retains_grad = True

    def detach(self):
        if _state.mode is not None:
            return bind(P.detach, (self,), {})
        t = Tensor._wrap(self._data)
        if self._vc is None:
            self._vc = [0]
        t._vc = self._vc
        return t

    def detach_(self):
        self.grad_fn = None
        self._rg = False
        return self

    # ------------------------------------------------------------------ conversion
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self, *, force=False):
        # PyTorch's rule (tensor_numpy.cpp): refuse only while grad mode is on, since a
        # tensor that requires grad can take part in the graph only then
        if self._rg and not force and _state.grad_enabled:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False):
        """to(dtype), to(device), to(device, dtype), to(other), as torch.Tensor.to; a device
        other than the CPU raises; copy=True always returns a new tensor."""
        check_device(device)
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, (str, _device)):
                check_device(a)
            else:
                dtype = a
        dtype = as_dtype(dtype) if dtype is not None else None
        if dtype is None or dtype.np == self._data.dtype:
            return self.clone() if copy else self
        return bind(P.cast, (self,), {"dtype": dtype})

    def type(self, dtype=None):
        if dtype is None:
            return f"tensorlite.{scalar_type_name(self.dtype)}Tensor"
        return self.to(dtype)

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def half(self):
        return self.to(np.float16)

    def long(self):
        return self.to(np.int64)

    def int(self):
        return self.to(np.int32)

    def bool(self):
        return self.to(np.bool_)

    def clone(self):
        return _unary(P.clone, self)

    def contiguous(self):
        return self if self._data.flags.c_contiguous else self.clone()

    def cpu(self):
        return self

    # ------------------------------------------------------------------ Python protocol
    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()))

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __repr__(self):
        from ._printing import tensor_repr
        return tensor_repr(self)

    def __reduce_ex__(self, proto):
        return (_rebuild, (self._data, self._rg))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the moment.")
        t = type(self).__new__(type(self))
        t.__dict__.update({k: v for k, v in self.__dict__.items()
                           if k not in ("_acc", "_vc", "_base", "_view_chain", "_hooks", "_post_acc_hooks")})
        t._data = self._data.copy()
        if self._grad is not None:
            t._grad = Tensor._wrap(self._grad._data.copy())
        memo[id(self)] = t
        return t

    # ------------------------------------------------------------------ operators
    def __add__(self, o): return _binary(P.add, self, o)
    def __radd__(self, o): return _rbinary(P.add, self, o)
    def __sub__(self, o): return _binary(P.sub, self, o)
    def __rsub__(self, o): return _rbinary(P.sub, self, o)
    def __mul__(self, o): return _binary(P.mul, self, o)
    def __rmul__(self, o): return _rbinary(P.mul, self, o)
    def __truediv__(self, o): return _binary(P.div, self, o)
    def __rtruediv__(self, o): return _rbinary(P.div, self, o)
    def __floordiv__(self, o): return _binary(P.floor_divide, self, o)
    def __rfloordiv__(self, o): return _rbinary(P.floor_divide, self, o)
    def __mod__(self, o): return _binary(P.remainder, self, o)
    def __rmod__(self, o): return _rbinary(P.remainder, self, o)
    def __pow__(self, o): return _binary(P.pow_, self, o)
    def __rpow__(self, o): return _rbinary(P.pow_, self, o)
    def __and__(self, o): return _binary(P.bitwise_and, self, o)
    def __rand__(self, o): return _rbinary(P.bitwise_and, self, o)
    def __or__(self, o): return _binary(P.bitwise_or, self, o)
    def __ror__(self, o): return _rbinary(P.bitwise_or, self, o)
    def __xor__(self, o): return _binary(P.bitwise_xor, self, o)
    def __rxor__(self, o): return _rbinary(P.bitwise_xor, self, o)
    def __eq__(self, o): return _binary(P.eq, self, o)
    def __ne__(self, o): return _binary(P.ne, self, o)
    def __lt__(self, o): return _binary(P.lt, self, o)
    def __le__(self, o): return _binary(P.le, self, o)
    def __gt__(self, o): return _binary(P.gt, self, o)
    def __ge__(self, o): return _binary(P.ge, self, o)
    def __neg__(self): return _unary(P.neg, self)
    def __pos__(self): return self
    def __abs__(self): return _unary(P.abs_, self)

    def __invert__(self):
        return _unary(P.logical_not if self._data.dtype == np.bool_ else P.bitwise_not, self)

    def __matmul__(self, o):
        if not isinstance(o, Tensor):
            return NotImplemented
        return self.matmul(o)

    def __rmatmul__(self, o):
        if not isinstance(o, Tensor):
            return NotImplemented
        return o.matmul(self)

    def __iadd__(self, o): return self.add_(o)
    def __isub__(self, o): return self.sub_(o)
    def __imul__(self, o): return self.mul_(o)
    def __itruediv__(self, o): return self.div_(o)

    def __getitem__(self, key):
        spec, tensors = _to_index(key)
        return bind(P.index, (self, *tensors), {"spec": spec})

    def __setitem__(self, key, value):
        spec, tensors = _to_index(key)
        if isinstance(value, (list, tuple)):
            value = Tensor._wrap(np.asarray(value, self._data.dtype))
        self._check_inplace(value)
        res = bind(P.index_put, (self, value, *tensors), {"spec": spec, "accumulate": False})
        self._commit_inplace(res)

    # ------------------------------------------------------------------ math (methods)
    def add(self, other, alpha=1):
        return _binary(P.add, self, other if alpha == 1 else other * alpha)

    def sub(self, other, alpha=1):
        return _binary(P.sub, self, other if alpha == 1 else other * alpha)

    def mul(self, other): return _binary(P.mul, self, other)
    def div(self, other): return _binary(P.div, self, other)
    def pow(self, other): return _binary(P.pow_, self, other)
    def neg(self): return _unary(P.neg, self)
    def abs(self): return _unary(P.abs_, self)
    def exp(self): return _unary(P.exp, self)
    def log(self): return _unary(P.log, self)
    def sin(self): return _unary(P.sin, self)
    def cos(self): return _unary(P.cos, self)
    def tanh(self): return _unary(P.tanh, self)
    def sigmoid(self): return _unary(P.sigmoid, self)
    def relu(self): return _unary(P.relu, self)
    def sqrt(self): return _unary(P.sqrt, self)
    def rsqrt(self): return _unary(P.rsqrt, self)
    def sign(self): return _unary(P.sign, self)
    def floor(self): return _unary(P.floor, self)
    def ceil(self): return _unary(P.ceil, self)
    def round(self): return _unary(P.round_, self)
    def erf(self): return _unary(P.erf, self)
    def square(self): return _binary(P.mul, self, self)
    def logical_not(self): return _unary(P.logical_not, self)
    def eq(self, o): return _binary(P.eq, self, o)
    def ne(self, o): return _binary(P.ne, self, o)
    def lt(self, o): return _binary(P.lt, self, o)
    def le(self, o): return _binary(P.le, self, o)
    def gt(self, o): return _binary(P.gt, self, o)
    def ge(self, o): return _binary(P.ge, self, o)

    def maximum(self, other): return _binary(P.maximum, self, other)
    def minimum(self, other): return _binary(P.minimum, self, other)

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            out = self
            if min is not None:
                out = out.maximum(min)
            if max is not None:
                out = out.minimum(max)
            return out
        return bind(P.clamp, (self,), {"min": min, "max": max})

    clip = clamp

    def where(self, condition, other):
        from ._functions import where
        return where(condition, self, other)

    def masked_fill(self, mask, value):
        if isinstance(mask, Tensor) and mask._data.dtype != np.bool_:
            raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {mask.dtype.name}")
        return bind(P.where, (mask, value, self), {})

    # reductions
    def sum(self, dim=None, keepdim=False, dtype=None):
        d = self._data
        if dim is None:
            dims = _ALL_DIMS[d.ndim] if d.ndim < 8 else tuple(range(d.ndim))
        elif dim.__class__ is int and -d.ndim <= dim < d.ndim:
            dims = (dim % d.ndim,)
        else:
            dims = P._norm_dims(dim, d.ndim)
        params = {"dims": dims, "keepdim": keepdim, "dtype": None if dtype is None else as_dtype(dtype)}
        if _state.mode is not None:
            return bind(P.sum_, (self,), params)
        out = P.sum_.impl(d, **params)
        t = tensor_of(out)
        if self._rg and _state.grad_enabled:
            record(P.sum_, (self,), params, (t,))
        return t

    def mean(self, dim=None, keepdim=False, dtype=None):
        if self._data.dtype.kind != "f" and dtype is None:
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either a floating point or "
                f"complex dtype. Got: {scalar_type_name(self.dtype)}")
        x = self if dtype is None else self.to(dtype)
        dims = P._norm_dims(dim, x._data.ndim)
        n = 1
        for d in dims:
            n *= x._data.shape[d]
        return x.sum(dims, keepdim) / n if n != 1 else x.sum(dims, keepdim) * 1.0

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        if correction is None:
            correction = 1 if unbiased in (None, True) else 0
        dims = P._norm_dims(dim, self._data.ndim)
        n = 1
        for d in dims:
            n *= self._data.shape[d]
        mu = self.mean(dims, keepdim=True)
        diff = self - mu
        return (diff * diff).sum(dims, keepdim) / max(n - correction, 0)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return self.var(dim, unbiased, keepdim, correction=correction).sqrt()

    def amax(self, dim=None, keepdim=False):
        dims = P._norm_dims(() if dim == () else dim, self._data.ndim) if dim != () else tuple(range(self._data.ndim))
        return bind(P.amax, (self,), {"dims": dims, "keepdim": keepdim})

    def amin(self, dim=None, keepdim=False):
        dims = P._norm_dims(dim, self._data.ndim) if dim != () else tuple(range(self._data.ndim))
        return bind(P.amin, (self,), {"dims": dims, "keepdim": keepdim})

    def argmax(self, dim=None, keepdim=False):
        return bind(P.argmax, (self,), {"dim": None if dim is None else _dim(dim, self._data.ndim), "keepdim": keepdim})

    def argmin(self, dim=None, keepdim=False):
        return bind(P.argmin, (self,), {"dim": None if dim is None else _dim(dim, self._data.ndim), "keepdim": keepdim})

    def max(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        if dim is None:
            return self.amax()
        from ._functions import _values_indices
        return _values_indices("max", self.amax(dim, keepdim), self.argmax(dim, keepdim))

    def min(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        if dim is None:
            return self.amin()
        from ._functions import _values_indices
        return _values_indices("min", self.amin(dim, keepdim), self.argmin(dim, keepdim))

    def softmax(self, dim):
        x = self - self.amax(dim, keepdim=True).detach()
        e = x.exp()
        return e / e.sum(dim, keepdim=True)

    def log_softmax(self, dim):
        x = self - self.amax(dim, keepdim=True).detach()
        return x - x.exp().sum(dim, keepdim=True).log()

    def norm(self, p=2, dim=None, keepdim=False):
        if p == 2:
            return (self * self).sum(dim, keepdim).sqrt()
        if p == 1:
            return self.abs().sum(dim, keepdim)
        return (self.abs() ** p).sum(dim, keepdim) ** (1.0 / p)

    def prod(self, dim=None, keepdim=False, dtype=None):
        """The product of the entries (of dim `dim`); differentiable, also at zeros."""
        nd = self._data.ndim
        dims = tuple(range(nd)) if dim is None else (_dim(dim, nd),) if nd else ()
        params = {"dims": dims, "keepdim": keepdim and dim is not None,
                  "dtype": None if dtype is None else as_dtype(dtype)}
        return bind(P.prod, (self,), params)

    def all(self, dim=None, keepdim=False):
        """True where every entry (along dim) is non-zero: a bool tensor, as torch.all."""
        return self._logical_reduce(np.all, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        """True where some entry (along dim) is non-zero: a bool tensor, as torch.any."""
        return self._logical_reduce(np.any, dim, keepdim)

    def _logical_reduce(self, fn, dim, keepdim):
        d = self._data
        dims = None if dim is None else P._norm_dims(dim, d.ndim)
        if dims == () and dim is not None and d.ndim:
            dims = None  # all(dim=()) reduces over every dim, as PyTorch
        out = fn(d, axis=dims, keepdims=keepdim if dim is not None else False)
        if d.dtype == np.uint8:  # PyTorch keeps uint8 for all/any of a uint8 tensor
            out = np.asarray(out).astype(np.uint8)
        return Tensor._wrap(np.asarray(out))

    # matmul
    def matmul(self, other):
        if _state.mode is None and self._data.ndim and getattr(other, "_data", None) is not None and other._data.ndim:
            out = P.matmul.impl(self._data, other._data)
            t = tensor_of(out)
            if (self._rg or other._rg) and _state.grad_enabled:
                record_binary(P.matmul, self, other, t)
            return t
        return bind(P.matmul, (self, other), {})

    def mm(self, other):
        if self._data.ndim != 2 or other._data.ndim != 2:
            raise RuntimeError(f"self must be a matrix" if self._data.ndim != 2 else "mat2 must be a matrix")
        return self.matmul(other)

    def bmm(self, other):
        if self._data.ndim != 3 or other._data.ndim != 3:
            raise RuntimeError("batch1 must be a 3D tensor" if self._data.ndim != 3 else "batch2 must be a 3D tensor")
        if self._data.shape[0] != other._data.shape[0]:
            raise RuntimeError(
                f"Expected size for first two dimensions of batch2 tensor to be: [{self._data.shape[0]}, "
                f"{self._data.shape[2]}] but got: [{other._data.shape[0]}, {other._data.shape[1]}].")
        return self.matmul(other)

    def dot(self, other):
        return self.matmul(other)

    # shapes
    def reshape(self, *shape):
        shape = P.infer_shape(_shape_arg(shape), self._data.size, self._data.shape)
        return bind(P.reshape, (self,), {"shape": shape})

    def view(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)):
            return self.to(shape[0])
        shape = P.infer_shape(_shape_arg(shape), self._data.size, self._data.shape)
        if not self._data.flags.c_contiguous and self._data.size > 1 and shape != self._data.shape:
            try:
                self._data.view().shape = shape
            except AttributeError:
                raise RuntimeError(
                    "view size is not compatible with input tensor's size and stride (at least one dimension "
                    "spans across two contiguous subspaces). Use .reshape(...) instead.") from None
        return bind(P.reshape, (self,), {"shape": shape})

    def view_as(self, other):
        return self.view(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        nd = self._data.ndim
        if nd == 0:
            return self.reshape(1)
        s, e = _dim(start_dim, nd), _dim(end_dim, nd)
        shp = self._data.shape
        n = 1
        for d in shp[s:e + 1]:
            n *= d
        return self.reshape(shp[:s] + (n,) + shp[e + 1:])

    def permute(self, *dims):
        dims = tuple(_dim(d, self._data.ndim) for d in _shape_arg(dims))
        if sorted(dims) != list(range(self._data.ndim)):
            raise RuntimeError(
                f"permute(sparse_coo): number of dimensions in the tensor input does not match the length "
                f"of the desired ordering of dimensions i.e. input.dim() = {self._data.ndim} is not equal "
                f"to len(dims) = {len(dims)}" if len(dims) != self._data.ndim else "permute(): duplicate dims are not allowed.")
        return bind(P.permute, (self,), {"dims": dims})

    def transpose(self, dim0, dim1):
        nd = self._data.ndim
        if nd == 0:
            return self
        d0, d1 = _dim(dim0, nd), _dim(dim1, nd)
        dims = list(range(nd))
        dims[d0], dims[d1] = dims[d1], dims[d0]
        return bind(P.permute, (self,), {"dims": tuple(dims)})

    swapaxes = transpose

    def t(self):
        if self._data.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self._data.ndim}D")
        return self if self._data.ndim < 2 else self.transpose(0, 1)

    @property
    def T(self):
        return bind(P.permute, (self,), {"dims": tuple(reversed(range(self._data.ndim)))})

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def unsqueeze(self, dim):
        d = _dim(dim, self._data.ndim + 1)
        shp = self._data.shape
        return bind(P.reshape, (self,), {"shape": shp[:d] + (1,) + shp[d:]})

    def squeeze(self, dim=None):
        shp = self._data.shape
        if dim is None:
            new = tuple(s for s in shp if s != 1)
        else:
            dims = {_dim(d, len(shp)) for d in ((dim,) if isinstance(dim, int) else dim)} if shp else set()
            new = tuple(s for i, s in enumerate(shp) if not (i in dims and s == 1))
        return bind(P.reshape, (self,), {"shape": new})

    def expand(self, *shape):
        shape = list(_shape_arg(shape))
        cur = self._data.shape
        if len(shape) < len(cur):
            raise RuntimeError(
                f"expand: the number of sizes provided ({len(shape)}) must be greater or equal to the "
                f"number of dimensions in the tensor ({len(cur)})")
        off = len(shape) - len(cur)
        for i, s in enumerate(shape):
            if s == -1:
                if i < off:
                    raise RuntimeError("expand: -1 is not allowed in a leading, non-existing dimension")
                shape[i] = cur[i - off]
        return bind(P.expand, (self,), {"shape": tuple(shape)})

    def expand_as(self, other):
        return self.expand(other.shape)

    def broadcast_to(self, *shape):
        return self.expand(*shape)

    def repeat(self, *sizes):
        sizes = _shape_arg(sizes)
        x = self.reshape((1,) * (len(sizes) - self._data.ndim) + self._data.shape)
        from ._functions import cat
        for d, r in enumerate(sizes):
            if r != 1:
                x = cat([x] * r, d)
        return x

    def split(self, split_size, dim=0):
        d = _dim(dim, self._data.ndim)
        n = self._data.shape[d]
        if isinstance(split_size, int):
            if split_size <= 0 and n:
                raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
            sizes = [min(split_size, n - i) for i in range(0, n, split_size)] if n else [0]
        else:
            sizes = list(split_size)
            if sum(sizes) != n:
                raise RuntimeError(
                    f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                    f"dimension {d}), but got split_sizes={sizes}")
        out, start = [], 0
        for s in sizes:
            out.append(self[(slice(None),) * d + (slice(start, start + s),)])
            start += s
        return tuple(out)

    def chunk(self, chunks, dim=0):
        if chunks <= 0:
            raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
        n = self._data.shape[_dim(dim, self._data.ndim)]
        size = -(-n // chunks) if n else 0
        return self.split(size, dim) if size else (self,)

    def narrow(self, dim, start, length):
        """The view of `length` entries of dim `dim` from `start` (a slice, as torch.narrow)."""
        nd = self._data.ndim
        if nd == 0:
            raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
        if length < 0:
            raise RuntimeError("narrow(): length must be non-negative.")
        d = _dim(dim, nd)
        size = self._data.shape[d]
        if isinstance(start, Tensor):
            if start._data.ndim != 0 or start._data.dtype.kind not in "iu":
                raise RuntimeError(
                    "start must be an 0-dim integral Tensor.")
            start = int(start.item())
        if not -size <= start <= size:
            raise IndexError(
                f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
        if start < 0:
            start += size
        if start > size - length:
            raise RuntimeError(
                f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
        return self[(slice(None),) * d + (slice(start, start + length),)]

    def new(self, *args, **kwargs):
        """The legacy constructor: x.new() an empty tensor, x.new(2, 3) or x.new(Size) an
        uninitialized one of that size, x.new(data) a tensor of the data; all of x's dtype."""
        dtype = kwargs.pop("dtype", None) or self.dtype
        if kwargs.pop("device", None) not in (None, "cpu") or kwargs:
            raise TypeError(f"new() got an unexpected keyword argument '{next(iter(kwargs), 'device')}'")
        if not args:
            return Tensor._wrap(np.empty((0,), as_dtype(dtype).np))
        if len(args) == 1:
            a = args[0]
            if isinstance(a, Tensor):
                if a._data.dtype != self._data.dtype:
                    raise TypeError(
                        f"expected {self.type()} (got {a.type()})")
                t = Tensor._wrap(a._data)  # shares a's memory, as new(Tensor) in PyTorch
                if a._vc is None:
                    a._vc = [0]
                t._vc = a._vc
                return t
            if isinstance(a, Size) or isinstance(a, (int, np.integer)):
                return Tensor._wrap(np.zeros(_shape_arg(args), as_dtype(dtype).np))
            if isinstance(a, (list, tuple, np.ndarray, float, bool)):
                return Tensor._wrap(_as_array(a, dtype))
        if all(isinstance(a, (int, np.integer)) for a in args):
            return Tensor._wrap(np.zeros(_shape_arg(args), as_dtype(dtype).np))
        raise TypeError("new() received an invalid combination of arguments - got ("
                        + ", ".join(type(a).__name__ for a in args) + ")")

    def unbind(self, dim=0):
        if self._data.ndim == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        return bind(P.unbind, (self,), {"dim": _dim(dim, self._data.ndim)})


_primitive.Tensor = Tensor


def _rebuild(data, requires_grad):
    t = Tensor._wrap(data)
    t._rg = requires_grad
    return t


def _as_array(data, dtype=None):
    npd = None if dtype is None else as_dtype(dtype).np
    if isinstance(data, Tensor):
        arr = data._data.copy()
    elif isinstance(data, np.ndarray):
        arr = data.copy()
    else:
        if isinstance(data, (list, tuple)) and data and any(isinstance(x, Tensor) for x in _flat(data)):
            data = _nested_tolist(data)
        arr = np.array(data)
        if npd is None:
            if arr.dtype == np.float64:
                arr = arr.astype(np.float32)
            elif arr.dtype.kind in "iu":
                arr = arr.astype(np.int64)
            elif arr.dtype.kind not in "bf":
                raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    if npd is not None and arr.dtype != npd:
        arr = arr.astype(npd)
    if arr.dtype not in _SUPPORTED:
        from_np(arr.dtype)
    return arr


_SUPPORTED = {np.dtype(t) for t in (np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64,
                                    np.float16, np.float32, np.float64)}


def _flat(x):
    for v in x:
        if isinstance(v, (list, tuple)):
            yield from _flat(v)
        else:
            yield v


def _nested_tolist(x):
    if isinstance(x, Tensor):
        return x.tolist()
    if isinstance(x, (list, tuple)):
        return [_nested_tolist(v) for v in x]
    return x
