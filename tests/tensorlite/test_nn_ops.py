"""Convolution, pooling and batch norm: every primitive under gradcheck (and gradgradcheck), values against
small numpy references written here and against PyTorch when it is installed, PyTorch's error
messages, the modules, and compiled (eager, aot_eager, codegen) against eager."""
import itertools
import math

import numpy as np
import pytest

import minidynamo as md
import tensorlite as tl
import tensorlite.nn as nn
import tensorlite.nn.functional as F
from tensorlite import ops
from tensorlite.autograd import gradcheck, gradgradcheck
from tests.tensorlite.test_array_ops import ARRAY_PRIMITIVES
from tests.tensorlite.test_einsum_attention import EINSUM_PRIMITIVES
from tests.tensorlite.test_index_ops import INDEX_PRIMITIVES

RNG = np.random.default_rng(2024)
# the primitives this file, test_array_ops.py, test_index_ops.py and test_einsum_attention.py
# test (tests/tensorlite/test_ops.py checks that every primitive is tested somewhere)
NN_PRIMITIVES = ARRAY_PRIMITIVES | INDEX_PRIMITIVES | EINSUM_PRIMITIVES | {"convolution", "convolution_backward_input", "convolution_backward_weight", "max_pool",
                 "max_pool_backward", "max_pool_select", "max_pool_indices", "avg_pool", "avg_pool_backward",
                 "adaptive_avg_pool", "adaptive_avg_pool_backward", "batch_norm_stats", "batch_norm_apply"}
BACKENDS = ["eager", "aot_eager", "codegen"]


def f64(*shape, rg=True):
    return tl.tensor(RNG.standard_normal(shape), dtype=tl.float64, requires_grad=rg)


def distinct(*shape, rg=True):
    """Values at least 0.1 apart (no ties or near ties inside a max-pooling window)."""
    v = RNG.permutation(math.prod(shape)).reshape(shape) * 0.1 - 1.0
    return tl.tensor(v, dtype=tl.float64, requires_grad=rg)


# ----------------------------------------------------------------------------- numpy references
# Written from the definitions (one explicit loop per output position or kernel offset), to
# share nothing with the implementations under test.


def ref_conv2d(x, w, b, stride, padding, dilation, groups):
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    xp[:, :, ph:ph + h, pw:pw + wd] = x
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, oh, ow))
    og = o // groups
    for g in range(groups):
        for i in range(oh):
            for j in range(ow):
                patch = xp[:, g * cg:(g + 1) * cg, i * sh:i * sh + dh * (kh - 1) + 1:dh,
                           j * sw:j * sw + dw * (kw - 1) + 1:dw]
                out[:, g * og:(g + 1) * og, i, j] = np.einsum("nckl,ockl->no", patch, w[g * og:(g + 1) * og])
    return out + (0 if b is None else b[None, :, None, None])


def _pool_out(size, k, s, p, d, ceil_mode):
    o = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    return o - 1 if ceil_mode and (o - 1) * s >= size + p else o


def ref_max_pool2d(x, k, s, p, d, ceil_mode):
    """Values and flat indices, scanning each window as PyTorch's CPU kernel does."""
    n, c, h, w = x.shape
    oh, ow = _pool_out(h, k, s, p, d, ceil_mode), _pool_out(w, k, s, p, d, ceil_mode)
    vals, idx = np.zeros((n, c, oh, ow)), np.zeros((n, c, oh, ow), np.int64)
    for a, b_, i, j in itertools.product(range(n), range(c), range(oh), range(ow)):
        rows = [r for r in range(i * s - p, i * s - p + d * (k - 1) + 1, d) if 0 <= r < h]
        cols = [q for q in range(j * s - p, j * s - p + d * (k - 1) + 1, d) if 0 <= q < w]
        best, at = -np.inf, rows[0] * w + cols[0]
        for r, q in itertools.product(rows, cols):
            v = x[a, b_, r, q]
            if v > best or np.isnan(v):
                best, at = v, r * w + q
        vals[a, b_, i, j], idx[a, b_, i, j] = best, at
    return vals, idx


def ref_avg_pool2d(x, k, s, p, ceil_mode, count_include_pad, divisor_override):
    n, c, h, w = x.shape
    oh, ow = _pool_out(h, k, s, p, 1, ceil_mode), _pool_out(w, k, s, p, 1, ceil_mode)
    out = np.zeros((n, c, oh, ow))
    for i, j in itertools.product(range(oh), range(ow)):
        h0, w0 = i * s - p, j * s - p
        h1, w1 = min(h0 + k, h + p), min(w0 + k, w + p)
        size = (h1 - h0) * (w1 - w0)
        h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, h), min(w1, w)
        div = divisor_override or (size if count_include_pad else (h1 - h0) * (w1 - w0))
        out[:, :, i, j] = x[:, :, h0:h1, w0:w1].sum((2, 3)) / div
    return out


