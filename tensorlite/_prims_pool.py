"""Pooling primitives: max, average and adaptive average pooling over the trailing spatial dims.

    max_pool(x)                 window maxima            (MaxPool2DWithIndicesBackward0)
    max_pool_backward(g, x)     g routed to each window's maximum
    max_pool_select(h, x)       h read at each window's maximum (the adjoint of the above)
    max_pool_indices(x)         where each maximum is, as flat indices into the spatial dims
    avg_pool(x)                 window means             (AvgPool2DBackward0)
    avg_pool_backward(g)        g spread evenly over each window
    adaptive_avg_pool(x)        means over PyTorch's adaptive bins
    adaptive_avg_pool_backward(g)

Windows are read with one strided slice per kernel position (4 for a 2x2 kernel), each over the
whole batch, so numpy's loops do all the work. Parameters are resolved by tensorlite.nn.functional:
padding is a (low, high) pair per dim, with `high` grown for ceil_mode so that exactly the
output's windows fit. Which entry max_pool picks is PyTorch's: the first maximum in scan order,
the last nan, and the window's first real entry when all of them are the lowest value.
"""
import math

import numpy as np

from ._primitive import Primitive
from ._prims_conv import inner, offset_key, out_size, padded

# ----------------------------------------------------------------------------- max


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _max_pool_impl(x, *, kernel_size, stride, padding, dilation):
    xp = padded(x, padding, _lowest(x.dtype))
    out = out_size(x.shape[2:], kernel_size, stride, padding, dilation)
    res = None
    for offset in np.ndindex(*kernel_size):
        v = xp[offset_key(offset, stride, dilation, out)]
        res = v.copy() if res is None else np.maximum(res, v, out=res)  # nan wins, as in PyTorch
    return res


def _picked(x, kernel_size, stride, padding, dilation):
    """Where the entry max_pool picks for each output position is: a flat index into x's
    spatial dims (what return_indices gives). PyTorch's choice: the first maximum in scan
    order, the last nan (it tests `val > max || isnan(val)`), and the first non-padding entry
    of a window whose entries are all the lowest value (-inf)."""
    low = _lowest(x.dtype)
    xp = padded(x, padding, low)
    size = x.shape[2:]
    out = out_size(size, kernel_size, stride, padding, dilation)
    views = [xp[offset_key(o, stride, dilation, out)] for o in np.ndindex(*kernel_size)]
    # each kernel position's offset from its window's first entry, in x's flat spatial index
    steps = [d * math.prod(size[i + 1:]) for i, d in enumerate(dilation)]
    offsets = [sum(i * s for i, s in zip(o, steps)) for o in np.ndindex(*kernel_size)]
    m = _max_pool_impl(x, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation)
    off = np.full(m.shape, offsets[-1], np.int64)
    for k in range(len(views) - 2, -1, -1):  # backwards: the first maximum is written last
        off = np.where(views[k] == m, offsets[k], off)
    if x.dtype.kind == "f" and np.isnan(m).any():
        for k, v in enumerate(views):
            off = np.where(np.isnan(v), offsets[k], off)
    lowest = m == low
    if lowest.any():
        off = np.where(lowest, _first_real(size, kernel_size, stride, padding, dilation, out), off)
    return off + _window_starts(size, stride, padding, out)


def _window_starts(size, stride, padding, out):
    """Each window's first entry (which may lie in the padding) as a flat spatial index."""
    start = 0
    for s, st, (lo, _), o in zip(size, stride, padding, out):
        start = np.add.outer(start * s, np.arange(o) * st - lo)
    return start


