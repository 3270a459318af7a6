"""Padding, triangles and cumulative sums: gradcheck of every primitive, values against numpy
and against PyTorch when it is installed, PyTorch's errors, and compiled (eager, aot_eager,
codegen) against eager."""
import itertools

import numpy as np
import pytest

import minidynamo as md
import tensorlite as tl
import tensorlite.nn as nn
import tensorlite.nn.functional as F
from tensorlite import ops
from tensorlite.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(7)
BACKENDS = ["eager", "aot_eager", "codegen"]
# the primitives this file tests (tests/tensorlite/test_ops.py checks every primitive is tested)
ARRAY_PRIMITIVES = {"pad", "pad_backward", "tril", "triu", "cumsum"}


def f64(*shape, rg=True):
    return tl.tensor(RNG.standard_normal(shape), dtype=tl.float64, requires_grad=rg)


def _np(t):
    return t.detach().numpy()


# ----------------------------------------------------------------------------- values

NUMPY_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@pytest.mark.parametrize("mode", sorted(NUMPY_MODES))
@pytest.mark.parametrize("pad", [(1, 2), (2, 0, 1, 3), (0, 1, 2, 2, 1, 0)])
def test_pad_matches_numpy_pad(mode, pad):
    n = len(pad) // 2  # batched input: 1, 2 or 3 padded dims after (N, C)
    x = RNG.standard_normal((2, 3) + (4, 5, 6)[:n])
    got = F.pad(tl.tensor(x), pad, mode)
    widths = [(0, 0)] * 2 + [(pad[i], pad[i + 1]) for i in range(len(pad) - 2, -1, -2)]
    np.testing.assert_array_equal(_np(got), np.pad(x, widths, mode=NUMPY_MODES[mode]))


def test_pad_negative_crops_and_value_fills():
    x = tl.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(_np(F.pad(x, (-1, 2, 1, -2), value=7.0)),
                                  [[7, 7, 7, 7, 7], [1, 2, 3, 7, 7]])
    np.testing.assert_array_equal(_np(F.pad(x[None], (-1, 2), mode="circular"))[0, 0], [1, 2, 3, 1, 2])
    assert F.pad(tl.ones(2, dtype=tl.int64), (1, 1), value=2.5).tolist() == [2, 1, 1, 2]  # cast as C does


def test_tril_triu_match_numpy():
    x = RNG.standard_normal((2, 4, 5))
    for k in (-2, 0, 1, 7):
        np.testing.assert_array_equal(_np(tl.tril(tl.tensor(x), k)), np.tril(x, k))
        np.testing.assert_array_equal(_np(tl.tensor(x).triu(k)), np.triu(x, k))
    t = tl.tensor(x)
    assert t.tril_(1) is t
    np.testing.assert_array_equal(_np(t), np.tril(x, 1))
    with pytest.raises(RuntimeError, match="^tril: input tensor must have at least 2 dimensions$"):
        tl.ones(3).tril()


def test_cumsum_matches_numpy_with_pytorch_dtypes():
    x = RNG.standard_normal((3, 4))
    np.testing.assert_allclose(_np(tl.tensor(x).cumsum(-1)), np.cumsum(x, -1), rtol=1e-15)
    np.testing.assert_allclose(_np(tl.cumsum(tl.tensor(x), 0)), np.cumsum(x, 0), rtol=1e-15)
    assert tl.tensor([True, True, False]).cumsum(0).tolist() == [1, 2, 2]
    assert tl.tensor([1, 2], dtype=tl.int32).cumsum(0).dtype == tl.int64
    assert tl.ones(2).cumsum(0, dtype=tl.float64).dtype == tl.float64
    assert tl.tensor(3.0).cumsum(0).item() == 3.0
    t = tl.ones(2, 3).long()
    t.cumsum_(1)
    assert t.tolist() == [[1, 2, 3], [1, 2, 3]]
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-1, 0\], but got 1\)"):
        tl.ones(3).cumsum(1)


# ----------------------------------------------------------------------------- gradcheck

GRADCHECK_CASES = {
    "pad": lambda: (lambda x: ops.pad(x, pad=((1, -1), (2, 1)), mode="constant", value=0.5), (f64(2, 3, 4),)),
    "pad_backward": lambda: (lambda g: ops.pad_backward(g, pad=((1, 2),), mode="reflect", input_size=(4,)),
                             (f64(2, 7),)),
    "tril": lambda: (lambda x: ops.tril(x, diagonal=-1), (f64(2, 3, 4),)),
    "triu": lambda: (lambda x: ops.triu(x, diagonal=1), (f64(3, 4),)),
    "cumsum": lambda: (lambda x: ops.cumsum(x, dim=1, reverse=False, dtype=None), (f64(2, 4, 3),)),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK_CASES))
def test_gradcheck_primitive(name):
    fn, inputs = GRADCHECK_CASES[name]()
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_every_primitive_here_has_a_gradcheck_case():
    assert set(GRADCHECK_CASES) == ARRAY_PRIMITIVES


@pytest.mark.parametrize("mode,pad", [("constant", (1, -1, 2, 0)), ("reflect", (2, 1, 1, 2)),
                                      ("replicate", (3, 0, -1, 2)), ("circular", (-1, 2, 2, 1))])
def test_gradcheck_pad_modes(mode, pad):
    assert gradcheck(lambda x: F.pad(x, pad, mode), (f64(1, 2, 3, 4),))
    assert gradgradcheck(lambda x: F.pad(x, pad, mode), (f64(1, 2, 3, 4),))


