"""Fault handling: exceptions in a backend, in the interpreter, in a hook or in user code leave
the cache consistent and the function usable; suppress_errors falls back to eager with one
warning; recursion, generators, coroutines and try/except/finally compile or run eagerly; no
argument is kept alive; concurrent calls are correct and compile each entry once."""
import asyncio
import gc
import threading
import warnings
import weakref

import numpy as np
import pytest

import backends
import minidynamo as md
import tensorlite as tl
from minidynamo import eval_frame
from minidynamo.symbolic_convert import InstructionTranslator
from minidynamo.testing import CompileCounter, same

BACKENDS = backends.list_backends()


@pytest.fixture(autouse=True)
def _reset():
    md.reset()
    yield
    md.reset()


def cache_of(opt):
    return md.inspect(opt)


def fn(x):
    return tl.sin(x) * 2 + 1


# ------------------------------------------------------------------------------- backends
def test_backend_exception_leaves_cache_consistent():
    calls = []

    def bad(gm, example_inputs):
        calls.append(1)
        raise ZeroDivisionError("backend bug")

    opt = md.compile(fn, backend=bad)
    x = tl.randn(3)
    for _ in range(2):  # every call reports it; nothing half-built is cached
        with pytest.raises(md.exc.BackendCompilerFailed, match="backend bug"):
            opt(x)
    assert cache_of(opt).entries == [] and len(calls) == 2
    md.reset()
    good = md.compile(fn, backend="eager")
    assert same(good(x), fn(x))


def test_backend_returning_non_callable():
    opt = md.compile(fn, backend=lambda gm, ex: 42)
    with pytest.raises(md.exc.BackendCompilerFailed):
        opt(tl.randn(3))
    assert cache_of(opt).entries == []


def test_backend_exception_suppressed_falls_back_to_eager():
    def bad(gm, example_inputs):
        raise RuntimeError("backend bug")

    opt = md.compile(fn, backend=bad)
    x = tl.randn(3)
    with md.config.patch(suppress_errors=True), warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r1, r2 = opt(x), opt(x)
    assert same(r1, fn(x)) and same(r2, fn(x))
    assert len([x for x in w if "backend bug" in str(x.message)]) <= 1


# ------------------------------------------------------------------------------- interpreter
def _raising_handler(self, inst):
    raise KeyError("interpreter bug")


def test_interpreter_exception_is_internal_error_then_usable(monkeypatch):
    opt = md.compile(fn, backend="eager")
    x = tl.randn(3)
    with monkeypatch.context() as m:
        m.setattr(InstructionTranslator, "BINARY_OP", _raising_handler, raising=False)
        m.setattr(InstructionTranslator, "BINARY_MULTIPLY", _raising_handler, raising=False)
        with pytest.raises(md.exc.InternalError, match="interpreter bug"):
            opt(x)
    assert cache_of(opt).entries == []
    assert same(opt(x), fn(x))  # the interpreter works again: the function compiles now
    assert len(cache_of(opt).entries) == 1


def test_interpreter_exception_suppressed_warns_once(monkeypatch):
    opt = md.compile(fn, backend="eager")
    x = tl.randn(3)
    monkeypatch.setattr(InstructionTranslator, "BINARY_OP", _raising_handler, raising=False)
    monkeypatch.setattr(InstructionTranslator, "BINARY_MULTIPLY", _raising_handler, raising=False)
    with md.config.patch(suppress_errors=True), warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for _ in range(3):
            assert same(opt(x), fn(x))
    msgs = [str(x.message) for x in w if "interpreter bug" in str(x.message)]
    assert len(msgs) == 1, msgs
    assert "running fn eagerly" in msgs[0]


# ------------------------------------------------------------------------------- hooks
@pytest.mark.parametrize("backend", BACKENDS)
def test_exception_in_hook(backend):
    def hook(g):
        raise ValueError("hook failed")

    def f(x):
        y = x * 2
        y.register_hook(hook)
        return y.sum()

    opt = md.compile(f, backend=backend)
    for _ in range(2):
        x = tl.randn(3, requires_grad=True)
        out = opt(x)
        with pytest.raises(ValueError, match="hook failed"):
            out.backward()
    x = tl.randn(3, requires_grad=True)
    x2 = x.detach().requires_grad_()
    opt(x)  # still usable; forward values match
    assert same(opt(x), f(x2))


@pytest.mark.parametrize("backend", BACKENDS)
def test_exception_in_forward_hook_of_module(backend):
    mod = tl.nn.Linear(3, 2)
    h = mod.register_forward_hook(lambda m, i, o: 1 / 0)
    opt = md.compile(mod, backend=backend)
    with pytest.raises(ZeroDivisionError):
        opt(tl.randn(1, 3))
    h.remove()
    x = tl.randn(1, 3)
    assert same(opt(x), mod(x))


# ------------------------------------------------------------------------------- user code
@pytest.mark.parametrize("backend", BACKENDS)
def test_exception_in_user_code_then_usable(backend):
    def f(x, n):
        y = x + 1
        if n > 2:
            raise ValueError(f"n too big: {n}")
        return y * n

    opt = md.compile(f, backend=backend)
    x = tl.randn(3)
    assert same(opt(x, 1), f(x, 1))
    with pytest.raises(ValueError, match="n too big: 5"):
        opt(x, 5)
    assert same(opt(x, 2), f(x, 2))
    with pytest.raises(ValueError, match="n too big: 3"):
        opt(x, 3)


