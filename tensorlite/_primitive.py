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
                 "save_outputs", "save_if", "node_name", "differentiable_outputs", "__weakref__")

    def __init__(self, name, impl, meta, backward=None, *, n_outputs=1, view=False,
                 save_inputs=(), save_outputs=(), save_if=None, node_name=None):
        self.name = name
        self.impl = impl
        self.meta = meta
        self.backward = backward
        self.n_outputs = n_outputs
        self.view = view
        self.save_inputs = save_inputs
        self.save_outputs = save_outputs
        # save_if[k]: the saved input k is needed only if one of these inputs needs a gradient
        # (mul saves a only for b's gradient); unneeded ones are saved as None, as PyTorch does.
        self.save_if = save_if
        self.node_name = node_name or _camel(name) + "Backward0"
        PRIMITIVES[name] = self

    def __call__(self, *args, **params):
        return bind(self, args, params)

    def __repr__(self):
        return f"tl.ops.{self.name}"

    def __reduce__(self):
        # by name: a bound PRIMITIVES.__getitem__ would pickle a copy of the whole table
        return (lookup, (self.name,))


def lookup(name):
    """The primitive registered under name (what a pickled Primitive loads as)."""
    from . import _prims  # noqa: F401  (registers every primitive)
    return PRIMITIVES[name]


def bind(prim, args, params):
    """Run one primitive: through the active dispatch mode if any, else eagerly."""
    mode = _state.mode
    if mode is not None:
        return mode.process(prim, args, params)
    return eager(prim, args, params)


def eager(prim, args, params):
    arrays = [a._data if a.__class__ is Tensor or isinstance(a, Tensor) else a for a in args]
    out = prim.impl(*arrays, **params)
    if prim.n_outputs == 1:
        t = _new(Tensor)
        t._data = out if out.__class__ is np.ndarray else np.asarray(out)
        if prim.view:
            _mark_view(args[0], t, prim, args[1:], params)
        if _state.grad_enabled:
            for a in args:
                if a.__class__ is Tensor and a._rg or isinstance(a, Tensor) and a._rg:
                    record(prim, args, params, (t,))
                    break
        return t
    wrap = Tensor._wrap
    outs = tuple(wrap(o if o.__class__ is np.ndarray else np.asarray(o)) for o in out)
    if prim.view:
        _mark_view(args[0], outs[0], prim, args[1:], params)
    if _state.grad_enabled:
        record(prim, args, params, outs)
    return outs


_new = object.__new__


def _is_view_of(out, src, prim, params):
    if prim.name == "index":  # basic indexing views, advanced (tensor) indexing copies
        return not any(s.__class__ is _TensorSlot for s in params["spec"])
    if prim.name == "reshape":  # a copy only when the source is not contiguous
        return src._data.flags.c_contiguous or np.may_share_memory(out._data, src._data)
    return True


def _mark_view(src, out, prim, extra, params):
    if not _is_view_of(out, src, prim, params):
        return
    base = src._base if src._base is not None else src
    if base._vc is None:
        base._vc = [0]
    out._base = base
    out._vc = base._vc
    out._view_version = base._vc[0]
    chain = src._view_chain if src._base is not None else ()
    out._view_chain = chain + ((prim, extra, params),)


def record(prim, args, params, outs):
    """Attach a backward node to outs if an input requires grad (the caller checks grad mode)."""
    edges = []
    in_meta = []
    any_rg = False
    for a in args:
        if isinstance(a, Tensor):
            d = a._data
            in_meta.append((d.shape, d.dtype))
            if a._rg:
                any_rg = True
                fn = a.grad_fn
                edges.append((fn, a._out_nr) if fn is not None and a._base is None else a._edge())
                continue
        else:
            in_meta.append(None)
        edges.append(None)
    if not any_rg:
        return None
    if prim.backward is None:
        if prim.name != "detach" and any(o._data.dtype.kind == "f" for o in outs):
            raise RuntimeError(f"the derivative for '{prim.name}' is not implemented")
        return None
    n = len(outs)
    if n == 1:
        node = PrimNode(prim, tuple(edges), tuple(in_meta), params)
    else:
        node = PrimNode(prim, tuple(edges), tuple(in_meta), params, n,
                        tuple((o._data.shape, o._data.dtype) for o in outs))
    for i, o in enumerate(outs):
        if o._data.dtype.kind == "f":
            o.grad_fn = node
            o._out_nr = i
            o._rg = True
    _save(node, prim, args, outs)
    return node


