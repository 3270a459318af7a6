"""Convolution as three primitives: the forward and the two halves of its backward.

    convolution(x, w[, b])                  y = x (*) w + b  (ConvolutionBackward0)
    convolution_backward_input(g, w)        dL/dx: the transposed convolution of g
    convolution_backward_weight(x, g)       dL/dw

x is (N, C, *spatial), w is (O, C/groups, *kernel), for any number of spatial dims (conv1d and
conv2d are the same primitives). Each is im2col plus one matmul: numpy's sliding_window_view
gives every window as a view, one reshape copies the windows into columns, and BLAS does the
arithmetic. The three are linear in each argument and each other's adjoints, so the backward
of each is written with the other two (double backward works, to any order).

Parameters, shared by the three: stride and dilation (one int per spatial dim), padding (a
(low, high) pair per spatial dim: padding="same" with an even kernel pads unevenly), groups.

>>> import numpy as np
>>> x, w = np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3))
>>> _conv_impl(x, w, stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), groups=1)
array([[[[9., 9.],
         [9., 9.]]]])
"""
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._primitive import Primitive
from ._prims import sum_

# ----------------------------------------------------------------------------- windows


def out_size(size, kernel, stride, padding, dilation):
    """The output's spatial size: how many windows fit along each dim."""
    return tuple((s + lo + hi - d * (k - 1) - 1) // st + 1
                 for s, k, st, (lo, hi), d in zip(size, kernel, stride, padding, dilation))


def padded(x, padding, value=0):
    """x with (low, high) entries of `value` added around each of its trailing spatial dims.
    (An np.full and one slice assignment: np.pad costs more than the copy on small inputs.)"""
    if not any(lo or hi for lo, hi in padding):
        return x
    nd = len(padding)
    lead = x.shape[:x.ndim - nd]
    shape = lead + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[x.ndim - nd:], padding))
    out = np.full(shape, value, x.dtype)
    out[inner(x.shape[x.ndim - nd:], padding)] = x
    return out


def inner(size, padding):
    """The index of the unpadded region in a padded array."""
    return (Ellipsis,) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(size, padding))


def windows(xp, kernel, stride, dilation, out):
    """Every window of the padded xp (..., *S) as a read-only view (..., *out, *kernel)."""
    nd = len(kernel)
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    v = sliding_window_view(xp, extent, axis=tuple(range(xp.ndim - nd, xp.ndim)))
    key = (Ellipsis,) + tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(out, stride)) \
        + tuple(slice(None, None, d) for d in dilation)
    return v[key]


def offset_key(offset, stride, dilation, out):
    """The index, in a padded array, of the entries kernel position `offset` reads for every
    output position (a strided slice per dim)."""
    return (Ellipsis,) + tuple(slice(i * d, i * d + (o - 1) * s + 1, s)
                               for i, d, o, s in zip(offset, dilation, out, stride))


def scatter_windows(cols, size, kernel, stride, padding, dilation):
    """The adjoint of `windows`: cols (N, *kernel, C, *out) added back where each entry was
    read from, unpadded to (N, C, *size). One strided add per kernel position (9 for a 3x3
    kernel), each over the whole batch; the kernel dims come before C so that each add reads
    one contiguous block per sample."""
    nd = len(kernel)
    out = cols.shape[cols.ndim - nd:]
    full = tuple(s + lo + hi for s, (lo, hi) in zip(size, padding))
    acc = np.zeros((cols.shape[0], cols.shape[1 + nd]) + full, cols.dtype)
    for offset in np.ndindex(*kernel):
        acc[offset_key(offset, stride, dilation, out)] += cols[(slice(None),) + offset]
    if full == tuple(size):
        return acc
    return np.ascontiguousarray(acc[inner(size, padding)])


def _columns(x, kernel, stride, padding, dilation, groups):
    """im2col: x's windows as (N, groups, C/groups * prod(kernel), L) with L output positions."""
    nd = len(kernel)
    out = out_size(x.shape[2:], kernel, stride, padding, dilation)
    win = windows(padded(x, padding), kernel, stride, dilation, out)  # (N, C, *out, *kernel)
    perm = (0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))
    return win.transpose(perm).reshape(x.shape[0], groups, -1, math.prod(out)), out


# ----------------------------------------------------------------------------- implementations


