"""Activation modules: ReLU, GELU, Tanh, Sigmoid, SiLU, Softmax, LogSoftmax, LeakyReLU.

>>> import tensorlite as tl
>>> tl.nn.ReLU()(tl.tensor([-1.0, 3.0]))
tensor([0., 3.])
"""
from .. import functional as F
from .module import Module

__all__ = ["ReLU", "GELU", "Tanh", "Sigmoid", "SiLU", "Softmax", "LogSoftmax", "LeakyReLU"]


class ReLU(Module):
    """max(x, 0) elementwise.

    >>> import tensorlite as tl
    >>> tl.nn.ReLU()
    ReLU()
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """x * Phi(x); approximate='tanh' uses the tanh formula.

    >>> import tensorlite as tl
    >>> tl.nn.GELU(approximate="tanh")
    GELU(approximate='tanh')
    """

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate argument must be either none or tanh, got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Tanh(Module):
    """tanh(x) elementwise.

    >>> import tensorlite as tl
    >>> tl.nn.Tanh()(tl.zeros(2))
    tensor([0., 0.])
    """

    def forward(self, input):
        return input.tanh()


class Sigmoid(Module):
    """1 / (1 + exp(-x)) elementwise.

    >>> import tensorlite as tl
    >>> tl.nn.Sigmoid()(tl.zeros(1))
    tensor([0.5000])
    """

    def forward(self, input):
        return input.sigmoid()


class SiLU(Module):
    """x * sigmoid(x)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input)


class Softmax(Module):
    """Softmax along dim.

    >>> import tensorlite as tl
    >>> tl.nn.Softmax(dim=0)(tl.zeros(2))
    tensor([0.5000, 0.5000])
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along dim, computed stably."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
