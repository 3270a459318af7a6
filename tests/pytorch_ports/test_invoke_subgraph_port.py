"""Ports of PyTorch's test/higher_order_ops/test_invoke_subgraph.py (nested compile regions,
invoke_subgraph), as PyTorch wrote them with only the names changed: torch -> tl,
torch._dynamo / torch.compile -> minidynamo (md), torch.compiler.nested_compile_region ->
md.nested_compile_region, backend "inductor" (torch.compile's default) -> "codegen". Expected
graphs change only namespaces: torch.ops.higher_order.invoke_subgraph ->
backends_higher_order_invoke_subgraph, torch.ops.aten.<op>.<overload> -> tl.ops.<op>,
torch._C._nn.linear -> tl.nn.functional.linear.

Not ported (need CUDA, Triton, Inductor internals or APIs with no counterpart here):
* TestInvokeSubgraphCompile::test_sdpa: CUDA + Triton (flash attention on bfloat16 CUDA tensors).
* TestInvokeSubgraphCompile::test_dropout_checks_joint_graph: asserts Inductor's post-grad
  graph (InductorAndRecordGraphs, prims.inductor_seeds/inductor_random rng functionalization,
  inductor_config fx_graph_cache).
* TestInvokeSubgraphCompile::test_dropout_checks_joint_graph_inference: same (Inductor graph).
* TestInvokeSubgraphCompile::test_view_to_reshape: asserts Inductor's view->reshape pass on
  InductorAndRecordGraphs' graph.
* TestInvokeSubgraphCompile::test_return_none: CUDA + Triton (cuda:0 tensors).
* TestInvokeSubgraphCompile::test_ac_rng_cudagraphs: GPU (cudagraphs, reduce-overhead mode).
* TestInvokeSubgraphCompile::test_triton_kernel_native: GPU + Triton kernel.
* TestInvokeSubgraphCompile::test_preserves_strides: GPU + Inductor pattern matcher
  (post_grad_custom_post_pass) + torch.library custom ops.
* TestInvokeSubgraphCompile::test_preserves_output_strides: same.
* TestInvokeSubgraphCompile::test_input_mutation_mutiple_times_fake_tensor_cahche_hit: mocks
  torch._higher_order_ops.utils.registered_hop_fake_fns and counts the fake-tensor propagations
  of AOT's two tracing phases (fake tensor internals).
* TestInvokeSubgraphExport{Strict,Nonstrict}::test_simple_func, test_unbacked,
  test_pending_unbacked, test_simple_method, test_multiple_module (10 tests): torch.export
  has no counterpart.
Kept with @unittest.skip (no counterpart): test_gen_schema and
test_gen_schema_with_buffer_mutation (find_hop_schema, torch._higher_order_ops.schema).

test_differing_strides_for_grad_outs (skipped upstream) and test_grad_accuracy_check (expectedFailure
upstream) run here: both pass.
"""
import re
import unittest

import pytest

import minidynamo as md
import tensorlite as tl
import tensorlite.utils.checkpoint  # noqa: F401  (`import torch` loads torch.utils.checkpoint; `import tensorlite` does not)
from backends.aot import aot_function, nop
from backends.higher_order import invoke_subgraph
from minidynamo.testing import AotEagerAndRecordGraphs, EagerAndRecordGraphs, normalize_gm
from tests.pytorch_ports.common import TestCase as _TestCase

nested_compile_region = md.nested_compile_region

TEST_WITH_CROSSREF = False


def _strip_empty_lines(s):
    return re.sub(r"\n\s*\n", "\n", s)


class TestCase(_TestCase):
    def assertExpectedInline(self, actual, expect, skip=0, ignore_empty_lines=False):
        # common_utils.TestCase.assertExpectedInline's ignore_empty_lines
        if ignore_empty_lines:
            actual = _strip_empty_lines(actual)
            expect = _strip_empty_lines(expect)
        super().assertExpectedInline(actual, expect, skip=skip + 1)


# Why ports fail here (each xfail names one of these, or its own one-line cause).
NO_SYMBOLIC = ("md names size symbols s0, s1, .. (torch s77), and a region's graph takes no symbolic size as "
               "an input (torch passes s77 as its first operand), so the calls, subgraphs and getitem numbers differ")
SCALAR_OUTPUTS = ("md.config has no option capture_scalar_outputs (AttributeError); md never captures "
                  "Tensor.item() (a graph break, so a RegionError inside a region)")


class TestInvokeSubgraph(TestCase):
    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraph::test_simple
    def test_simple(self):
        def gn(x, y):
            return tl.mul(x, y)

        def fn(x, y):
            return nested_compile_region(gn)(x, y)

        x = tl.randn(8, requires_grad=True)
        y = tl.randn(8, requires_grad=True)
        ref = gn(x, y)

        x_clone = x.detach().clone().requires_grad_(True)
        y_clone = y.detach().clone().requires_grad_(True)
        res = fn(x_clone, y_clone)

        # Run backward
        ref.sum().backward()
        res.sum().backward()

        self.assertEqual(ref, res)
        self.assertEqual(x.grad, x_clone.grad)
        self.assertEqual(y.grad, y_clone.grad)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraph::test_aot_function
    def test_aot_function(self):
        def gn(x, y):
            return tl.mul(x, y)

        def fn(x, y):
            return nested_compile_region(gn)(x, y)

        x = tl.randn(8, requires_grad=True)
        y = tl.randn(8, requires_grad=True)
        ref = gn(x, y)

        x_clone = x.detach().clone().requires_grad_(True)
        y_clone = y.detach().clone().requires_grad_(True)
        aot_fn = aot_function(fn, nop)
        res = aot_fn(x_clone, y_clone)

        # Run backward
        ref.sum().backward()
        res.sum().backward()

        self.assertEqual(ref, res)
        self.assertEqual(x.grad, x_clone.grad)
        self.assertEqual(y.grad, y_clone.grad)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraph::test_multiple
    def test_multiple(self):
        @nested_compile_region
        def cos(x):
            return tl.cos(x)

        @nested_compile_region
        def sin(x):
            return tl.sin(x)

        def fn(x):
            a = cos(x)
            b = sin(a)
            return cos(b)

        x = tl.randn(8, requires_grad=True)
        ref = fn(x)
        aot_fn = aot_function(fn, nop)
        res = aot_fn(x)

        self.assertEqual(ref, res)


