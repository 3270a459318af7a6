"""gather / scatter / scatter_add / index_select / index_add, sort / argsort / topk: gradcheck,
values against numpy and against PyTorch when it is installed (errors included), and compiled
(eager, aot_eager, codegen) against eager."""
import itertools

import numpy as np
import pytest

import minidynamo as md
import tensorlite as tl
from tensorlite import ops
from tensorlite.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(11)
BACKENDS = ["eager", "aot_eager", "codegen"]
# the primitives this file tests (tests/tensorlite/test_ops.py checks every primitive is tested)
INDEX_PRIMITIVES = {"gather", "scatter", "index_select", "index_add", "argsort", "topk_indices"}


def f64(*shape, rg=True):
    return tl.tensor(RNG.standard_normal(shape), dtype=tl.float64, requires_grad=rg)


def _np(t):
    return t.detach().numpy()


# ----------------------------------------------------------------------------- values


def test_gather_and_scatter_match_numpy():
    x = RNG.standard_normal((3, 4))
    idx = np.array([[0, 3], [2, 2], [1, 0]])
    np.testing.assert_array_equal(_np(tl.tensor(x).gather(1, tl.tensor(idx))), np.take_along_axis(x, idx, 1))
    small = np.array([[2, 0, 1]])  # smaller than x apart from dim: reads x's corner
    np.testing.assert_array_equal(_np(tl.gather(tl.tensor(x), 0, tl.tensor(small))),
                                  np.take_along_axis(x[:, :3], small, 0))
    want = x.copy()
    np.put_along_axis(want, idx, 7.0, 1)
    np.testing.assert_array_equal(_np(tl.tensor(x).scatter(1, tl.tensor(idx), 7.0)), want)
    src = RNG.standard_normal((3, 2))
    added = x.copy()
    for i, j in itertools.product(range(3), range(2)):
        added[i, idx[i, j]] += src[i, j]  # repeated positions add up
    np.testing.assert_allclose(_np(tl.tensor(x).scatter_add(1, tl.tensor(idx), tl.tensor(src))), added)
    t = tl.tensor(x)
    assert t.scatter_(1, tl.tensor(idx), tl.tensor(src)) is t and t[1, 2].item() == src[1, 1]  # the last write wins


def test_index_select_and_index_add_match_numpy():
    x = RNG.standard_normal((4, 3))
    idx = np.array([3, 0, 3])
    np.testing.assert_array_equal(_np(tl.tensor(x).index_select(0, tl.tensor(idx))), x[idx])
    np.testing.assert_array_equal(_np(tl.index_select(tl.tensor(x), 1, tl.tensor(2))), x[:, [2]])
    src = RNG.standard_normal((3, 3))
    want = x.copy()
    np.add.at(want, idx, 2 * src)
    np.testing.assert_allclose(_np(tl.tensor(x).index_add(0, tl.tensor(idx), tl.tensor(src), alpha=2)), want)


def test_sort_argsort_topk_match_numpy():
    x = np.array([[2.0, np.nan, 1.0, 2.0, -np.inf], [3.0, 3.0, -1.0, np.inf, 0.5]])
    values, indices = tl.tensor(x).sort(1)
    np.testing.assert_array_equal(_np(indices), np.argsort(x, 1, kind="stable"))
    np.testing.assert_array_equal(_np(values), np.sort(x, 1))
    down = tl.sort(tl.tensor(x), 1, descending=True)
    np.testing.assert_array_equal(_np(down.indices), [[1, 0, 3, 2, 4], [3, 0, 1, 4, 2]])  # nan first, ties in order
    assert repr(down).startswith("tensorlite.return_types.sort(\nvalues=")
    np.testing.assert_array_equal(_np(tl.argsort(tl.tensor(x), 0, descending=True)), _np(tl.tensor(x).sort(0, True)[1]))
    big = RNG.permutation(100).reshape(2, 50).astype(float)
    for k, largest in itertools.product([0, 1, 3, 50], [True, False]):
        top = tl.tensor(big).topk(k, largest=largest)
        want = np.argsort(-big if largest else big, 1, kind="stable")[:, :k]
        np.testing.assert_array_equal(_np(top.indices), want)
        np.testing.assert_array_equal(_np(top.values), np.take_along_axis(big, want, 1))


