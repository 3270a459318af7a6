"""Flatten parameters into one vector and back.

>>> import tensorlite as tl
>>> lin = tl.nn.Linear(2, 3)
>>> tl.nn.utils.parameters_to_vector(lin.parameters()).shape
tensorlite.Size([9])
"""
from ...autograd.grad_mode import no_grad

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters):
    from ... import cat
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    offset = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p.copy_(vec[offset:offset + n].reshape(*p.shape))
            offset += n
