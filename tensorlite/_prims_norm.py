"""Batch normalization as two primitives (each differentiable to any order):

    batch_norm_stats(x)                          (2, C): each channel's mean and biased variance
    batch_norm_apply(x, stats, weight, bias)     (x - mean) / sqrt(var + eps) * weight + bias

Channels are dim 1; statistics are over every other dim. Training normalizes with the batch's
own statistics (batch_norm_stats of x, so gradients flow through them), evaluation with the
running statistics stacked the same way. The statistics are summed in float64 (PyTorch's CPU
kernels accumulate in double too), and apply computes x * alpha + beta with alpha =
weight / sqrt(var + eps) and beta = bias - mean * alpha, PyTorch's CPU formula.

>>> import numpy as np
>>> _stats_impl(np.array([[1.0, 2.0], [3.0, 6.0]]))
array([[2., 4.],
       [1., 4.]])
"""
import numpy as np

from ._primitive import Primitive
from ._prims import add, cat, index, mul, reshape, rsqrt, sub, sum_


def _axes(ndim):
    return (0,) + tuple(range(2, ndim))


def _per_channel(v, ndim):
    """A (C,) array shaped to broadcast against (N, C, ...)."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _stats_impl(x):
    axes = _axes(x.ndim)
    n = x.size // x.shape[1] if x.shape[1] else 0
    mean = (x.sum(axes, dtype=np.float64) / n).astype(x.dtype)
    xc = x - _per_channel(mean, x.ndim)
    var = np.multiply(xc, xc, out=xc).sum(axes, dtype=np.float64) / n
    return np.stack([mean, var.astype(x.dtype)])


def _apply_impl(x, stats, weight, bias, *, eps):
    alpha = 1 / np.sqrt(stats[1] + eps)
    if weight is not None:
        alpha = alpha * weight
    beta = -stats[0] * alpha
    if bias is not None:
        beta = beta + bias
    out = np.multiply(x, _per_channel(alpha.astype(x.dtype), x.ndim))
    return np.add(out, _per_channel(beta.astype(x.dtype), x.ndim), out=out)


# ----------------------------------------------------------------------------- backward rules
# Written with tensorlite ops, so that they are differentiable themselves.


def _channel(t, i):
    """Row i of a (2, C) statistics tensor."""
    return index(t, spec=(i,))


def _bcast(v, ndim):
    return reshape(v, shape=(1, v._data.shape[0]) + (1,) * (ndim - 2))


def _stats_bwd(ctx, g):
    # mean = sum(x) / n, var = sum((x - mean)^2) / n: d var / d x = 2 (x - mean) / n
    x, stats = ctx.saved
    nd = x._data.ndim
    n = x._data.size // x._data.shape[1]
    centered = sub(x, _bcast(_channel(stats, 0), nd))
    gvar = mul(_bcast(_channel(g, 1), nd), 2.0 / n)
    return (add(mul(centered, gvar), _bcast(mul(_channel(g, 0), 1.0 / n), nd)),)


def _apply_bwd(ctx, g):
    x, stats, weight = ctx.saved
    eps = ctx.params["eps"]
    nd = g._data.ndim
    axes = _axes(nd)
    needs = ctx.needs_input_grad
    invstd = rsqrt(add(_channel(stats, 1), eps))
    scale = invstd if weight is None else mul(invstd, weight)
    gx = mul(g, _bcast(scale, nd)) if needs[0] else None
    gb = sum_(g, dims=axes, keepdim=False) if needs[1] or needs[3] else None
    dot = None
    if needs[1] or needs[2]:  # sum of g * (x - mean) per channel
        dot = sum_(mul(g, sub(x, _bcast(_channel(stats, 0), nd))), dims=axes, keepdim=False)
    gstats = None
    if needs[1]:
        gmean = mul(gb, mul(scale, -1.0))
        w = 1.0 if weight is None else weight
        gvar = mul(mul(dot, w), mul(mul(invstd, mul(invstd, invstd)), -0.5))
        c = (1, gmean._data.shape[0])
        gstats = cat(reshape(gmean, shape=c), reshape(gvar, shape=c), dim=0)
    gw = mul(dot, invstd) if needs[2] else None
    return gx, gstats, gw, gb if needs[3] else None


def _stats_meta(x):
    return (2, x._data.shape[1]), x._data.dtype


def _apply_meta(x, stats, weight, bias, *, eps):
    return x._data.shape, x._data.dtype


batch_norm_stats = Primitive("batch_norm_stats", _stats_impl, _stats_meta, _stats_bwd,
                             save_inputs=(0,), save_outputs=(0,))
# x is needed for the statistics' and the weight's gradients, stats for all, weight for x's and stats'
batch_norm_apply = Primitive("batch_norm_apply", _apply_impl, _apply_meta, _apply_bwd,
                             save_inputs=(0, 1, 2), save_if=((1, 2), (0, 1, 2, 3), (0, 1)),
                             node_name="NativeBatchNormBackward0")
