"""Definitions of the primitives: numpy implementation, shape/dtype rule, backward rule.

Backward rules take (ctx, *grads) and return one gradient (or None) per input; they are
written with tensorlite ops so that the backward itself records a graph under
create_graph=True and can be traced by make_fx.
"""
import contextvars
import math

import numpy as np

from ._dtype import promote, promote_operands, result_type
from . import _primitive
from ._primitive import Primitive

# ----------------------------------------------------------------------------- helpers


def _npdt(x):
    return x.dtype.np if hasattr(x, "_data") else None


def _aval(x):
    """(shape, dtype-or-scalar-type) of a tensor or a Python scalar."""
    if hasattr(x, "_data"):
        return x._data.shape, x._data.dtype
    return (), x


def broadcast_shapes(*shapes):
    if len(shapes) == 2:  # fast paths: equal shapes, or a scalar with a shape
        a, b = shapes
        if a.__class__ is tuple and b.__class__ is tuple:
            if a == b or not b:
                return a
            if not a:
                return b
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        if len(shapes) == 2:
            raise broadcast_error(*shapes) from None
        raise RuntimeError(
            "The size of tensors must match except in broadcasting dimensions: shapes "
            + " and ".join(str(list(s)) for s in shapes) + " are not broadcastable"
        ) from None


def sum_to(g, shape):
    """Reduce a broadcast gradient back to `shape`."""
    if g is None or g._data.shape == tuple(shape):
        return g
    lead = g._data.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and g._data.shape[i + lead] != 1)
    r = sum_(g, dims=axes, keepdim=True) if axes else g
    if r._data.shape != tuple(shape):
        r = reshape(r, shape=tuple(shape))
    return r


def _is_t(x):
    return hasattr(x, "_data")


# ----------------------------------------------------------------------------- elementwise


_PLAIN_SCALARS = (int, float, bool)


def _binary_meta(a, b):
    # a Python number needs no hasattr probe (which raises inside for it): the common operand
    if a.__class__ in _PLAIN_SCALARS:
        sa, da, ta = (), a, False
    else:
        (sa, da), ta = _aval(a), _is_t(a)
    if b.__class__ in _PLAIN_SCALARS:
        sb, db, tb = (), b, False
    else:
        (sb, db), tb = _aval(b), _is_t(b)
    return broadcast_shapes(sa, sb), promote_operands(da, ta and not sa, db, tb and not sb)


def _cmp_meta(a, b):
    sa, _ = _aval(a)
    sb, _ = _aval(b)
    return broadcast_shapes(sa, sb), np.dtype(np.bool_)


# numpy warns on overflow, 0/0, log(0), ...; PyTorch silently gives inf/nan. Rather than
# np.errstate around every op, ufuncs run inside one contextvars Context whose numpy error
# state is "ignore": numpy keeps its error state in a context variable, so the setting never
# leaks out of the Context. A Context can be entered by one thread at a time; when another
# thread is inside it, fall back to np.errstate.
_QUIET = contextvars.copy_context()
_QUIET.run(np.seterr, all="ignore")
_quiet_run = _QUIET.run


def quiet(fn, *args):
    """fn(*args) with numpy floating-point warnings off."""
    try:
        return _quiet_run(fn, *args)
    except RuntimeError as e:
        if "already entered" not in str(e):
            raise
        with np.errstate(all="ignore"):
            return fn(*args)


def broadcast_error(sa, sb):
    """PyTorch's message for shapes that do not broadcast, naming both shapes."""
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + tuple(sa), (1,) * (n - len(sb)) + tuple(sb)
    for d in range(n - 1, -1, -1):
        if pa[d] != pb[d] and pa[d] != 1 and pb[d] != 1:
            break
    return RuntimeError(
        f"The size of tensor a ({pa[d]}) must match the size of tensor b ({pb[d]}) at non-singleton "
        f"dimension {d} (shapes {list(sa)} and {list(sb)})")


def _run_binary(fn, a, b):
    try:
        return _quiet_run(fn, a, b)
    except RuntimeError:
        return quiet(fn, a, b)
    except ValueError:
        try:
            np.broadcast_shapes(np.shape(a), np.shape(b))
        except ValueError:
            raise broadcast_error(np.shape(a), np.shape(b)) from None
        raise


def _fix(fn):
    """Wrap a numpy binary ufunc so the result dtype follows PyTorch's promotion."""
    def impl(a, b):
        try:
            out = _quiet_run(fn, a, b)
        except (RuntimeError, ValueError):
            out = _run_binary(fn, a, b)
        od = out.dtype
        if a.__class__ is np.ndarray:
            # same dtype as both tensors, or as the tensor when the other is a Python scalar
            if od is a.dtype and (b.__class__ is not np.ndarray or b.dtype is od):
                return out
        elif b.__class__ is np.ndarray and od is b.dtype:
            return out
        want = result_type(a, b)
        if od != want:
            out = np.asarray(out).astype(want)
        return out
    impl.__name__ = fn.__name__
    return impl


