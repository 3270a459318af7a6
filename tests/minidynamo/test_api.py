"""The md.compile API: every form, reset/disable/allow_in_graph, the backends registry, and
clear errors for unsupported input (md.compile(42), wrong arity, user exceptions, internal
errors, fullgraph), plus the SPEC's print_readable example."""
import inspect
import re
import warnings

import pytest

import backends
import minidynamo as md
import tensorlite as tl
from minidynamo.testing import CompileCounter, EagerAndRecordGraphs, normalize_gm, same


@pytest.fixture(autouse=True)
def _reset():
    md.reset()
    yield
    md.reset()


def lineno_of(fn, text):
    src, start = inspect.getsourcelines(fn)
    for i, line in enumerate(src):
        if text in line:
            return start + i
    raise AssertionError(text)


# ---------------------------------------------------------------------------- compile forms
def test_bare_decorator():
    @md.compile
    def f(x):
        return x.sin() + 1

    assert isinstance(f, md.OptimizedFunction)
    x = tl.randn(3)
    assert same(f(x), x.sin() + 1)
    assert f.__name__ == "f" and f.__wrapped__ is not None


def test_decorator_with_arguments():
    cnt = CompileCounter()

    @md.compile(backend=cnt, fullgraph=True, dynamic=False)
    def f(x, y):
        return x * y

    x, y = tl.randn(3), tl.randn(3)
    assert same(f(x, y), x * y)
    assert cnt.frame_count == 1 and cnt.op_count == 1


def test_call_on_function():
    def f(x):
        return x.cos()

    cnt = CompileCounter()
    opt = md.compile(f, backend=cnt)
    x = tl.randn(3)
    assert same(opt(x), f(x))
    assert cnt.frame_count == 1
    assert opt._orig_fn is f


def test_call_on_bound_method():
    class A:
        def __init__(self):
            self.k = 3.0

        def run(self, x):
            return x * self.k

    a = A()
    cnt = CompileCounter()
    opt = md.compile(a.run, backend=cnt)
    x = tl.randn(3)
    assert same(opt(x), a.run(x))
    a.k = 4.0
    assert same(opt(x), a.run(x))
    assert cnt.frame_count == 2


def test_compiled_function_as_method():
    class A:
        k = 2.0

        @md.compile
        def run(self, x):
            return x * self.k

    x = tl.randn(3)
    assert same(A().run(x), x * 2.0)


def test_call_on_module_returns_optimized_module():
    tl.manual_seed(0)
    lin = tl.nn.Linear(3, 2)
    cnt = CompileCounter()
    opt = md.compile(lin, backend=cnt)
    assert isinstance(opt, md.OptimizedModule)
    assert isinstance(opt, tl.nn.Module)
    x = tl.randn(4, 3)
    assert same(opt(x), lin(x))
    # attributes forward to the original module
    assert opt.weight is lin.weight
    assert opt.in_features == 3
    assert opt._orig_mod is lin
    assert [p is q for p, q in zip(opt.parameters(), lin.parameters())]
    opt.eval()
    assert lin.training is False or opt.training is False
    assert cnt.frame_count == 1


def test_optimized_module_state_dict_and_submodules():
    tl.manual_seed(0)
    seq = tl.nn.Sequential(tl.nn.Linear(3, 3), tl.nn.ReLU())
    opt = md.compile(seq)
    assert opt._orig_mod[0] is seq[0]
    assert set(opt.state_dict()) >= {"0.weight", "0.bias"} or set(seq.state_dict()) >= {"0.weight", "0.bias"}
    x = tl.randn(2, 3)
    assert same(opt(x), seq(x))


def test_compile_disable_flag_returns_original():
    def f(x):
        return x + 1

    assert md.compile(f, disable=True) is f


def test_compile_twice_is_same_wrapper():
    opt = md.compile(lambda x: x + 1)
    assert md.compile(opt) is opt


