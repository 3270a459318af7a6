"""make_fx: trace a function at the tensorlite primitive level, through autograd and Python
control flow, into a GraphModule (torch.fx.experimental.proxy_tensor.make_fx).

The function runs for real (tracing_mode="real") or on fake tensors (tracing_mode="fake")
under a dispatch mode that records one `call_function` node per primitive call
(`tl.ops.sin(x_1)`, params as keyword arguments). Backward passes run inside the function
are traced too, since the backward rules are themselves tensorlite ops. In-place ops are
functionalized: the mutated tensor is rebound to the node of its new value. Tensors that are
neither inputs nor computed in the trace (captured globals, `tl.randn` results) become
`get_attr` nodes of `_tensor_constant0`, `_tensor_constant1`, ...

>>> import tensorlite as tl, fxlite
>>> def f(x):
...     return tl.sin(x)
>>> gm = fxlite.make_fx(f)(tl.ones(3))
>>> print(gm.print_readable(False).strip())
class f(tl.nn.Module):
    def forward(self, x_1: "f32[3]"):
        sin: "f32[3]" = tl.ops.sin(x_1);  x_1 = None
        return sin
"""
import inspect
import operator
import os
import traceback

import numpy as np

import tensorlite as tl
from tensorlite._modes import DispatchMode, FakeTensorMode, is_fake
from tensorlite._tensor import Tensor

from .graph import Graph
from .graph_module import GraphModule
from .node import map_aggregate
from .serialize import TensorMeta

__all__ = ["make_fx", "ProxyMode"]

_SKIP_DIRS = tuple(os.path.dirname(os.path.abspath(m.__file__)) + os.sep
                   for m in (tl, __import__("fxlite")))


def _user_stack():
    frames = [f for f in traceback.extract_stack()[:-1]
              if not os.path.abspath(f.filename).startswith(_SKIP_DIRS)]
    return "".join(traceback.format_list(frames[-1:])) if frames else None


class ProxyMode(DispatchMode):
    """The tracing mode: every primitive call becomes a node of `self.graph`.

    Values are computed by the mode below (eager, or FakeTensorMode for fake tracing).
    """

    def __init__(self, graph, *, fake=False, record_stack_traces=False):
        self.graph = graph
        self.fake = fake
        self.record_stack_traces = record_stack_traces
        self._node_of = {}  # id(tensor) -> Node
        self._node_of_data = {}  # id(tensor._data) -> Node
        self._view_version = {}  # id(view) -> base version when its node was recorded
        self._alive = []  # keeps traced tensors alive so their ids stay unique
        self.constants = {}  # attribute name -> tensor

    # -- tensors <-> nodes ---------------------------------------------------------------
    def bind_tensor(self, t, node):
        self._node_of[id(t)] = node
        if t._base is not None:  # the version of the base this view's node reflects
            self._view_version[id(t)] = t._vc[0]
        # saved outputs are unpacked for backward as new tensors around the same array
        self._node_of_data[id(t._data)] = node
        self._alive.append((t, t._data))
        node.meta["val"] = self._meta(t)

    def _meta(self, t):
        if self.fake:
            return FakeTensorMode.from_real(t) if not is_fake(t) else t
        return TensorMeta(tuple(t._data.shape), t.dtype, t.requires_grad)

    def node_of(self, t):
        """The node computing t; an untraced tensor becomes a `_tensor_constantN` get_attr."""
        node = self._node_of.get(id(t))
        if node is not None and t._base is not None and self._view_version.get(id(t)) != t._vc[0]:
            node = self._regenerate_view(t)
        if node is None:
            node = self._node_of_data.get(id(t._data))
        if node is None:
            name = f"_tensor_constant{len(self.constants)}"
            self.constants[name] = t
            node = self.graph.get_attr(name)
            self.bind_tensor(t, node)
        return node

    def _regenerate_view(self, t):
        """t's base changed in place after t was computed: replay t's view ops on the base's
        current value (the eager view sees the new values through shared memory)."""
        saved_mode, saved_grad = tl._state.mode, tl._state.grad_enabled
        tl._state.mode, tl._state.grad_enabled = self.previous, False
        try:
            cur = t._base
            for prim, extra, params in t._view_chain:
                cur = self.dispatch(prim, (cur, *extra), params)
        finally:
            tl._state.mode, tl._state.grad_enabled = saved_mode, saved_grad
        node = self._node_of[id(cur)]
        self._node_of[id(t)] = node
        self._view_version[id(t)] = t._vc[0]
        return node

    def rebind(self, t, value):
        """t now holds value (an in-place write through a view into its base t)."""
        self.bind_tensor(t, self.node_of(value))

    def alias(self, new, old):
        """new holds the value old has now (a copy made outside the primitive table)."""
        self.bind_tensor(new, self.node_of(old))

    def to_arg(self, a):
        return map_aggregate(a, lambda x: self.node_of(x) if isinstance(x, Tensor) else x)

    # -- the mode protocol ---------------------------------------------------------------
    def dispatch(self, prim, args, params):
        out = self.redispatch(prim, args, params)
        node = self._call(prim, self.to_arg(tuple(args)), self.to_arg(dict(params)))
        if prim.n_outputs == 1:
            self.bind_tensor(out, node)
        else:
            node.meta["val"] = tuple(self._meta(o) for o in out)
            for i, o in enumerate(out):
                item = self.graph.call_function(operator.getitem, (node, i))
                item.meta.update({k: v for k, v in node.meta.items() if k == "stack_trace"})
                self.bind_tensor(o, item)
        return out

    def _call(self, target, args, kwargs):
        node = self.graph.call_function(target, args, kwargs)
        if self.record_stack_traces:
            st = _user_stack()
            if st:
                node.meta["stack_trace"] = st
        return node

    def inplace(self, tensor, result):
        self.bind_tensor(tensor, self.node_of(result))
        base = tensor._base
        if base is not None and not (result.requires_grad and tl.is_grad_enabled()):
            # eager writes through the view without an op: record the scatter into the base
            node = self._call(
                tl.ops.view_scatter, (self.node_of(base), self.node_of(result)),
                {"chain": self.to_arg(tensor._view_chain)})
            self.bind_tensor(base, node)


