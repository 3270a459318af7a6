"""Marks a layer above puts on the functions its graphs call, for fxlite and the backends to read.

A graph node's target is an ordinary function; what a pass may do with the node depends on
facts only the function's author knows. Those facts are registered here, once, instead of as
attributes that one package writes and another reads.

- **impure**: the call has an effect beyond its result (a hook, a gradient accumulation), so
  dead-code elimination, CSE and constant folding never drop, merge or fold it.
- **run graph as is**: the call builds autograd nodes of its own (module backward hooks), so
  an AOT backend, which replaces the whole graph's autograd with one node, runs such a graph
  as it is instead.
"""
import builtins
import operator
import weakref

_IMPURE = weakref.WeakSet()
_RUN_GRAPH_AS_IS = weakref.WeakSet()

# Calls whose effect is the point, whatever their result: the graph must keep them.
_EFFECTFUL_BUILTINS = {builtins.print, operator.setitem, operator.delitem}
_INPLACE_OPERATORS = {operator.iadd, operator.isub, operator.imul, operator.itruediv,
                      operator.ifloordiv, operator.imod, operator.ipow, operator.imatmul,
                      operator.iand, operator.ior, operator.ixor, operator.setitem,
                      operator.delitem}
# Random calls advance the generator: dropping, merging or folding one changes later values.
_RANDOM_NAMES = {"rand", "randn", "randint", "randperm", "rand_like", "randn_like", "dropout",
                 "manual_seed", "seed", "bernoulli", "multinomial", "normal", "uniform"}


def mark_impure(fn):
    """Register `fn` as a call with side effects; returns fn, so it works as a decorator.

    >>> @mark_impure
    ... def log_value(x):
    ...     print(x)
    >>> is_impure_target(log_value)
    True
    """
    _IMPURE.add(fn)
    return fn


def is_impure_target(fn):
    """Whether `fn` was registered with mark_impure."""
    return _marked(_IMPURE, fn)


def mark_run_graph_as_is(fn):
    """Register `fn` as building its own autograd nodes; returns fn (see the module docstring).

    >>> @mark_run_graph_as_is
    ... def wrap_outputs(x):
    ...     return x
    >>> runs_graph_as_is(wrap_outputs)
    True
    """
    _RUN_GRAPH_AS_IS.add(fn)
    return fn


def runs_graph_as_is(fn):
    """Whether `fn` was registered with mark_run_graph_as_is."""
    return _marked(_RUN_GRAPH_AS_IS, fn)


def _marked(registry, fn):
    try:
        return fn in registry
    except TypeError:  # not weak-referenceable (a builtin, a string): never marked
        return False


def _in_place_name(name):
    return name.endswith("_") and not name.endswith("__")


def is_mutating(op, target):
    """Whether a call writes into one of its inputs (x.add_(y), x += y, x[i] = v)."""
    if op == "call_method":
        return _in_place_name(target)
    if op == "call_function":
        if target in _INPLACE_OPERATORS:
            return True
        return (_in_place_name(getattr(target, "__name__", ""))
                and getattr(target, "__module__", "").startswith("tensorlite"))
    return False


def _is_random(target):
    # a function's __name__, a primitive's name (tl.ops.rand), a method's name as a string
    name = getattr(target, "__name__", None) or getattr(target, "name", None) or \
        (target if isinstance(target, str) else "")
    if not isinstance(name, str):
        return False
    return name in _RANDOM_NAMES or name.rstrip("_") in _RANDOM_NAMES


def call_is_impure(op, target):
    """Whether a node must stay in its graph even when nothing uses its value: inputs and the
    output, calls of modules, marked functions, effectful builtins, mutation and randomness."""
    if op in ("placeholder", "output", "call_module"):
        return True
    if op not in ("call_function", "call_method"):
        return False
    if op == "call_function" and (is_impure_target(target) or target in _EFFECTFUL_BUILTINS):
        return True
    return is_mutating(op, target) or _is_random(target)
