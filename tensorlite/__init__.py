"""tensorlite: numpy-backed tensors with PyTorch's names and eager semantics.

>>> import tensorlite as tl
>>> x = tl.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x.sin() * 2).sum()
>>> y.backward()
>>> x.grad.shape
tensorlite.Size([3])
"""
from ._dtype import (bool_ as bool, dtype, float16, float32, float64, int8, int16, int32,  # noqa: F401
                     int64, uint8)
from ._dtype import float16 as half, float32 as float, float64 as double, int64 as long  # noqa: F401
from ._size import Size
from ._tensor import Tensor
from ._device import device  # noqa: F401
from ._creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like,
                        linspace, manual_seed, ones, ones_like, rand, rand_like, randint, randn,
                        randn_like, randperm, seed, tensor, zeros, zeros_like)
from ._functions import *  # noqa: F401,F403
from ._functions import (add, allclose, cat, concat, div, equal, is_tensor, mul, pow, stack, sub,
                         true_divide, where, is_floating_point, is_inference, numel, var_mean,
                         std_mean)
from . import _functions as _F
from ._einsum import einsum  # noqa: F401
from . import autograd
from .autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,
                                 is_inference_mode_enabled, no_grad, set_grad_enabled)
from . import utils
from ._cond import cond  # noqa: F401
from . import ops

for _n in _F._METHOD_FUNCTIONS:
    globals()[_n] = getattr(_F, _n)


def __getattr__(name):
    import importlib

    if name in ("nn", "optim"):
        mod = importlib.import_module(f"tensorlite.{name}")
        globals()[name] = mod
        return mod
    if name == "compile":
        import minidynamo
        return minidynamo.compile
    raise AttributeError(f"module 'tensorlite' has no attribute '{name}'")


def get_default_dtype():
    from . import _dtype
    return _dtype.default_float


__version__ = "0.1.0"