def ref_adaptive_avg_pool2d(x, oh, ow):
    h, w = x.shape[-2:]
    out = np.zeros(x.shape[:-2] + (oh, ow))
    for i, j in itertools.product(range(oh), range(ow)):
        h0, h1 = i * h // oh, -(-(i + 1) * h // oh)
        w0, w1 = j * w // ow, -(-(j + 1) * w // ow)
        out[..., i, j] = x[..., h0:h1, w0:w1].mean((-2, -1))
    return out


def _np(t):
    return t.detach().numpy()


CONV_GEOMETRIES = [  # stride, padding, dilation, groups
    (1, 0, 1, 1), (1, 1, 1, 1), (2, 1, 1, 1), ((2, 1), (0, 2), (1, 2), 1), (1, 2, 2, 2), (3, 0, 1, 4),
]


@pytest.mark.parametrize("stride,padding,dilation,groups", CONV_GEOMETRIES)
def test_conv2d_matches_numpy_reference(stride, padding, dilation, groups):
    x, w, b = f64(2, 4, 7, 6, rg=False), f64(8, 4 // groups, 3, 2, rg=False), f64(8, rg=False)
    pair = lambda v: v if isinstance(v, tuple) else (v, v)  # noqa: E731
    want = ref_conv2d(_np(x), _np(w), _np(b), pair(stride), pair(padding), pair(dilation), groups)
    got = F.conv2d(x, w, b, stride, padding, dilation, groups)
    np.testing.assert_allclose(_np(got), want, rtol=1e-12, atol=1e-12)


def test_conv1d_and_same_padding_match_numpy_reference():
    x, w = f64(2, 3, 9, rg=False), f64(4, 3, 4, rg=False)
    got = F.conv1d(x, w, padding="same", dilation=2)  # total padding 6: 3 on each side
    want = ref_conv2d(_np(x)[:, :, None], _np(w)[:, :, None], None, (1, 1), (0, 3), (1, 2), 1)[:, :, 0]
    np.testing.assert_allclose(_np(got), want, rtol=1e-12, atol=1e-12)
    even = F.conv1d(x, f64(4, 3, 2, rg=False), padding="same")  # odd total: the extra one on the right
    assert even.shape == (2, 4, 9)
    assert F.conv1d(x, w, padding="valid").shape == (2, 4, 6)
    assert F.conv1d(x[0], w).shape == (4, 6)  # unbatched


@pytest.mark.parametrize("k,s,p,d,ceil_mode", [(2, 2, 0, 1, False), (3, 2, 1, 1, False), (3, 2, 1, 1, True),
                                               (2, 1, 1, 2, False), (3, 3, 1, 1, True), (2, 3, 0, 1, True)])
def test_max_pool2d_matches_numpy_reference(k, s, p, d, ceil_mode):
    x = RNG.standard_normal((2, 3, 7, 8))
    x[0, 0, :3, :3] = 0.5  # ties: the first one in scan order is picked
    x[0, 1, 2, 2] = np.nan
    x[1, 2] = -np.inf  # windows of only -inf (and padding): the first real entry is picked
    out, idx = F.max_pool2d(tl.tensor(x), k, s, p, d, ceil_mode, return_indices=True)
    want, want_idx = ref_max_pool2d(x, k, s, p, d, ceil_mode)
    np.testing.assert_array_equal(_np(out), want)
    np.testing.assert_array_equal(_np(idx), want_idx)


def test_max_pool2d_gradient_goes_to_the_picked_entry():
    x = np.array([[[[1.0, 1.0, 0.0], [1.0, 0.0, 2.0], [3.0, 3.0, 0.0]]]])
    t = tl.tensor(x, requires_grad=True)
    F.max_pool2d(t, 2, 1).sum().backward()  # overlapping windows: gradients add up; ties: the first
    np.testing.assert_array_equal(_np(t.grad), [[[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]]]])
    u = tl.tensor(x, requires_grad=True)
    F.max_pool2d(u, 2, 1, padding=1).sum().backward()
    np.testing.assert_array_equal(_np(u.grad), [[[[4.0, 1.0, 1.0], [0.0, 0.0, 3.0], [4.0, 2.0, 1.0]]]])  # PyTorch's


