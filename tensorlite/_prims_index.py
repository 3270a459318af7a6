"""Indexing along one dim, and the orders that sort.

    gather(x, index)              out[..i..] = x[.. index[..i..] ..]   (index read along dim)
    scatter_add(x, index, src)    x with src added where index points (gather's adjoint)
    scatter(x, index, src)        x with src written where index points (src: a tensor or a number)
    index_select(x, index)        the slices of x along dim at a 1-d index
    index_add(x, index, src)      x with slices of src added at index (index_select's adjoint)
    argsort(x)                    the order that sorts along dim (stable; nan sorts as the largest)
    topk_indices(x)               where the k largest (or smallest) entries are, best first

The orders are integer outputs without gradients: sort and topk read their values with gather,
so their gradients are gather's. Out-of-range indices raise PyTorch's errors from the kernels
themselves, so they are checked under every backend.

>>> import numpy as np
>>> _gather_impl(np.array([[1, 2], [3, 4]]), np.array([[1, 1], [0, 1]]), dim=1)
array([[2, 2],
       [3, 4]])
"""
import numpy as np

from ._primitive import Primitive
from ._prims import full, sum_to, _dt


def _check_bounds(index, size, dim, style="gather"):
    if index.size and (index.min() < 0 or index.max() >= size):
        bad = index.max() if index.max() >= size else index.min()
        if style == "select" and dim == 0:
            raise IndexError("index out of range in self")
        if style == "select":  # PyTorch's message for index_select along another dim
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} axis_dim={size}")
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {size}")


def _head(x, shape, dim):
    """x cut to `shape` on every dim but dim (gather and scatter read only that corner)."""
    return x[tuple(slice(None) if d == dim else slice(0, n) for d, n in enumerate(shape))]


def flat_positions(index, dim, shape):
    """Where each entry of index points, as a flat (C-order) position in an array of shape."""
    strides = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    pos = index.astype(np.intp) * strides[dim]
    for d, n in enumerate(index.shape):
        if d != dim:
            pos = pos + (np.arange(n) * strides[d]).reshape((-1,) + (1,) * (index.ndim - 1 - d))
    return pos.ravel()


# ----------------------------------------------------------------------------- gather, scatter


def _gather_impl(x, index, *, dim):
    if x.ndim == 0:
        _check_bounds(index, 1, dim)
        return x.reshape(index.shape).copy()
    _check_bounds(index, x.shape[dim], dim)
    return np.take_along_axis(_head(x, index.shape, dim), index, axis=dim)


def _scatter_impl(x, index, src, *, dim, reduce):
    out = np.array(x)  # a copy
    if out.ndim == 0:
        out = out.reshape(1)
    _check_bounds(index, out.shape[dim], dim)
    pos = flat_positions(index, dim, out.shape)
    if isinstance(src, np.ndarray) and src.ndim:  # src's corner of index's shape, as PyTorch reads it
        values = src[tuple(slice(0, n) for n in index.shape)].ravel()
    else:
        values = src
    flat = out.reshape(-1)  # a view: out is contiguous
    if reduce is None:
        flat[pos] = values  # a repeated position keeps the last value, as PyTorch's CPU loop
    elif reduce == "add":
        np.add.at(flat, pos, values)  # in index order, as PyTorch's CPU loop
    else:
        np.multiply.at(flat, pos, values)
    return out.reshape(x.shape)


def _gather_bwd(ctx, g):
    shape, dtype = ctx._in_meta[0]
    (index,) = ctx.saved
    zeros = full(shape=shape, value=0, dtype=_dt(g._data.dtype))
    return scatter(zeros, index, g, dim=ctx.params["dim"], reduce="add"), None


def _scatter_bwd(ctx, g):
    (index,) = ctx.saved
    p = ctx.params
    if p["reduce"] == "multiply":
        raise RuntimeError("the derivative for 'scatter' with reduce='multiply' is not implemented")
    needs = ctx.needs_input_grad
    gx = gsrc = None
    if needs[0]:  # written entries lose their old value's gradient; added ones keep it
        gx = g if p["reduce"] == "add" else scatter(g, index, 0.0, dim=p["dim"], reduce=None)
    if len(needs) > 2 and needs[2]:
        gsrc = gather(g, index, dim=p["dim"])
        src_shape = ctx._in_meta[2][0]
        if gsrc._data.shape != src_shape:  # src larger than index: its other entries get zeros
            gsrc = _pad_to(gsrc, src_shape)
    return gx, None, gsrc


