"""Dispatch modes: objects that intercept every primitive call (make_fx tracing, fake tensors).

The mode protocol
-----------------
`tensorlite._state.mode` holds the active mode (or None). Every tensorlite op ends in
`_primitive.bind(prim, args, params)`, which calls `mode.process(prim, args, params)` when a
mode is active and runs the primitive eagerly otherwise. A mode may also define

* `on_inplace(tensor, result)`: called by an in-place op (`add_`, `x[i] = v`, `zero_`, ...)
  after `result` (computed out of place) was written into `tensor`; a tracer rebinds
  `tensor` to the node of `result` (functionalization).
* `apply_function(cls, args, kwargs)`: called by `tl.autograd.Function.apply`; without it the
  Function's forward and backward run as ordinary tensorlite code (so they are traced through).

`DispatchMode` implements the plumbing: it is a context manager that installs itself and
restores the previous mode on exit (modes nest), and while its `dispatch` (the method
subclasses override) runs, `_state.mode` is the *previous* mode, so that tensorlite calls made
inside `dispatch` go to the enclosing mode (or run eagerly) instead of recursing.
`self.redispatch(prim, args, params)` runs a primitive "one level down".

`FakeTensorMode` computes only metadata: every primitive's output is a fake tensor (a real
`tl.Tensor` whose `_data` is a zero-strided array: a shape and a dtype, no memory), built from
the primitive's shape rule, with autograd recording exactly as in eager.

>>> import tensorlite as tl
>>> from tensorlite._modes import FakeTensorMode, is_fake
>>> with FakeTensorMode() as mode:
...     x = mode.from_real(tl.ones(4096, 4096, requires_grad=False))
...     y = (x @ x).sum(0, keepdim=True)
>>> is_fake(y), tuple(y.shape), y.dtype
(True, (1, 4096), tensorlite.float32)
"""
import numpy as np

from . import _state
from ._primitive import eager, mark_views, record
from ._tensor import Tensor

__all__ = ["DispatchMode", "FakeTensorMode", "FakeTensor", "DataDependentError", "is_fake",
           "fake_tensor"]


class DataDependentError(RuntimeError):
    """An operation needs the values of a fake tensor (item(), bool(), a boolean mask...)."""


class DispatchMode:
    """Base class of dispatch modes (see the module docstring for the protocol).

    Subclasses override `dispatch(prim, args, params)` and optionally `inplace(t, res)`.

    >>> import tensorlite as tl
    >>> class Count(DispatchMode):
    ...     n = 0
    ...     def dispatch(self, prim, args, params):
    ...         self.n += 1
    ...         return self.redispatch(prim, args, params)
    >>> with Count() as c:
    ...     _ = tl.ones(2).sin() + 1
    >>> c.n
    3
    """

    def __enter__(self):
        stack = self.__dict__.setdefault("_prev_modes", [])
        stack.append(_state.mode)
        _state.mode = self
        return self

    def __exit__(self, *exc):
        _state.mode = self._prev_modes.pop()
        return False

    @property
    def previous(self):
        """The mode that was active when this one was entered."""
        stack = self.__dict__.get("_prev_modes")
        return stack[-1] if stack else None

    # -- what bind() and the in-place path call ----------------------------------------------
    def process(self, prim, args, params):
        saved = _state.mode
        _state.mode = self.previous
        try:
            return self.dispatch(prim, args, params)
        finally:
            _state.mode = saved

    def on_inplace(self, tensor, result):
        saved = _state.mode
        prev = self.previous
        _state.mode = prev
        try:
            self.inplace(tensor, result)
            if prev is not None and hasattr(prev, "on_inplace"):
                prev.on_inplace(tensor, result)
        finally:
            _state.mode = saved

    # -- what subclasses override ------------------------------------------------------------
    def dispatch(self, prim, args, params):
        return self.redispatch(prim, args, params)

    def inplace(self, tensor, result):
        pass

    @staticmethod
    def redispatch(prim, args, params):
        """Run prim under the mode below this one (eagerly if there is none)."""
        mode = _state.mode
        if mode is not None:
            return mode.process(prim, args, params)
        return eager(prim, args, params)


# ------------------------------------------------------------------------------ fake tensors
_SENTINELS = {}


def _sentinel(dtype):
    s = _SENTINELS.get(dtype)
    if s is None:
        s = _SENTINELS[dtype] = np.zeros((), dtype)
    return s


_FAKE_ARRAYS = {}  # (shape, dtype) as given -> a fake array to take views of


