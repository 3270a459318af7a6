"""codegen's passes one at a time (backends/codegen/passes.py, emit.py, fusion.find_groups,
memory.plan, lowering.typed_scalars), each on a small graph built with make_fx."""
import numpy as np
import pytest

import fxlite
import tensorlite as tl
from backends.aot.trace_wrapped import trace_wrapped
from backends.codegen import emit, fusion, lowering, memory, passes
from backends.codegen.compile_fx import generate
from backends.codegen.memory import Value


class Traced:
    """A make_fx graph of fn on example inputs, with the facts every pass starts from."""

    def __init__(self, fn, *examples):
        self.gm = fxlite.make_fx(fn)(*examples)
        self.examples = list(examples)
        self.nodes = list(self.gm.graph.nodes)
        self.result = self.nodes[-1].args[0]
        self.outputs = passes.flat_nodes(self.result)
        self.live = passes.live_nodes(self.nodes, self.outputs)
        self.folded = passes.fold_constants(self.nodes, self.live)

    def node(self, name):
        return next(n for n in self.nodes if n.name == name)

    def names(self, nodes):
        return sorted(n.name for n in nodes)

    def bound(self):
        return passes.bind_inputs(self.nodes, self.live, self.folded, self.examples, self.outputs)

    def computed(self):
        """(kernel, ops) after CSE and expand elision."""
        k = self.bound()
        ops = passes.merge_common(self.nodes, self.live, k)
        return k, passes.elide_expands(ops, self.live, k)


def _noop_hook(g):
    return None


# ----------------------------------------------------------------------------- DCE

def test_dead_code_is_dropped_and_hooks_kept():
    def f(a):
        trace_wrapped(a + 1, fn=_noop_hook)  # unused, but a hook runs: kept
        a.cos()  # unused: dropped
        return a * 2
    t = Traced(f, tl.ones(2))
    assert t.names(n for n in t.live if n.op == "call_function") == ["add", "mul", "trace_wrapped"]


# ----------------------------------------------------------------------------- constant folding

def test_fold_constants_folds_only_what_constants_alone_compute():
    def f(x):
        small = tl.full((2,), 3.0) * 2  # folded, with its operand
        big = tl.full((passes.FOLD_LIMIT + 1,), 1.0) * 2  # too large to fold
        scalar = tl.full((), 2.0) + 1  # folded
        spread = tl.full((2,), 1.0).expand(3, 2)  # expand: never folded
        return x + small, big, scalar, spread * x
    t = Traced(f, tl.ones(2))
    folded = {n.name: v for n, v in t.folded.items()}
    assert sorted(folded) == ["add", "full", "full_2", "full_3", "mul"]
    assert folded["mul"].tolist() == [6.0, 6.0] and folded["add"].tolist() == 3.0
    assert folded["mul"].dtype == np.float32


def test_fold_constants_never_folds_a_hook():
    t = Traced(lambda a: trace_wrapped(tl.full((2,), 1.0), fn=_noop_hook) + a, tl.ones(2))
    assert t.names(t.folded) == ["full"]


# ----------------------------------------------------------------------------- inputs

def test_bind_inputs_parameters_prologue_and_constants():
    t = Traced(lambda x, y: (x, y * tl.full((2,), 3.0)), tl.ones(2), tl.ones(2))
    k = t.bound()
    assert k.params == ["x_1_in", "y_1"]  # a returned input keeps its own parameter
    assert k.prologue == ["x_1 = x_1_in._data", "y_1 = y_1._data"]
    assert [(v.name, v.kind) for v in k.values] == [("x_1", "input"), ("y_1", "input")]
    assert k.src[t.node("full")] == "_k0" and k.consts["_k0"].tolist() == [3.0, 3.0]
    assert t.node("mul") not in k.src  # computed by the kernel: named by CSE


def test_bind_inputs_non_tensor_input_is_only_a_parameter():
    t = Traced(lambda x, n: x * n, tl.ones(2), 3)
    k = t.bound()
    assert k.params == ["x_1", "n_1"] and k.prologue == ["x_1 = x_1._data"]
    assert [v.name for v in k.values] == ["x_1"]


def test_bind_inputs_rejects_what_codegen_cannot_compile():
    t = Traced(lambda x: x * 2, tl.ones(2))
    mul = t.node("mul")
    with t.gm.graph.inserting_after(mul):
        meth = t.gm.graph.call_method("sin", (mul,))
    t.nodes = list(t.gm.graph.nodes)
    with pytest.raises(NotImplementedError, match="unsupported node op 'call_method'"):
        passes.bind_inputs(t.nodes, set(t.nodes), {}, t.examples, [meth])


# ----------------------------------------------------------------------------- CSE

def test_merge_common_merges_exact_duplicates_only():
    t = Traced(lambda x: tl.sin(x) * 0.0 + tl.sin(x) * -0.0 + tl.sin(x) * 0.0, tl.ones(2))
    k = t.bound()
    ops = passes.merge_common(t.nodes, t.live, k)
    assert [n.name for n in ops] == ["sin", "mul", "mul_1", "add", "add_1"]
    assert k.src[t.node("sin_2")] == "sin"
    assert k.src[t.node("mul_2")] == "mul"  # * 0.0 again: merged; * -0.0 is another value