def test_callable_object():
    class Scale:
        def __call__(self, x):
            return x * 3

    opt = md.compile(Scale())
    x = tl.randn(2)
    assert same(opt(x), x * 3)


# ---------------------------------------------------------------------- reset / disable
def test_reset_forgets_entries():
    cnt = CompileCounter()

    def f(x):
        return x + 1

    opt = md.compile(f, backend=cnt)
    opt(tl.randn(3))
    opt(tl.randn(3))
    assert cnt.frame_count == 1
    md.reset()
    opt(tl.randn(3))
    assert cnt.frame_count == 2
    assert md.utils.counters["frames"]["total"] == 1


def test_disable_function_runs_eagerly_and_breaks_graph():
    calls = []

    @md.disable
    def side(x):
        calls.append(1)
        return x * 2

    def f(x):
        return side(x.sin()) + 1

    cnt = CompileCounter()
    opt = md.compile(f, backend=cnt)
    x = tl.randn(3)
    assert same(opt(x), f(x))
    assert len(calls) == 2
    assert cnt.frame_count >= 1


def test_disable_as_decorator_factory_and_on_compiled():
    opt = md.compile(lambda x: x + 1)
    d = md.disable(opt)
    x = tl.randn(2)
    assert same(d(x), x + 1)
    assert md.utils.counters["frames"]["total"] == 0
    d2 = md.disable()(lambda x: x * 2)
    assert same(d2(x), x * 2)


def test_allow_in_graph_makes_one_node():
    def my_op(x):
        return x.sin() * 2 + 1

    md.allow_in_graph(my_op)
    rec = EagerAndRecordGraphs()

    def f(x):
        return my_op(x) + 1

    opt = md.compile(f, backend=rec)
    x = tl.randn(3)
    assert same(opt(x), f(x))
    targets = [n.target for n in rec.graphs[0].graph.nodes if n.op == "call_function"]
    assert my_op in targets
    assert len(targets) == 2


# -------------------------------------------------------------------------- backends
def test_register_and_lookup_backend():
    seen = []

    @backends.register_backend
    def my_test_backend(gm, example_inputs):
        seen.append(len(example_inputs))
        return gm.forward

    assert backends.lookup_backend("my_test_backend") is my_test_backend
    assert "my_test_backend" in backends.list_backends()
    assert "eager" in backends.list_backends()
    opt = md.compile(lambda x, y: x + y, backend="my_test_backend")
    opt(tl.randn(2), tl.randn(2))
    assert seen == [2]


def test_register_backend_with_name():
    @backends.register_backend(name="renamed_test_backend")
    def whatever(gm, example_inputs):
        return gm.forward

    assert backends.lookup_backend("renamed_test_backend") is whatever


def test_unknown_backend_lists_known_ones():
    with pytest.raises(backends.InvalidBackend) as info:
        md.compile(lambda x: x, backend="no_such_backend")
    msg = str(info.value)
    assert "'no_such_backend'" in msg
    for name in ("'eager'", "'aot_eager'"):
        assert name in msg


def test_callable_backend():
    graphs = []

    def backend(gm, example_inputs):
        graphs.append(gm)
        return gm.forward

    opt = md.compile(lambda x: x.exp(), backend=backend)
    x = tl.randn(3)
    assert same(opt(x), x.exp())
    assert len(graphs) == 1


def test_failing_backend_raises_backend_compiler_failed():
    def broken_backend(gm, example_inputs):
        raise ValueError("cannot compile this")

    opt = md.compile(lambda x: x + 1, backend=broken_backend)
    with pytest.raises(md.exc.BackendCompilerFailed) as info:
        opt(tl.randn(2))
    assert "broken_backend" in str(info.value)
    assert "ValueError: cannot compile this" in str(info.value)
    assert isinstance(info.value.inner_exception, ValueError)


def test_backend_returning_non_callable():
    opt = md.compile(lambda x: x + 1, backend=lambda gm, ex: 42)
    with pytest.raises(md.exc.BackendCompilerFailed, match="expected a callable"):
        opt(tl.randn(2))