def fake_array(shape, dtype):
    """A writeable array of the given shape and dtype that owns no memory (all strides 0)."""
    try:
        a = _FAKE_ARRAYS.get((shape, dtype))
    except TypeError:  # an unhashable shape (a list)
        a = None
    if a is None:
        key = (shape, dtype)
        dtype = np.dtype(dtype)
        shape = tuple(map(int, shape))
        # the same array as np.lib.stride_tricks.as_strided(sentinel, shape, zeros), built directly
        a = np.ndarray(shape, dtype, buffer=_sentinel(dtype), strides=(0,) * len(shape))
        if type(key[0]) is tuple and len(_FAKE_ARRAYS) < 4096:
            _FAKE_ARRAYS[key] = a
    # a new array object per call, so a caller that reshapes it or sets its flags leaves the
    # cached one alone; a view is as good as a fresh array, both point at the one sentinel
    return a.view()


def _is_fake_array(a):
    s = _SENTINELS.get(a.dtype)
    return s is not None and not any(a.strides) and \
        a.__array_interface__["data"][0] == s.__array_interface__["data"][0]


def is_fake(t):
    """Whether t is a fake tensor (made by FakeTensorMode): no values, only shape and dtype."""
    if isinstance(t, FakeTensor):
        return True
    return isinstance(t, Tensor) and _is_fake_array(t._data)


def _data_dependent(what):
    raise DataDependentError(
        f"{what} on a fake tensor: this operation depends on the tensor's values, which "
        "FakeTensorMode does not compute (data-dependent operation)")


class FakeTensor(Tensor):
    """A tl.Tensor with a shape and a dtype but no values (see FakeTensorMode)."""

    def item(self):
        _data_dependent("item()")

    def tolist(self):
        _data_dependent("tolist()")

    def numpy(self, *, force=False):
        _data_dependent("numpy()")

    def __bool__(self):
        _data_dependent("bool()")

    def __float__(self):
        _data_dependent("float()")

    def __int__(self):
        _data_dependent("int()")

    def __index__(self):
        _data_dependent("__index__()")

    def __array__(self, dtype=None, copy=None):
        _data_dependent("conversion to a numpy array")

    def all(self, dim=None, keepdim=False):
        _data_dependent("all()")

    def any(self, dim=None, keepdim=False):
        _data_dependent("any()")

    def __repr__(self):
        rg = ", requires_grad=True" if self._rg else ""
        return f"FakeTensor(size={list(self._data.shape)}, dtype={self.dtype}{rg})"

    def __reduce_ex__(self, proto):
        return (fake_tensor, (self._data.shape, self._data.dtype, self._rg))

    def __deepcopy__(self, memo):
        return fake_tensor(self._data.shape, self._data.dtype, self._rg)


def fake_tensor(shape, dtype=np.float32, requires_grad=False):
    """A new fake leaf tensor.

    >>> import tensorlite as tl
    >>> fake_tensor((2, 3), tl.float32)
    FakeTensor(size=[2, 3], dtype=tensorlite.float32)
    """
    npd = dtype.np if hasattr(dtype, "np") else np.dtype(dtype)
    t = FakeTensor._wrap(fake_array(shape, npd))
    if requires_grad:
        t.requires_grad = True
    return t


class FakeTensorMode(DispatchMode):
    """Run primitives on metadata only: outputs are fake tensors, autograd is recorded.

    >>> import tensorlite as tl
    >>> with FakeTensorMode() as m:
    ...     x = m.from_real(tl.ones(3, requires_grad=True))
    ...     y = x.sin()
    >>> y, y.grad_fn.name()
    (FakeTensor(size=[3], dtype=tensorlite.float32, requires_grad=True), 'SinBackward0')
    """

    @staticmethod
    def from_real(t):
        """A fake tensor with t's shape, dtype and requires_grad (t itself if already fake)."""
        if isinstance(t, FakeTensor):
            return t
        return fake_tensor(t._data.shape, t._data.dtype, t.requires_grad)

    empty = staticmethod(fake_tensor)

    def dispatch(self, prim, args, params):
        if prim.name in ("index", "index_put"):
            meta_args = _index_meta_args(prim, args)
        else:
            meta_args = args
        m = prim.meta(*meta_args, **params)
        if prim.n_outputs == 1:
            outs = (FakeTensor._wrap(fake_array(*m)),)
        else:
            outs = tuple(FakeTensor._wrap(fake_array(*sd)) for sd in m)
        if prim.view and not (prim.name == "index" and len(args) > 1):
            mark_views(args[0], outs, prim, args[1:], params)
        if _state.grad_enabled:
            for a in args:  # record() does nothing unless an input requires grad
                if isinstance(a, Tensor) and a._rg:
                    record(prim, args, params, outs)
                    break
        return outs[0] if prim.n_outputs == 1 else outs


def _index_meta_args(prim, args):
    """Index tensors for the shape rule: boolean masks are data-dependent, integer indices
    only need their shape (use zeros, always in bounds)."""
    first = 1 if prim.name == "index" else 2
    out = list(args[:first])
    for i in args[first:]:
        d = i._data
        if _is_fake_array(d):
            if d.dtype == np.bool_:
                _data_dependent("boolean mask indexing")
            i = Tensor._wrap(np.broadcast_to(np.zeros((), d.dtype), d.shape))
        out.append(i)
    return out
