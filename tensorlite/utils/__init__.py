"""tensorlite.utils: hook handles and activation checkpointing (PyTorch's torch.utils).

`tl.utils.checkpoint` is imported on first use: tensorlite's core imports `utils.hooks` while
autograd, which checkpoint needs, is not loaded yet.

>>> import tensorlite as tl
>>> tl.utils.checkpoint.checkpoint(tl.sin, tl.zeros(2), use_reentrant=False)
tensor([0., 0.])
"""
from . import hooks  # noqa: F401


def __getattr__(name):
    if name == "checkpoint":
        import importlib
        return importlib.import_module(f"{__name__}.checkpoint")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