def _shape(x):
    return x._data.shape if _is_t(x) else ()


def _add_bwd(ctx, g):
    sa, sb = (m[0] if m else () for m in ctx._in_meta)
    return sum_to(g, sa) if ctx.needs_input_grad[0] else None, \
        sum_to(g, sb) if ctx.needs_input_grad[1] else None


def _sub_bwd(ctx, g):
    sa, sb = (m[0] if m else () for m in ctx._in_meta)
    return sum_to(g, sa) if ctx.needs_input_grad[0] else None, \
        sum_to(neg(g), sb) if ctx.needs_input_grad[1] else None


def _in_shape(ctx, i):
    m = ctx._in_meta[i]
    return m[0] if m is not None else ()


def _mul_bwd(ctx, g):
    a, b = ctx.saved  # a is saved only when b needs a gradient, and vice versa
    needs = ctx.needs_input_grad
    ga = sum_to(mul(g, b), _in_shape(ctx, 0)) if needs[0] else None
    gb = sum_to(mul(g, a), _in_shape(ctx, 1)) if needs[1] else None
    return ga, gb


def _div_bwd(ctx, g):
    a, b = ctx.saved
    needs = ctx.needs_input_grad
    ga = sum_to(div(g, b), _in_shape(ctx, 0)) if needs[0] else None
    gb = sum_to(neg(div(mul(g, a), mul(b, b))), _in_shape(ctx, 1)) if needs[1] else None
    return ga, gb


def _pow_bwd(ctx, g):
    a, b, out = ctx.saved
    ga = gb = None
    if ctx.needs_input_grad[0]:
        # PyTorch masks the b == 0 case so that d/da a**0 is 0 even at a == 0
        ga = mul(g, mul(b, pow_(a, sub(b, 1))))
        if not _is_t(b):
            ga = mul(g, 0.0) if b == 0 else ga
        else:
            ga = where(eq(b, 0), 0.0, ga)
        ga = sum_to(ga, _in_shape(ctx, 0))
    if ctx.needs_input_grad[1]:
        if _is_t(a):
            la = where(eq(a, 0), 0.0, log(a))
        else:
            la = math.log(a) if a > 0 else (0.0 if a == 0 else math.nan)
        gb = sum_to(mul(g, mul(out, la)), _in_shape(ctx, 1))
    return ga, gb


def _minmax_bwd(ctx, g):
    a, b = ctx.saved
    if ctx.prim.name == "maximum":
        wa, tie = gt(a, b), eq(a, b)
    else:
        wa, tie = lt(a, b), eq(a, b)
    half = mul(g, 0.5)
    ga = where(wa, g, where(tie, half, 0.0))
    gb = where(wa, 0.0, where(tie, half, g))
    return (sum_to(ga, _shape(a)) if ctx.needs_input_grad[0] else None,
            sum_to(gb, _shape(b)) if ctx.needs_input_grad[1] else None)


def _cmp(fn):
    def impl(a, b):
        try:
            return fn(a, b)
        except ValueError:
            return _run_binary(fn, a, b)
    impl.__name__ = fn.__name__
    return impl


add = Primitive("add", _fix(np.add), _binary_meta, _add_bwd)
sub = Primitive("sub", _fix(np.subtract), _binary_meta, _sub_bwd)
mul = Primitive("mul", _fix(np.multiply), _binary_meta, _mul_bwd, save_inputs=(0, 1),
                save_if=((1,), (0,)))


def _true_divide(a, b):
    try:
        out = _quiet_run(np.true_divide, a, b)
    except (RuntimeError, ValueError):
        out = _run_binary(np.true_divide, a, b)
    if a.__class__ is np.ndarray and out.dtype is a.dtype and out.dtype.kind == "f" and (
            b.__class__ is not np.ndarray or b.dtype is a.dtype):
        return out
    want = promote(result_type(a, b), 1.0)  # true division always gives a float
    return out if out.dtype == want else np.asarray(out).astype(want)


def _div_meta(a, b):
    s, d = _binary_meta(a, b)
    return s, promote(d, 1.0)


div = Primitive("div", _true_divide, _div_meta, _div_bwd, save_inputs=(0, 1), save_if=((1,), (0, 1)))


_pow_impl = _fix(np.power)