def test_errors():
    x = tl.ones(3, 4)
    cases = [(lambda: x.gather(1, tl.tensor([[0], [5], [1]])), "index 5 is out of bounds for dimension 1 with size 4"),
             (lambda: x.gather(1, tl.tensor([0, 1])), "Index tensor must have the same number of dimensions as input tensor"),
             (lambda: x.gather(0, tl.tensor([[0, 1, 2, 0, 1]])),
              "Size does not match at dimension 1 expected index [1, 5] to be no larger than self [3, 4] apart from dimension 0"),
             (lambda: x.index_select(0, tl.tensor([[0]])), "index_select(): Index is supposed to be a vector"),
             (lambda: x.index_select(0, tl.tensor([4])), "index out of range in self"),
             (lambda: x.scatter(1, tl.tensor([[0]]), tl.ones(1, 1).double()),
              "scatter(): Expected self.dtype to be equal to src.dtype"),
             (lambda: x.scatter(1, tl.tensor([[0]]), 1.0, reduce="max"), "reduce argument must be either add or multiply."),
             (lambda: x.topk(5), "selected index k out of range")]
    for call, message in cases:
        with pytest.raises((RuntimeError, IndexError)) as e:
            call()
        assert str(e.value) == message


# ----------------------------------------------------------------------------- gradcheck

IDX = tl.tensor([[0, 2], [1, 1], [2, 0]])
UNIQUE = tl.tensor([[0, 2], [1, 3], [2, 0]])  # scatter: a repeated position keeps only one write
GRADCHECK_CASES = {
    "gather": lambda: (lambda x: ops.gather(x, IDX, dim=1), (f64(3, 4),)),
    "scatter": lambda: (lambda x, s: ops.scatter(x, UNIQUE, s, dim=1, reduce=None), (f64(3, 4), f64(3, 3))),
    "scatter_add": lambda: (lambda x, s: ops.scatter(x, IDX, s, dim=0, reduce="add"), (f64(3, 4), f64(3, 2))),
    "index_select": lambda: (lambda x: ops.index_select(x, tl.tensor([2, 0, 2]), dim=1), (f64(2, 3),)),
    "index_add": lambda: (lambda x, s: ops.index_add(x, tl.tensor([1, 1]), s, dim=0, alpha=0.5), (f64(2, 3), f64(2, 3))),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK_CASES))
def test_gradcheck_primitive(name):
    fn, inputs = GRADCHECK_CASES[name]()
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_every_primitive_with_a_backward_has_a_gradcheck_case():
    from tensorlite import _prims_index
    from tensorlite._primitive import Primitive
    prims = [p for p in vars(_prims_index).values() if isinstance(p, Primitive) and p.impl.__module__ == _prims_index.__name__]
    assert {p.name for p in prims} == INDEX_PRIMITIVES
    assert {p.name for p in prims if p.backward is not None} == {n for n in GRADCHECK_CASES if n != "scatter_add"}


def test_gradcheck_sort_and_topk_values():
    x = tl.tensor(RNG.permutation(12).reshape(3, 4) * 0.1, dtype=tl.float64, requires_grad=True)  # no ties
    assert gradcheck(lambda a: a.sort(1, descending=True).values, (x,))
    assert gradcheck(lambda a: a.topk(2, 0).values * 2, (x,))
    assert gradcheck(lambda a: a.scatter(0, tl.tensor([[1, 0, 2, 1]]), 0.0).sum(1), (x,))


# ----------------------------------------------------------------------------- against PyTorch


