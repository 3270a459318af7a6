"""AOT autograd of nested compile regions: the forward and backward graphs call partitioned
fw/bw subgraphs once per call site (invoke_subgraph), one joint trace per distinct subgraph."""
import pytest

import backends
import minidynamo as md
import tensorlite as tl
from backends.aot import aot_module_simplified, min_cut_rematerialization_partition, nop
from backends.aot import subgraph as aot_subgraph
from backends.higher_order import invoke_subgraph
from minidynamo.expecttest import assert_expected_inline, normalize_gm
from minidynamo.testing import AotEagerAndRecordGraphs, same


@pytest.fixture(autouse=True)
def _reset():
    md.reset()
    yield
    md.reset()


@md.nested_compile_region
def block(x, y):
    return (x.sin() * y).cos()


@md.nested_compile_region
def two(x, y):
    return x.exp() * y, (x + y).sum()


def _printed(gm):
    return normalize_gm(gm.print_readable(False))


def _calls(gm):
    return [n for n in gm.graph.nodes if n.op == "call_function" and n.target is invoke_subgraph]


def _mincut(gm, example_inputs):
    return aot_module_simplified(gm, example_inputs, nop, partition_fn=min_cut_rematerialization_partition)


BACKENDS = ["aot_eager", _mincut] + (["codegen"] if "codegen" in backends.list_backends() else [])


def _check_grads(f, args, backend):
    """f compiled with backend gives eager's value and gradients (None where eager has None)."""
    out = f(*args)
    out.backward()
    args2 = [tl.tensor(a.detach().tolist(), requires_grad=a.requires_grad) for a in args]
    out2 = md.compile(f, backend=backend)(*args2)
    out2.backward()
    assert same(out, out2)
    for a, b in zip(args, args2):
        assert (a.grad is None) == (b.grad is None)
        if a.grad is not None:
            assert same(a.grad, b.grad)


