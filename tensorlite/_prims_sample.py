"""Sampling as a primitive, so that a compiled graph draws new samples on every call (a value
drawn while tracing would be baked into the graph as a constant).

    multinomial(p)    num_samples category indices per row of the (unnormalized) weights p

Samples come from tensorlite's generator (tl.manual_seed). With replacement: inverse-CDF
sampling, one np.searchsorted over every row at once. Without: PyTorch's method, the
num_samples largest p / q with q ~ Exponential(1) (the Gumbel top-k trick).
"""
import numpy as np

from ._primitive import Primitive


def _check_weights(p):
    if not np.isfinite(p).all() or (p < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if (p.sum(-1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")


def _multinomial_impl(p, *, num_samples, replacement):
    from ._creation import _rng  # tensorlite's generator, read at run time
    rng = _rng()
    w = p.reshape(-1, p.shape[-1]).astype(np.float64)
    _check_weights(w)
    rows, n = w.shape
    if replacement:
        cdf = np.cumsum(w, axis=1)
        cdf /= cdf[:, -1:]
        shift = np.arange(rows)[:, None]  # row r's cdf lies in [r, r + 1]: one sorted array for all rows
        u = rng.random((rows, num_samples))
        pick = np.searchsorted((cdf + shift).ravel(), (u + shift).ravel(), side="right").reshape(rows, num_samples)
        out = np.minimum(pick - shift * n, n - 1)  # a u rounding up to the row's end picks its last entry
    else:
        keys = w / rng.exponential(size=w.shape)
        out = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    return out.reshape(p.shape[:-1] + (num_samples,)).astype(np.int64)


multinomial = Primitive(
    "multinomial", _multinomial_impl,
    lambda p, *, num_samples, replacement: (p._data.shape[:-1] + (num_samples,), np.dtype(np.int64)))
