"""Compiled autograd (minidynamo/compiled_autograd.py): what the captured backward graph holds
and that running it equals eager backward in values, gradients and side effects, for forwards
compiled with every backend and backward graphs compiled with every backend."""
import functools
import unittest.mock

import numpy as np
import pytest

import backends
import minidynamo as md
import tensorlite as tl
from minidynamo.testing import same

BACKENDS = [b for b in ("eager", "aot_eager", "codegen") if b in backends.list_backends()]


@pytest.fixture(autouse=True)
def _reset():
    md.reset()
    yield
    md.reset()


class Recorder:
    """A compiler_fn that keeps the captured graphs and compiles them with md.compile."""

    def __init__(self, backend="eager", fullgraph=True):
        self.graphs = []
        self.backend = backend
        self.fullgraph = fullgraph

    def __call__(self, gm):
        self.graphs.append(gm)
        return md.compile(gm, backend=self.backend, fullgraph=self.fullgraph)


def _targets(gm):
    return [getattr(n.target, "__name__", n.target) for n in gm.graph.nodes if n.op == "call_function"]


def _placeholders(gm):
    return [n.name for n in gm.graph.nodes if n.op == "placeholder"]


# ------------------------------------------- hooks registered inside a compiled forward


def _double_hooked(x, hook):
    y = x.sin()  # (no Python number saved for backward: those are inputs of their own)
    y.register_hook(hook)
    return (y * y).sum()


@pytest.mark.parametrize("bw_backend", BACKENDS)
@pytest.mark.parametrize("fw_backend", BACKENDS)
def test_intermediate_hook_of_a_compiled_forward_is_in_the_backward_graph(fw_backend, bw_backend):
    calls = []

    def hook(g):
        calls.append(1)
        return g * 3

    x0 = tl.tensor([1.0, 2.0], requires_grad=True)
    _double_hooked(x0, hook).backward()
    assert len(calls) == 1

    f = md.compile(_double_hooked, backend=fw_backend, fullgraph=True)
    rec = Recorder(bw_backend)
    x1 = tl.tensor([1.0, 2.0], requires_grad=True)
    with md.compiled_autograd.enable(rec):
        f(x1, hook).backward()
    assert same(x1.grad, x0.grad)
    assert len(calls) == 2  # once: the capture records the hook, it does not run it
    gm, = rec.graphs
    # the hook is a call of the graph, its function an input (never a constant of the graph)
    assert _targets(gm).count("call_wrapped") == 1
    assert _placeholders(gm) == ["grads_0", "hooks", "inputs_0", "inputs_1"]


def test_backward_graph_is_the_same_whatever_backend_compiled_the_forward():
    codes = set()
    for fw_backend in BACKENDS:
        md.reset()
        f = md.compile(_double_hooked, backend=fw_backend, fullgraph=True)
        rec = Recorder()
        with md.compiled_autograd.enable(rec):
            f(tl.ones(2, requires_grad=True), lambda g: g + 1).backward()
        codes.add(rec.graphs[0].code)
    # codegen's compiled backward is run as its AOT graph, op by op, during the capture: its
    # result is not an opaque input computed before the compiled backward runs
    assert len(codes) == 1


@pytest.mark.parametrize("fw_backend", BACKENDS)
def test_new_hook_per_forward_call_reuses_the_backward_graph(fw_backend):
    f = md.compile(_double_hooked, backend=fw_backend, fullgraph=True)
    rec = Recorder()
    grads = []
    with md.compiled_autograd.enable(rec):
        for k in (1.0, 2.0, 5.0):
            x = tl.ones(2, requires_grad=True)
            f(x, functools.partial(lambda g, k: g * k, k=k)).backward()
            grads.append(x.grad.tolist())
    ref = [(2 * tl.ones(2).sin() * k * tl.ones(2).cos()).tolist() for k in (1.0, 2.0, 5.0)]
    assert grads == ref
    assert len(rec.graphs) == 1


@pytest.mark.parametrize("fw_backend", BACKENDS)
def test_two_hooks_on_one_intermediate_run_in_order_once_each(fw_backend):
    log = []

    def fw(x):
        y = x * 2
        y.register_hook(lambda g: log.append("a") or g + 1)
        y.register_hook(lambda g: log.append("b") or g * 10)
        return y.sum()

    x0 = tl.ones(2, requires_grad=True)
    fw(x0).backward()
    eager_log, log[:] = list(log), []
    x1 = tl.ones(2, requires_grad=True)
    with md.compiled_autograd.enable(Recorder()):
        md.compile(fw, backend=fw_backend, fullgraph=True)(x1).backward()
    assert same(x1.grad, x0.grad) and log == eager_log == ["a", "b"]


