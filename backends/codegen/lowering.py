"""Lowering: one numpy emitter per tensorlite primitive.

Every primitive lowers to one of
  * `Steps`: a short sequence of numpy ufunc calls that can write into an `out=` buffer
    (elementwise ops, sums, max/min reductions, matmul), or
  * an expression string (views, `np.where`, casts, ...), or, for everything else,
  * a call of the primitive's own eager implementation (`_impl_index_put(...)`), which is
    always correct because it *is* what eager tensorlite runs.

A `Steps` lowering is used only when numpy's natural result dtype of every step equals the
dtype the graph recorded (probed on tiny dummy arrays at compile time); otherwise the
eager implementation runs, so promotion always matches eager tensorlite exactly.

>>> import numpy as np
>>> from backends.codegen.lowering import literal
>>> literal((1, slice(None, 2), None, float("inf")), {})
'(1, slice(None, 2, None), None, _inf)'
"""
import hashlib
import math
import operator
import struct

import numpy as np

import tensorlite as tl
from tensorlite._dtype import dtype as _TlDtype
from tensorlite._primitive import PRIMITIVES, Primitive
from tensorlite import _prims
from fxlite.codegen import literal as _fx_literal

_pack_d = struct.Struct("<d").pack
_unpack_q = struct.Struct("<Q").unpack
_NAN_BITS = _pack_d(math.nan)


def _f64bits(n, _pack_q=struct.Struct("<Q").pack, _unpack_d=struct.Struct("<d").unpack):
    """The float whose IEEE-754 bits are the integer n (a nan with its payload and sign)."""
    return _unpack_d(_pack_q(n))[0]


_NUMPY_TYPES = set(np.sctypeDict.values()) | {np.ndarray}

__all__ = ["literal", "Steps", "lower_node", "VIEW_PRIMS", "ELEMENTWISE", "probe_dtype", "typed_scalars", "impl_call"]

BINARY_UFUNCS = {
    "add": "np.add", "sub": "np.subtract", "mul": "np.multiply", "div": "np.true_divide",
    "pow": "np.power", "maximum": "np.maximum", "minimum": "np.minimum",
    "floor_divide": "np.floor_divide", "remainder": "np.remainder",
    "bitwise_and": "np.bitwise_and", "bitwise_or": "np.bitwise_or", "bitwise_xor": "np.bitwise_xor",
    "eq": "np.equal", "ne": "np.not_equal", "lt": "np.less", "le": "np.less_equal",
    "gt": "np.greater", "ge": "np.greater_equal",
}
UNARY_UFUNCS = {"neg": "np.negative", "abs": "np.absolute", "sign": "np.sign",
                "logical_not": "np.logical_not", "bitwise_not": "np.invert",
                "floor": "np.floor", "ceil": "np.ceil"}
FLOAT_UFUNCS = {"exp": "np.exp", "log": "np.log", "sin": "np.sin", "cos": "np.cos",
                "tanh": "np.tanh", "sqrt": "np.sqrt"}
ELEMENTWISE = set(BINARY_UFUNCS) | set(UNARY_UFUNCS) | set(FLOAT_UFUNCS) | {
    "relu", "rsqrt", "clamp", "sigmoid", "erf", "round", "where", "cast", "clone"}
# results that share memory with their first argument
VIEW_PRIMS = {"reshape", "permute", "expand", "index", "detach", "unbind"}

# ufuncs taking `out` as their last positional argument (np.maximum/np.minimum deprecate it)
POSITIONAL_OUT = (set(BINARY_UFUNCS.values()) | set(UNARY_UFUNCS.values()) | set(FLOAT_UFUNCS.values())
                  | {"np.rint"}) - {"np.maximum", "np.minimum"}

PREV = object()  # a step operand meaning "the previous step's result"


class Uncacheable(Exception):
    """A parameter has no source form: the kernel works but is kept out of the disk cache."""


