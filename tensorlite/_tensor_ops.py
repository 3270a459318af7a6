"""Tensor methods of the array and indexing ops (tril/triu, cumsum, ...): a mixin of Tensor,
kept apart from _tensor.py. Each checks its arguments as PyTorch does and binds a primitive.

>>> import tensorlite as tl
>>> tl.ones(2, 3).cumsum(1)
tensor([[1., 2., 3.],
        [1., 2., 3.]])
"""
from . import _prims_array as A
from ._dtype import as_dtype, scalar_type_name
from ._primitive import bind


def _dim(d, ndim):
    n = max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
    return d % n


class OpsMixin:
    # ------------------------------------------------------------------ triangles
    def _triangle(self, prim, diagonal):
        if self._data.ndim < 2:
            raise RuntimeError(f"{prim.name}: input tensor must have at least 2 dimensions")
        return bind(prim, (self,), {"diagonal": int(diagonal)})

    def tril(self, diagonal=0):
        """The lower triangle of the last two dims (on and below diagonal `diagonal`), the rest 0."""
        return self._triangle(A.tril, diagonal)

    def triu(self, diagonal=0):
        """The upper triangle of the last two dims (on and above diagonal `diagonal`), the rest 0."""
        return self._triangle(A.triu, diagonal)

    def tril_(self, diagonal=0):
        self._check_inplace()
        self._commit_inplace(self.tril(diagonal))
        return self

    def triu_(self, diagonal=0):
        self._check_inplace()
        self._commit_inplace(self.triu(diagonal))
        return self

    # ------------------------------------------------------------------ scans
    def cumsum(self, dim, *, dtype=None):
        """Cumulative sums along dim (integers and bools sum as int64, as PyTorch)."""
        params = {"dim": _dim(dim, self._data.ndim) if self._data.ndim else 0, "reverse": False,
                  "dtype": None if dtype is None else as_dtype(dtype)}
        return bind(A.cumsum, (self,), params)

    def cumsum_(self, dim, *, dtype=None):
        if dtype is not None and as_dtype(dtype).np != self._data.dtype:
            raise RuntimeError(f"Bad in-place call: input tensor dtype {scalar_type_name(self.dtype).lower()} and "
                               f"output tensor dtype {scalar_type_name(as_dtype(dtype)).lower()} should match")
        self._check_inplace()
        self._commit_inplace(self.cumsum(dim, dtype=dtype))
        return self
