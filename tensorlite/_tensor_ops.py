"""Tensor methods of the array and indexing ops (tril/triu, cumsum, gather/scatter, sort,
topk, ...): a mixin of Tensor,
kept apart from _tensor.py. Each checks its arguments as PyTorch does and binds a primitive.

>>> import tensorlite as tl
>>> tl.ones(2, 3).cumsum(1)
tensor([[1., 2., 3.],
        [1., 2., 3.]])
"""
from . import _prims_array as A
from . import _prims_index as I
from . import _prims_sample as S
from ._dtype import as_dtype, scalar_type_name
from ._primitive import bind


def _dim(d, ndim):
    n = max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
    return d % n


def _check_vector(index, name):
    if index._data.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int32 or int64 for index")


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

    # ------------------------------------------------------------------ gather, scatter
    def gather(self, dim, index, *, sparse_grad=False):
        """out[i][j] = self[index[i][j]][j] (dim 0), and so on: index has self's number of dims."""
        d = self._index_dim(dim, index, "gather")
        return bind(I.gather, (self, index), {"dim": d})

    def scatter(self, dim, index, src=None, value=None, *, reduce=None):
        """A copy of self with src (a tensor, or the number value) written where index points."""
        if src is None:
            src = value
        if reduce not in (None, "add", "multiply"):
            raise RuntimeError("reduce argument must be either add or multiply.")
        d = self._index_dim(dim, index, "scatter", src)
        return bind(I.scatter, (self, index, src), {"dim": d, "reduce": reduce})

    def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
        self._check_inplace(src)
        self._commit_inplace(self.scatter(dim, index, src, value, reduce=reduce))
        return self

    def scatter_add(self, dim, index, src):
        """A copy of self with src added where index points (repeated positions add up)."""
        d = self._index_dim(dim, index, "scatter_add", src)
        return bind(I.scatter, (self, index, src), {"dim": d, "reduce": "add"})

    def scatter_add_(self, dim, index, src):
        self._check_inplace(src)
        self._commit_inplace(self.scatter_add(dim, index, src))
        return self

    def index_select(self, dim, index):
        """The slices of self along dim at the positions in index (a 1-d integer tensor)."""
        d = _dim(dim, self._data.ndim)
        _check_vector(index, "index_select")
        return bind(I.index_select, (self, index.reshape(-1) if index.ndim == 0 else index), {"dim": d})

    def index_add(self, dim, index, source, *, alpha=1):
        """A copy of self with alpha * source's slices added at the positions in index."""
        d = _dim(dim, self._data.ndim)
        _check_vector(index, "index_add")
        n, ss, xs = index._data.size, source._data.shape, self._data.shape
        if source._data.ndim and n != ss[d]:
            raise RuntimeError(f"index_add_(): Number of indices ({n}) should be equal to source.size(dim): "
                               f"({ss[d]}), for dim: {d}")
        if len(ss) != len(xs) or any(a != b for i, (a, b) in enumerate(zip(ss, xs)) if i != d):
            raise RuntimeError("source tensor shape must match self tensor shape, excluding the specified "
                               f"dimension. Got self.shape = {list(xs)} source.shape = {list(ss)}")
        return bind(I.index_add, (self, index.reshape(-1) if index.ndim == 0 else index, source),
                    {"dim": d, "alpha": alpha})

    def index_add_(self, dim, index, source, *, alpha=1):
        self._check_inplace(source)
        self._commit_inplace(self.index_add(dim, index, source, alpha=alpha))
        return self

    def _index_dim(self, dim, index, name, src=None):
        """PyTorch's checks of a gather/scatter index; returns dim made non-negative."""
        d = _dim(dim, self._data.ndim)
        if index._data.dtype.kind not in "iu":
            raise RuntimeError(f"{name}(): Expected dtype int64 for index")
        if max(index._data.ndim, 1) != max(self._data.ndim, 1):
            raise RuntimeError("Index tensor must have the same number of dimensions as "
                               + ("input" if name == "gather" else "self") + " tensor")
        ishape, sshape = list(index._data.shape), list(self._data.shape)
        is_tensor = hasattr(src, "_data")
        if is_tensor and src._data.dtype != self._data.dtype:
            raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
        too_big = [i for i, (a, b) in enumerate(zip(ishape, sshape)) if i != d and a > b]
        if name == "gather" and too_big:
            raise RuntimeError(f"Size does not match at dimension {too_big[0]} expected index {ishape} to be no "
                               f"larger than self {sshape} apart from dimension {d}")
        if is_tensor and (too_big or any(a > b for a, b in zip(ishape, src._data.shape))):
            raise RuntimeError(f"Expected index {ishape} to be no larger than self {sshape} apart from "
                               f"dimension {d} and to be no larger size than src {list(src._data.shape)}")
        if too_big:
            raise RuntimeError(f"Expected index {ishape} to be no larger than self {sshape} apart from dimension {d}")
        return d

    # ------------------------------------------------------------------ sorting
    def sort(self, dim=-1, descending=False, stable=False):
        """(values, indices) along dim, ascending unless descending; equal entries keep their
        order (always stable) and nan sorts as the largest."""
        order = self.argsort(dim, descending, stable)
        from ._functions import _values_indices
        return _values_indices("sort", self._read_order(order, dim), order)

    def argsort(self, dim=-1, descending=False, stable=False):
        """The indices that sort self along dim (see sort)."""
        d = _dim(dim, self._data.ndim)
        return bind(I.argsort, (self,), {"dim": d, "descending": bool(descending)})

    def topk(self, k, dim=-1, largest=True, sorted=True):
        """(values, indices) of the k largest (smallest) entries along dim, best first."""
        d = _dim(dim, self._data.ndim)
        if not 0 <= k <= (self._data.shape[d] if self._data.ndim else 1):
            raise RuntimeError("selected index k out of range")
        order = bind(I.topk_indices, (self,), {"k": int(k), "dim": d, "largest": bool(largest)})
        from ._functions import _values_indices
        return _values_indices("topk", self._read_order(order, d), order)

    def _read_order(self, order, dim):
        """self's entries in the given order along dim (gather: the gradient follows them)."""
        if self._data.ndim == 0:
            return bind(I.gather, (self, order), {"dim": 0})
        return bind(I.gather, (self, order), {"dim": dim % self._data.ndim})

    # ------------------------------------------------------------------ sampling
    def multinomial(self, num_samples, replacement=False, *, generator=None):
        """num_samples indices per row, drawn with probabilities proportional to self's entries
        (each row a distribution over the last dim); without replacement no index repeats."""
        if self._data.ndim not in (1, 2):
            raise RuntimeError("prob_dist must be 1 or 2 dim")
        if self._data.dtype.kind != "f":
            raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                               f"{scalar_type_name(self.dtype)}")
        if num_samples <= 0:
            raise RuntimeError("cannot sample n_sample <= 0 samples")
        if not replacement and num_samples > self._data.shape[-1]:
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
        return bind(S.multinomial, (self,), {"num_samples": int(num_samples), "replacement": bool(replacement)})