@pytest.mark.parametrize("backend", ["eager", "aot_eager"])
def test_builtin_backends_values_and_grads(backend):
    def f(x, w):
        return (x.sin() * w).sum()

    opt = md.compile(f, backend=backend)
    x = tl.randn(3)
    w1 = tl.randn(3).requires_grad_()
    w2 = w1.detach().clone().requires_grad_()
    f(x, w1).backward()
    opt(x, w2).backward()
    assert same(w1.grad, w2.grad)


# -------------------------------------------------------------------------- errors
def test_compile_non_callable_is_type_error():
    with pytest.raises(TypeError, match="int"):
        md.compile(42)
    with pytest.raises(TypeError):
        md.compile("not a function")


def _python_error(fn, *args, **kwargs):
    with pytest.raises(TypeError) as info:
        fn(*args, **kwargs)
    return str(info.value)


@pytest.mark.parametrize("args,kwargs", [
    ((), {}),
    ((1,), {}),
    ((1, 2, 3, 4), {}),
    ((1, 2), {"z": 3}),
    ((1,), {"x": 1}),
    ((1, 2), {"k": 1, "scale": 2}),
], ids=["none", "too_few", "too_many", "unexpected_kw", "multiple_values", "extra_kw"])
def test_wrong_arity_is_pythons_type_error(args, kwargs):
    def target(x, y, *, scale=1):
        return x * y * scale

    expected = _python_error(target, *args, **kwargs)
    opt = md.compile(target)
    assert _python_error(opt, *args, **kwargs) == expected
    # also after a successful compile
    opt(tl.ones(2), tl.ones(2))
    assert _python_error(opt, *args, **kwargs) == expected


def test_wrong_arity_of_method_and_module():
    tl.manual_seed(0)
    lin = tl.nn.Linear(2, 2)
    opt = md.compile(lin)
    with pytest.raises(TypeError) as a:
        lin(tl.ones(2), tl.ones(2))
    with pytest.raises(TypeError) as b:
        opt(tl.ones(2), tl.ones(2))
    assert str(a.value) == str(b.value)


class MyError(Exception):
    pass


@pytest.mark.parametrize("kind", ["raise", "zero_div", "key", "index", "attr", "assert", "shape"])
def test_user_exception_propagates_unchanged(kind):
    def f(x, d):
        y = x + 1
        if kind == "raise":
            raise MyError("bad input " + str(3))
        if kind == "zero_div":
            return y * (1 / 0)
        if kind == "key":
            return y * d["missing"]
        if kind == "index":
            return y * [1, 2][5]
        if kind == "attr":
            return y.no_such_method()
        if kind == "assert":
            assert False, "my assertion"
        if kind == "shape":
            return y + tl.ones(7)
        return y

    with pytest.raises(Exception) as eager:
        f(tl.ones(3), {})
    opt = md.compile(f)
    with pytest.raises(Exception) as comp:
        opt(tl.ones(3), {})
    assert type(comp.value) is type(eager.value)
    assert str(comp.value) == str(eager.value)
    # and again (cached decision)
    with pytest.raises(type(eager.value)):
        opt(tl.ones(3), {})


def test_user_exception_from_inlined_callee():
    def check(x):
        if x.shape[0] != 2:
            raise ValueError(f"expected 2 rows, got {x.shape[0]}")
        return x

    def f(x):
        return check(x) * 2

    opt = md.compile(f)
    with pytest.raises(ValueError, match="expected 2 rows, got 3"):
        opt(tl.ones(3))
    assert same(opt(tl.ones(2)), tl.ones(2) * 2)


def _broken_handler(self, inst):
    raise RuntimeError("simulated interpreter bug")


def internal_error_target(x):
    y = x.sin()
    return y * 2  # the line that breaks