def test_gradcheck_composites():
    assert gradcheck(lambda x: tl.cumsum(x, 0, dtype=tl.float64).tril(), (f64(4, 4),))
    assert gradcheck(lambda x: (x * 1).triu_(-1).cumsum(-1), (f64(3, 3),))


# ----------------------------------------------------------------------------- against PyTorch


def test_pad_matches_pytorch_values_gradients_and_errors():
    torch = pytest.importorskip("torch")
    outcomes = set()
    pads = [(1, 2), (2, 0, 1, 3), (-1, 2), (1, 1, -1, 2), (0, 3, 1, 1, 2, 0), (4, 4), (1,)]
    for mode, shape, pad in itertools.product(NUMPY_MODES, [(2, 5), (2, 3, 5), (2, 3, 4, 5), (1, 2, 3, 4, 5)], pads):
        x = RNG.standard_normal(shape)
        a, b = tl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        try:
            want = torch.nn.functional.pad(b, pad, mode)
        except (RuntimeError, NotImplementedError) as e:
            with pytest.raises(type(e)) as got:
                F.pad(a, pad, mode)
            assert str(got.value) == str(e)
            outcomes.add("error")
            continue
        got = F.pad(a, pad, mode)
        np.testing.assert_array_equal(_np(got), want.detach().numpy())
        g = RNG.standard_normal(tuple(want.shape))
        got.backward(tl.tensor(g))
        want.backward(torch.tensor(g))
        np.testing.assert_allclose(_np(a.grad), b.grad.numpy(), rtol=1e-12, atol=1e-12)
        outcomes.add("value")
    assert outcomes == {"error", "value"}


def test_conv_padding_modes_match_pytorch():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 3, 6, 7))
    for mode, padding in itertools.product(["reflect", "replicate", "circular"], [1, (2, 1), "same"]):
        ours = nn.Conv2d(3, 4, (3, 2), padding=padding, padding_mode=mode).double()
        theirs = torch.nn.Conv2d(3, 4, (3, 2), padding=padding, padding_mode=mode).double()
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(_np(ours.weight)))
            theirs.bias.copy_(torch.tensor(_np(ours.bias)))
        np.testing.assert_allclose(_np(ours(tl.tensor(x))), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12,
                                   atol=1e-12)


def test_tril_triu_cumsum_match_pytorch():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 3, 4))
    for k in (-1, 0, 2):
        np.testing.assert_array_equal(_np(tl.tensor(x).tril(k)), torch.tensor(x).tril(k).numpy())
        np.testing.assert_array_equal(_np(tl.tensor(x).triu(k)), torch.tensor(x).triu(k).numpy())
    for dim in (0, 1, -1):
        np.testing.assert_allclose(_np(tl.tensor(x).cumsum(dim)), torch.tensor(x).cumsum(dim).numpy(), rtol=1e-14)
    ints = RNG.integers(-5, 5, (3, 4))
    assert tl.tensor(ints).cumsum(1).tolist() == torch.tensor(ints).cumsum(1).tolist()


def test_pad_errors():
    x = tl.ones(1, 2, 3)
    cases = [((1,), "constant", None, "Padding length must be divisible by 2"),
             ((1,) * 8, "constant", None, "Padding length should be less than or equal to two times the input "
                                          "dimension but got padding length 8 and input of dimension 3"),
             ((1, 1), "foo", None, "Unrecognised padding mode foo"),
             ((1, 1), "reflect", 1.0, 'Padding mode "reflect" doesn\'t take in value argument'),
             ((3, 3), "reflect", None, "Argument #4: Padding size should be less than the corresponding input "
                                       "dimension, but got: padding (3, 3) at dimension 2 of input [1, 2, 3]"),
             ((4, 4), "circular", None, "Padding value causes wrapping around more than once.")]
    for pad, mode, value, message in cases:
        with pytest.raises((RuntimeError, NotImplementedError)) as e:
            F.pad(x, pad, mode, value)
        assert str(e.value) == message


# ----------------------------------------------------------------------------- compiled vs eager


@pytest.mark.parametrize("backend", BACKENDS)
def test_compiled_matches_eager(backend):
    def fn(x, m):
        y = F.pad(x, (1, 2, 0, 1), mode="reflect") + F.pad(x, (-1, 4, 2, -1), value=0.5)
        y = y.cumsum(-1) @ m.tril(-1)
        return F.pad(y, (2, 2, 1, 0), mode="circular").triu(1).cumsum(0)

    x, m = f64(2, 3, 4, 4), f64(7, 7)
    x2, m2 = (t.detach().requires_grad_() for t in (x, m))
    got, want = md.compile(fn, backend=backend)(x, m), fn(x2, m2)
    np.testing.assert_allclose(_np(got), _np(want), rtol=1e-12)
    g = f64(*want.shape, rg=False)
    got.backward(g)
    want.backward(g)
    np.testing.assert_allclose(_np(x.grad), _np(x2.grad), rtol=1e-12)
    np.testing.assert_allclose(_np(m.grad), _np(m2.grad), rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_compiled_inplace_methods_match_eager(backend):
    def fn(x):
        y = x * 2
        y.tril_()
        return y.cumsum(1, dtype=tl.float64)

    x = f64(3, 3, rg=False)
    np.testing.assert_array_equal(_np(md.compile(fn, backend=backend)(x)), _np(fn(x)))
