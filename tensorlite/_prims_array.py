"""Array primitives: padding, triangular masks and cumulative sums.

    pad(x)              constant / reflect / replicate / circular padding (negative: cropping)
    pad_backward(g)     the adjoint of a non-constant pad: each output's gradient added back to
                        the entry it was copied from
    tril(x), triu(x)    the lower / upper triangle of the last two dims (the rest zeroed)
    cumsum(x)           cumulative sums along a dim (reverse=True sums from the end: its adjoint)

pad's `pad` parameter is a (low, high) pair per padded dim, for the trailing dims.

>>> import numpy as np
>>> _pad_impl(np.arange(3.0), pad=((2, 1),), mode="reflect", value=0)
array([2., 1., 0., 1., 2., 1.])
"""
import numpy as np

from ._primitive import Primitive

# ----------------------------------------------------------------------------- pad


def source_index(size, lo, hi, mode):
    """For each position along a padded dim, the input position it copies (PyTorch's rules:
    reflect mirrors without repeating the edge, replicate repeats it, circular wraps)."""
    p = np.arange(-lo, size + hi)
    if mode == "reflect":
        p = np.abs(p)
        return np.where(p >= size, 2 * (size - 1) - p, p)
    if mode == "replicate":
        return np.clip(p, 0, size - 1)
    # circular: a negative side crops first, and the padding wraps around what is left
    start, stop = max(-lo, 0), size - max(-hi, 0)
    return np.arange(-max(lo, 0), stop - start + max(hi, 0)) % (stop - start) + start


def _constant_pad(x, pad, value):
    nd = len(pad)
    lead = x.shape[:x.ndim - nd]
    size = x.shape[x.ndim - nd:]
    out = np.full(lead + tuple(s + lo + hi for s, (lo, hi) in zip(size, pad)), value, x.dtype)
    # negative padding crops: read from max(-lo, 0), write at max(lo, 0)
    src = tuple(slice(max(-lo, 0), s - max(-hi, 0)) for s, (lo, hi) in zip(size, pad))
    dst = tuple(slice(max(lo, 0), max(lo, 0) + max(s - max(-lo, 0) - max(-hi, 0), 0))
                for s, (lo, hi) in zip(size, pad))
    out[(Ellipsis,) + dst] = x[(Ellipsis,) + src]
    return out


def _pad_impl(x, *, pad, mode, value):
    if mode == "constant":
        return _constant_pad(x, pad, value)
    out = x
    for axis, (lo, hi) in zip(range(x.ndim - len(pad), x.ndim), pad):
        out = np.take(out, source_index(x.shape[axis], lo, hi, mode), axis=axis)
    return out if out is not x else x.copy()


def _pad_backward_impl(g, *, pad, mode, input_size):
    """Each input entry's gradient is the sum of the gradients of the outputs copied from it:
    along each dim, sort the outputs by source and add them up with one np.add.reduceat."""
    out = g
    nd = len(pad)
    for axis, size, (lo, hi) in zip(range(g.ndim - nd, g.ndim), input_size, pad):
        src = source_index(size, lo, hi, mode)
        order = np.argsort(src, kind="stable")
        sources, starts = np.unique(src[order], return_index=True)
        sums = np.add.reduceat(np.take(out, order, axis=axis), starts, axis=axis)
        shape = list(out.shape)
        shape[axis] = size
        acc = np.zeros(shape, g.dtype)
        acc[(slice(None),) * axis + (sources,)] = sums
        out = acc
    return out if out is not g else g.copy()  # always a new array, never the input


def _pad_meta(x, *, pad, mode, value):
    s = x._data.shape
    nd = len(pad)
    return s[:len(s) - nd] + tuple(n + lo + hi for n, (lo, hi) in zip(s[len(s) - nd:], pad)), x._data.dtype


def _pad_backward_meta(g, *, pad, mode, input_size):
    s = g._data.shape
    return s[:len(s) - len(pad)] + tuple(input_size), g._data.dtype


def _negated(pad):
    return tuple((-lo, -hi) for lo, hi in pad)


def _pad_bwd(ctx, g):
    p = ctx.params
    if p["mode"] == "constant":  # the adjoint of padding is cropping, and the other way round
        return (pad(g, pad=_negated(p["pad"]), mode="constant", value=0),)
    size = ctx._in_meta[0][0]
    return (pad_backward(g, pad=p["pad"], mode=p["mode"], input_size=size[len(size) - len(p["pad"]):]),)


def _pad_backward_bwd(ctx, h):
    p = ctx.params
    return (pad(h, pad=p["pad"], mode=p["mode"], value=0),)


pad = Primitive("pad", _pad_impl, _pad_meta, _pad_bwd, node_name="ConstantPadNdBackward0")
pad_backward = Primitive("pad_backward", _pad_backward_impl, _pad_backward_meta, _pad_backward_bwd)

# ----------------------------------------------------------------------------- tril, triu


def _same_meta(x, **_):
    return x._data.shape, x._data.dtype


tril = Primitive("tril", lambda x, *, diagonal: np.tril(x, diagonal), _same_meta,
                 lambda ctx, g: (tril(g, **ctx.params),))
triu = Primitive("triu", lambda x, *, diagonal: np.triu(x, diagonal), _same_meta,
                 lambda ctx, g: (triu(g, **ctx.params),))

# ----------------------------------------------------------------------------- cumsum


def _cumsum_dtype(x_dtype, dtype):
    """PyTorch's result dtype: dtype if given, int64 for integers and bools, else the input's."""
    if dtype is not None:
        return dtype.np
    return np.dtype(np.int64) if x_dtype.kind in "biu" else x_dtype


def _cumsum_impl(x, *, dim, reverse, dtype):
    dt = _cumsum_dtype(x.dtype, dtype)
    if x.ndim == 0:
        return np.array(x, dtype=dt)  # a 0-d array, also for a numpy scalar (codegen passes those)
    if not reverse:
        return np.cumsum(x, axis=dim, dtype=dt)
    flipped = np.cumsum(np.flip(x, dim), axis=dim, dtype=dt)
    return np.ascontiguousarray(np.flip(flipped, dim))


def _cumsum_meta(x, *, dim, reverse, dtype):
    return x._data.shape, _cumsum_dtype(x._data.dtype, dtype)


def _cumsum_bwd(ctx, g):
    p = ctx.params
    gx = cumsum(g, dim=p["dim"], reverse=not p["reverse"], dtype=None)
    src = ctx._in_meta[0][1]
    if gx._data.dtype != src:  # cumsum(x, dtype=float64) of a float32 x: the gradient is float32
        from ._prims import cast, _dt
        gx = cast(gx, dtype=_dt(src))
    return (gx,)


cumsum = Primitive("cumsum", _cumsum_impl, _cumsum_meta, _cumsum_bwd)