def test_merge_common_keeps_outputs_and_hooks_apart():
    # hooks as AOT graphs carry them: the trace_wrapped primitive (a make_fx of the public
    # trace_wrapped binds a constant fn into a self_invoke target instead)
    t = Traced(lambda x: (tl.sin(x), tl.sin(x), tl.ops.trace_wrapped(x, fn=_noop_hook) + tl.ops.trace_wrapped(x, fn=_noop_hook)),
               tl.ones(2))
    k = t.bound()
    ops = passes.merge_common(t.nodes, t.live, k)
    assert [n.name for n in ops] == ["sin", "sin_1", "trace_wrapped", "trace_wrapped_1", "add"]
    assert all(k.src[n] == n.name for n in ops)


# ----------------------------------------------------------------------------- expand elision

def test_elide_expands_when_the_user_broadcasts():
    t = Traced(lambda x, y: x.expand(3, 2) * y, tl.ones(2), tl.ones(3, 2))
    k, ops = t.computed()
    assert [n.name for n in ops] == ["mul"]
    assert k.src[t.node("expand")] == "x_1"


def test_elide_expands_keeps_expands_that_shape_the_result():
    t = Traced(lambda x: (x.expand(3, 2) * 2, x.expand(3, 2) + 0), tl.ones(2))
    k, ops = t.computed()
    assert [n.name for n in ops] == ["expand", "mul", "add"]  # the merged duplicate too
    assert k.src[t.node("expand_1")] == "expand"


def test_elide_expands_keeps_an_output():
    t = Traced(lambda x, y: (x.expand(3, 2), x.expand(3, 2) * y), tl.ones(2), tl.ones(3, 2))
    k, ops = t.computed()
    assert [n.name for n in ops] == ["expand", "mul"]
    assert k.src[t.node("expand_1")] == "expand"  # CSE: the output's duplicate reads it


# ----------------------------------------------------------------------------- lowering

def test_lower_ops_steps_typed_scalars_and_values():
    t = Traced(lambda x: tl.exp(tl.sin(x) * 2), tl.ones(2))
    k, ops = t.computed()
    lowered = passes.lower_ops(ops, k)
    assert [low.calls for low in lowered.values()] == [
        [("np.sin", ["x_1"], {})], [("np.multiply", ["sin", "_k0"], {})], [("np.exp", ["mul"], {})]]
    assert k.consts["_k0"].dtype == np.float32 and k.consts["_k0"].shape == (2,)
    assert [(v.name, v.kind, v.operands, v.escapes) for v in k.values] == [
        ("x_1", "input", [], False), ("sin", "steps", ["x_1"], False), ("mul", "steps", ["sin"], False),
        ("exp", "steps", ["mul"], True)]


def test_lower_ops_runs_eager_where_numpy_promotes_otherwise():
    x = tl.tensor([1, 2], dtype=tl.int32)
    t = Traced(lambda x: x * 2.5, x)
    k, ops = t.computed()
    assert list(passes.lower_ops(ops, k).values()) == ["_impl_mul(x_1, 2.5)"]
    assert k.values[-1].kind == "expr"


def test_lower_ops_hook_operands_escape():
    t = Traced(lambda x: tl.ops.trace_wrapped(x * 2, fn=_noop_hook) + 1, tl.ones(2))  # as AOT graphs carry it
    k, ops = t.computed()
    passes.lower_ops(ops, k)
    kinds = {v.name: (v.kind, v.escapes) for v in k.values}
    assert kinds["mul"] == ("steps", True)  # the hook may keep it: never in a reused buffer
    assert kinds["trace_wrapped"] == ("input", False)  # the hook's tensor: never written


def test_typed_scalars_leave_numpy_rules_alone():
    f4 = np.zeros((1,), np.float32)
    i4 = np.zeros((1,), np.int32)

    def typed(fn, operand, probe):
        consts = {}
        steps = lowering.typed_scalars(lowering.Steps([(fn, ["x", operand], {})]), np.zeros((4,), probe.dtype),
                                       consts, {"x": probe}, lowering.impl_namespace())
        return steps.calls[0][1][1], consts

    assert typed("np.multiply", "2.0", f4)[0] == "_k0"
    assert typed("np.multiply", "2.5", i4)[0] == "2.5"  # takes part in promotion
    assert typed("np.power", "2.0", f4)[0] == "2.0"  # not a ufunc it types
    name, consts = typed("np.add", "3", i4)
    assert consts[name].dtype == np.int32 and consts[name].tolist() == [3, 3, 3, 3]


# ----------------------------------------------------------------------------- fusion + memory