@pytest.mark.parametrize("k,s,p,ceil_mode,count_include_pad,divisor_override", [
    (2, 2, 0, False, True, None), (3, 2, 1, False, True, None), (3, 2, 1, True, False, None),
    (3, 2, 1, True, True, None), (2, 1, 1, False, False, 3), ((2, 3), (1, 2), (1, 1), True, True, None)])
def test_avg_pool2d_matches_numpy_reference(k, s, p, ceil_mode, count_include_pad, divisor_override):
    x = RNG.standard_normal((2, 3, 7, 8))
    got = F.avg_pool2d(tl.tensor(x), k, s, p, ceil_mode, count_include_pad, divisor_override)
    if isinstance(k, tuple):  # the reference takes square windows: check the shape only
        assert got.shape == (2, 3, 8, 5)
        return
    want = ref_avg_pool2d(x, k, s, p, ceil_mode, count_include_pad, divisor_override)
    np.testing.assert_allclose(_np(got), want, rtol=1e-12, atol=1e-12)


def test_avg_pool2d_of_integers_truncates_as_pytorch():
    x = -tl.arange(16).reshape(1, 1, 4, 4)
    got = F.avg_pool2d(x, 3, 1, 1)
    assert got.dtype == tl.int64
    want = np.trunc(ref_avg_pool2d(_np(x).astype(np.float64), 3, 1, 1, False, True, None))
    np.testing.assert_array_equal(_np(got), want)


@pytest.mark.parametrize("size", [1, 2, 3, (4, 5), (7, 8), (9, 3), (None, 2)])
def test_adaptive_avg_pool2d_matches_numpy_reference(size):
    x = RNG.standard_normal((2, 3, 7, 8))
    got = F.adaptive_avg_pool2d(tl.tensor(x), size)
    oh, ow = (size, size) if isinstance(size, int) else (size[0] or 7, size[1])
    np.testing.assert_allclose(_np(got), ref_adaptive_avg_pool2d(x, oh, ow), rtol=1e-12, atol=1e-12)
    unbatched = F.adaptive_avg_pool2d(tl.tensor(x[0]), size)
    np.testing.assert_allclose(_np(unbatched), ref_adaptive_avg_pool2d(x[0], oh, ow), rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- gradcheck

CONV = {"stride": (2, 1), "padding": ((1, 0), (1, 1)), "dilation": (1, 2), "groups": 2}
MAXP = {"kernel_size": (2, 2), "stride": (1, 2), "padding": ((1, 1), (0, 1)), "dilation": (1, 1)}
AVGP = {"kernel_size": (3, 2), "stride": (2, 1), "padding": ((1, 2), (1, 1)), "count_include_pad": False,
        "divisor_override": None}



def _with_pool_input(prim, t):
    """prim(t, x) for one fixed x (the gradient w.r.t. x is zero almost everywhere)."""
    x = distinct(2, 2, 4, 5, rg=False)
    return (lambda a: prim(a, x, **MAXP)), (t,)


# one case per primitive: name -> (function, inputs)
GRADCHECK_CASES = {
    "convolution": lambda: (lambda x, w, b: ops.convolution(x, w, b, **CONV),
                            (f64(2, 4, 5, 4), f64(4, 2, 2, 2), f64(4))),
    "convolution_backward_input": lambda: (
        lambda g, w: ops.convolution_backward_input(g, w, input_size=(5, 4), **CONV),
        (f64(2, 4, 3, 4), f64(4, 2, 2, 2))),
    "convolution_backward_weight": lambda: (
        lambda x, g: ops.convolution_backward_weight(x, g, kernel_size=(2, 2), **CONV),
        (f64(2, 4, 5, 4), f64(2, 4, 3, 4))),
    "max_pool": lambda: (lambda x: ops.max_pool(x, **MAXP), (distinct(2, 2, 4, 5),)),
    "max_pool_backward": lambda: _with_pool_input(ops.max_pool_backward, f64(2, 2, 5, 3)),
    "max_pool_select": lambda: _with_pool_input(ops.max_pool_select, f64(2, 2, 4, 5)),
    "avg_pool": lambda: (lambda x: ops.avg_pool(x, **AVGP), (f64(2, 2, 5, 4),)),
    "avg_pool_backward": lambda: (lambda g: ops.avg_pool_backward(g, input_size=(5, 4), **AVGP),
                                  (f64(2, 2, 3, 5),)),
    "adaptive_avg_pool": lambda: (lambda x: ops.adaptive_avg_pool(x, output_size=(3, 2)), (f64(2, 2, 5, 4),)),
    "adaptive_avg_pool_backward": lambda: (
        lambda g: ops.adaptive_avg_pool_backward(g, input_size=(5, 4)), (f64(2, 2, 3, 2),)),
    "batch_norm_stats": lambda: (ops.batch_norm_stats, (f64(3, 2, 4),)),
    "batch_norm_apply": lambda: (lambda x, s, w, b: ops.batch_norm_apply(x, s, w, b, eps=0.1),
                                 (f64(3, 2, 4), f64(2, 2) * 0.1 + 1, f64(2), f64(2))),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK_CASES))
