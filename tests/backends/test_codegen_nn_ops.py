"""codegen lowers convolution, pooling, batch norm, padding, triangles and cumsum (forward and backward primitives) to calls of their
numpy implementations: the generated source calls each one, and the compiled graph gives
eager's values and gradients."""
import numpy as np
import pytest

import fxlite
import tensorlite as tl
import tensorlite.nn.functional as F
from backends.codegen import cache, compile_fx_graph, counters


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIDYNAMO_CACHE_DIR", str(tmp_path / "cache"))
    cache.clear_memory()
    yield


def _flat(x):
    if isinstance(x, (tuple, list)):
        return [z for y in x for z in _flat(y)]
    return [x]


def compile_and_check(fn, *args):
    """fn through make_fx and codegen (not its eager fallback) gives eager's results; returns
    the generated source."""
    want = fn(*args)
    gm = fxlite.make_fx(fn)(*args)
    fallbacks = counters["fallbacks"]
    compiled = compile_fx_graph(gm, list(args))
    assert counters["fallbacks"] == fallbacks, "codegen fell back to running the graph eagerly"
    for _ in range(2):  # the second run reuses the kernel's buffers
        got = compiled(*args)
        for g, w in zip(_flat(got), _flat(want)):
            assert g.shape == w.shape and g.dtype == w.dtype
            np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-5, atol=1e-6)
    return compiled.source


def _grads_of(fn):
    def f(*args):
        out = fn(*args)
        loss = sum((o.float() * o.float()).sum() for o in _flat(out) if o.requires_grad)
        ins = [a for a in args if isinstance(a, tl.Tensor) and a.requires_grad]
        others = tuple(o for o in _flat(out) if not o.requires_grad)  # max_pool2d's indices
        return (loss,) + tuple(tl.autograd.grad(loss, ins)) + others
    return f


def _rg(*shape):
    """A random input, made when a test runs (importing this file draws no random numbers)."""
    return lambda: tl.tensor(np.random.default_rng(sum(shape)).standard_normal(shape), dtype=tl.float32,
                             requires_grad=True)


# name -> (function, inputs, the primitives whose kernels the generated source calls)
CASES = {
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2),
               (_rg(2, 4, 9, 8), _rg(6, 2, 3, 3), _rg(6)),
               ["convolution", "convolution_backward_input", "convolution_backward_weight"]),
    "conv1d_same": (lambda x, w: F.conv1d(x, w, padding="same", dilation=2).relu(), (_rg(2, 3, 11), _rg(4, 3, 4)),
                    ["convolution", "convolution_backward_input", "convolution_backward_weight"]),
    "max_pool2d": (lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), (_rg(2, 3, 8, 9),),
                   ["max_pool", "max_pool_backward"]),
    "max_pool2d_indices": (lambda x: F.max_pool2d(x * 2, 2, return_indices=True), (_rg(2, 3, 8, 9),),
                           ["max_pool", "max_pool_indices"]),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), (_rg(2, 3, 8, 9),),
                   ["avg_pool", "avg_pool_backward"]),
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, (3, 4)), (_rg(2, 3, 8, 9),),
                            ["adaptive_avg_pool", "adaptive_avg_pool_backward"]),
    "batch_norm_train": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True).relu(),
                         (_rg(4, 3, 5, 2), _rg(3), _rg(3)), ["batch_norm_stats", "batch_norm_apply"]),
    "batch_norm_eval": (lambda x, w: F.batch_norm(x, tl.zeros(3) + 0.5, tl.ones(3) * 2, w, None), (_rg(4, 3, 5), _rg(3)),
                        ["batch_norm_apply"]),
    "pad_constant": (lambda x: F.pad(x, (1, -1, 2, 0), value=0.5), (_rg(2, 3, 4),), ["pad"]),
    "pad_reflect": (lambda x: F.pad(x, (2, 1, 1, 2), mode="reflect"), (_rg(2, 3, 4, 5),), ["pad", "pad_backward"]),
    "tril_triu_cumsum": (lambda x: (x.tril(-1) + x.triu(2)).cumsum(1), (_rg(3, 5, 5),), ["tril", "triu", "cumsum"]),
    "gather_scatter": (lambda x: x.gather(1, tl.tensor([[0, 3], [2, 2], [1, 0]])).exp() + x.scatter(1, tl.tensor([[1], [0], [2]]), 0.5)[:, :2],
                       (_rg(3, 4),), ["gather", "scatter"]),
    "index_select_add": (lambda x: x.index_select(0, tl.tensor([2, 0, 2])).index_add(1, tl.tensor([1, 1]), x[:, :2]),
                         (_rg(3, 4),), ["index_select", "index_add"]),
    "sort_topk": (lambda x: (x.sort(1, descending=True).values * 2, x.topk(2, 0).values, x.argsort(0)),
                  (_rg(5, 4),), ["argsort", "topk_indices", "gather"]),
    "einsum_attention": (lambda q, k: F.scaled_dot_product_attention(q, k, tl.einsum("bhsd,hd->bhsd", k, q[0, :, 0]),
                                                                     is_causal=True),
                         (_rg(2, 3, 4, 5), _rg(2, 3, 6, 5)), ["einsum"]),
}

