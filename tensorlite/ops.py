"""tl.ops: the primitive table (tl.ops.sin is the primitive behind Tensor.sin).

>>> import tensorlite as tl
>>> tl.ops.sin.node_name
'SinBackward0'
"""
from ._primitive import PRIMITIVES, Primitive, bind  # noqa: F401
from . import _prims  # noqa: F401  (registers every primitive)


def __getattr__(name):
    try:
        return PRIMITIVES[name]
    except KeyError:
        raise AttributeError(f"tensorlite has no primitive named {name!r}") from None