pow_ = Primitive("pow", _pow_impl, _binary_meta, _pow_bwd, save_inputs=(0, 1), save_outputs=(0,))
maximum = Primitive("maximum", _fix(np.maximum), _binary_meta, _minmax_bwd, save_inputs=(0, 1))
minimum = Primitive("minimum", _fix(np.minimum), _binary_meta, _minmax_bwd, save_inputs=(0, 1))
floor_divide = Primitive("floor_divide", _fix(np.floor_divide), _binary_meta)
remainder = Primitive("remainder", _fix(np.remainder), _binary_meta)
bitwise_and = Primitive("bitwise_and", _fix(np.bitwise_and), _binary_meta)
bitwise_or = Primitive("bitwise_or", _fix(np.bitwise_or), _binary_meta)
bitwise_xor = Primitive("bitwise_xor", _fix(np.bitwise_xor), _binary_meta)
eq = Primitive("eq", _cmp(np.equal), _cmp_meta)
ne = Primitive("ne", _cmp(np.not_equal), _cmp_meta)
lt = Primitive("lt", _cmp(np.less), _cmp_meta)
le = Primitive("le", _cmp(np.less_equal), _cmp_meta)
gt = Primitive("gt", _cmp(np.greater), _cmp_meta)
ge = Primitive("ge", _cmp(np.greater_equal), _cmp_meta)


def _where_meta(c, a, b):
    sc, _ = _aval(c)
    sa, da = _aval(a)
    sb, db = _aval(b)
    return broadcast_shapes(sc, sa, sb), promote_operands(da, _is_t(a) and not sa, db, _is_t(b) and not sb)


def _where_impl(c, a, b):
    try:
        out = np.where(c, a, b)
    except ValueError:
        sc, sa, sb = np.shape(c), np.shape(a), np.shape(b)
        raise RuntimeError(f"where: shapes {list(sc)}, {list(sa)} and {list(sb)} are not broadcastable") from None
    want = result_type(a, b)
    return out if out.dtype == want else out.astype(want)


def _where_bwd(ctx, g):
    (c,) = ctx.saved
    sa = ctx._in_meta[1][0] if ctx._in_meta[1] else ()
    sb = ctx._in_meta[2][0] if ctx._in_meta[2] else ()
    ga = sum_to(where(c, g, 0.0), sa) if ctx.needs_input_grad[1] else None
    gb = sum_to(where(c, 0.0, g), sb) if ctx.needs_input_grad[2] else None
    return None, ga, gb


where = Primitive("where", _where_impl, _where_meta, _where_bwd, save_inputs=(0,))


def _unary_meta(a, **_):
    return a._data.shape, a._data.dtype


def _float_meta(a, **_):
    d = a._data.dtype
    return a._data.shape, d if d.kind == "f" else np.dtype(np.float32)


def _floatify(fn):
    def impl(a):
        if a.dtype.kind != "f":
            a = a.astype(np.float32)
        try:
            return _quiet_run(fn, a)
        except RuntimeError:
            return quiet(fn, a)
    impl.__name__ = fn.__name__
    return impl


def _unary(name, fn, bwd, *, floating=True, save_inputs=(), save_outputs=()):
    return Primitive(name, _floatify(fn) if floating else fn, _float_meta if floating else _unary_meta,
                     bwd, save_inputs=save_inputs, save_outputs=save_outputs)


def _sigmoid_np(a):
    return np.where(a >= 0, 1 / (1 + np.exp(-np.abs(a))), np.exp(-np.abs(a)) / (1 + np.exp(-np.abs(a)))).astype(a.dtype)


_erf_scalar = np.frompyfunc(math.erf, 1, 1)


def _erf_np(a):
    return _erf_scalar(a).astype(a.dtype)


neg = Primitive("neg", np.negative, _unary_meta, lambda ctx, g: (neg(g),))
abs_ = Primitive("abs", np.abs, _unary_meta, lambda ctx, g: (mul(g, sign(ctx.saved[0])),), save_inputs=(0,))
sign = Primitive("sign", np.sign, _unary_meta, lambda ctx, g: (mul(g, 0.0),))
exp = _unary("exp", np.exp, lambda ctx, g: (mul(g, ctx.saved[0]),), save_outputs=(0,))
log = _unary("log", np.log, lambda ctx, g: (div(g, ctx.saved[0]),), save_inputs=(0,))
sin = _unary("sin", np.sin, lambda ctx, g: (mul(g, cos(ctx.saved[0])),), save_inputs=(0,))
cos = _unary("cos", np.cos, lambda ctx, g: (neg(mul(g, sin(ctx.saved[0]))),), save_inputs=(0,))
tanh = _unary("tanh", np.tanh, lambda ctx, g: (mul(g, sub(1, mul(ctx.saved[0], ctx.saved[0]))),),
              save_outputs=(0,))
