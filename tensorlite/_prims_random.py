"""Random creation as primitives: a traced graph (make_fx, AOT, codegen) records each draw as
a node that draws again on every call, where a plain function would be captured as the
constant it returned while tracing. Fake tensors take only the meta rule, so tracing draws
nothing from the generator."""
import numpy as np

from ._primitive import Primitive


def _rng():
    from ._creation import _rng as rng  # the generator tl.manual_seed replaces
    return rng()


def _shape_dtype(shape, dtype, **_):
    return tuple(shape), dtype.np


def _rand_impl(shape, dtype):
    return _rng().random(shape).astype(dtype.np)


def _randn_impl(shape, dtype):
    return _rng().standard_normal(shape).astype(dtype.np)


def _randint_impl(shape, low, high, dtype):
    return _rng().integers(low, high, size=shape).astype(dtype.np)


def _randperm_impl(n, dtype):
    return _rng().permutation(n).astype(dtype.np)


rand = Primitive("rand", _rand_impl, _shape_dtype)
randn = Primitive("randn", _randn_impl, _shape_dtype)
randint = Primitive("randint", _randint_impl, _shape_dtype)
randperm = Primitive("randperm", _randperm_impl, lambda n, dtype: ((n,), dtype.np))