def test_internal_error_names_user_file_and_line(monkeypatch):
    from minidynamo.symbolic_convert import InstructionTranslatorBase
    monkeypatch.setattr(InstructionTranslatorBase, "BINARY_OP", _broken_handler)
    opt = md.compile(internal_error_target)
    with pytest.raises(md.exc.InternalError) as info:
        opt(tl.ones(3))
    msg = str(info.value)
    line = lineno_of(internal_error_target, "the line that breaks")
    assert f"{__file__}:{line}" in msg
    assert "simulated interpreter bug" in msg
    assert "internal_error_target" in msg
    assert isinstance(info.value.__cause__, RuntimeError)


def test_internal_error_suppressed_runs_eagerly(monkeypatch):
    from minidynamo.symbolic_convert import InstructionTranslatorBase
    monkeypatch.setattr(InstructionTranslatorBase, "BINARY_OP", _broken_handler)
    cnt = CompileCounter()
    opt = md.compile(internal_error_target, backend=cnt)
    x = tl.randn(3)
    with md.config.patch(suppress_errors=True):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            assert same(opt(x), internal_error_target(x))
        msgs = [str(m.message) for m in w]
        assert any("simulated interpreter bug" in m and "internal_error_target" in m for m in msgs), msgs
        assert same(opt(x), internal_error_target(x))


def print_target(x):
    y = x + 1
    print("hello")  # unsupported
    return y


def test_fullgraph_unsupported_names_reason_and_line(capsys):
    opt = md.compile(print_target, fullgraph=True)
    with pytest.raises(md.exc.Unsupported) as info:
        opt(tl.ones(2))
    msg = str(info.value)
    assert "print" in msg
    line = lineno_of(print_target, "# unsupported")
    assert f'File "{__file__}", line {line}, in print_target' in msg
    assert 'print("hello")' in msg
    assert capsys.readouterr().out == ""


def test_without_fullgraph_print_breaks_and_runs(capsys):
    cnt = CompileCounter()
    opt = md.compile(print_target, backend=cnt)
    x = tl.ones(2)
    assert same(opt(x), x + 1)
    assert capsys.readouterr().out == "hello\n"


def test_fullgraph_tensor_branch():
    def f(x):
        if x.sum() > 0:
            return x + 1
        return x - 1

    with pytest.raises(md.exc.Unsupported, match="data-dependent"):
        md.compile(f, fullgraph=True)(tl.ones(2))
    x = tl.ones(2)
    assert same(md.compile(f)(x), f(x))


