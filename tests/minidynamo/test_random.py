"""Random ops under md.compile draw as eager does: every call new values, the same stream for
the same seed, no draw merged, folded or dropped (a traced draw used to become a constant:
dropout's mask was frozen under aot_eager and codegen)."""
import pytest

import minidynamo as md
import tensorlite as tl
import tensorlite.nn.functional as F

BACKENDS = ["eager", "aot_eager", "codegen"]


def dropout(x):
    return F.dropout(x, 0.5)


def two_draws(x):
    return x + tl.rand(4) - tl.rand(4)  # equal calls: merging them would give x


def unused_draw(x):
    tl.randn(4)  # unused, but it advances the generator
    return x + tl.randn(4)


def ints_and_perm(x):
    return x + tl.randint(0, 5, (4,)) + tl.randperm(4)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn", [dropout, two_draws, unused_draw, ints_and_perm], ids=lambda f: f.__name__)
def test_same_stream_as_eager(backend, fn):
    x = tl.ones(4)
    tl.manual_seed(7)
    eager = [fn(x).tolist() for _ in range(3)]
    md.reset()
    tl.manual_seed(7)
    opt = md.compile(fn, backend=backend)
    assert [opt(x).tolist() for _ in range(3)] == eager


@pytest.mark.parametrize("backend", BACKENDS)
def test_dropout_mask_changes_between_calls(backend):
    opt = md.compile(dropout, backend=backend)
    x = tl.ones(64, requires_grad=True)
    masks = {tuple(opt(x).tolist()) for _ in range(3)}
    assert len(masks) == 3


def test_tracing_draws_nothing():
    md.reset()
    tl.manual_seed(3)
    expected = tl.rand(4).tolist()
    tl.manual_seed(3)
    opt = md.compile(lambda x: x * 0 + tl.rand(4), backend="aot_eager")
    assert opt(tl.ones(4)).tolist() == expected  # the first draw is the call's, not the trace's


# The codegen kernels of the random primitives (tests/backends/test_codegen.py counts these as
# covered): each draw is its own kernel call, none folded, merged or dropped.
CODEGEN_PRIMITIVES = {"rand", "randn", "randint", "randperm"}


def test_codegen_calls_every_draw():
    import fxlite
    from backends.codegen import compile_fx_graph

    def fn(x):
        tl.rand(3)  # unused: still drawn
        return x + tl.rand(3) - tl.rand(3) + tl.randn(3) + tl.randint(0, 3, (3,)) + tl.randperm(3)

    x = tl.ones(3)
    gm = fxlite.make_fx(fn)(x)
    compiled = compile_fx_graph(gm, [x])
    src = compiled.source
    counts = {p: src.count(f"_impl_{p}(") for p in CODEGEN_PRIMITIVES}
    assert counts == {"rand": 3, "randn": 1, "randint": 1, "randperm": 1}, (counts, src)
    first, second = compiled(x), compiled(x)
    first, second = (o[0] if isinstance(o, (tuple, list)) else o for o in (first, second))
    assert first.tolist() != second.tolist()  # drawn again on every call
