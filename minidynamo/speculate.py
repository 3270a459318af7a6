"""Tracing a call whose effects must stay inside it: a branch of `tl.cond` (it may not run) or a
checkpointed function (eagerly it runs again during backward).

`no_outside_effects(tx, what)` wraps such a trace and raises when the call changed anything
that existed before it. Dynamo checks the same with its side-effect tracker; minidynamo records
effects on values from outside the frame in SideEffects, but changes values made in the frame
(a local list, a local cell) directly in their trackers. So the check has two parts:

* SideEffects recorded nothing new: no store to an attribute, a global or a closure cell, no
  mutation of a list, dict or set from outside, no hook registered on an input;
* every tracker reachable before the call (from the frames being traced, the values wrapped so
  far and the recorded effects) still refers to the same trackers, graph nodes and scalars: no
  local list appended to, no local cell assigned, no tensor changed in place, no iterator
  advanced. A reference that was None may be filled in (a lazily built tracker, a cell loaded
  on first use). Trackers made during the call change freely.

>>> import minidynamo as md, tensorlite as tl
>>> seen = []
>>> def branch(x):
...     seen.append(1)
...     return x + 1
>>> @md.compile(fullgraph=True)
... def f(x):
...     return tl.cond(x.sum() > 0, branch, lambda x: x - 1, (x,))
>>> f(tl.ones(2))
Traceback (most recent call last):
  ...
minidynamo.exc.UncapturedHigherOrderOpError: tl.cond: the true branch changes state outside it (a mutation of a list, dict or set from outside the frame). ...
"""
import contextlib

from fxlite.node import Node

from .exc import Unsupported
from .variables.base import VariableTracker

__all__ = ["no_outside_effects"]


@contextlib.contextmanager
def no_outside_effects(tx, what, error=Unsupported):
    """Trace the block; raise error(message) if it changed state that existed before it."""
    before = _Snapshot(tx)
    yield
    change = before.change(tx)
    if change is not None:
        raise error(effect_message(what, change))


def effect_message(what, change):
    return (f"{what} changes state outside it ({change}). Only tensors may flow out of it, "
            "through its return value")


_EFFECT_KINDS = {"attr": "an attribute store", "global": "a global store", "cell": "a closure variable store",
                 "container": "a mutation of a list, dict or set from outside the frame",
                 "stmt": "a hook on an input, or another effect replayed after the graph"}


class _Snapshot:
    """The effects recorded so far and the shallow contents of every reachable tracker."""

    def __init__(self, tx):
        self.effects = _recorded_effects(tx.output)
        self.trackers = {id(vt): (vt, _contents(vt)) for vt in _reachable(_roots(tx))}

    def change(self, tx):
        """A description of the first change found, or None."""
        effects = _recorded_effects(tx.output)
        if effects != self.effects:
            new = [k for k in effects if k not in self.effects] or [k for k, _ in effects]
            return _EFFECT_KINDS.get(new[0][0][0], "a side effect")
        for vt, contents in self.trackers.values():
            now = _contents(vt)
            for name, was in contents.items():
                if was is not None and now.get(name) != was:
                    return f"{type(vt).__name__}.{name} changed"
        return None


def _recorded_effects(output):
    """SideEffects' records: each key with the identity of the value it stores."""
    se = output.side_effects
    stored = {**se.attr_stores, **se.global_stores, **se.cell_stores}
    return tuple((key, id(stored[key][-1]) if key in stored else None) for key in se.order)


def _roots(tx):
    """The trackers the trace can reach: the frames' locals, stacks and cells, every value wrapped
    from outside the frame, and the values the recorded effects hold."""
    out = tx.output
    roots = []
    while tx is not None:
        roots += [*tx.symbolic_locals.values(), *tx.stack, *tx.cells.values()]
        tx = tx.parent
    roots += [vt for _, vt in out.value_cache.values()]
    se = out.side_effects
    roots += [*se.mutated.values(), *(e[-1] for e in (*se.attr_stores.values(), *se.global_stores.values(),
                                                       *se.cell_stores.values()))]
    return roots


def _reachable(roots):
    """Every tracker reachable from roots through trackers' attributes (and the lists, tuples,
    dicts and sets they hold). Containers are visited once each: a tracker's attributes may
    hold cyclic ones (a list that contains itself, a dict of the module it belongs to)."""
    seen = {}
    visited = set()  # ids of the containers already expanded
    todo = list(roots)
    while todo:
        v = todo.pop()
        if isinstance(v, VariableTracker):
            if id(v) in seen:
                continue
            seen[id(v)] = v
            todo.extend(vars(v).values())
        elif isinstance(v, (list, tuple, set, frozenset, dict)):
            if id(v) in visited:
                continue
            visited.add(id(v))
            todo.extend(v.values() if isinstance(v, dict) else v)
    return seen.values()


_SCALARS = (int, float, str, bool)


def _ident(v, path=()):
    """What a tracker attribute refers to, compared by identity (trackers, nodes) or value
    (scalars); None for what is not compared (real values, functions, caches). A container
    met again inside itself (a cycle) is compared by identity."""
    if isinstance(v, (VariableTracker, Node)):
        return id(v)
    if v is None or isinstance(v, _SCALARS):
        return None if v is None else ("=", type(v), v)
    if isinstance(v, (list, tuple, dict)):
        if id(v) in path:
            return ("cycle", id(v))
        path = (*path, id(v))
        if isinstance(v, dict):
            return tuple((repr(k), _ident(x, path)) for k, x in v.items())
        return tuple(_ident(x, path) for x in v)
    if isinstance(v, (set, frozenset)):
        return frozenset(id(x) for x in v if isinstance(x, VariableTracker))
    return None


def _contents(vt):
    return {name: _ident(v) for name, v in vars(vt).items()}