def test_gradcheck_primitive(name):
    fn, inputs = GRADCHECK_CASES[name]()
    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("name", ["convolution", "max_pool", "avg_pool", "adaptive_avg_pool", "batch_norm_stats",
                                  "batch_norm_apply"])
def test_gradgradcheck_primitive(name):
    fn, inputs = GRADCHECK_CASES[name]()
    assert gradgradcheck(fn, inputs)


def test_every_primitive_here_has_a_gradcheck_case():
    from tensorlite import _prims_conv, _prims_norm, _prims_pool
    from tensorlite._primitive import Primitive
    mine = {p.name for m in (_prims_conv, _prims_norm, _prims_pool) for p in vars(m).values()
            if isinstance(p, Primitive) and p.backward is not None and p.impl.__module__ == m.__name__}
    assert mine == set(GRADCHECK_CASES)


RUNNING = (tl.tensor([0.5, -0.25], dtype=tl.float64), tl.tensor([2.0, 0.5], dtype=tl.float64))


@pytest.mark.parametrize("fn", [
    lambda x, w, b: F.conv2d(x, w, b, padding="same"),
    lambda x, w, b: F.conv1d(x.flatten(2), w[..., 0], b, stride=2, padding=1),
    lambda x, w, b: F.max_pool2d(x * w.sum(), 2, 1, ceil_mode=True),
    lambda x, w, b: F.avg_pool2d(x + b.sum(), 3, 2, 1, count_include_pad=False),
    lambda x, w, b: F.adaptive_avg_pool2d(x, (2, 3)) * w.mean(),
    lambda x, w, b: F.batch_norm(x, None, None, b[:2], w[0, 0, 0], training=True),
    lambda x, w, b: F.batch_norm(x, RUNNING[0], RUNNING[1], w[0, 0, 0], None, eps=0.1),
], ids=["conv2d_same", "conv1d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "batch_norm_train",
        "batch_norm_eval"])
def test_gradcheck_functional(fn):
    assert gradcheck(fn, (distinct(1, 2, 4, 3), f64(3, 2, 2, 2), f64(3)))


def ref_batch_norm(x, mean, var, w, b, eps):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * w.reshape(shape) + b.reshape(shape)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (2, 3, 4, 5)])
def test_batch_norm_matches_numpy_reference(shape):
    x, w, b = RNG.standard_normal(shape) * 3 + 2, RNG.standard_normal(3), RNG.standard_normal(3)
    axes = (0,) + tuple(range(2, len(shape)))
    rm, rv = tl.zeros(3, dtype=tl.float64), tl.ones(3, dtype=tl.float64)
    got = F.batch_norm(tl.tensor(x), rm, rv, tl.tensor(w), tl.tensor(b), training=True, momentum=0.25, eps=1e-3)
    want = ref_batch_norm(x, x.mean(axes), x.var(axes), w, b, 1e-3)
    np.testing.assert_allclose(_np(got), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_np(rm), 0.25 * x.mean(axes), rtol=1e-12)
    np.testing.assert_allclose(_np(rv), 0.75 + 0.25 * x.var(axes, ddof=1), rtol=1e-12)  # unbiased
    evaluated = F.batch_norm(tl.tensor(x), rm, rv, tl.tensor(w), tl.tensor(b), eps=1e-3)
    np.testing.assert_allclose(_np(evaluated), ref_batch_norm(x, _np(rm), _np(rv), w, b, 1e-3), rtol=1e-12)