def test_region_called_twice_fw_and_bw_graphs():
    rec = AotEagerAndRecordGraphs()

    @md.compile(backend=rec)
    def f(x, y):
        a = block(x, y)
        return block(a, y).sum()

    x, y = tl.randn(4, requires_grad=True), tl.randn(4, requires_grad=True)
    f(x, y).backward()
    assert len(rec.fw_graphs) == 1 and len(rec.bw_graphs) == 1
    assert_expected_inline(None, _printed(rec.fw_graphs[0]), """\
class GraphModule(tl.nn.Module):
    def forward(self, primals_1: "f32[4]", primals_2: "f32[4]"):
        partitioned_fw_subgraph_0_0 = self.partitioned_fw_subgraph_0_0
        invoke_subgraph_4 = backends_higher_order_invoke_subgraph(partitioned_fw_subgraph_0_0, 'partitioned_fw_subgraph_0_0', primals_1, primals_2);  partitioned_fw_subgraph_0_0 = primals_1 = None
        getitem_11: "f32[4]" = invoke_subgraph_4[4]
        getitem_10: "f32[4]" = invoke_subgraph_4[3]
        getitem_9: "f32[4]" = invoke_subgraph_4[2]
        getitem_8: "f32[4]" = invoke_subgraph_4[1]
        getitem: "f32[4]" = invoke_subgraph_4[0];  invoke_subgraph_4 = None
        partitioned_fw_subgraph_0_1 = self.partitioned_fw_subgraph_0_0
        invoke_subgraph_6 = backends_higher_order_invoke_subgraph(partitioned_fw_subgraph_0_1, 'partitioned_fw_subgraph_0_0', getitem, primals_2);  partitioned_fw_subgraph_0_1 = getitem = primals_2 = None
        getitem_15: "f32[4]" = invoke_subgraph_6[4]
        getitem_14: "f32[4]" = invoke_subgraph_6[3]
        getitem_13: "f32[4]" = invoke_subgraph_6[2]
        getitem_12: "f32[4]" = invoke_subgraph_6[1]
        getitem_1: "f32[4]" = invoke_subgraph_6[0];  invoke_subgraph_6 = None
        sum_1: "f32[]" = tl.ops.sum(getitem_1, dims = (0,), keepdim = False, dtype = None);  getitem_1 = None
        return (sum_1, getitem_11, getitem_10, getitem_9, getitem_8, getitem_15, getitem_14, getitem_13, getitem_12)

    class partitioned_fw_subgraph_0_0(tl.nn.Module):
        def forward(self, primals_0: "f32[4]", primals_1: "f32[4]"):
            sin: "f32[4]" = tl.ops.sin(primals_0)
            mul: "f32[4]" = tl.ops.mul(sin, primals_1)
            cos: "f32[4]" = tl.ops.cos(mul)
            return (cos, primals_0, primals_1, sin, mul)
""")
    assert_expected_inline(None, _printed(rec.bw_graphs[0]), """\
class GraphModule(tl.nn.Module):
    def forward(self, getitem_11: "f32[4]", getitem_10: "f32[4]", getitem_9: "f32[4]", getitem_8: "f32[4]", getitem_15: "f32[4]", getitem_14: "f32[4]", getitem_13: "f32[4]", getitem_12: "f32[4]", tangents_1: "f32[]"):
        reshape: "f32[1]" = tl.ops.reshape(tangents_1, shape = (1,));  tangents_1 = None
        expand: "f32[4]" = tl.ops.expand(reshape, shape = (4,));  reshape = None
        partitioned_bw_subgraph_0_1 = self.partitioned_bw_subgraph_0_0
        invoke_subgraph_7 = backends_higher_order_invoke_subgraph(partitioned_bw_subgraph_0_1, 'partitioned_bw_subgraph_0_0', getitem_12, getitem_13, getitem_14, getitem_15, expand);  partitioned_bw_subgraph_0_1 = getitem_12 = getitem_13 = getitem_14 = getitem_15 = expand = None
        getitem_2: "f32[4]" = invoke_subgraph_7[0]
        getitem_3: "f32[4]" = invoke_subgraph_7[1];  invoke_subgraph_7 = None
        partitioned_bw_subgraph_0_0 = self.partitioned_bw_subgraph_0_0
        invoke_subgraph_5 = backends_higher_order_invoke_subgraph(partitioned_bw_subgraph_0_0, 'partitioned_bw_subgraph_0_0', getitem_8, getitem_9, getitem_10, getitem_11, getitem_2);  partitioned_bw_subgraph_0_0 = getitem_8 = getitem_9 = getitem_10 = getitem_11 = getitem_2 = None
        getitem_5: "f32[4]" = invoke_subgraph_5[0]
        getitem_6: "f32[4]" = invoke_subgraph_5[1];  invoke_subgraph_5 = None
        add: "f32[4]" = tl.ops.add(getitem_3, getitem_6);  getitem_3 = getitem_6 = None
        return (getitem_5, add)

    class partitioned_bw_subgraph_0_0(tl.nn.Module):
        def forward(self, primals_0: "f32[4]", primals_1: "f32[4]", sin: "f32[4]", mul: "f32[4]", tangents_0: "f32[4]"):
            sin_1: "f32[4]" = tl.ops.sin(mul);  mul = None
            mul_1: "f32[4]" = tl.ops.mul(tangents_0, sin_1);  tangents_0 = sin_1 = None
            neg: "f32[4]" = tl.ops.neg(mul_1);  mul_1 = None
            mul_2: "f32[4]" = tl.ops.mul(neg, primals_1);  primals_1 = None
            mul_3: "f32[4]" = tl.ops.mul(neg, sin);  neg = sin = None
            cos_1: "f32[4]" = tl.ops.cos(primals_0);  primals_0 = None
            mul_4: "f32[4]" = tl.ops.mul(mul_2, cos_1);  mul_2 = cos_1 = None
            return (mul_4, mul_3)
""")