class TestInvokeSubgraphCompile(TestCase):
    def count_unique_get_attr_nodes(self, gm, args, expected):
        subgraph_attr_names = set()
        for node in gm.graph.nodes:
            if node.op == "get_attr":
                subgraph_attr_names.add(node.target)
        self.assertEqual(len(subgraph_attr_names), expected)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_simple
    def test_simple(self):
        @nested_compile_region
        def gn(x, y):
            return tl.mul(x, y)

        def fn(x, y):
            return gn(x, y)

        x = tl.randn(8, requires_grad=True)
        y = tl.randn(8, requires_grad=True)
        ref = fn(x, y)

        x_clone = x.detach().clone().requires_grad_(True)
        y_clone = y.detach().clone().requires_grad_(True)
        res = md.compile(fn, backend="codegen", fullgraph=True)(x_clone, y_clone)

        # Run backward
        ref.sum().backward()
        res.sum().backward()

        self.assertEqual(ref, res)
        self.assertEqual(x.grad, x_clone.grad)
        self.assertEqual(y.grad, y_clone.grad)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_module_forward
    def test_module_forward(self):
        class Mod(tl.nn.Module):
            def __init__(self):
                super().__init__()
                self.c = 5

            @nested_compile_region
            def forward(self, x, y):
                return tl.mul(x, y).sin() + self.c

        mod = Mod()

        def fn(x, y):
            return mod(x, y) + mod(x, y)

        x = tl.randn(8, requires_grad=True)
        y = tl.randn(8, requires_grad=True)
        ref = fn(x, y)

        x_clone = x.detach().clone().requires_grad_(True)
        y_clone = y.detach().clone().requires_grad_(True)
        res = md.compile(fn, backend="codegen", fullgraph=True)(x_clone, y_clone)

        # Run backward
        ref.sum().backward()
        res.sum().backward()

        self.assertEqual(ref, res)
        self.assertEqual(x.grad, x_clone.grad)
        self.assertEqual(y.grad, y_clone.grad)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_gen_schema
    @unittest.skip("find_hop_schema (torch._higher_order_ops.schema, HOP schema inference) has no counterpart")
    def test_gen_schema(self):
        class Mod(tl.nn.Module):
            def __init__(self):
                super().__init__()
                self.c = 5

            @nested_compile_region
            def forward(self, x, y):
                return tl.mul(x, y).sin() + self.c

        mod = Mod()

        def fn(x, y):
            return mod(x, y) + mod(x, y)

        x = tl.randn(8, requires_grad=True)
        y = tl.randn(8, requires_grad=True)

        x_clone = x.detach().clone().requires_grad_(True)
        y_clone = y.detach().clone().requires_grad_(True)
        backend = AotEagerAndRecordGraphs()
        res = md.compile(fn, backend=backend, fullgraph=True)(x_clone, y_clone)
        res.sum().backward()

        self.assertEqual(len(backend.fw_graphs), 1)
        self.assertEqual(len(backend.bw_graphs), 1)
        fw_schema = find_hop_schema(  # noqa: F821
            backend.fw_graphs[0], invoke_subgraph
        )
        bw_schema = find_hop_schema(  # noqa: F821
            backend.bw_graphs[0], invoke_subgraph
        )
        self.assertExpectedInline(
            str(fw_schema[0]),
            """invoke_subgraph(Any subgraph, str identifier, Tensor arg0, Tensor arg1) -> (Tensor, Tensor, Tensor)""",
        )
        self.assertExpectedInline(
            str(fw_schema[1]),
            """invoke_subgraph(Any subgraph, str identifier, Tensor arg0, Tensor arg1) -> (Tensor, Tensor, Tensor)""",
        )
        self.assertExpectedInline(
            str(bw_schema[0]),
            """invoke_subgraph(Any subgraph, str identifier, Tensor arg0, Tensor arg1, Tensor arg2) -> (Tensor, Tensor)""",
        )
        self.assertExpectedInline(
            str(bw_schema[1]),
            """invoke_subgraph(Any subgraph, str identifier, Tensor arg0, Tensor arg1, Tensor arg2) -> (Tensor, Tensor)""",
        )

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_gen_schema_with_buffer_mutation
    @unittest.skip("find_hop_schema (torch._higher_order_ops.schema, HOP schema inference) has no counterpart")
    def test_gen_schema_with_buffer_mutation(self):
        class Mod(tl.nn.Module):
            def __init__(self):
                super().__init__()
                self.c = 5
                self.register_buffer("buf", tl.ones(8, requires_grad=False))

            @nested_compile_region
            def forward(self, x, y):
                self.buf.add_(1)
                return tl.mul(x, y).sin() + self.c + self.buf

        mod_ref = Mod()
        mod = Mod()

        def fn(mod, x, y):
            return mod(x, y) + mod(x, y)

        x = tl.randn(8, requires_grad=True)
        y = tl.randn(8, requires_grad=True)
        ref = fn(mod_ref, x, y)

        x_clone = x.detach().clone().requires_grad_(True)
        y_clone = y.detach().clone().requires_grad_(True)
        backend = EagerAndRecordGraphs()
        with (
            tl.no_grad(),
        ):
            res = md.compile(fn, backend=backend, fullgraph=True)(
                mod, x_clone, y_clone
            )

        self.assertEqual(len(backend.graphs), 1)
        fw_schema = find_hop_schema(  # noqa: F821
            backend.graphs[0], invoke_subgraph
        )
        if not TEST_WITH_CROSSREF:
            self.assertExpectedInline(
                normalize_gm(backend.graphs[0].print_readable(print_output=False)),
                """\
class GraphModule(tl.nn.Module):
    def forward(self, L_x_: "f32[8]", L_y_: "f32[8]", L_mod_buffers_buf_: "f32[8]"):
        l_x_ = L_x_
        l_y_ = L_y_
        l_mod_buffers_buf_ = L_mod_buffers_buf_

        subgraph_0 = self.subgraph_0
        invoke_subgraph = backends_higher_order_invoke_subgraph(subgraph_0, 'subgraph_0', l_mod_buffers_buf_, l_x_, l_y_);  subgraph_0 = None
        getitem: "f32[8]" = invoke_subgraph[0];  invoke_subgraph = None
        subgraph_1 = self.subgraph_0
        invoke_subgraph_1 = backends_higher_order_invoke_subgraph(subgraph_1, 'subgraph_0', l_mod_buffers_buf_, l_x_, l_y_);  subgraph_1 = l_mod_buffers_buf_ = l_x_ = l_y_ = None
        getitem_4: "f32[8]" = invoke_subgraph_1[0];  invoke_subgraph_1 = None

        add: "f32[8]" = getitem + getitem_4;  getitem = getitem_4 = None
        return (add,)

    class subgraph_0(tl.nn.Module):
        def forward(self, l_mod_buffers_buf_: "f32[8]", l_x_: "f32[8]", l_y_: "f32[8]"):
            add_: "f32[8]" = l_mod_buffers_buf_.add_(1);  add_ = None

            mul: "f32[8]" = tl.mul(l_x_, l_y_);  l_x_ = l_y_ = None
            sin: "f32[8]" = mul.sin();  mul = None
            add: "f32[8]" = sin + 5;  sin = None
            add_1: "f32[8]" = add + l_mod_buffers_buf_;  add = l_mod_buffers_buf_ = None
            return (add_1,)
""",
            )
        self.assertExpectedInline(
            str(fw_schema[0]),
            """invoke_subgraph(Any subgraph, str identifier, Tensor(a2!) arg0, Tensor arg1, Tensor arg2) -> ((Tensor))""",
        )
        self.assertExpectedInline(
            str(fw_schema[1]),
            """invoke_subgraph(Any subgraph, str identifier, Tensor(a2!) arg0, Tensor arg1, Tensor arg2) -> ((Tensor))""",
        )
        self.assertEqual(res, ref)
        self.assertEqual(mod.buf, mod_ref.buf)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_auto_functionalize
    @pytest.mark.xfail(strict=True, reason="AOT: aot_eager splits a region's joint graph with default_partition (PyTorch's aot_eager uses min-cut: its forward saves only the primals and its backward recomputes mul and cos), and tensorlite's mul backward computes the two gradients in the other order (mul_6 and mul_7 swapped)")
    def test_auto_functionalize(self):
        class Mod(tl.nn.Module):
            def __init__(self):
                super().__init__()
                self.c = 5
                self.register_buffer("buf", tl.ones(8, requires_grad=False))

            @nested_compile_region
            def forward(self, x, y):
                return tl.mul(x, y).sin() * self.c * self.buf

        mod_ref = Mod()
        mod = Mod()

        def fn(mod, x, y):
            return mod(x, y) + mod(x, y)

        x = tl.randn(8, requires_grad=True)
        y = tl.randn(8, requires_grad=True)
        ref = fn(mod_ref, x, y)

        x_clone = x.detach().clone().requires_grad_(True)
        y_clone = y.detach().clone().requires_grad_(True)
        backend = AotEagerAndRecordGraphs()
        res = md.compile(fn, backend=backend, fullgraph=True)(mod, x_clone, y_clone)
        res.sum().backward()
        self.assertEqual(len(backend.fw_graphs), 1)
        self.assertEqual(len(backend.bw_graphs), 1)
        self.assertEqual(ref, res)
        self.assertExpectedInline(
            normalize_gm(backend.fw_graphs[0].print_readable(print_output=False)),
            """\
class GraphModule(tl.nn.Module):
    def forward(self, primals_1: "f32[8]", primals_2: "f32[8]", primals_3: "f32[8]"):
        partitioned_fw_subgraph_0_0 = self.partitioned_fw_subgraph_0_0
        invoke_subgraph_4 = backends_higher_order_invoke_subgraph(partitioned_fw_subgraph_0_0, 'partitioned_fw_subgraph_0_0', primals_1, primals_2, primals_3);  partitioned_fw_subgraph_0_0 = None
        getitem_12: "f32[8]" = invoke_subgraph_4[3]
        getitem_11: "f32[8]" = invoke_subgraph_4[2]
        getitem_10: "f32[8]" = invoke_subgraph_4[1]
        getitem: "f32[8]" = invoke_subgraph_4[0];  invoke_subgraph_4 = None
        partitioned_fw_subgraph_0_1 = self.partitioned_fw_subgraph_0_0
        invoke_subgraph_6 = backends_higher_order_invoke_subgraph(partitioned_fw_subgraph_0_1, 'partitioned_fw_subgraph_0_0', primals_1, primals_2, primals_3);  partitioned_fw_subgraph_0_1 = primals_1 = primals_2 = primals_3 = None
        getitem_15: "f32[8]" = invoke_subgraph_6[3]
        getitem_14: "f32[8]" = invoke_subgraph_6[2]
        getitem_13: "f32[8]" = invoke_subgraph_6[1]
        getitem_1: "f32[8]" = invoke_subgraph_6[0];  invoke_subgraph_6 = None
        add: "f32[8]" = tl.ops.add(getitem, getitem_1);  getitem = getitem_1 = None
        return (add, getitem_12, getitem_11, getitem_10, getitem_15, getitem_14, getitem_13)
    class partitioned_fw_subgraph_0_0(tl.nn.Module):
        def forward(self, primals_0: "f32[8]", primals_1: "f32[8]", primals_2: "f32[8]"):
            mul: "f32[8]" = tl.ops.mul(primals_0, primals_1)
            sin: "f32[8]" = tl.ops.sin(mul);  mul = None
            mul_1: "f32[8]" = tl.ops.mul(sin, 5);  sin = None
            mul_2: "f32[8]" = tl.ops.mul(mul_1, primals_2);  mul_1 = None
            return (mul_2, primals_0, primals_1, primals_2)
""",
            ignore_empty_lines=True,
        )
        self.assertExpectedInline(
            normalize_gm(backend.bw_graphs[0].print_readable(print_output=False)),
            """\
class GraphModule(tl.nn.Module):
    def forward(self, getitem_12: "f32[8]", getitem_11: "f32[8]", getitem_10: "f32[8]", getitem_15: "f32[8]", getitem_14: "f32[8]", getitem_13: "f32[8]", tangents_1: "f32[8]"):
        partitioned_bw_subgraph_0_1 = self.partitioned_bw_subgraph_0_0
        invoke_subgraph_7 = backends_higher_order_invoke_subgraph(partitioned_bw_subgraph_0_1, 'partitioned_bw_subgraph_0_0', getitem_13, getitem_14, getitem_15, tangents_1);  partitioned_bw_subgraph_0_1 = getitem_13 = getitem_14 = getitem_15 = None
        getitem_2: "f32[8]" = invoke_subgraph_7[0]
        getitem_3: "f32[8]" = invoke_subgraph_7[1];  invoke_subgraph_7 = None
        partitioned_bw_subgraph_0_0 = self.partitioned_bw_subgraph_0_0
        invoke_subgraph_5 = backends_higher_order_invoke_subgraph(partitioned_bw_subgraph_0_0, 'partitioned_bw_subgraph_0_0', getitem_10, getitem_11, getitem_12, tangents_1);  partitioned_bw_subgraph_0_0 = getitem_10 = getitem_11 = getitem_12 = tangents_1 = None
        getitem_6: "f32[8]" = invoke_subgraph_5[0]
        getitem_7: "f32[8]" = invoke_subgraph_5[1];  invoke_subgraph_5 = None
        add_1: "f32[8]" = tl.ops.add(getitem_2, getitem_6);  getitem_2 = getitem_6 = None
        add_2: "f32[8]" = tl.ops.add(getitem_3, getitem_7);  getitem_3 = getitem_7 = None
        return (add_1, add_2, None)

    class partitioned_bw_subgraph_0_0(tl.nn.Module):
        def forward(self, primals_0: "f32[8]", primals_1: "f32[8]", primals_2: "f32[8]", tangents_0: "f32[8]"):
            mul_3: "f32[8]" = tl.ops.mul(tangents_0, primals_2);  tangents_0 = primals_2 = None
            mul_4: "f32[8]" = tl.ops.mul(mul_3, 5);  mul_3 = None
            mul: "f32[8]" = tl.ops.mul(primals_0, primals_1)
            cos: "f32[8]" = tl.ops.cos(mul);  mul = None
            mul_5: "f32[8]" = tl.ops.mul(mul_4, cos);  mul_4 = cos = None
            mul_6: "f32[8]" = tl.ops.mul(mul_5, primals_0);  primals_0 = None
            mul_7: "f32[8]" = tl.ops.mul(mul_5, primals_1);  mul_5 = primals_1 = None
            return (mul_7, mul_6, None)
""",
            ignore_empty_lines=True,
        )

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_buffer_mutation_works_under_no_grad
    def test_buffer_mutation_works_under_no_grad(self):
        class Mod(tl.nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("buf", tl.ones(8, requires_grad=False))

            @nested_compile_region
            def forward(self, x, y):
                self.buf.add_(1)
                return tl.mul(x, y).sin() * self.buf

        mod_ref = Mod()
        mod = Mod()

        def fn(mod, x, y):
            return mod(x, y) + mod(x, y)

        x = tl.randn(8, requires_grad=True)
        y = tl.randn(8, requires_grad=True)
        ref = fn(mod_ref, x, y)

        x_clone = x.detach().clone().requires_grad_(True)
        y_clone = y.detach().clone().requires_grad_(True)
        with tl.no_grad():
            res = md.compile(fn, backend="codegen", fullgraph=True)(mod, x_clone, y_clone)
        self.assertEqual(ref, res)
        self.assertEqual(mod_ref.buf, mod.buf)

        mod = Mod()
        x_clone = x.detach().clone().requires_grad_(True)
        y_clone = y.detach().clone().requires_grad_(True)
        with tl.inference_mode():
            res = md.compile(fn, backend="codegen", fullgraph=True)(mod, x_clone, y_clone)
        self.assertEqual(ref, res)
        self.assertEqual(mod_ref.buf, mod.buf)

        mod = Mod()
        x_clone = x.detach().clone().requires_grad_(False)
        y_clone = y.detach().clone().requires_grad_(False)
        res = md.compile(fn, backend="codegen", fullgraph=True)(mod, x_clone, y_clone)
        self.assertEqual(ref, res)
        self.assertEqual(mod_ref.buf, mod.buf)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_buffer_mutation_errors_under_training
    @pytest.mark.xfail(strict=True, reason="md compiles a region that changes a buffer in place under training and matches eager; PyTorch's invoke_subgraph raises 'does not currently support training with in-place input or buffer mutations'")
    def test_buffer_mutation_errors_under_training(self):
        class Mod(tl.nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("buf", tl.ones(8, requires_grad=False))

            @nested_compile_region
            def forward(self, x, y):
                self.buf.add_(1)
                return tl.mul(x, y).sin() * self.buf

        mod = Mod()

        def fn(mod, x, y):
            return mod(x, y) + mod(x, y)

        x = tl.randn(8, requires_grad=True)
        y = tl.randn(8, requires_grad=True)
        with self.assertRaisesRegex(
            RuntimeError,
            "does not currently support training with in-place input or buffer mutations",
        ):
            md.compile(fn, backend="codegen", fullgraph=True)(mod, x, y)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_list
    def test_list(self):
        @nested_compile_region
        def gn(x, y):
            return [tl.mul(x, y), tl.add(x, y)]

        def fn(x, y):
            lst = gn(x, y)
            lst.append(tl.sin(x))
            return lst[0] + lst[1] + lst[2]

        x = tl.randn(8, requires_grad=True)
        y = tl.randn(8, requires_grad=True)
        ref = fn(x, y)

        x_clone = x.detach().clone().requires_grad_(True)
        y_clone = y.detach().clone().requires_grad_(True)
        res = md.compile(fn, backend="codegen", fullgraph=True)(x_clone, y_clone)

        # Run backward
        ref.sum().backward()
        res.sum().backward()

        self.assertEqual(ref, res)
        self.assertEqual(x.grad, x_clone.grad)
        self.assertEqual(y.grad, y_clone.grad)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_tuple_of_tuple
    def test_tuple_of_tuple(self):
        @nested_compile_region
        def gn(x, y):
            return ((tl.mul(x, y),), tl.add(x, y))

        def fn(x, y):
            tup = gn(x, y)
            return tup[0][0] + tup[1]

        x = tl.randn(8, requires_grad=True)
        y = tl.randn(8, requires_grad=True)
        ref = fn(x, y)

        x_clone = x.detach().clone().requires_grad_(True)
        y_clone = y.detach().clone().requires_grad_(True)
        res = md.compile(fn, backend="codegen", fullgraph=True)(x_clone, y_clone)

        # Run backward
        ref.sum().backward()
        res.sum().backward()

        self.assertEqual(ref, res)
        self.assertEqual(x.grad, x_clone.grad)
        self.assertEqual(y.grad, y_clone.grad)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_differing_strides_for_grad_outs
    # Upstream: @unittest.skip("FunctionCtx ops is not cacheable right now") (a torch limitation); runs here.
    def test_differing_strides_for_grad_outs(self):
        class CustomOp(tl.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return tl.sin(x)

            @staticmethod
            def backward(ctx, grad_out):
                a = grad_out.view(12, 5)
                return tl.cos(tl.reshape(a, (3, 4, 5)))

        @nested_compile_region
        def gn(x):
            return CustomOp.apply(x)

        def fn(x):
            a = gn(x)
            # Force stride changes so that backward view causes a failure if
            # contiguous not called.
            b = tl.permute(a, (0, 2, 1))
            return b

        x = tl.randn(3, 4, 5, requires_grad=True)
        ref = tl.permute(gn(x), (0, 2, 1))

        x_clone = x.clone().detach().requires_grad_(True)
        opt_fn = md.compile(fn, backend="aot_eager")
        res = opt_fn(x_clone)

        # Run backward
        ref.sum().backward()
        res.sum().backward()

        self.assertEqual(ref, res)
        self.assertEqual(x.grad, x_clone.grad)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_symint_from_fwd_to_bwd
    def test_symint_from_fwd_to_bwd(self):
        @nested_compile_region
        def gn(x, y):
            a = tl.sum(x, (1,), keepdim=True).view(y.shape[1], y.shape[0])
            return tl.matmul(a, y)

        def fn(x, y):
            return gn(x, y)

        opt_fn = md.compile(fn, backend="codegen", fullgraph=True)

        x = tl.randn(64, 1, requires_grad=True)
        y = tl.randn(8, 8, requires_grad=True)
        ref = fn(x, y)
        res = opt_fn(x, y)
        self.assertEqual(ref, res)

        x = tl.randn(256, 1, requires_grad=True)
        y = tl.randn(16, 16, requires_grad=True)
        ref = fn(x, y)
        res = opt_fn(x, y)
        self.assertEqual(ref, res)
        res.sum().backward()

        x = tl.randn(16, 1, requires_grad=True)
        y = tl.randn(4, 4, requires_grad=True)
        ref = fn(x, y)
        res = opt_fn(x, y)
        self.assertEqual(ref, res)
        res.sum().backward()

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_dedupe
    def test_dedupe(self):
        @nested_compile_region
        def gn(x, y):
            return tl.mul(x, y)

        def fn(x, y):
            a = gn(x, y)
            return gn(a, y)

        x = tl.randn(8, requires_grad=True)
        y = tl.randn(8, requires_grad=True)
        ref = fn(x, y)

        x_clone = x.detach().clone().requires_grad_(True)
        y_clone = y.detach().clone().requires_grad_(True)
        backend = AotEagerAndRecordGraphs()
        res = md.compile(fn, backend=backend, fullgraph=True)(x_clone, y_clone)

        # Run backward
        ref.sum().backward()
        res.sum().backward()

        self.assertEqual(ref, res)
        self.assertEqual(x.grad, x_clone.grad)
        self.assertEqual(y.grad, y_clone.grad)

        # Check that the Dynamo and AOT graphs have just one subgraph module
        self.assertEqual(len(backend.graphs), 1)
        self.assertEqual(len(backend.fw_graphs), 1)
        self.assertEqual(len(backend.bw_graphs), 1)
        self.count_unique_get_attr_nodes(backend.graphs[0], [], 1)
        self.count_unique_get_attr_nodes(backend.fw_graphs[0], [], 1)
        self.count_unique_get_attr_nodes(backend.bw_graphs[0], [], 1)

        if not TEST_WITH_CROSSREF:
            self.assertExpectedInline(
                normalize_gm(backend.graphs[0].print_readable(print_output=False)),
                """\
class GraphModule(tl.nn.Module):
    def forward(self, L_x_: "f32[8]", L_y_: "f32[8]"):
        l_x_ = L_x_
        l_y_ = L_y_

        subgraph_0 = self.subgraph_0
        invoke_subgraph = backends_higher_order_invoke_subgraph(subgraph_0, 'subgraph_0', l_x_, l_y_);  subgraph_0 = l_x_ = None
        a: "f32[8]" = invoke_subgraph[0];  invoke_subgraph = None
        subgraph_1 = self.subgraph_0
        invoke_subgraph_1 = backends_higher_order_invoke_subgraph(subgraph_1, 'subgraph_0', a, l_y_);  subgraph_1 = a = l_y_ = None
        getitem_1: "f32[8]" = invoke_subgraph_1[0];  invoke_subgraph_1 = None
        return (getitem_1,)

    class subgraph_0(tl.nn.Module):
        def forward(self, l_x_: "f32[8]", l_y_: "f32[8]"):
            mul: "f32[8]" = tl.mul(l_x_, l_y_);  l_x_ = l_y_ = None
            return (mul,)
""",
            )

        self.assertExpectedInline(
            normalize_gm(backend.fw_graphs[0].print_readable(print_output=False)),
            """\
class GraphModule(tl.nn.Module):
    def forward(self, primals_1: "f32[8]", primals_2: "f32[8]"):
        partitioned_fw_subgraph_0_0 = self.partitioned_fw_subgraph_0_0
        invoke_subgraph_4 = backends_higher_order_invoke_subgraph(partitioned_fw_subgraph_0_0, 'partitioned_fw_subgraph_0_0', primals_1, primals_2);  partitioned_fw_subgraph_0_0 = primals_1 = None
        getitem_9: "f32[8]" = invoke_subgraph_4[2]
        getitem_8: "f32[8]" = invoke_subgraph_4[1]
        getitem: "f32[8]" = invoke_subgraph_4[0];  invoke_subgraph_4 = None

        partitioned_fw_subgraph_0_1 = self.partitioned_fw_subgraph_0_0
        invoke_subgraph_6 = backends_higher_order_invoke_subgraph(partitioned_fw_subgraph_0_1, 'partitioned_fw_subgraph_0_0', getitem, primals_2);  partitioned_fw_subgraph_0_1 = getitem = primals_2 = None
        getitem_11: "f32[8]" = invoke_subgraph_6[2]
        getitem_10: "f32[8]" = invoke_subgraph_6[1]
        getitem_1: "f32[8]" = invoke_subgraph_6[0];  invoke_subgraph_6 = None
        return (getitem_1, getitem_9, getitem_8, getitem_11, getitem_10)

    class partitioned_fw_subgraph_0_0(tl.nn.Module):
        def forward(self, primals_0: "f32[8]", primals_1: "f32[8]"):
            mul: "f32[8]" = tl.ops.mul(primals_0, primals_1)
            return (mul, primals_0, primals_1)
""",
            ignore_empty_lines=True,
        )

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_dce
    @pytest.mark.xfail(strict=True, reason="the inference graph is named inner_f and its inputs primals_1, also in its subgraph (torch: <lambda>, arg0_1); the dead cos is dropped")
    def test_dce(self):
        @nested_compile_region
        def gn(x):
            x = tl.sin(x)
            # should be dce'd
            y = tl.cos(x)  # noqa: F841
            return x

        def fn(x):
            return gn(x)

        backend = AotEagerAndRecordGraphs()
        md.compile(fn, backend=backend, fullgraph=True)(
            tl.randn(4, requires_grad=False)
        )

        if not TEST_WITH_CROSSREF:
            self.assertExpectedInline(
                normalize_gm(backend.fw_graphs[0].print_readable(print_output=False)),
                """\
class <lambda>(tl.nn.Module):
    def forward(self, arg0_1: "f32[4]"):
        repeated_subgraph0 = self.repeated_subgraph0
        invoke_subgraph = backends_higher_order_invoke_subgraph(repeated_subgraph0, 'subgraph_0', arg0_1);  repeated_subgraph0 = arg0_1 = None
        getitem: "f32[4]" = invoke_subgraph[0];  invoke_subgraph = None
        return (getitem,)

    class repeated_subgraph0(tl.nn.Module):
        def forward(self, arg0_1: "f32[4]"):
            sin: "f32[4]" = tl.ops.sin(arg0_1);  arg0_1 = None
            return (sin,)
""",
            )

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_nonlocal_update
    def test_nonlocal_update(self):
        counter = 2

        @nested_compile_region
        def gn(x, y):
            nonlocal counter
            return (tl.mul(x, y) * counter,)

        def fn(x, y):
            nonlocal counter
            counter = 2
            a = gn(x, y)[0]
            counter = 3
            return gn(a, y)[0]

        x = tl.randn(8, requires_grad=True)
        y = tl.randn(8, requires_grad=True)
        ref = fn(x, y)

        x_clone = x.detach().clone().requires_grad_(True)
        y_clone = y.detach().clone().requires_grad_(True)
        res = md.compile(fn, backend="codegen", fullgraph=True)(x_clone, y_clone)

        # Run backward
        ref.sum().backward()
        res.sum().backward()

        self.assertEqual(ref, res)
        self.assertEqual(x.grad, x_clone.grad)
        self.assertEqual(y.grad, y_clone.grad)

        md.reset()
        backend = AotEagerAndRecordGraphs()
        md.compile(fn, backend=backend, fullgraph=True)(x_clone, y_clone)

        if not TEST_WITH_CROSSREF:
            self.assertExpectedInline(
                normalize_gm(backend.graphs[0].print_readable(print_output=False)),
                """\
class GraphModule(tl.nn.Module):
    def forward(self, L_x_: "f32[8]", L_y_: "f32[8]"):
        l_x_ = L_x_
        l_y_ = L_y_

        subgraph_0 = self.subgraph_0
        invoke_subgraph = backends_higher_order_invoke_subgraph(subgraph_0, 'subgraph_0', l_x_, l_y_);  subgraph_0 = l_x_ = None
        a: "f32[8]" = invoke_subgraph[0];  invoke_subgraph = None
        subgraph_1 = self.subgraph_1
        invoke_subgraph_1 = backends_higher_order_invoke_subgraph(subgraph_1, 'subgraph_1', a, l_y_);  subgraph_1 = a = l_y_ = None
        getitem_2: "f32[8]" = invoke_subgraph_1[0];  invoke_subgraph_1 = None
        return (getitem_2,)

    class subgraph_0(tl.nn.Module):
        def forward(self, l_x_: "f32[8]", l_y_: "f32[8]"):
            mul: "f32[8]" = tl.mul(l_x_, l_y_);  l_x_ = l_y_ = None
            mul_1: "f32[8]" = mul * 2;  mul = None
            return (mul_1,)

    class subgraph_1(tl.nn.Module):
        def forward(self, a: "f32[8]", l_y_: "f32[8]"):
            mul: "f32[8]" = tl.mul(a, l_y_);  a = l_y_ = None
            mul_1: "f32[8]" = mul * 3;  mul = None
            return (mul_1,)
""",
            )

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_nonlocal_list_mutation_hidden
    def test_nonlocal_list_mutation_hidden(self):
        """Test that nonlocal list mutation inside nested_compile_region is handled correctly."""

        @nested_compile_region
        def gn(x, z):
            o = tl.matmul(x, x) @ x
            out = x.sin()
            z.append(out)
            return tl.cos(tl.sin(o)), tl.sin(x)

        def fn(x):
            z = []

            outs = gn(x, z)
            out1 = outs[0]
            # Check that the extra output pytree handling is done properly
            out2 = outs[-1]

            return out1 + out2, z[0]

        x = tl.randn(4, 4, requires_grad=True)
        ref = fn(x)

        opt_fn = md.compile(fn, backend="aot_eager", fullgraph=True)
        res = opt_fn(x)
        self.assertEqual(ref[0], res[0])
        self.assertEqual(ref[1], res[1])

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_normalize_gm
    def test_normalize_gm(self):
        @nested_compile_region
        def gn(x, y):
            # Different graph give different names to intermediate nodes
            for _ in range(5):
                x = x * y
            return x

        def fn(x, y):
            for _ in range(5):
                x = gn(x, y)
            return x

        backend = AotEagerAndRecordGraphs()
        opt_fn = md.compile(fn, backend=backend, fullgraph=True)

        x = tl.randn(8, requires_grad=True)
        y = tl.randn(8, requires_grad=True)

        opt_fn(x, y)

        if not TEST_WITH_CROSSREF:
            self.assertExpectedInline(
                normalize_gm(backend.graphs[0].print_readable(print_output=False)),
                """\
class GraphModule(tl.nn.Module):
    def forward(self, L_x_: "f32[8]", L_y_: "f32[8]"):
        l_x_ = L_x_
        l_y_ = L_y_

        subgraph_0 = self.subgraph_0
        invoke_subgraph = backends_higher_order_invoke_subgraph(subgraph_0, 'subgraph_0', l_x_, l_y_);  subgraph_0 = l_x_ = None
        getitem: "f32[8]" = invoke_subgraph[0];  invoke_subgraph = None
        subgraph_1 = self.subgraph_0
        invoke_subgraph_1 = backends_higher_order_invoke_subgraph(subgraph_1, 'subgraph_0', getitem, l_y_);  subgraph_1 = getitem = None
        getitem_5: "f32[8]" = invoke_subgraph_1[0];  invoke_subgraph_1 = None
        subgraph_2 = self.subgraph_0
        invoke_subgraph_2 = backends_higher_order_invoke_subgraph(subgraph_2, 'subgraph_0', getitem_5, l_y_);  subgraph_2 = getitem_5 = None
        getitem_10: "f32[8]" = invoke_subgraph_2[0];  invoke_subgraph_2 = None
        subgraph_3 = self.subgraph_0
        invoke_subgraph_3 = backends_higher_order_invoke_subgraph(subgraph_3, 'subgraph_0', getitem_10, l_y_);  subgraph_3 = getitem_10 = None
        getitem_15: "f32[8]" = invoke_subgraph_3[0];  invoke_subgraph_3 = None
        subgraph_4 = self.subgraph_0
        invoke_subgraph_4 = backends_higher_order_invoke_subgraph(subgraph_4, 'subgraph_0', getitem_15, l_y_);  subgraph_4 = getitem_15 = l_y_ = None
        getitem_20: "f32[8]" = invoke_subgraph_4[0];  invoke_subgraph_4 = None
        return (getitem_20,)

    class subgraph_0(tl.nn.Module):
        def forward(self, l_x_: "f32[8]", l_y_: "f32[8]"):
            x: "f32[8]" = l_x_ * l_y_;  l_x_ = None
            x_1: "f32[8]" = x * l_y_;  x = None
            x_2: "f32[8]" = x_1 * l_y_;  x_1 = None
            x_3: "f32[8]" = x_2 * l_y_;  x_2 = None
            x_4: "f32[8]" = x_3 * l_y_;  x_3 = l_y_ = None
            return (x_4,)
""",
            )

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_input_mutation
    def test_input_mutation(self):
        @nested_compile_region
        def gn(x, y):
            x.add_(1)
            return tl.mul(x, y)

        def fn(x, y):
            return gn(x, y)

        x = tl.randn(8, requires_grad=False)
        y = tl.randn(8, requires_grad=False)

        opt_fn = md.compile(fn, backend="codegen", fullgraph=True)

        x_clone = x.clone()
        self.assertEqual(opt_fn(x, y), fn(x_clone, y))

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_input_mutation_mutiple_times
    def test_input_mutation_mutiple_times(self):
        @nested_compile_region
        def gn(x, y):
            x.add_(1)
            return tl.mul(x, y)

        def fn(x, y):
            z = gn(x, y)
            for _ in range(16):
                z += gn(x, y)
            return z

        x = tl.randn(8, requires_grad=False)
        x_clone = x.clone()
        y = tl.randn(8, requires_grad=False)

        opt_fn = md.compile(fn, backend="codegen", fullgraph=True)

        with (
            tl.no_grad(),
        ):
            out = opt_fn(x, y)
        exp_out = fn(x_clone, y)
        self.assertEqual(exp_out, out)
        self.assertEqual(x_clone, x)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_input_mutation_inference_mode
    @pytest.mark.xfail(strict=True, reason="md traces the `with tl.inference_mode()` block and matches eager: the region changes an inference tensor inside inference mode, which is allowed (the PyTorch this test was written for raised here; 2.13 does not)")
    def test_input_mutation_inference_mode(self):
        @nested_compile_region
        def gn(x, y):
            x.add_(1)
            return tl.mul(x, y)

        def fn(x, y):
            z = tl.cos(x)
            with tl.inference_mode():
                return gn(tl.cos(z), y)

        opt_fn = md.compile(fn, backend="codegen", fullgraph=True)
        x = tl.randn(8, requires_grad=False)
        y = tl.randn(8, requires_grad=False)

        with self.assertRaisesRegex(
            RuntimeError,
            "Inplace update to inference tensor outside InferenceMode is not allowed",
        ):
            opt_fn(x, y)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_simple_module
    def test_simple_module(self):
        mod = tl.nn.Linear(8, 8)

        @nested_compile_region
        def gn(x):
            return tl.cos(x), mod(x)

        def fn(x):
            out = gn(x)
            return out[0] + out[1]

        opt_fn = md.compile(fn, backend="codegen", fullgraph=True)
        # requires_grad is False deliberately to force None the joint_graph
        # outputs
        x = tl.randn(8, 8, requires_grad=False)
        x_clone = x.detach().clone().requires_grad_(False)

        ref = fn(x)
        res = opt_fn(x_clone)

        ref.sum().backward()
        res.sum().backward()

        self.assertEqual(ref, res)
        self.assertEqual(x.grad, x_clone.grad)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_fail_with_direct_invoke_subgraph
    def test_fail_with_direct_invoke_subgraph(self):
        def gn(x):
            return tl.sin(x)

        def fn(x):
            return invoke_subgraph(gn, None, (x,))

        opt_fn = md.compile(fn, backend="eager", fullgraph=True)
        x = tl.randn(8, 8, requires_grad=True)

        with self.assertRaisesRegex(
            md.exc.Unsupported, "Directly using invoke_subgraph is not"
        ):
            opt_fn(x)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_input_output_aliasing
    def test_input_output_aliasing(self):
        @nested_compile_region
        def gn(x, y):
            return (x, tl.mul(x, y))

        def fn(x, y):
            outs = gn(x, y)
            return outs[0] * outs[1]

        x = tl.randn(8, requires_grad=False)
        y = tl.randn(8, requires_grad=False)

        opt_fn = md.compile(fn, backend="codegen", fullgraph=True)

        with self.assertRaisesRegex(
            md.exc.UncapturedHigherOrderOpError,
            "Encountered aliasing during higher order op tracing",
        ):
            opt_fn(x, y)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_input_input_aliasing
    @pytest.mark.xfail(strict=True, reason="md compiles a region called with aliased inputs (x, x.view(1, 8)) and matches eager instead of raising UncapturedHigherOrderOpError")
    def test_input_input_aliasing(self):
        @nested_compile_region
        def gn(x, y):
            return tl.mul(x, y)

        def fn(x):
            return gn(x, x.view(1, 8))

        x = tl.randn(8, requires_grad=False)

        opt_fn = md.compile(fn, backend="codegen", fullgraph=True)

        with self.assertRaisesRegex(
            md.exc.UncapturedHigherOrderOpError,
            "Encountered aliasing during higher order op tracing",
        ):
            opt_fn(x)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_output_output_aliasing
    @pytest.mark.xfail(strict=True, reason="md compiles a region returning aliased outputs (z, z.view(1, 8)), keeping the view relation, instead of raising UncapturedHigherOrderOpError")
    def test_output_output_aliasing(self):
        @nested_compile_region
        def gn(x):
            z = tl.cos(x)
            return z, z.view(1, 8)

        def fn(x):
            return gn(x)

        x = tl.randn(8, requires_grad=False)

        opt_fn = md.compile(fn, backend="codegen", fullgraph=True)

        with self.assertRaisesRegex(
            md.exc.UncapturedHigherOrderOpError,
            "Encountered aliasing during higher order op tracing",
        ):
            opt_fn(x)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_side_effect_with_aliased_intermediate
    def test_side_effect_with_aliased_intermediate(self):
        captured_views = []

        @nested_compile_region
        def gn(x):
            original = tl.sin(x)
            view = original.view(1, 8)  # Aliases with original
            captured_views.append(view)
            return tl.sin(view)

        def fn(x):
            result = gn(x)
            if captured_views:
                return result + captured_views[0]
            return result

        x = tl.randn(8, requires_grad=False)
        opt_fn = md.compile(fn, backend="codegen", fullgraph=True)
        # TODO: Improve error message to explain the aliasing/side-effect issue
        with self.assertRaisesRegex(
            md.exc.InternalError,
            "does not belong to this Graph",
        ):
            opt_fn(x)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_mod_attr_aliasing
    def test_mod_attr_aliasing(self):
        class MutateParam(tl.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = tl.ones(8)

            def forward(self, x):
                self.a.add_(1)
                return tl.mul(x, self.a)

        @nested_compile_region
        def gn(x):
            return mod(x)

        def fn(x, y):
            return gn(x) * y

        mod = MutateParam()
        x = tl.randn(8, requires_grad=False)
        y = tl.randn(8, requires_grad=False)

        opt_fn = md.compile(fn, backend="codegen", fullgraph=True)

        compiled_out = opt_fn(x, y)
        # reset constant attr
        mod.a = tl.ones(8)
        self.assertEqual(compiled_out, fn(x, y))

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_redundant_compile_region
    def test_redundant_compile_region(self):
        @nested_compile_region
        @nested_compile_region
        def gn(x):
            return tl.sin(x)

        def fn(x):
            return gn(x) + gn(x)

        backend = AotEagerAndRecordGraphs()
        opt_fn = md.compile(fn, backend=backend, fullgraph=True)

        x = tl.randn(8, 8, requires_grad=True)

        ref = fn(x)
        res = opt_fn(x)
        self.assertEqual(ref, res)

        if not TEST_WITH_CROSSREF:
            self.assertExpectedInline(
                normalize_gm(backend.graphs[0].print_readable(print_output=False)),
                """\
class GraphModule(tl.nn.Module):
    def forward(self, L_x_: "f32[8, 8]"):
        l_x_ = L_x_

        subgraph_0 = self.subgraph_0
        invoke_subgraph = backends_higher_order_invoke_subgraph(subgraph_0, 'subgraph_0', l_x_);  subgraph_0 = None
        getitem: "f32[8, 8]" = invoke_subgraph[0];  invoke_subgraph = None
        subgraph_1 = self.subgraph_0
        invoke_subgraph_1 = backends_higher_order_invoke_subgraph(subgraph_1, 'subgraph_0', l_x_);  subgraph_1 = l_x_ = None
        getitem_1: "f32[8, 8]" = invoke_subgraph_1[0];  invoke_subgraph_1 = None

        add: "f32[8, 8]" = getitem + getitem_1;  getitem = getitem_1 = None
        return (add,)

    class subgraph_0(tl.nn.Module):
        def forward(self, l_x_: "f32[8, 8]"):
            sin: "f32[8, 8]" = tl.sin(l_x_);  l_x_ = None
            return (sin,)
""",
            )

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_kwargs_only
    def test_kwargs_only(self):
        @nested_compile_region
        def gn(x, *, y):
            return x * y

        x = tl.randn(8, requires_grad=False)
        y = tl.randn(8, requires_grad=False)

        def fn(x, y):
            return gn(x, y=y)

        ref = fn(x, y)
        opt_fn = md.compile(fn, backend="codegen", fullgraph=True)
        res = opt_fn(x, y)
        self.assertEqual(ref, res)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_module_method
    @pytest.mark.xfail(strict=True, reason="md.compile(module) names its inputs L_args_0_, L_self_linear_weight, L_self_linear_bias (torch L_x_, L_self_modules_linear_parameters_weight_, L_self_modules_linear_parameters_bias_)")
    def test_module_method(self):
        class Mod(tl.nn.Module):
            def __init__(self):
                super().__init__()
                self.linear = tl.nn.Linear(8, 8)

            @nested_compile_region
            def helper(self, x):
                return self.linear(x)

            def forward(self, x):
                return x + self.helper(x) * self.helper(x) + x

        mod = Mod()
        backend = AotEagerAndRecordGraphs()
        opt_mod = md.compile(mod, backend=backend, fullgraph=True)

        x = tl.randn(8, 8, requires_grad=True)

        ref = mod(x)
        res = opt_mod(x)
        self.assertEqual(ref, res)

        if not TEST_WITH_CROSSREF:
            self.assertExpectedInline(
                normalize_gm(backend.graphs[0].print_readable(print_output=False)),
                """\
class GraphModule(tl.nn.Module):
    def forward(self, L_x_: "f32[8, 8]", L_self_modules_linear_parameters_weight_: "f32[8, 8]", L_self_modules_linear_parameters_bias_: "f32[8]"):
        l_x_ = L_x_
        l_self_modules_linear_parameters_weight_ = L_self_modules_linear_parameters_weight_
        l_self_modules_linear_parameters_bias_ = L_self_modules_linear_parameters_bias_

        subgraph_0 = self.subgraph_0
        invoke_subgraph = backends_higher_order_invoke_subgraph(subgraph_0, 'subgraph_0', l_x_, l_self_modules_linear_parameters_weight_, l_self_modules_linear_parameters_bias_);  subgraph_0 = None
        getitem: "f32[8, 8]" = invoke_subgraph[0];  invoke_subgraph = None
        subgraph_1 = self.subgraph_0
        invoke_subgraph_1 = backends_higher_order_invoke_subgraph(subgraph_1, 'subgraph_0', l_x_, l_self_modules_linear_parameters_weight_, l_self_modules_linear_parameters_bias_);  subgraph_1 = l_self_modules_linear_parameters_weight_ = l_self_modules_linear_parameters_bias_ = None
        getitem_1: "f32[8, 8]" = invoke_subgraph_1[0];  invoke_subgraph_1 = None

        mul: "f32[8, 8]" = getitem * getitem_1;  getitem = getitem_1 = None
        add: "f32[8, 8]" = l_x_ + mul;  mul = None
        add_1: "f32[8, 8]" = add + l_x_;  add = l_x_ = None
        return (add_1,)

    class subgraph_0(tl.nn.Module):
        def forward(self, l_x_: "f32[8, 8]", l_self_modules_linear_parameters_weight_: "f32[8, 8]", l_self_modules_linear_parameters_bias_: "f32[8]"):
            linear: "f32[8, 8]" = tl.nn.functional.linear(l_x_, l_self_modules_linear_parameters_weight_, l_self_modules_linear_parameters_bias_);  l_x_ = l_self_modules_linear_parameters_weight_ = l_self_modules_linear_parameters_bias_ = None
            return (linear,)
""",
            )

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_module
    @pytest.mark.xfail(strict=True, reason="md.compile(module)'s input is L_args_0_ (torch L_x_)")
    def test_module(self):
        class SubMod(tl.nn.Module):
            def __init__(self):
                super().__init__()

            def forward(self, x):
                return tl.sin(x)

        class Mod(tl.nn.Module):
            def __init__(self):
                super().__init__()
                self.submod = nested_compile_region(SubMod())

            def forward(self, x):
                return x + self.submod(x) * self.submod(x) + x

        mod = Mod()
        backend = AotEagerAndRecordGraphs()
        opt_mod = md.compile(mod, backend=backend, fullgraph=True)

        x = tl.randn(8, 8, requires_grad=True)

        ref = mod(x)
        res = opt_mod(x)
        self.assertEqual(ref, res)

        if not TEST_WITH_CROSSREF:
            self.assertExpectedInline(
                normalize_gm(backend.graphs[0].print_readable(print_output=False)),
                """\
class GraphModule(tl.nn.Module):
    def forward(self, L_x_: "f32[8, 8]"):
        l_x_ = L_x_

        subgraph_0 = self.subgraph_0
        invoke_subgraph = backends_higher_order_invoke_subgraph(subgraph_0, 'subgraph_0', l_x_);  subgraph_0 = None
        getitem: "f32[8, 8]" = invoke_subgraph[0];  invoke_subgraph = None
        subgraph_1 = self.subgraph_0
        invoke_subgraph_1 = backends_higher_order_invoke_subgraph(subgraph_1, 'subgraph_0', l_x_);  subgraph_1 = None
        getitem_1: "f32[8, 8]" = invoke_subgraph_1[0];  invoke_subgraph_1 = None

        mul: "f32[8, 8]" = getitem * getitem_1;  getitem = getitem_1 = None
        add: "f32[8, 8]" = l_x_ + mul;  mul = None
        add_1: "f32[8, 8]" = add + l_x_;  add = l_x_ = None
        return (add_1,)

    class subgraph_0(tl.nn.Module):
        def forward(self, l_x_: "f32[8, 8]"):
            sin: "f32[8, 8]" = tl.sin(l_x_);  l_x_ = None
            return (sin,)
""",
            )

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_return_none_from_fwd
    @pytest.mark.xfail(strict=True, reason="AOT graphs carry no stack traces, so the forward graph has no blank line before add (the Dynamo and backward graphs match)")
    def test_return_none_from_fwd(self):
        @nested_compile_region
        def gn(x):
            return x * 2, None, x * 3

        def fn(x):
            ys = gn(x)
            return ys[0] + ys[2]

        opt_fn = md.compile(fn, backend="codegen", fullgraph=True)
        x = tl.randn(8, 8, requires_grad=True)
        x_clone = x.detach().clone().requires_grad_(True)

        ref = fn(x)
        res = opt_fn(x_clone)

        ref.sum().backward()
        res.sum().backward()

        self.assertEqual(ref, res)
        self.assertEqual(x.grad, x_clone.grad)

        backend = AotEagerAndRecordGraphs()

        opt_fn = md.compile(fn, backend=backend, fullgraph=True)

        x = tl.randn(8, 8, requires_grad=True)
        res = opt_fn(x_clone)
        res.sum().backward()

        self.assertEqual(len(backend.graphs), 1)
        self.assertEqual(len(backend.fw_graphs), 1)
        self.assertEqual(len(backend.bw_graphs), 1)
        self.count_unique_get_attr_nodes(backend.graphs[0], [], 1)
        self.count_unique_get_attr_nodes(backend.fw_graphs[0], [], 1)
        self.count_unique_get_attr_nodes(backend.bw_graphs[0], [], 1)

        if not TEST_WITH_CROSSREF:
            self.assertExpectedInline(
                normalize_gm(backend.graphs[0].print_readable(print_output=False)),
                """\
class GraphModule(tl.nn.Module):
    def forward(self, L_x_: "f32[8, 8]"):
        l_x_ = L_x_

        subgraph_0 = self.subgraph_0
        invoke_subgraph = backends_higher_order_invoke_subgraph(subgraph_0, 'subgraph_0', l_x_);  subgraph_0 = l_x_ = None
        getitem: "f32[8, 8]" = invoke_subgraph[0]
        getitem_1: "f32[8, 8]" = invoke_subgraph[1];  invoke_subgraph = None

        add: "f32[8, 8]" = getitem + getitem_1;  getitem = getitem_1 = None
        return (add,)

    class subgraph_0(tl.nn.Module):
        def forward(self, l_x_: "f32[8, 8]"):
            mul: "f32[8, 8]" = l_x_ * 2
            mul_1: "f32[8, 8]" = l_x_ * 3;  l_x_ = None
            return (mul, mul_1)
""",
            )

            self.assertExpectedInline(
                normalize_gm(backend.fw_graphs[0].print_readable(print_output=False)),
                """\
class GraphModule(tl.nn.Module):
    def forward(self, primals_1: "f32[8, 8]"):
        partitioned_fw_subgraph_0_0 = self.partitioned_fw_subgraph_0_0
        invoke_subgraph_2 = backends_higher_order_invoke_subgraph(partitioned_fw_subgraph_0_0, 'partitioned_fw_subgraph_0_0', primals_1);  partitioned_fw_subgraph_0_0 = primals_1 = None
        getitem: "f32[8, 8]" = invoke_subgraph_2[0]
        getitem_1: "f32[8, 8]" = invoke_subgraph_2[1];  invoke_subgraph_2 = None

        add: "f32[8, 8]" = tl.ops.add(getitem, getitem_1);  getitem = getitem_1 = None
        return (add,)

    class partitioned_fw_subgraph_0_0(tl.nn.Module):
        def forward(self, primals_0: "f32[8, 8]"):
            mul: "f32[8, 8]" = tl.ops.mul(primals_0, 2)
            mul_1: "f32[8, 8]" = tl.ops.mul(primals_0, 3);  primals_0 = None
            return (mul, mul_1)
""",
            )

            self.assertExpectedInline(
                normalize_gm(backend.bw_graphs[0].print_readable(print_output=False)),
                """\
class GraphModule(tl.nn.Module):
    def forward(self, tangents_1: "f32[8, 8]"):
        partitioned_bw_subgraph_0_0 = self.partitioned_bw_subgraph_0_0
        invoke_subgraph_3 = backends_higher_order_invoke_subgraph(partitioned_bw_subgraph_0_0, 'partitioned_bw_subgraph_0_0', tangents_1, tangents_1);  partitioned_bw_subgraph_0_0 = tangents_1 = None
        getitem_2: "f32[8, 8]" = invoke_subgraph_3[0];  invoke_subgraph_3 = None
        return (getitem_2,)

    class partitioned_bw_subgraph_0_0(tl.nn.Module):
        def forward(self, tangents_0: "f32[8, 8]", tangents_1: "f32[8, 8]"):
            mul_2: "f32[8, 8]" = tl.ops.mul(tangents_1, 3)
            mul_3: "f32[8, 8]" = tl.ops.mul(tangents_1, 2);  tangents_1 = None
            add: "f32[8, 8]" = tl.ops.add(mul_2, mul_3);  mul_2 = mul_3 = None
            return (add,)
""",
            )

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_dynamic
    def test_dynamic(self):
        @nested_compile_region
        def gn(x):
            return tl.sin(x)

        def fn(x):
            return gn(x) + gn(x)

        x = tl.randn(8, 8, requires_grad=True)
        md.mark_dynamic(x, 0)
        ref = fn(x)
        opt_fn = md.compile(fn, backend="codegen", fullgraph=True)
        res = opt_fn(x)
        self.assertEqual(ref, res)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_complex
    @pytest.mark.xfail(strict=True, reason="tensorlite has no complex dtypes (AttributeError: tl.complex64)")
    def test_complex(self):
        # Observed in Wan2.1
        @nested_compile_region
        def gn(x):
            return tl.sin(x)

        def fn(x):
            return gn(x) + gn(x)

        x = tl.randn(2, 2, dtype=tl.complex64)
        ref = fn(x)
        opt_fn = md.compile(fn, backend="codegen", fullgraph=True)
        res = opt_fn(x)
        self.assertEqual(ref, res)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_pending_unbacked
    @pytest.mark.xfail(strict=True, reason=SCALAR_OUTPUTS)
    @md.config.patch(capture_scalar_outputs=True)
    def test_pending_unbacked(self):
        @nested_compile_region
        def gn(x):
            u = x[0].item()
            return x * u

        def fn(x):
            return gn(x)

        x = tl.randn(8)
        md.mark_dynamic(x, 0)
        ref = fn(x)
        opt_fn = md.compile(
            fn, backend="eager", fullgraph=True
        )  # Inductor fails with cpp compilation error
        res = opt_fn(x)
        self.assertEqual(ref, res)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_unbacked1
    @pytest.mark.xfail(strict=True, reason=SCALAR_OUTPUTS)
    @md.config.patch(capture_scalar_outputs=True)
    def test_unbacked1(self):
        @nested_compile_region
        def gn(x, y):
            b = x.item()
            return y[:b].clone()

        def fn(x, y):
            return gn(x, y)

        x = tl.tensor(4)
        y = tl.randn(8)
        ref = fn(x, y)
        opt_fn = md.compile(
            fn, backend="eager", fullgraph=True
        )  # Inductor fails with assertion error when lowering aten.sym_constrain_range_for_size.default
        res = opt_fn(x, y)
        self.assertEqual(ref, res)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_unbacked2
    @pytest.mark.xfail(strict=True, reason=SCALAR_OUTPUTS + "; tl._check does not exist")
    @md.config.patch(capture_scalar_outputs=True)
    def test_unbacked2(self):
        @nested_compile_region
        def gn(x, y):
            b = x.item()
            tl._check(b >= 0)
            tl._check(b < y.shape[0])
            return y[:b].clone()

        def fn(x, y):
            return gn(x, y)

        x = tl.tensor(4)
        y = tl.randn(8)
        ref = fn(x, y)
        opt_fn = md.compile(
            fn, backend="eager", fullgraph=True
        )  # Inductor fails with assertion error when lowering aten.sym_constrain_range_for_size.default
        res = opt_fn(x, y)
        self.assertEqual(ref, res)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_bwd_partitioning
    @pytest.mark.xfail(strict=True, reason="tensorlite's matmul is one op (torch: mm, and t in the backward, so its partitioned forward saves t, t_1); the outer forward saves the region's output where PyTorch's min-cut aot_eager saves cos of it; AOT graphs carry no stack traces (no blank lines)")
    def test_bwd_partitioning(self):
        @nested_compile_region
        def gn(x, y):
            z = tl.matmul(x, y)
            return tl.sin(z)

        def fn(x, y):
            return tl.sin(gn(x, y))

        backend = AotEagerAndRecordGraphs()

        opt_fn = md.compile(fn, backend=backend, fullgraph=True)

        x = tl.randn(8, 8, requires_grad=True)
        y = tl.randn(8, 8, requires_grad=True)
        x_clone = x.detach().clone().requires_grad_(True)
        y_clone = y.detach().clone().requires_grad_(True)

        ref = fn(x, y)
        res = opt_fn(x_clone, y_clone)

        ref.sum().backward()
        res.sum().backward()

        self.assertEqual(ref, res)
        self.assertEqual(x.grad, x_clone.grad)
        self.assertEqual(y.grad, y_clone.grad)

        if not TEST_WITH_CROSSREF:
            self.assertExpectedInline(
                normalize_gm(backend.fw_graphs[0].print_readable(print_output=False)),
                """\
class GraphModule(tl.nn.Module):
    def forward(self, primals_1: "f32[8, 8]", primals_2: "f32[8, 8]"):
        partitioned_fw_subgraph_0_0 = self.partitioned_fw_subgraph_0_0
        invoke_subgraph_2 = backends_higher_order_invoke_subgraph(partitioned_fw_subgraph_0_0, 'partitioned_fw_subgraph_0_0', primals_1, primals_2);  partitioned_fw_subgraph_0_0 = primals_1 = primals_2 = None
        getitem_6: "f32[8, 8]" = invoke_subgraph_2[3]
        getitem_5: "f32[8, 8]" = invoke_subgraph_2[2]
        getitem_4: "f32[8, 8]" = invoke_subgraph_2[1]
        getitem: "f32[8, 8]" = invoke_subgraph_2[0];  invoke_subgraph_2 = None

        sin: "f32[8, 8]" = tl.ops.sin(getitem)
        cos: "f32[8, 8]" = tl.ops.cos(getitem);  getitem = None
        return (sin, getitem_6, getitem_5, getitem_4, cos)

    class partitioned_fw_subgraph_0_0(tl.nn.Module):
        def forward(self, primals_0: "f32[8, 8]", primals_1: "f32[8, 8]"):
            mm: "f32[8, 8]" = tl.ops.mm(primals_0, primals_1)

            sin: "f32[8, 8]" = tl.ops.sin(mm)

            t: "f32[8, 8]" = tl.ops.t(primals_0);  primals_0 = None
            t_1: "f32[8, 8]" = tl.ops.t(primals_1);  primals_1 = None
            return (sin, mm, t, t_1)
""",
            )

            self.assertExpectedInline(
                normalize_gm(backend.bw_graphs[0].print_readable(print_output=False)),
                """\
class GraphModule(tl.nn.Module):
    def forward(self, getitem_6: "f32[8, 8]", getitem_5: "f32[8, 8]", getitem_4: "f32[8, 8]", cos: "f32[8, 8]", tangents_1: "f32[8, 8]"):
        mul: "f32[8, 8]" = tl.ops.mul(tangents_1, cos);  tangents_1 = cos = None

        partitioned_bw_subgraph_0_0 = self.partitioned_bw_subgraph_0_0
        invoke_subgraph_3 = backends_higher_order_invoke_subgraph(partitioned_bw_subgraph_0_0, 'partitioned_bw_subgraph_0_0', getitem_4, getitem_5, getitem_6, mul);  partitioned_bw_subgraph_0_0 = getitem_4 = getitem_5 = getitem_6 = mul = None
        getitem_1: "f32[8, 8]" = invoke_subgraph_3[0]
        getitem_2: "f32[8, 8]" = invoke_subgraph_3[1];  invoke_subgraph_3 = None
        return (getitem_1, getitem_2)

    class partitioned_bw_subgraph_0_0(tl.nn.Module):
        def forward(self, mm: "f32[8, 8]", t: "f32[8, 8]", t_1: "f32[8, 8]", tangents_0: "f32[8, 8]"):
            cos: "f32[8, 8]" = tl.ops.cos(mm);  mm = None
            mul: "f32[8, 8]" = tl.ops.mul(tangents_0, cos);  tangents_0 = cos = None

            mm_1: "f32[8, 8]" = tl.ops.mm(t, mul);  t = None
            mm_2: "f32[8, 8]" = tl.ops.mm(mul, t_1);  mul = t_1 = None
            return (mm_2, mm_1)
""",
            )

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_const_tensor
    def test_const_tensor(self):
        @nested_compile_region
        def gn(x):
            return tl.tensor(64, dtype=tl.float32) * x

        def fn(x):
            return gn(x) + gn(x)

        x = tl.randn(64, requires_grad=True)

        opt_fn = md.compile(fn, backend="aot_eager", fullgraph=True)

        ref = fn(x)
        res = opt_fn(x)
        self.assertEqual(ref, res)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_ac
    def test_ac(self):
        def fn1(x):
            return tl.cos(x)

        @nested_compile_region
        def fn1_checkpoint(x):
            return tl.utils.checkpoint.checkpoint(fn1, x, use_reentrant=False)

        def fn2(x):
            return tl.sin(x)

        @nested_compile_region
        def fn2_checkpoint(x):
            return tl.utils.checkpoint.checkpoint(fn2, x, use_reentrant=False)

        def fn(x):
            return (
                fn1_checkpoint(x)
                # repeat the same fn1_checkpoint to see that we dedupe
                + fn1_checkpoint(x)
                # Check that a new fn2_checkpoint goes through a different HOP
                + fn2_checkpoint(x)
            )

        x = tl.randn(8, requires_grad=True)
        ref = fn(x)

        x_clone = x.clone().detach().requires_grad_(True)
        backend = AotEagerAndRecordGraphs()
        res = md.compile(fn, backend=backend, fullgraph=True)(x_clone)

        # Run backward
        ref.sum().backward()
        res.sum().backward()

        self.assertEqual(ref, res)
        self.assertEqual(x.grad, x_clone.grad)

        # Check that the Dynamo and AOT graphs have just one subgraph module
        self.assertEqual(len(backend.graphs), 1)
        self.assertEqual(len(backend.fw_graphs), 1)
        self.assertEqual(len(backend.bw_graphs), 1)
        self.count_unique_get_attr_nodes(backend.graphs[0], [], 2)
        self.count_unique_get_attr_nodes(backend.fw_graphs[0], [], 2)
        self.count_unique_get_attr_nodes(backend.bw_graphs[0], [], 2)

        res = md.compile(fn, backend="codegen", fullgraph=True)(x_clone)
        self.assertEqual(ref, res)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_ac_rng
    # Upstream decorates this with torch._inductor.config.patch(fallback_random=True) (Inductor's
    # random ops draw from eager's generator); codegen has no such option because it never compiles
    # random ops: it calls tensorlite's, eager's generator.
    def test_ac_rng(self):
        def fn1(x):
            return tl.cos(tl.nn.functional.dropout(x, p=0.5))

        @nested_compile_region
        def fn1_checkpoint(x):
            return tl.utils.checkpoint.checkpoint(fn1, x, use_reentrant=False)

        def fn(x):
            return fn1_checkpoint(x) + fn1_checkpoint(x)

        x = tl.randn(8, requires_grad=True)
        tl.manual_seed(0)
        ref = fn(x)
        ref.sum().backward()

        x_clone = x.clone().detach().requires_grad_(True)
        backend = AotEagerAndRecordGraphs()

        tl.manual_seed(0)
        res = md.compile(fn, backend=backend, fullgraph=True)(x_clone)
        res.sum().backward()

        self.assertEqual(ref, res)
        self.assertEqual(x.grad, x_clone.grad)

        # Check that the Dynamo and AOT graphs have just one subgraph module
        self.assertEqual(len(backend.graphs), 1)
        self.assertEqual(len(backend.fw_graphs), 1)
        self.assertEqual(len(backend.bw_graphs), 1)

        tl.manual_seed(0)
        res = md.compile(fn, backend="codegen", fullgraph=True)(x_clone)
        self.assertEqual(ref, res)
        res.sum().backward()

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_fake_tensor_checking
    def test_fake_tensor_checking(self):
        @nested_compile_region
        def gn(x):
            return tl.sin(x)

        def fn(x, y):
            # x and y are different shapes, so we should use different graph
            return gn(x), gn(y)

        backend = AotEagerAndRecordGraphs()

        opt_fn = md.compile(fn, backend=backend, fullgraph=True)

        x = tl.randn(8, 8, requires_grad=True)
        y = tl.randn(16, 16, requires_grad=True)

        ref = fn(x, y)
        res = opt_fn(x, y)

        self.assertEqual(ref, res)

        if not TEST_WITH_CROSSREF:
            self.assertExpectedInline(
                normalize_gm(backend.graphs[0].print_readable(print_output=False)),
                """\
class GraphModule(tl.nn.Module):
    def forward(self, L_x_: "f32[8, 8]", L_y_: "f32[16, 16]"):
        l_x_ = L_x_
        l_y_ = L_y_

        subgraph_0 = self.subgraph_0
        invoke_subgraph = backends_higher_order_invoke_subgraph(subgraph_0, 'subgraph_0', l_x_);  subgraph_0 = l_x_ = None
        getitem: "f32[8, 8]" = invoke_subgraph[0];  invoke_subgraph = None
        subgraph_1 = self.subgraph_1
        invoke_subgraph_1 = backends_higher_order_invoke_subgraph(subgraph_1, 'subgraph_1', l_y_);  subgraph_1 = l_y_ = None
        getitem_1: "f32[16, 16]" = invoke_subgraph_1[0];  invoke_subgraph_1 = None
        return (getitem, getitem_1)

    class subgraph_0(tl.nn.Module):
        def forward(self, l_x_: "f32[8, 8]"):
            sin: "f32[8, 8]" = tl.sin(l_x_);  l_x_ = None
            return (sin,)

    class subgraph_1(tl.nn.Module):
        def forward(self, l_y_: "f32[16, 16]"):
            sin: "f32[16, 16]" = tl.sin(l_y_);  l_y_ = None
            return (sin,)
""",
            )

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_return_size
    def test_return_size(self):
        def run(dynamic):
            md.reset()

            @nested_compile_region
            def gn(x):
                y = x + 1
                z = x.shape
                return y, z

            def fn(x):
                z0 = gn(x)
                z1 = gn(x)
                return z0[0] + z1[0], z0[1]

            x = tl.randn(8, 8, requires_grad=True)
            x_clone = x.detach().clone().requires_grad_(True)
            ref = fn(x)
            opt_fn = md.compile(
                fn, backend="codegen", fullgraph=True, dynamic=dynamic
            )
            res = opt_fn(x_clone)
            self.assertEqual(ref, res)

            ref[0].sum().backward()
            res[0].sum().backward()
            self.assertEqual(x.grad, x_clone.grad)

        run(dynamic=True)
        run(dynamic=False)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_different_symint
    @pytest.mark.xfail(strict=True, reason=NO_SYMBOLIC)
    def test_different_symint(self):
        """
        Tests check that the same subgraph called with different symints use different graphs
        """

        @nested_compile_region
        def gn(x):
            return tl.sin(x)

        def fn(x):
            a = gn(x)
            # Get first half of the tensor
            b = tl.narrow(a, 0, 0, a.size()[0] // 2)
            return gn(b)

        opt_fn = md.compile(fn, backend="codegen", fullgraph=True)

        x = tl.randn(8, 8, requires_grad=True)
        md.mark_dynamic(x, 0)

        ref = fn(x)
        res = opt_fn(x)
        md.reset()

        backend = AotEagerAndRecordGraphs()

        opt_fn = md.compile(fn, backend=backend, fullgraph=True)

        x = tl.randn(8, 8, requires_grad=True)
        md.mark_dynamic(x, 0)

        ref = fn(x)
        res = opt_fn(x)

        self.assertEqual(ref, res)

        if not TEST_WITH_CROSSREF:
            self.assertExpectedInline(
                normalize_gm(backend.graphs[0].print_readable(print_output=False)),
                """\
class GraphModule(tl.nn.Module):
    def forward(self, s77: "Sym(s77)", L_x_: "f32[s77, 8]"):
        l_x_ = L_x_

        subgraph_0 = self.subgraph_0
        invoke_subgraph = backends_higher_order_invoke_subgraph(subgraph_0, 'subgraph_0', s77, l_x_);  subgraph_0 = l_x_ = None
        a: "f32[s77, 8]" = invoke_subgraph[0];  invoke_subgraph = None

        floordiv: "Sym((s77//2))" = s77 // 2
        b: "f32[(s77//2), 8]" = tl.narrow(a, 0, 0, floordiv);  a = floordiv = None

        subgraph_1 = self.subgraph_1
        invoke_subgraph_1 = backends_higher_order_invoke_subgraph(subgraph_1, 'subgraph_1', s77, b);  subgraph_1 = s77 = b = None
        getitem_3: "f32[(s77//2), 8]" = invoke_subgraph_1[0];  invoke_subgraph_1 = None
        return (getitem_3,)

    class subgraph_0(tl.nn.Module):
        def forward(self, s77: "Sym(s77)", l_x_: "f32[s77, 8]"):
            sin: "f32[s77, 8]" = tl.sin(l_x_);  l_x_ = None
            return (sin,)

    class subgraph_1(tl.nn.Module):
        def forward(self, s77: "Sym(s77)", b: "f32[(s77//2), 8]"):
            sin: "f32[(s77//2), 8]" = tl.sin(b);  b = None
            return (sin,)
""",
            )

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_autograd_function
    @pytest.mark.xfail(strict=True, reason="Function.apply is one tensorlite_autograd_function_Function_apply call (torch: autograd_function_apply HOP with fwd_body_0/bwd_body_0)")
    def test_autograd_function(self):
        class CustomOp(tl.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return tl.sin(x)

            @staticmethod
            def backward(ctx, grad_out):
                (x,) = ctx.saved_tensors
                return x * tl.cos(grad_out)

        @nested_compile_region
        def gn(x):
            return CustomOp.apply(x)

        def fn(x):
            return gn(x) + gn(x)

        backend = AotEagerAndRecordGraphs()

        opt_fn = md.compile(fn, backend=backend, fullgraph=True)

        x = tl.randn(8, 8, requires_grad=True)
        x_clone = x.detach().clone().requires_grad_(True)

        ref = fn(x)
        res = opt_fn(x_clone)

        ref.sum().backward()
        res.sum().backward()

        self.assertEqual(ref, res)
        self.assertEqual(x.grad, x_clone.grad)

        if not TEST_WITH_CROSSREF:
            self.assertExpectedInline(
                normalize_gm(backend.graphs[0].print_readable(print_output=False)),
                """\
class GraphModule(tl.nn.Module):
    def forward(self, L_x_: "f32[8, 8]"):
        l_x_ = L_x_

        subgraph_0 = self.subgraph_0
        invoke_subgraph = backends_higher_order_invoke_subgraph(subgraph_0, 'subgraph_0', l_x_);  subgraph_0 = None
        getitem: "f32[8, 8]" = invoke_subgraph[0];  invoke_subgraph = None
        subgraph_1 = self.subgraph_0
        invoke_subgraph_1 = backends_higher_order_invoke_subgraph(subgraph_1, 'subgraph_0', l_x_);  subgraph_1 = l_x_ = None
        getitem_1: "f32[8, 8]" = invoke_subgraph_1[0];  invoke_subgraph_1 = None

        add: "f32[8, 8]" = getitem + getitem_1;  getitem = getitem_1 = None
        return (add,)

    class subgraph_0(tl.nn.Module):
        def forward(self, l_x_: "f32[8, 8]"):
            fwd_body_0 = self.fwd_body_0
            bwd_body_0 = self.bwd_body_0
            autograd_function_apply: "f32[8, 8]" = tl.ops.higher_order.autograd_function_apply(fwd_body_0, bwd_body_0, l_x_, args_tensor_mask = [True], non_differentiable_idx = []);  fwd_body_0 = bwd_body_0 = l_x_ = None
            return (autograd_function_apply,)

        class fwd_body_0(tl.nn.Module):
            def forward(self, ctx : tl.autograd.function.Function, x: "f32[8, 8]"):
                _set_grad_enabled = tl._C._set_grad_enabled(False);  _set_grad_enabled = None

                sin: "f32[8, 8]" = tl.sin(x)

                _set_grad_enabled_1 = tl._C._set_grad_enabled(True);  _set_grad_enabled_1 = None
                return (sin, [x])

        class bwd_body_0(tl.nn.Module):
            def forward(self, ctx : tl.autograd.function.Function, grad_out: "f32[8, 8]", x: "f32[8, 8]"):
                _set_grad_enabled = tl._C._set_grad_enabled(False);  _set_grad_enabled = None

                cos: "f32[8, 8]" = tl.cos(grad_out);  grad_out = None
                mul: "f32[8, 8]" = x * cos;  x = cos = None

                _set_grad_enabled_1 = tl._C._set_grad_enabled(True);  _set_grad_enabled_1 = None
                return mul
""",
            )

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_unbacked_symbol
    @pytest.mark.xfail(strict=True, reason="md.config has no option capture_dynamic_output_shape_ops (AttributeError); tl.nonzero does not exist")
    @md.config.patch(capture_dynamic_output_shape_ops=True)
    def test_unbacked_symbol(self):
        @nested_compile_region
        def gn(x):
            return tl.sin(tl.nonzero(x))

        def fn(x):
            return gn(x) + gn(x)

        x = tl.randn(64, 1, requires_grad=True)

        # Inductor fails with a lowering error
        opt_fn = md.compile(fn, backend="aot_eager", fullgraph=True)

        ref = fn(x)
        res = opt_fn(x)
        self.assertEqual(ref, res)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_different_strides_in_backward
    @pytest.mark.xfail(strict=True, reason=NO_SYMBOLIC)
    def test_different_strides_in_backward(self):
        @nested_compile_region
        def gn(x):
            return tl.cos(x)

        def fn(x):
            a = gn(x)
            a2 = gn(a)
            b = tl.sin(a2)
            c = gn(b)
            c2 = gn(c)
            return c.sum() + c2.sum()

        opt_fn = md.compile(fn, backend="codegen", fullgraph=True)

        x = tl.randn(8, 16, requires_grad=True)
        md.mark_dynamic(x, 0)
        x_clone = x.detach().clone().requires_grad_(True)
        md.mark_dynamic(x_clone, 0)

        ref = fn(x)
        res = opt_fn(x_clone)

        ref.sum().backward()
        res.sum().backward()

        self.assertEqual(ref, res)

        md.reset()
        backend = AotEagerAndRecordGraphs()
        opt_fn = md.compile(fn, backend=backend, fullgraph=True)

        x = tl.randn(8, 16, requires_grad=True)
        md.mark_dynamic(x, 0)
        x_clone = x.detach().clone().requires_grad_(True)
        md.mark_dynamic(x_clone, 0)
        ref = fn(x)
        res = opt_fn(x_clone)

        ref.sum().backward()
        res.sum().backward()

        self.assertEqual(ref, res)
        self.assertEqual(x.grad, x_clone.grad)

        if not TEST_WITH_CROSSREF:
            self.assertExpectedInline(
                normalize_gm(backend.fw_graphs[0].print_readable(print_output=False)),
                """\
class GraphModule(tl.nn.Module):
    def forward(self, primals_1: "Sym(s77)", primals_2: "f32[s77, 16]"):
        partitioned_fw_subgraph_0_1 = self.partitioned_fw_subgraph_0_1
        invoke_subgraph_8 = backends_higher_order_invoke_subgraph(partitioned_fw_subgraph_0_1, 'partitioned_fw_subgraph_0_1', primals_1, primals_2);  partitioned_fw_subgraph_0_1 = primals_2 = None
        getitem_17: "Sym(s77)" = invoke_subgraph_8[2]
        getitem_16: "f32[s77, 16]" = invoke_subgraph_8[1]
        getitem: "f32[s77, 16]" = invoke_subgraph_8[0];  invoke_subgraph_8 = None

        partitioned_fw_subgraph_0_2 = self.partitioned_fw_subgraph_0_1
        invoke_subgraph_10 = backends_higher_order_invoke_subgraph(partitioned_fw_subgraph_0_2, 'partitioned_fw_subgraph_0_1', primals_1, getitem);  partitioned_fw_subgraph_0_2 = getitem = None
        getitem_19: "Sym(s77)" = invoke_subgraph_10[2]
        getitem_18: "f32[s77, 16]" = invoke_subgraph_10[1]
        getitem_1: "f32[s77, 16]" = invoke_subgraph_10[0];  invoke_subgraph_10 = None

        sin: "f32[s77, 16]" = tl.ops.sin(getitem_1)

        partitioned_fw_subgraph_0_3 = self.partitioned_fw_subgraph_0_1
        invoke_subgraph_12 = backends_higher_order_invoke_subgraph(partitioned_fw_subgraph_0_3, 'partitioned_fw_subgraph_0_1', primals_1, sin);  partitioned_fw_subgraph_0_3 = sin = None
        getitem_21: "Sym(s77)" = invoke_subgraph_12[2]
        getitem_20: "f32[s77, 16]" = invoke_subgraph_12[1]
        getitem_2: "f32[s77, 16]" = invoke_subgraph_12[0];  invoke_subgraph_12 = None

        partitioned_fw_subgraph_0_0 = self.partitioned_fw_subgraph_0_0
        invoke_subgraph_14 = backends_higher_order_invoke_subgraph(partitioned_fw_subgraph_0_0, 'partitioned_fw_subgraph_0_0', primals_1, getitem_2);  partitioned_fw_subgraph_0_0 = None
        getitem_23: "Sym(s77)" = invoke_subgraph_14[2]
        getitem_22: "f32[s77, 16]" = invoke_subgraph_14[1]
        getitem_3: "f32[s77, 16]" = invoke_subgraph_14[0];  invoke_subgraph_14 = None

        sum_1: "f32[]" = tl.ops.sum(getitem_2);  getitem_2 = None
        sum_2: "f32[]" = tl.ops.sum(getitem_3);  getitem_3 = None
        add_15: "f32[]" = tl.ops.add(sum_1, sum_2);  sum_1 = sum_2 = None

        cos: "f32[s77, 16]" = tl.ops.cos(getitem_1);  getitem_1 = None
        return (add_15, getitem_16, getitem_18, getitem_20, getitem_22, cos, primals_1, getitem_17, getitem_19, getitem_21, getitem_23)

    class partitioned_fw_subgraph_0_1(tl.nn.Module):
        def forward(self, primals_0: "Sym(s77)", primals_1: "f32[s77, 16]"):
            cos: "f32[s77, 16]" = tl.ops.cos(primals_1)
            return (cos, primals_1, primals_0)

    class partitioned_fw_subgraph_0_0(tl.nn.Module):
        def forward(self, primals_0: "Sym(s77)", primals_1: "f32[s77, 16]"):
            cos: "f32[s77, 16]" = tl.ops.cos(primals_1)
            return (cos, primals_1, primals_0)
""",
                ignore_empty_lines=True,
            )
            self.assertExpectedInline(
                normalize_gm(backend.bw_graphs[0].print_readable(print_output=False)),
                """\
class GraphModule(tl.nn.Module):
    def forward(self, primals_1: "Sym(s77)", getitem_17: "Sym(s77)", getitem_19: "Sym(s77)", getitem_21: "Sym(s77)", getitem_23: "Sym(s77)", getitem_16: "f32[s77, 16]", getitem_18: "f32[s77, 16]", getitem_20: "f32[s77, 16]", getitem_22: "f32[s77, 16]", cos: "f32[s77, 16]", tangents_1: "f32[]"):
        expand: "f32[s77, 16]" = tl.ops.expand(tangents_1, [primals_1, 16]);  tangents_1 = primals_1 = None

        partitioned_bw_subgraph_0_0 = self.partitioned_bw_subgraph_0_0
        invoke_subgraph_15 = backends_higher_order_invoke_subgraph(partitioned_bw_subgraph_0_0, 'partitioned_bw_subgraph_0_0', getitem_23, getitem_22, expand);  partitioned_bw_subgraph_0_0 = getitem_23 = getitem_22 = None
        getitem_5: "f32[s77, 16]" = invoke_subgraph_15[1];  invoke_subgraph_15 = None
        add_16: "f32[s77, 16]" = tl.ops.add(expand, getitem_5);  expand = getitem_5 = None

        partitioned_bw_subgraph_0_3 = self.partitioned_bw_subgraph_0_1
        invoke_subgraph_13 = backends_higher_order_invoke_subgraph(partitioned_bw_subgraph_0_3, 'partitioned_bw_subgraph_0_1', getitem_21, getitem_20, add_16);  partitioned_bw_subgraph_0_3 = getitem_21 = getitem_20 = add_16 = None
        getitem_8: "f32[s77, 16]" = invoke_subgraph_13[1];  invoke_subgraph_13 = None

        mul_10: "f32[s77, 16]" = tl.ops.mul(getitem_8, cos);  getitem_8 = cos = None

        partitioned_bw_subgraph_0_2 = self.partitioned_bw_subgraph_0_1
        invoke_subgraph_11 = backends_higher_order_invoke_subgraph(partitioned_bw_subgraph_0_2, 'partitioned_bw_subgraph_0_1', getitem_19, getitem_18, mul_10);  partitioned_bw_subgraph_0_2 = getitem_19 = getitem_18 = mul_10 = None
        getitem_11: "f32[s77, 16]" = invoke_subgraph_11[1];  invoke_subgraph_11 = None

        partitioned_bw_subgraph_0_1 = self.partitioned_bw_subgraph_0_1
        invoke_subgraph_9 = backends_higher_order_invoke_subgraph(partitioned_bw_subgraph_0_1, 'partitioned_bw_subgraph_0_1', getitem_17, getitem_16, getitem_11);  partitioned_bw_subgraph_0_1 = getitem_17 = getitem_16 = getitem_11 = None
        getitem_14: "f32[s77, 16]" = invoke_subgraph_9[1];  invoke_subgraph_9 = None
        return (None, getitem_14)

    class partitioned_bw_subgraph_0_0(tl.nn.Module):
        def forward(self, primals_0: "Sym(s77)", primals_1: "f32[s77, 16]", tangents_0: "f32[s77, 16]"):
            sin: "f32[s77, 16]" = tl.ops.sin(primals_1);  primals_1 = None
            neg: "f32[s77, 16]" = tl.ops.neg(sin);  sin = None
            mul_9: "f32[s77, 16]" = tl.ops.mul(tangents_0, neg);  tangents_0 = neg = None
            return (None, mul_9)

    class partitioned_bw_subgraph_0_1(tl.nn.Module):
        def forward(self, primals_0: "Sym(s77)", primals_1: "f32[s77, 16]", tangents_0: "f32[s77, 16]"):
            sin: "f32[s77, 16]" = tl.ops.sin(primals_1);  primals_1 = None
            neg: "f32[s77, 16]" = tl.ops.neg(sin);  sin = None
            mul_10: "f32[s77, 16]" = tl.ops.mul(tangents_0, neg);  tangents_0 = neg = None
            return (None, mul_10)
""",
                ignore_empty_lines=True,
            )

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_div
    @pytest.mark.xfail(strict=True, reason="tl.div has no rounding_mode argument (TypeError)")
    def test_div(self):
        @nested_compile_region
        def gn(x):
            div = tl.div(1024, 256, rounding_mode="trunc")
            return div * tl.ones(64, div) * x

        def fn(x):
            return gn(x)

        x = tl.randn(64, 1, requires_grad=True)

        opt_fn = md.compile(fn, backend="codegen", fullgraph=True)

        ref = fn(x)
        res = opt_fn(x)
        self.assertEqual(ref, res)

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_udf_output
    def test_udf_output(self):
        class Foo:
            def __init__(self, a, b):
                self.a = a
                self.b = b

        @nested_compile_region
        def gn(x, y):
            a = tl.sin(x)
            b = tl.cos(y)
            return Foo(a, b)

        def fn(x, y):
            foo1 = gn(x, y)
            foo2 = gn(foo1.a, y)
            return foo1.b + foo2.a  # + foo2.b

        backend = AotEagerAndRecordGraphs()

        opt_fn = md.compile(fn, backend=backend, fullgraph=True)

        x = tl.randn(8, 8, requires_grad=True)
        y = tl.randn(8, 8, requires_grad=True)
        x_clone = x.detach().clone().requires_grad_(True)
        y_clone = y.detach().clone().requires_grad_(True)

        ref = fn(x, y)
        res = opt_fn(x_clone, y_clone)

        ref.sum().backward()
        res.sum().backward()

        self.assertEqual(ref, res)
        self.assertEqual(x.grad, x_clone.grad)

        if not TEST_WITH_CROSSREF:
            self.assertExpectedInline(
                normalize_gm(backend.graphs[0].print_readable(print_output=False)),
                """\
class GraphModule(tl.nn.Module):
    def forward(self, L_x_: "f32[8, 8]", L_y_: "f32[8, 8]"):
        l_x_ = L_x_
        l_y_ = L_y_

        subgraph_0 = self.subgraph_0
        invoke_subgraph = backends_higher_order_invoke_subgraph(subgraph_0, 'subgraph_0', l_x_, l_y_);  subgraph_0 = l_x_ = None
        getitem: "f32[8, 8]" = invoke_subgraph[0]
        getitem_1: "f32[8, 8]" = invoke_subgraph[1];  invoke_subgraph = None
        subgraph_1 = self.subgraph_0
        invoke_subgraph_1 = backends_higher_order_invoke_subgraph(subgraph_1, 'subgraph_0', getitem, l_y_);  subgraph_1 = getitem = l_y_ = None
        getitem_2: "f32[8, 8]" = invoke_subgraph_1[0];  invoke_subgraph_1 = None

        add: "f32[8, 8]" = getitem_1 + getitem_2;  getitem_1 = getitem_2 = None
        return (add,)

    class subgraph_0(tl.nn.Module):
        def forward(self, l_x_: "f32[8, 8]", l_y_: "f32[8, 8]"):
            a: "f32[8, 8]" = tl.sin(l_x_);  l_x_ = None

            b: "f32[8, 8]" = tl.cos(l_y_);  l_y_ = None
            return (a, b)
""",
            )

    # Source: test/higher_order_ops/test_invoke_subgraph.py::TestInvokeSubgraphCompile::test_grad_accuracy_check
    # Upstream: "# High piority - grads are wrong" and @unittest.expectedFailure (torch's gradients
    # are wrong); here they are right, so the test runs.
    def test_grad_accuracy_check(self):
        class Foo:
            def __init__(self, a, b):
                self.a = a
                self.b = b

        @nested_compile_region
        def gn(x):
            a = tl.sin(x)
            b = tl.cos(x)
            return (a, b)

        def fn(x):
            foo1 = gn(x)
            foo2 = gn(foo1[0])
            return foo1[1] + foo2[0] + foo2[1]

        backend = AotEagerAndRecordGraphs()

        opt_fn = md.compile(fn, backend=backend, fullgraph=True)

        x = tl.randn(8, 8, requires_grad=True)
        x_clone = x.detach().clone().requires_grad_(True)
        x.grad = None
        x_clone.grad = None

        ref = fn(x)
        res = opt_fn(x_clone)

        ref.sum().backward()
        res.sum().backward()

        self.assertEqual(ref, res)
        self.assertEqual(x.grad, x_clone.grad)


class NegativeTesting(TestCase):
    # Source: test/higher_order_ops/test_invoke_subgraph.py::NegativeTesting::test_graph_break
    def test_graph_break(self):
        @nested_compile_region
        def gn(x):
            md.graph_break()
            return tl.cos(x)

        def fn(x):
            return gn(x)

        x = tl.randn(8, 8, requires_grad=True)

        with self.assertRaisesRegex(
            RuntimeError,
            "torch.compile requires the `nested_compile_region` decorated function to be capturable into a single graph",
        ):
            md.compile(fn, backend="eager")(x)


if __name__ == "__main__":
    unittest.main()
