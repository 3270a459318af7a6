"""The primitive table: every tensorlite op is one Primitive or a composite of them.

A Primitive has
  * impl(*arrays, **params)      -> numpy array(s)        (eager execution)
  * meta(*tensors, **params)     -> (shape, np dtype)(s)  (shape/dtype rule, no values)
  * backward(ctx, *grads)        -> grad per input        (written with tensorlite ops)
Eager execution, fake tensors, make_fx and AOT autograd are interpreters of this table.

>>> from tensorlite._primitive import PRIMITIVES
>>> PRIMITIVES["sin"].node_name
'SinBackward0'
"""
import numpy as np

from . import _state
from ._node import PrimNode, SavedTensor

PRIMITIVES = {}


def _camel(name):
    return "".join(p[:1].upper() + p[1:] for p in name.split("_"))


class Primitive:
    __slots__ = ("name", "impl", "meta", "backward", "n_outputs", "view", "save_inputs",
                 "save_outputs", "node_name", "differentiable_outputs", "__weakref__")

    def __init__(self, name, impl, meta, backward=None, *, n_outputs=1, view=False,
                 save_inputs=(), save_outputs=(), node_name=None):
        self.name = name
        self.impl = impl
        self.meta = meta
        self.backward = backward
        self.n_outputs = n_outputs
        self.view = view
        self.save_inputs = save_inputs
        self.save_outputs = save_outputs
        self.node_name = node_name or _camel(name) + "Backward0"
        PRIMITIVES[name] = self

    def __call__(self, *args, **params):
        return bind(self, args, params)

    def __repr__(self):
        return f"tl.ops.{self.name}"

    def __reduce__(self):
        return (PRIMITIVES.__getitem__, (self.name,))


def bind(prim, args, params):
    """Run one primitive: through the active dispatch mode if any, else eagerly."""
    mode = _state.mode
    if mode is not None:
        return mode.process(prim, args, params)
    return eager(prim, args, params)


def eager(prim, args, params):
    from ._tensor import Tensor

    arrays = [a._data if isinstance(a, Tensor) else a for a in args]
    out = prim.impl(*arrays, **params)
    wrap = Tensor._wrap
    if prim.n_outputs == 1:
        outs = (wrap(out if type(out) is np.ndarray else np.asarray(out)),)
    else:
        outs = tuple(wrap(o if type(o) is np.ndarray else np.asarray(o)) for o in out)
    if prim.view:
        _mark_view(args[0], outs[0], prim, args[1:], params)
    if _state.grad_enabled:
        record(prim, args, params, outs)
    return outs[0] if prim.n_outputs == 1 else outs


def _mark_view(src, out, prim, extra, params):
    if prim.name in ("reshape", "index") and not np.may_share_memory(out._data, src._data):
        return
    base = src._base if src._base is not None else src
    if base._vc is None:
        base._vc = [0]
    out._base = base
    out._vc = base._vc
    chain = src._view_chain if src._base is not None else ()
    out._view_chain = chain + ((prim, extra, params),)


def record(prim, args, params, outs):
    """Attach a backward node to outs if grad mode is on and an input requires grad."""
    from ._tensor import Tensor

    edges = []
    any_rg = False
    for a in args:
        if isinstance(a, Tensor) and a._rg:
            any_rg = True
            edges.append(a._edge())
        else:
            edges.append(None)
    if not any_rg:
        return
    if prim.backward is None:
        if prim.name != "detach" and any(o._data.dtype.kind == "f" for o in outs):
            raise RuntimeError(f"the derivative for '{prim.name}' is not implemented")
        return
    in_meta = tuple((a._data.shape, a._data.dtype) if isinstance(a, Tensor) else None for a in args)
    out_meta = tuple((o._data.shape, o._data.dtype) for o in outs)
    node = PrimNode(prim, tuple(edges), in_meta, params, len(outs), out_meta)
    saved = []
    sel = prim.save_inputs
    for a in (args[sel] if isinstance(sel, slice) else [args[i] for i in sel]):
        saved.append(SavedTensor(a) if isinstance(a, Tensor) else a)
    for i in prim.save_outputs:
        saved.append(SavedTensor(outs[i], True))
    node._saved = tuple(saved)
    for i, o in enumerate(outs):
        if o._data.dtype.kind == "f":
            o.grad_fn = node
            o._out_nr = i
            o._rg = True
    return node
