"""einsum as a primitive: numpy's einsum with a contraction order (and so BLAS calls) planned
once per equation and shapes.

The equation is explicit, without "...", and lowercase-or-uppercase letters only
(tl.einsum writes the implicit form, spaces and ellipses out first). The gradient of operand
i is itself an einsum: the output's subscripts and the other operands contracted into
operand i's subscripts. A subscript only operand i has was summed in the forward, so its
gradient is broadcast back; a size-1 dim that broadcast against a larger one gets the sum.

>>> import numpy as np
>>> _einsum_impl(np.ones((2, 3)), np.ones((3, 4)), equation="ij,jk->ik").shape
(2, 4)
"""
import numpy as np

from ._primitive import Primitive
from ._prims import expand, reshape, sum_

_PATHS = {}  # (equation, shapes) -> numpy's contraction path


def split(equation):
    """(input subscripts, output subscripts) of an explicit equation."""
    lhs, out = equation.split("->")
    return lhs.split(","), out


def label_sizes(terms, shapes):
    """Each subscript's size; a size-1 dim broadcasts against a larger one (as PyTorch)."""
    sizes = {}
    for term, shape in zip(terms, shapes):
        for c, n in zip(term, shape):
            if sizes.get(c, 1) == 1:
                sizes[c] = n
    return sizes


def _einsum_impl(*arrays, equation):
    terms, _ = split(equation)
    sizes = label_sizes(terms, [a.shape for a in arrays])
    # numpy rejects size-1 dims against larger ones: broadcast them (views)
    arrays = [a if all(n == sizes[c] for c, n in zip(t, a.shape)) else
              np.broadcast_to(a, tuple(sizes[c] for c in t)) for t, a in zip(terms, arrays)]
    key = (equation, tuple(a.shape for a in arrays))
    path = _PATHS.get(key)
    if path is None:
        if len(_PATHS) > 4096:
            _PATHS.clear()
        path = _PATHS[key] = np.einsum_path(equation, *arrays, optimize="greedy")[0]
    out = np.einsum(equation, *arrays, optimize=path)
    if not isinstance(out, np.ndarray) or any(np.may_share_memory(out, a) for a in arrays):
        out = np.array(out)  # a fresh array, never a view of an operand (codegen may write into it)
    return out


def _einsum_meta(*operands, equation):
    terms, out = split(equation)
    sizes = label_sizes(terms, [o._data.shape for o in operands])
    return tuple(sizes[c] for c in out), operands[0]._data.dtype


def _einsum_bwd(ctx, g):
    terms, out = split(ctx.params["equation"])
    return tuple(_operand_grad(g, out, terms, ctx.saved, i, ctx._in_meta[i][0]) if ctx.needs_input_grad[i]
                 else None for i in range(len(terms)))


def _operand_grad(g, out, terms, operands, i, shape):
    term = terms[i]
    if len(set(term)) != len(term):
        raise RuntimeError(f"einsum: the derivative for an operand with a repeated subscript ('{term}') "
                           "is not implemented")
    others = [t for j, t in enumerate(terms) if j != i]
    present = set(out + "".join(others))
    kept = "".join(c for c in term if c in present)
    grad = einsum(g, *[o for j, o in enumerate(operands) if j != i], equation=",".join([out] + others) + "->" + kept)
    if kept != term:  # subscripts summed only here: their gradient is the same along them
        it = iter(grad._data.shape)
        ones = tuple(next(it) if c in present else 1 for c in term)
        grad = expand(reshape(grad, shape=ones), shape=tuple(n if c in present else shape[k]
                                                             for k, (c, n) in enumerate(zip(term, ones))))
    return _sum_to(grad, shape)


def _sum_to(g, shape):
    """g summed over the dims where shape has 1 and g does not (broadcast in the forward)."""
    dims = tuple(d for d, n in enumerate(shape) if n == 1 and g._data.shape[d] != 1)
    return sum_(g, dims=dims, keepdim=True) if dims else g


einsum = Primitive("einsum", _einsum_impl, _einsum_meta, _einsum_bwd, save_inputs=slice(0, None))
