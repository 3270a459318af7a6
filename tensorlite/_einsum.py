"""tl.einsum: PyTorch's equation syntax (implicit output, spaces, "...") resolved into the
explicit equation the einsum primitive takes.

>>> import tensorlite as tl
>>> tl.einsum("...ij,jk", tl.ones(5, 2, 3), tl.ones(3, 4)).shape
tensorlite.Size([5, 2, 4])
"""
import string

from . import _prims_einsum
from ._dtype import scalar_type_name
from ._functions import overridable
from ._primitive import bind

_LETTERS = set(string.ascii_letters)


@overridable
def einsum(equation, *operands):
    """Sum of products over the subscripts an equation names, e.g. "bij,bjk->bik" (a batched
    matmul), "ii" (the trace) or "i,j->ij" (the outer product); without "->" the output is every
    subscript that appears once, in alphabetical order, after the ellipsis dims."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    terms, out = _parse(equation.replace(" ", ""), operands)
    for t in operands[1:]:
        if t.dtype != operands[0].dtype:
            raise RuntimeError(f"expected scalar type {scalar_type_name(operands[0].dtype)} but found "
                               f"{scalar_type_name(t.dtype)}")
    return bind(_prims_einsum.einsum, tuple(operands), {"equation": ",".join(terms) + "->" + out})


def _parse(equation, operands):
    lhs, arrow, out = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    free = iter(sorted(_LETTERS - set(equation)))  # letters standing for the ellipsis dims
    n_dots = max([t.ndim - len(term.replace("...", "")) for term, t in zip(terms, operands) if "..." in term] or [0])
    dots = "".join(next(free) for _ in range(n_dots))
    terms = [_expand_dots(term, t, i, dots) for i, (term, t) in enumerate(zip(terms, operands))]
    if not arrow:
        counts = {c: "".join(terms).count(c) for c in set("".join(terms)) - set(dots)}
        out = dots + "".join(sorted(c for c, n in counts.items() if n == 1))
    else:
        out = out.replace("...", dots)
        for c in out:
            if out.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
    _check_sizes(terms, operands)
    return terms, out


def _expand_dots(term, t, i, dots):
    if "..." not in term:
        if len(term) != t.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(term)}) does not match the "
                               f"number of dimensions ({t.ndim}) for operand {i} and no ellipsis was given")
        return term
    n = t.ndim - len(term.replace("...", ""))
    return term.replace("...", dots[len(dots) - n:] if n else "")


def _check_sizes(terms, operands):
    seen = {}
    for i, (term, t) in enumerate(zip(terms, operands)):
        for c, n in zip(term, t.shape):
            if c in seen and n != seen[c] and 1 not in (n, seen[c]):
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} which does not broadcast "
                                   f"with previously seen size {seen[c]}")
            if seen.get(c, 1) == 1:
                seen[c] = n
