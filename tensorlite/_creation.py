"""Creation functions: tl.tensor, zeros, ones, arange, randn, ...

>>> import tensorlite as tl
>>> tl.zeros(2, 3).shape
tensorlite.Size([2, 3])
"""
import numpy as np

from . import _prims as P
from . import _prims_random as R
from . import _primitive, _state
from ._device import check_device
from ._dtype import as_dtype, default_float, default_int
from ._primitive import bind
from ._tensor import Tensor, _as_array, _shape_arg

_generator = [np.random.default_rng(0)]


def _rng():
    return _generator[0]


def manual_seed(seed):
    """Seed tensorlite's random number generator (rand, randn, dropout, init)."""
    _generator[0] = np.random.default_rng(int(seed))
    return _generator[0]


def seed():
    return manual_seed(np.random.SeedSequence().entropy % (2 ** 63))


def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new leaf tensor holding a copy of data (a number, nested list, numpy array or Tensor)."""
    check_device(device)
    return _finish(Tensor._wrap(_as_array(data, dtype)), requires_grad)


def as_tensor(data, dtype=None, device=None):
    check_device(device)
    if isinstance(data, Tensor) and (dtype is None or as_dtype(dtype).np == data._data.dtype):
        return data
    return tensor(data, dtype)


def from_numpy(arr):
    """A tensor sharing memory with a numpy array."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    return Tensor._wrap(arr)


def _dt(dtype, default=None):
    return as_dtype(dtype) if dtype is not None else (default or default_float)


def _finish(t, requires_grad):
    if _primitive.inference_depth and _state._local.inference:
        t._inference = True  # made inside tl.inference_mode(): an inference tensor
    if requires_grad:
        t.requires_grad = True
    return t


def full(size, fill_value, *, dtype=None, requires_grad=False, device=None):
    check_device(device)
    if dtype is None:
        dtype = default_int if isinstance(fill_value, int) and not isinstance(fill_value, bool) else (
            as_dtype(bool) if isinstance(fill_value, bool) else default_float)
    shape = _shape_arg((size,) if isinstance(size, int) else tuple(size))
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}")
    if _state.mode is not None:
        return _finish(bind(P.full, (), {"shape": shape, "value": fill_value, "dtype": as_dtype(dtype)}), requires_grad)
    return _finish(Tensor._wrap(np.full(shape, fill_value, as_dtype(dtype).np)), requires_grad)


def zeros(*size, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return full(_shape_arg(size), 0, dtype=_dt(dtype), requires_grad=requires_grad)


def ones(*size, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return full(_shape_arg(size), 1, dtype=_dt(dtype), requires_grad=requires_grad)


def empty(*size, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def zeros_like(t, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return full(t.shape, 0, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return full(t.shape, 1, dtype=dtype or t.dtype, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return full(t.shape, fill_value, dtype=dtype or t.dtype, requires_grad=requires_grad)


def empty_like(t, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return zeros_like(t, dtype, requires_grad)


def arange(start, end=None, step=1, *, dtype=None, requires_grad=False, device=None):
    check_device(device)
    if end is None:
        start, end = 0, start
    is_int = all(isinstance(v, int) for v in (start, end, step))
    d = _dt(dtype, default_int if is_int else default_float)
    return _finish(Tensor._wrap(np.arange(start, end, step).astype(d.np)), requires_grad)


def linspace(start, end, steps, *, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return _finish(Tensor._wrap(np.linspace(start, end, steps).astype(_dt(dtype).np)), requires_grad)


def eye(n, m=None, *, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return _finish(Tensor._wrap(np.eye(n, m, dtype=_dt(dtype).np)), requires_grad)


def rand(*size, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return _finish(bind(R.rand, (), {"shape": _shape_arg(size), "dtype": _dt(dtype)}), requires_grad)


def randn(*size, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return _finish(bind(R.randn, (), {"shape": _shape_arg(size), "dtype": _dt(dtype)}), requires_grad)


def randint(low, high=None, size=None, *, dtype=None, device=None):
    """randint(high, size) or randint(low, high, size), as torch.randint."""
    check_device(device)
    if size is None:  # randint(high, size): the second argument is the size
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint() missing 1 required positional arguments: \"size\"")
    return bind(R.randint, (), {"shape": tuple(size), "low": low, "high": high,
                                "dtype": _dt(dtype, default_int)})


def randn_like(t, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return randn(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def rand_like(t, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return rand(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def randperm(n, *, dtype=None, device=None):
    check_device(device)
    return bind(R.randperm, (), {"n": n, "dtype": _dt(dtype, default_int)})
