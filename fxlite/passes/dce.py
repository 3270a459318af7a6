"""Dead-code elimination that keeps side effects (in-place ops, printing, random ops).

>>> import tensorlite as tl, fxlite
>>> from fxlite.passes import dead_code_elimination
>>> def f(x):
...     unused = x.cos()
...     return x.sin()
>>> gm = fxlite.symbolic_trace(f)
>>> dead_code_elimination(gm)
True
>>> print(gm.code.strip())
def forward(self, x):
    sin = x.sin();  x = None
    return sin
"""
import operator

_INPLACE_OPERATORS = {operator.iadd, operator.isub, operator.imul, operator.itruediv,
                      operator.ifloordiv, operator.imod, operator.ipow, operator.imatmul,
                      operator.iand, operator.ior, operator.ixor, operator.setitem,
                      operator.delitem}
_RANDOM_NAMES = {"rand", "randn", "randint", "randperm", "rand_like", "randn_like", "dropout",
                 "manual_seed", "seed", "bernoulli", "multinomial", "normal", "uniform"}


def _is_random(node):
    name = getattr(node.target, "__name__", None) or (node.target if isinstance(node.target, str) else "")
    return name in _RANDOM_NAMES or name.rstrip("_") in _RANDOM_NAMES


def is_mutating(node):
    """Whether node writes into one of its inputs (x.add_(y), x += y, x[i] = v)."""
    if node.op == "call_method":
        return node.target.endswith("_") and not node.target.endswith("__")
    if node.op == "call_function":
        t = node.target
        if t in _INPLACE_OPERATORS:
            return True
        name = getattr(t, "__name__", "")
        return name.endswith("_") and not name.endswith("__") and getattr(t, "__module__", "").startswith("tensorlite")
    return False


def is_impure(node):
    """Nodes that must stay even when unused: I/O, mutation, randomness, module calls."""
    if node.is_impure() or is_mutating(node):
        return True
    return node.op in ("call_function", "call_method") and _is_random(node)


def dead_code_elimination(gm):
    """Remove pure nodes whose values are never used; recompile gm. Returns whether it changed."""
    changed = gm.graph.eliminate_dead_code(is_impure_node=is_impure)
    if changed:
        gm.recompile()
    return changed