def test_batchnorm_modules_train_eval_and_buffers():
    bn = nn.BatchNorm2d(3, momentum=0.5).double()
    assert repr(bn) == "BatchNorm2d(3, eps=1e-05, momentum=0.5, affine=True, bias=True, track_running_stats=True)"
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    x = RNG.standard_normal((4, 3, 2, 2)) + 1
    bn(tl.tensor(x))
    bn(tl.tensor(x))
    assert bn.num_batches_tracked.item() == 2 and bn.num_batches_tracked.dtype == tl.int64
    np.testing.assert_allclose(_np(bn.running_mean), 0.75 * x.mean((0, 2, 3)), rtol=1e-12)
    bn.eval()
    out = bn(tl.tensor(x))
    assert bn.num_batches_tracked.item() == 2  # eval leaves the statistics alone
    np.testing.assert_allclose(_np(out), ref_batch_norm(x, _np(bn.running_mean), _np(bn.running_var), np.ones(3),
                                                        np.zeros(3), 1e-5), rtol=1e-12)
    cumulative = nn.BatchNorm1d(2, momentum=None, affine=False).double()  # a running average
    a, b = RNG.standard_normal((5, 2)), RNG.standard_normal((5, 2))
    cumulative(tl.tensor(a))
    cumulative(tl.tensor(b))
    np.testing.assert_allclose(_np(cumulative.running_mean), (a.mean(0) + b.mean(0)) / 2, rtol=1e-12)
    assert cumulative.weight is None and repr(cumulative).startswith("BatchNorm1d(2, eps=1e-05, momentum=None")
    untracked = nn.BatchNorm1d(2, track_running_stats=False).double().eval()  # batch statistics always
    assert untracked.running_mean is None
    np.testing.assert_allclose(_np(untracked(tl.tensor(a))), (a - a.mean(0)) / np.sqrt(a.var(0) + 1e-5), rtol=1e-10)
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(tl.ones(2, 3, 4))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(tl.ones(2, 3, 4, 5))


# ----------------------------------------------------------------------------- against PyTorch


def _torch_pair(torch, *arrays):
    tls = [tl.tensor(a, requires_grad=True) for a in arrays]
    ths = [torch.tensor(a, requires_grad=True) for a in arrays]
    return tls, ths


