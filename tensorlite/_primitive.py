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
import linecache

import numpy as np

from . import _state
from ._node import PrimNode, SavedTensor

PRIMITIVES = {}


def _camel(name):
    return "".join(p[:1].upper() + p[1:] for p in name.split("_"))


class Primitive:
    __slots__ = ("name", "impl", "meta", "backward", "n_outputs", "view", "output_view",
                 "save_inputs", "save_outputs", "save_if", "save", "node_name", "__weakref__")

    def __init__(self, name, impl, meta, backward=None, *, n_outputs=1, view=False,
                 output_view=None, save_inputs=(), save_outputs=(), save_if=None, node_name=None):
        self.name = name
        self.impl = impl
        self.meta = meta
        self.backward = backward
        # 1, a fixed number of outputs, or None: a tuple whose length the inputs decide (unbind);
        # a multi-output primitive's node has one output per result, as PyTorch's UnbindBackward0
        self.n_outputs = n_outputs
        self.view = view
        # a multi-output view: output_view(i, **params) -> (prim, extra, params), the one-output
        # view op computing output i (what a view's history is regenerated with)
        self.output_view = output_view
        self.save_inputs = save_inputs
        self.save_outputs = save_outputs
        # save_if[k]: the saved input k is needed only if one of these inputs needs a gradient
        # (mul saves a only for b's gradient); unneeded ones are saved as None, as PyTorch does.
        self.save_if = save_if
        # save(node, args, outs) stores what backward reads as ctx.saved; None: nothing saved
        self.save = _saver(name, save_inputs, save_if, save_outputs)
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
        t = tensor_of(out)
        if prim.view:
            _mark_view(args[0], t, prim, args[1:], params)
            if inference_depth:  # a view of a normal tensor is a normal tensor, as in PyTorch
                t._inference = args[0]._inference
        if _state.grad_enabled:
            for a in args:
                if a.__class__ is Tensor and a._rg or isinstance(a, Tensor) and a._rg:
                    record(prim, args, params, (t,))
                    break
        return t
    outs = tuple(tensor_of(o) for o in out)
    if prim.view:
        mark_views(args[0], outs, prim, args[1:], params)
        if inference_depth:
            for o in outs:
                o._inference = args[0]._inference
    if _state.grad_enabled:
        record(prim, args, params, outs)
    return outs


def tensor_of(out):
    """A new Tensor holding the result of a primitive's impl. numpy returns a scalar rather than
    a 0-d array from a ufunc on 0-d operands and from a full reduction; a Tensor always holds an
    ndarray."""
    t = _new(Tensor)
    t._data = out if out.__class__ is np.ndarray else np.asarray(out)
    if inference_depth and _state._local.inference:
        t._inference = True
    return t


_new = object.__new__
# How many tl.inference_mode() blocks are open, in all threads (grad_mode keeps it): while it
# is 0, tensor_of pays one global read for inference tensors.
inference_depth = 0


def _is_view_of(out, src, prim, params):
    if prim.name == "index":  # basic indexing views, advanced (tensor) indexing copies
        return not any(s.__class__ is _TensorSlot for s in params["spec"])
    if prim.name == "reshape":  # a copy only when the source is not contiguous
        return src._data.flags.c_contiguous or np.may_share_memory(out._data, src._data)
    return True


def mark_views(src, outs, prim, extra, params):
    """Mark the outputs of view primitive prim as views of src: each output of a multi-output
    view through the one-output view op that computes it."""
    if prim.output_view is None:
        _mark_view(src, outs[0], prim, extra, params)
        return
    for i, o in enumerate(outs):
        vprim, vextra, vparams = prim.output_view(i, **params)
        _mark_view(src, o, vprim, vextra, vparams)


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
    if inference_depth and _state._local.inference:
        out._creation_meta = "inference"
    elif not _state.grad_enabled:
        out._creation_meta = "no_grad"
    elif src._creation_meta is not None:  # a view of such a view keeps how the first was made
        out._creation_meta = src._creation_meta


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
                edges.append(a._edge())
                continue
        else:
            in_meta.append(None)
        edges.append(None)
    if not any_rg:
        return None
    if prim.backward is None:
        return _no_backward(prim, outs)
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
    if prim.save is not None:
        prim.save(node, args, outs)
    return node


