"""The functional API (tl.sin, tl.cat, tl.where, ...). Each function routes objects that
override `__tl_function__` (such as fxlite's Proxy) to them, and otherwise runs the op."""
import functools

import numpy as np

from . import _prims as P
from ._dtype import scalar_type_name
from ._primitive import bind
from ._tensor import Tensor, _binary, _dim


def _find_override(args, kwargs):
    for a in args:
        if hasattr(type(a), "__tl_function__"):
            return type(a)
        if isinstance(a, (list, tuple)):
            for b in a:
                if hasattr(type(b), "__tl_function__"):
                    return type(b)
    for a in kwargs.values():
        if hasattr(type(a), "__tl_function__"):
            return type(a)
    return None


def overridable(fn):
    """Let tracing objects (fxlite Proxy) intercept a public function."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if args and args[0].__class__ is Tensor:
            return fn(*args, **kwargs)
        cls = _find_override(args, kwargs)
        if cls is not None:
            return cls.__tl_function__(wrapper, (cls,), args, kwargs)
        return fn(*args, **kwargs)

    wrapper.__module__ = "tensorlite"
    wrapper.__qualname__ = fn.__name__
    return wrapper


def _t(x):
    return x if isinstance(x, Tensor) else Tensor._wrap(np.asarray(x))


def _method(name):
    meth = getattr(Tensor, name)

    def fn(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            input = _t(input)
        return meth(input, *args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"tl.{name}(input, ...): the same as Tensor.{name}."
    return overridable(fn)


_METHOD_FUNCTIONS = """abs exp log sin cos tanh sigmoid relu sqrt rsqrt sign floor ceil round erf square
neg clamp clip sum mean var std amax amin argmax argmin max min softmax log_softmax matmul mm bmm
reshape flatten transpose permute t unsqueeze squeeze expand_as broadcast_to chunk split unbind
masked_fill clone detach numel dot norm logical_not eq ne lt le gt ge maximum minimum square
repeat prod all any narrow tril triu cumsum gather scatter scatter_add index_select index_add sort argsort
topk multinomial""".split()

for _name in _METHOD_FUNCTIONS:
    globals()[_name] = _method(_name)


@overridable
def add(input, other, *, alpha=1):
    if not isinstance(input, Tensor):
        return _t(input).add(other, alpha=alpha)
    return input.add(other, alpha=alpha)


@overridable
def sub(input, other, *, alpha=1):
    if not isinstance(input, Tensor):
        return _t(input).sub(other, alpha=alpha)
    return input.sub(other, alpha=alpha)


@overridable
def mul(input, other):
    if not isinstance(input, Tensor):
        return _t(input) * other
    return _binary(P.mul, input, other)


@overridable
def div(input, other):
    if not isinstance(input, Tensor):
        return _t(input) / other
    return _binary(P.div, input, other)


true_divide = div


@overridable
def pow(input, exponent):
    if not isinstance(input, Tensor):
        return _rbinary_pow(input, exponent)
    return _binary(P.pow_, input, exponent)


def _rbinary_pow(base, exponent):
    return bind(P.pow_, (base, exponent), {})


@overridable
def where(condition, input=None, other=None):
    if input is None and other is None:
        return tuple(Tensor._wrap(a.astype(np.int64)) for a in np.nonzero(condition._data))
    if not isinstance(condition, Tensor):
        condition = _t(condition)
    if condition._data.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {scalar_type_name(condition.dtype)}")
    return bind(P.where, (condition, input, other), {})


@overridable
def cat(tensors, dim=0):
    tensors = [_t(t) for t in tensors]
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    nd = tensors[0]._data.ndim
    if nd == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _dim(dim, nd)
    for i, t in enumerate(tensors):
        if t._data.ndim != nd:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {nd} and {t._data.ndim}")
    return bind(P.cat, tuple(tensors), {"dim": d})


concat = cat


@overridable
def stack(tensors, dim=0):
    tensors = [_t(t) for t in tensors]
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and "
                f"{list(t._data.shape)} at entry {i}")
    d = _dim(dim, len(shape) + 1)
    return bind(P.cat, tuple(t.unsqueeze(d) for t in tensors), {"dim": d})


@overridable
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(input.var(...), input.mean(...)) with var's arguments, as torch.var_mean."""
    if isinstance(dim, bool):  # var_mean(input, unbiased)
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased in (None, True) else 0
    dims = P._norm_dims(dim, input._data.ndim)
    return bind(P.var_mean, (input,), {"dims": dims, "correction": correction, "keepdim": keepdim})


@overridable
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(input.std(...), input.mean(...)) with std's arguments, as torch.std_mean."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return (input.std(dim, unbiased, keepdim, correction=correction),
            input.mean(dim, keepdim))


@overridable
def expand(input, *shape):
    return input.expand(*shape)


@overridable
def view(input, *shape):
    return input.view(*shape)


@overridable
def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(t):
    return t.is_floating_point()


def numel(t):
    return t.numel()


def is_inference(t):
    """Whether t is an inference tensor (torch.is_inference; the same as t.is_inference())."""
    return t.is_inference()


def allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    return bool(np.allclose(_t(a)._data, _t(b)._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(a, b):
    return a.shape == b.shape and bool((a._data == b._data).all())


def _values_indices(kind, values, indices):
    return _MinMax(values, indices, kind)


class _MinMax(tuple):
    """(values, indices) returned by max(dim)/min(dim), as torch.return_types.max."""

    def __new__(cls, values, indices, kind="max"):
        self = tuple.__new__(cls, (values, indices))
        self._kind = kind
        return self

    def __reduce__(self):
        return (_MinMax, (self[0], self[1], self._kind))

    def __repr__(self):
        return f"tensorlite.return_types.{self._kind}(\nvalues={self[0]!r},\nindices={self[1]!r})"

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]

