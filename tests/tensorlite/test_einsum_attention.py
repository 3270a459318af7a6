"""einsum, scaled_dot_product_attention and multinomial: gradcheck, values against numpy and
against PyTorch when it is installed, PyTorch's errors, and compiled (eager, aot_eager,
codegen) against eager (for multinomial: fresh samples on every call, as eager draws them)."""
import itertools
import math

import numpy as np
import pytest

import minidynamo as md
import tensorlite as tl
import tensorlite.nn.functional as F
from tensorlite import ops
from tensorlite.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(5)
BACKENDS = ["eager", "aot_eager", "codegen"]
# the primitives this file tests (tests/tensorlite/test_ops.py checks every primitive is tested)
EINSUM_PRIMITIVES = {"einsum", "multinomial"}


def f64(*shape, rg=True):
    return tl.tensor(RNG.standard_normal(shape), dtype=tl.float64, requires_grad=rg)


def _np(t):
    return t.detach().numpy()


# ----------------------------------------------------------------------------- einsum

EINSUM_CASES = [("ij,jk", (2, 3), (3, 4)), ("bij,bjk->bik", (2, 2, 3), (2, 3, 4)), ("ii", (3, 3)), ("ii->i", (3, 3)),
                ("i,j->ij", (3,), (4,)), ("ij->", (2, 3)), ("ba", (2, 3)), ("...ij,...jk", (5, 2, 3), (3, 4)),
                ("i...,i...->...", (2, 3, 4), (2, 3, 4)), ("bhqd,bhkd->bhqk", (2, 3, 4, 5), (2, 3, 6, 5)),
                ("ij,jk,kl->il", (2, 3), (3, 4), (4, 2)), (" i j , j k -> k i ", (2, 3), (3, 4)), ("ijk,k->i", (2, 3, 4), (4,))]