# -------------------------------------------------------------------------- print_readable
class SpecExample(md.testing.TestCase):
    def test_print_readable_spec_example(self):
        rec = EagerAndRecordGraphs()

        @md.compile(backend=rec)
        def f(x, y):
            return tl.sin(x) + y * 2

        x, y = tl.randn(3), tl.randn(3)
        self.assertTrue(same(f(x, y), tl.sin(x) + y * 2))
        self.assertEqual(len(rec.graphs), 1)
        self.assertExpectedInline(normalize_gm(rec.graphs[0].print_readable(False)), """\
class GraphModule(tl.nn.Module):
    def forward(self, L_x_: "f32[3]", L_y_: "f32[3]"):
        l_x_ = L_x_
        l_y_ = L_y_

        sin: "f32[3]" = tl.sin(l_x_);  l_x_ = None
        mul: "f32[3]" = l_y_ * 2;  l_y_ = None
        add: "f32[3]" = sin + mul;  sin = mul = None
        return (add,)
""")

    def test_print_readable_user_names_and_module_sources(self):
        rec = EagerAndRecordGraphs()
        tl.manual_seed(0)
        lin = tl.nn.Linear(3, 2)

        def f(x):
            a = lin(x)
            b = a.relu()
            return b.sum()

        md.compile(f, backend=rec)(tl.randn(4, 3))
        self.assertExpectedInline(normalize_gm(rec.graphs[0].print_readable(False)), """\
class GraphModule(tl.nn.Module):
    def forward(self, L_x_: "f32[4, 3]", L_lin_weight: "f32[2, 3]", L_lin_bias: "f32[2]"):
        l_x_ = L_x_
        l_lin_weight = L_lin_weight
        l_lin_bias = L_lin_bias

        a: "f32[4, 2]" = tl.nn.functional.linear(l_x_, l_lin_weight, l_lin_bias);  l_x_ = l_lin_weight = l_lin_bias = None

        b: "f32[4, 2]" = a.relu();  a = None

        sum_1: "f32[]" = b.sum();  b = None
        return (sum_1,)
""")

    def test_stack_trace_meta_names_user_line(self):
        rec = EagerAndRecordGraphs()

        def f(x):
            return x.cos()  # the cos line

        md.compile(f, backend=rec)(tl.randn(2))
        node = [n for n in rec.graphs[0].graph.nodes if n.op == "call_method"][0]
        line = lineno_of(f, "# the cos line")
        self.assertIn(f'File "{__file__}", line {line}, in f', node.meta["stack_trace"])
        self.assertEqual(tuple(node.meta["val"].shape), (2,))

    def test_stack_trace_knows_its_frame_as_its_text_says(self):
        # codegen reads the innermost frame without parsing; it must be what the text says
        import copy
        import pickle

        from fxlite.codegen import parse_stack_trace
        rec = EagerAndRecordGraphs()

        def g(y):
            return y.sin()  # the inner line

        def f(x):
            return g(x) + 1  # the outer line

        md.compile(f, backend=rec)(tl.randn(2))
        for node in rec.graphs[0].graph.nodes:
            st = node.meta.get("stack_trace")
            if st is None:
                continue
            self.assertEqual(parse_stack_trace(st), parse_stack_trace(str(st)))
            self.assertIs(type(pickle.loads(pickle.dumps(st))), str)
            self.assertEqual(copy.deepcopy(st), st)
        sin = [n for n in rec.graphs[0].graph.nodes if n.target == "sin"][0]
        self.assertEqual(parse_stack_trace(sin.meta["stack_trace"]),
                         (__file__, lineno_of(g, "# the inner line"), "g", "return y.sin()  # the inner line"))


def test_counters():
    opt = md.compile(lambda x: x.sin().cos())
    opt(tl.randn(2))
    c = md.utils.counters
    assert c["frames"]["total"] == 1 and c["frames"]["ok"] == 1
    assert c["stats"]["unique_graphs"] == 1
    assert c["stats"]["calls_captured"] == 2


def test_inspect_hits_and_misses():
    opt = md.compile(lambda x: x + 1)
    opt(tl.ones(3))
    opt(tl.ones(3))
    opt(tl.ones(3, 2))
    c = md.inspect(opt)
    assert (c.hits, c.misses) == (1, 2)
    assert c.recompile_reasons == ["tensor 'x' rank mismatch. expected 1, actual 2"]
    e = c.entries[0]
    assert e.code is not None and e.graph is not None
    assert re.match(r"TENSOR_MATCH: check_tensor\(L\['x'\]", str([g for g in e.guards if g.kind == "TENSOR_MATCH"][0]))


def test_fullgraph_and_dynamic_are_part_of_the_cache_key():
    # issue 25: compiling again with fullgraph=True used to reuse the graph-broken entry of an
    # earlier compile of the same code, so the break raised nothing (the setting was ignored)
    def f(x):
        x = x + 1
        md.graph_break()
        return x * 2

    md.reset()
    assert md.compile(f)(tl.ones(2)).tolist() == [4.0, 4.0]
    with pytest.raises(md.exc.Unsupported, match="graph_break"):
        md.compile(f, fullgraph=True)(tl.ones(2))
    static = md.compile(lambda x: x * x.shape[0], dynamic=False)
    for n in (2, 3, 4):
        static(tl.ones(n))
    assert len(md.inspect(static).entries) == 3