def record_unary(prim, a, t):
    """record() for one tensor input that requires grad and one output (the hot path)."""
    if prim.backward is None:
        return _no_backward(prim, (t,))
    d = a._data
    node = PrimNode(prim, (a._edge(),), ((d.shape, d.dtype),), _EMPTY)
    if t._data.dtype.kind == "f":
        t.grad_fn = node
        t._rg = True
    if prim.save is not None:
        prim.save(node, (a,), (t,))
    return node


def record_binary(prim, a, b, t):
    """record() for (tensor, tensor-or-scalar) inputs, one output (the hot path)."""
    if prim.backward is None:
        return _no_backward(prim, (t,))
    da = a._data
    ea = a._edge() if a._rg else None
    if b.__class__ is Tensor or isinstance(b, Tensor):
        db = b._data
        node = PrimNode(prim, (ea, b._edge() if b._rg else None),
                        ((da.shape, da.dtype), (db.shape, db.dtype)), _EMPTY)
    else:
        node = PrimNode(prim, (ea, None), ((da.shape, da.dtype), None), _EMPTY)
    if t._data.dtype.kind == "f":
        t.grad_fn = node
        t._rg = True
    if prim.save is not None:
        prim.save(node, (a, b), (t,))
    return node


def _saver(name, inputs, needed_by, outputs):
    """The function save(node, args, outs) that sets node._saved, or None if nothing is saved.

    node._saved is args[i] for i in inputs, then outs[i] for i in outputs, each tensor as a
    SavedTensor. needed_by[k] lists the inputs whose gradients use saved input k; when none of
    them needs a gradient the input is saved as None, as PyTorch does: x * w with a frozen w
    needs w for x's gradient and must not keep x alive.
    """
    if inputs.__class__ is slice:  # index ops: the positions depend on the number of inputs
        by_arity = {}

        def save(node, args, outs):
            f = by_arity.get(len(args))
            if f is None:
                f = by_arity[len(args)] = _compile_save(
                    name, range(len(args))[inputs], needed_by, outputs)
            f(node, args, outs)
        return save
    if not inputs and not outputs:
        return None
    return _compile_save(name, inputs, needed_by, outputs)


def _compile_save(name, inputs, needed_by, outputs):
    """_saver's function, compiled once per primitive (and arity) because it runs for every
    recorded op: the loop over inputs and outputs unrolled into one line per saved value, each
    line spelling out the rule above for its fixed positions."""
    lines = ["def save(node, args, outs):"]
    saved = []
    for k, i in enumerate(inputs):
        lines.append(f"    a{k} = args[{i}]")
        value = f"SavedTensor(a{k}) if a{k}.__class__ is Tensor or isinstance(a{k}, Tensor) else a{k}"
        if needed_by is not None:
            needed = " or ".join(f"node._next[{j}] is not None" for j in needed_by[k])
            value = f"({value}) if {needed} else None"
        lines.append(f"    s{k} = {value}")
        saved.append(f"s{k}")
    saved += [f"SavedTensor(outs[{i}], {i})" for i in outputs]
    lines.append(f"    node._saved = ({', '.join(saved)}{',' if len(saved) == 1 else ''})")
    src = "\n".join(lines) + "\n"
    filename = f"<tensorlite save {name} {len(inputs)}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)  # tracebacks
    namespace = {}
    exec(compile(src, filename, "exec"), globals(), namespace)  # noqa: S102 - generated code
    return namespace["save"]


def _no_backward(prim, outs):
    """An op without a derivative is an error only if it would have to carry a gradient."""
    if prim.name != "detach" and any(o._data.dtype.kind == "f" for o in outs):
        raise RuntimeError(f"the derivative for '{prim.name}' is not implemented")
    return None


_EMPTY = {}
_TensorSlot = None  # set by _prims (the marker class of tensor positions in an index spec)
Tensor = None  # set by _tensor.py, which imports this module, once the class exists