# every primitive this file compiles (tests/backends/test_codegen.py checks that every
# primitive is compiled somewhere)
CODEGEN_PRIMITIVES = {p for _, _, prims in CASES.values() for p in prims} | {"max_pool_select", "multinomial"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_and_backward_compile_to_kernel_calls(name):
    fn, args, prims = CASES[name]
    source = compile_and_check(_grads_of(fn), *[make() for make in args])
    for prim in prims:
        assert f"_impl_{prim}(" in source, (prim, source)


def test_double_backward_of_max_pool_compiles():
    def fn(x):
        y = F.max_pool2d(x, 2, 1)
        (g,) = tl.autograd.grad((y * y).sum(), [x], create_graph=True)
        return (g * g).sum(), tl.autograd.grad((g * g).sum(), [x])[0]

    source = compile_and_check(fn, _rg(1, 2, 5, 5)().double())
    assert "_impl_max_pool_select(" in source


def test_int_pooling_compiles():
    x = tl.randint(-9, 9, (2, 2, 6, 6))
    compile_and_check(lambda a: (F.max_pool2d(a, 2), F.avg_pool2d(a, 3, 1, 1)), x)


def test_multinomial_is_drawn_on_every_call():
    """A random kernel is never folded into a constant, merged with an equal call, or dropped."""
    def fn(p):
        return p.multinomial(5, True), p.multinomial(5, True), tl.tensor([0.5, 0.5]).multinomial(9, True)

    p = tl.tensor([[0.2, 0.3, 0.5], [1.0, 2.0, 3.0]])
    gm = fxlite.make_fx(fn)(p)
    compiled = compile_fx_graph(gm, [p])
    assert compiled.source.count("_impl_multinomial(") == 3
    tl.manual_seed(1)
    got = compiled(p) + compiled(p)
    tl.manual_seed(1)
    want = fn(p) + fn(p)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def _kernel_calls():
    """(primitive, arrays, params): one call of each kernel this file's primitives lower to."""
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal((2, 4, 6, 6)), rng.standard_normal((2, 4, 3, 3))
    conv = {"stride": (2, 2), "padding": ((1, 1), (1, 1)), "dilation": (1, 1), "groups": 1}
    pool = {"kernel_size": (2, 2), "stride": (2, 2), "padding": ((0, 0), (0, 0)), "dilation": (1, 1)}
    avg = {"kernel_size": (2, 2), "stride": (2, 2), "padding": ((0, 0), (0, 0)), "count_include_pad": True,
           "divisor_override": None}
    idx = np.array([[0, 1], [1, 0]])
    return [
        ("convolution", (x, rng.standard_normal((4, 4, 3, 3))), conv),
        ("convolution_backward_input", (g, rng.standard_normal((4, 4, 3, 3))), dict(conv, input_size=(6, 6))),
        ("convolution_backward_weight", (x, g), dict(conv, kernel_size=(3, 3))),
        ("max_pool", (x,), pool), ("max_pool_backward", (g, x), pool), ("max_pool_select", (x, x), pool),
        ("max_pool_indices", (x,), pool), ("avg_pool", (x,), avg),
        ("avg_pool_backward", (g,), dict(avg, input_size=(6, 6))),
        ("adaptive_avg_pool", (x,), {"output_size": (1, 1)}), ("adaptive_avg_pool", (x,), {"output_size": (6, 6)}),
        ("adaptive_avg_pool", (x,), {"output_size": (4, 5)}),
        ("adaptive_avg_pool_backward", (g,), {"input_size": (3, 3)}),
        ("adaptive_avg_pool_backward", (g,), {"input_size": (6, 6)}),
        ("adaptive_avg_pool_backward", (g,), {"input_size": (5, 4)}),
        ("batch_norm_stats", (x,), {}), ("batch_norm_apply", (x, np.ones((2, 4)), None, None), {"eps": 1e-5}),
        ("pad", (x,), {"pad": ((0, 0),), "mode": "reflect", "value": 0}),
        ("pad", (x,), {"pad": ((0, 0),), "mode": "constant", "value": 0}),
        ("pad_backward", (x,), {"pad": (), "mode": "reflect", "input_size": ()}),
        ("tril", (x,), {"diagonal": 0}), ("triu", (x,), {"diagonal": 9}),
        ("cumsum", (np.float64(2.0) * np.ones(()),), {"dim": 0, "reverse": False, "dtype": None}),
        ("gather", (x[0, 0, :2, :2], idx), {"dim": 1}), ("scatter", (x[0, 0], idx, 1.0), {"dim": 1, "reduce": None}),
        ("index_select", (x, np.array([0, 1])), {"dim": 1}),
        ("index_add", (x, np.array([0]), x[:, :1]), {"dim": 1, "alpha": 1}),
        ("argsort", (x,), {"dim": 3, "descending": True}), ("topk_indices", (x,), {"k": 6, "dim": 3, "largest": True}),
        ("einsum", (x,), {"equation": "abcd->abcd"}), ("einsum", (x,), {"equation": "abcd->dcba"}),
        ("multinomial", (np.ones((2, 3)),), {"num_samples": 2, "replacement": True}),
    ]


def test_every_kernel_returns_a_new_writable_array():
    """codegen writes later results into a kernel's result (out=): a kernel must never return
    one of its inputs, a view of one, or a read-only array."""
    calls = _kernel_calls()
    assert {name for name, _, _ in calls} == CODEGEN_PRIMITIVES
    from tensorlite._primitive import PRIMITIVES
    for name, arrays, params in calls:
        out = PRIMITIVES[name].impl(*arrays, **params)
        assert isinstance(out, np.ndarray) and out.flags.writeable, name
        assert not any(isinstance(a, np.ndarray) and np.shares_memory(out, a) for a in arrays), (name, params)