def _compare(torch, tl_fn, th_fn, *arrays, grad=True):
    """Same values (and gradients), or the same exception type and message."""
    tls = [tl.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    ths = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    try:
        want = th_fn(*ths)
    except (RuntimeError, IndexError) as e:
        with pytest.raises(type(e)) as got:
            tl_fn(*tls)
        assert str(got.value) == str(e)
        return "error"
    got = tl_fn(*tls)
    gots, wants = (got, want) if isinstance(want, tuple) else ((got,), (want,))
    for a, b in zip(gots, wants):
        assert tuple(a.shape) == tuple(b.shape) and str(a.dtype)[11:] == str(b.dtype)[6:]
        np.testing.assert_array_equal(_np(a), b.detach().numpy())
    if grad and gots[0].requires_grad:
        g = RNG.standard_normal(tuple(wants[0].shape))
        gots[0].backward(tl.tensor(g))
        wants[0].backward(torch.tensor(g))
        for a, b in zip(tls, ths):
            if a.requires_grad:
                np.testing.assert_allclose(_np(a.grad), b.grad.numpy(), rtol=1e-12)
    return "value"


def test_gather_scatter_index_ops_match_pytorch():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((3, 4))
    outcomes = set()
    indices = [np.array([[0], [2], [1]]), np.array([[0, 3, 3], [1, 1, 0]]), np.array([[0, 1, 2, 0, 1]]),
               np.array([[5]]), np.array([[-1]]), np.array([0, 1])]
    for dim, idx in itertools.product([0, 1, -1], indices):
        ti, th = tl.tensor(idx), torch.tensor(idx)
        src = RNG.standard_normal(idx.shape if idx.ndim == 2 else (3, 5))
        outcomes.add(_compare(torch, lambda a: a.gather(dim, ti), lambda a: a.gather(dim, th), x))
        outcomes.add(_compare(torch, lambda a: a.scatter(dim, ti, 2.5), lambda a: a.scatter(dim, th, 2.5), x))
        outcomes.add(_compare(torch, lambda a, s: a.scatter_add(dim, ti, s), lambda a, s: a.scatter_add(dim, th, s), x, src))
    for dim, idx in itertools.product([0, 1], [np.array([0, 2, 2]), np.array(1), np.array([[0]]), np.array([-1]),
                                               np.array([0, 1.0])]):
        outcomes.add(_compare(torch, lambda a: a.index_select(dim, tl.tensor(idx)),
                              lambda a: a.index_select(dim, torch.tensor(idx)), x))
    for dim in (0, 1):
        src = RNG.standard_normal((3, 4) if dim == 0 else (3, 3))
        outcomes.add(_compare(torch, lambda a, s: a.index_add(dim, tl.tensor([0, 2, 0]), s, alpha=2.0),
                              lambda a, s: a.index_add(dim, torch.tensor([0, 2, 0]), s, alpha=2.0), x, src))
    assert outcomes == {"value", "error"}


def test_sort_and_topk_match_pytorch():
    torch = pytest.importorskip("torch")
    xs = np.array([[2.0, np.nan, 1.0, 2.0, 0.5], [3.0, 3.0, -1.0, np.inf, -np.inf]])
    for dim, descending in itertools.product([0, 1, -1], [False, True]):
        _compare(torch, lambda a: a.sort(dim, descending, stable=True),
                 lambda a: a.sort(dim=dim, descending=descending, stable=True), xs)
        _compare(torch, lambda a: a.argsort(dim, descending), lambda a: a.argsort(dim=dim, descending=descending, stable=True),
                 RNG.integers(0, 3, (3, 5)))
    distinct = RNG.permutation(60).reshape(3, 20).astype(float)
    for k, dim, largest in itertools.product([0, 1, 2, 3, 5, 21], [0, 1], [True, False]):
        _compare(torch, lambda a: a.topk(k, dim, largest), lambda a: a.topk(k, dim, largest), distinct)
    _compare(torch, lambda a: a.sort(), lambda a: a.sort(), np.array(3.0))


# ----------------------------------------------------------------------------- compiled vs eager


@pytest.mark.parametrize("backend", BACKENDS)
def test_compiled_matches_eager(backend):
    idx = tl.tensor([[0, 3], [2, 2], [1, 0]])

    def fn(x, s):
        y = x.gather(1, idx) * s
        z = x.scatter_add(1, idx, y).index_select(0, tl.tensor([2, 0]))
        top = z.topk(2, dim=1)
        srt = z.sort(1, descending=True)
        return top.values.sum() + srt.values[:, :3].sum() + x.scatter(1, idx, 0.5).index_add(0, tl.tensor([1]), s[:1, :1].expand(1, 4)).sum(), top.indices, srt.indices.argsort(1)

    x, s = f64(3, 4), f64(3, 2)
    x2, s2 = x.detach().requires_grad_(), s.detach().requires_grad_()
    got, want = md.compile(fn, backend=backend)(x, s), fn(x2, s2)
    np.testing.assert_allclose(_np(got[0]), _np(want[0]), rtol=1e-12)
    for a, b in zip(got[1:], want[1:]):
        np.testing.assert_array_equal(_np(a), _np(b))
    got[0].backward()
    want[0].backward()
    np.testing.assert_allclose(_np(x.grad), _np(x2.grad), rtol=1e-12)
    np.testing.assert_allclose(_np(s.grad), _np(s2.grad), rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_compiled_inplace_scatter_matches_eager(backend):
    def fn(x, i):
        y = x * 1
        y.scatter_(0, i, 2.0)
        y.index_add_(1, tl.tensor([0, 0]), x[:, :2])
        return y

    x, i = f64(3, 3, rg=False), tl.tensor([[2, 0, 1]])
    np.testing.assert_array_equal(_np(md.compile(fn, backend=backend)(x, i)), _np(fn(x, i)))