def _flatten_inputs(fn, args):
    """[(placeholder name, value)] for every argument; lists/tuples/dicts are flattened."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = []
    i = 0
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            names += [p.name] * (len(args) - i)
            i = len(args)
        elif p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and i < len(args):
            names.append(p.name)
            i += 1
    names += [f"arg{j}" for j in range(i, len(args))]
    return names


def make_fx(fn, *, tracing_mode="real", record_stack_traces=False, decomposition_table=None):
    """Return a function that traces `fn(*args)` into a GraphModule of tensorlite primitives.

    tracing_mode="real" runs fn on copies of the inputs (real values, so data-dependent Python
    control flow is specialised); "fake" runs it on fake tensors (shapes and dtypes only).

    >>> import tensorlite as tl, fxlite
    >>> def f(x):
    ...     y = (x * x).sum()
    ...     y.backward()
    ...     return x.grad
    >>> gm = fxlite.make_fx(f)(tl.ones(2, requires_grad=True))
    >>> [n.target for n in gm.graph.nodes if n.op == "call_function"][:3]
    [tl.ops.mul, tl.ops.sum, tl.ops.full]
    """
    if tracing_mode not in ("real", "fake"):
        raise ValueError(f"make_fx: unsupported tracing_mode {tracing_mode!r} (expected 'real' or 'fake')")

    def wrapped(*args):
        graph = Graph()
        fake_mode = FakeTensorMode() if tracing_mode == "fake" else None
        mode = ProxyMode(graph, fake=fake_mode is not None, record_stack_traces=record_stack_traces)
        names = _flatten_inputs(fn, args)
        counters = {}

        def make_input(x, name):
            counters[name] = counters.get(name, 0) + 1
            ph = graph.placeholder(f"{name}_{counters[name]}")
            if not isinstance(x, Tensor):
                ph.meta["val"] = x
                return x
            if fake_mode is not None:
                t = fake_mode.from_real(x)
                if t is x:
                    t = fake_mode.empty(x._data.shape, x._data.dtype, x.requires_grad)
            else:
                t = Tensor._wrap(np.array(x._data, copy=True))
                if x.requires_grad:
                    t.requires_grad = True
            mode.bind_tensor(t, ph)
            return t

        inputs = [map_aggregate(a, lambda x, n=n: make_input(x, n)) for a, n in zip(args, names)]
        if fake_mode is not None:
            with fake_mode, mode:
                result = fn(*inputs)
        else:
            with mode:
                result = fn(*inputs)
        graph.output(mode.to_arg(result))
        name = getattr(fn, "__name__", "GraphModule")
        if not name.isidentifier():
            name = "fn" if name == "<lambda>" else "GraphModule"
        return GraphModule(dict(mode.constants), graph, name)

    return wrapped