def _save(node, prim, args, outs):
    sel = prim.save_inputs
    if not sel and not prim.save_outputs:
        return
    chosen = args[sel] if sel.__class__ is slice else [args[i] for i in sel]
    cond = prim.save_if
    saved = []
    for k, a in enumerate(chosen):
        if cond is not None and not any(node._next[j] is not None for j in cond[k]):
            saved.append(None)
        else:
            saved.append(SavedTensor(a) if isinstance(a, Tensor) else a)
    for i in prim.save_outputs:
        saved.append(SavedTensor(outs[i], i))
    node._saved = tuple(saved)


def record_unary(prim, a, t):
    """record() for one tensor input that requires grad and one output (the hot path)."""
    if prim.backward is None:
        return _no_backward(prim, t)
    fn = a.grad_fn
    d = a._data
    node = PrimNode(prim, ((fn, a._out_nr) if fn is not None and a._base is None else a._edge(),),
                    ((d.shape, d.dtype),), _EMPTY)
    if t._data.dtype.kind == "f":
        t.grad_fn = node
        t._rg = True
    sel = prim.save_inputs
    if sel == (0,) and not prim.save_outputs:
        node._saved = (SavedTensor(a),)
    elif not sel and prim.save_outputs == (0,):
        node._saved = (SavedTensor(t, 0),)
    elif sel or prim.save_outputs:
        _save(node, prim, (a,), (t,))
    return node


def record_binary(prim, a, b, t):
    """record() for (tensor, tensor-or-scalar) inputs, one output (the hot path)."""
    if prim.backward is None:
        return _no_backward(prim, t)
    da = a._data
    if a._rg:
        fn = a.grad_fn
        ea = (fn, a._out_nr) if fn is not None and a._base is None else a._edge()
    else:
        ea = None
    if b.__class__ is Tensor or isinstance(b, Tensor):
        db = b._data
        mb = (db.shape, db.dtype)
        if b._rg:
            fn = b.grad_fn
            eb = (fn, b._out_nr) if fn is not None and b._base is None else b._edge()
        else:
            eb = None
    else:
        mb = eb = None
    node = PrimNode(prim, (ea, eb), ((da.shape, da.dtype), mb), _EMPTY)
    if t._data.dtype.kind == "f":
        t.grad_fn = node
        t._rg = True
    sel = prim.save_inputs
    cond = prim.save_if
    if cond is not None:
        if cond == _CROSS and not prim.save_outputs:  # mul, matmul: a for b's grad, b for a's
            node._saved = (SavedTensor(a) if eb is not None else None,
                           (SavedTensor(b) if mb is not None else b) if ea is not None else None)
        else:
            _save(node, prim, (a, b), (t,))
    elif sel == (0, 1):
        sb = SavedTensor(b) if mb is not None else b
        if prim.save_outputs:
            node._saved = (SavedTensor(a), sb, SavedTensor(t, 0))
        else:
            node._saved = (SavedTensor(a), sb)
    elif sel or prim.save_outputs:
        _save(node, prim, (a, b), (t,))
    return node


def _no_backward(prim, t):
    if t._data.dtype.kind == "f":
        raise RuntimeError(f"the derivative for '{prim.name}' is not implemented")
    return None


_EMPTY = {}
_TensorSlot = None  # set by _prims (the marker class of tensor positions in an index spec)
_CROSS = ((1,), (0,))
Tensor = None  # set by _tensor.py once the class exists (avoids an import per call)