@pytest.mark.parametrize("fw_backend", BACKENDS)
def test_untraceable_intermediate_hook_raises_and_does_nothing(fw_backend, capsys):
    counter = []

    def hook(g):
        print("Boo!")
        counter.append(1)
        return g * 2

    f = md.compile(_double_hooked, backend=fw_backend, fullgraph=True)
    out = f(tl.ones(2, requires_grad=True), hook)
    with pytest.raises(md.exc.Unsupported, match="print"):
        with md.compiled_autograd.enable(Recorder(backend="codegen")):
            out.backward()
    assert counter == [] and "Boo!" not in capsys.readouterr().out


def test_compiled_autograd_falls_back_eagerly_and_logs_why(caplog):
    x = tl.ones(2, requires_grad=True)
    y = x * 2
    y.grad_fn.register_prehook(lambda grads: None)
    rec = Recorder()
    with caplog.at_level("DEBUG", logger="minidynamo"):
        with md.compiled_autograd.enable(rec):
            y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0] and rec.graphs == []
    assert "running the backward eagerly: a node pre/post hook or retain_grad" in caplog.text


# ------------------------------------------- Python numbers saved for backward


@pytest.mark.parametrize("bw_backend", BACKENDS)
def test_saved_python_number_is_an_input_of_the_backward_graph(bw_backend):
    rec = Recorder(bw_backend)
    x = tl.ones(3, requires_grad=True)

    def check(values):
        for i in values:
            x.grad = None
            (x * i).sum().backward()
            ref = tl.ones(3, requires_grad=True)
            (ref * i).sum().backward()
            assert same(x.grad, ref.grad) and x.grad.tolist() == ref.grad.tolist()

    with md.compiled_autograd.enable(rec):
        with unittest.mock.patch("minidynamo.config.error_on_recompile", True):
            check([0, 1, 2, 7])
        check([0.5, 0.1])  # another type: another graph
    # the number is an input, guarded by its type: one graph for the ints, one for the floats
    assert len(rec.graphs) == 2
    assert "tl.ops.call_with_scalars(expand, scalars_0, op = 'mul', scalars_at = (1,))" in rec.graphs[0].code


@pytest.mark.parametrize("dtype", [tl.float16, tl.float32, tl.float64, tl.int32])
def test_lifted_number_computes_what_eager_computes(dtype):
    # a float32 gradient times a Python float is computed in float32 eagerly (the number is
    # rounded first): the lifted float64 input must give the same bits
    rec = Recorder("codegen")
    for c in (0.1, 1 / 3, 3.0000001, 2 ** 40 + 1):
        a = tl.tensor([0.7, 1.3, -2.9], dtype=tl.float32, requires_grad=True)
        g = tl.tensor([1.1, 2.2, 3.3]).to(dtype) if dtype != tl.int32 else tl.tensor([1, 2, 3], dtype=dtype)
        ref = tl.autograd.grad((a * c,), (a,), (g.to(tl.float32),))[0]
        with md.compiled_autograd.enable(rec):
            (a * c).backward(g.to(tl.float32))
        assert a.grad.dtype == ref.dtype and np.array_equal(a.grad.numpy(), ref.numpy())


def test_number_used_in_python_arithmetic_is_a_constant():
    # pow's backward computes b - 1 with the primitive sub (lifted too) and tests b == 0 in
    # Python: exponent 0 gives another graph (its code differs), 2 and 3 share one
    rec = Recorder()
    grads = []
    with md.compiled_autograd.enable(rec):
        for b in (2, 3, 0):
            x = tl.tensor([1.5, 2.0], requires_grad=True)
            (x ** b).sum().backward()
            grads.append(x.grad.tolist())
    assert grads == [[3.0, 4.0], [6.75, 12.0], [0.0, 0.0]]
    assert len(rec.graphs) == 2


def test_constants_printed_by_name_are_part_of_the_cache_key():
    # a numpy scalar is not lifted, and the graph's code names it rather than spelling it: two
    # graphs with the same code and different such constants must not share a compiled graph
    rec = Recorder()
    grads = []
    with md.compiled_autograd.enable(rec):
        for c in (np.float32(2.0), np.float32(3.0)):
            x = tl.ones(2, requires_grad=True)
            (x * c).sum().backward()
            grads.append(x.grad.tolist())
    assert grads == [[2.0, 2.0], [3.0, 3.0]] and len(rec.graphs) == 2