def test_find_groups_fuses_a_large_chain(monkeypatch):
    monkeypatch.setattr(fusion, "FORCE", "blocked")
    big = tl.ones(fusion.MIN_ELEMENTS)
    t = Traced(lambda x: tl.exp(tl.sin(x) * 2) + 1, big)
    k, ops = t.computed()
    lowered = passes.lower_ops(ops, k)
    groups = fusion.find_groups(ops, lowered, k.values, {}, k.consts)
    assert set(groups) == set(ops)
    (g,) = set(groups.values())
    assert g.root is t.node("add") and g.strategy == "blocked" and g.externals == ["x_1"]
    assert fusion.find_groups(ops, lowered, k.values, {"fusion": False}, k.consts) == {}


def test_find_groups_leaves_small_arrays_alone():
    t = Traced(lambda x: tl.exp(tl.sin(x) * 2) + 1, tl.ones(8))
    k, ops = t.computed()
    assert fusion.find_groups(ops, passes.lower_ops(ops, k), k.values, {}, k.consts) == {}


def test_plan_reuses_a_dead_buffer():
    vals = [Value("x", (4,), "f", kind="input"),
            Value("a", (4,), "f", ["x"], kind="steps", elementwise=False),
            Value("b", (), "f", ["a"], kind="steps", elementwise=False),
            Value("c", (4,), "f", ["x"], kind="steps", elementwise=False),
            Value("d", (), "f", ["c"], kind="steps", elementwise=False, escapes=True)]
    p = memory.plan(vals)
    assert p.out == {"a": "_b0", "b": "_b1", "c": "_b0", "d": None}  # c reuses a's buffer
    assert p.buffers == [((4,), "f"), ((), "f")]


def test_plan_frees_dying_buffers_in_operand_order():
    vals = [Value("x", (2, 2), "f", kind="input"),
            Value("a", (2, 2), "f", ["x"], kind="steps", elementwise=False),
            Value("b", (2, 2), "f", ["x"], kind="steps", elementwise=False),
            Value("m", (2, 2), "f", ["a", "b"], kind="steps", elementwise=False),  # a and b die here
            Value("d", (2, 2), "f", ["x"], kind="steps", elementwise=False),
            Value("c", (2, 2), "f", ["m", "d"], kind="steps", elementwise=False, escapes=True)]
    p = memory.plan(vals)
    assert (p.out["a"], p.out["b"], p.out["m"]) == ("_b0", "_b1", "_b2")
    assert p.out["d"] == "_b1"  # freed a then b: the last freed is taken first


_HASH_SEED_SCRIPT = """
import tensorlite as tl, fxlite
from backends.codegen.compile_fx import generate
def f(x, y):
    c = (x * 2) @ (y * 3)  # both products die at the matmul
    return ((x + 1) @ c).sum()
x = tl.ones(4, 4)
print(generate(fxlite.make_fx(f)(x, x), [x, x], {"fusion": False}).source)
"""


def test_generated_source_does_not_depend_on_the_hash_seed():
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sources = set()
    for seed in ("1", "2", "3"):  # the buffers of the matmul's operands were freed in set order
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=root)
        sources.add(subprocess.run([sys.executable, "-c", _HASH_SEED_SCRIPT], env=env, cwd=root, check=True,
                                   capture_output=True, text=True).stdout)
    assert len(sources) == 1 and "np.matmul" in sources.pop()


# ----------------------------------------------------------------------------- emission

def test_statements_follow_the_plan():
    t = Traced(lambda x: tl.exp(tl.sin(x)), tl.ones(2))
    k, ops = t.computed()
    lowered = passes.lower_ops(ops, k)
    body = emit.statements(ops, lowered, {}, memory.plan(k.values), k)
    assert body == ["x_1 = x_1._data", "sin = np.sin(x_1)", "exp = np.exp(sin, sin)"]  # in sin's fresh array


def test_outputs_wrap_each_node_once():
    t = Traced(lambda x: (x, tl.sin(x), tl.sin(x).sum(), tl.full((2,), 1.0)), tl.ones(2))
    k, ops = t.computed()
    result = (*t.result, t.result[1])  # sin returned twice
    lines = emit.outputs(result, passes.flat_nodes(result), t.folded, k)
    assert lines == ["sin_out = _wrap(sin)",
                     "return (x_1_in, sin_out, _wrap(_asarray(sum_1)), _wrap(np.array(_k0)), sin_out)"]


def test_kernel_source_unpacks_buffers_and_passes_parameters():
    src = emit.kernel_source("k", ["a", "b"], [((2,), "f")], [], ["return a"])
    assert "    _b0, = _bufs\n    def k(a, b, _b0=_b0):\n        return a\n" in src
    assert "return _run(k, a, b)" in src and "return _slow(_e, (a, b))" in src


def test_generate_runs_the_passes_in_order():
    x = tl.ones(2)
    art = generate(fxlite.make_fx(lambda x: (tl.sin(x) + tl.sin(x)) * tl.full((2,), 2.0))(x), [x])
    assert "sin_1" not in art.source and "np.multiply(add, _k0, add)" in art.source
    assert art.cacheable and art.buffers == [] and list(art.consts) == ["_k0"]