sigmoid = _unary("sigmoid", _sigmoid_np,
                 lambda ctx, g: (mul(g, mul(ctx.saved[0], sub(1, ctx.saved[0]))),), save_outputs=(0,))
sqrt = _unary("sqrt", np.sqrt, lambda ctx, g: (div(g, mul(ctx.saved[0], 2)),), save_outputs=(0,))
rsqrt = _unary("rsqrt", lambda a: 1 / np.sqrt(a),
               lambda ctx, g: (mul(g, mul(pow_(ctx.saved[0], 3), -0.5)),), save_outputs=(0,))
erf = _unary("erf", _erf_np,
             lambda ctx, g: (mul(g, mul(exp(neg(mul(ctx.saved[0], ctx.saved[0]))), 2 / math.sqrt(math.pi))),),
             save_inputs=(0,))
relu = Primitive("relu", lambda a: np.maximum(a, 0).astype(a.dtype, copy=False), _unary_meta,
                 lambda ctx, g: (where(gt(ctx.saved[0], 0), g, 0.0),), save_outputs=(0,))
logical_not = Primitive("logical_not", np.logical_not, lambda a: (a._data.shape, np.dtype(np.bool_)))
bitwise_not = Primitive("bitwise_not", np.invert, _unary_meta)
floor = Primitive("floor", np.floor, _unary_meta, lambda ctx, g: (mul(g, 0.0),))
ceil = Primitive("ceil", np.ceil, _unary_meta, lambda ctx, g: (mul(g, 0.0),))
round_ = Primitive("round", np.round, _unary_meta, lambda ctx, g: (mul(g, 0.0),))


def _clamp_impl(a, min=None, max=None):
    out = a
    if min is not None:
        out = np.maximum(out, min)
    if max is not None:
        out = np.minimum(out, max)
    return out.astype(a.dtype, copy=False) if out is not a else out.copy()


def _clamp_bwd(ctx, g):
    (a,) = ctx.saved
    p = ctx.params
    mask = None
    if p.get("min") is not None:
        mask = ge(a, p["min"])
    if p.get("max") is not None:
        m2 = le(a, p["max"])
        mask = m2 if mask is None else bitwise_and(mask, m2)
    return (g if mask is None else where(mask, g, 0.0),)


clamp = Primitive("clamp", _clamp_impl, _unary_meta, _clamp_bwd, save_inputs=(0,))


def _cast_impl(a, dtype):
    return a.astype(dtype.np)


def _cast_bwd(ctx, g):
    src = ctx._in_meta[0][1]
    return (cast(g, dtype=_dt(src)) if src.kind == "f" else None,)


def _dt(npd):
    from ._dtype import from_np
    return from_np(npd)


cast = Primitive("cast", _cast_impl, lambda a, dtype: (a._data.shape, dtype.np), _cast_bwd,
                 node_name="ToCopyBackward0")
detach = Primitive("detach", lambda a: a.view(), _unary_meta)
clone = Primitive("clone", np.array, _unary_meta, lambda ctx, g: (g,))

# ----------------------------------------------------------------------------- reductions


def _norm_dims(dims, ndim):
    if dims is None:
        return tuple(range(ndim))
    if isinstance(dims, int):
        dims = (dims,)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {d})")
        out.append(d % max(ndim, 1))
    return tuple(out) if ndim else ()


def _reduced_shape(shape, dims, keepdim):
    if keepdim:
        return tuple(1 if i in dims else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in dims)


def _sum_impl(a, dims, keepdim, dtype=None):
    if dtype is not None:
        dt = dtype.np
    elif a.dtype.kind in "biu":
        dt = np.int64
    else:
        dt = None
    return a.sum(axis=dims, dtype=dt, keepdims=keepdim)


def _sum_meta(a, dims, keepdim, dtype=None):
    d = a._data.dtype
    if dtype is not None:
        d = dtype.np
    elif d.kind in "bi":
        d = np.dtype(np.int64)
    return _reduced_shape(a._data.shape, dims, keepdim), d


def _expand_back(g, in_shape, dims, keepdim):
    if not keepdim:
        g = reshape(g, shape=_reduced_shape(in_shape, dims, True))
    return expand(g, shape=tuple(in_shape))


def _sum_bwd(ctx, g):
    p = ctx.params
    return (_expand_back(g, ctx._in_meta[0][0], p["dims"], p["keepdim"]),)


sum_ = Primitive("sum", _sum_impl, _sum_meta, _sum_bwd)


