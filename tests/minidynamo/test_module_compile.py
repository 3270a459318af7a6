"""`mod.compile(...)` (PyTorch's nn.Module.compile): compiles the module's call, hooks
included, in place, exactly as md.compile(mod) does; and config.wrap_top_frame."""
import functools
import operator

import numpy as np
import pytest

import backends
import minidynamo as md
import tensorlite as tl
from minidynamo.testing import CompileCounter, CompileCounterWithBackend

BACKENDS = [b for b in ("eager", "aot_eager", "codegen") if b in backends.list_backends()]


@pytest.fixture(autouse=True)
def _reset():
    md.reset()
    yield
    md.reset()


class Net(tl.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = tl.nn.Linear(4, 8)
        self.fc2 = tl.nn.Linear(8, 2)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())


def _np(t):
    return t.detach().numpy()


def _with_hooks(mod):
    mod.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    mod.register_forward_hook(lambda m, args, out: out + 1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_compiles_forward_and_hooks_in_one_frame(backend):
    tl.manual_seed(0)
    ref, mod = Net(), Net()
    mod.load_state_dict(ref.state_dict())
    _with_hooks(ref)
    _with_hooks(mod)
    cnt = CompileCounterWithBackend(backend)
    assert mod.compile(backend=cnt) is None
    x = tl.randn(3, 4)
    for _ in range(2):
        out, expected = mod(x), ref(x)
        np.testing.assert_allclose(_np(out), _np(expected), rtol=1e-5)
        out.sum().backward()
        expected.sum().backward()
    assert cnt.frame_count == 1
    for p, q in zip(mod.parameters(), ref.parameters()):
        np.testing.assert_allclose(_np(p.grad), _np(q.grad), rtol=1e-5)


def test_same_as_md_compile_of_the_module():
    mod = Net()
    mod.register_forward_pre_hook(lambda m, args: args[0] + 1)
    x = tl.rand(2, 4)
    cnt1, cnt2 = CompileCounter(), CompileCounter()
    a = md.compile(mod, backend=cnt1)(x)
    mod.compile(backend=cnt2)
    b = mod(x)
    np.testing.assert_allclose(_np(a), _np(b))
    assert (cnt1.frame_count, cnt1.op_count) == (cnt2.frame_count, cnt2.op_count) == (1, cnt1.op_count)


def test_hook_added_after_compiling_is_seen():
    mod = Net()
    cnt = CompileCounter()
    mod.compile(backend=cnt)
    x = tl.ones(1, 4)
    first = _np(mod(x))
    mod.register_forward_hook(lambda m, args, out: out * 0)
    assert _np(mod(x)).tolist() == [[0.0, 0.0]]
    assert cnt.frame_count == 2 and first.any()


class Breaks(tl.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = tl.nn.Linear(3, 3)
        self.calls = 0

    def forward(self, x):
        x = self.lin(x).sin()
        md.graph_break()
        return x.cos()


@pytest.mark.parametrize("hooked", [False, True])
def test_graph_break_in_forward_runs_correctly(hooked):
    ref, mod = Breaks(), Breaks()
    mod.load_state_dict(ref.state_dict())
    if hooked:
        for m in (ref, mod):
            m.register_forward_pre_hook(lambda m, args: (args[0] + 1,))
    mod.compile(backend="eager")
    x = tl.randn(2, 3)
    np.testing.assert_allclose(_np(mod(x)), _np(ref(x)), rtol=1e-6)  # no recursion into the compiled call


def test_called_from_a_compiled_function():
    mod = Net()
    mod.compile(backend="eager")
    cnt = CompileCounter()

    @md.compile(backend=cnt, fullgraph=True)
    def f(x):
        return mod(x) * 2

    x = tl.randn(2, 4)
    np.testing.assert_allclose(_np(f(x)), _np(mod._call_impl(x) * 2), rtol=1e-6)
    assert cnt.frame_count == 1


def test_disable_keeps_eager_call():
    mod = Net()
    mod.compile(disable=True)
    x = tl.randn(2, 4)
    np.testing.assert_allclose(_np(mod(x)), _np(mod.forward(x)))


def test_fullgraph_error_names_the_break():
    mod = Breaks()
    mod.compile(backend="eager", fullgraph=True)
    with pytest.raises(md.exc.Unsupported, match="graph_break"):
        mod(tl.ones(1, 3))


# ------------------------------------------------------------------ config.wrap_top_frame
def test_wrap_top_frame_compiles_a_function_as_one_frame():
    def f(x):
        return x.sin() + 1

    cnt = CompileCounter()
    with md.config.patch(wrap_top_frame=True):
        cf = md.compile(f, backend=cnt)
    assert cf(tl.zeros(2)).tolist() == [1.0, 1.0]
    assert cnt.frame_count == 1 and cnt.op_count == 2


def test_wrap_top_frame_compiles_callables_without_a_frame():
    add = functools.partial(operator.add, 1)
    with pytest.raises(TypeError, match="md.compile expects"):
        md.compile(add)
    cnt = CompileCounter()
    with md.config.patch(wrap_top_frame=True):
        cf = md.compile(add, backend=cnt)
    assert cf(tl.zeros(2)).tolist() == [1.0, 1.0] and cnt.frame_count == 1


def test_wrap_top_frame_keeps_module_behaviour():
    mod = Net()
    mod.register_forward_pre_hook(lambda m, args: args[0] + 1)
    x = tl.rand(2, 4)
    for wrap in (False, True):
        md.reset()
        cnt = CompileCounter()
        with md.config.patch(wrap_top_frame=wrap):
            np.testing.assert_allclose(_np(md.compile(mod, backend=cnt)(x)), _np(mod(x)))
        assert cnt.frame_count == 1