@pytest.mark.parametrize("backend", BACKENDS)
def test_tensor_error_in_user_code(backend):
    def f(x, y):
        return (x + y).sum()

    opt = md.compile(f, backend=backend)
    with pytest.raises(Exception) as eager:
        f(tl.randn(3), tl.randn(4))
    with pytest.raises(type(eager.value)) as comp:
        opt(tl.randn(3), tl.randn(4))
    assert str(comp.value) == str(eager.value)
    assert same(opt(tl.ones(3), tl.ones(3)), tl.tensor(6.0))


# ------------------------------------------------------------------------------- control flow
def fact(x, n):
    if n == 0:
        return x
    return fact(x * n, n - 1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_recursion(backend):
    opt = md.compile(fact, backend=backend)
    x = tl.randn(3)
    assert same(opt(x, 4), fact(x, 4))


def deep(x, n):
    return x if n == 0 else deep(x + 1, n - 1)


def test_deep_recursion_runs_or_falls_back():
    opt = md.compile(deep, backend="eager")
    x = tl.zeros(2)
    assert same(opt(x, 200), deep(x, 200))


@pytest.mark.parametrize("backend", BACKENDS)
def test_generator_function(backend):
    def gen(x):
        for i in range(3):
            yield x * i

    def f(x):
        return sum(gen(x))

    opt = md.compile(f, backend=backend)
    x = tl.randn(3)
    assert same(opt(x), f(x))
    og = md.compile(gen, backend=backend)
    assert same(list(og(x)), list(gen(x)))


def test_coroutine():
    async def coro(x):
        await asyncio.sleep(0)
        return x * 2

    opt = md.compile(coro, backend="eager")
    x = tl.randn(3)
    assert same(asyncio.run(opt(x)), x * 2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_try_except_finally(backend):
    log = []

    def f(x, fail):
        try:
            y = x * 2
            if fail:
                raise KeyError("k")
            log.append("body")
        except KeyError as e:
            log.append(f"except {e}")
            y = x - 1
        finally:
            log.append("finally")
        return y + 1

    opt = md.compile(f, backend=backend)
    x = tl.randn(3)
    for fail in (False, True, False):
        log.clear()
        expect = f(x, fail)
        elog = list(log)
        log.clear()
        assert same(opt(x, fail), expect)
        assert log == elog


@pytest.mark.parametrize("backend", BACKENDS)
def test_with_block_exception_restores_grad_mode(backend):
    def f(x):
        with tl.no_grad():
            y = x * 2
            raise RuntimeError("inside no_grad")
        return y

    opt = md.compile(f, backend=backend)
    with pytest.raises(RuntimeError, match="inside no_grad"):
        opt(tl.randn(2, requires_grad=True))
    assert tl.is_grad_enabled()


# ------------------------------------------------------------------------------- leaks
@pytest.mark.parametrize('backend', BACKENDS)
def test_compiling_does_not_keep_arguments_alive(backend):
    def f(x, y):
        return (x * y).sum(), x + 1

    opt = md.compile(f, backend=backend)
    refs = []
    for _ in range(3):
        x = tl.randn(4, requires_grad=True)
        y = tl.randn(4)
        out = opt(x, y)
        out[0].backward()
        refs += [weakref.ref(x), weakref.ref(y)]
        del x, y, out
    gc.collect()
    assert [r() for r in refs] == [None] * len(refs)


@pytest.mark.parametrize('backend', BACKENDS)
def test_graph_break_does_not_keep_arguments_alive(backend):
    def f(x):
        y = x * 2
        print("", end="")
        return y + 1

    opt = md.compile(f, backend=backend)
    x = tl.randn(4, requires_grad=True)
    opt(x).sum().backward()
    r = weakref.ref(x)
    del x
    gc.collect()
    assert r() is None


# ------------------------------------------------------------------------------- threads
def test_threads_compile_once_and_agree():
    cnt = CompileCounter()

    def f(x):
        return tl.tanh(x) * 3 + x.sum()

    opt = md.compile(f, backend=cnt)
    xs = [tl.tensor(np.full(5, i, dtype=np.float32)) for i in range(16)]
    results = [None] * len(xs)
    start = threading.Barrier(8)

    def work(k):
        start.wait()
        for i in range(k, len(xs), 8):
            results[i] = opt(xs[i])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for x, r in zip(xs, results):
        assert same(r, f(x))
    assert cnt.frame_count == 1
    assert len(md.inspect(opt).entries) == 1


@pytest.mark.parametrize('backend', BACKENDS)
def test_threads_with_recompiles(backend):
    def f(x, n):
        return x * n + 1

    opt = md.compile(f, backend=backend)
    errors = []
    start = threading.Barrier(6)

    def work(k):
        start.wait()
        try:
            for i in range(20):
                x = tl.randn(2 + (i % 2))
                n = (k + i) % 3
                assert same(opt(x, n), f(x, n))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    c = md.inspect(opt)
    keys = [tuple(str(g) for g in e.guards) for e in c.entries]
    assert len(keys) == len(set(keys)), "an entry was compiled twice"
    _ = eval_frame