def _prod_impl(a, dims, keepdim, dtype=None):
    if dtype is not None:
        dt = dtype.np
    elif a.dtype.kind in "biu":
        dt = np.int64  # PyTorch: the product of an integral or bool tensor is int64
    else:
        dt = None
    return _quiet_run(np.multiply.reduce, a, dims, dt, None, keepdim)


def _prod_bwd(ctx, g):
    """d out / d a_i = the product of the other entries of a_i's slice, also where a has zeros
    (out / a_i would be 0/0 there). With p = the product of the non-zero entries and
    z = the product of the zero ones:
      a_i != 0: p * z / a_i         (0 as soon as the slice holds a zero)
      a_i == 0: p                   if a_i is the slice's only zero,
                p * (the other zero) if it holds two, 0 if more.
    Each case is written so that its derivative is right too (double backward): z and
    "the other zero" are 0 in value but carry the gradient of the zero entries."""
    a, = ctx.saved
    prm = ctx.params
    dims, keepdim = prm["dims"], prm["keepdim"]
    fdt = _dt(a._data.dtype)
    zero = eq(a, 0)
    safe = where(zero, 1.0, a)
    n_zero = sum_(cast(zero, dtype=fdt), dims=dims, keepdim=True)
    p = prod(safe, dims=dims, keepdim=True)
    z = prod(where(zero, a, 1.0), dims=dims, keepdim=True)
    other_zero = sub(sum_(where(zero, a, 0.0), dims=dims, keepdim=True), a)
    at_zero = mul(p, where(eq(n_zero, 1), 1.0, where(eq(n_zero, 2), other_zero, 0.0)))
    others = where(zero, at_zero, div(mul(p, z), safe))
    return (mul(_expand_back(g, a._data.shape, dims, keepdim), others),)


prod = Primitive("prod", _prod_impl, _sum_meta, _prod_bwd, save_inputs=(0,))


def _amax_bwd(ctx, g):
    a, out = ctx.saved
    p = ctx.params
    shape = a._data.shape
    ok = out if p["keepdim"] else reshape(out, shape=_reduced_shape(shape, p["dims"], True))
    mask = cast(eq(a, ok), dtype=_dt(a._data.dtype))
    count = sum_(mask, dims=p["dims"], keepdim=True)
    return (mul(div(_expand_back(g, shape, p["dims"], p["keepdim"]), count), mask),)


def _red_meta(a, dims, keepdim):
    return _reduced_shape(a._data.shape, dims, keepdim), a._data.dtype


def _amax_impl(a, dims, keepdim):
    _check_nonempty(a, dims)
    return np.amax(a, axis=dims, keepdims=keepdim)


def _amin_impl(a, dims, keepdim):
    _check_nonempty(a, dims)
    return np.amin(a, axis=dims, keepdims=keepdim)


def _check_nonempty(a, dims):
    if any(a.shape[d] == 0 for d in dims):
        raise IndexError("max(): Expected reduction dim to be specified for input.numel() == 0.")


amax = Primitive("amax", _amax_impl, _red_meta, _amax_bwd, save_inputs=(0,), save_outputs=(0,))
amin = Primitive("amin", _amin_impl, _red_meta, _amax_bwd, save_inputs=(0,), save_outputs=(0,))