def test_backward_calls_run_in_reverse_order():
    rec = AotEagerAndRecordGraphs()

    @md.compile(backend=rec)
    def f(x, y):
        a = block(x, y)
        return block(a, y).sum()

    f(tl.randn(4, requires_grad=True), tl.randn(4, requires_grad=True)).backward()
    fw_calls, bw_calls = _calls(rec.fw_graphs[0]), _calls(rec.bw_graphs[0])
    assert [c.args[1] for c in fw_calls] == ["partitioned_fw_subgraph_0_0"] * 2
    assert [c.args[1] for c in bw_calls] == ["partitioned_bw_subgraph_0_0"] * 2
    # the first backward call takes the gradient of the graph output; the second takes the
    # gradient the first one produced (its first result: the gradient of `a`)
    second = bw_calls[1]
    assert any(a.op == "call_function" and a.args[0] is bw_calls[0] and a.args[1] == 0
               for a in second.args[2:])
    # one subgraph attribute per graph, shared by both call sites
    assert sorted(n for n, _ in rec.fw_graphs[0].named_children()) == ["partitioned_fw_subgraph_0_0"]
    assert sorted(n for n, _ in rec.bw_graphs[0].named_children()) == ["partitioned_bw_subgraph_0_0"]


def test_one_joint_trace_per_distinct_subgraph(monkeypatch):
    traced = []
    orig = aot_subgraph._Joint.trace.__func__

    def counting(cls, tracer, forward, suffix, groups):
        traced.append(forward.identifier)
        return orig(cls, tracer, forward, suffix, groups)

    monkeypatch.setattr(aot_subgraph._Joint, "trace", classmethod(counting))
    rec = AotEagerAndRecordGraphs()

    @md.compile(backend=rec)
    def f(x, y, u, v):
        a = block(block(block(x, y), y), y)
        return a.sum() + block(u, v).sum()  # u, v: a new shape, so a second subgraph

    args = [tl.randn(4, requires_grad=True), tl.randn(4, requires_grad=True),
            tl.randn(2, 3, requires_grad=True), tl.randn(2, 3, requires_grad=True)]
    f(*args).backward()
    assert sorted(traced) == ["subgraph_0", "subgraph_1"]
    fw, bw = rec.fw_graphs[0], rec.bw_graphs[0]
    assert [c.args[1] for c in _calls(fw)] == ["partitioned_fw_subgraph_0_0"] * 3 + ["partitioned_fw_subgraph_1_0"]
    assert [c.args[1] for c in _calls(bw)] == ["partitioned_bw_subgraph_1_0"] + ["partitioned_bw_subgraph_0_0"] * 3
    assert sorted(n for n, _ in fw.named_children()) == ["partitioned_fw_subgraph_0_0", "partitioned_fw_subgraph_1_0"]
    assert sorted(n for n, _ in bw.named_children()) == ["partitioned_bw_subgraph_0_0", "partitioned_bw_subgraph_1_0"]


def test_inference_graph_calls_forward_only_subgraph():
    rec = AotEagerAndRecordGraphs()

    @md.compile(backend=rec)
    def f(x, y):
        return block(block(x, y), y)

    x, y = tl.randn(4), tl.randn(4)
    assert same(f(x, y), block(block(x, y), y))
    assert rec.bw_graphs == []
    assert_expected_inline(None, _printed(rec.fw_graphs[0]), """\
class inner_f(tl.nn.Module):
    def forward(self, primals_1: "f32[4]", primals_2: "f32[4]"):
        repeated_subgraph0 = self.repeated_subgraph0
        invoke_subgraph = backends_higher_order_invoke_subgraph(repeated_subgraph0, 'subgraph_0', primals_1, primals_2);  repeated_subgraph0 = primals_1 = None
        getitem: "f32[4]" = invoke_subgraph[0];  invoke_subgraph = None
        repeated_subgraph0_1 = self.repeated_subgraph0
        invoke_subgraph_1 = backends_higher_order_invoke_subgraph(repeated_subgraph0_1, 'subgraph_0', getitem, primals_2);  repeated_subgraph0_1 = getitem = primals_2 = None
        getitem_1: "f32[4]" = invoke_subgraph_1[0];  invoke_subgraph_1 = None
        return (getitem_1,)

    class repeated_subgraph0(tl.nn.Module):
        def forward(self, primals_1: "f32[4]", primals_2: "f32[4]"):
            sin: "f32[4]" = tl.ops.sin(primals_1);  primals_1 = None
            mul: "f32[4]" = tl.ops.mul(sin, primals_2);  sin = primals_2 = None
            cos: "f32[4]" = tl.ops.cos(mul);  mul = None
            return (cos,)
""")