@pytest.mark.parametrize("case", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_matches_numpy(case):
    equation, *shapes = case
    arrays = [RNG.standard_normal(s) for s in shapes]
    got = tl.einsum(equation, *[tl.tensor(a) for a in arrays])
    np.testing.assert_allclose(_np(got), np.einsum(equation.replace(" ", ""), *arrays), rtol=1e-12, atol=1e-12)
    assert tl.einsum(equation, [tl.tensor(a) for a in arrays]).shape == got.shape  # operands as a list


def test_einsum_broadcasts_size_one_subscripts_and_sums_their_gradient():
    a, b = f64(2, 3), f64(1, 3)
    np.testing.assert_allclose(_np(tl.einsum("ij,ij->ij", a, b)), _np(a) * _np(b))
    assert gradcheck(lambda x, y: tl.einsum("ij,ij->i", x, y), (a, b))


@pytest.mark.parametrize("equation,shapes", [("ij,jk->ik", [(2, 3), (3, 4)]), ("bij,bjk", [(2, 2, 3), (2, 3, 4)]),
                                             ("ijk,k->", [(2, 3, 4), (4,)]), ("i,j,j->ij", [(2,), (3,), (3,)]),
                                             ("...i,i->...", [(2, 3, 4), (4,)]), ("ij->ji", [(2, 3)])])
def test_gradcheck_einsum(equation, shapes):
    inputs = tuple(f64(*s) for s in shapes)
    assert gradcheck(lambda *t: tl.einsum(equation, *t), inputs)
    assert gradgradcheck(lambda *t: tl.einsum(equation, *t), inputs)


def test_einsum_errors():
    a, b = tl.ones(2, 3), tl.ones(3, 4)
    cases = [(lambda: tl.einsum("ijk,jk", a, b), "einsum(): the number of subscripts in the equation (3) does not match "
                                                 "the number of dimensions (2) for operand 0 and no ellipsis was given"),
             (lambda: tl.einsum("ij,jk,kl", a, b), "einsum(): fewer operands were provided than specified in the equation"),
             (lambda: tl.einsum("ij,ik", a, b), "einsum(): subscript i has size 3 for operand 1 which does not broadcast "
                                                "with previously seen size 2"),
             (lambda: tl.einsum("ij,jk", a, b.double()), "expected scalar type Float but found Double"),
             (lambda: tl.einsum("ij->jj", a), "einsum(): output subscript j appears more than once in the output")]
    for call, message in cases:
        with pytest.raises(RuntimeError) as e:
            call()
        assert str(e.value) == message
    with pytest.raises(RuntimeError, match="repeated subscript"):  # never a wrong gradient
        tl.einsum("ii", f64(3, 3)).backward()


def test_einsum_matches_pytorch():
    torch = pytest.importorskip("torch")
    for equation, *shapes in EINSUM_CASES:
        arrays = [RNG.standard_normal(s) for s in shapes]
        ours = [tl.tensor(a, requires_grad=True) for a in arrays]
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        got, want = tl.einsum(equation, *ours), torch.einsum(equation, *theirs)
        np.testing.assert_allclose(_np(got), want.detach().numpy(), rtol=1e-12, atol=1e-12)
        if "ii" in equation:
            continue
        g = RNG.standard_normal(tuple(want.shape))
        got.backward(tl.tensor(g))
        want.backward(torch.tensor(g))
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(_np(a.grad), b.grad.numpy(), rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- attention


def ref_attention(q, k, v, mask, scale):
    s = q @ np.swapaxes(k, -1, -2) * scale
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask
    m = s.max(-1, keepdims=True)
    e = np.exp(s - np.where(np.isinf(m), 0, m))
    w = np.divide(e, e.sum(-1, keepdims=True), out=np.zeros_like(e), where=e.sum(-1, keepdims=True) > 0)
    return w @ v


@pytest.mark.parametrize("kind", ["none", "bool", "float", "causal"])
def test_attention_matches_numpy_reference(kind):
    q, k, v = RNG.standard_normal((2, 3, 4, 5)), RNG.standard_normal((2, 3, 6, 5)), RNG.standard_normal((2, 3, 6, 2))
    mask = {"none": None, "bool": RNG.random((4, 6)) > 0.5, "float": RNG.standard_normal((4, 6)),
            "causal": np.tril(np.ones((4, 6), bool))}[kind]
    if kind == "bool":
        mask[1] = False  # a row attending to nothing gives zeros
    got = F.scaled_dot_product_attention(tl.tensor(q), tl.tensor(k), tl.tensor(v),
                                         attn_mask=None if mask is None or kind == "causal" else tl.tensor(mask),
                                         is_causal=kind == "causal")
    np.testing.assert_allclose(_np(got), ref_attention(q, k, v, mask, 1 / math.sqrt(5)), rtol=1e-12, atol=1e-12)


def test_gradcheck_attention():
    q, k, v = f64(1, 2, 3, 4), f64(1, 2, 5, 4), f64(1, 2, 5, 3)
    mask = tl.tensor(RNG.standard_normal((3, 5)))
    mask[0] = -math.inf  # a fully masked row: zero output, zero (not nan) gradients
    assert gradcheck(lambda *t: F.scaled_dot_product_attention(*t, is_causal=True), (q, k, v))
    assert gradcheck(lambda *t: F.scaled_dot_product_attention(*t, attn_mask=mask, scale=0.7), (q, k, v))
    assert gradgradcheck(lambda *t: F.scaled_dot_product_attention(*t, is_causal=True), (q, k, v))


def test_attention_matches_pytorch():
    torch = pytest.importorskip("torch")
    q, k, v = RNG.standard_normal((2, 4, 3, 5)), RNG.standard_normal((2, 4, 6, 5)), RNG.standard_normal((2, 4, 6, 7))
    bool_mask = RNG.random((3, 6)) > 0.4
    bool_mask[1] = False
    float_mask = RNG.standard_normal((3, 6))
    float_mask[2] = -np.inf
    for mask, causal, scale, heads in itertools.product([None, bool_mask, float_mask], [False, True], [None, 0.3], [4, 2, 1]):
        if mask is not None and causal:
            continue
        ours = [tl.tensor(a, requires_grad=True) for a in (q, k[:, :heads], v[:, :heads])]
        theirs = [torch.tensor(a, requires_grad=True) for a in (q, k[:, :heads], v[:, :heads])]
        kw = dict(is_causal=causal, scale=scale, enable_gqa=heads == 2)
        got = F.scaled_dot_product_attention(*ours, attn_mask=None if mask is None else tl.tensor(mask), **kw)
        want = torch.nn.functional.scaled_dot_product_attention(
            *theirs, attn_mask=None if mask is None else torch.tensor(mask), **kw)
        np.testing.assert_allclose(_np(got), want.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = RNG.standard_normal(tuple(want.shape))
        got.backward(tl.tensor(g))
        want.backward(torch.tensor(g))
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(_np(a.grad), b.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_attention_errors():
    q = tl.ones(1, 2, 3, 4)
    with pytest.raises(RuntimeError, match="^_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                                           "is_causal=True$"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=tl.ones(3, 3).bool(), is_causal=True)
    with pytest.raises(RuntimeError, match="^Expected query, key, and value to have the same dtype, but got query.dtype: "
                                           "float key.dtype: double and value.dtype: float instead.$"):
        F.scaled_dot_product_attention(q, q.double(), q)


# ----------------------------------------------------------------------------- multinomial


def test_multinomial_frequencies_and_rules():
    tl.manual_seed(0)
    p = tl.tensor([[0.2, 0.3, 0.5], [1.0, 0.0, 3.0]])
    draws = tl.multinomial(p, 20000, replacement=True)
    assert draws.shape == (2, 20000) and draws.dtype == tl.int64
    for row, want in zip(_np(draws), [[0.2, 0.3, 0.5], [0.25, 0.0, 0.75]]):
        np.testing.assert_allclose(np.bincount(row, minlength=3) / 20000, want, atol=0.015)
    for _ in range(20):  # without replacement: distinct, and zero weights only once the others are used
        picked = _np(p.multinomial(3))
        assert all(len(set(r)) == 3 for r in picked) and picked[1, 2] == 1
    tl.manual_seed(3)
    first = tl.tensor([0.5, 0.5]).multinomial(8, True)
    tl.manual_seed(3)
    assert tl.equal(first, tl.tensor([0.5, 0.5]).multinomial(8, True))  # tl.manual_seed decides the draws


def test_multinomial_errors():
    p = tl.tensor([0.2, 0.3, 0.5])
    cases = [(lambda: tl.ones(2, 2, 2).multinomial(1), "prob_dist must be 1 or 2 dim"),
             (lambda: tl.ones(3).long().multinomial(1), "multinomial only supports floating-point dtypes for input, got: Long"),
             (lambda: p.multinomial(0), "cannot sample n_sample <= 0 samples"),
             (lambda: p.multinomial(4), "cannot sample n_sample > prob_dist.size(-1) samples without replacement"),
             (lambda: tl.tensor([0.5, -0.1]).multinomial(1), "probability tensor contains either `inf`, `nan` or element < 0"),
             (lambda: tl.tensor([0.0, 0.0]).multinomial(1), "invalid multinomial distribution (sum of probabilities <= 0)")]
    for call, message in cases:
        with pytest.raises(RuntimeError) as e:
            call()
        assert str(e.value) == message


@pytest.mark.parametrize("backend", BACKENDS)
def test_compiled_multinomial_draws_like_eager(backend):
    def fn(p):
        constant = tl.tensor([0.1, 0.9])  # never folded into a constant sample
        return p.multinomial(4, True), p.multinomial(4, True), constant.multinomial(6, True)

    p = tl.tensor([[0.2, 0.3, 0.5], [1.0, 2.0, 3.0]])
    compiled = md.compile(fn, backend=backend)
    tl.manual_seed(0)
    got = compiled(p) + compiled(p)
    tl.manual_seed(0)
    want = fn(p) + fn(p)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(_np(a), _np(b))


# ----------------------------------------------------------------------------- compiled vs eager


@pytest.mark.parametrize("backend", BACKENDS)
def test_compiled_attention_and_einsum_match_eager(backend):
    def fn(x, w):
        q, k, v = tl.einsum("btc,hcd->bhtd", x, w).chunk(3, dim=-1)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return tl.einsum("bhtd,bhtd->bt", y, y).sum()

    x, w = f64(2, 5, 4), f64(2, 4, 9)
    x2, w2 = x.detach().requires_grad_(), w.detach().requires_grad_()
    got, want = md.compile(fn, backend=backend)(x, w), fn(x2, w2)
    np.testing.assert_allclose(_np(got), _np(want), rtol=1e-12)
    got.backward()
    want.backward()
    np.testing.assert_allclose(_np(x.grad), _np(x2.grad), rtol=1e-10)
    np.testing.assert_allclose(_np(w.grad), _np(w2.grad), rtol=1e-10)


def test_einsum_primitive_gradcheck_directly():
    assert gradcheck(lambda a, b: ops.einsum(a, b, equation="ij,jk->ki"), (f64(2, 3), f64(3, 4)))
