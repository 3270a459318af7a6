"""Conv1d and Conv2d.

>>> import tensorlite as tl
>>> conv = tl.nn.Conv2d(3, 8, 3, padding=1)
>>> conv(tl.ones(2, 3, 5, 5)).shape
tensorlite.Size([2, 8, 5, 5])
"""
import math

from ... import _creation
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Conv1d", "Conv2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


class _ConvNd(Module):
    """What Conv1d and Conv2d share: PyTorch's checks, parameters, initialisation and repr."""

    _nd = 0

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        n = self._nd
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in _ntuple(stride, n)):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {set(_PADDING_MODES)}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _ntuple(kernel_size, n)
        self.stride = _ntuple(stride, n)
        self.padding = padding if isinstance(padding, str) else _ntuple(padding, n)
        self.dilation = _ntuple(dilation, n)
        self.transposed = False
        self.output_padding = (0,) * n
        self.groups = groups
        self.padding_mode = padding_mode
        self._reversed_padding_repeated_twice = self._reversed_padding()
        self.weight = Parameter(_creation.empty(out_channels, in_channels // groups, *self.kernel_size,
                                                dtype=dtype))
        if bias:
            self.bias = Parameter(_creation.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _reversed_padding(self):
        """F.pad's argument (last dim first, (left, right) each) for a padding_mode other than
        zeros; "same" puts the odd one out on the right."""
        if self.padding == "valid":
            return [0, 0] * self._nd
        out = []
        for k, d, p in reversed(list(zip(self.kernel_size, self.dilation, _ntuple(self.padding, self._nd)))):
            if self.padding == "same":
                total = d * (k - 1)
                out += [total // 2, total - total // 2]
            else:
                out += [p, p]
        return out if self.padding == "same" else tuple(out)

    def reset_parameters(self):
        # kaiming_uniform_ with a=sqrt(5) gives the bound 1/sqrt(fan_in), as in PyTorch
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _conv_forward(self, input, weight, bias):
        conv = F.conv1d if self._nd == 1 else F.conv2d
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(padded, weight, bias, self.stride, 0, self.dilation, self.groups)
        return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-d convolution over (N, C, L) inputs: weight (out_channels, in_channels/groups, k).

    >>> import tensorlite as tl
    >>> tl.nn.Conv1d(4, 6, 3, padding="same", bias=False)
    Conv1d(4, 6, kernel_size=(3,), stride=(1,), padding=same, bias=False)
    """

    _nd = 1


class Conv2d(_ConvNd):
    """2-d convolution over (N, C, H, W) inputs: weight (out_channels, in_channels/groups, kH, kW).

    >>> import tensorlite as tl
    >>> tl.nn.Conv2d(3, 16, 3, stride=2, padding=1)
    Conv2d(3, 16, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))
    """

    _nd = 2