@pytest.mark.parametrize("backend", BACKENDS)
def test_region_gradients_equal_eager(backend):
    def f(x, y):
        return (block(x, y) + block(x * 2, y)).sum()

    _check_grads(f, [tl.randn(8, 8, requires_grad=True), tl.randn(8, 8, requires_grad=True)], backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_multi_output_region_with_unused_output(backend):
    def f(x, y):
        a, s = two(x, y)
        b, _ = two(a, y)  # the second output of this call gets no gradient
        return b.sum() + s

    _check_grads(f, [tl.randn(3, requires_grad=True), tl.randn(3, requires_grad=True)], backend)
    md.reset()
    _check_grads(f, [tl.randn(3), tl.randn(3, requires_grad=True)], backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_region_call_under_no_grad_and_mutated_output(backend):
    def f(x, y):
        a, s = two(x, y)
        with tl.no_grad():
            c, _ = two(x, y)
        a.mul_(2)
        return (a * c).sum() + s

    _check_grads(f, [tl.randn(3, requires_grad=True), tl.randn(3, requires_grad=True)], backend)


def test_region_on_module_parameter_gradients():
    class M(tl.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = md.nested_compile_region(tl.nn.Linear(4, 4))

        def forward(self, x):
            return self.lin(self.lin(x).relu()).sum()

    m = M()
    x = tl.randn(2, 4, requires_grad=True)
    m(x).backward()
    expected = [p.grad for p in m.parameters()] + [x.grad]
    m.zero_grad()
    x.grad = None
    rec = AotEagerAndRecordGraphs()
    md.compile(m, backend=rec)(x).backward()
    assert all(same(a, b) for a, b in zip(expected, [p.grad for p in m.parameters()] + [x.grad]))
    assert len(_calls(rec.fw_graphs[0])) == 2 and len(_calls(rec.bw_graphs[0])) == 2


def test_dead_code_in_a_region_is_dropped():
    @md.nested_compile_region
    def dead(x):
        x = tl.sin(x)
        y = tl.cos(x)  # noqa: F841 - never used
        return x

    rec = AotEagerAndRecordGraphs()
    md.compile(lambda x: dead(x), backend=rec, fullgraph=True)(tl.randn(4))
    sub = rec.fw_graphs[0].repeated_subgraph0
    assert [n.target for n in sub.graph.nodes if n.op == "call_function"] == [tl.ops.sin]


@md.nested_compile_region
def doubled_and_tripled(x):
    return x * 2, x * 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_region_outputs_given_one_gradient_tensor(backend):
    # a + b passes one gradient tensor to both outputs: that backward subgraph reads it once
    # (as PyTorch traces it), so a call whose outputs get two tensors needs another one
    def f(x):
        a, b = doubled_and_tripled(x)
        c, d = doubled_and_tripled(x + 1)
        return (a + b).sum() + (c * 2 + d * 5).sum()

    _check_grads(f, [tl.randn(3, requires_grad=True)], backend)


def test_backward_subgraph_per_tangent_aliasing():
    rec = AotEagerAndRecordGraphs()

    @md.compile(backend=rec)
    def f(x):
        a, b = doubled_and_tripled(x)
        c, d = doubled_and_tripled(x + 1)
        return (a + b).sum() + (c * 2 + d * 5).sum()

    f(tl.randn(3, requires_grad=True)).backward()
    assert [c.args[1] for c in _calls(rec.bw_graphs[0])] == ["partitioned_bw_subgraph_0_0",
                                                              "partitioned_bw_subgraph_0_1"]