def _np_eval(ufunc_src):
    if not ufunc_src.startswith("np."):
        return globals()[ufunc_src]
    obj = np
    for part in ufunc_src.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def literal(v, consts, node_src=None):
    """Python source for a parameter value that evaluates to exactly v (its type, its value,
    the sign of a zero, a nan's payload). Scalars are written out only where
    fxlite.codegen.literal writes them: exact types whose repr reads back bit for bit. Containers
    of exact type (tuple, list, dict, slice) are written structurally. Every other value is
    bound by name in `consts` as `_kN`: arrays, numpy scalars (as 0-d arrays, which the kernel's
    namespace turns back into scalars of their own type), and objects such as IntEnum members
    and other subclasses. A Node is written as node_src(node). Floats, ints and complex numbers
    without a round-tripping repr are written exactly: inf and the canonical nan (math.nan's
    bits) as the kernel's names `_inf` and `_nan`, another nan as `_f64bits(<its bits>)`, a
    huge int in hex (no int-str digit limit), a complex as complex(<real>, <imag>).

    >>> literal((-0.0, 1, None, slice(None, 2)), {})
    '(-0.0, 1, None, slice(None, 2, None))'
    >>> literal(-float("nan"), {}), literal(complex(-0.0, -0.0), {})
    ('_f64bits(0xfff8000000000000)', 'complex(-0.0, -0.0)')
    >>> import enum
    >>> consts = {}
    >>> literal(enum.IntEnum("E", "A").A, consts), consts
    ('_k0', {'_k0': <E.A: 1>})
    """
    from fxlite import Node
    if isinstance(v, Node):
        return node_src(v)
    text = _exact(v)
    if text is not None:
        return text
    text = _compound(v, lambda x: literal(x, consts, node_src))
    return text if text is not None else _bind(v, consts)


def _compound(v, part):
    """Text for a tuple, list, dict or slice with each part written by part(), or None."""
    t = type(v)
    if t is tuple:
        items = [part(x) for x in v]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if t is list:
        return "[" + ", ".join(part(x) for x in v) + "]"
    if t is dict:
        return "{" + ", ".join(f"{part(k)}: {part(x)}" for k, x in v.items()) + "}"
    if t is slice:
        return f"slice({part(v.start)}, {part(v.stop)}, {part(v.step)})"
    return None


def _exact(v):
    """Source text naming exactly v without binding it, or None."""
    text = _fx_literal(v)
    if text is not None:
        return text
    t = type(v)
    if t is int:  # past any int-str digit limit in decimal; hex has none
        return hex(v)
    if t is complex:  # signed zeros, inf or nan parts: each part written exactly
        return f"complex({_exact(v.real)}, {_exact(v.imag)})"
    if t is float:
        if v == math.inf:
            return "_inf"
        if v == -math.inf:
            return "-_inf"
        bits = _pack_d(v)
        return "_nan" if bits == _NAN_BITS else f"_f64bits({hex(_unpack_q(bits)[0])})"  # a nan
    if t is _TlDtype:
        name = "bool_" if v.name == "bool" else v.name
        return f"tl.{name}" if getattr(tl, name, None) is v else None
    if isinstance(v, np.dtype):  # np.dtype("float32") is a Float32DType
        for spelling in (v.name, v.str):
            try:
                if np.dtype(spelling) is v:
                    return f"np.dtype({spelling!r})"
            except TypeError:
                pass
        return None
    if t is Primitive:
        return f"_P[{v.name!r}]" if PRIMITIVES.get(v.name) is v else None
    if v is _prims._TENSOR:
        return "_T"
    return None


def _bind(v, consts):
    for name, c in consts.items():  # one name per object
        if c is v:
            return name
    if isinstance(v, np.ndarray) and v.ndim == 0:
        v = v[()]
    if isinstance(v, np.generic) and v.dtype.kind in "biufc":
        v = np.array(v)  # 0-d: disk-cacheable; the kernel's namespace reads it as v[()]
    name = f"_k{len(consts)}"
    consts[name] = v
    return name


def key_text(v, node_src=None):
    """Text identifying a parameter value exactly, for cache keys and CSE: equal texts mean the
    same type and the same bits (never `==`: 0.0 == -0.0, 1 == 1.0 == True, and all nans
    would share one key). Arrays and numpy scalars are described by dtype, shape and bytes.
    Values without such a description (objects, subclasses) raise Uncacheable."""
    from fxlite import Node
    if isinstance(v, Node):
        return node_src(v)
    text = _exact(v)
    if text is not None:
        return text
    text = _compound(v, lambda x: key_text(x, node_src))
    if text is not None:
        return text
    t = type(v)
    if isinstance(v, (np.generic, np.ndarray)) and type(v) in _NUMPY_TYPES and v.dtype.kind in "biufc":
        a = np.asarray(v)
        data = a.tobytes()  # C order, whatever the strides
        digest = data.hex() if len(data) <= 64 else hashlib.sha256(data).hexdigest()
        return f"<{t.__name__} {a.dtype.str} {a.shape} {digest}>"
    raise Uncacheable(f"no exact key for {t.__name__}")