def _same_as_torch(torch, tl_fn, th_fn, *arrays, rtol=1e-10):
    (tls, ths), g = _torch_pair(torch, *arrays), None
    out, want = tl_fn(*tls), th_fn(*ths)
    np.testing.assert_allclose(_np(out), want.detach().numpy(), rtol=rtol, atol=rtol, equal_nan=True)
    g = RNG.standard_normal(tuple(want.shape))
    out.backward(tl.tensor(g))
    want.backward(torch.tensor(g))
    for a, b in zip(tls, ths):
        np.testing.assert_allclose(_np(a.grad), b.grad.numpy(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("stride,padding,dilation,groups", CONV_GEOMETRIES + [(1, "same", 2, 1), (1, "valid", 1, 2)])
def test_conv2d_values_and_gradients_match_pytorch(stride, padding, dilation, groups):
    torch = pytest.importorskip("torch")
    x, w, b = RNG.standard_normal((2, 4, 7, 6)), RNG.standard_normal((8, 4 // groups, 3, 2)), RNG.standard_normal(8)
    args = (stride, padding, dilation, groups)
    _same_as_torch(torch, lambda *a: F.conv2d(*a, *args), lambda *a: torch.nn.functional.conv2d(*a, *args), x, w, b)
    x1, w1 = x[:, :, 0], w[:, :, 0]
    args1 = tuple(v[0] if isinstance(v, tuple) else v for v in args)
    _same_as_torch(torch, lambda *a: F.conv1d(*a, None, *args1), lambda *a: torch.nn.functional.conv1d(*a, None, *args1),
                   x1, w1)


def test_conv2d_float32_matches_pytorch():
    torch = pytest.importorskip("torch")
    x, w = RNG.standard_normal((8, 3, 32, 32)).astype(np.float32), RNG.standard_normal((16, 3, 3, 3)).astype(np.float32)
    _same_as_torch(torch, lambda a, b: F.conv2d(a, b, padding=1), lambda a, b: torch.nn.functional.conv2d(a, b, padding=1),
                   x, w, rtol=2e-4)


@pytest.mark.parametrize("k,s,p,d,ceil_mode", [(2, None, 0, 1, False), (3, 2, 1, 1, True), ((2, 3), (1, 2), (1, 1), 2, False),
                                               (3, 3, 1, 1, True)])
def test_pooling_matches_pytorch(k, s, p, d, ceil_mode):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = RNG.standard_normal((2, 3, 7, 8))
    x[0, 0, :3, :3] = 0.25
    _same_as_torch(torch, lambda a: F.max_pool2d(a, k, s, p, d, ceil_mode), lambda a: tf.max_pool2d(a, k, s, p, d, ceil_mode), x)
    got = F.max_pool2d(tl.tensor(x), k, s, p, d, ceil_mode, return_indices=True)[1]
    want = tf.max_pool2d(torch.tensor(x), k, s, p, d, ceil_mode, return_indices=True)[1]
    np.testing.assert_array_equal(_np(got), want.numpy())
    for cip, div in [(True, None), (False, None), (True, 5)]:
        _same_as_torch(torch, lambda a: F.avg_pool2d(a, k, s, p, ceil_mode, cip, div),
                       lambda a: tf.avg_pool2d(a, k, s, p, ceil_mode, cip, div), x)
    for size in [1, 3, (5, 2), (None, 9)]:
        _same_as_torch(torch, lambda a: F.adaptive_avg_pool2d(a, size), lambda a: tf.adaptive_avg_pool2d(a, size), x)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (2, 3, 4, 5)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_pytorch(shape, training):
    torch = pytest.importorskip("torch")
    x, w, b = RNG.standard_normal(shape) * 3 + 2, RNG.standard_normal(3), RNG.standard_normal(3)
    stats = [RNG.standard_normal(3), RNG.random(3) + 0.5]
    rm, rv = (tl.tensor(s) for s in stats)
    trm, trv = (torch.tensor(s) for s in stats)
    _same_as_torch(torch, lambda *a: F.batch_norm(a[0], rm, rv, a[1], a[2], training, 0.3, 1e-3),
                   lambda *a: torch.nn.functional.batch_norm(a[0], trm, trv, a[1], a[2], training, 0.3, 1e-3), x, w, b)
    np.testing.assert_allclose(_np(rm), trm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(_np(rv), trv.numpy(), rtol=1e-12)


def test_batchnorm2d_module_matches_pytorch_over_steps():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.BatchNorm2d(4, momentum=None), torch.nn.BatchNorm2d(4, momentum=None)
    for step in range(3):
        x = RNG.standard_normal((3, 4, 5, 5)).astype(np.float32) * (step + 1)
        np.testing.assert_allclose(_np(ours(tl.tensor(x))), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(_np(getattr(ours, name)), getattr(theirs, name).numpy(), rtol=1e-5)
    assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == 3
    ours.eval()
    theirs.eval()
    x = RNG.standard_normal((2, 4, 3, 3)).astype(np.float32)
    np.testing.assert_allclose(_np(ours(tl.tensor(x))), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


ERROR_CASES = [  # (call, message): PyTorch's messages
    (lambda: F.conv2d(tl.ones(2, 3), tl.ones(6, 3, 3, 3)),
     "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [2, 3]"),
    (lambda: F.conv2d(tl.ones(2, 4, 5, 5), tl.ones(6, 3, 3, 3)),
     "Given groups=1, weight of size [6, 3, 3, 3], expected input[2, 4, 5, 5] to have 3 channels, but got 4 channels instead"),
    (lambda: F.conv2d(tl.ones(2, 4, 5, 5), tl.ones(6, 4, 7, 7)),
     "Calculated padded input size per channel: (5 x 5). Kernel size: (7 x 7). Kernel size can't be greater than actual input size"),
    (lambda: F.conv2d(tl.ones(2, 4, 5, 5), tl.ones(6, 4, 3, 3), stride=0), "non-positive stride is not supported"),
    (lambda: F.conv2d(tl.ones(2, 4, 5, 5), tl.ones(6, 4, 3, 3), padding=-1), "negative padding is not supported"),
    (lambda: F.conv2d(tl.ones(2, 4, 5, 5), tl.ones(6, 4, 3, 3), padding="foo"), "Invalid padding string: 'foo'"),
    (lambda: F.conv2d(tl.ones(2, 4, 5, 5), tl.ones(6, 4, 3, 3), padding="same", stride=2),
     "padding='same' is not supported for strided convolutions"),
    (lambda: F.conv2d(tl.ones(2, 4, 5, 5), tl.ones(6, 4, 3, 3), bias=tl.ones(5)),
     "Given weight of size [6, 4, 3, 3], expected bias to be 1-dimensional with 6 elements, but got bias of size [5] instead"),
    (lambda: F.conv2d(tl.ones(2, 4, 5, 5), tl.ones(6, 4, 3)),
     "expected stride to be a single integer value or a list of 1 values to match the convolution dimensions, but got stride=[1, 1]"),
    (lambda: F.conv2d(tl.ones(2, 4, 5, 5), tl.ones(5, 2, 3, 3), groups=2),
     "Given groups=2, expected weight to be divisible by 2 at dimension 0, but got weight of size [[5, 2, 3, 3]] instead"),
    (lambda: F.conv2d(tl.ones(2, 4, 5, 5), tl.ones(6, 4, 3, 3), groups=0), "non-positive groups is not supported"),
    (lambda: F.conv2d(tl.ones(2, 4, 5, 5).double(), tl.ones(6, 4, 3, 3)), "expected scalar type Double but found Float"),
    (lambda: F.max_pool2d(tl.ones(2, 4, 5, 5), 3, padding=2),
     "pad should be at most half of effective kernel size, but got pad=2, kernel_size=3 and dilation=1"),
    (lambda: F.max_pool2d(tl.ones(2, 4, 5, 5), 0, 1), "kernel size should be greater than zero, but got kH: 0 kW: 0"),
    (lambda: F.max_pool2d(tl.ones(2, 4, 5, 5), 2, (1, 2, 3)),
     "max_pool2d: stride must either be omitted, a single int, or a tuple of two ints"),
    (lambda: F.max_pool2d(tl.ones(5, 5), 2), "non-empty 3D or 4D (batch mode) tensor expected for input"),
    (lambda: F.max_pool2d(tl.ones(2, 4, 5, 5), 7),
     "Given input size: (4x5x5). Calculated output size: (4x0x0). Output size is too small"),
    (lambda: F.avg_pool2d(tl.ones(2, 4, 5, 5), 2, divisor_override=0), "divisor must be not zero"),
    (lambda: F.avg_pool2d(tl.ones(2, 4, 0, 5), 2),
     "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:[2, 4, 0, 5]"),
    (lambda: F.adaptive_avg_pool2d(tl.ones(2, 4, 5, 5), (2,)), "adaptive_avg_pool2d: output_size must be 2"),
    (lambda: F.adaptive_avg_pool2d(tl.ones(5, 5), 2), "adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got [5, 5]"),
    (lambda: F.max_pool2d(tl.ones(2, 4, 5, 5).bool(), 2), "\"max_pool2d\" not implemented for 'Bool'"),
    (lambda: F.adaptive_avg_pool2d(tl.ones(2, 4, 5, 5).long(), 2), "\"adaptive_avg_pool2d\" not implemented for 'Long'"),
    (lambda: F.batch_norm(tl.ones(4, 3), None, None), "running_mean must be defined in evaluation mode"),
    (lambda: F.batch_norm(tl.ones(1, 3), None, None, training=True),
     "Expected more than 1 value per channel when training, got input size tensorlite.Size([1, 3])"),
    (lambda: F.batch_norm(tl.ones(4, 3), tl.zeros(4), tl.ones(4), training=True), "running_mean should contain 3 elements not 4"),
    (lambda: F.batch_norm(tl.ones(4, 3), None, None, tl.ones(2), training=True), "weight should contain 3 elements not 2"),
    (lambda: F.batch_norm(tl.ones(4, 3), tl.zeros(3).double(), tl.ones(3).double()),
     "mixed dtype (CPU): expect parameter to have scalar type of Float"),
]


@pytest.mark.parametrize("i", range(len(ERROR_CASES)))
def test_pytorch_error_messages(i):
    call, message = ERROR_CASES[i]
    with pytest.raises((RuntimeError, NotImplementedError, ValueError)) as e:
        call()
    assert str(e.value) == message


# ----------------------------------------------------------------------------- modules


def test_conv_modules_init_attributes_and_repr():
    conv = nn.Conv2d(4, 8, (3, 5), stride=2, padding=1, dilation=2, groups=2, bias=False)
    assert repr(conv) == ("Conv2d(4, 8, kernel_size=(3, 5), stride=(2, 2), padding=(1, 1), dilation=(2, 2), "
                          "groups=2, bias=False)")
    assert conv.weight.shape == (8, 2, 3, 5) and conv.bias is None
    assert (conv.kernel_size, conv.stride, conv.padding, conv.dilation) == ((3, 5), (2, 2), (1, 1), (2, 2))
    assert (conv.transposed, conv.output_padding, conv.padding_mode) == (False, (0, 0), "zeros")
    bound = 1 / math.sqrt(2 * 3 * 5)  # kaiming_uniform_(a=sqrt(5)): 1/sqrt(fan_in), as PyTorch
    assert conv.weight.abs().max().item() <= bound
    c1 = nn.Conv1d(3, 6, 3, padding="same")
    assert repr(c1) == "Conv1d(3, 6, kernel_size=(3,), stride=(1,), padding=same)"
    assert c1.bias.abs().max().item() <= 1 / 3 and c1.bias.shape == (6,)
    assert [n for n, _ in c1.named_parameters()] == ["weight", "bias"]
    x = f64(2, 3, 9, rg=False)
    np.testing.assert_array_equal(_np(c1.double()(x)), _np(F.conv1d(x, c1.weight, c1.bias, padding="same")))


@pytest.mark.parametrize("kwargs,message", [
    ({"groups": 0}, "groups must be a positive integer"), ({"groups": 3}, "in_channels must be divisible by groups"),
    ({"padding": "foo"}, "Invalid padding string 'foo', should be one of {'valid', 'same'}"),
    ({"padding": "same", "stride": 2}, "padding='same' is not supported for strided convolutions")])
def test_conv_module_errors(kwargs, message):
    with pytest.raises(ValueError) as e:
        nn.Conv2d(4, 6, 3, **kwargs)
    assert str(e.value) == message


def test_pool_modules():
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool2d(3, 2, 1)) == "AvgPool2d(kernel_size=3, stride=2, padding=1)"
    assert repr(nn.AdaptiveAvgPool2d((None, 3))) == "AdaptiveAvgPool2d(output_size=(None, 3))"
    x = distinct(2, 3, 6, 6, rg=False)
    out, idx = nn.MaxPool2d(2, return_indices=True)(x)
    assert out.shape == (2, 3, 3, 3) and idx.dtype == tl.int64
    np.testing.assert_array_equal(_np(nn.AvgPool2d(2, ceil_mode=True)(x[..., :5, :5])),
                                  _np(F.avg_pool2d(x[..., :5, :5], 2, ceil_mode=True)))
    assert nn.AdaptiveAvgPool2d(1)(x).shape == (2, 3, 1, 1)


# ----------------------------------------------------------------------------- compiled vs eager


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2, groups=2, padding="valid")
        self.avg = nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False, padding=1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Conv1d(8, 4, 1)

    def forward(self, x):
        x = self.pool(self.bn(self.conv1(x)).relu())
        x = self.avg(self.conv2(x))
        y, idx = F.max_pool2d(x, 2, 1, 1, return_indices=True)
        x = self.gap(x * 2 + y[..., :x.shape[2], :x.shape[3]])
        return self.head(x.flatten(2)).tanh().sum(), idx


@pytest.mark.parametrize("backend", BACKENDS)
def test_compiled_cnn_matches_eager(backend):
    tl.manual_seed(0)
    eager = SmallCNN()
    tl.manual_seed(0)
    compiled_model = SmallCNN()
    compiled = md.compile(compiled_model, backend=backend)
    for step in range(2):  # the second call runs the cached graph
        x = tl.randn(2, 3, 12, 12)
        (loss, idx), (want, want_idx) = compiled(x), eager(x)
        np.testing.assert_allclose(loss.item(), want.item(), rtol=1e-5)
        np.testing.assert_array_equal(_np(idx), _np(want_idx))
        loss.backward()
        want.backward()
        for p, q in zip(compiled_model.parameters(), eager.parameters()):
            np.testing.assert_allclose(_np(p.grad), _np(q.grad), rtol=1e-4, atol=1e-6)
        for p, q in zip(compiled_model.buffers(), eager.buffers()):  # running statistics
            np.testing.assert_allclose(_np(p), _np(q), rtol=1e-5, atol=1e-7)
    compiled_model.eval()
    eager.eval()
    x = tl.randn(2, 3, 12, 12)
    np.testing.assert_allclose(compiled(x)[0].item(), eager(x)[0].item(), rtol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_compiled_functional_ops_match_eager_with_input_gradients(backend):
    def fn(x, w):
        y = F.conv2d(x, w, stride=(1, 2), padding=(2, 1), dilation=2)
        return F.avg_pool2d(F.max_pool2d(y, 3, 1, 1), 2, 1) + F.adaptive_avg_pool2d(y, (3, 4)).sum()

    x, w = f64(2, 2, 9, 8), f64(3, 2, 3, 3)
    x2, w2 = x.detach().requires_grad_(), w.detach().requires_grad_()
    got, want = md.compile(fn, backend=backend)(x, w), fn(x2, w2)
    np.testing.assert_allclose(_np(got), _np(want), rtol=1e-12)
    g = f64(*want.shape, rg=False)
    got.backward(g)
    want.backward(g)
    np.testing.assert_allclose(_np(x.grad), _np(x2.grad), rtol=1e-12)
    np.testing.assert_allclose(_np(w.grad), _np(w2.grad), rtol=1e-12)