def _count(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def _var_mean_impl(a, dims, correction, keepdim):
    _check_floating("var_mean", a.dtype)
    return quiet(_var_mean_arrays, a, dims, correction, keepdim)  # 0/0 is nan, as in PyTorch


def _check_floating(name, dtype):
    if dtype.kind != "f":
        raise RuntimeError(f"{name} only support floating point and complex dtypes")


def _var_mean_arrays(a, dims, correction, keepdim):
    """(var, mean) over dims, with the arithmetic of x.var() and x.mean(): the mean, the
    squared deviations summed, divided by max(n - correction, 0)."""
    n = _count(a.shape, dims)
    mean = a.sum(axis=dims, keepdims=True) / n
    dev = a - mean
    var = (dev * dev).sum(axis=dims, keepdims=keepdim) / max(n - correction, 0)
    if not keepdim:
        mean = mean.reshape(var.shape)
    return np.asarray(var, a.dtype), np.asarray(mean, a.dtype)


def _var_mean_meta(a, dims, correction, keepdim):
    d = a._data.dtype
    _check_floating("var_mean", d)
    shape = _reduced_shape(a._data.shape, dims, keepdim)
    return (shape, d), (shape, d)


def _var_mean_bwd(ctx, gvar, gmean):
    """d var / d x = 2 (x - mean) / (n - correction); d mean / d x = 1 / n. Either gradient
    may be missing (None): only the other output was used."""
    x, mean = ctx.saved
    p = ctx.params
    shape, dims, keepdim = ctx._in_meta[0][0], p["dims"], p["keepdim"]
    n = _count(shape, dims)
    gx = None
    if gvar is not None:
        dof = n - p["correction"]
        m = mean if keepdim else reshape(mean, shape=_reduced_shape(shape, dims, True))
        gv = gvar if keepdim else reshape(gvar, shape=_reduced_shape(shape, dims, True))
        gx = mul(mul(gv, sub(x, m)), 2.0 / dof if dof > 0 else math.inf)
    if gmean is not None:
        gm = _expand_back(div(gmean, n), shape, dims, keepdim)
        gx = gm if gx is None else add(gx, gm)
    return (gx,)


var_mean = Primitive("var_mean", _var_mean_impl, _var_mean_meta,
                     _var_mean_bwd, n_outputs=2, save_inputs=(0,), save_outputs=(1,))


def _arg_meta(a, dim, keepdim):
    if dim is None:
        return ((1,) * a._data.ndim if keepdim else ()), np.dtype(np.int64)
    return _reduced_shape(a._data.shape, (dim,), keepdim), np.dtype(np.int64)


def _argmax_impl(a, dim, keepdim):
    if dim is None:
        r = np.argmax(a)
        return np.asarray(r, dtype=np.int64).reshape((1,) * a.ndim if keepdim else ())
    return np.argmax(a, axis=dim, keepdims=keepdim).astype(np.int64)


def _argmin_impl(a, dim, keepdim):
    if dim is None:
        r = np.argmin(a)
        return np.asarray(r, dtype=np.int64).reshape((1,) * a.ndim if keepdim else ())
    return np.argmin(a, axis=dim, keepdims=keepdim).astype(np.int64)


argmax = Primitive("argmax", _argmax_impl, _arg_meta)
argmin = Primitive("argmin", _argmin_impl, _arg_meta)

# ----------------------------------------------------------------------------- shapes and views


def _reshape_impl(a, shape):
    try:
        return np.reshape(a, shape)
    except ValueError:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {a.size}") from None


def infer_shape(shape, numel, input_shape=None):
    try:
        return _infer_shape(shape, numel)
    except RuntimeError as e:
        if input_shape is None:
            raise
        raise RuntimeError(f"{e} (input shape {list(input_shape)})") from None


def _infer_shape(shape, numel):
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if -1 in shape:
        rest = 1
        for s in shape:
            if s != -1:
                rest *= s
        if rest == 0 or numel % rest:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // rest if s == -1 else s for s in shape)
    n = 1
    for s in shape:
        n *= s
    if n != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


reshape = Primitive("reshape", _reshape_impl, lambda a, shape: (tuple(shape), a._data.dtype),
                    lambda ctx, g: (reshape(g, shape=ctx._in_meta[0][0]),), view=True,
                    node_name="ViewBackward0")


def _perm_bwd(ctx, g):
    dims = ctx.params["dims"]
    inv = [0] * len(dims)
    for i, d in enumerate(dims):
        inv[d] = i
    return (permute(g, dims=tuple(inv)),)


permute = Primitive("permute", lambda a, dims: np.transpose(a, dims),
                    lambda a, dims: (tuple(a._data.shape[d] for d in dims), a._data.dtype),
                    _perm_bwd, view=True)


def _expand_impl(a, shape):
    try:
        return np.broadcast_to(a, shape)
    except ValueError:
        raise RuntimeError(
            f"The expanded size of the tensor ({list(shape)}) must match the existing size "
            f"({list(a.shape)}) at non-singleton dimensions") from None


def _expand_meta(a, shape):
    cur = a._data.shape
    shape = tuple(shape)
    off = len(shape) - len(cur)
    if off < 0 or any(c != 1 and c != shape[i + off] for i, c in enumerate(cur)):
        raise RuntimeError(
            f"The expanded size of the tensor ({list(shape)}) must match the existing size "
            f"({list(cur)}) at non-singleton dimensions")
    return shape, a._data.dtype


expand = Primitive("expand", _expand_impl, _expand_meta,
                   lambda ctx, g: (sum_to(g, ctx._in_meta[0][0]),), view=True)


def _index_key(spec, tensors):
    it = iter(tensors)
    return tuple(next(it) if s is _TENSOR else s for s in spec)


class _TensorSlot:
    def __repr__(self):
        return "_T"

    def __reduce__(self):
        return "_TENSOR"


_TENSOR = _TensorSlot()
_primitive._TensorSlot = _TensorSlot


def _index_impl(a, *idx, spec):
    key = _index_key(spec, idx)
    try:
        out = a[key if len(key) != 1 else key[0]]
        if out.__class__ is not np.ndarray:  # all-integer key: a 0-d view, not a numpy scalar copy
            out = a[key + (Ellipsis,)]
        return out
    except IndexError as e:
        raise IndexError(str(e).replace("axis", "dimension")) from None


def _zero_strided(t):
    return np.broadcast_to(np.empty((), t._data.dtype), t._data.shape)


def _index_meta(a, *idx, spec):
    arrays = [i._data for i in idx]
    r = _index_impl(_zero_strided(a), *arrays, spec=spec)
    return r.shape, r.dtype


def _index_bwd(ctx, g):
    shape, dtype = ctx._in_meta[0]
    idx = ctx.saved
    z = full(shape=shape, value=0, dtype=_dt(g._data.dtype))
    return (index_put(z, g, *idx, spec=ctx.params["spec"], accumulate=True),) + (None,) * len(idx)


index = Primitive("index", _index_impl, _index_meta, _index_bwd, view=True,
                  save_inputs=slice(1, None), node_name="IndexBackward0")


def _unbind_spec(dim, i):
    return (slice(None),) * dim + (i,)


def _unbind_impl(a, dim):
    return tuple(a[_unbind_spec(dim, i) + (Ellipsis,)] for i in range(a.shape[dim]))


def _unbind_meta(a, dim):
    shape = a._data.shape
    return tuple((shape[:dim] + shape[dim + 1:], a._data.dtype) for _ in range(shape[dim]))


def _unbind_bwd(ctx, *grads):
    """The gradients stacked along dim; an output that got none contributes zeros."""
    shape, dtype = ctx._in_meta[0]
    dim = ctx.params["dim"]
    piece = shape[:dim] + (1,) + shape[dim + 1:]
    parts = [full(shape=piece, value=0, dtype=_dt(dtype)) if g is None else reshape(g, shape=piece)
             for g in grads]
    return (cat(*parts, dim=dim),)


# every output is a view of the input, the one `input[:, ..., i]` (dim slices) computes
unbind = Primitive("unbind", _unbind_impl, _unbind_meta, _unbind_bwd, n_outputs=None, view=True,
                   output_view=lambda i, dim: (index, (), {"spec": _unbind_spec(dim, i)}))


def _index_put_impl(a, v, *idx, spec, accumulate):
    out = np.array(a)  # a copy, and an array even when codegen passes a 0-d numpy scalar
    key = _index_key(spec, idx)
    key = key if len(key) != 1 else key[0]
    try:
        if accumulate:
            np.add.at(out, key, v)
        else:
            out[key] = v
    except ValueError:
        target = np.shape(a[key])
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(np.shape(v))} cannot be broadcast to "
            f"indexing result of shape {list(target)}") from None
    except IndexError as e:
        raise IndexError(str(e).replace("axis", "dimension")) from None
    return out


