"""tensorlite.nn: modules, parameters, functional ops and initialisers (PyTorch's torch.nn).

>>> import tensorlite as tl
>>> model = tl.nn.Sequential(tl.nn.Linear(4, 8), tl.nn.ReLU(), tl.nn.Linear(8, 1))
>>> model(tl.randn(2, 4)).shape
tensorlite.Size([2, 1])
"""
from .parameter import Buffer, Parameter
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from . import functional, init, modules, utils  # noqa: F401

__all__ = ["Parameter", "Buffer", "functional", "init", "utils", *_modules_all]
