"""Linear and Identity.

>>> import tensorlite as tl
>>> lin = tl.nn.Linear(4, 2)
>>> lin(tl.ones(3, 4)).shape
tensorlite.Size([3, 2])
"""
import math

from ... import _creation
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Linear", "Identity"]


class Identity(Module):
    """Returns its input unchanged (accepts and ignores constructor arguments).

    >>> import tensorlite as tl
    >>> tl.nn.Identity(54, unused="x")(tl.ones(2)).shape
    tensorlite.Size([2])
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x @ weight.T + bias, with weight of shape (out_features, in_features).

    weight and bias start uniform in (-1/sqrt(in_features), 1/sqrt(in_features)), as in PyTorch.

    >>> import tensorlite as tl
    >>> tl.nn.Linear(3, 5, bias=False)
    Linear(in_features=3, out_features=5, bias=False)
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(_creation.empty(out_features, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(_creation.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # kaiming_uniform_ with a=sqrt(5) gives the bound 1/sqrt(fan_in)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