def _pad_to(t, shape):
    from ._prims_array import pad
    return pad(t, pad=tuple((0, s - n) for s, n in zip(shape, t._data.shape)), mode="constant", value=0)


gather = Primitive("gather", _gather_impl, lambda x, index, *, dim: (index._data.shape, x._data.dtype),
                   _gather_bwd, save_inputs=(1,))
scatter = Primitive("scatter", _scatter_impl, lambda x, index, src, **_: (x._data.shape, x._data.dtype),
                    _scatter_bwd, save_inputs=(1,))

# ----------------------------------------------------------------------------- index_select, index_add


def _index_select_impl(x, index, *, dim):
    _check_bounds(index, x.shape[dim] if x.ndim else 1, dim, "select")
    return np.take(x, index, axis=dim) if x.ndim else x.reshape(index.shape).copy()


def _index_add_impl(x, index, src, *, dim, alpha):
    out = np.array(x)
    _check_bounds(index, out.shape[dim], dim, "select")
    np.add.at(out, (slice(None),) * dim + (index,), src if alpha == 1 else src * alpha)
    return out


def _index_select_bwd(ctx, g):
    shape, _ = ctx._in_meta[0]
    (index,) = ctx.saved
    zeros = full(shape=shape, value=0, dtype=_dt(g._data.dtype))
    return index_add(zeros, index, g, dim=ctx.params["dim"], alpha=1), None


def _index_add_bwd(ctx, g):
    (index,) = ctx.saved
    p = ctx.params
    gsrc = None
    if ctx.needs_input_grad[2]:
        gsrc = index_select(g, index, dim=p["dim"])
        if p["alpha"] != 1:
            from ._prims import mul
            gsrc = mul(gsrc, p["alpha"])
        gsrc = sum_to(gsrc, ctx._in_meta[2][0])
    return g if ctx.needs_input_grad[0] else None, None, gsrc


def _index_select_meta(x, index, *, dim):
    s = x._data.shape
    return s[:dim] + index._data.shape + s[dim + 1:], x._data.dtype


index_select = Primitive("index_select", _index_select_impl, _index_select_meta, _index_select_bwd,
                         save_inputs=(1,))
index_add = Primitive("index_add", _index_add_impl, lambda x, index, src, **_: (x._data.shape, x._data.dtype),
                      _index_add_bwd, save_inputs=(1,))

# ----------------------------------------------------------------------------- sort, topk


def _argsort_impl(x, *, dim, descending):
    if x.ndim == 0:
        return np.zeros((), np.int64)
    if not descending:
        return np.argsort(x, axis=dim, kind="stable").astype(np.int64)
    # descending and stable: sort the reversed array ascending and reverse the result, so that
    # equal entries keep their order and nan (last ascending) comes first
    n = x.shape[dim]
    order = np.argsort(np.flip(x, dim), axis=dim, kind="stable")
    return np.ascontiguousarray(np.flip(n - 1 - order, dim)).astype(np.int64)


def _topk_impl(x, *, k, dim, largest):
    if x.ndim == 0:
        return np.zeros((), np.int64)
    n = x.shape[dim]
    if 0 < k < n and k * 8 < n:  # few of many: partition first, then sort only those k
        part = np.argpartition(x, n - k if largest else k - 1, axis=dim)
        cand = np.sort(np.take(part, np.arange(n - k, n) if largest else np.arange(k), axis=dim), axis=dim)
        order = _argsort_impl(np.take_along_axis(x, cand, axis=dim), dim=dim, descending=largest)
        return np.take_along_axis(cand, order, axis=dim).astype(np.int64)
    order = _argsort_impl(x, dim=dim, descending=largest)
    return np.ascontiguousarray(np.take(order, np.arange(k), axis=dim))


def _topk_meta(x, *, k, dim, largest):
    s = x._data.shape
    return (s[:dim] + (k,) + s[dim + 1:]) if s else (), np.dtype(np.int64)


argsort = Primitive("argsort", _argsort_impl, lambda x, **_: (x._data.shape, np.dtype(np.int64)))
topk_indices = Primitive("topk_indices", _topk_impl, _topk_meta)