def _index_put_bwd(ctx, g):
    idx = ctx.saved
    spec = ctx.params["spec"]
    ga = gv = None
    if ctx.needs_input_grad[0]:
        ga = g if ctx.params["accumulate"] else index_put(g, 0.0, *idx, spec=spec, accumulate=False)
    if ctx.needs_input_grad[1]:
        gv = sum_to(index(g, *idx, spec=spec), ctx._in_meta[1][0] if ctx._in_meta[1] else ())
    return (ga, gv) + (None,) * len(idx)


def _index_put_meta(a, v, *idx, spec, accumulate):
    _index_meta(a, *idx, spec=spec)  # bad indices raise here, as eagerly (t[0] = v on a 0-d t)
    return a._data.shape, a._data.dtype


index_put = Primitive("index_put", _index_put_impl, _index_put_meta,
                      _index_put_bwd, save_inputs=slice(2, None))


def _cat_impl(*arrays, dim):
    d = arrays[0].dtype
    for a in arrays[1:]:
        if a.dtype != d:
            d = promote(d, a.dtype)
    try:
        return np.concatenate(arrays, axis=dim, dtype=d)
    except ValueError:
        raise RuntimeError(
            "Sizes of tensors must match except in dimension "
            f"{dim}. Got shapes " + ", ".join(str(list(a.shape)) for a in arrays)) from None


def _cat_meta(*ts, dim):
    shape = list(ts[0]._data.shape)
    for t in ts[1:]:
        other = t._data.shape
        if len(other) != len(shape) or any(a != b for i, (a, b) in enumerate(zip(shape, other)) if i != dim):
            raise RuntimeError(
                f"Sizes of tensors must match except in dimension {dim}. Got shapes "
                + ", ".join(str(list(u._data.shape)) for u in ts))
    shape[dim] = sum(t._data.shape[dim] for t in ts)
    d = ts[0]._data.dtype
    for t in ts[1:]:
        d = promote(d, t._data.dtype)
    return tuple(shape), d