class Steps:
    """ufunc calls computing one value; operands are source strings or PREV."""

    __slots__ = ("calls",)

    def __init__(self, calls):
        self.calls = calls  # [(ufunc_src, [operand], {kw: src})]

    def late_reads(self):
        """Operands read by a step after the first (its output must not alias them)."""
        return {o for _, ops, kw in self.calls[1:] for o in list(ops) + list(kw.values())
                if o is not PREV and isinstance(o, str)}

    def emit(self, name, out, scalar=False):
        """Statements computing `name`, the first writing into `out` (None: numpy allocates).
        A 0-d result numpy allocated is a numpy scalar, never an `out=` target (`scalar`)."""
        lines = []
        for i, (fn, ops, kw) in enumerate(self.calls):
            args = [name if o is PREV else o for o in ops]
            extra = "".join(f", {k}={v}" for k, v in kw.items())
            target = out if i == 0 else (None if scalar and out is None else name)
            if target is not None:
                # a ufunc reads a positional argument after its inputs as `out`, exactly as
                # out=; np.maximum/np.minimum deprecate that (not in POSITIONAL_OUT), and a call
                # with keywords keeps out= (after a keyword, a positional one is a SyntaxError)
                extra += f", {target}" if fn in POSITIONAL_OUT and not kw else f", out={target}"
            lines.append(f"{name} = {fn}({', '.join(args)}{extra})")
        return lines


def probe_dtype(steps, probes):
    """numpy's result dtype of each step, run on tiny dummy operands (probes: src -> value)."""
    prev = None
    dts = []
    with np.errstate(all="ignore"):
        for fn, ops, kw in steps.calls:
            vals = [prev if o is PREV else probes[o] for o in ops]
            kwv = {k: eval(v, impl_namespace()) for k, v in kw.items()}
            prev = np.asarray(_np_eval(fn)(*vals, **kwv))
            dts.append(prev.dtype)
    return dts


SMALL_CONST = 1024  # up to this many elements, a typed scalar operand is a full-shape array
_TYPED_UFUNCS = {"np.add", "np.subtract", "np.multiply", "np.true_divide", "np.maximum", "np.minimum"}


def typed_scalars(steps, m, consts, probes, ns):
    """Steps with each Python-number operand of a binary ufunc step replaced by a constant of
    the other operand's dtype (bound in consts); m: the TensorMeta of the result, probes: the
    operands' dummy values by source (as for probe_dtype), ns: the kernel's namespace.

    numpy converts a Python number to the other operand's dtype anyway, so the typed
    constant gives identical results; a number is left alone where that is not so: when it
    is not exactly representable in the dtype, or takes part in promotion (int * 2.0). On
    small arrays the constant is a full-shape array, which broadcasting makes the same
    operand; else a 0-d array, which the kernel's namespace holds as a numpy scalar.

    >>> consts = {}
    >>> x = np.zeros((1,), np.float32)
    >>> typed_scalars(Steps([("np.multiply", ["x", "2.0"], {})]), x, consts, {"x": x}, {}).calls
    [('np.multiply', ['x', '_k0'], {})]
    >>> consts
    {'_k0': array([2.], dtype=float32)}
    """
    if m is None or not m.shape:
        return steps
    shape = tuple(m.shape)
    small = int(np.prod(shape)) <= SMALL_CONST
    calls = []
    prev_dt = None
    for fn, ops, kw in steps.calls:
        new_ops = list(ops)
        if fn in _TYPED_UFUNCS and not kw and len(ops) == 2:
            dts = [prev_dt if o is PREV else _probed_dtype(o, probes) for o in ops]
            for i, o in enumerate(ops):
                typed = _typed_number(fn, i, o, dts, ns)
                if typed is not None:
                    new_ops[i] = f"_k{len(consts)}"
                    consts[new_ops[i]] = np.full(shape, typed) if small else typed
        calls.append((fn, new_ops, kw))
        prev_dt = _step_dtype(fn, ops, kw, prev_dt, probes)
    return Steps(calls)