def _first_real(size, kernel, stride, padding, dilation, out):
    """Per output position, the offset (as in _picked) of the window's first real entry."""
    first = 0
    for s, st, (lo, _), d, o in zip(size, stride, padding, dilation, out):
        start = np.arange(o) * st - lo
        i = np.where(start < 0, -(start // d), 0)  # the smallest i with start + i * d >= 0
        first = np.add.outer(first * s, i * d)
    return first


def _flat_picked(x, params):
    """_picked as indices into x.ravel() (each sample and channel offset by its own block)."""
    idx = _picked(x, **params)
    blocks = np.arange(x.shape[0] * x.shape[1]).reshape(x.shape[:2] + (1,) * (x.ndim - 2))
    return (idx + blocks * math.prod(x.shape[2:])).ravel()


def _max_pool_backward_impl(g, x, **params):
    idx = _flat_picked(x, params)
    ext = [d * (k - 1) + 1 for k, d in zip(params["kernel_size"], params["dilation"])]
    if all(st >= e for st, e in zip(params["stride"], ext)):  # windows are disjoint
        acc = np.zeros(x.size, g.dtype)
        acc[idx] = g.ravel()
    else:  # an entry may be picked by several windows: sum (in float64, then rounded)
        acc = np.bincount(idx, weights=g.ravel(), minlength=x.size).astype(g.dtype)
    return acc.reshape(x.shape)


def _max_pool_select_impl(h, x, **params):
    out = _pool_meta_shape(x.shape, **params)
    return h.ravel()[_flat_picked(x, params)].reshape(out)


def _max_pool_indices_impl(x, **params):
    return _picked(x, **params)


def _unpad(acc, size, padding):
    if acc.shape[2:] == tuple(size):
        return acc
    return np.ascontiguousarray(acc[inner(size, padding)])


def _pool_meta_shape(xs, *, kernel_size, stride, padding, dilation=None, **_):
    return xs[:2] + out_size(xs[2:], kernel_size, stride, padding, dilation or (1,) * len(kernel_size))


def _pool_meta(x, **params):
    return _pool_meta_shape(x._data.shape, **params), x._data.dtype


def _like_input_meta(g, x, **_):
    return x._data.shape, g._data.dtype


def _max_pool_bwd(ctx, g):
    (x,) = ctx.saved
    return (max_pool_backward(g, x, **ctx.params),)


def _max_pool_backward_bwd(ctx, h):
    # linear in g; piecewise constant in x (its gradient is zero almost everywhere)
    (x,) = ctx.saved
    return max_pool_select(h, x, **ctx.params) if ctx.needs_input_grad[0] else None, None


def _max_pool_select_bwd(ctx, g):
    (x,) = ctx.saved
    return max_pool_backward(g, x, **ctx.params) if ctx.needs_input_grad[0] else None, None


max_pool = Primitive("max_pool", _max_pool_impl, _pool_meta, _max_pool_bwd, save_inputs=(0,),
                     node_name="MaxPool2DWithIndicesBackward0")
max_pool_backward = Primitive("max_pool_backward", _max_pool_backward_impl, _like_input_meta,
                              _max_pool_backward_bwd, save_inputs=(1,))
max_pool_select = Primitive("max_pool_select", _max_pool_select_impl,
                            lambda h, x, **p: (_pool_meta(x, **p)[0], h._data.dtype),
                            _max_pool_select_bwd, save_inputs=(1,))
max_pool_indices = Primitive("max_pool_indices", _max_pool_indices_impl,
                             lambda x, **p: (_pool_meta(x, **p)[0], np.dtype(np.int64)))

# ----------------------------------------------------------------------------- average


def _divisor(size, kernel, stride, padding, out, count_include_pad, divisor_override):
    """PyTorch's divisor of each window sum: the window clipped to the padded input (with
    count_include_pad) or to the input itself; or divisor_override."""
    if divisor_override:
        return divisor_override
    div = 1
    for s, k, st, (lo, _), o in zip(size, kernel, stride, padding, out):
        start = np.arange(o) * st - lo
        end = np.minimum(start + k, s + lo)
        n = end - start if count_include_pad else np.minimum(end, s) - np.maximum(start, 0)
        div = np.multiply.outer(div, n)
    return div


def _divide(total, div):
    if total.dtype.kind == "f":
        return total / np.asarray(div, total.dtype)
    # integers: C's division, which truncates toward zero (numpy's // floors)
    q = np.abs(total) // div
    return np.where(total < 0, -q, q).astype(total.dtype)


def _avg_pool_impl(x, *, kernel_size, stride, padding, count_include_pad, divisor_override):
    xp = padded(x, padding, 0)
    dilation = (1,) * len(kernel_size)
    out = out_size(x.shape[2:], kernel_size, stride, padding, dilation)
    total = None
    for offset in np.ndindex(*kernel_size):  # summed in scan order, as PyTorch does
        v = xp[offset_key(offset, stride, dilation, out)]
        total = v.copy() if total is None else np.add(total, v, out=total)
    return _divide(total, _divisor(x.shape[2:], kernel_size, stride, padding, out,
                                   count_include_pad, divisor_override))


def _avg_pool_backward_impl(g, *, input_size, kernel_size, stride, padding, count_include_pad,
                            divisor_override):
    out = g.shape[2:]
    gs = g / np.asarray(_divisor(input_size, kernel_size, stride, padding, out, count_include_pad,
                                 divisor_override), g.dtype)
    full = tuple(s + lo + hi for s, (lo, hi) in zip(input_size, padding))
    acc = np.zeros(g.shape[:2] + full, g.dtype)
    dilation = (1,) * len(kernel_size)
    for offset in np.ndindex(*kernel_size):
        acc[offset_key(offset, stride, dilation, out)] += gs
    return _unpad(acc, input_size, padding)


def _avg_pool_bwd(ctx, g):
    return (avg_pool_backward(g, input_size=ctx._in_meta[0][0][2:], **ctx.params),)


def _avg_pool_backward_bwd(ctx, h):
    p = {k: v for k, v in ctx.params.items() if k != "input_size"}
    return (avg_pool(h, **p),)


avg_pool = Primitive("avg_pool", _avg_pool_impl, _pool_meta, _avg_pool_bwd,
                     node_name="AvgPool2DBackward0")
avg_pool_backward = Primitive(
    "avg_pool_backward", _avg_pool_backward_impl,
    lambda g, *, input_size, **_: (g._data.shape[:2] + tuple(input_size), g._data.dtype),
    _avg_pool_backward_bwd)

# ----------------------------------------------------------------------------- adaptive average


def _bins(size, out, dtype):
    """The 0/1 matrix (out, size) of PyTorch's adaptive bins [floor(i*S/O), ceil((i+1)*S/O)),
    and each bin's length."""
    i = np.arange(out)
    start = i * size // out
    end = -(-(i + 1) * size // out)
    s = np.arange(size)
    return ((s >= start[:, None]) & (s < end[:, None])).astype(dtype), end - start


def _along(y, axis, m):
    """m (O, S) applied to y's dim `axis` (of size S): a matmul with that dim last."""
    return np.swapaxes(np.matmul(np.swapaxes(y, axis, -1), m.T), axis, -1)


def _even_split(size, output_size):
    """(O1, k1, O2, k2, ...) when each dim splits into equal bins (k = S / O), else None."""
    if any(o == 0 or s % o for s, o in zip(size, output_size)):
        return None
    return tuple(v for s, o in zip(size, output_size) for v in (o, s // o))


def _adaptive_impl(x, *, output_size):
    """Window sums as one matmul per spatial dim with the 0/1 bin matrix, then / area (equal
    bins, global pooling among them: a reshape and one mean)."""
    nd = len(output_size)
    split = _even_split(x.shape[x.ndim - nd:], output_size)
    if split is not None:
        lead = x.shape[:x.ndim - nd]
        return x.reshape(lead + split).mean(axis=tuple(len(lead) + 2 * i + 1 for i in range(nd)))
    y, area = x, 1
    for axis, o in zip(range(x.ndim - nd, x.ndim), output_size):
        m, n = _bins(x.shape[axis], o, x.dtype)
        y = _along(y, axis, m)
        area = np.multiply.outer(area, n)
    return np.ascontiguousarray(y / np.asarray(area, x.dtype))


def _adaptive_backward_impl(g, *, input_size):
    nd = len(input_size)
    split = _even_split(input_size, g.shape[g.ndim - nd:])
    if split is not None:  # each bin's gradient spread evenly over it
        lead = g.shape[:g.ndim - nd]
        area = np.asarray(np.prod(split[1::2]), g.dtype)
        spread = (g / area).reshape(lead + tuple(v for o in g.shape[g.ndim - nd:] for v in (o, 1)))
        out = np.empty(lead + split, g.dtype)
        out[...] = spread  # a new writable array (codegen may write into a kernel's result)
        return out.reshape(lead + tuple(input_size))
    y, area = g, 1
    for s, o in zip(input_size, g.shape[g.ndim - nd:]):
        area = np.multiply.outer(area, _bins(s, o, g.dtype)[1])
    y = g / np.asarray(area, g.dtype)
    for axis, s in zip(range(g.ndim - nd, g.ndim), input_size):
        y = _along(y, axis, _bins(s, g.shape[axis], g.dtype)[0].T)
    return np.ascontiguousarray(y)


def _spatial(shape, n):
    return tuple(shape[len(shape) - n:])


def _adaptive_meta(x, *, output_size):
    s = x._data.shape
    return s[:len(s) - len(output_size)] + tuple(output_size), x._data.dtype


def _adaptive_backward_meta(g, *, input_size):
    s = g._data.shape
    return s[:len(s) - len(input_size)] + tuple(input_size), g._data.dtype


def _adaptive_bwd(ctx, g):
    size = _spatial(ctx._in_meta[0][0], len(ctx.params["output_size"]))
    return (adaptive_avg_pool_backward(g, input_size=size),)


def _adaptive_backward_bwd(ctx, h):
    size = _spatial(ctx._in_meta[0][0], len(ctx.params["input_size"]))
    return (adaptive_avg_pool(h, output_size=size),)


adaptive_avg_pool = Primitive("adaptive_avg_pool", _adaptive_impl, _adaptive_meta, _adaptive_bwd,
                              node_name="AdaptiveAvgPool2DBackward0")
adaptive_avg_pool_backward = Primitive("adaptive_avg_pool_backward", _adaptive_backward_impl,
                                       _adaptive_backward_meta, _adaptive_backward_bwd)