def _cat_bwd(ctx, g):
    dim = ctx.params["dim"]
    out, start = [], 0
    for m in ctx._in_meta:
        n = m[0][dim]
        spec = (slice(None),) * dim + (slice(start, start + n),)
        out.append(index(g, spec=spec))
        start += n
    return tuple(out)


cat = Primitive("cat", _cat_impl, _cat_meta, _cat_bwd)


def _matmul_impl(a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    try:
        return np.matmul(a, b)
    except ValueError:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({_mm_desc(a)} and {_mm_desc(b)})") from None


def _mm_desc(a):
    if a.ndim == 1:
        return f"1x{a.shape[0]}"
    return f"{int(np.prod(a.shape[:-1]))}x{a.shape[-1]}"


def _matmul_meta(a, b):
    sa, sb = a._data.shape, b._data.shape
    if not sa or not sb:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{len(sa)}D and {len(sb)}D")
    ka = sa[-1]
    kb = sb[-2] if len(sb) > 1 else sb[0]
    if ka != kb:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                           f"({_mm_desc(_zero_strided(a))} and {_mm_desc(_zero_strided(b))})")
    out = tuple(broadcast_shapes(sa[:-2], sb[:-2]))
    if len(sa) > 1:
        out += (sa[-2],)
    if len(sb) > 1:
        out += (sb[-1],)
    return out, promote(a._data.dtype, b._data.dtype)


def _mT(x):
    n = x._data.ndim
    return permute(x, dims=tuple(range(n - 2)) + (n - 1, n - 2))


def _matmul_bwd(ctx, g):
    a, b = ctx.saved  # a is saved only when b needs a gradient, and vice versa
    sa, sb = _in_shape(ctx, 0), _in_shape(ctx, 1)
    A_shape = sa if len(sa) > 1 else (1, sa[0])
    B_shape = sb if len(sb) > 1 else (sb[0], 1)
    gshape = list(g._data.shape)
    if len(sa) == 1:
        gshape.insert(len(gshape) - (0 if len(sb) == 1 else 1), 1)
    if len(sb) == 1:
        gshape.append(1)
    G = reshape(g, shape=tuple(gshape)) if tuple(gshape) != g._data.shape else g
    ga = gb = None
    if ctx.needs_input_grad[0]:
        B = b if len(sb) > 1 else reshape(b, shape=B_shape)
        ga = sum_to(matmul(G, _mT(B)), A_shape)
        ga = reshape(ga, shape=sa) if ga._data.shape != sa else ga
    if ctx.needs_input_grad[1]:
        A = a if len(sa) > 1 else reshape(a, shape=A_shape)
        gb = sum_to(matmul(_mT(A), G), B_shape)
        gb = reshape(gb, shape=sb) if gb._data.shape != sb else gb
    return ga, gb


matmul = Primitive("matmul", _matmul_impl, _matmul_meta, _matmul_bwd, save_inputs=(0, 1), save_if=((1,), (0,)),
                   node_name="MmBackward0")

# ----------------------------------------------------------------------------- creation


def _full_impl(shape, value, dtype):
    return np.full(shape, value, dtype=dtype.np)


full = Primitive("full", _full_impl, lambda shape, value, dtype: (tuple(shape), dtype.np))


def _view_scatter_impl(base, src, chain):
    out = base.copy()
    v = out
    for prim, extra, params in chain:
        v = prim.impl(v, *[e._data if _is_t(e) else e for e in extra], **params)
    v[...] = src
    return out


def _view_scatter_bwd(ctx, g):
    chain = ctx.params["chain"]
    gb = gs = None
    if ctx.needs_input_grad[0]:
        gb = view_scatter(g, 0.0, chain=chain)
    if ctx.needs_input_grad[1]:
        v = g
        for prim, extra, params in chain:
            v = prim(v, *extra, **params)
        gs = sum_to(v, ctx._in_meta[1][0]) if ctx._in_meta[1] else None
    return gb, gs


view_scatter = Primitive("view_scatter", _view_scatter_impl,
                         lambda base, src, chain: (base._data.shape, base._data.dtype),
                         _view_scatter_bwd, node_name="CopySlices")


# registers the primitives of the layers and of the indexing ops, one module per family
from . import _prims_array, _prims_conv, _prims_einsum, _prims_index  # noqa: E402,F401
from . import _prims_norm, _prims_pool, _prims_sample  # noqa: E402,F401