def _probed_dtype(o, probes):
    try:
        v = probes[o]
    except Exception:
        return None
    return v.dtype if isinstance(v, np.ndarray) else None


def _typed_number(fn, i, o, dts, ns):
    """Operand i of the ufunc fn as a 0-d array of the other operand's dtype, if it is a
    Python number numpy would convert to exactly that (else None)."""
    other = dts[1 - i]
    if o is PREV or dts[i] is not None or other is None or other.kind not in "fiu":
        return None
    try:
        val = eval(o, ns)
    except Exception:
        return None
    if isinstance(val, bool) or not isinstance(val, (int, float)):
        return None
    with np.errstate(all="ignore"):
        typed = np.array(val, other)
    if not (typed == val or val != val):
        return None  # not exactly representable: leave numpy's rules alone
    try:
        with np.errstate(all="ignore"):
            ufunc = _np_eval(fn)
            z = np.zeros(1, other)
            pair = (val, z) if i == 0 else (z, val)
            tpair = (typed, z) if i == 0 else (z, typed)
            if ufunc(*pair).dtype != ufunc(*tpair).dtype:
                return None  # the Python number took part in promotion (int * 2.0)
    except Exception:
        return None
    return typed


def _step_dtype(fn, ops, kw, prev_dt, probes):
    """The dtype of a step's result on the probes (None if unknown)."""
    try:
        with np.errstate(all="ignore"):
            vals = [prev_dt and np.zeros((), prev_dt) if o is PREV else probes[o] for o in ops]
            return np.asarray(_np_eval(fn)(*vals)).dtype if not kw else None
    except Exception:
        return None


def _float_in(m):
    return m is not None and np.dtype(m.dtype.np).kind == "f"


def lower_node(node, src, meta, consts):
    """Steps, or an expression string, for one call_function node.

    src(arg) gives an argument's source; meta(arg) its TensorMeta (None for a scalar).
    """
    if node.target is operator.getitem:  # an output of a multi-output primitive call
        return f"{src(node.args[0])}[{node.args[1]}]"
    name = node.target.name
    s = [src(x) for x in node.args]
    low = _ufunc_steps(name, node.args, node.kwargs, s, meta, consts)
    if low is None:
        low = _reduction(name, node.args, node.kwargs, s, meta, consts)
    if low is None:
        low = _expression(node, name, node.kwargs, s, consts)
    return low if low is not None else impl_call(name, s, node.kwargs, consts, src)


def _ufunc_steps(name, a, p, s, meta, consts):
    """Steps of elementwise ufuncs (None: not an elementwise primitive numpy computes alike)."""
    if name in BINARY_UFUNCS and len(a) == 2:
        return Steps([(BINARY_UFUNCS[name], s, {})])
    if name in UNARY_UFUNCS:
        return Steps([(UNARY_UFUNCS[name], s, {})])
    if name in FLOAT_UFUNCS and _float_in(meta(a[0])):
        return Steps([(FLOAT_UFUNCS[name], s, {})])
    if name == "round" and _float_in(meta(a[0])):
        return Steps([("np.rint", s, {})])
    if name == "relu":
        return Steps([("np.maximum", [s[0], "0"], {})])
    if name == "rsqrt" and _float_in(meta(a[0])):
        return Steps([("np.sqrt", s, {}), ("np.true_divide", ["1", PREV], {})])
    if name == "clamp" and (p.get("min") is not None or p.get("max") is not None):
        calls, first = [], s[0]
        if p.get("min") is not None:
            calls.append(("np.maximum", [first, literal(p["min"], consts)], {}))
            first = PREV
        if p.get("max") is not None:
            calls.append(("np.minimum", [first, literal(p["max"], consts)], {}))
        return Steps(calls)
    if name == "sigmoid" and _float_in(meta(a[0])):
        # eager: where(a >= 0, 1 / (1 + e), e / (1 + e)) with e = exp(-|a|); same arithmetic
        return Steps([("np.absolute", s, {}), ("np.negative", [PREV], {}), ("np.exp", [PREV], {}),
                      ("_sigmoid_tail", [s[0], PREV], {})])
    return None


