"""LayerNorm.

>>> import tensorlite as tl
>>> ln = tl.nn.LayerNorm(4)
>>> ln(tl.arange(8.0).reshape(2, 4)).shape
tensorlite.Size([2, 4])
"""
from ... import _creation
from .. import functional as F
from ..parameter import Parameter
from .module import Module

__all__ = ["LayerNorm"]


class LayerNorm(Module):
    """Normalize over the trailing normalized_shape dims, then apply weight and bias (if elementwise_affine).

    >>> import tensorlite as tl
    >>> tl.nn.LayerNorm((2, 3), eps=1e-6)
    LayerNorm((2, 3), eps=1e-06, elementwise_affine=True)
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(_creation.ones(*self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(_creation.zeros(*self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self):
        from .. import init
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
