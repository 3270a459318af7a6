"""nn.Parameter: a leaf Tensor that a Module registers as one of its parameters.

>>> import tensorlite as tl
>>> p = tl.nn.Parameter(tl.zeros(2))
>>> p.requires_grad, isinstance(p, tl.Tensor)
(True, True)
"""
from .._tensor import Tensor

__all__ = ["Parameter", "Buffer"]


def _rebuild_parameter(data, requires_grad):
    return Parameter(Tensor._wrap(data), requires_grad)


class Parameter(Tensor):
    """A Tensor that is a module parameter; shares memory with `data` (default: an empty tensor).

    Assigning a Parameter as a Module attribute registers it in `module._parameters`.

    >>> import tensorlite as tl
    >>> lin = tl.nn.Linear(2, 3)
    >>> lin.scale = tl.nn.Parameter(tl.ones(3))
    >>> [n for n, _ in lin.named_parameters()]
    ['weight', 'bias', 'scale']
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = Tensor()
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): expected a Tensor as data, but got {type(data).__name__}")
        p = cls._wrap(data._data)
        if data._vc is None:
            data._vc = [0]
        p._vc = data._vc  # a new view of the same memory: in-place writes are seen by both
        if requires_grad:
            p.requires_grad = True
        return p

    def __init__(self, data=None, requires_grad=True):
        pass  # everything happens in __new__ (Tensor.__init__ would copy the data)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        res = type(self)(Tensor._wrap(self._data.copy()), self._rg)
        if self._grad is not None:
            res._grad = Tensor._wrap(self._grad._data.copy())
        memo[id(self)] = res
        return res

    def __reduce_ex__(self, proto):
        return (_rebuild_parameter, (self._data, self._rg))


class Buffer(Tensor):
    """Marker for tensors meant to be registered as buffers: `self.b = nn.Buffer(t)`.

    Assigning a Buffer as a Module attribute calls `register_buffer(name, tensor, persistent)`.
    """

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = Tensor()
        b = cls._wrap(data._data)
        if data._vc is None:
            data._vc = [0]
        b._vc = data._vc
        b.persistent = persistent
        return b

    def __init__(self, data=None, *, persistent=True):
        pass