def _conv_impl(x, w, b=None, *, stride, padding, dilation, groups):
    o = w.shape[0]
    cols, out = _columns(x, w.shape[2:], stride, padding, dilation, groups)
    y = np.matmul(w.reshape(groups, o // groups, -1), cols)  # (N, G, O/G, L), contiguous
    if b is not None:
        y += b.reshape(groups, o // groups, 1)
    return y.reshape((x.shape[0], o) + out)


def _check_grad_size(g_size, input_size, kernel, stride, padding, dilation):
    """The backward primitives get the input's size as a parameter: it must give g's size."""
    want = out_size(input_size, kernel, stride, padding, dilation)
    if tuple(g_size) != want:
        raise RuntimeError(f"convolution backward: grad_output of spatial size {list(g_size)} does not "
                           f"match the output size {list(want)} of an input of size {list(input_size)}")


def _conv_input_impl(g, w, *, input_size, stride, padding, dilation, groups):
    n, o = g.shape[:2]
    cg, kernel = w.shape[1], w.shape[2:]
    _check_grad_size(g.shape[2:], input_size, kernel, stride, padding, dilation)
    # rows ordered (kernel position, channel): each position's columns are one block
    wt = w.reshape(groups, o // groups, cg, -1).transpose(0, 3, 2, 1).reshape(groups, -1, o // groups)
    cols = np.matmul(wt, g.reshape(n, groups, o // groups, -1))  # (N, G, K * C/G, L)
    cols = cols.reshape((n, groups, math.prod(kernel), cg, -1))
    if groups > 1:  # (N, K, G, C/G, L): the groups' channels side by side
        cols = cols.transpose(0, 2, 1, 3, 4)
    cols = cols.reshape((n,) + kernel + (groups * cg,) + g.shape[2:])
    return scatter_windows(cols, input_size, kernel, stride, padding, dilation)


def _conv_weight_impl(x, g, *, kernel_size, stride, padding, dilation, groups):
    n, o = g.shape[:2]
    cols, _ = _columns(x, kernel_size, stride, padding, dilation, groups)  # (N, G, CK, L)
    _check_grad_size(g.shape[2:], x.shape[2:], kernel_size, stride, padding, dilation)
    gm = g.reshape(n, groups, o // groups, -1)
    # one (O/G, L) @ (L, CK) product per sample and group, then the sum over the batch: faster
    # than one product over N*L, which needs both operands transposed into new copies
    gw = np.matmul(gm, cols.transpose(0, 1, 3, 2)).sum(0)  # (G, O/G, CK)
    return gw.reshape((o, x.shape[1] // groups) + tuple(kernel_size))


# ----------------------------------------------------------------------------- shape rules


def _conv_meta(x, w, b=None, *, stride, padding, dilation, groups):
    xs, ws = x._data.shape, w._data.shape
    out = out_size(xs[2:], ws[2:], stride, padding, dilation)
    return (xs[0], ws[0]) + out, x._data.dtype


def _conv_input_meta(g, w, *, input_size, stride, padding, dilation, groups):
    ws = w._data.shape
    _check_grad_size(g._data.shape[2:], input_size, ws[2:], stride, padding, dilation)
    return (g._data.shape[0], ws[1] * groups) + tuple(input_size), g._data.dtype


def _conv_weight_meta(x, g, *, kernel_size, stride, padding, dilation, groups):
    _check_grad_size(g._data.shape[2:], x._data.shape[2:], kernel_size, stride, padding, dilation)
    return (g._data.shape[1], x._data.shape[1] // groups) + tuple(kernel_size), x._data.dtype


# ----------------------------------------------------------------------------- backward rules


def _geometry(params):
    """The parameters the three primitives share (without input_size / kernel_size)."""
    return {k: params[k] for k in ("stride", "padding", "dilation", "groups")}


def _shape(ctx, i):
    return ctx._in_meta[i][0]


def _conv_bwd(ctx, g):
    x, w = ctx.saved  # x is saved only when w needs a gradient, and vice versa
    p = ctx.params
    needs = ctx.needs_input_grad
    gx = convolution_backward_input(g, w, input_size=_shape(ctx, 0)[2:], **p) if needs[0] else None
    gw = convolution_backward_weight(x, g, kernel_size=_shape(ctx, 1)[2:], **p) if needs[1] else None
    if len(ctx._in_meta) == 2:
        return gx, gw
    gb = sum_(g, dims=(0,) + tuple(range(2, len(_shape(ctx, 0)))), keepdim=False) if needs[2] else None
    return gx, gw, gb


def _conv_input_bwd(ctx, h):
    # gx = T(g, w) with <conv(x, w), g> = <x, T(g, w)>: linear in g and in w
    g, w = ctx.saved
    p = _geometry(ctx.params)
    needs = ctx.needs_input_grad
    gg = convolution(h, w, **p) if needs[0] else None
    gw = convolution_backward_weight(h, g, kernel_size=_shape(ctx, 1)[2:], **p) if needs[1] else None
    return gg, gw


def _conv_weight_bwd(ctx, h):
    # gw = W(x, g) with <conv(x, w), g> = <w, W(x, g)>
    x, g = ctx.saved
    p = _geometry(ctx.params)
    needs = ctx.needs_input_grad
    gx = convolution_backward_input(g, h, input_size=_shape(ctx, 0)[2:], **p) if needs[0] else None
    gg = convolution(x, h, **p) if needs[1] else None
    return gx, gg


convolution = Primitive("convolution", _conv_impl, _conv_meta, _conv_bwd, save_inputs=(0, 1),
                        save_if=((1,), (0,)), node_name="ConvolutionBackward0")
convolution_backward_input = Primitive(
    "convolution_backward_input", _conv_input_impl, _conv_input_meta, _conv_input_bwd,
    save_inputs=(0, 1), save_if=((1,), (0,)))
convolution_backward_weight = Primitive(
    "convolution_backward_weight", _conv_weight_impl, _conv_weight_meta, _conv_weight_bwd,
    save_inputs=(0, 1), save_if=((1,), (0,)))