def _reduction(name, a, p, s, meta, consts):
    """Steps of sums, products, max/min reductions and matmul (an expression for a vector
    matmul)."""
    if name in ("sum", "prod"):
        dt = p.get("dtype")
        m = meta(a[0])
        if dt is None and np.dtype(m.dtype.np).kind in "biu":
            dt = tl.int64
        kw = {"axis": literal(tuple(p["dims"]), consts), "dtype": literal(dt, consts),
              "keepdims": literal(bool(p["keepdim"]), consts)}
        return Steps([("np.add.reduce" if name == "sum" else "np.multiply.reduce", s, kw)])
    if name in ("amax", "amin"):
        m = meta(a[0])
        if any(m.shape[d] == 0 for d in p["dims"]):
            return impl_call(name, s, p, consts)
        kw = {"axis": literal(tuple(p["dims"]), consts), "keepdims": literal(bool(p["keepdim"]), consts)}
        return Steps([("np.maximum.reduce" if name == "amax" else "np.minimum.reduce", s, kw)])
    if name == "matmul":
        if len(meta(a[0]).shape) >= 2 and len(meta(a[1]).shape) >= 2:
            return Steps([("np.matmul", s, {})])
        return f"np.matmul({s[0]}, {s[1]})"
    return None


def _expression(node, name, p, s, consts):
    """An expression for views, `where`, casts, copies, `full`, indexing and `cat` (or None)."""
    if name == "where":
        return f"np.where({s[0]}, {s[1]}, {s[2]})"
    if name == "cast":
        return f"{s[0]}.astype({literal(p['dtype'].np, consts)})"
    if name == "clone":
        return f"np.array({s[0]})"
    if name == "detach":
        return f"np.asarray({s[0]}).view()"
    if name == "reshape":
        return f"{s[0]}.reshape({literal(tuple(p['shape']), consts)})"
    if name == "permute":
        return f"{s[0]}.transpose({literal(tuple(p['dims']), consts)})"
    if name == "expand":
        return f"np.broadcast_to({s[0]}, {literal(tuple(p['shape']), consts)})"
    if name == "full":
        return f"np.full({literal(tuple(p['shape']), consts)}, {literal(p['value'], consts)}, " \
               f"dtype={literal(p['dtype'].np, consts)})"
    if name == "index":
        return _index_expr(s[0], s[1:], p["spec"], consts)
    if name == "cat":
        dt = node.meta["val"].dtype
        return f"np.concatenate(({', '.join(s)}{',' if len(s) == 1 else ''}), axis={literal(p['dim'], consts)}, " \
               f"dtype={literal(dt.np, consts)})"
    return None


def _index_expr(base, tensors, spec, consts):
    it = iter(tensors)
    parts = []
    simple = True
    for item in spec:
        if isinstance(item, _prims._TensorSlot):
            parts.append(next(it))
            simple = False
        elif isinstance(item, slice):
            f = ["" if v is None else literal(v, consts) for v in (item.start, item.stop, item.step)]
            parts.append(f"{f[0]}:{f[1]}" + (f":{f[2]}" if f[2] else ""))
            simple = False
        elif item is None or item is Ellipsis:
            parts.append(literal(item, consts))
            simple = False
        else:
            parts.append(literal(item, consts))
    if simple:  # all integers: a 0-d view rather than a numpy scalar, as eager does
        parts.append("...")
    if not parts:
        return f"{base}[...]"
    return f"{base}[{', '.join(parts)}{',' if len(parts) == 1 else ''}]"


def impl_call(name, s, params, consts, src=None):
    """A call of primitive `name`'s eager implementation on the sources s, params as keywords."""
    kw = "".join(f", {k}={literal(v, consts, src)}" for k, v in params.items())
    args = ", ".join(s)
    if not args:
        kw = kw[2:]
    return f"_impl_{name}({args}{kw})"


def impl_namespace():
    """The names generated code may use besides its constants."""
    ns = {"np": np, "tl": tl, "_P": PRIMITIVES, "_T": _prims._TENSOR, "_inf": math.inf,
          "_nan": math.nan, "_f64bits": _f64bits, "_sigmoid_tail": _sigmoid_tail}
    for n, prim in PRIMITIVES.items():
        ns[f"_impl_{n}"] = prim.impl
    return ns


def _sigmoid_tail(a, e, out=None):
    """1 / (1 + e) where a >= 0 else e / (1 + e), written into out (may be e itself)."""
    d = np.add(e, 1)
    pos = np.greater_equal(a, 0)
    res = np.true_divide(e, d, out=out)
    np.true_divide(1, d, out=res, where=pos)
    return res
