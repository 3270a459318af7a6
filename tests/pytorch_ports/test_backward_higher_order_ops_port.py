"""Ports of PyTorch's test/dynamo/test_backward_higher_order_ops.py, as PyTorch wrote them with
only the names changed (torch -> tl, torch._dynamo -> md, torch.compile -> md.compile,
backend "inductor" -> "codegen", torch._inductor.compile -> backends.codegen.codegen,
compiled_autograd._enable -> md.compiled_autograd.enable). Each port names its source."""
# flake8: noqa: B950

import functools

import pytest

import backends.codegen as inductor
import minidynamo as md
import minidynamo.testing
import minidynamo.utils
import tensorlite as tl
from fxlite import make_fx
from minidynamo import compiled_autograd
from minidynamo import trace_wrapped
from minidynamo.testing import normalize_gm
from tests.pytorch_ports.common import TestCase


def _multiply(x):
    return x * x


def _multiply_invoke(grad):
    return trace_wrapped(grad, fn=_multiply)


class BackwardHigherOrderOpTests(TestCase):
    # Source: test/dynamo/test_backward_higher_order_ops.py::BackwardHigherOrderOpTests::test_invoke_in_eager
    def test_invoke_in_eager(self):
        x = tl.tensor([0.5, 0.5], requires_grad=True)
        y = tl.tensor([0.5, 0.5], requires_grad=True)

        def fn(x, y):
            x.register_hook(_multiply_invoke)
            return x * y

        out = fn(x, y)
        grad_out = tl.tensor([2.0, 2.0])
        out.backward(grad_out)
        self.assertEqual(x.grad, y * grad_out)

    # Source: test/dynamo/test_backward_higher_order_ops.py::BackwardHigherOrderOpTests::test_invoke_in_pt2
    def test_invoke_in_pt2(self):
        for backend in ["eager", "aot_eager", "codegen"]:
            md.reset()
            x = tl.tensor([0.5, 0.5], requires_grad=True)
            y = tl.tensor([0.5, 0.5], requires_grad=True)

            def fn(x, y):
                x.register_hook(_multiply_invoke)
                return x * y

            fn = md.compile(fn, backend=backend)
            out = fn(x, y)
            grad_out = tl.tensor([2.0, 2.0])
            out.backward(grad_out)
            self.assertEqual(x.grad, grad_out * y)

    # Source: test/dynamo/test_backward_higher_order_ops.py::BackwardHigherOrderOpTests::test_invoke_make_fx_forward_contrived
    def test_invoke_make_fx_forward_contrived(self):
        x = tl.tensor([0.5, 0.5], requires_grad=True)
        out = make_fx(_multiply_invoke)(x)
        self.assertEqual(out(x), tl.tensor([0.25, 0.25]))
        actual = normalize_gm(out.print_readable(False))
        # PyTorch's torch._dynamo._trace_wrapped_higher_order_op.self_invoke is this project's
        # backends.aot.trace_wrapped.self_invoke (the module that holds trace_wrapped).
        self.assertExpectedInline(
            actual,
            """\
class _multiply_invoke(tl.nn.Module):
    def forward(self, grad_1: "f32[2]"):
        trace_wrapped: "f32[2]" = backends_aot_trace_wrapped_self_invoke(grad_1);  grad_1 = None
        return trace_wrapped
""",
        )

    # Source: test/dynamo/test_backward_higher_order_ops.py::BackwardHigherOrderOpTests::test_invoke_make_bw
    def test_invoke_make_bw(self):
        x = tl.tensor([0.5, 0.5], requires_grad=True)

        def fwd(x):
            z = x * x
            return z + z

        res = fwd(x)
        res.backward(tl.tensor([1.0, 1.0]))
        out = make_fx(_multiply_invoke)(x.grad)
        self.assertEqual(out(x.grad), tl.tensor([4.0, 4.0]))
        actual = normalize_gm(out.print_readable(False))

        # PyTorch's torch._dynamo._trace_wrapped_higher_order_op.self_invoke is this project's
        # backends.aot.trace_wrapped.self_invoke (the module that holds trace_wrapped).
        self.assertExpectedInline(
            actual,
            """\
class _multiply_invoke(tl.nn.Module):
    def forward(self, grad_1: "f32[2]"):
        trace_wrapped: "f32[2]" = backends_aot_trace_wrapped_self_invoke(grad_1);  grad_1 = None
        return trace_wrapped
""",
        )

    # Source: test/dynamo/test_backward_higher_order_ops.py::BackwardHigherOrderOpTests::test_invoke_in_pt2_compiled_autograd
    # PyTorch decorates this test with
    #   @torch._functorch.config.patch(guess_tangent_strides_as_outputs=True)
    #   @mock.patch("torch._functorch.aot_autograd.AOT_COUNTER", new_callable=itertools.count)
    # (tangent-stride guessing and the numbering of AOT graphs, "aot1_tangents_1"); this
    # project has no strides and no AOT graph counter, so there is nothing to patch and the
    # mock argument `_` is given a default.
    @pytest.mark.xfail(strict=True, reason="minidynamo's graph of the captured backward is forward(self, s0: Sym(s0), L_args_0_: f32[s0]) with result = l_args_0_ * l_args_0_ and gradient accumulation inlined (clone outputs, .grad assignments replayed after the graph): minidynamo gives each tensor of the inputs list its own placeholder (no L_inputs_ : list with getitems) and there is no sizes input; the capture validates gradients while it runs (no validate_outputs node), runs the AOT backward graph op by op (no call_aot_bwd_prologue, no aot1_ names) and records accumulation as accumulate_grad_ calls (no AccumulateGrad op)")
    def test_invoke_in_pt2_compiled_autograd(self, _=None):
        graph = None

        def compiler_fn(gm):
            def inner_compiler(gm_, example_inputs_):
                nonlocal graph
                self.assertEqual(graph, None)
                graph = gm_
                return inductor.codegen(gm_, example_inputs_)

            return md.compile(
                gm, backend=inner_compiler, fullgraph=True, dynamic=True
            )

        for backend in ["eager", "aot_eager", "codegen"]:
            md.reset()
            x = tl.tensor([0.5, 0.5], requires_grad=True)
            y = tl.tensor([0.5, 0.5], requires_grad=True)

            def fn(x, y):
                x.register_hook(_multiply_invoke)
                return x + y

            fn = md.compile(fn, backend=backend)
            out = fn(x, y)
            grad_out = tl.tensor([2.0, 2.0])
            with compiled_autograd.enable(compiler_fn):
                out.backward(grad_out)
            actual = normalize_gm(graph.print_readable(False))
            self.assertEqual(x.grad, grad_out * grad_out)
            if backend == "aot_eager":
                self.assertExpectedInline(
                    actual,
                    """\
class GraphModule(tl.nn.Module):
    def forward(self, L_inputs_ : list, L_sizes_0_: "f32[0, 2]"):
        l_inputs_ = L_inputs_
        l_sizes_0_ = L_sizes_0_

        getitem: "f32[2]" = l_inputs_[0]
        getitem_1: "f32[2]" = l_inputs_[1]
        getitem_2: "f32[2]" = l_inputs_[2];  l_inputs_ = None

        size: "Sym(2)" = l_sizes_0_.size(1);  l_sizes_0_ = None

        validate_outputs = torch__dynamo_compiled_autograd_ops_validate_outputs([getitem], [((None, None, device(type='cpu'), 6, 0, None), [size], False, 6)]);  getitem = size = None
        getitem_9: "f32[2]" = validate_outputs[0];  validate_outputs = None

        call_aot_bwd_prologue = torch__dynamo_compiled_autograd_call_aot_bwd_prologue((), [], [], getitem_9);  getitem_9 = None
        aot1_tangents_1: "f32[2]" = call_aot_bwd_prologue[0];  call_aot_bwd_prologue = None

        accumulate_grad = torch__dynamo_compiled_autograd_ops_AccumulateGrad([aot1_tangents_1], getitem_1, None, False);  getitem_1 = None
        getitem_11: "f32[2]" = accumulate_grad[0];  accumulate_grad = None

        result: "f32[2]" = aot1_tangents_1 * aot1_tangents_1;  aot1_tangents_1 = None

        accumulate_grad_1 = torch__dynamo_compiled_autograd_ops_AccumulateGrad([result], getitem_2, None, False);  result = getitem_2 = None
        getitem_12: "f32[2]" = accumulate_grad_1[0];  accumulate_grad_1 = None
        return (getitem_11, getitem_12)
""",
                )
            elif backend == "codegen":
                self.assertExpectedInline(
                    actual,
                    """\
class GraphModule(tl.nn.Module):
    def forward(self, L_inputs_ : list, L_sizes_0_: "f32[0, 2]"):
        l_inputs_ = L_inputs_
        l_sizes_0_ = L_sizes_0_

        getitem: "f32[2]" = l_inputs_[0]
        getitem_1: "f32[2]" = l_inputs_[1]
        getitem_2: "f32[2]" = l_inputs_[2];  l_inputs_ = None

        size: "Sym(2)" = l_sizes_0_.size(1);  l_sizes_0_ = None

        validate_outputs = torch__dynamo_compiled_autograd_ops_validate_outputs([getitem], [((None, None, device(type='cpu'), 6, 0, None), [size], False, 6)]);  getitem = size = None
        getitem_9: "f32[2]" = validate_outputs[0];  validate_outputs = None

        call_aot_bwd_prologue = torch__dynamo_compiled_autograd_call_aot_bwd_prologue((), [], [], getitem_9);  getitem_9 = None
        aot3_tangents_1: "f32[2]" = call_aot_bwd_prologue[0];  call_aot_bwd_prologue = None

        accumulate_grad = torch__dynamo_compiled_autograd_ops_AccumulateGrad([aot3_tangents_1], getitem_1, None, False);  getitem_1 = None
        getitem_11: "f32[2]" = accumulate_grad[0];  accumulate_grad = None

        result: "f32[2]" = aot3_tangents_1 * aot3_tangents_1;  aot3_tangents_1 = None

        accumulate_grad_1 = torch__dynamo_compiled_autograd_ops_AccumulateGrad([result], getitem_2, None, False);  result = getitem_2 = None
        getitem_12: "f32[2]" = accumulate_grad_1[0];  accumulate_grad_1 = None
        return (getitem_11, getitem_12)
""",
                )

            graph = None

    # Source: test/dynamo/test_backward_higher_order_ops.py::BackwardHigherOrderOpTests::test_invoke_in_pt2_compiled_autograd_side_effect
    # PyTorch's decorators (functorch config patch, AOT_COUNTER mock): see
    # test_invoke_in_pt2_compiled_autograd.
    @pytest.mark.xfail(strict=True, reason="minidynamo's graph of the captured backward is the one of test_invoke_in_pt2_compiled_autograd (no L_inputs_ list, sizes, validate_outputs, call_aot_bwd_prologue or AccumulateGrad nodes), and obj.counter + 1 is computed outside the graph and written back as a replayed side effect: minidynamo has no unspecialized int graph inputs, so there is no Sym(s45) input and no `add` output")
    def test_invoke_in_pt2_compiled_autograd_side_effect(self, _=None):
        def _side_effect_stateful_fn2(x, obj):
            obj.counter = obj.counter + 1
            return _multiply(x)

        def _side_effectful_invoke2(grad, fn):
            return trace_wrapped(grad, fn=fn)

        graph = None

        def compiler_fn(gm):
            def inner_compiler(gm_, example_inputs_):
                nonlocal graph
                self.assertEqual(graph, None)
                graph = gm_
                return inductor.codegen(gm_, example_inputs_)

            return md.compile(
                gm, backend=inner_compiler, fullgraph=True, dynamic=True
            )

        for backend in ["codegen"]:
            md.reset()
            x = tl.tensor([0.5, 0.5], requires_grad=True)
            y = tl.tensor([0.5, 0.5], requires_grad=True)

            class MyObj:
                def __init__(self) -> None:
                    self.counter = 0

            obj = MyObj()
            inner_fn = functools.partial(_side_effect_stateful_fn2, obj=obj)
            hook_fn = functools.partial(_side_effectful_invoke2, fn=inner_fn)
            x.register_hook(hook_fn)

            def fn(x, y):
                return x + y

            fn = md.compile(fn, backend=backend, fullgraph=True)
            out = fn(x, y)
            grad_out = tl.tensor([2.0, 2.0])
            with compiled_autograd.enable(compiler_fn):
                out.backward(grad_out)
            actual = normalize_gm(graph.print_readable(False))
            self.assertEqual(obj.counter, 1)
            self.assertEqual(x.grad, grad_out + grad_out)
            if backend in ["aot_eager", "codegen"]:
                self.assertExpectedInline(
                    actual,
                    """\
class GraphModule(tl.nn.Module):
    def forward(self, L_inputs_ : list, L_sizes_0_: "f32[0, 2]", L_hooks_1_keywords_fn_keywords_obj_counter: "Sym(s45)"):
        l_inputs_ = L_inputs_
        l_sizes_0_ = L_sizes_0_
        l_hooks_1_keywords_fn_keywords_obj_counter = L_hooks_1_keywords_fn_keywords_obj_counter

        getitem: "f32[2]" = l_inputs_[0]
        getitem_1: "f32[2]" = l_inputs_[1]
        getitem_2: "f32[2]" = l_inputs_[2];  l_inputs_ = None

        size: "Sym(2)" = l_sizes_0_.size(1);  l_sizes_0_ = None

        validate_outputs = torch__dynamo_compiled_autograd_ops_validate_outputs([getitem], [((None, None, device(type='cpu'), 6, 0, None), [size], False, 6)]);  getitem = size = None
        getitem_9: "f32[2]" = validate_outputs[0];  validate_outputs = None

        call_aot_bwd_prologue = torch__dynamo_compiled_autograd_call_aot_bwd_prologue((), [], [], getitem_9);  getitem_9 = None
        aot0_tangents_1: "f32[2]" = call_aot_bwd_prologue[0];  call_aot_bwd_prologue = None

        accumulate_grad = torch__dynamo_compiled_autograd_ops_AccumulateGrad([aot0_tangents_1], getitem_1, None, False);  getitem_1 = None
        getitem_11: "f32[2]" = accumulate_grad[0];  accumulate_grad = None

        add: "Sym(s45 + 1)" = l_hooks_1_keywords_fn_keywords_obj_counter + 1;  l_hooks_1_keywords_fn_keywords_obj_counter = None

        result: "f32[2]" = aot0_tangents_1 * aot0_tangents_1;  aot0_tangents_1 = None

        accumulate_grad_1 = torch__dynamo_compiled_autograd_ops_AccumulateGrad([result], getitem_2, None, False);  result = getitem_2 = None
        getitem_12: "f32[2]" = accumulate_grad_1[0];  accumulate_grad_1 = None
        return (getitem_11, getitem_12, add)
""",
                )

            out = fn(x, y)
            out.backward(grad_out)
            self.assertEqual(obj.counter, 2)

            out = fn(x, y)
            out.backward(grad_out)
            self.assertEqual(obj.counter, 3)
            graph = None

    # Source: test/dynamo/test_backward_higher_order_ops.py::BackwardHigherOrderOpTests::test_invoke_in_pt2_compiled_autograd_graph_breaks
    def test_invoke_in_pt2_compiled_autograd_graph_breaks(self):
        def _graph_breaking_fn(x):
            print("Boo!")
            return _multiply(x)

        def _graph_break_invoke(grad):
            return trace_wrapped(grad, fn=_graph_breaking_fn)

        def compiler_fn(gm):
            return md.compile(gm, backend="codegen", fullgraph=True, dynamic=True)

        for backend in ["eager", "aot_eager", "codegen"]:
            md.reset()
            x = tl.tensor([0.5, 0.5], requires_grad=True)
            y = tl.tensor([0.5, 0.5], requires_grad=True)

            def fn(x, y):
                x.register_hook(_graph_break_invoke)
                return x + y

            fn = md.compile(fn, backend=backend, fullgraph=True)
            out = fn(x, y)
            grad_out = tl.tensor([2.0, 2.0])
            with self.assertRaisesRegex(
                md.exc.Unsupported,
                "print",
            ):
                with compiled_autograd.enable(compiler_fn):
                    out.backward(grad_out)


if __name__ == "__main__":
    import unittest

    unittest.main()
