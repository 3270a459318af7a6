"""tl.utils.checkpoint.checkpoint under md.compile: use_reentrant=False is inlined (values and
gradients equal eager's on every backend); what eager checkpointing does beyond that value
(reentrant mode, recomputing effects) breaks the graph and runs eagerly."""
import numpy as np
import pytest

import backends
import minidynamo as md
import tensorlite as tl
from minidynamo.testing import CompileCounterWithBackend

BACKENDS = [b for b in ("eager", "aot_eager", "codegen") if b in backends.list_backends()]


@pytest.fixture(autouse=True)
def _reset():
    md.reset()
    yield
    md.reset()


def _np(t):
    return t.detach().numpy()


def test_import_tensorlite_gives_checkpoint():
    assert callable(tl.utils.checkpoint.checkpoint)


def _block(x, w, *, scale=1.0):
    return (x @ w).tanh().exp() * scale


def _program(x, w):
    y = tl.utils.checkpoint.checkpoint(_block, x, w, use_reentrant=False, scale=2.0)
    return tl.utils.checkpoint.checkpoint(lambda t: (t * w.sum()).sin(), y, use_reentrant=False)


def _run(fn, seed=0):
    tl.manual_seed(seed)
    x = tl.randn(3, 4, requires_grad=True)
    w = tl.randn(4, 2, requires_grad=True)
    out = fn(x, w)
    out.sum().backward()
    return _np(out), _np(x.grad), _np(w.grad)


@pytest.mark.parametrize("backend", BACKENDS)
def test_compiled_matches_eager(backend):
    cnt = CompileCounterWithBackend(backend)
    compiled = md.compile(_program, backend=cnt, fullgraph=True)
    for a, b in zip(_run(compiled), _run(_program)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert cnt.frame_count == 1


def test_function_is_inlined():
    graphs = md.testing.EagerAndRecordGraphs()
    md.compile(_program, backend=graphs, fullgraph=True)(tl.ones(3, 4), tl.ones(4, 2))
    names = [n.name for n in graphs.graphs[0].graph.nodes if n.op == "call_function" or n.op == "call_method"]
    assert "tanh" in names and "sin" in names and not any("checkpoint" in n for n in names)


@pytest.mark.parametrize("kwargs, reason", [
    ({"use_reentrant": True}, "use_reentrant=True"),
    ({"use_reentrant": False, "preserve_rng_state": False}, "preserve_rng_state=False"),
])
def test_options_not_traced_break_the_graph(kwargs, reason):
    def fn(x):
        return tl.utils.checkpoint.checkpoint(lambda t: t.sin() * 2, x, **kwargs)

    with pytest.raises(md.exc.Unsupported, match=reason):
        md.compile(fn, fullgraph=True)(tl.ones(2, requires_grad=True))
    x = tl.ones(2, requires_grad=True)
    out = md.compile(fn)(x)
    out.sum().backward()
    np.testing.assert_allclose(_np(x.grad), _np(tl.ones(2).cos() * 2), rtol=1e-6)


def test_effects_run_eagerly_as_often_as_in_eager():
    """Eager checkpointing runs fn again in backward, effects included: traced, that call
    would run once, so it breaks the graph and runs eagerly."""
    def run(compiled):
        log = []

        def body(t):
            log.append(1)
            return t.sin() * t

        def fn(x):
            return tl.utils.checkpoint.checkpoint(body, x, use_reentrant=False)

        x = tl.ones(2, requires_grad=True)
        (md.compile(fn) if compiled else fn)(x).sum().backward()
        return len(log), _np(x.grad)

    (n_eager, g_eager), (n_compiled, g_compiled) = run(False), run(True)
    assert n_eager == n_compiled == 2
    np.testing.assert_allclose(g_eager, g_compiled)


def test_effects_under_no_grad_are_traced():
    log = []

    def body(t):
        log.append(1)
        return t + 1

    @md.compile(fullgraph=True)
    def fn(x):
        with tl.no_grad():
            return tl.utils.checkpoint.checkpoint(body, x, use_reentrant=False)

    assert fn(tl.ones(1)).tolist() == [2.0] and log == [1]
