"""Ports of the tests that start in the first half of PyTorch's test/test_autograd.py
(characters [0, 290000) of the stored text, commit 5c322af) for tensorlite (issue #21),
as PyTorch wrote them with only the names changed (torch -> tl). Tests already ported in
test_autograd_port.py / test_autograd_hooks_port.py are not repeated. Each port names its
source. A port that fails is marked xfail(strict) with the exact cause; a port that needs
what a numpy CPU runtime cannot have (CUDA, sparse, complex, forward AD, dispatch modes,
torch.library, the profiler, nested tensors, torch.jit, C++ extensions) is skipped."""
import collections
import contextlib
import functools
import gc
import io
import math
import operator
import os
import pickle
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
import warnings
import weakref
from collections import OrderedDict
from copy import deepcopy
from functools import partial, reduce
from itertools import product
from operator import mul

import numpy as np
import pytest

import tensorlite as tl
from tests.pytorch_ports.common import disable_gc, set_warn_always_context  # noqa: F401
import tensorlite.utils.checkpoint  # noqa: F401
from tensorlite import nn
from tensorlite.autograd import Function, detect_anomaly, once_differentiable
from tests.pytorch_ports.common import TestCase

inf = math.inf
nan = math.nan


# ------------------------------------------------------------------ names tensorlite may lack
class _Missing:
    """A torch name tensorlite does not have: calling it or reading an attribute raises
    AttributeError naming it (so only the tests that use it fail)."""

    def __init__(self, name):
        object.__setattr__(self, "_name", name)

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise AttributeError(f"tensorlite has no {self._name} (wanted .{attr})")

    def __call__(self, *args, **kwargs):
        raise AttributeError(f"tensorlite has no {self._name}")

    def __mro_entries__(self, bases):
        # subclassing the missing class
        raise AttributeError(f"tensorlite has no {self._name} (to subclass)")


def _name(module, attr, torch_name):
    return getattr(module, attr, None) or _Missing(torch_name)


Variable = _name(tl.autograd, "Variable", "torch.autograd.Variable")
_calculate_shape = _name(tl.autograd, "_calculate_shape", "torch.autograd._calculate_shape")
InplaceFunction = _name(tl.autograd.function, "InplaceFunction",
                        "torch.autograd.function.InplaceFunction")
GradientEdge = _name(tl.autograd.graph, "GradientEdge", "torch.autograd.graph.GradientEdge")
checkpoint = _name(tl.utils.checkpoint, "checkpoint", "torch.utils.checkpoint.checkpoint")
checkpoint_sequential = _name(tl.utils.checkpoint, "checkpoint_sequential",
                              "torch.utils.checkpoint.checkpoint_sequential")
CheckpointPolicy = _name(tl.utils.checkpoint, "CheckpointPolicy",
                         "torch.utils.checkpoint.CheckpointPolicy")
create_selective_checkpoint_contexts = _name(
    tl.utils.checkpoint, "create_selective_checkpoint_contexts",
    "torch.utils.checkpoint.create_selective_checkpoint_contexts")


# ------------------------------------------------------------------ helpers (common_utils)
def gradcheck(fn, inputs, **kwargs):
    # torch.testing._internal.common_utils.gradcheck: fast_mode on unless a test says
    # otherwise; its other default, check_batched_grad=True (a vmap check), is dropped, and so
    # is an explicit check_batched_grad=False (tensorlite has no batched check to turn off).
    if kwargs.get("fast_mode") is None:
        kwargs["fast_mode"] = True
    if not kwargs.get("check_batched_grad", True):
        del kwargs["check_batched_grad"]
    return tl.autograd.gradcheck(fn, inputs, **kwargs)


def gradgradcheck(fn, inputs, grad_outputs=None, **kwargs):
    # torch.testing._internal.common_utils.gradgradcheck (check_batched_grad dropped as above)
    if not kwargs.get("check_batched_grad", True):
        del kwargs["check_batched_grad"]
    return tl.autograd.gradgradcheck(fn, inputs, grad_outputs, **kwargs)


def parametrize(name, values):
    # torch.testing._internal.common_utils.parametrize (expanded by instantiate_parametrized_tests)
    def deco(fn):
        fn._params = [(name, values)] + getattr(fn, "_params", [])
        return fn
    return deco


def instantiate_parametrized_tests(cls):
    for attr in list(vars(cls)):
        fn = getattr(cls, attr)
        params = getattr(fn, "_params", None)
        if not params:
            continue
        delattr(cls, attr)
        combos = [{}]
        for name, values in params:
            combos = [{**c, name: v} for c in combos for v in values]
        for combo in combos:
            suffix = "_".join(f"{k}_{v}" for k, v in combo.items())

            def make(fn=fn, combo=combo):
                def test(self):
                    return fn(self, **combo)
                return test
            t = make()
            for mark in getattr(fn, "pytestmark", []):
                t = mark(t)
            if getattr(fn, "__unittest_skip__", False):
                t = unittest.skip(fn.__unittest_skip_why__)(t)
            t.__name__ = f"{attr}_{suffix}"
            setattr(cls, t.__name__, t)
    return cls


def graph_desc(fn):
    if fn is None:
        return "None"
    result = type(fn).__name__ + "("
    next_functions = fn.next_functions
    for next_fn, _ in next_functions:
        result += graph_desc(next_fn)
        result += ", "
    if next_functions:
        result = result[:-2]
    return result + ")"


# test/expect/TestAutograd.test_function-{x,y}_grad_desc.expect
_EXPECTED = {
    ("test_function", "x_grad_desc"):
        "CopyBackwards(None, AddBackward0(ExpandBackward0(AccumulateGrad()), "
        "MulBackward0(ExpandBackward0(AccumulateGrad()), AccumulateGrad())))",
    ("test_function", "y_grad_desc"):
        "CopyBackwards(None, AddBackward0(MulBackward0(ExpandBackward0(AccumulateGrad()), "
        "None), MulBackward0(ExpandBackward0(AccumulateGrad()), AccumulateGrad())))",
}

NO_C = "missing API: tl._C ({}) does not exist"
SKIP_MKLDNN = "MKL-DNN tensors (to_mkldnn, a native layout)"

IS_WINDOWS = sys.platform == "win32"
IS_MACOS = sys.platform == "darwin"
TEST_CUDA = False
# common_utils.slowTest: skipped unless PYTORCH_TEST_WITH_SLOW=1, as in PyTorch
TEST_WITH_SLOW = os.getenv("PYTORCH_TEST_WITH_SLOW", "0") == "1"


def slowTest(fn):
    # torch.testing._internal.common_utils.slowTest
    return unittest.skipIf(not TEST_WITH_SLOW,
                           "test is slow; run with PYTORCH_TEST_WITH_SLOW to enable test")(fn)
SKIP_SPARSE = "sparse tensors"
SKIP_COMPLEX = "complex dtypes"
SKIP_FWAD = "forward-mode AD / dual numbers"
SKIP_DISPATCH = "TorchDispatchMode / __torch_dispatch__"
SKIP_CUDA = "CUDA / devices"
SKIP_NESTED = "nested tensors"
SKIP_JIT = "torch.jit"
SKIP_PROFILER = "the profiler"
SKIP_MP = "multiprocessing"
SKIP_CPP = "C++-internal nodes / extensions"
SKIP_LIBRARY = "torch.library"


class PortTestCase(TestCase):
    def assertNotEqual(self, x, y, msg=None, *, atol=None, rtol=None, **kwargs):
        # torch.testing._internal.common_utils.TestCase.assertNotEqual (tensor-aware)
        if isinstance(x, tl.Tensor) or isinstance(y, tl.Tensor):
            with self.assertRaises(AssertionError, msg=msg):
                self.assertEqual(x, y, msg, atol=atol, rtol=rtol, **kwargs)
            return
        super().assertNotEqual(x, y, msg)

    def assertNotWarn(self, callable, msg=""):
        # common_utils.TestCase.assertNotWarn
        with warnings.catch_warnings(record=True) as ws:
            warnings.simplefilter("always")  # allow any warning to be raised
            with set_warn_always_context(True):
                callable()
            self.assertTrue(len(ws) == 0, msg)

    @contextlib.contextmanager
    def assertWarnsOnceRegex(self, category, regex=""):
        # common_utils.TestCase.assertWarnsOnceRegex
        pattern = re.compile(regex)
        with warnings.catch_warnings(record=True) as ws:
            warnings.simplefilter("always")  # allow any warning to be raised
            with set_warn_always_context(True):
                yield
            if len(ws) == 0:
                self.fail("no warning caught")
            self.assertTrue(any(type(w.message) is category for w in ws))
            self.assertTrue(
                any(re.match(pattern, str(w.message)) for w in ws),
                f"{pattern}, {[w.message for w in ws if type(w.message) is category]}")

    @staticmethod
    def runWithPytorchAPIUsageStderr(code):
        # common_utils.TestCase.runWithPytorchAPIUsageStderr (run_process_no_exception)
        env = os.environ.copy()
        env["PYTORCH_API_USAGE_STDERR"] = "1"
        env.pop("CI", None)
        env.pop("TEST_SHOWLOCALS", None)
        p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env)
        _stdout, stderr = p.communicate()
        return stderr.decode("ascii")

    def assertExpected(self, s, subname=None):
        # common_utils.TestCase.assertExpected, with the expect files' text inlined
        name = self._testMethodName
        self.assertEqual(s, _EXPECTED[(name, subname)])


@instantiate_parametrized_tests
class TestAutograd(PortTestCase):
    def tearDown(self):
        # PyTorch: torch.autograd._force_original_view_tracking(False); a no-op without it
        force = getattr(tl.autograd, "_force_original_view_tracking", None)
        if force is not None:
            force(False)
        super().tearDown()

    # test/test_autograd.py::TestAutograd::test_copy_slices_graph_task_updates
    @pytest.mark.xfail(strict=True, reason="missing API: tl._C._functions.DelayedError (tl._C does not exist)")
    def test_copy_slices_graph_task_updates(self):
        def f1(x, y):
            out = x.clone().view(-1)
            out += y
            return out

        def f2(x, y):
            out = x.clone().view(-1)
            b = out * 2
            out += y
            return out + b

        x = tl.rand(2, requires_grad=True)
        y = tl.rand(2, requires_grad=True)

        y_safe = tl._C._functions.DelayedError("Boom!", 1)(y)

        for f in [f1, f2]:
            # Ensure that the error Node works
            out = f(x, y_safe)
            with self.assertRaisesRegex(RuntimeError, "Boom!"):
                out.sum().backward()

            out = f(x, y_safe)
            with self.assertRaisesRegex(RuntimeError, "Boom!"):
                tl.autograd.grad(out.sum(), y)

            # Ensure that if we don't ask for y, it doesn't crash
            out = f(x, y_safe)
            tl.autograd.grad(out.sum(), x)

            out = f(x, y_safe)
            tl.autograd.grad(out.sum(), y_safe)

            out = f(x, y_safe)
            tl.autograd.grad(out.sum(), (x, y_safe))

        # Ensure that we don't run extra view Node
        def f3(x, y):
            out = x.clone().view(-1)

            def hook(*args):
                # This should never be called!
                self.assertTrue(False)

            out.register_hook(hook)

            b = out + y
            out += y
            return out + b, b

        out, b = f3(x, y_safe)
        tl.autograd.grad(out.sum(), (b, y_safe))

    # test/test_autograd.py::TestAutograd::test_grad_mode_class_decoration
    @pytest.mark.xfail(strict=True, reason="different behaviour: @tl.no_grad() on a class raises RuntimeError 'Cannot decorate classes' (PyTorch: FutureWarning 'Decorating classes is deprecated', class still usable)")
    def test_grad_mode_class_decoration(self):
        # Decorating class is deprecated and should not be used
        with self.assertWarnsRegex(FutureWarning, "Decorating classes is deprecated"):

            @tl.no_grad()
            class Foo:
                def __init__(self) -> None:
                    if tl.is_grad_enabled():
                        raise AssertionError("expected grad to be disabled")

                def foo(self):
                    # Not applied to methods
                    if not tl.is_grad_enabled():
                        raise AssertionError("expected grad to be enabled")

            # Show that we can actually construct the class
            foo = Foo()
            foo.foo()

        # Decorating functions or methods is fine though
        with warnings.catch_warnings(record=True) as w:

            @tl.no_grad()
            def foo():
                if tl.is_grad_enabled():
                    raise AssertionError("expected grad to be disabled")

            foo()

            class Foo2:
                @tl.no_grad()
                def __init__(self) -> None:
                    if tl.is_grad_enabled():
                        raise AssertionError("expected grad to be disabled")

                @tl.no_grad()
                def foo(self):
                    if tl.is_grad_enabled():
                        raise AssertionError("expected grad to be disabled")

            foo2 = Foo2()
            foo2.foo()

        self.assertEqual(len(w), 0)

    # test/test_autograd.py::TestAutograd::test_tensor_grad_warnings
    @pytest.mark.xfail(strict=True, reason="missing warning: reading .grad of a non-leaf tensor does not warn (PyTorch: UserWarning 'The .grad attribute of a Tensor that is not a leaf Tensor is being accessed')")
    def test_tensor_grad_warnings(self):
        dummy = tl.empty(1)

        with warnings.catch_warnings(record=True) as w:
            # Accessing .grad on leaf
            dummy.requires_grad_()
            foo = dummy.grad
            self.assertEqual(len(w), 0)

            # Accessing .grad on non-leaf
            dummy = dummy.clone()
            foo = dummy.grad
            self.assertEqual(len(w), 1)

            # Accessing .grad on non-leaf that retains gradients
            dummy.retain_grad()
            foo = dummy.grad
            self.assertEqual(len(w), 1)

    def _function_test(self, cls):
        x = tl.randn(5, 5, requires_grad=True)
        y = tl.randn(5, 5, requires_grad=True)
        result = cls.apply(x, 2, y)
        go = tl.ones((), requires_grad=True)
        result.sum().backward(go, create_graph=True)

        self.assertEqual(x.grad, y + tl.ones(5, 5))
        self.assertEqual(y.grad, x + tl.ones(5, 5) * 2)
        self.assertIsNotNone(x.grad.grad_fn)
        self.assertIsNotNone(y.grad.grad_fn)

        return x, y

    # test/test_autograd.py::TestAutograd::test_function
    @pytest.mark.xfail(strict=True, reason="wrong graph: type(node).__name__ is PrimNode for every op and x.grad.grad_fn has no CopyBackwards(None, ...) root (tl: 'PrimNode(PrimNode(PrimNode(AccumulateGrad())), ...)')")
    def test_function(self):
        class MyFunction(Function):
            @staticmethod
            def forward(ctx, tensor1, pyscalar, tensor2):
                ctx.pyscalar = pyscalar
                ctx.save_for_backward(tensor1, tensor2)
                return tensor1 + pyscalar * tensor2 + tensor1 * tensor2

            @staticmethod
            def backward(ctx, grad_output):
                var1, var2 = ctx.saved_tensors
                # NOTE: self is the test case here
                self.assertIsInstance(var1, tl.Tensor)
                self.assertIsInstance(var2, tl.Tensor)
                self.assertIsInstance(grad_output, tl.Tensor)
                return (
                    grad_output + grad_output * var2,
                    None,
                    grad_output * ctx.pyscalar + grad_output * var1,
                )

        x, y = self._function_test(MyFunction)

        x_grad_desc = graph_desc(x.grad.grad_fn)
        y_grad_desc = graph_desc(y.grad.grad_fn)
        self.assertExpected(x_grad_desc, "x_grad_desc")
        self.assertExpected(y_grad_desc, "y_grad_desc")

        # Avoid leaking memory
        x.grad = None
        y.grad = None

    # test/test_autograd.py::TestAutograd::test_once_differentiable
    @pytest.mark.xfail(strict=True, reason="wrong graph: x.grad.grad_fn desc is '_DelayedError(PrimNode(PrimNode(AccumulateGrad())))' (PyTorch: 'CopyBackwards(None, Error(AccumulateGrad(), None, AccumulateGrad()))')")
    def test_once_differentiable(self):
        class MyFunction(Function):
            @staticmethod
            def forward(ctx, tensor1, pyscalar, tensor2):
                ctx.pyscalar = pyscalar
                ctx.save_for_backward(tensor1, tensor2)
                return tensor1 + pyscalar * tensor2 + tensor1 * tensor2

            @staticmethod
            @once_differentiable
            def backward(ctx, grad_output):
                self.assertFalse(tl.is_grad_enabled())
                t1, t2 = ctx.saved_tensors
                return (
                    grad_output + grad_output * t2,
                    None,
                    grad_output * ctx.pyscalar + grad_output * t1,
                )

        x, y = self._function_test(MyFunction)
        self.assertEqual(
            graph_desc(x.grad.grad_fn),
            "CopyBackwards(None, Error(AccumulateGrad(), None, AccumulateGrad()))",
        )
        self.assertEqual(
            graph_desc(y.grad.grad_fn),
            "CopyBackwards(None, Error(AccumulateGrad(), None, AccumulateGrad()))",
        )

        # Avoid leaking memory
        x.grad = None
        y.grad = None

    # test/test_autograd.py::TestAutograd::test_function_returns_input
    def test_function_returns_input(self):
        class MyFunction(Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        for shape in [(1,), ()]:
            v = tl.ones(shape, requires_grad=True)
            MyFunction.apply(v).backward()
            self.assertEqual(v.grad, tl.full(shape, 2.0))

            with tl.no_grad():
                v.grad.zero_()
            MyFunction.apply(v.clone()).backward()
            self.assertEqual(v.grad, tl.full(shape, 2.0))

    # test/test_autograd.py::TestAutograd::test_function_returns_undefined_tensor
    def test_function_returns_undefined_tensor(self):
        class MyFunction(Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return None

        # Test that undefined tensors returned from custom backward function
        # are propagated as undefined and not tensor full of zeroes
        x = tl.ones(1, requires_grad=True)

        MyFunction.apply(x).backward()
        self.assertIsNone(x.grad)

        MyFunction.apply(x**2).backward()
        self.assertIsNone(x.grad)

        MyFunction.apply(x).sum().backward()
        self.assertIsNone(x.grad)

        self.assertIsNone(
            tl.autograd.grad(MyFunction.apply(x), x, allow_unused=True)[0]
        )

    # test/test_autograd.py::TestAutograd::test_materialize_grads
    @pytest.mark.xfail(strict=True, reason="missing API: tl._C._functions.UndefinedGrad (tl._C does not exist)")
    def test_materialize_grads(self):
        class MyFunction(Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, grad):
                self.assertEqual(grad, tl.zeros(1))
                return grad

        x = tl.ones(1, requires_grad=True)
        tl._C._functions.UndefinedGrad()(MyFunction.apply(x)).backward()

    # test/test_autograd.py::TestAutograd::test_dont_materialize_grads
    @pytest.mark.xfail(strict=True, reason="missing API: tl._C._functions.UndefinedGrad (tl._C does not exist)")
    def test_dont_materialize_grads(self):
        class MyFunction(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(False)
                return x

            @staticmethod
            def backward(ctx, grad):
                self.assertIsNone(grad)
                return grad

        x = tl.ones(1, requires_grad=True)
        tl._C._functions.UndefinedGrad()(MyFunction.apply(x)).backward()

    # test/test_autograd.py::TestAutograd::test_set_materialize_non_diff_grads
    @pytest.mark.xfail(strict=True, reason="wrong value: ctx._materialize_non_diff_grads = False is ignored; the non-differentiable output's grad g1 is tensor(0.) (PyTorch None)")
    def test_set_materialize_non_diff_grads(self):
        class Func(tl.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                out0 = x.clone()
                out1 = x.clone()
                ctx.mark_non_differentiable(out1)
                ctx._materialize_non_diff_grads = False
                return out0, out1

            @staticmethod
            def backward(ctx, g0, g1):
                self.assertIsNone(g1)
                return g0

        a = tl.tensor(1.0, requires_grad=True)
        out = Func.apply(a)[0]
        out.backward()

    # test/test_autograd.py::TestAutograd::test_unused_grad_requires_grad_with_materialize
    def test_unused_grad_requires_grad_with_materialize(self):
        x = tl.ones(10, requires_grad=True)
        y = tl.ones(10, requires_grad=True)
        z = (x**2).sum()

        g = tl.autograd.grad(
            z, (x, y), allow_unused=True, materialize_grads=True, create_graph=False
        )

        self.assertFalse(g[0].requires_grad)
        self.assertFalse(g[1].requires_grad)

    # test/test_autograd.py::TestAutograd::test_legacy_function_deprecation_exception
    def test_legacy_function_deprecation_exception(self):
        # Trigger exception
        class MyFunction(Function):
            def forward(self, x):
                return x

            def backward(self, grad_output):
                return grad_output

        # Check exception occurs
        with self.assertRaisesRegex(
            RuntimeError,
            "Legacy autograd function with non-static forward method is deprecated",
        ):
            MyFunction()(tl.randn(3, 4))

    class SimulateBackwardError(Function):
        @staticmethod
        def forward(ctx, input):
            return input.clone()

        @staticmethod
        @once_differentiable
        def backward(ctx, input):
            raise Exception("Simulate error on backward pass")  # noqa: TRY002

    # test/test_autograd.py::TestAutograd::test_custom_function_exception
    def test_custom_function_exception(self):
        t1 = tl.rand((3, 3), requires_grad=True)
        t2 = tl.rand((3, 3), requires_grad=True)

        tmp = (t1 + t2) * (t1 + t2)
        t3 = TestAutograd.SimulateBackwardError.apply(tmp)
        with self.assertRaisesRegex(Exception, "Simulate error on backward pass"):
            t3.sum().backward()

    # test/test_autograd.py::TestAutograd::test_custom_function_non_tensor_inputs_outputs
    def test_custom_function_non_tensor_inputs_outputs(self):
        class MyFunction(Function):
            @staticmethod
            def forward(ctx, t1, t2, scale, t3):
                t4 = t1 + t2 * t3
                t5 = t1 * t2 + t3
                t4 *= scale
                t5 *= scale

                # Save scale
                ctx.scale = scale
                ctx.save_for_backward(t1, t2, t3)
                return scale, t4, None, True, t5, "bar", t1

            @staticmethod
            @once_differentiable
            def backward(ctx, *grads):
                # Verify grads
                self.assertEqual(7, len(grads))
                self.assertIsNone(grads[0])
                self.assertIsNone(grads[2])
                self.assertIsNone(grads[3])
                self.assertIsNone(grads[5])

                scale = ctx.scale
                var1, var2, var3 = ctx.saved_tensors
                return (
                    grads[1] * scale + grads[4] * var2 * scale + grads[6],
                    grads[1] * var3 * scale + grads[4] * var1 * scale,
                    None,
                    grads[1] * var2 * scale + grads[4] * scale,
                )

        t1 = tl.rand(10, dtype=tl.double, requires_grad=True)
        t2 = tl.rand(10, dtype=tl.double, requires_grad=True)
        t3 = tl.rand(10, dtype=tl.double)
        scale = random.randint(0, 10)
        res = MyFunction.apply(t1, t2, scale, t3)
        self.assertEqual(scale, res[0])
        self.assertEqual((t1 + t2 * t3) * scale, res[1])
        self.assertEqual(None, res[2])
        self.assertEqual(True, res[3])
        self.assertEqual((t1 * t2 + t3) * scale, res[4])
        self.assertEqual("bar", res[5])
        self.assertEqual(t1, res[6])

        # Validate running backward.
        tl.autograd.backward([res[1].sum(), res[4].sum(), res[6].sum()])
        self.assertIsNotNone(t1.grad)
        self.assertIsNotNone(t2.grad)
        self.assertIsNone(t3.grad)

        # Test gradcheck
        def foo(t1, t2, t3):
            res = MyFunction.apply(t1, t2, scale, t3)
            return res[1], res[4], res[6]

        gradcheck(foo, (t1, t2, t3))

    # test/test_autograd.py::TestAutograd::test_custom_function_no_tensors
    def test_custom_function_no_tensors(self):
        class MyFunction(Function):
            @staticmethod
            def forward(ctx, t1, t2, scale, t3):
                t4 = t1 + t2 * t3
                t5 = t1 * t2 + t3
                t4 *= scale
                t5 *= scale
                return scale, t4, None, True, t5, "bar", t1

            @staticmethod
            @once_differentiable
            def backward(ctx, *args):
                return (args[0], args[1], None, args[2])

        t1 = random.random()
        t2 = random.random()
        t3 = random.random()
        scale = random.randint(0, 10)
        res = MyFunction.apply(t1, t2, scale, t3)
        self.assertEqual(scale, res[0])
        self.assertEqual((t1 + t2 * t3) * scale, res[1])
        self.assertEqual(None, res[2])
        self.assertEqual(True, res[3])
        self.assertEqual((t1 * t2 + t3) * scale, res[4])
        self.assertEqual("bar", res[5])
        self.assertEqual(t1, res[6])

    # test/test_autograd.py::TestAutograd::test_invalid_gradients
    def test_invalid_gradients(self):
        class MyFunction(Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, grad_output):
                return tl.randn(10, dtype=tl.float)

        with self.assertRaisesRegex(RuntimeError, "expected shape"):
            input = tl.randn(5, 5, dtype=tl.float, requires_grad=True)
            MyFunction.apply(input).sum().backward()

    # test/test_autograd.py::TestAutograd::test_unrelated_inputs
    def test_unrelated_inputs(self):
        # test to ensure grad(grad)check runs successfully even if there is an
        # unrelated (but differentiable) inputs

        def my_function(x, y):
            return x * x

        x = tl.rand(10, dtype=tl.double, requires_grad=True)
        y = tl.rand(10, dtype=tl.double, requires_grad=True)

        gradcheck(my_function, (x, y))
        gradgradcheck(my_function, (x, y))

    # test/test_autograd.py::TestAutograd::test_not_implemented_grad
    @pytest.mark.xfail(strict=True, reason="missing API: tl.nextafter")
    def test_not_implemented_grad(self):
        a = tl.rand(2, requires_grad=True)
        # if grad for nextafter ends up being implemented, this should be changed
        y = tl.nextafter(a, a).sum()
        with self.assertRaisesRegex(
            NotImplementedError, "the derivative for .* is not implemented"
        ):
            y.backward()

    # test/test_autograd.py::TestAutograd::test_not_implemented_fwad
    @unittest.skip(SKIP_FWAD)
    def test_not_implemented_fwad(self):
        pass

    # test/test_autograd.py::TestAutograd::test_will_engine_execute_node
    @pytest.mark.xfail(strict=True, reason="missing API: tl._C._will_engine_execute_node (tl._C does not exist)")
    def test_will_engine_execute_node(self):
        counter = [0]

        class MyFunction(Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, gO):
                return gO * 2

        def get_grad_fn(t):
            if t.requires_grad and t.grad_fn is None:
                return t.clone().grad_fn.next_functions[0][0]
            else:
                return t.grad_fn

        a = tl.randn(2, 3, 4, requires_grad=True)
        a2 = tl.randn(2, 3, 4, requires_grad=True)
        b = a * a2
        b2 = b.cos()
        c = MyFunction.apply(b)

        should_execute = list(map(get_grad_fn, (a, b, c)))
        should_not_execute = list(map(get_grad_fn, (a2, b2)))

        def fn(x):
            counter[0] += 1

            for g in should_execute:
                self.assertTrue(tl._C._will_engine_execute_node(g))

            for g in should_not_execute:
                self.assertFalse(tl._C._will_engine_execute_node(g))

        h1 = b.register_hook(fn)
        h2 = c.register_hook(fn)

        # .backward(inputs=) is OK
        out = c.sum()
        tl.autograd.backward(out, inputs=(a, b), retain_graph=True)
        self.assertEqual(counter[0], 2)

        # .backward() is OK
        should_execute = list(map(get_grad_fn, (a, a2, b, c)))
        should_not_execute = list(map(get_grad_fn, (b2,)))
        tl.autograd.backward(out, retain_graph=True)

        # .grad is NOT OK when leaf is passed (this is the current state, subject to change)
        with self.assertRaisesRegex(
            RuntimeError, "are currently running autograd.grad()"
        ):
            tl.autograd.grad(out, (a,))

        # .grad is OK when non-leaf is passed
        a = tl.randn(1, 2, 3, requires_grad=True) * 2
        b = a * 2

        def fn(x):
            # Check a non-leaf
            counter[0] += 1
            self.assertTrue(tl._C._will_engine_execute_node(b.grad_fn))

        h3 = b.register_hook(fn)
        counter[0] = 0
        tl.autograd.grad(b.sum(), (a,))
        self.assertEqual(counter[0], 1)

        # Verify other errors are raised
        with self.assertRaisesRegex(RuntimeError, "during the backward pass"):
            tl._C._will_engine_execute_node(out.grad_fn)

        with self.assertRaisesRegex(RuntimeError, "expects an grad_fn"):
            tl._C._will_engine_execute_node(out)

        # Ensure we don't leak memory
        h1.remove()
        h2.remove()
        h3.remove()

    # test/test_autograd.py::TestAutograd::test_custom_function_vmap_defaults
    @pytest.mark.xfail(strict=True, reason="missing API: Function.generate_vmap_rule / Function.vmap")
    def test_custom_function_vmap_defaults(self):
        class MySquare(Function):
            @staticmethod
            def forward(x):
                return x**2

            @staticmethod
            def setup_context(ctx, inputs, output):
                (x,) = inputs
                ctx.save_for_backward(x)

            @staticmethod
            def backward(ctx, gO):
                (x,) = ctx.saved_tensors
                return gO * 2 * x

        self.assertFalse(MySquare.generate_vmap_rule)
        self.assertTrue(hasattr(MySquare, "vmap"))

    # test/test_autograd.py::TestAutograd::test_custom_function_setup_context_simple
    def test_custom_function_setup_context_simple(self):
        class MySquare(Function):
            @staticmethod
            def forward(x):
                return x**2

            @staticmethod
            def setup_context(ctx, inputs, output):
                (x,) = inputs
                ctx.save_for_backward(x)

            @staticmethod
            def backward(ctx, gO):
                (x,) = ctx.saved_tensors
                return gO * 2 * x

        x = tl.randn([], requires_grad=True)
        y = MySquare.apply(x)
        (gx,) = tl.autograd.grad(y, x)
        self.assertEqual(gx, 2 * x)

    # test/test_autograd.py::TestAutograd::test_custom_function_setup_context_multi_output
    def test_custom_function_setup_context_multi_output(self):
        # Multiple outputs with some non-Tensor outputs.
        class MySquare(Function):
            @staticmethod
            def forward(x):
                two_x = x.item() * 2
                return x**2, two_x

            @staticmethod
            def setup_context(ctx, inputs, output):
                (x,) = inputs
                _, two_x = output
                ctx.two_x = two_x

            @staticmethod
            @once_differentiable
            def backward(ctx, gO, _):
                return gO * ctx.two_x

        x = tl.randn([], requires_grad=True)
        y, _ = MySquare.apply(x)
        (gx,) = tl.autograd.grad(y, x)
        self.assertEqual(gx, 2 * x)

    # test/test_autograd.py::TestAutograd::test_custom_function_setup_context_multi_input
    def test_custom_function_setup_context_multi_input(self):
        class MyReshape(Function):
            @staticmethod
            def forward(x, shape, scale_forward, scale_backward):
                return x.reshape(shape) * scale_forward

            @staticmethod
            def setup_context(ctx, inputs, output):
                x, shape, scale_forward, scale_backward = inputs
                ctx.scale_backward = scale_backward
                ctx.x_shape = x.shape

            @staticmethod
            def backward(ctx, gO):
                return gO.reshape(ctx.x_shape) * ctx.scale_backward, None, None, None

        class MyReshapeRef(Function):
            @staticmethod
            def forward(ctx, x, shape, scale_forward, scale_backward):
                ctx.scale_backward = scale_backward
                ctx.x_shape = x.shape
                return x.reshape(shape) * scale_forward

            @staticmethod
            def backward(ctx, gO):
                return gO.reshape(ctx.x_shape) * ctx.scale_backward, None, None, None

        def test(x, shape, scale_forward, scale_backward):
            y = MyReshape.apply(x, shape, scale_forward, scale_backward).sum()
            (gx,) = tl.autograd.grad(y, x)

            y_expected = MyReshapeRef.apply(
                x, shape, scale_forward, scale_backward
            ).sum()
            (gx_expected,) = tl.autograd.grad(y_expected, x)

            self.assertEqual(y_expected, y)
            self.assertEqual(gx_expected, gx)

        test(tl.randn(24, requires_grad=True), (3, 8), 7, 11)
        test(tl.randn(2, 3, 4, requires_grad=True), (6, 4), -1, 2)

    # test/test_autograd.py::TestAutograd::test_multiple_insert_removal_caching
    @pytest.mark.xfail(strict=True, reason="missing API: tl._C._set_cached_tensors_enabled / _add_cached_tensor (tl._C does not exist)")
    def test_multiple_insert_removal_caching(self):
        tl._C._set_cached_tensors_enabled(True)
        try:
            x = tl.rand([4])

            tl._C._add_cached_tensor(x)
            self.assertTrue(tl._C._is_cached_tensor(x))

            tl._C._add_cached_tensor(x)
            tl._C._remove_cached_tensor(x)

            self.assertFalse(tl._C._is_cached_tensor(x))
        finally:
            tl._C._set_cached_tensors_enabled(False)

    # test/test_autograd.py::TestAutograd::test_accumulate_grad_tensor_reference
    @unittest.skip(SKIP_SPARSE + " (sparse_coo_tensor grads)")
    def test_accumulate_grad_tensor_reference(self):
        pass

    # test/test_autograd.py::TestAutograd::test_accumulate_grad_with_zero_numel_grad
    # (the body of test_sum_to_with_empty_dim_grad, its old name, ported in test_autograd_port.py)
    def test_accumulate_grad_with_zero_numel_grad(self):
        a = tl.rand(4, 0, requires_grad=True)
        b = tl.rand(4, 1, requires_grad=True)
        c = a + b
        if c.shape != (4, 0):
            raise AssertionError(f"expected shape (4, 0), got {c.shape}")
        c.sum().backward()

        self.assertEqual(b.grad, tl.zeros(4, 1))
        self.assertEqual(a.grad, tl.zeros(4, 0))

    # test/test_autograd.py::TestAutograd::test_grad_to_node
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autograd.graph.get_gradient_edge (and tl.autograd._functions.Resize)")
    def test_grad_to_node(self):
        def check_matches(out, inp):
            ref = tl.autograd.grad(out.sum(), inp)

            edge = tl.autograd.graph.get_gradient_edge(inp)
            new = tl.autograd.grad(out.sum(), edge)
            self.assertEqual(ref, new)

        # We need to ensure that our main types of Node work (regular cpp Nodes,
        # AccumulateGrad Nodes and custom Function)
        x = tl.rand(2, requires_grad=True)
        out = x.clone()
        check_matches(out, x)

        x = x.clone()
        out = x.clone()
        check_matches(out, x)

        x = tl.autograd._functions.Resize.apply(x, (2,))
        out = x.clone()
        check_matches(out, x)

        x = tl.var_mean(x)[1]
        out = x.clone()
        check_matches(out, x)

    # test/test_autograd.py::TestAutograd::test_grad_to_node_set
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autograd.graph.get_gradient_edge (and Tensor.set_)")
    def test_grad_to_node_set(self):
        x = tl.rand(2, requires_grad=True)
        x_edge = tl.autograd.graph.get_gradient_edge(x)
        out = x.clone()

        with tl.no_grad():
            x.set_(tl.rand_like(x))

        with self.assertRaisesRegex(RuntimeError, "to not have been used in the graph"):
            tl.autograd.grad(out.sum(), x)

        # Works
        tl.autograd.grad(out.sum(), x_edge)

    # test/test_autograd.py::TestAutograd::test_grad_to_node_inplace
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autograd.graph.get_gradient_edge")
    def test_grad_to_node_inplace(self):
        x = tl.rand(2, requires_grad=True).clone()
        x_edge = tl.autograd.graph.get_gradient_edge(x)
        x *= 2

        g_old, g_new = tl.autograd.grad(x.sum(), (x_edge, x))
        self.assertEqual(g_old, 2 * tl.ones_like(x))
        self.assertEqual(g_new, tl.ones_like(x))

    # test/test_autograd.py::TestAutograd::test_grad_to_node_multi
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autograd.graph.GradientEdge")
    def test_grad_to_node_multi(self):
        x = tl.rand(2, requires_grad=True).clone()
        y = tl.rand(2, requires_grad=True).clone()

        out = x + y

        ref = tl.autograd.grad(out.sum(), (x, y))

        inp_edges = (
            GradientEdge(x.grad_fn, x.output_nr),
            GradientEdge(y.grad_fn, y.output_nr),
        )
        new = tl.autograd.grad(out.sum(), inp_edges)

        self.assertEqual(ref, new)

    # test/test_autograd.py::TestAutograd::test_grad_to_node_materialize
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autograd.graph.GradientEdge")
    def test_grad_to_node_materialize(self):
        x = tl.rand(2, requires_grad=True).clone()
        edge_x = GradientEdge(x.grad_fn, x.output_nr)
        y = tl.rand(2, requires_grad=True).clone()
        edge_y = GradientEdge(y.grad_fn, y.output_nr)

        out = x.clone()

        # Works
        tl.autograd.grad(
            out.sum(), (edge_x, y), allow_unused=True, materialize_grads=True
        )
        tl.autograd.grad(
            out.sum(), (x, y), allow_unused=True, materialize_grads=True
        )
        tl.autograd.grad(out.sum(), (x, edge_y), allow_unused=True)

        with self.assertRaisesRegex(
            RuntimeError,
            "materialize_grads cannot be used when the given input is a GradientEdge",
        ):
            tl.autograd.grad(
                out.sum(), (x, edge_y), allow_unused=True, materialize_grads=True
            )

    # test/test_autograd.py::TestAutograd::test_backward_to_node
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autograd.graph.GradientEdge")
    def test_backward_to_node(self):
        x = tl.rand(2, requires_grad=True).clone()
        edge_x = GradientEdge(x.grad_fn, x.output_nr)
        y = tl.rand(2, requires_grad=True).clone()
        edge_y = GradientEdge(y.grad_fn, y.output_nr)

        out = x.clone()

        # All should work in this case
        tl.autograd.backward(out.sum(), inputs=(edge_x, y))
        tl.autograd.backward(out.sum(), inputs=(x, y))
        tl.autograd.backward(out.sum(), inputs=(x, edge_y))
        tl.autograd.backward(out.sum(), inputs=(edge_x, edge_y))

    # test/test_autograd.py::TestAutograd::test_grad_fn_input_metadata
    @unittest.skip(SKIP_NESTED + " (torch.nested.nested_tensor, layout=torch.jagged)")
    def test_grad_fn_input_metadata(self):
        pass

    # test/test_autograd.py::TestAutograd::test_gradient_edge_output
    @unittest.skip(SKIP_COMPLEX + " (grad_outputs=rand_like(..., dtype=torch.complex64))")
    def test_gradient_edge_output(self):
        pass

    # test/test_autograd.py::TestAutograd::test_gradient_edge_graph_ownership
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autograd.graph.get_gradient_edge")
    def test_gradient_edge_graph_ownership(self):
        # Ensure we own the graph properly
        class Clone(tl.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x.clone()

            @staticmethod
            def backward(ctx, gX):
                return gX.clone()

        inp = tl.rand(1, requires_grad=True).clone()

        # C++ Node
        out = inp.clone()
        edge = tl.autograd.graph.get_gradient_edge(out)
        tl.autograd.backward(edge)
        del out
        tl.autograd.backward(edge)

        # python Node
        out = Clone.apply(inp)
        edge = tl.autograd.graph.get_gradient_edge(out)
        tl.autograd.backward(edge)
        del out
        tl.autograd.backward(edge)

    # test/test_autograd.py::TestAutograd::test_grad_nonleaf_many_outputs
    def test_grad_nonleaf_many_outputs(self):
        # This checks an edge case for function callbacks
        # We want to capture two grads of a function, but can only
        # register a single callback.
        x = tl.randn(4, 2, requires_grad=True)
        a, b = x.chunk(2)

        def hook(*grads):
            hook_called[0] = True

        hook_called = [False]
        x.register_hook(hook)

        go = tl.randn(2, 2)
        grad_a, grad_b = tl.autograd.grad(
            (a + 2 * b), [a, b], grad_outputs=go, create_graph=True
        )

        self.assertEqual(grad_a, go)
        self.assertEqual(grad_b, go * 2)
        self.assertFalse(hook_called[0])
        self.assertIsNone(x.grad)

    # test/test_autograd.py::TestAutograd::test_grad_materialize_grads
    @pytest.mark.xfail(strict=True, reason="wrong value: materialize_grads=True with create_graph=True returns zeros with requires_grad=False (PyTorch True), so grad(d2ydx2, x) raises 'does not require grad'")
    def test_grad_materialize_grads(self):
        x = tl.tensor(0.5, requires_grad=True)
        a = tl.tensor(1.0, requires_grad=True)
        y = x * a
        dydx = tl.autograd.grad(y, x, create_graph=True)
        d2ydx2_none = tl.autograd.grad(dydx, x, create_graph=True, allow_unused=True)
        d2ydx2 = tl.autograd.grad(
            dydx, x, create_graph=True, allow_unused=True, materialize_grads=True
        )
        # `allow_unused` set to True implicitly
        d3ydx3 = tl.autograd.grad(d2ydx2, x, materialize_grads=True)
        self.assertIsNone(d2ydx2_none[0])
        self.assertEqual(d2ydx2[0].item(), 0)
        self.assertEqual(d3ydx3[0].item(), 0)
        with self.assertRaisesRegex(
            ValueError, "Expected allow_unused to be True or not passed when"
        ):
            tl.autograd.grad(y, x, allow_unused=False, materialize_grads=True)

    # test/test_autograd.py::TestAutograd::test_sharded_grad
    def test_sharded_grad(self):
        leaves = [tl.zeros(5, 5, requires_grad=True) for _ in range(10)]
        intermediates = [l * i + l * l for i, l in enumerate(leaves)]
        loss = sum(v * i for i, v in enumerate(intermediates)).sum()

        # define a helper for dividing intermediates into groups
        def group(l, group_size):
            return (l[i : i + group_size] for i in range(0, len(l), group_size))

        # Compute the d loss / d intermediates in chunks of shard_size
        shard_size = 2
        d_intermediates = [
            d_i
            for intermediates_batch in group(intermediates, shard_size)
            for d_i in tl.autograd.grad(loss, intermediates_batch)
        ]
        # Compute rest of backward pass
        tl.autograd.backward(intermediates, d_intermediates)

        for i, l in enumerate(leaves):
            self.assertEqual(l.grad, i * i * (1 + l))

    # test/test_autograd.py::TestAutograd::test_grad_empty_inputs
    @pytest.mark.xfail(strict=True, reason="missing error: autograd.grad(2 * x, []) returns () (PyTorch raises: stored source ValueError 'grad requires non-empty inputs.', 2.13 RuntimeError '`inputs` argument to `grad()` cannot be empty.')")
    def test_grad_empty_inputs(self):
        x = tl.tensor([1.0], requires_grad=True)
        with self.assertRaisesRegex(ValueError, "grad requires non-empty inputs."):
            tl.autograd.grad(2 * x, [], grad_outputs=tl.tensor([1.0]))

    # test/test_autograd.py::TestAutograd::test_grad_fn_badcalls
    @pytest.mark.xfail(strict=True, reason="different error text: y.grad_fn(a, b) raises TypeError '_pow_bwd() takes 2 positional arguments but 3 were given' (PyTorch: 'expected 1 arguments, got 2 instead')")
    def test_grad_fn_badcalls(self):
        error_regex = "expected .* arguments, got .* instead"
        x = tl.ones(1, requires_grad=True)
        y = x**2
        with self.assertRaisesRegex(TypeError, error_regex):
            y.grad_fn(x.detach(), x.detach())  # too many
        with self.assertRaisesRegex(TypeError, error_regex):
            y.grad_fn()  # too few

        y.grad_fn(x.detach())  # this should succeed

    # test/test_autograd.py::TestAutograd::test_grad_unreachable_discovery
    def test_grad_unreachable_discovery(self):
        # Test that certain nodes are not erroneously executed when an input
        # is unreachable. See #39784
        class MyFunc(tl.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, x):
                self.fail("This node should not be executed!")

        x = MyFunc.apply(tl.randn(1, requires_grad=True) * 2)
        y = tl.randn(1, requires_grad=True)
        (gY,) = tl.autograd.grad(x, (y,), allow_unused=True)
        self.assertIsNone(gY)

        x = MyFunc.apply(tl.randn(1, requires_grad=True) * 2)
        y = tl.randn(1, requires_grad=True)
        z = tl.randn(1, requires_grad=True)
        (gY, gZ) = tl.autograd.grad(x + z, (y, z), allow_unused=True)
        self.assertIsNone(gY)
        self.assertIsNotNone(gZ)

        x = MyFunc.apply(tl.randn(1, requires_grad=True) * 2)
        y = tl.randn(1, requires_grad=True)
        tl.autograd.backward(x, inputs=(y,))  # allow_unused is implicitly True!
        self.assertIsNone(y.grad)

    # test/test_autograd.py::TestAutograd::test_grad_batched_grad
    @pytest.mark.xfail(strict=True, reason="missing API: grad(is_grads_batched=True) is accepted but ignored, so the [3, 2, 2] batched grad_output is rejected as 'Mismatch in shape'")
    def test_grad_batched_grad(self):
        x = tl.randn(2, 2, requires_grad=True)

        out = x.clone()  # Size([2, 2])
        batched_grad = (
            tl.arange(3).expand(2, 2, 3).transpose(0, 2)
        )  # Size([3, 2, 2])
        (grad,) = tl.autograd.grad(out, (x,), (batched_grad,), is_grads_batched=True)
        self.assertEqual(
            grad, tl.arange(3).expand(2, 2, 3).transpose(0, 2).to(dtype=grad.dtype)
        )

        # Detect shape mismatch
        grad_out = tl.ones(2, 2)
        with self.assertRaisesRegex(
            RuntimeError, "If `is_grads_batched=True`, we interpret the first"
        ):
            tl.autograd.grad(
                outputs=out,
                grad_outputs=(grad_out,),
                inputs=(x,),
                is_grads_batched=True,
            )

        # Scalar outputs
        out = x.sum()  # Size([])
        batched_grad = tl.arange(3)  # Size([3])
        (grad,) = tl.autograd.grad(out, (x,), (batched_grad,), is_grads_batched=True)
        self.assertEqual(
            grad, tl.arange(3).expand(2, 2, 3).transpose(0, 2).to(dtype=grad.dtype)
        )

        # We consider scalar and sized-1 to be a mismatch. This is consistent with current non-batched behavior.
        grad_out = tl.ones(2).unsqueeze(1)
        with self.assertRaisesRegex(
            RuntimeError, "If `is_grads_batched=True`, we interpret the first"
        ):
            tl.autograd.grad(
                outputs=out,
                grad_outputs=(grad_out,),
                inputs=(x,),
                is_grads_batched=True,
            )

    def _get_mul2(self, use_custom_function):
        if use_custom_function:

            class Mul2(Function):
                @staticmethod
                def forward(ctx, x):
                    return x * 2

                @staticmethod
                def backward(ctx, gO):
                    return gO * 2

            return Mul2.apply
        else:
            return lambda x: x * 2

    # test/test_autograd.py::TestAutograd::test_retains_grad_inplace_multiple_outputs
    def test_retains_grad_inplace_multiple_outputs(self):
        class DoubleMul(Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g1, g2):
                return g1 * 2 + g2 * 3

        var_mean = partial(tl.var_mean, dim=0)

        for fn in (DoubleMul.apply, var_mean):
            b = tl.rand(3, 3, requires_grad=True)
            var, mean = fn(b)
            var.retain_grad()
            mean.retain_grad()
            # node has two retains_grad hooks
            var.mul_(2)
            # the retain_grad hook multi-output node refers should now be a nullptr
            (var + mean).sum().backward()
            gvar = var.grad
            gmean = mean.grad

            a = b.detach().requires_grad_(True)
            var, mean = fn(a)
            var.mul_(2)
            out = (var + mean).sum()
            gvar_expected, gmean_expected = tl.autograd.grad(out, inputs=(var, mean))
            self.assertTrue(tl.allclose(gvar, gvar_expected))
            self.assertTrue(tl.allclose(gmean, gmean_expected))

    # test/test_autograd.py::TestAutograd::test_to_sparse_backward
    @unittest.skip(SKIP_SPARSE + " (to_sparse / to_sparse_csr / bsr layouts)")
    def test_to_sparse_backward(self):
        pass

    # test/test_autograd.py::TestAutograd::test_sparse_mm_backward
    @unittest.skip(SKIP_SPARSE + " (sparse mm)")
    def test_sparse_mm_backward(self):
        pass

    # test/test_autograd.py::TestAutograd::test_backward_with_inputs
    def test_backward_with_inputs(self):
        x = tl.randn(2, 2, dtype=tl.double, requires_grad=True)
        y = tl.randn(2, 2, dtype=tl.double, requires_grad=True)

        def fn():
            return x**2 + y * x + y**2

        gradient = tl.ones(2, 2)
        x_grad_expected = 2 * x + y
        y_grad_expected = x + 2 * y

        @tl.no_grad()
        def reset_grad():
            x.grad.zero_()
            y.grad.zero_()

        tl.autograd.backward(fn(), gradient, inputs=[x, y])
        self.assertEqual(x.grad, x_grad_expected)
        self.assertEqual(y.grad, y_grad_expected)

        reset_grad()
        tl.autograd.backward(fn(), gradient, inputs=[x])
        self.assertEqual(x.grad, x_grad_expected)
        self.assertEqual(y.grad, tl.zeros(2, 2), exact_dtype=False)

        reset_grad()
        tl.autograd.backward(fn(), gradient, inputs=[y])
        self.assertEqual(y.grad, y_grad_expected)
        self.assertEqual(x.grad, tl.zeros(2, 2), exact_dtype=False)

        reset_grad()
        tl.autograd.backward(fn(), gradient, inputs=y)
        self.assertEqual(y.grad, y_grad_expected)
        self.assertEqual(x.grad, tl.zeros(2, 2), exact_dtype=False)

        reset_grad()
        self.assertRaisesRegex(
            RuntimeError,
            "cannot be empty",
            lambda: tl.autograd.backward(fn(), gradient, inputs=[]),
        )

    # test/test_autograd.py::TestAutograd::test_backward_with_scalar_input
    def test_backward_with_scalar_input(self):
        x = tl.randn([], dtype=tl.double, requires_grad=True)
        out = x**2
        out.backward(inputs=x)
        self.assertEqual(x.grad, 2 * x)

    # test/test_autograd.py::TestAutograd::test_backward_with_nonleaf_inputs
    def test_backward_with_nonleaf_inputs(self):
        x = tl.randn(2, 2, dtype=tl.double, requires_grad=True)
        x_nonleaf = x * 1
        y = tl.randn(2, 2, dtype=tl.double, requires_grad=True)
        z = tl.randn(2, 2, dtype=tl.double, requires_grad=True)

        out = x_nonleaf**2 + y * x_nonleaf + y**2

        out.backward(
            tl.ones(2, 2, dtype=tl.double),
            create_graph=True,
            inputs=[x, y, x_nonleaf],
        )
        x_grad_expected = 2 * x + y
        y_grad_expected = x + 2 * y
        x_non_leaf_expected = 2 * x_nonleaf + y

        self.assertEqual(y.grad, y_grad_expected)
        self.assertEqual(x.grad, x_grad_expected)
        self.assertEqual(x_nonleaf.grad, x_non_leaf_expected)

        # backward doesn't have an allow_unused flag, so the behavior of backward
        # when variable is not part of the graph is as if allow_used were true
        # x.grad will simply be None.
        out.backward(
            tl.ones(2, 2, dtype=tl.double), create_graph=True, inputs=[z]
        )
        self.assertIsNone(z.grad)

        # Avoid leaking memory
        x.grad = None
        y.grad = None
        x_nonleaf.grad = None

    # test/test_autograd.py::TestAutograd::test_save_output_nr
    def test_save_output_nr(self):
        x = tl.randn(10, requires_grad=True)

        class MultiOutputFn(Function):
            @staticmethod
            def forward(ctx, x):
                return x[:5], x[5:]

            @staticmethod
            def backward(ctx, *grad):
                return tl.cat(grad)

        a, b = MultiOutputFn.apply(x)
        self.assertEqual(b.output_nr, 1)

        class TestFn(Function):
            @staticmethod
            def forward(ctx, b):
                ctx.save_for_backward(b)
                return b * 2

            @staticmethod
            def backward(ctx, grad_b):
                (b,) = ctx.saved_tensors
                self.assertEqual(b.output_nr, 1)

        TestFn.apply(b).sum().backward()

    # test/test_autograd.py::TestAutograd::test_first_grad_fn_access_in_no_grad_mode
    @unittest.skip(SKIP_COMPLEX + " (torch.tensor([1 + 1j]).real)")
    def test_first_grad_fn_access_in_no_grad_mode(self):
        pass

    # test/test_autograd.py::TestAutograd::test_free_deep_graph
    # slow here (~10 s) only because of its size: a 150000-node chain, kept as written
    def test_free_deep_graph(self):
        def scope():
            depth = 150000
            x = tl.randn(1, requires_grad=True)
            y = x.clone()

            # build a "chain" computation graph
            for _ in range(depth):
                y = y + y * 0.000001

            # graph deletion occurs when the above locals go out of scope.
            # In this case `del y` will trigger it but it's easier to leave
            # it to Python to delete the locals.

        # Should not stack overflow
        scope()

    # test/test_autograd.py::TestAutograd::test_free_deep_graph_complicated
    # slow here (~8 s) only because of its size: a 100000-step graph, kept as written
    def test_free_deep_graph_complicated(self):
        def scope():
            depth = 100000
            randchoice = tl.randint(2, [depth, 2])
            x = tl.randn(1, requires_grad=True)
            y = x.clone()

            # Hold the two previous values
            prev_values = [None, None]

            # Build a "chain with skip connections" graph
            for _ in range(depth):
                prev_tensors = [
                    tensor for tensor in prev_values[:-1] if tensor is not None
                ]
                prev_values.append(y)
                prev_values.pop(0)

                # Definitely pick one tensor to add
                y += y * 0.000001

                # Possibly add other tensors
                nprev = len(prev_tensors)
                if nprev == 2:
                    y += randchoice[depth].mul(tl.cat(prev_tensors)).sum()

            # graph deletion occurs when the above locals go out of scope.

        # Should not stack overflow
        scope()

    # test/test_autograd.py::TestAutograd::test_free_deep_graph_pyfunction
    # slow here (~10 s) only because of its size: a 150000-node chain, kept as written
    def test_free_deep_graph_pyfunction(self):
        class MyOp(Function):
            @staticmethod
            def forward(ctx, tensor1, tensor2):
                return tensor1 + tensor2

            @staticmethod
            def backward(ctx, grad_output):
                return grad_output, grad_output

        def scope():
            depth = 150000
            x = tl.randn(1, requires_grad=True)
            y = x.clone()

            # build deeply nested computation graph
            for _ in range(depth):
                y = MyOp.apply(y, y)

            # graph deletion occurs when the above locals go out of scope.

        # Should not stack overflow
        scope()

    # test/test_autograd.py::TestAutograd::test_no_unnecessary_save
    def test_no_unnecessary_save(self):
        # If we kept x in the derivative Function of x * 2 we would
        # get an error in the backward that would complain that we've
        # modified x, which was needed for gradient computation.
        # Since we should elide unnecessary saves, this test should pass.
        mu = tl.ones(1, requires_grad=True)
        x = tl.empty(1)
        loss = 0
        for i in range(3):
            x.detach_()
            x.copy_(mu + i)
            ft = tl.tensor([float(i)])
            multiplied = x * ft
            s = multiplied.sum()
            loss += s
        loss.backward()

    # test/test_autograd.py::TestAutograd::test_no_grad
    def test_no_grad(self):
        x = tl.ones(5, 5, requires_grad=True)
        y = tl.ones(5, 5) * 4
        with tl.no_grad():
            w = x + y

        def adder(x, y):
            return x + y

        adders = [tl.no_grad()(adder), tl.no_grad(adder)]

        for adder in adders:
            z = adder(x, y)

            self.assertFalse(w.requires_grad)
            self.assertRaises(RuntimeError, lambda: w.backward(tl.ones(5, 5)))
            self.assertIsNone(w.grad_fn)
            self.assertFalse(z.requires_grad)
            self.assertRaises(RuntimeError, lambda: z.backward(tl.ones(5, 5)))
            self.assertIsNone(z.grad_fn)

        # test nested decorator and with-statement on no_grad
        with tl.no_grad():
            self.assertFalse(tl.is_grad_enabled())
            w = adder(x, y)
            self.assertFalse(tl.is_grad_enabled())

    # test/test_autograd.py::TestAutograd::test_enable_grad_decorator_no_paren
    def test_enable_grad_decorator_no_paren(self):
        x = tl.ones(1, requires_grad=True)

        @tl.enable_grad
        def doubler(x):
            return x * 2

        with tl.no_grad():
            z = doubler(x)
        self.assertTrue(z.requires_grad)

    # test/test_autograd.py::TestAutograd::test_set_grad_generator_functions
    def test_set_grad_generator_functions(self):
        @tl.no_grad()
        def gen_no_grad():
            for i in range(10):
                self.assertEqual(tl.is_grad_enabled(), False)
                yield i

        with tl.enable_grad():
            for _ in gen_no_grad():
                self.assertEqual(tl.is_grad_enabled(), True)

        @tl.enable_grad()
        def gen_enable_grad():
            for i in range(10):
                self.assertEqual(tl.is_grad_enabled(), True)
                yield i

        with tl.no_grad():
            for _ in gen_enable_grad():
                self.assertEqual(tl.is_grad_enabled(), False)

    # test/test_autograd.py::TestAutograd::test_set_grad_generator_functions_recursive
    def test_set_grad_generator_functions_recursive(self):
        # enable_grad_decorator_recursive and no_grad_decorator_recursive call each other
        # recursively, to ensure that the decorators preserve the caller's setting
        @tl.enable_grad()
        def enable_grad_decorator_recursive(depth):
            self.assertTrue(tl.is_grad_enabled())
            if depth > 0:
                no_grad_decorator_recursive(depth - 1)
                self.assertTrue(tl.is_grad_enabled())

        @tl.no_grad()
        def no_grad_decorator_recursive(depth):
            self.assertFalse(tl.is_grad_enabled())
            if depth > 0:
                enable_grad_decorator_recursive(depth - 1)
                self.assertFalse(tl.is_grad_enabled())

        # enable_grad_context_manager_recursive and no_grad_context_manager_recursive call
        # each other recursively, to ensure that the decorators preserve the caller's setting
        def enable_grad_context_manager_recursive(depth):
            with tl.enable_grad():
                self.assertTrue(tl.is_grad_enabled())
                if depth > 0:
                    no_grad_context_manager_recursive(depth - 1)
                    self.assertTrue(tl.is_grad_enabled())

        def no_grad_context_manager_recursive(depth):
            with tl.no_grad():
                self.assertFalse(tl.is_grad_enabled())
                if depth > 0:
                    enable_grad_context_manager_recursive(depth - 1)
                    self.assertFalse(tl.is_grad_enabled())

        with tl.enable_grad():
            self.assertTrue(tl.is_grad_enabled())
            enable_grad_decorator_recursive(10)
            self.assertTrue(tl.is_grad_enabled())
            enable_grad_context_manager_recursive(10)
            self.assertTrue(tl.is_grad_enabled())

        with tl.no_grad():
            self.assertFalse(tl.is_grad_enabled())
            enable_grad_decorator_recursive(10)
            self.assertFalse(tl.is_grad_enabled())
            enable_grad_context_manager_recursive(10)
            self.assertFalse(tl.is_grad_enabled())

    # test/test_autograd.py::TestAutograd::test_set_grad_coroutines
    def test_set_grad_coroutines(self):
        @tl.no_grad()
        def coro_no_grad(n=10):
            self.assertFalse(tl.is_grad_enabled())
            for i in range(n):
                self.assertFalse(tl.is_grad_enabled())
                r = yield i
                self.assertFalse(tl.is_grad_enabled())
                self.assertEqual(i, r)
            self.assertFalse(tl.is_grad_enabled())

        @tl.enable_grad()
        def coro_enable_grad(n=10):
            self.assertTrue(tl.is_grad_enabled())
            for i in range(n):
                self.assertTrue(tl.is_grad_enabled())
                r = yield i
                self.assertTrue(tl.is_grad_enabled())
                self.assertEqual(i, r)
            self.assertTrue(tl.is_grad_enabled())

        with tl.enable_grad():
            self.assertTrue(tl.is_grad_enabled())
            coro, r = coro_no_grad(), None
            try:
                while True:
                    self.assertTrue(tl.is_grad_enabled())
                    r = coro.send(r)
                    self.assertTrue(tl.is_grad_enabled())

            except StopIteration:
                pass

        with tl.no_grad():
            self.assertFalse(tl.is_grad_enabled())
            coro, r = coro_enable_grad(), None
            try:
                while True:
                    self.assertFalse(tl.is_grad_enabled())
                    r = coro.send(r)
                    self.assertFalse(tl.is_grad_enabled())

            except StopIteration:
                pass

    # test/test_autograd.py::TestAutograd::test_set_grad_coroutines_benign_exceptions
    def test_set_grad_coroutines_benign_exceptions(self):
        class RecoverableException(Exception):
            pass

        @tl.no_grad()
        def coro_no_grad(n=10):
            has_raised = False
            for i in range(n):
                try:
                    self.assertFalse(tl.is_grad_enabled())
                    yield (-i if has_raised else i)

                except RecoverableException:
                    self.assertFalse(tl.is_grad_enabled())
                    has_raised = True

        @tl.enable_grad()
        def coro_enable_grad(n=10):
            has_raised = False
            for i in range(n):
                try:
                    self.assertTrue(tl.is_grad_enabled())
                    yield (-i if has_raised else i)

                except RecoverableException:
                    self.assertTrue(tl.is_grad_enabled())
                    has_raised = True

        with tl.enable_grad():
            coro = coro_no_grad()
            if 0 != next(coro):
                raise AssertionError("expected next(coro) == 0")
            try:
                while True:
                    r = coro.throw(RecoverableException)
                    self.assertLess(r, 0)

            except StopIteration:
                pass

        with tl.no_grad():
            coro = coro_enable_grad()
            if 0 != next(coro):
                raise AssertionError("expected next(coro) == 0")
            try:
                while True:
                    r = coro.throw(RecoverableException)
                    self.assertLess(r, 0)

            except StopIteration:
                pass

    # test/test_autograd.py::TestAutograd::test_set_grad_coroutines_critical_exceptions
    def test_set_grad_coroutines_critical_exceptions(self):
        class UnrecoverableException(Exception):
            pass

        class SecondaryException(Exception):
            pass

        @tl.no_grad()
        def coro_no_grad(n=10):
            has_raised = False
            for i in range(n):
                try:
                    self.assertFalse(tl.is_grad_enabled())
                    yield (-i if has_raised else i)

                except UnrecoverableException:
                    self.assertFalse(tl.is_grad_enabled())
                    raise SecondaryException from None

        @tl.enable_grad()
        def coro_enable_grad(n=10):
            has_raised = False
            for i in range(n):
                try:
                    self.assertTrue(tl.is_grad_enabled())
                    yield (-i if has_raised else i)

                except UnrecoverableException:
                    self.assertTrue(tl.is_grad_enabled())
                    raise SecondaryException from None

        with tl.enable_grad():
            coro = coro_no_grad()
            if 0 != next(coro):
                raise AssertionError("expected next(coro) == 0")
            with self.assertRaises(SecondaryException):
                coro.throw(UnrecoverableException)

        with tl.no_grad():
            coro = coro_enable_grad()
            if 0 != next(coro):
                raise AssertionError("expected next(coro) == 0")
            with self.assertRaises(SecondaryException):
                coro.throw(UnrecoverableException)

    # test/test_autograd.py::TestAutograd::test_set_grad_coroutines_exit
    def test_set_grad_coroutines_exit(self):
        @tl.no_grad()
        def coro_no_grad(state):
            for i in range(10):
                try:
                    self.assertFalse(tl.is_grad_enabled())
                    yield i

                except GeneratorExit:
                    self.assertFalse(tl.is_grad_enabled())
                    state.add("GeneratorExit")
                    raise

        @tl.enable_grad()
        def coro_enable_grad(state):
            for i in range(10):
                try:
                    self.assertTrue(tl.is_grad_enabled())
                    yield i

                except GeneratorExit:
                    self.assertTrue(tl.is_grad_enabled())
                    state.add("GeneratorExit")
                    raise

        state = set()
        with tl.enable_grad():
            coro = coro_no_grad(state)
            for _ in range(5):
                next(coro)

            coro.close()
        self.assertTrue("GeneratorExit" in state)

        state = set()
        with tl.no_grad():
            coro = coro_enable_grad(state)
            for _ in range(5):
                next(coro)

            coro.close()
        self.assertTrue("GeneratorExit" in state)

    # test/test_autograd.py::TestAutograd::test_no_grad_python_function
    def test_no_grad_python_function(self):
        """Python Functions should respect grad mode."""
        x = tl.ones(5, 5, requires_grad=True)

        class MyOp(Function):
            @staticmethod
            def forward(self, x):
                return x + 1

            @staticmethod
            def backward(self, dy):
                return dy

        with tl.no_grad():
            y = MyOp.apply(x)
        self.assertFalse(y.requires_grad)

    # test/test_autograd.py::TestAutograd::test_indexing
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autograd.Variable")
    def test_indexing(self):
        x = tl.arange(1.0, 17).view(4, 4)
        y = Variable(x, requires_grad=True)

        def compare(x, y, idx, indexed_tensor, indexed_var):
            indexed_var_t = indexed_var.data
            if not isinstance(indexed_tensor, tl.Tensor):
                indexed_var_t = indexed_var_t[0]
            self.assertEqual(indexed_tensor, indexed_var_t)

            indexed_var.sum().backward()
            expected_grad = tl.empty(x.size()).fill_(0)
            expected_grad[idx] = 1
            self.assertEqual(y.grad, expected_grad)

        def check_index(x, y, idx):
            if y.grad is not None:
                with tl.no_grad():
                    y.grad.zero_()
            indexed_tensor = x[idx]
            indexed_var = y[idx]
            compare(x, y, idx, indexed_tensor, indexed_var)

        check_index(x, y, 1)
        check_index(x, y, (1, 1))
        check_index(x, y, slice(1, None))
        check_index(x, y, slice(None, 2))
        check_index(x, y, (slice(None, 2), 2))
        check_index(x, y, (slice(1, 2), 2))
        check_index(x, y, (1, slice(2, None)))
        check_index(x, y, (slice(None, None), slice(2, None)))
        check_index(x, y, tl.LongTensor([0, 2]))
        check_index(x, y, tl.rand(4, 4).bernoulli().bool())
        check_index(x, y, (Ellipsis, slice(2, None)))
        check_index(x, y, ([0], [0]))
        check_index(x, y, ([1, 2, 3], [0]))
        check_index(x, y, ([1, 2], [2, 1]))
        check_index(x, y, ([[1, 2], [3, 0]], [[0, 1], [2, 3]]))
        check_index(x, y, ((slice(None), [2, 3])))
        check_index(x, y, (([2, 3], slice(None))))

        # advanced indexing, with less dim, or ellipsis
        check_index(x, y, ([0]))
        check_index(x, y, ([0],))

        x = tl.arange(1.0, 49).view(4, 3, 4)
        y = Variable(x, requires_grad=True)

        check_index(x, y, (slice(None), [0], [0]))
        check_index(x, y, ([0], [0], slice(None)))
        check_index(x, y, (slice(None), [0, 1, 2], [0]))
        check_index(x, y, ([0, 1, 2], [0], slice(None)))
        check_index(x, y, (slice(None), [1, 2], [2, 1]))
        check_index(x, y, ([1, 2], [2, 1], slice(None)))
        check_index(x, y, (slice(None), [[1, 2], [2, 0]], [[0, 1], [2, 3]]))
        check_index(x, y, ([[1, 2], [3, 0]], [[0, 1], [2, 2]], slice(None)))
        check_index(x, y, (slice(None), slice(None), [2, 1]))
        check_index(x, y, (slice(None), [2, 1], slice(None)))
        check_index(x, y, ([2, 1], slice(None), slice(None)))

        # advanced indexing, with less dim, or ellipsis
        check_index(x, y, ([0],))
        check_index(x, y, ([0], slice(None)))
        check_index(x, y, ([0], Ellipsis))
        check_index(x, y, ([1, 2], [0, 1]))
        check_index(x, y, ([1, 2], [0, 1], Ellipsis))
        check_index(x, y, (Ellipsis, [1, 2], [0, 1]))

        # advanced indexing, with a tensor wrapped in a variable
        z = tl.LongTensor([0, 1])
        zv = Variable(z, requires_grad=False)
        seq = (z, Ellipsis)
        seqv = (zv, Ellipsis)

        if y.grad is not None:
            with tl.no_grad():
                y.grad.zero_()
        indexed_tensor = x[seq]
        indexed_var = y[seqv]
        compare(x, y, seq, indexed_tensor, indexed_var)

    # test/test_autograd.py::TestAutograd::test_indexing_duplicates
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autograd.Variable")
    def test_indexing_duplicates(self):
        x = tl.arange(1.0, 17).view(4, 4)
        y = Variable(x, requires_grad=True)

        idx = tl.LongTensor([1, 1, 3, 2, 1, 2])
        y[idx].sum().backward()
        expected_grad = tl.zeros(4, 4)
        for i in idx:
            expected_grad[i] += 1
        self.assertEqual(y.grad, expected_grad)

        # with advanced indexing
        x = tl.arange(1.0, 17).view(4, 4)
        y = Variable(x, requires_grad=True)

        idx = ([1, 1, 3, 2, 1, 2], [0])
        y[idx].sum().backward()
        expected_grad = tl.zeros(4, 4)
        for i in idx[0]:
            for j in idx[1]:
                expected_grad[i][j] += 1

        self.assertEqual(y.grad, expected_grad)

        x = tl.arange(1.0, 17).view(4, 4)
        y = Variable(x, requires_grad=True)
        idx = ([[1, 2], [0, 0]], [[0, 1], [1, 1]])
        y[idx].sum().backward()
        expected_grad = tl.tensor(
            [
                [0.0, 2.0, 0.0, 0.0],
                [1.0, 0.0, 0.0, 0.0],
                [0.0, 1.0, 0.0, 0.0],
                [0.0, 0.0, 0.0, 0.0],
            ]
        )
        self.assertEqual(y.grad, expected_grad)

        x = tl.arange(1.0, 65).view(4, 4, 4)
        y = Variable(x, requires_grad=True)

        idx = ([1, 1, 1], slice(None), slice(None))
        y[idx].sum().backward()
        expected_grad = tl.empty(4, 4, 4).zero_()
        expected_grad[1].fill_(3)
        self.assertEqual(y.grad, expected_grad)

    # test/test_autograd.py::TestAutograd::test_index_backward_does_not_save_tensor
    def test_index_backward_does_not_save_tensor(self):
        # Example from https://github.com/pytorch/pytorch/issues/24853.
        # if `index(tensor, indices)` saves `tensor` for backwards, then it will
        # trigger a version check on `tensor` during the backward pass, which
        # will cause the following code to error because `tensor` gets modified
        # by the indexing line.
        a = tl.tensor([1.0, 0, 0])
        b = tl.zeros(3, requires_grad=True)
        tensor = b + 0
        tensor[a != 0] = tensor[a != 0]
        tensor.backward(tl.zeros_like(tensor))

    # test/test_autograd.py::TestAutograd::test_volatile_deprecated
    @pytest.mark.xfail(strict=True, reason="missing API: Tensor.volatile (deprecated attribute that warns)")
    def test_volatile_deprecated(self):
        v = tl.randn(3, 3)  # torch.autograd.torch is torch
        with warnings.catch_warnings(record=True) as w:
            self.assertFalse(v.volatile)
        self.assertIn("volatile", str(w[0].message))

    # test/test_autograd.py::TestAutograd::test_saved_variables_deprecated
    @pytest.mark.xfail(strict=True, reason="missing API: ctx.saved_variables (deprecated alias of saved_tensors that warns)")
    def test_saved_variables_deprecated(self):
        class MyFunction(Function):
            @staticmethod
            def forward(ctx, tensor1, tensor2):
                ctx.save_for_backward(tensor1, tensor2)
                return tensor1 + tensor2

            @staticmethod
            def backward(ctx, grad_output):
                var1, var2 = ctx.saved_variables
                return (grad_output, grad_output)

        with warnings.catch_warnings(record=True) as warns:
            warnings.simplefilter("always")
            x = tl.randn((3, 3), requires_grad=True)
            y = tl.randn((3, 3), requires_grad=True)
            MyFunction.apply(x, y).sum().backward()

            has_deprecated = (
                "deprecated" in str(warn) and "saved_variables" in str(warn)
                for warn in warns
            )
            has_deprecated = reduce(lambda x, y: x or y, has_deprecated)
            self.assertTrue(has_deprecated)

    # test/test_autograd.py::TestAutograd::test_requires_grad
    def test_requires_grad(self):
        x = tl.randn(5, 5)
        y = tl.randn(5, 5)
        z = tl.randn(5, 5, requires_grad=True)
        a = x + y
        self.assertFalse(a.requires_grad)
        b = a + z
        self.assertTrue(b.requires_grad)

        def error():
            raise RuntimeError

        # Make sure backward isn't called on these
        a._backward_hooks = OrderedDict()
        x._backward_hooks = OrderedDict()
        y._backward_hooks = OrderedDict()
        a._backward_hooks["test"] = error
        x._backward_hooks["test"] = error
        y._backward_hooks["test"] = error
        b.backward(tl.ones(5, 5))

    # test/test_autograd.py::TestAutograd::test_requires_grad_
    def test_requires_grad_(self):
        x = tl.randn(5, 5)
        y = tl.randn(5, 5, requires_grad=True)
        self.assertIs(x, x.requires_grad_())
        self.assertTrue(x.requires_grad)
        self.assertIs(y, y.requires_grad_())
        self.assertTrue(y.requires_grad)
        self.assertIs(x, x.requires_grad_(True))
        self.assertTrue(x.requires_grad)
        self.assertIs(y, y.requires_grad_(True))
        self.assertTrue(y.requires_grad)
        z = x * y
        self.assertRaises(RuntimeError, lambda: z.requires_grad_(False))
        self.assertIs(z, z.requires_grad_())
        self.assertTrue(z.requires_grad)
        self.assertIs(z, z.requires_grad_(True))
        self.assertTrue(z.requires_grad)

        self.assertIs(x, x.requires_grad_(False))
        self.assertFalse(x.requires_grad)
        self.assertIs(y, y.requires_grad_(False))
        self.assertFalse(y.requires_grad)

    # test/test_autograd.py::TestAutograd::test_requires_grad_inplace
    def test_requires_grad_inplace(self):
        a = tl.randn(5, 5)
        b = tl.randn(5, 5, requires_grad=True)
        a += b
        self.assertTrue(a.requires_grad)

        # non-leaf
        a = tl.randn(5, 5) + 0
        b = tl.randn(5, 5, requires_grad=True)
        a += b
        self.assertTrue(a.requires_grad)

    # test/test_autograd.py::TestAutograd::test_no_requires_grad_inplace
    @pytest.mark.xfail(strict=True, reason="missing error: b.add_(5) on a view of a leaf that now requires grad succeeds (PyTorch raises RuntimeError: a view of a leaf Variable that requires grad is being used in an in-place operation)")
    def test_no_requires_grad_inplace(self):
        # basic case, should be able to modify inplace while requires_grad is False
        a = tl.randn(2, 3)
        a.add_(5)
        a.requires_grad = True
        a.sum().backward()
        self.assertEqual(a.grad, tl.ones(2, 3))

        # same but with a view
        a = tl.randn(2, 3)
        b = a[:]
        b.add_(5)
        a.requires_grad = True
        a.sum().backward()
        self.assertEqual(a.grad, tl.ones(2, 3))

        # should fail if requires_grad = True when we modify inplace
        a = tl.randn(2, 3)
        b = a[:]
        a.requires_grad = True
        with self.assertRaises(RuntimeError):
            a.add_(5)
        with self.assertRaises(RuntimeError):
            b.add_(5)


    # test/test_autograd.py::TestAutograd::test_attribute_deletion
    @pytest.mark.xfail(strict=True, reason="different error: del x.data raises AttributeError (property has no deleter) (PyTorch RuntimeError)")
    def test_attribute_deletion(self):
        x = tl.randn((5, 5), requires_grad=True)
        del x.grad
        self.assertIsNone(x.grad)
        with self.assertRaises(RuntimeError):
            del x.data
        with self.assertRaises(TypeError):
            x.data = None
        with self.assertRaises(RuntimeError):
            del x.requires_grad
        with self.assertRaises(RuntimeError):
            del x._grad_fn
        with self.assertRaises(RuntimeError):
            del x._backward_hooks

    # test/test_autograd.py::TestAutograd::test_duplicate_backward_root
    @pytest.mark.xfail(strict=True, reason="wrong value: autograd.backward([x, x], [g, g]) leaves a.grad None (PyTorch: b * g * 2)")
    def test_duplicate_backward_root(self):
        a = tl.randn(5, 5, requires_grad=True)
        b = tl.randn(5, 5, requires_grad=True)

        x = a * b
        grad_output = tl.randn_like(x)
        tl.autograd.backward([x, x], [grad_output, grad_output])

        self.assertEqual(a.grad, b * grad_output * 2)
        self.assertEqual(b.grad, a * grad_output * 2)

    # test/test_autograd.py::TestAutograd::test_backward_no_grad
    def test_backward_no_grad(self):
        a = tl.randn(5, 5, requires_grad=True)
        b = a + 2
        with self.assertRaises(RuntimeError):
            tl.autograd.backward([b], [None])

    # test/test_autograd.py::TestAutograd::test_backward_twice_with_saved_values
    def test_backward_twice_with_saved_values(self):
        b = tl.randn(3, requires_grad=True, dtype=tl.double)
        c = tl.zeros(3, dtype=tl.double)
        c[[1, 2]] = b[[1, 1]]
        c.backward(tl.tensor([1, 1, 1], dtype=tl.double))
        self.assertRaisesRegex(
            RuntimeError,
            "Specify retain_graph=True",
            lambda: c.backward(tl.tensor([1, 1, 1], dtype=tl.double)),
        )

    # test/test_autograd.py::TestAutograd::test_backward_twice_retained_graph_with_saved_values
    def test_backward_twice_retained_graph_with_saved_values(self):
        b = tl.randn(3, requires_grad=True, dtype=tl.double)
        c = tl.zeros(3, dtype=tl.double)
        c[[1, 2]] = b[[1, 1]]
        c.backward(tl.tensor([1, 1, 1], dtype=tl.double), retain_graph=True)
        c.backward(tl.tensor([1, 1, 1], dtype=tl.double))

    # test/test_autograd.py::TestAutograd::test_backward_twice_without_saved_values
    def test_backward_twice_without_saved_values(self):
        b = tl.randn(3, requires_grad=True, dtype=tl.double)
        c = b + 1
        c.backward(tl.tensor([1, 1, 1], dtype=tl.double))
        c.backward(tl.tensor([1, 1, 1], dtype=tl.double))

    # test/test_autograd.py::TestAutograd::test_backward_twice_retained_graph_without_saved_values
    def test_backward_twice_retained_graph_without_saved_values(self):
        b = tl.randn(3, requires_grad=True, dtype=tl.double)
        c = tl.zeros(3, dtype=tl.double)
        c[[1, 2]] = b[[1, 1]]
        c.backward(tl.tensor([1, 1, 1], dtype=tl.double), retain_graph=True)
        c.backward(tl.tensor([1, 1, 1], dtype=tl.double))

    # test/test_autograd.py::TestAutograd::test_backward_create_graph_warns
    @pytest.mark.xfail(strict=True, reason="missing warning: backward(create_graph=True) emits no 'Using backward() with create_graph=True' UserWarning")
    def test_backward_create_graph_warns(self):
        with set_warn_always_context(True):
            b = tl.randn(3, requires_grad=True, dtype=tl.double)
            c = b * b
            with warnings.catch_warnings(record=True) as ws:
                c.backward(tl.ones_like(c), create_graph=True)
            b.grad = None
            self.assertTrue(
                any(
                    "Using backward() with create_graph=True" in str(w.message)
                    for w in ws
                )
            )

            # Should not warn for grad
            with warnings.catch_warnings(record=True) as ws:
                tl.autograd.grad(c, b, tl.ones_like(c), create_graph=True)
            self.assertFalse(
                any(
                    "Using backward() with create_graph=True" in str(w.message)
                    for w in ws
                )
            )

    # test/test_autograd.py::TestAutograd::test_next_functions
    @pytest.mark.xfail(strict=True, reason="missing API: tl._C._functions.AccumulateGrad (tl._C does not exist)")
    def test_next_functions(self):
        x = tl.randn(5, 5, requires_grad=True)
        y = tl.randn(5, 5, requires_grad=True)

        a = x + y
        self.assertIsNotNone(a.grad_fn)
        next_functions = a.grad_fn.next_functions
        self.assertEqual(len(next_functions), 2)
        self.assertIsInstance(next_functions[0][0], tl._C._functions.AccumulateGrad)
        self.assertEqual(next_functions[0][1], 0)
        self.assertIsInstance(next_functions[1][0], tl._C._functions.AccumulateGrad)
        self.assertEqual(next_functions[1][1], 0)

        b = a + 5
        next_functions = b.grad_fn.next_functions
        self.assertEqual(len(next_functions), 2)
        self.assertIs(next_functions[0][0], a.grad_fn)
        self.assertIs(next_functions[1][0], None)

    # test/test_autograd.py::TestAutograd::test_inplace
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autograd.Variable")
    def test_inplace(self):
        x = tl.ones(5, 5, requires_grad=True)
        y = Variable(tl.ones(5, 5) * 4, requires_grad=True)

        z = x * y
        q = z + y
        w = z * y
        z.add_(2)
        # Add doesn't need it's inputs to do backward, so it shouldn't raise
        q.backward(tl.ones(5, 5), retain_graph=True)
        # Mul saves both inputs in forward, so it should raise
        self.assertRaises(RuntimeError, lambda: w.backward(tl.ones(5, 5)))

        z = x * y
        q = z * y
        r = z + y
        w = z.add_(y)
        # w is a the last expression, so this should succeed
        w.backward(tl.ones(5, 5), retain_graph=True)
        # r doesn't use the modified value in backward, so it should succeed
        r.backward(tl.ones(5, 5), retain_graph=True)
        # q uses dirty z, so it should raise
        self.assertRaises(RuntimeError, lambda: q.backward(tl.ones(5, 5)))

        with tl.no_grad():
            x.grad.zero_()
        m = x / 2
        z = m + y / 8
        q = z * y
        r = z + y
        prev_version = z._version
        w = z.exp_()
        self.assertNotEqual(z._version, prev_version)
        r.backward(tl.ones(5, 5), retain_graph=True)
        self.assertEqual(x.grad, tl.ones(5, 5) / 2)
        w.backward(tl.ones(5, 5), retain_graph=True)
        self.assertEqual(x.grad, tl.empty(5, 5).fill_((1 + math.e) / 2))
        self.assertRaises(RuntimeError, lambda: q.backward(tl.ones(5, 5)))

        leaf = tl.ones(5, 5, requires_grad=True)
        x = leaf.clone()
        x.add_(10)
        self.assertEqual(x, tl.ones(5, 5) * 11)
        # x should be still usable
        y = x + 2
        y.backward(tl.ones(5, 5))
        self.assertEqual(leaf.grad, tl.ones(5, 5))
        z = x * y
        x.add_(2)
        self.assertRaises(RuntimeError, lambda: z.backward(tl.ones(5, 5)))

    # test/test_autograd.py::TestAutograd::test_mark_non_differentiable
    def test_mark_non_differentiable(self):
        class MyFunction(Function):
            @staticmethod
            def forward(ctx, input):
                output = input > 0
                ctx.mark_non_differentiable(output)
                return output

            @staticmethod
            def backward(ctx, grad_output):
                return (grad_output * 0).to(tl.double)

        x = tl.randn(5, 5, requires_grad=True)
        mask = MyFunction.apply(x)
        self.assertFalse(mask.requires_grad)
        y = x.masked_fill(mask, 0)
        y.sum().backward()

    # test/test_autograd.py::TestAutograd::test_mark_non_differentiable_mixed
    def test_mark_non_differentiable_mixed(self):
        class MyFunction(Function):
            @staticmethod
            def forward(ctx, input):
                a = input + 1
                b = input + 2
                ctx.mark_non_differentiable(a)
                return a, b

            @staticmethod
            def backward(ctx, grad_a, grad_b):
                self.assertTrue((grad_a == 0).all())
                self.assertTrue((grad_b == 1).all())
                return grad_b

        x = tl.randn(5, 5, requires_grad=True)
        a, b = MyFunction.apply(x)
        self.assertFalse(a.requires_grad)
        self.assertTrue(b.requires_grad)
        b.sum().backward()
        self.assertEqual(x.grad, tl.ones(5, 5))

    # test/test_autograd.py::TestAutograd::test_mark_non_differentiable_none
    def test_mark_non_differentiable_none(self):
        # This used to segfault because MyFunction would send back null
        # gradients to MulBackward, which is implemented in C++. C++
        # implemented functions expect incoming grad_outputs to be non-null.
        class MyFunction(Function):
            @staticmethod
            def forward(ctx, input):
                output = input.clone()
                ctx.mark_non_differentiable(output)
                return output

            @staticmethod
            def backward(ctx, grad_output):
                return None

        x = tl.randn(5, 5, requires_grad=True)
        r = MyFunction.apply(x * x)
        (r * x).sum().backward()

    # test/test_autograd.py::TestAutograd::test_return_duplicate
    def test_return_duplicate(self):
        class DoubleDuplicate(Function):
            @staticmethod
            def forward(ctx, x):
                output = x * 2
                return output, output

            @staticmethod
            def backward(ctx, grad1, grad2):
                return grad1 * 2 + grad2 * 2

        def fn(x):
            a, b = DoubleDuplicate.apply(x)
            self.assertIs(a, b)
            return a + b

        x = tl.randn(5, 5, dtype=tl.double, requires_grad=True)
        gradcheck(fn, [x])
        gradgradcheck(fn, [x])

    # test/test_autograd.py::TestAutograd::test_return_duplicate_inplace
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autograd.function.InplaceFunction (gradcheck parts pass)")
    def test_return_duplicate_inplace(self):
        class DoubleInplace(Function):
            @staticmethod
            def forward(ctx, x):
                x.mul_(2)
                ctx.mark_dirty(x)
                return x, x

            @staticmethod
            def backward(ctx, grad1, grad2):
                return grad1 * 2 + grad2 * 2

        def inplace_fn(x):
            a, b = DoubleInplace.apply(x.clone())
            self.assertIs(a, b)
            return a + b

        x = tl.randn(5, 5, dtype=tl.double, requires_grad=True)
        gradcheck(inplace_fn, [x])
        gradgradcheck(inplace_fn, [x])

        # Can't modify leaf variables in-place
        self.assertRaises(RuntimeError, lambda: InplaceFunction.apply(x))
        # Functions which modify views in-place must return only one output
        self.assertRaises(RuntimeError, lambda: InplaceFunction.apply(x.clone()[0]))

    def _test_setitem(self, size, index):
        x = tl.ones(*size, requires_grad=True)
        y = x + 2
        y_version = y._version
        y[index] = 2
        self.assertNotEqual(y._version, y_version)
        y.backward(tl.ones(*size))
        expected_grad = tl.ones(*size)
        expected_grad[index] = 0
        self.assertEqual(x.grad, expected_grad)

    def _test_setitem_tensor(self, size, index):
        x = tl.ones(*size, requires_grad=True)
        y = x + 2
        y_version = y._version
        value = x.new(x[index].size()).fill_(7)
        value.requires_grad = True
        y[index] = value
        self.assertNotEqual(y._version, y_version)
        y.backward(tl.ones(*size))
        expected_grad_input = tl.ones(*size)
        expected_grad_input[index] = 0
        self.assertEqual(x.grad, expected_grad_input)
        self.assertEqual(value.grad, tl.ones_like(value))

        # case when x broadcasts to as y[1]
        x = tl.randn(4, requires_grad=True)
        y = tl.zeros(2, 3, 4)
        y[1] = x
        y.backward(tl.randn(2, 3, 4))
        self.assertEqual(x.size(), x.grad.size())

    # test/test_autograd.py::TestAutograd::test_setitem
    @pytest.mark.xfail(strict=True, reason="missing API: tl.LongTensor (legacy tensor type)")
    def test_setitem(self):
        self._test_setitem((5, 5), 1)
        self._test_setitem((5,), 1)
        self._test_setitem((1,), 0)
        self._test_setitem((10,), ([0, 4, 2]))
        self._test_setitem((5, 5), ([0, 4], [2, 2]))
        self._test_setitem((5, 5, 5), (slice(None), slice(None), [1, 3]))
        self._test_setitem((5, 5, 5), (slice(None), [1, 3], slice(None)))
        self._test_setitem((5, 5, 5), ([1, 3], slice(None), slice(None)))
        self._test_setitem((5, 5, 5), (slice(None), [2, 4], [1, 3]))
        self._test_setitem((5, 5, 5), ([1, 3], [2, 4], slice(None)))
        self._test_setitem_tensor((5, 5), 3)
        self._test_setitem_tensor((5, 5), ([0, 1], [1, 0]))
        self._test_setitem_tensor((5,), 3)
        self._test_setitem_tensor(
            (5,), Variable(tl.LongTensor([3]), requires_grad=False).sum()
        )
        self._test_setitem_tensor((5,), [[0, 1, 2, 3]])
        self._test_setitem_tensor((5, 5, 5), (slice(None), slice(None), [1, 3]))
        self._test_setitem_tensor((5, 5, 5), (slice(None), [1, 3], slice(None)))
        self._test_setitem_tensor((5, 5, 5), ([1, 3], slice(None), slice(None)))
        self._test_setitem_tensor((5, 5, 5), (slice(None), [2, 4], [1, 3]))
        self._test_setitem_tensor((5, 5, 5), ([1, 3], [2, 4], slice(None)))
        self._test_setitem_tensor(
            (5, 5, 5),
            (
                Variable(tl.LongTensor([1, 3]), requires_grad=False),
                [2, 4],
                slice(None),
            ),
        )

    # test/test_autograd.py::TestAutograd::test_setitem_mask
    @pytest.mark.xfail(strict=True, reason="missing API: tl.BoolTensor (legacy tensor type)")
    def test_setitem_mask(self):
        mask = tl.BoolTensor(5, 5).bernoulli_()
        self._test_setitem((5, 5), Variable(mask))
        self._test_setitem((5,), Variable(mask[0]))
        self._test_setitem((1,), Variable(mask[0, 0:1]))
        self._test_setitem_tensor((5, 5), Variable(mask))
        self._test_setitem_tensor((5,), Variable(mask[0]))

    # test/test_autograd.py::TestAutograd::test_select_sum
    @pytest.mark.xfail(strict=True, reason="missing API: Tensor.select")
    def test_select_sum(self):
        # both select and sum return Scalars in ATen; ensure they work together.
        x = tl.randn(10, dtype=tl.double, requires_grad=True)

        def func(x):
            return x.select(0, 1).sum()

        gradcheck(func, [x])
        gradgradcheck(func, [x])

    # test/test_autograd.py::TestAutograd::test_diagonal_expanded_v
    @pytest.mark.xfail(strict=True, reason="missing API: Tensor.diagonal")
    def test_diagonal_expanded_v(self):
        value = tl.rand([])
        v_expanded = tl.tensor(value).expand(10)
        a = tl.rand(10, 10, dtype=tl.double, requires_grad=True)
        (result,) = tl.autograd.grad(a.diagonal(), a, v_expanded)
        self.assertEqual(result, tl.eye(10, dtype=tl.double) * value)

    # test/test_autograd.py::TestAutograd::test_select_expanded_v
    def test_select_expanded_v(self):
        v_expanded = tl.rand(10).expand(10, 10)
        a = tl.rand(10, 10, 10, requires_grad=True)
        (result,) = tl.autograd.grad(a[0], a, v_expanded)
        expected = tl.zeros(10, 10, 10)
        expected[0] = v_expanded
        self.assertEqual(result, expected)

    # test/test_autograd.py::TestAutograd::test_slice_expanded_v
    def test_slice_expanded_v(self):
        v_expanded = tl.rand(10, 1).expand(2, 10, 10)
        a = tl.rand(10, 10, 10, requires_grad=True)
        (result,) = tl.autograd.grad(a[3:5], a, v_expanded)
        expected = tl.zeros(10, 10, 10)
        expected[3:5] = v_expanded
        self.assertEqual(result, expected)

    # test/test_autograd.py::TestAutograd::test_unused_output
    def test_unused_output(self):
        x = tl.randn(10, 10, requires_grad=True)
        outputs = x.chunk(5)
        o = outputs[2]
        o = o * 4 + 2
        o.sum().backward()
        expected_grad = tl.zeros(10, 10)
        expected_grad[4:6] = 4
        self.assertEqual(x.grad, expected_grad)

        with tl.no_grad():
            x.grad.zero_()
        grad_output = tl.randn(2, 10)
        outputs = x.chunk(5)
        outputs[0].backward(grad_output)
        expected_grad = tl.zeros(10, 10)
        expected_grad[:2] = grad_output
        self.assertEqual(x.grad, expected_grad)

    # test/test_autograd.py::TestAutograd::test_sparse_gather_dim0
    @unittest.skip(SKIP_SPARSE + " (gather(sparse_grad=True))")
    def test_sparse_gather_dim0(self):
        pass

    # test/test_autograd.py::TestAutograd::test_sparse_gather_dim1
    @unittest.skip(SKIP_SPARSE + " (gather(sparse_grad=True))")
    def test_sparse_gather_dim1(self):
        pass

    # test/test_autograd.py::TestAutograd::test_sparse_gather_dim_neg
    @unittest.skip(SKIP_SPARSE + " (gather(sparse_grad=True))")
    def test_sparse_gather_dim_neg(self):
        pass

    # test/test_autograd.py::TestAutograd::test_sparse_gather_ind_scalar
    @unittest.skip(SKIP_SPARSE + " (gather(sparse_grad=True))")
    def test_sparse_gather_ind_scalar(self):
        pass

    # test/test_autograd.py::TestAutograd::test_sparse_gather_x_scalar
    @unittest.skip(SKIP_SPARSE + " (gather(sparse_grad=True))")
    def test_sparse_gather_x_scalar(self):
        pass

    # test/test_autograd.py::TestAutograd::test_sparse_gather_both_scalar
    @unittest.skip(SKIP_SPARSE + " (gather(sparse_grad=True))")
    def test_sparse_gather_both_scalar(self):
        pass

    # test/test_autograd.py::TestAutograd::test_grad_dtype
    @pytest.mark.xfail(strict=True, reason="missing API: Tensor.grad_dtype")
    def test_grad_dtype(self):
        leaf = tl.tensor([1.0, 2.0], requires_grad=True)
        # Default to tensor's dtype
        self.assertEqual(leaf.grad_dtype, tl.float32)
        leaf.grad_dtype = tl.float16
        self.assertEqual(leaf.grad_dtype, tl.float16)
        leaf.grad_dtype = None  # Allow any dtype
        self.assertIsNone(leaf.grad_dtype)

        # get/set grad_dtype is only allowed on leaf tensors
        non_leaf = leaf * 2
        self.assertFalse(non_leaf.is_leaf)
        with self.assertRaisesRegex(
            RuntimeError, "grad_dtype can only be accessed on leaf tensors"
        ):
            _ = non_leaf.grad_dtype
        with self.assertRaisesRegex(
            RuntimeError, "grad_dtype can only be set on leaf tensors"
        ):
            non_leaf.grad_dtype = tl.float16

        # Manual setting
        x = tl.tensor([1.0, 2.0], requires_grad=True)
        grad_match = tl.tensor([1.0, 1.0])
        x.grad = grad_match
        self.assertEqual(x.grad.dtype, tl.float32)

        x.grad = None
        x.grad_dtype = tl.float16
        grad_mismatch = tl.tensor([1.0, 1.0])
        with self.assertRaisesRegex(
            RuntimeError,
            "attempting to assign a gradient with dtype.*float.*to a tensor with grad_dtype.*Half",
        ):
            x.grad = grad_mismatch

        # When grad_dtype is None, any dtype is allowed
        x.grad = None
        x.grad_dtype = None
        grad_any = tl.tensor([1.0, 1.0], dtype=tl.float64)
        x.grad = grad_any
        self.assertEqual(x.grad.dtype, tl.float64)

        # Incoming gradient case
        class MismatchedGradientFunction(tl.autograd.Function):
            @staticmethod
            def forward(ctx, inp):
                return inp * 2

            @staticmethod
            def backward(ctx, grad_output):
                return grad_output.to(tl.float64)

        d = tl.tensor([1.0, 2.0], requires_grad=True)
        output = MismatchedGradientFunction.apply(d)
        loss = output.sum()
        loss.backward()
        # Default behavior is to cast to tensor dtype
        self.assertEqual(d.grad.dtype, tl.float32)
        self.assertTrue(tl.allclose(d.grad, tl.tensor([1.0, 1.0])))

        e = tl.tensor([3.0, 4.0], requires_grad=True)
        e.grad_dtype = None
        output_e = MismatchedGradientFunction.apply(e)
        loss_e = output_e.sum()
        loss_e.backward()
        # No casting is done if set to None.
        self.assertTrue(
            tl.allclose(e.grad, tl.tensor([1.0, 1.0], dtype=tl.float64))
        )

        f = tl.tensor([5.0, 6.0], requires_grad=True)
        f.grad_dtype = tl.float16  # Expect float16 gradients
        output_f = MismatchedGradientFunction.apply(f)
        loss_f = output_f.sum()
        loss_f.backward()
        self.assertTrue(
            tl.allclose(f.grad, tl.tensor([1.0, 1.0], dtype=tl.float16))
        )

        # Setting grad_dtype when gradient already exists
        g = tl.tensor([1.0, 2.0], requires_grad=True)
        g.grad = tl.tensor([1.0, 1.0])
        g.grad_dtype = tl.float32
        self.assertEqual(g.grad_dtype, tl.float32)
        with self.assertRaisesRegex(
            RuntimeError, "Cannot set grad_dtype.*because there is already a gradient"
        ):
            g.grad_dtype = tl.float16
        g.grad_dtype = None
        self.assertIsNone(g.grad_dtype)
        g.grad = None
        g.grad_dtype = tl.float16
        self.assertEqual(g.grad_dtype, tl.float16)

        # Test the case where there is an existing accumulate grad
        h = tl.tensor([1.0, 2.0], requires_grad=True)
        _ = h.clone()
        h.grad_dtype = None
        output = MismatchedGradientFunction.apply(h)
        output.sum().backward()
        self.assertEqual(h.grad.dtype, tl.float64)

        # Mixed accumulation cases
        k = tl.tensor([1.0, 2.0], requires_grad=True)
        k.grad_dtype = None
        y = k * 2
        y.sum().backward()
        k.grad = k.grad.to(tl.bfloat16)
        y2 = k * 3
        # Doesn't type promote to float32, always coerce to current .grad's dtype.
        # This is because the accumulation is done in-place on the existing grad.
        self.assertEqual(k.grad.dtype, tl.bfloat16)

        l = tl.tensor([3.0, 4.0], requires_grad=True, dtype=tl.bfloat16)
        l.grad_dtype = None
        z = l * 2
        z.sum().backward()
        l.grad = l.grad.to(tl.float32)
        z2 = l * 3
        z2.sum().backward()
        self.assertEqual(l.grad.dtype, tl.float32)

    # test/test_autograd.py::TestAutograd::test_gc_in_destructor
    @pytest.mark.xfail(strict=True, reason="different behaviour: instantiating a legacy (non-static forward) Function raises RuntimeError in __init__ (PyTorch allows it; only calling f(x) raises)")
    def test_gc_in_destructor(self):
        """
        Previously, if a Function destructor triggered a garbage collection,
        the Variable's tp_dealloc handler would get called twice leading to a
        segfault.
        """

        class CollectOnDelete(Function):
            def forward(self, x):
                return x

            def backward(self, grad_output):
                return grad_output

            def __del__(self):
                gc.collect()

        for _ in range(10):
            CollectOnDelete().forward(tl.randn(1, requires_grad=True)).backward()

    # test/test_autograd.py::TestAutograd::test_naughty_autograd_function_attribute_access
    @pytest.mark.xfail(strict=True, reason="different behaviour: Id() (static forward) raises RuntimeError 'Legacy autograd function ...' (PyTorch: DeprecationWarning 'should not be instantiated' and returns an instance)")
    def test_naughty_autograd_function_attribute_access(self):
        class Id(Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, grad_x):
                return grad_x

        with self.assertWarnsRegex(DeprecationWarning, "should not be instantiated"):
            f = Id()

        # After raising warning, should still return an instance
        self.assertIsInstance(f, Id)
        x = tl.zeros(1, requires_grad=True)
        with self.assertRaisesRegex(
            RuntimeError, "non-static forward method is deprecated"
        ):
            f(x)
        t = Id.apply(x)
        self.assertEqual(t.grad_fn.name(), "IdBackward")

        # THPFunction is the base class of both grad_fn and autograd functions,
        # which means that a lot of accessors on them may segfault. Test that we
        # properly error in this case.
        t = tl.ones(1, requires_grad=True)
        t._backward_hooks = {}
        with self.assertRaisesRegex(
            RuntimeError, "Attribute '_register_hook_dict' is invalid"
        ):
            f._register_hook_dict(t)
        with self.assertRaisesRegex(
            RuntimeError, "Attribute 'register_hook' is invalid"
        ):
            f.register_hook(lambda x, y: None)
        with self.assertRaisesRegex(
            RuntimeError, "Attribute 'next_functions' is invalid"
        ):
            f.next_functions
        with self.assertRaisesRegex(RuntimeError, "Attribute 'name' is invalid"):
            f.name()
        with self.assertRaisesRegex(
            RuntimeError, "Attribute '_sequence_nr' is invalid"
        ):
            f._sequence_nr()
        with self.assertRaisesRegex(
            RuntimeError, "Attribute '_set_sequence_nr' is invalid"
        ):
            f._set_sequence_nr(2)
        with self.assertRaisesRegex(
            RuntimeError, "Attribute '_input_metadata' is invalid"
        ):
            f._input_metadata
        with self.assertRaisesRegex(
            RuntimeError, "underlying PyNode has already been deallocated"
        ):
            f.metadata

    # test/test_autograd.py::TestAutograd::test_naughty_anomaly_access
    @pytest.mark.xfail(strict=True, reason="tl passes where PyTorch fails: g.metadata after del y works, so the test's own @unittest.expectedFailure reports an unexpected success (PyTorch 2.13 CPU: same)")
    @unittest.expectedFailure
    def test_naughty_anomaly_access(self):
        class MyFunction(Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g

        x = tl.zeros(1, requires_grad=True)
        y = MyFunction.apply(x)
        y.backward()
        y.grad_fn.metadata
        g = y.grad_fn
        del y
        g.metadata  # this currently fails, but shouldn't

    # test/test_autograd.py::TestAutograd::test_naughty_autograd_function_stashing_ctx
    @pytest.mark.xfail(strict=True, reason="missing error: ctx.saved_tensors of a freed graph (after del loss) returns the tensors (the stored PyTorch source expects RuntimeError; PyTorch 2.13 CPU also returns them)")
    def test_naughty_autograd_function_stashing_ctx(self):
        saved_ctx = []

        class Id(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x

            @staticmethod
            def backward(ctx, grad_x):
                saved_ctx.append(ctx)
                return ctx.saved_tensors

        p = tl.zeros(1, requires_grad=True)
        loss = Id.apply(p)
        loss.backward(retain_graph=True)
        del loss
        # At this point in time, it complains that the graph has been freed
        # (which indeed true, although a somewhat indirect way of stating the
        # problem).
        self.assertRaises(RuntimeError, lambda: saved_ctx[0].saved_tensors)

    # test/test_autograd.py::TestAutograd::test_custom_autograd_repeated_grad_grad
    def test_custom_autograd_repeated_grad_grad(self):
        # This test failed the equality check in PR #22983; it's an interesting
        # and different test case worth enshrining.  mult1 is not testing
        # anything that interesting, but mult2 is the interesting case.

        def mult1(x):
            return x.prod(dim=-1).prod(dim=-1)

        class Mult(tl.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = mult1(x)
                ctx.save_for_backward(x, y)
                return y

            @staticmethod
            def backward(ctx, grad_output):
                x, y = ctx.saved_tensors
                return (grad_output * y)[:, None, None] / x

        mult2 = Mult.apply

        def check_gradgrad_repeated(x, y):
            (gy,) = tl.autograd.grad(y[0], x, create_graph=True)
            (ggy_1,) = tl.autograd.grad(gy[0, 0, 0], x, retain_graph=True)
            (gy,) = tl.autograd.grad(y[0], x, create_graph=True)
            (ggy_2,) = tl.autograd.grad(gy[0, 0, 0], x, retain_graph=True)
            self.assertEqual(ggy_1[0, 0, 1], ggy_2[0, 0, 1])

        x = tl.ones(2, 4, 4).requires_grad_()
        check_gradgrad_repeated(x, mult1(x))
        check_gradgrad_repeated(x, mult2(x))

    # test/test_autograd.py::TestAutograd::test_custom_autograd_no_early_free
    def test_custom_autograd_no_early_free(self):
        # This test failed complaining that buffers had already been freed
        # prior to #22983.  Also pretty interesting test case.
        class Double(tl.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x**2
                ctx.save_for_backward(x, y)
                return y

            @staticmethod
            def backward(ctx, grad_output):
                x, _ = ctx.saved_tensors
                return grad_output * 2 * x

        # this is equivalent, but uses the output of .forward() in .backward()
        class Double2(Double):
            @staticmethod
            def backward(ctx, grad_output):
                x, y = ctx.saved_tensors
                return grad_output * 2 * y / x

        double = Double.apply
        double2 = Double2.apply

        x = tl.tensor(2).double().requires_grad_()

        self.assertTrue(gradcheck(double, x))
        self.assertTrue(gradgradcheck(double, x))
        self.assertTrue(gradcheck(double2, x))
        self.assertTrue(gradgradcheck(double2, x))

        y = double(x)
        tl.autograd.grad(y, x, create_graph=True)
        tl.autograd.grad(y, x)

        y = double2(x)
        tl.autograd.grad(y, x, create_graph=True)
        tl.autograd.grad(y, x)  # should not error!

    # test/test_autograd.py::TestAutograd::test_custom_autograd_ac_early_stop
    def test_custom_autograd_ac_early_stop(self):
        refs = []

        class Test(tl.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x.clone()
                ctx.save_for_backward(y)
                refs.append(weakref.ref(y))
                return y

            @staticmethod
            def backward(ctx, *args):
                _ = ctx.saved_tensors
                return None

        def fn(inp):
            return Test.apply(inp)

        inp = tl.randn(5, 5, requires_grad=True)

        def scope():
            # Early-stop is true by default in non-reentrant torch.utils.checkpoint
            out = tl.utils.checkpoint.checkpoint(fn, inp, use_reentrant=False)
            out.sum().backward()

        with disable_gc():
            scope()

            for ref in refs:
                self.assertIsNone(ref())

    # test/test_autograd.py::TestAutograd::test_checkpoint_compile_no_recompile
    @unittest.skip(SKIP_CUDA + " (requires CUDA: set_default_device('cuda'))")
    def test_checkpoint_compile_no_recompile(self):
        pass

    # test/test_autograd.py::TestAutograd::test_checkpoint_device_context_fn
    @unittest.skip(SKIP_CUDA + " (requires CUDA: set_default_device('cuda'))")
    def test_checkpoint_device_context_fn(self):
        pass

    # test/test_autograd.py::TestAutograd::test_detach
    @pytest.mark.xfail(strict=True, reason="missing error: view.detach_() on a view (x.narrow(0, 1, 4)) succeeds (PyTorch raises RuntimeError mentioning 'view')")
    def test_detach(self):
        x = tl.randn(10, 10, requires_grad=True)
        y = x + 2
        y = y.detach()
        z = y * 4 + 2
        self.assertFalse(y.requires_grad)
        self.assertFalse(z.requires_grad)

        x = tl.randn(10, 10, requires_grad=True)
        y = x * 2
        y = y.detach()
        self.assertFalse(y.requires_grad)
        self.assertIsNone(y.grad_fn)
        z = x + y
        z.sum().backward()
        # This is an incorrect gradient, but we assume that's what the user
        # wanted. detach() is an advanced option.
        self.assertEqual(x.grad, tl.ones(10, 10))

        # in-place detach
        x = tl.randn(10, 10, requires_grad=True)
        y = tl.randn(10, 10, requires_grad=True)
        a = x * 2
        (y + a).sum().backward(retain_graph=True)
        a.detach_()
        self.assertFalse(a.requires_grad)
        (y + a).sum().backward()  # this won't backprop to x
        self.assertEqual(x.grad, tl.ones(10, 10) * 2)
        self.assertEqual(y.grad, tl.ones(10, 10) * 2)

        # in-place detach on a view raises an exception
        view = x.narrow(0, 1, 4)
        self.assertRaisesRegex(RuntimeError, "view", lambda: view.detach_())

    # test/test_autograd.py::TestAutograd::test_detach_base
    def test_detach_base(self):
        "detaching base does not detach view"
        x = tl.randn(10, 10, requires_grad=True)
        view = x.narrow(0, 1, 4)
        x.detach_()
        self.assertFalse(x.requires_grad)
        self.assertTrue(view.requires_grad)
        self.assertIsNotNone(view.grad_fn)
        self.assertIs(view._base, x)

    # test/test_autograd.py::TestAutograd::test_detach_then_inplace_raises_in_autograd
    def test_detach_then_inplace_raises_in_autograd(self):
        x = tl.randn([], requires_grad=True)
        orig_x = x.detach().clone()

        y = x**2  # saves x
        z = x.detach()
        z.zero_()
        with self.assertRaisesRegex(RuntimeError, "has been modified by an inplace"):
            y.backward()

    def _test_type_conversion_backward(self, t):
        fvar = Variable(t(tl.randn(5, 5).float()), requires_grad=True)
        fvar.double().sum().backward()
        self.assertEqual(fvar.grad, tl.ones_like(fvar))
        self.assertEqual(type(fvar.grad), type(fvar))
        dvar = Variable(t(tl.randn(5, 5).double()), requires_grad=True)
        dvar.float().sum().backward()
        self.assertEqual(dvar.grad, tl.ones_like(dvar))
        self.assertEqual(type(dvar.grad), type(dvar))

    # test/test_autograd.py::TestAutograd::test_type_conversions
    @pytest.mark.xfail(strict=True, reason="missing API: tl.FloatTensor / tl.IntTensor (legacy tensor types)")
    def test_type_conversions(self):
        x = tl.randn(5, 5)
        self.assertIsInstance(x.float(), tl.FloatTensor)
        self.assertIsInstance(x.int(), tl.IntTensor)
        if tl.cuda.is_available():
            self.assertIsInstance(x.float().cuda(), tl.cuda.FloatTensor)
            self.assertIsInstance(x.int().cuda(), tl.cuda.IntTensor)
            self.assertIsInstance(x.int().cuda().cpu(), tl.IntTensor)
            if tl.cuda.device_count() >= 2:
                x2 = x.float().cuda(1)
                self.assertIsInstance(x2, tl.cuda.FloatTensor)
                self.assertIs(x2.get_device(), 1)
                x2 = x.float().cuda()
                self.assertIsInstance(x2, tl.cuda.FloatTensor)
                self.assertIs(x2.get_device(), 0)
                x2 = x2.cuda(1)
                self.assertIsInstance(x2, tl.cuda.FloatTensor)
                self.assertIs(x2.get_device(), 1)
                y = Variable(tl.randn(5).cuda(1), requires_grad=True)
                y.cpu().sum().backward()
                self.assertIs(y.grad.get_device(), 1)
                self.assertIs(y.long().get_device(), 1)

        for t in [
            tl.DoubleTensor,
            tl.FloatTensor,
            tl.IntTensor,
            tl.ByteTensor,
        ]:
            for y_var in (True, False):
                y = tl.randint(5, (5, 5), dtype=t.dtype)
                y = Variable(y) if y_var else y
                self.assertIsInstance(x.type(t), t)
                self.assertIsInstance(x.type_as(y), t)
                # TODO: t.dtype should work
                t_dtype = t().dtype
                self.assertIsInstance(x.type(t_dtype), t)
                self.assertIs(t_dtype, x.type(t_dtype).dtype)
                self.assertEqual(y.data_ptr(), y.type(t).data_ptr())
                if tl.cuda.is_available():
                    for x_cuda in (True, False):
                        for y_cuda in (True, False):
                            x_c = x.cuda() if x_cuda else x
                            y_c = y.cuda() if y_cuda else y
                            _, y_type = y_c.type().rsplit(".", 1)
                            y_typestr = ("torch.cuda." if y_cuda else "torch.") + y_type
                            self.assertEqual(y_c.type(), x_c.type(y_typestr).type())
                            self.assertIs(y_c.dtype, x_c.type(y_c.dtype).dtype)
                            self.assertEqual(
                                y_c.data_ptr(),
                                y_c.cuda().data_ptr() if y_cuda else y_c.data_ptr(),
                            )

        self._test_type_conversion_backward(lambda x: x)
        if tl.cuda.is_available():
            self._test_type_conversion_backward(lambda x: x.cuda())
            if tl.cuda.device_count() >= 2:
                # one of these has to be the non-default device
                self._test_type_conversion_backward(lambda x: x.cuda(0))
                self._test_type_conversion_backward(lambda x: x.cuda(1))

    # test/test_autograd.py::TestAutograd::test_isolated_node
    def test_isolated_node(self):
        x = tl.randn(5, 5, requires_grad=True)
        y = tl.randn(5, 5, requires_grad=True)

        a = x + y
        b = tl.max(a, 1, True)[1].repeat(1, 5).double()
        o = (b + a).sum()
        o.backward()

    # test/test_autograd.py::TestAutograd::test_shape
    def test_shape(self):
        x = tl.randn(3, 4)
        self.assertEqual(2, len(x.shape))
        self.assertEqual(x.shape[0], 3)
        self.assertEqual(x.shape[1], 4)

    # test/test_autograd.py::TestAutograd::test_return_leaf
    def test_return_leaf(self):
        class Identity(Function):
            @staticmethod
            def forward(ctx, a, b):
                return a, a + b

            @staticmethod
            def backward(ctx, grad_a, grad_b):
                return grad_a + grad_b, grad_b

        hook_called = [False]
        x = tl.randn(5, 5, requires_grad=True)
        y = tl.randn(5, 5, requires_grad=True)

        q, p = Identity.apply(x, y)

        # Make sure hooks only receive grad from usage of q, not x.
        def hook(grad):
            hook_called[0] = True
            self.assertEqual(grad, tl.ones(5, 5))

        q.register_hook(hook)
        (q + p + x).sum().backward()
        self.assertEqual(x.grad, tl.ones(5, 5) * 3)
        self.assertEqual(y.grad, tl.ones(5, 5))
        self.assertTrue(hook_called[0])

    # test/test_autograd.py::TestAutograd::test_return_leaf_inplace
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autograd.function.InplaceFunction")
    def test_return_leaf_inplace(self):
        class Inplace(InplaceFunction):
            @staticmethod
            def forward(ctx, a, b):
                ctx.mark_dirty(a)
                return a.add_(b), b + 2

            @staticmethod
            def backward(ctx, grad_a, grad_b):
                return grad_a, grad_a + grad_b

        x = tl.randn(5, 5)
        y = tl.randn(5, 5, requires_grad=True)

        q, p = Inplace.apply(x, y)
        self.assertIs(q, x)
        self.assertIs(q.grad_fn.__class__, Inplace._backward_cls)
        self.assertTrue(q.requires_grad)
        q.sum().backward()
        self.assertEqual(y.grad, tl.ones(5, 5))

    # test/test_autograd.py::TestAutograd::test_leaf_assignment
    def test_leaf_assignment(self):
        x = tl.randn(5, 5)
        y = tl.randn(5, requires_grad=True)
        z = tl.randn(5, requires_grad=True)

        x[0] = y
        x[1] = 2 * z
        self.assertTrue(x.requires_grad)
        self.assertIsNot(x.grad_fn, None)
        x.sum().backward()
        self.assertEqual(y.grad, tl.ones(5))
        self.assertEqual(z.grad, tl.ones(5) * 2)

    # test/test_autograd.py::TestAutograd::test_no_grad_assignment
    def test_no_grad_assignment(self):
        x = tl.randn(5, 5, requires_grad=True)
        y = tl.randn(5)
        with tl.no_grad():
            x[0] = y

        self.assertTrue(x.requires_grad)
        self.assertIsNone(x.grad_fn)

    # test/test_autograd.py::TestAutograd::test_no_grad_modifies_version
    def test_no_grad_modifies_version(self):
        x = tl.randn(5, requires_grad=True)
        y = tl.randn(5, requires_grad=True)
        z = (x * y).sum()
        with tl.no_grad():
            x *= 2
        self.assertRaisesRegex(
            RuntimeError, "modified by an inplace operation", lambda: z.backward()
        )

    # test/test_autograd.py::TestAutograd::test_increment_version
    @pytest.mark.xfail(strict=True, reason="missing API: tl.int (dtype alias of int32)")
    def test_increment_version(self):
        a = tl.rand(5, requires_grad=True)
        v = a._version
        tl.autograd.graph.increment_version(a)
        self.assertEqual(a._version, v + 1)

        a = tl.zeros(5, dtype=tl.int)
        v = a._version
        tl.autograd.graph.increment_version(a)
        self.assertEqual(a._version, v + 1)

        with tl.inference_mode():
            a = tl.rand(5, requires_grad=True)
            # does not error
            tl.autograd.graph.increment_version(a)

        # does not error
        tl.autograd.graph.increment_version(a)

    # test/test_autograd.py::TestAutograd::test_no_grad_input
    def test_no_grad_input(self):
        class MyFunction(Function):
            @staticmethod
            def forward(self, x):
                return x

            @staticmethod
            def backward(self, grad_output):
                return grad_output

        x = tl.randn(5, requires_grad=True)
        with tl.no_grad():
            y = MyFunction.apply(x)

        self.assertTrue(x.requires_grad)
        self.assertIsNone(y.grad_fn)

    # test/test_autograd.py::TestAutograd::test_backward_copy
    def test_backward_copy(self):
        # This tests checks backward engine for a very subtle bug that appeared
        # in one of the initial versions of autograd. Gradients tensors were
        # simply stored in lists while the function waited for all its gradients
        # to be computed. However, sometimes an output was used multiple times,
        # so the gradients needed to be summed. Engine used to keep a need_copy
        # set of tensors that will need a clone upon next addition and removed
        # them from the set as soon as the clone was performed. However, this
        # could lead to incorrect results if the same gradient tensor was
        # buffered in three places in the graph:
        # 1. When accumulating gradients in one of these places it was cloned
        #    and removed from need_copy set.
        # 2. When accumulating in second place, it wasn't in the need_copy set,
        #    so the gradients were simply accumulated in-place (which already
        #    modified the grad in 3rd place)
        # 3. When accumulating in the third place, it wasn't in the need_copy set
        #    as well, so the incoming gradient was summed in-place, yielding
        #    incorrect results in all functions, except the first one.
        x = tl.ones(5, 5, requires_grad=True)
        y = tl.ones(5, 5, requires_grad=True)
        # Simulate that we're in the middle of the graph
        a = x + 2
        b = y + 2
        c = x + 2
        # This op will just return grad_output two times in backward
        add1 = a + b
        add2 = add1 + c
        # Simulate a long branch, so grad_output will get buffered.
        for _ in range(4):
            a = a * 2
            b = b * 2
            c = c * 2
        branch = a + b + c
        out = add2 + branch
        # expected gradients are:
        # for x: 34 (16 from final a, 16 from final c, 2 from add2)
        # for y: 17 (16 from final b, 1 from add2)
        grad_output = tl.ones(5, 5)
        out.backward(grad_output)
        self.assertEqual(x.grad, tl.ones(5, 5) * 34)
        self.assertEqual(y.grad, tl.ones(5, 5) * 17)

    # test/test_autograd.py::TestAutograd::test_save_none_for_backward
    def test_save_none_for_backward(self):
        test_case = self

        class MyFn(Function):
            @staticmethod
            def forward(ctx, input):
                ctx.save_for_backward(None, input, None)
                return input * input

            @staticmethod
            def backward(ctx, grad_output):
                n1, input, n2 = ctx.saved_tensors
                test_case.assertIsNone(n1)
                test_case.assertIsNone(n2)
                return 2 * input * grad_output

        x = tl.randn(5, 5, requires_grad=True)
        y = MyFn.apply(x)
        y.sum().backward()
        self.assertEqual(x.grad, 2 * x)

    # test/test_autograd.py::TestAutograd::test_too_many_grads
    def test_too_many_grads(self):
        class MyFn(Function):
            @staticmethod
            def forward(ctx, input):
                return input

            @staticmethod
            def backward(ctx, grad_output):
                return grad_output, None, None

        x = tl.randn(5, 5, requires_grad=True)
        y = MyFn.apply(x)
        y.sum().backward()
        self.assertEqual(x.grad, tl.ones_like(x))

    # test/test_autograd.py::TestAutograd::test_pickle
    def test_pickle(self):
        x = tl.randn(10, 10, requires_grad=True)
        y = tl.randn(10, 10, requires_grad=False)

        def assert_strict_equal(var1, var2):
            self.assertEqual(var1, var2)
            self.assertEqual(var1.requires_grad, var2.requires_grad)

        serialized = [pickle.dumps([x, y], protocol=p) for p in range(3)]
        for dump in serialized:
            xc, yc = pickle.loads(dump)
            assert_strict_equal(xc, x)
            assert_strict_equal(yc, y)

    # test/test_autograd.py::TestAutograd::test_dep_nograd
    def test_dep_nograd(self):
        class F1(Function):
            @staticmethod
            def forward(ctx, input):
                out = tl.randn(input.size())
                ctx.mark_non_differentiable(out)
                return input, out

            @staticmethod
            def backward(ctx, grad_output, ignored):
                return grad_output

        class F2(Function):
            @staticmethod
            def forward(ctx, input, ignored):
                return input

            @staticmethod
            def backward(ctx, grad_output):
                return grad_output, None

        x = tl.randn(5, requires_grad=True)
        a, b = F1.apply(x)
        b = b + 1  # separate F1 from F2 by another op
        self.assertTrue(a.requires_grad)
        self.assertFalse(b.requires_grad)
        c = F2.apply(a, b)
        c.backward(tl.ones(c.size()))
        self.assertEqual(x.grad, tl.ones(x.size()))

    # test/test_autograd.py::TestAutograd::test_set_grad_enabled
    def test_set_grad_enabled(self):
        x = tl.tensor([1.0], requires_grad=True)
        with tl.set_grad_enabled(False):
            y = x * 2
        self.assertFalse(y.requires_grad)
        with tl.set_grad_enabled(True):
            y = x * 2
        self.assertTrue(y.requires_grad)
        with tl.set_grad_enabled(False):
            tl.set_grad_enabled(True)
            y = x * 2
        self.assertTrue(y.requires_grad)

    # test/test_autograd.py::TestAutograd::test_set_grad_enabled_wraps
    def test_set_grad_enabled_wraps(self):
        for decorator in [True, False]:
            with tl.enable_grad():
                self.assertTrue(tl.is_grad_enabled())

                if decorator:
                    # This should not mutate the global grad mode!
                    @tl.set_grad_enabled(False)
                    def inner_func(x):
                        return x.sin()

                else:

                    def inner_func(x):
                        return x.sin()

                    # This is non-idiomatic usage!
                    # More idiomatic usage: torch.set_grad_enabled(False)(inner_func)
                    obj = tl.set_grad_enabled(False)
                    self.assertTrue(not tl.is_grad_enabled())

                    # this will consume the set_grad_enabled global mutation!
                    inner_func = obj(inner_func)
                    self.assertTrue(tl.is_grad_enabled())

                self.assertTrue(tl.is_grad_enabled())

                x = tl.zeros(1, requires_grad=True)
                self.assertTrue(not inner_func(x).requires_grad)

    # test/test_autograd.py::TestAutograd::test_simple_reentrant
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autograd.Variable")
    def test_simple_reentrant(self):
        y_data = tl.randn(2, 2)

        class Reenter(Function):
            @staticmethod
            def forward(ctx, x):
                with tl.enable_grad():
                    ctx.x = Variable(x, requires_grad=True)
                    ctx.y = Variable(y_data, requires_grad=True)
                    ctx.output_var = ctx.x * ctx.y
                return ctx.output_var.detach()

            @staticmethod
            def backward(ctx, grad_output):
                with tl.enable_grad():
                    ctx.output_var.sum().backward()
                return ctx.x.grad * grad_output

        # Reentrant starts on CPU thread, finishes on GPU thread
        x = tl.randn(2, 2, requires_grad=True)
        out = Reenter.apply(x)
        out.sum().backward()
        self.assertEqual(x.grad, y_data)

    # test/test_autograd.py::TestAutograd::test_reentrant_child_error
    def test_reentrant_child_error(self):
        # Parent graph.
        a = tl.rand(3, 3, requires_grad=True)
        c = a * a

        # Reentrant child graph.
        b = tl.rand(3, 3, requires_grad=True)
        e = b * b
        f = TestAutograd.SimulateBackwardError.apply(e)
        reentrant_root = f.sum()

        class ReentrantFunc(Function):
            @staticmethod
            def forward(ctx, inp):
                return inp.clone()

            @staticmethod
            def backward(ctx, grad):
                # Reentrant backward in child will throw an error.
                reentrant_root.backward()
                return grad

        d = ReentrantFunc.apply(c)
        with self.assertRaisesRegex(Exception, "Simulate error"):
            d.sum().backward()

    # test/test_autograd.py::TestAutograd::test_var_mean_differentiable
    def test_var_mean_differentiable(self):
        dim = [2, 4]
        keepdim = False
        input1 = tl.randn(3, 4, 5, 6, 2, 3, requires_grad=True)
        input2 = deepcopy(input1)
        var1, mean1 = tl.var_mean(input1, dim=dim, keepdim=keepdim)
        var2 = input2.var(dim=dim, keepdim=keepdim)
        mean2 = input2.mean(dim=dim, keepdim=keepdim)
        grad = tl.randn(3, 4, 6, 3, requires_grad=True)

        r1 = var1 * var1 * mean1 * mean1
        r2 = var2 * var2 * mean2 * mean2
        self.assertEqual(r1, r2, rtol=0.01, atol=0.0)

        tl.autograd.backward(r1, grad)
        tl.autograd.backward(r2, grad)
        self.assertEqual(input1.grad, input2.grad, rtol=0.01, atol=0.0)

    # test/test_autograd.py::TestAutograd::test_lobpcg
    @pytest.mark.xfail(strict=True, reason="missing API: tl.lobpcg")
    def test_lobpcg(self):
        def func(k, A, largest=True, B=None):
            X_shape = list(A.shape)
            X_shape[-1] = k
            X = tl.eye(A.size(-2), k, dtype=A.dtype, device=A.device)
            if A.dim() > 2:
                X = X.expand(X_shape)

            D, U = tl.lobpcg(A=A, k=k, B=B, X=X, largest=largest)

            # LOBPCG uses a random initial eigenspace approximation
            # if parameter `X` is not provided.
            # This may cause a non-deterministic behavior
            # when it comes to the sign of an eigenvector
            # (note if v is an eigenvector, so is -v),
            # hence we eliminate this non-determinism
            # by making sure that each column of U
            # gets multiplied by the sign of its max (in absolute value) element.
            # Also, gradcheck changes the content of the input by +/- eps (default to 1e-06)
            # to compute the numerical gradient which can also cause the signs to flip.
            _, idx = U.abs().max(-2, keepdim=True)
            sign = U.gather(-2, idx).sign()
            U = U * sign
            return D, U

        # TODO: review if this can be ported to OpInfos or moved to test_linalg.py
        def run_symeig_test(k, sizes, largest=True):
            A = tl.rand(*sizes).double()
            A = (A @ A.mT) / 10
            A.requires_grad_(True)

            gradcheck(lambda A: func(k, A, largest), A, check_batched_grad=False)

            # Custom gradient vectors for better stability due to some
            # non-determinism in the lobpcg's forward.
            # Note it is not required if symeig is in forward instead (tested).
            D_grad = tl.rand(*A.shape[:-2], k) / 100
            U_grad = tl.rand(*A.shape[:-1], k) / 100
            gradgradcheck(
                lambda A: func(k, A, largest),
                A,
                [D_grad, U_grad],
                atol=1e-4,
                check_batched_grad=False,
            )

            # check whether A.grad is symmetric
            A = A.detach().requires_grad_(True)
            D, U = func(k, A, largest)
            (D.sum() + U.sum()).backward()
            self.assertEqual(A.grad, A.grad.mT)

        for largest in [True, False]:
            run_symeig_test(1, (6, 6), largest=largest)
            run_symeig_test(1, (2, 6, 6), largest=largest)
            run_symeig_test(1, (2, 2, 6, 6), largest=largest)
            run_symeig_test(2, (6, 6), largest=largest)
            run_symeig_test(2, (2, 6, 6), largest=largest)
            run_symeig_test(2, (2, 2, 6, 6), largest=largest)
            run_symeig_test(3, (9, 9), largest=largest)
            run_symeig_test(3, (2, 9, 9), largest=largest)
            run_symeig_test(3, (2, 2, 9, 9), largest=largest)

    # test/test_autograd.py::TestAutograd::test_variable_traverse
    def test_variable_traverse(self):
        def get_out_and_unrefed_cycle():
            inp = tl.randn(10, requires_grad=True)
            tmp = inp.view(10, 1)
            out = tmp.view(10)

            # Create a reference cycle that contains an
            # intermediary Variable in the graph
            my_list = []
            my_list.append(tmp)
            my_list.append(my_list)

            return out

        out = get_out_and_unrefed_cycle()
        gc.collect()
        # This will segfault if things have been erroneously released
        out.backward(tl.randn(out.size()))

    # test/test_autograd.py::TestAutograd::test_pow_zero_tensor_gradient
    def test_pow_zero_tensor_gradient(self):
        def run_test(input_size, exponent):
            input = tl.zeros(*input_size, requires_grad=True)
            input.pow(exponent).sum().backward()
            self.assertEqual(input.grad.abs().sum(), 0)

        run_test((10,), tl.zeros(10))
        run_test((10, 10), tl.zeros(10, 10))
        run_test((10,), 0)

    # test/test_autograd.py::TestAutograd::test_node_ordering_when_none_returned
    @unittest.skip(SKIP_CUDA + " (test requires CUDA)")
    def test_node_ordering_when_none_returned(self):
        pass

    # test/test_autograd.py::TestAutograd::test_current_graph_task_id
    @pytest.mark.xfail(strict=True, reason="missing API: tl._C._current_graph_task_id (tl._C does not exist)")
    def test_current_graph_task_id(self):
        id = [-1]

        def hook(_):
            id[0] = tl._C._current_graph_task_id()

        t = tl.tensor(1.0, requires_grad=True).clone()
        t.register_hook(hook)

        t.backward(retain_graph=True)
        base = id[0]
        t.backward(retain_graph=True)
        self.assertEqual(id[0] - base, 1)
        t.backward(retain_graph=True)
        self.assertEqual(id[0] - base, 2)

        self.assertEqual(tl._C._current_graph_task_id(), -1)

    # test/test_autograd.py::TestAutograd::test_current_graph_task_execution_order
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autograd.set_multithreading_enabled and tl._C._current_graph_task_execution_order")
    def test_current_graph_task_execution_order(self):
        predicted = [None]
        all_hooks = []

        def hook(_):
            predicted[0] = tl._C._current_graph_task_execution_order()

        def names(nodes):
            return ", ".join([node.name().split(" ")[-1] for node in nodes]) + "\n"

        def grad_fns(*tensors):
            # or grad accumulator
            out = []
            for t in tensors:
                if t.requires_grad and t.grad_fn is None:
                    out.append(t.clone().grad_fn.next_functions[0][0])
                else:
                    out.append(t.grad_fn)
            return out

        actual = []

        def register_logging_hooks(*tensors):
            # register hooks that log the order in which they are called
            def get_hook(i):
                def hook(t_):
                    actual.append(tensors[i])

                return hook

            for i, t in enumerate(tensors):
                all_hooks.append(t.register_hook(get_hook(i)))

        # Basic example: single path
        t = tl.tensor(1.0, requires_grad=True).clone().sin().exp()
        all_hooks.append(t.register_hook(hook))
        with tl.autograd.set_multithreading_enabled(False):
            t.backward()
        self.assertExpectedInline(
            names(predicted[0]),
            """\
ExpBackward0, SinBackward0, CloneBackward0, torch::autograd::AccumulateGrad
""",
        )

        # We don't exactly follow sequence_nr order
        a = tl.tensor(1.0, requires_grad=True)
        b = tl.tensor(2.0, requires_grad=True)
        c = b.sin()
        d = a.cos()
        out = c * d
        register_logging_hooks(a, b, c, d, out)
        all_hooks.append(out.register_hook(hook))
        with tl.autograd.set_multithreading_enabled(False):
            out.backward()
        self.assertEqual(predicted[0], grad_fns(*actual))
        actual = []

        # Accumulate grad node has more than one input
        a = tl.tensor(1.0, requires_grad=True)
        b = a.sin()
        c = a.cos()
        out = b * c
        register_logging_hooks(a, b, c, out)
        all_hooks.append(out.register_hook(hook))
        with tl.autograd.set_multithreading_enabled(False):
            out.backward()
        self.assertEqual(predicted[0], grad_fns(*actual))
        actual = []

        # Multiple roots are also OK
        a = tl.tensor(1.0, requires_grad=True)
        b = a * 2
        out = b.sin()
        out2 = b.cos()
        out3 = b.cos()
        register_logging_hooks(a, b, out, out2, out3)
        all_hooks.append(out3.register_hook(hook))
        with tl.autograd.set_multithreading_enabled(False):
            tl.autograd.grad((out, out3, out2), inputs=(a,))
        self.assertExpectedInline(
            names(predicted[0]),
            """\
CosBackward0, CosBackward0, SinBackward0, MulBackward0, torch::autograd::AccumulateGrad
""",
        )
        # TODO: Uncomment after update to hooks behavior
        # self.assertEqual(predicted[0], grad_fns(*actual))
        actual = []

        # Case where next node is nullptr
        a = tl.tensor(1.0, requires_grad=True)
        b = a * 2
        out = b.sin()
        register_logging_hooks(a, b, out)
        all_hooks.append(out.register_hook(hook))
        with tl.autograd.set_multithreading_enabled(False):
            out.backward()
        self.assertEqual(predicted[0], grad_fns(*actual))
        actual = []

        # Case where two `inputs` on the same path
        a = tl.tensor(1.0, requires_grad=True)
        b = a * 2
        out = b.sin()
        register_logging_hooks(a, b, out)
        all_hooks.append(out.register_hook(hook))
        with tl.autograd.set_multithreading_enabled(False):
            tl.autograd.grad((out,), inputs=(a, b))
        self.assertEqual(
            names(predicted[0]),
            """\
SinBackward0, MulBackward0, torch::autograd::AccumulateGrad
""",
        )
        # TODO: Uncomment after update to hooks behavior
        # self.assertEqual(predicted[0], grad_fns(*actual))
        actual = []

        # Case where `inputs` specifies a subgraph
        a = tl.tensor(1.0, requires_grad=True)
        b = tl.tensor(1.0, requires_grad=True)
        c = a * b
        out = c.sin()
        register_logging_hooks(a, b, c, out)
        all_hooks.append(out.register_hook(hook))
        with tl.autograd.set_multithreading_enabled(False):
            tl.autograd.grad((out,), inputs=(a,))
        self.assertEqual(
            names(predicted[0]),
            """\
SinBackward0, MulBackward0, torch::autograd::AccumulateGrad
""",
        )
        # TODO: Uncomment after update to hooks behavior
        # self.assertEqual(predicted[0], grad_fns(*actual))
        actual = []

        # Errors when not called in a backward
        with self.assertRaisesRegex(
            RuntimeError, "should only be called during the backward pass"
        ):
            tl._C._current_graph_task_execution_order()

        # Errors when context manager not enabled
        t = tl.tensor(1.0, requires_grad=True).clone().sin().exp()
        all_hooks.append(t.register_hook(hook))
        with self.assertRaisesRegex(
            RuntimeError,
            "expects the current backward to be executed with multithreading disabled",
        ):
            t.backward()

        # Avoid leaking memory
        for h in all_hooks:
            h.remove()

    # test/test_autograd.py::TestAutograd::test_view_replay_enabled
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autograd._force_original_view_tracking / is_view_replay_enabled")
    def test_view_replay_enabled(self):
        def f(x):
            out = x.clone().view(-1)
            # mutate the view, triggering autograd view-replay logic
            out.add_(1)
            return out

        x = tl.ones(2, 2, requires_grad=True)

        # Test as a context manager
        with tl.autograd._force_original_view_tracking(False):
            out = f(x)
            self.assertTrue("AsStridedBackward" in str(out.grad_fn))
            self.assertFalse(tl.autograd.is_view_replay_enabled())
        self.assertFalse(tl.autograd.is_view_replay_enabled())

        with tl.autograd._force_original_view_tracking(True):
            out = f(x)
            self.assertTrue("ViewBackward" in str(out.grad_fn))
            self.assertTrue(tl.autograd.is_view_replay_enabled())
        out = f(x)
        self.assertTrue("AsStridedBackward" in str(out.grad_fn))
        self.assertFalse(tl.autograd.is_view_replay_enabled())

        with tl.autograd._force_original_view_tracking(False):
            tl.autograd._force_original_view_tracking(True)
            out = f(x)
            self.assertTrue("ViewBackward" in str(out.grad_fn))
            self.assertTrue(tl.autograd.is_view_replay_enabled())
        self.assertFalse(tl.autograd.is_view_replay_enabled())

        # Test as a function
        tl.autograd._force_original_view_tracking(False)
        out = f(x)
        self.assertTrue("AsStridedBackward" in str(out.grad_fn))
        self.assertFalse(tl.autograd.is_view_replay_enabled())

        tl.autograd._force_original_view_tracking(True)
        out = f(x)
        self.assertTrue("ViewBackward" in str(out.grad_fn))
        self.assertTrue(tl.autograd.is_view_replay_enabled())

    # test/test_autograd.py::TestAutograd::test_unsafe_set_version_counter
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autograd._unsafe_preserve_version_counter (and tl._C._autograd._unsafe_set_version_counter)")
    def test_unsafe_set_version_counter(self):
        x = tl.ones(2, requires_grad=True).clone()
        x.add_(1)
        x.add_(2)
        self.assertEqual(2, x._version)
        with tl.autograd._unsafe_preserve_version_counter(x):
            x.mul_(2)
            x.mul_(3)
        # version counter doesn't change inside of the context manager
        self.assertEqual(2, x._version)

        tl._C._autograd._unsafe_set_version_counter((x,), (0,))
        self.assertEqual(0, x._version)
        with self.assertRaisesRegex(RuntimeError, "Cannot set"):
            tl._C._autograd._unsafe_set_version_counter((x,), (-1,))

        y = tl.ones(2, requires_grad=True).clone()
        with tl.autograd._unsafe_preserve_version_counter((x, y)):
            x.mul_(2)
            y.mul_(3)
        # version counter doesn't change inside of the context manager
        self.assertEqual(0, x._version)
        self.assertEqual(0, y._version)

    # test/test_autograd.py::TestAutograd::test_current_node
    @unittest.skip(SKIP_DISPATCH + " (MyMode.__torch_dispatch__)")
    def test_current_node(self):
        pass

    # test/test_autograd.py::TestAutograd::test_profiler
    @unittest.skip(SKIP_PROFILER)
    def test_profiler(self):
        pass

    # test/test_autograd.py::TestAutograd::test_profiler_seq_nr
    @unittest.skip(SKIP_PROFILER)
    def test_profiler_seq_nr(self):
        pass

    # test/test_autograd.py::TestAutograd::test_profiler_unboxed_only
    @unittest.skip(SKIP_PROFILER)
    def test_profiler_unboxed_only(self):
        pass

    # test/test_autograd.py::TestAutograd::test_profiler_propagation
    @unittest.skip(SKIP_PROFILER + " and torch.jit (trace, _fork)")
    def test_profiler_propagation(self):
        pass

    # test/test_autograd.py::TestAutograd::test_record_function_callbacks
    @unittest.skip(SKIP_PROFILER)
    def test_record_function_callbacks(self):
        pass

    # test/test_autograd.py::TestAutograd::test_record_function_legacy
    @unittest.skip(SKIP_PROFILER)
    def test_record_function_legacy(self):
        pass

    # test/test_autograd.py::TestAutograd::test_profiler_aggregation_fake
    @unittest.skip(SKIP_PROFILER + " (EventList / FunctionEvent)")
    def test_profiler_aggregation_fake(self):
        pass

    # test/test_autograd.py::TestAutograd::test_profiler_aggregation_table
    @unittest.skip(SKIP_PROFILER)
    def test_profiler_aggregation_table(self):
        pass

    # test/test_autograd.py::TestAutograd::test_profiler_function_event_avg
    @unittest.skip(SKIP_PROFILER + " (FunctionEventAvg)")
    def test_profiler_function_event_avg(self):
        pass

    # test/test_autograd.py::TestAutograd::test_profiler_shapes
    @unittest.skip(SKIP_PROFILER)
    def test_profiler_shapes(self):
        pass

    # test/test_autograd.py::TestAutograd::test_profiler_aggregation_lstm
    @unittest.skip(SKIP_PROFILER)
    def test_profiler_aggregation_lstm(self):
        pass

    # test/test_autograd.py::TestAutograd::test_record_function
    @unittest.skip(SKIP_PROFILER)
    def test_record_function(self):
        pass

    # test/test_autograd.py::TestAutograd::test_record_function_multithreaded
    @unittest.skip(SKIP_PROFILER)
    def test_record_function_multithreaded(self):
        pass

    # test/test_autograd.py::TestAutograd::test_dir
    @unittest.skip(SKIP_COMPLEX + " (torch.randn(10, 10, dtype=torch.cfloat))")
    def test_dir(self):
        pass

    # test/test_autograd.py::TestAutograd::test_inplace_on_view_saved_output
    def test_inplace_on_view_saved_output(self):
        # Test an in-place operation on a view in which the in-place op saves
        # its output. Previously, this created a reference cycle.
        dealloc = [0]

        class IncrementOnDelete:
            def __del__(self):
                dealloc[0] += 1

        def test():
            root = tl.randn(3, 3, requires_grad=True)
            copy = root.clone()
            copy.grad_fn.register_hook(IncrementOnDelete())
            view = copy.view(9)
            tl.nn.functional.relu(view, inplace=True)

        test()
        self.assertEqual(dealloc[0], 1)

    # test/test_autograd.py::TestAutograd::test_inplace_on_view_leaf_errors
    def test_inplace_on_view_leaf_errors(self):
        # Issue #21875: Fail faster (when we try to modify the view vs. in backward())
        x = tl.zeros(1, requires_grad=True)
        y = x.view_as(x)
        with self.assertRaisesRegex(
            RuntimeError,
            "a view of a leaf Variable that "
            "requires grad is being used in "
            "an in-place operation.",
        ):
            y.add_(1)

    # test/test_autograd.py::TestAutograd::test_inplace_on_view_backward
    @pytest.mark.xfail(strict=True, reason="missing API: tl.nn.InstanceNorm2d")
    def test_inplace_on_view_backward(self):
        # Issue #10532: Make sure that this does not raise RuntimeError.
        net = nn.Sequential(nn.InstanceNorm2d(2), nn.ReLU(True))

        x = tl.tensor([[[[1.0, 1.0]]]], requires_grad=True)
        (g,) = tl.autograd.grad(
            net(x).pow(2), [x], grad_outputs=x.new_ones(x.shape), create_graph=True
        )
        tl.autograd.grad(g.sum(), [x])
        self.assertEqual(x, tl.tensor([[[[1.0, 1.0]]]]))

        # https://discuss.pytorch.org/t/freeing-buffer-strange-behavior/31955/8
        inputs = tl.ones((1, 3, 256, 256), requires_grad=True)

        tmp1 = (inputs + 1).view_as(inputs)
        tmp2 = tl.nn.functional.threshold(tmp1, 0.0, 0.0, True)
        prob_interpolated = tl.sigmoid(tmp2)

        gradients = tl.autograd.grad(
            outputs=prob_interpolated,
            inputs=inputs,
            grad_outputs=tl.ones(prob_interpolated.size()),
            create_graph=True,
            retain_graph=True,
        )[0]

        gradient_penalty = gradients.sum()
        gradient_penalty.backward()

        fn = gradient_penalty.grad_fn.next_functions[0][0].next_functions[1][0]
        self.assertEqual(fn.name(), "ThresholdBackwardBackward0")

    # test/test_autograd.py::TestAutograd::test_inplace_on_view_weak_grad_fn
    @pytest.mark.xfail(strict=True, reason="missing API: Tensor.relu_")
    def test_inplace_on_view_weak_grad_fn(self):
        # Issue 23502: Test that b's grad_fn is preserved.
        a = tl.arange(10.0, requires_grad=True)

        b = a.narrow(0, 0, 2).clone().view(-1)
        b.relu_()

        c = b.clone()
        del b
        gc.collect()

        s = c.sum()
        s.backward()
        self.assertEqual(s, tl.tensor(1.0))

        # Issue #21875: Fail faster (when we try to modify the view vs. in backward())
        a = tl.rand(10, requires_grad=True).narrow(0, 0, 10)
        with self.assertRaises(RuntimeError):
            b = a.relu_()

    # test/test_autograd.py::TestAutograd::test_out_variant_raises_when_inputs_require_grad
    @pytest.mark.xfail(strict=True, reason="missing API: out= keyword (tl.mul(a, b, out=x))")
    def test_out_variant_raises_when_inputs_require_grad(self):
        a = tl.randn(2, 2, requires_grad=True)
        b = tl.randn(2, 2, requires_grad=True)
        x = tl.zeros_like(a)

        # out=... functions don't support automatic differentiation currently
        self.assertRaisesRegex(RuntimeError, "out=", lambda: tl.mul(a, b, out=x))

        # the inputs can require grad if we're in no_grad() mode
        with tl.no_grad():
            tl.mul(a, b, out=x)
            self.assertEqual(x, a * b)

        a = tl.randn(2, 2)
        b = tl.randn(2, 2)
        x = tl.zeros(2, 2, requires_grad=True)
        # we should throw an exception if the output requires grad
        self.assertRaisesRegex(RuntimeError, "out=", lambda: tl.mul(a, b, out=x))

    # test/test_autograd.py::TestAutograd::test_anomaly_detect_nan
    @pytest.mark.xfail(strict=True, reason="different behaviour: gI = gO.clone().expand(10); gI[0] = 0 raises 'more than one element of the written-to tensor refers to a single memory location' (PyTorch writes it)")
    def test_anomaly_detect_nan(self):
        size = 10

        class MyFunc(Function):
            @staticmethod
            def forward(ctx, inp1, inp2, fail_0th):
                ctx.fail_0th = fail_0th
                return inp1.sum(0, keepdim=True)

            @staticmethod
            def backward(ctx, gO):
                gI = gO.clone().expand(size)
                gI[0] = 0
                gI[0] /= 0  # Generate a nan
                if ctx.fail_0th:
                    return gI, None, None
                else:
                    return None, gI, None

        inp = tl.rand(size, requires_grad=True)
        out = MyFunc.apply(inp, inp, True)
        out.backward()  # Should not fail

        inp = tl.rand(size, requires_grad=True)
        out = MyFunc.apply(inp, inp, True)
        with self.assertRaisesRegex(
            RuntimeError,
            "Function 'MyFuncBackward' returned nan values in its 0th output.",
        ):
            with warnings.catch_warnings(record=True) as w:
                with detect_anomaly():
                    out.backward()
            self.assertIn("No forward pass information", str(w[0].message))

        inp = tl.rand(size, requires_grad=True)
        with self.assertRaisesRegex(
            RuntimeError,
            "Function 'MyFuncBackward' returned nan values in its 1th output.",
        ):
            with warnings.catch_warnings(record=True) as w:
                with detect_anomaly():
                    out = MyFunc.apply(inp, inp, False)
                    out.backward()
            self.assertIn("MyFunc.apply", str(w[0].message))

    # test/test_autograd.py::TestAutograd::test_calculate_shape_util
    @unittest.skip(SKIP_NESTED + " (torch.nested.as_nested_tensor)")
    def test_calculate_shape_util(self):
        pass

    # test/test_autograd.py::TestAutograd::test_nested_anomaly_detect_nan
    @pytest.mark.xfail(strict=True, reason="missing warning: detect_anomaly emits no 'Error detected in MyFunc2Backward. No forward pass information' warning for a node made in backward (only 1 warning, PyTorch 2)")
    def test_nested_anomaly_detect_nan(self):
        size = 10

        class MyFunc(Function):
            @staticmethod
            def forward(ctx, inp1, fail_0th):
                ctx.fail_0th = fail_0th
                ctx.save_for_backward(inp1)
                return inp1.sum(0, keepdim=True)

            @staticmethod
            def backward(ctx, gO):
                (inp,) = ctx.saved_tensors
                fail_0th = ctx.fail_0th
                g = gO.clone().expand(size)
                gI = MyFunc2.apply(g * inp, g + inp, fail_0th)
                return gI, None

        class MyFunc2(Function):
            @staticmethod
            def forward(ctx, inp1, inp2, fail_0th):
                ctx.fail_0th = fail_0th
                return inp1 * 2.0 + inp2

            @staticmethod
            def backward(ctx, gO):
                fail_0th = ctx.fail_0th
                g1 = gO.clone()
                g2 = gO.clone()
                g1[0] = 0
                g2[0] = 0
                # generate a nan
                if fail_0th:
                    g1[0] /= 0
                else:
                    g2[0] /= 0
                return g1, g2, None

        inp = tl.rand(size, requires_grad=True)
        out = MyFunc.apply(inp, True)
        (ginp,) = tl.autograd.grad(out, (inp,), create_graph=True)
        gsum = ginp.sum()
        gsum.backward()  # should not fail

        inp = tl.rand(size, requires_grad=True)
        out = MyFunc.apply(inp, True)
        (ginp,) = tl.autograd.grad(out, (inp,), create_graph=True)
        gsum = ginp.sum()
        with warnings.catch_warnings(record=True) as w:
            with self.assertRaisesRegex(
                RuntimeError,
                "Function 'MyFunc2Backward' returned nan values in its 0th output.",
            ):
                with detect_anomaly():
                    gsum.backward()
        self.assertIn("No forward pass information", str(w[1].message))

        inp = tl.rand(size, requires_grad=True)
        with warnings.catch_warnings(record=True) as w:
            with self.assertRaisesRegex(
                RuntimeError,
                "Function 'MyFunc2Backward' returned nan values in its 1th output.",
            ):
                with detect_anomaly():
                    out = MyFunc.apply(inp, False)
                    (ginp,) = tl.autograd.grad(out, (inp,), create_graph=True)
                    gsum = ginp.sum()
                    gsum.backward()
        self.assertIn("MyFunc2.apply", str(w[1].message))
        self.assertIn("MyFunc.apply", str(w[2].message))

    # test/test_autograd.py::TestAutograd::test_anomaly_grad_warnings
    @pytest.mark.xfail(strict=True, reason="different behaviour: under warnings.simplefilter('error') the anomaly 'Error detected in PowBackward0' RuntimeWarning is raised in place of the RuntimeError (PyTorch prints it to stderr and raises the RuntimeError)")
    def test_anomaly_grad_warnings(self):
        # PyTorch won't throw warnings if there is an error
        # but we'd want to at least see them in stderr

        class StdErrDiverter:
            def __enter__(self):
                self.stderr_orig = sys.stderr
                self.stderr_new = io.StringIO()
                sys.stderr = self.stderr_new
                return self

            def __exit__(self, *args):
                self.captured = self.stderr_new.getvalue()
                sys.stderr = self.stderr_orig

        # if the warnings don't throw, they will be handled as regular warnings
        with self.assertRaisesRegex(
            RuntimeError,
            "one of the variables needed for gradient computation has been "
            "modified by an inplace operation",
        ):
            with warnings.catch_warnings(record=True) as w:
                with detect_anomaly():
                    a = tl.randn(5, requires_grad=True)
                    d1 = a + 1
                    d2 = d1**2
                    d1 += 1
                    tl.autograd.grad(d2.sum(), a)

        self.assertEqual(len(w), 2)
        self.assertIn("Anomaly Detection has been enabled", str(w[0].message))
        self.assertIn("Error detected in PowBackward0", str(w[1].message))

        # if the warning throws, it will be printed to sys.stderr
        with self.assertRaisesRegex(
            RuntimeError,
            "one of the variables needed for gradient computation has been "
            "modified by an inplace operation",
        ):
            with warnings.catch_warnings(record=True) as w:
                with detect_anomaly():
                    warnings.simplefilter("error")
                    with StdErrDiverter() as s:
                        a = tl.randn(5, requires_grad=True)
                        d1 = a + 1
                        d2 = d1**2
                        d1 += 1
                        tl.autograd.grad(d2.sum(), a)

        self.assertEqual(len(w), 1)
        self.assertIn("Anomaly Detection has been enabled", str(w[0].message))
        self.assertIn("Error detected in PowBackward0", s.captured)

    # test/test_autograd.py::TestAutograd::test_anomaly_assign_parent_cleanup
    def test_anomaly_assign_parent_cleanup(self):
        # Test that python objects created are properly cleaned up when assign_parent is called

        def get_ref():
            # we use torch.exp here but any function that will construct a new node in its
            # backward call in grad mode will work
            x = tl.randn(2, 2, requires_grad=True)
            t = x.exp()

            # ExpBackward calls mul, creating the MulBackward node when create_graph=True.
            # In anomaly mode, a PyObject referencing MulBackward's "parent" ExpBackward is added to
            # MulBackward's anomaly metadata dict, creating the following reference chain:
            #
            # grad -> MulBackward -> PyObject -> ExpBackward
            #
            with detect_anomaly():
                grad = tl.autograd.grad(t, x, tl.ones_like(t), create_graph=True)

            # We add a weak reference to a new Foo object, which we insert into ExpBackward's metadata dict
            #
            # (PyObject) -> ExpBackward -> dict -> *Foo*
            #            t ----^        WeakRef ---^
            #
            # We want to test that when grad goes out of scope at the end of this function that PyObject is destroyed
            # We can test this by seeing whether Foo is not kept alive once t is destroyed
            class Foo:
                pass

            my_obj = Foo()
            meta_dict = t.grad_fn.metadata
            meta_dict[0] = my_obj
            ref = weakref.ref(my_obj)
            return t, ref

        t, ref = get_ref()
        self.assertIsNotNone(ref())
        del t
        self.assertIsNone(ref())

    # test/test_autograd.py::TestAutograd::test_nested_anomaly_printstack_cleanup
    def test_nested_anomaly_printstack_cleanup(self):
        # Test if metadata dict PyObject is properly destroyed
        def get_ref():
            # This is similar to the construction in test_anomaly_assign_parent_cleanup:
            #
            # MyFuncBackward2 -> PyObject -> MyFuncBackward -> dict -> Foo
            #                               out ---^         WeakRef ---^
            #
            # We want to check that Foo is still properly destroyed even when MyFunc2Backward's
            # AnomalyMetadata calls printstack, which does some python object manipulation.
            #
            # You might be wondering why we still have to test_anomaly_assign_parent_cleanup,
            # since if PyObject is not destroyed here, wouldn't this test would detect that also?
            # The answer is that custom function's PyObject (THPFunction) actually only hold
            # a weak reference to the c++ node!
            class MyFunc(Function):
                @staticmethod
                def forward(ctx, x):
                    ctx.save_for_backward(x)
                    return x

                @staticmethod
                def backward(ctx, gO):
                    (x,) = ctx.saved_tensors
                    return MyFunc2.apply(x)

            class MyFunc2(Function):
                @staticmethod
                def forward(ctx, x):
                    return x

                @staticmethod
                def backward(ctx, gO):
                    return gO + float("NaN")

            inp = tl.rand(1, requires_grad=True)
            out = MyFunc.apply(inp)
            (ginp,) = tl.autograd.grad(out, (inp,), create_graph=True)

            with warnings.catch_warnings(record=True) as w:
                with self.assertRaisesRegex(
                    RuntimeError,
                    "Function 'MyFunc2Backward' returned nan values in its 0th output.",
                ):
                    with detect_anomaly():
                        ginp.backward()

            class Foo:
                pass

            my_obj = Foo()
            meta_dict = out.grad_fn.metadata
            meta_dict[0] = my_obj
            ref = weakref.ref(my_obj)
            return out, ref

        t, ref = get_ref()
        self.assertIsNotNone(ref())
        del t
        self.assertIsNone(ref())

    # test/test_autograd.py::TestAutograd::test_anomaly_mode_no_check_nan
    def test_anomaly_mode_no_check_nan(self):
        class MyFunc(tl.autograd.Function):
            @staticmethod
            def forward(ctx, inp):
                return inp.clone()

            @staticmethod
            def backward(ctx, gO):
                return tl.tensor(float("nan")).expand(10, 10)

        def run_fn(a):
            out = MyFunc.apply(a)
            return out.sum()

        with warnings.catch_warnings(record=True) as w:
            with tl.autograd.detect_anomaly(check_nan=False):
                inp = tl.rand(10, 10, requires_grad=True)
                out = run_fn(inp)
                out.backward(retain_graph=True)

                with tl.autograd.detect_anomaly(check_nan=True):
                    with self.assertRaisesRegex(
                        RuntimeError,
                        "Function 'MyFuncBackward' returned nan values in its 0th output.",
                    ):
                        out.backward(retain_graph=True)

                out.backward()

    # test/test_autograd.py::TestAutograd::test_forward_traceback_preserves_exception_with_checkpoint
    @unittest.skip(SKIP_CUDA + " and " + SKIP_LIBRARY + " (CUDA memory history, custom_op)")
    def test_forward_traceback_preserves_exception_with_checkpoint(self):
        pass

    # test/test_autograd.py::TestAutograd::test_no_grad_copy
    @pytest.mark.xfail(strict=True, reason="missing API: Tensor.data_ptr")
    def test_no_grad_copy(self):
        # create autograd function that saves grad pointer as class static
        class MyFunc(Function):
            static_grad_ptr = None

            @staticmethod
            def forward(ctx, inp1, inp2):
                return inp1 + inp2

            @staticmethod
            def backward(ctx, grad):
                MyFunc.static_grad_ptr = grad.data_ptr()
                return grad, grad

        class NonContGradFunc(Function):
            @staticmethod
            def forward(ctx, inp1):
                ctx.size = inp1.size()
                return tl.tensor([1.0])

            @staticmethod
            def backward(ctx, grad):
                return tl.ones(1).expand(ctx.size)

        a = tl.randn(5, 6, requires_grad=True)
        b = tl.randn(5, 6, requires_grad=True)
        # non-contiguous grad should be copied
        NonContGradFunc.apply(MyFunc.apply(a, b)).backward()
        self.assertFalse(a.grad.data_ptr() == MyFunc.static_grad_ptr)
        self.assertFalse(b.grad.data_ptr() == MyFunc.static_grad_ptr)
        # test case that should trigger no copy for one of a,b
        a.grad = b.grad = None
        MyFunc.apply(a, b)[1][0].backward()
        p_g = MyFunc.static_grad_ptr
        p_a = a.grad.data_ptr()
        p_b = b.grad.data_ptr()
        # check a,b uses different grad buffer
        self.assertFalse(p_a == p_b)
        # check one of them is using the computed buffer
        self.assertTrue(p_a == p_g or p_b == p_g)

    # test/test_autograd.py::TestAutograd::test_no_grad_copy_sparse
    @unittest.skip(SKIP_SPARSE + " (sparse_coo_tensor grads, embedding_bag(sparse=True))")
    def test_no_grad_copy_sparse(self):
        pass

    # test/test_autograd.py::TestAutograd::test_gradcheck_single_input
    @pytest.mark.xfail(strict=True, reason="missing API: gradgradcheck(fast_mode=...)")
    def test_gradcheck_single_input(self):
        def check(fast_mode):
            def f(inp):
                return inp.mul(5)

            gradcheck(
                f,
                tl.rand(10, dtype=tl.float64, requires_grad=True),
                fast_mode=fast_mode,
            )
            gradgradcheck(
                f,
                tl.rand(10, dtype=tl.float64, requires_grad=True),
                fast_mode=fast_mode,
            )

        check(fast_mode=True)
        check(fast_mode=False)

    # test/test_autograd.py::TestAutograd::test_gradcheck_input (parametrized over layout)
    @unittest.skip(SKIP_SPARSE + " (layout in sparse_coo/csr/csc/bsr/bsc)")
    def test_gradcheck_input(self):
        pass

    # test/test_autograd.py::TestAutograd::test_gradcheck_nondeterministic
    @pytest.mark.xfail(strict=True, reason="missing safety error: gradcheck of a nondeterministic backward (jitter 1e-6) returns True (PyTorch raises 'Backward is not reentrant')")
    def test_gradcheck_nondeterministic(self):
        class NonDetFunc(Function):
            @staticmethod
            def forward(ctx, x, jitter=0.0):
                ctx._jitter = jitter
                return x

            @staticmethod
            def backward(ctx, grad_out):
                return (
                    NonDetFunc.apply(grad_out, ctx._jitter)
                    * (1 + tl.rand_like(grad_out) * ctx._jitter),
                    None,
                )

        def check(fast_mode):
            inp = tl.randn(5, 5, dtype=tl.double, requires_grad=True)
            gradcheck(
                lambda x: NonDetFunc.apply(x, 0.0),
                inp,
                check_batched_grad=False,
                fast_mode=fast_mode,
            )
            with self.assertRaisesRegex(RuntimeError, "Backward is not reentrant"):
                gradcheck(
                    lambda x: NonDetFunc.apply(x, 1e-6),
                    inp,
                    check_batched_grad=False,
                    fast_mode=fast_mode,
                )
            with self.assertRaisesRegex(RuntimeError, "Backward is not reentrant"):
                gradgradcheck(
                    lambda x: NonDetFunc.apply(x, 1e-12),
                    inp,
                    check_batched_grad=False,
                    fast_mode=fast_mode,
                )
            gradcheck(
                lambda x: NonDetFunc.apply(x, 0.0),
                inp,
                nondet_tol=1e-5,
                check_batched_grad=False,
                fast_mode=fast_mode,
            )
            gradcheck(
                lambda x: NonDetFunc.apply(x, 1e-6),
                inp,
                nondet_tol=1e-5,
                check_batched_grad=False,
                fast_mode=fast_mode,
            )
            gradgradcheck(
                lambda x: NonDetFunc.apply(x, 1e-12),
                inp,
                nondet_tol=1e-5,
                check_batched_grad=False,
                fast_mode=fast_mode,
            )

        check(fast_mode=True)
        check(fast_mode=False)

    # test/test_autograd.py::TestAutograd::test_gradcheck_validates_inputs
    @unittest.skip(SKIP_SPARSE + " (x.to_sparse(), masked gradcheck)")
    def test_gradcheck_validates_inputs(self):
        pass

    # test/test_autograd.py::TestAutograd::test_gradcheck_validates_input_mkldnn
    @unittest.skip(SKIP_MKLDNN + " and " + SKIP_FWAD + " (check_forward_ad=True)")
    def test_gradcheck_validates_input_mkldnn(self):
        pass

    # test/test_autograd.py::TestAutograd::test_gradcheck_test_outputs
    @unittest.skip(SKIP_SPARSE + " and " + SKIP_MKLDNN + " outputs")
    def test_gradcheck_test_outputs(self):
        pass

    # test/test_autograd.py::TestAutograd::test_gradcheck_check_no_differentiable_outputs
    @pytest.mark.xfail(strict=True, reason="missing safety error: gradcheck(lambda x: tl.tensor([x]), x) returns True (PyTorch raises 'Numerical gradient for function expected to be zero')")
    def test_gradcheck_check_no_differentiable_outputs(self):
        def check(fast_mode):
            # When none of the outputs are differentiable, but numerical gradient is not zero
            x = tl.ones((1,), requires_grad=True)
            with self.assertRaisesRegex(
                RuntimeError, "Numerical gradient for function expected to be zero"
            ):
                gradcheck(lambda x: tl.tensor([x]), x)
            self.assertFalse(
                gradcheck(
                    lambda x: tl.tensor([x]),
                    x,
                    raise_exception=False,
                    fast_mode=fast_mode,
                )
            )

            # succeed when no outputs at all
            self.assertTrue(gradcheck(lambda x: (), (x,), fast_mode=fast_mode))

        check(fast_mode=True)
        check(fast_mode=False)

    # test/test_autograd.py::TestAutograd::test_gradcheck_check_batched_grad
    @unittest.skip(SKIP_SPARSE + " (x.to_sparse(), masked gradcheck)")
    def test_gradcheck_check_batched_grad(self):
        pass

    # test/test_autograd.py::TestAutograd::test_gradcheck_backward_mul_by_grad_output
    @unittest.skip(SKIP_SPARSE + " (sparse grads: to_sparse(1), sparse_dim checks)")
    def test_gradcheck_backward_mul_by_grad_output(self):
        pass

    # test/test_autograd.py::TestAutograd::test_gradcheck_undefined_grad
    @pytest.mark.xfail(strict=True, reason="missing check: gradcheck never calls backward with an undefined (None) output grad (default check_undefined_grad=False, PyTorch True; True also passes), so no 'Expected backward function to handle undefined output grads'")
    def test_gradcheck_undefined_grad(self):
        def check(fast_mode):
            # when encounter runtime error while running backward
            def fn(x):
                def hook(x):
                    if x is None:
                        raise RuntimeError("x is undefined")

                y = x.clone()
                y.register_hook(hook)
                return y

            x = tl.ones(1, dtype=tl.double, requires_grad=True)
            with self.assertWarnsRegex(
                UserWarning,
                "Backwards compatibility: New undefined gradient support checking feature",
            ):
                with self.assertRaisesRegex(
                    RuntimeError,
                    "Expected backward function to handle undefined output grads",
                ):
                    gradcheck(fn, (x,), fast_mode=fast_mode)
                self.assertFalse(
                    gradcheck(fn, (x,), raise_exception=False, fast_mode=fast_mode)
                )

        check(fast_mode=True)
        check(fast_mode=False)

    # test/test_autograd.py::TestAutograd::test_gradcheck_jacobian_mismatch
    @unittest.skip(SKIP_COMPLEX + " (complex128 inputs, torch.complex / torch.real)")
    def test_gradcheck_jacobian_mismatch(self):
        pass

    # test/test_autograd.py::TestAutograd::test_gradcheck_dense_and_sparse_inputs
    @unittest.skip(SKIP_SPARSE + " (to_sparse input)")
    def test_gradcheck_dense_and_sparse_inputs(self):
        pass

    # test/test_autograd.py::TestAutograd::test_gradcheck_multiple_mkldnn_inputs
    @unittest.skip(SKIP_MKLDNN + " (to_mkldnn inputs)")
    def test_gradcheck_multiple_mkldnn_inputs(self):
        pass

    # test/test_autograd.py::TestAutograd::test_gradcheck_output_shape_or_dtype_depend_on_values
    @pytest.mark.xfail(strict=True, reason="missing safety error: gradcheck returns True when the output shape changes under perturbation (PyTorch raises 'return outputs with the same shape when inputs are perturbed')")
    def test_gradcheck_output_shape_or_dtype_depend_on_values(self):
        def check(fast_mode):
            def fn(x):
                if tl.all(x >= 1):
                    return tl.cat([x, x])
                else:
                    return x

            a = tl.ones(1, dtype=tl.double, requires_grad=True)
            with self.assertRaisesRegex(
                AssertionError,
                "return outputs with the same shape when inputs are perturbed",
            ):
                self.assertTrue(gradcheck(fn, (a,), fast_mode=fast_mode))

            def fn2(x):
                if tl.all(x >= 1):
                    return x.to(tl.float32)
                else:
                    return x

            with self.assertRaisesRegex(
                AssertionError,
                "return outputs with the same dtype when inputs are perturbed",
            ):
                self.assertTrue(gradcheck(fn2, (a,), fast_mode=fast_mode))

        check(fast_mode=True)
        check(fast_mode=False)

    # test/test_autograd.py::TestAutograd::test_gradcheck_complex_non_complex_outputs
    @unittest.skip(SKIP_COMPLEX + " (torch.complex outputs, complex128 input)")
    def test_gradcheck_complex_non_complex_outputs(self):
        pass

    # test/test_autograd.py::TestAutograd::test_gradcheck_adjusted_atol_complex_inputs
    @unittest.skip(SKIP_COMPLEX + " (complex128 input)")
    def test_gradcheck_adjusted_atol_complex_inputs(self):
        pass

    # test/test_autograd.py::TestAutograd::test_gradcheck_get_numerical_jacobian
    @pytest.mark.xfail(strict=True, reason="missing API: tensorlite.autograd.gradcheck.get_numerical_jacobian")
    def test_gradcheck_get_numerical_jacobian(self):
        # get_numerical_jacobian is deprecated and no longer used internally by gradcheck
        from tensorlite.autograd.gradcheck import get_numerical_jacobian

        def fn(inputs):
            # get_numerical_jacobian requires fn to take inputs as a tuple
            # and returns the jacobian wrt the first output
            x = inputs[0]
            y = inputs[1]
            return 2 * x + y, x + 2 * y

        a = tl.rand(2, 2, requires_grad=True, dtype=tl.float64)
        b = tl.rand(2, 2, requires_grad=True, dtype=tl.float64)

        with self.assertWarnsRegex(
            FutureWarning, "`get_numerical_jacobian` was part of PyTorch's private API"
        ):
            jacobian = get_numerical_jacobian(fn, (a, b), target=a, eps=1e-6)
        self.assertEqual(jacobian[0], 2 * tl.eye(4, dtype=tl.double))

        with self.assertWarnsRegex(
            FutureWarning, "`get_numerical_jacobian` was part of PyTorch's private API"
        ):
            jacobian = get_numerical_jacobian(fn, (a, b), eps=1e-6)
        self.assertEqual(jacobian[0], 2 * tl.eye(4, dtype=tl.double))
        self.assertEqual(jacobian[1], 1 * tl.eye(4, dtype=tl.double))

        with self.assertRaisesRegex(ValueError, "Expected grad_out to be 1.0"):
            jacobian = get_numerical_jacobian(fn, (a, b), eps=1e-6, grad_out=2.0)

    # test/test_autograd.py::TestAutograd::test_gradcheck_get_analytical_jacobian
    @pytest.mark.xfail(strict=True, reason="missing API: tensorlite.autograd.gradcheck.get_analytical_jacobian")
    def test_gradcheck_get_analytical_jacobian(self):
        from tensorlite.autograd.gradcheck import get_analytical_jacobian

        def fn(x, y):
            return 2 * x + y, x + 2 * y

        a = tl.rand(2, 2, requires_grad=True, dtype=tl.float64)
        b = tl.rand(2, 2, requires_grad=True, dtype=tl.float64)

        outputs = fn(a, b)
        with self.assertWarnsRegex(
            FutureWarning, "`get_analytical_jacobian` was part of PyTorch's private API"
        ):
            (
                jacobians,
                reentrant,
                correct_grad_sizes,
                correct_grad_types,
            ) = get_analytical_jacobian((a, b), outputs[0])
        self.assertEqual(jacobians[0], 2 * tl.eye(4, dtype=tl.double))
        self.assertEqual(jacobians[1], 1 * tl.eye(4, dtype=tl.double))
        self.assertTrue(reentrant)

        class NonDetFunc(Function):
            @staticmethod
            def forward(ctx, x, jitter=0.0):
                ctx._jitter = jitter
                return x

            @staticmethod
            def backward(ctx, grad_out):
                return (
                    NonDetFunc.apply(grad_out, ctx._jitter)
                    * (1 + tl.rand_like(grad_out) * ctx._jitter),
                    None,
                )

        outputs = NonDetFunc.apply(a, 1e-6)
        with self.assertWarnsRegex(
            FutureWarning, "`get_analytical_jacobian` was part of PyTorch's private API"
        ):
            (
                jacobians,
                reentrant,
                correct_grad_sizes,
                correct_grad_types,
            ) = get_analytical_jacobian((a,), outputs)
        self.assertFalse(reentrant)

        with self.assertRaisesRegex(ValueError, "Expected grad_out to be 1.0"):
            jacobians, _, _, _ = get_analytical_jacobian((a,), outputs, grad_out=2.0)

    # test/test_autograd.py::TestAutograd::test_gradcheck_custom_error
    def test_gradcheck_custom_error(self):
        from tensorlite.autograd.gradcheck import GradcheckError

        def check(fast_mode):
            def fn(x):
                y = x.clone()
                y.register_hook(lambda x: x + 1e-2)
                return y

            x = tl.ones(2, 2, requires_grad=True)
            with self.assertRaisesRegex(
                GradcheckError, "Jacobian mismatch for output 0 with respect to input 0"
            ):
                gradcheck(fn, (x,), fast_mode=fast_mode)
            with self.assertRaisesRegex(
                RuntimeError, "Jacobian mismatch for output 0 with respect to input 0"
            ):
                gradcheck(fn, (x,), fast_mode=fast_mode)
            self.assertFalse(
                gradcheck(fn, (x,), raise_exception=False, fast_mode=fast_mode)
            )

            def fn2(x):
                raise RuntimeError("Not a GradcheckError!")

            # Checks that when raise_exception=False, non-GradcheckErrors are not caught by gradcheck
            with self.assertRaisesRegex(RuntimeError, "Not a GradcheckError!"):
                gradcheck(fn2, (x,), fast_mode=fast_mode, raise_exception=False)

        check(fast_mode=True)
        check(fast_mode=False)

    # test/test_autograd.py::TestAutograd::test_gradcheck_forward_ad
    @unittest.skip(SKIP_FWAD + " (check_forward_ad=True, fwAD.make_dual)")
    def test_gradcheck_forward_ad(self):
        pass

    # test/test_autograd.py::TestAutograd::test_gradcheck_forward_ad_runs_with_no_requires_grad
    @unittest.skip(SKIP_FWAD + " (Function.jvp, check_forward_ad=True)")
    def test_gradcheck_forward_ad_runs_with_no_requires_grad(self):
        pass

    # test/test_autograd.py::TestAutograd::test_gradcheck_forward_ad_respects_requires_grad
    @unittest.skip(SKIP_FWAD + " (Function.jvp, check_forward_ad=True)")
    def test_gradcheck_forward_ad_respects_requires_grad(self):
        pass

    # test/test_autograd.py::TestAutograd::test_gradcheck_check_forward_or_backward_only
    @unittest.skip(SKIP_FWAD + " (Function.jvp, check_forward_ad in (True, False))")
    def test_gradcheck_check_forward_or_backward_only(self):
        pass

    # test/test_autograd.py::TestAutograd::test_gradcheck_forward_ad_batched_grad
    @unittest.skip(SKIP_FWAD + " (check_batched_forward_grad=True)")
    def test_gradcheck_forward_ad_batched_grad(self):
        pass

    # test/test_autograd.py::TestAutograd::test_version_counter
    def test_version_counter(self):
        x = tl.randn(1, 2)

        # In-place op bumps version
        x_saved_version = x._version
        x.add_(1).add_(1)
        self.assertTrue(x._version > x_saved_version)

        # Differentiable view shares version counter
        xz = x[:]
        self.assertTrue(x._version == xz._version)
        xz.add_(1)
        self.assertTrue(x._version == xz._version)

        # `x.data = y` preserves version counter of `x`
        x_saved_version = x._version
        x.data = tl.randn(2, 3)
        self.assertTrue(x._version == x_saved_version)
        x.add_(1)
        self.assertTrue(x._version > x_saved_version)
        # Make sure `x` is still using the same version counter it shares with `xz`
        self.assertTrue(x._version == xz._version)

        # In-place op on `xz` also updates version of `x`,
        # because they share the version counter
        xz.add_(1)
        self.assertTrue(x._version == xz._version)

    # test/test_autograd.py::TestAutograd::test_set_data_tensorimpl_type
    @unittest.skip(SKIP_SPARSE + " (x.data = sparse_coo_tensor)")
    def test_set_data_tensorimpl_type(self):
        pass

    # test/test_autograd.py::TestAutograd::test_set_data_preserve_pyobj
    def test_set_data_preserve_pyobj(self):
        a = tl.randn(1, 2)
        b = tl.randn(1, 2)
        b_id_saved = id(b)
        b.data = a
        self.assertTrue(b_id_saved == id(b))

    # test/test_autograd.py::TestAutograd::test_set_data_self_requires_grad
    @pytest.mark.xfail(strict=True, reason="missing safety error: a.data = int64 tensor on a float tensor requiring grad succeeds, leaving an int64 tensor with requires_grad=True (PyTorch: 'must be floating point or complex dtype')")
    def test_set_data_self_requires_grad(self):
        a = tl.tensor(1.0, requires_grad=True)
        b = tl.tensor(2.0)
        c = tl.tensor(3, dtype=tl.int64)
        a.data = b
        with self.assertRaisesRegex(
            RuntimeError, "must be floating point or complex dtype"
        ):
            a.data = c

    # test/test_autograd.py::TestAutograd::test_thread_shutdown
    @pytest.mark.xfail(strict=True, reason="missing API: tl.backends.mps / tl.xpu (and tl.cuda in the subprocess code)")
    @unittest.skipIf(IS_WINDOWS, "Skipping because doesn't work for windows")
    def test_thread_shutdown(self):
        code = """import tensorlite as tl
from tensorlite.autograd import Function
class MyFunction(Function):
    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad):
        return grad

# Run on cuda if it is available to ensure that the worker thread
# is properly initialized by the time we exit.
device = "cuda" if tl.cuda.is_available() else "cpu"

for shape in [(1,), ()]:
    v = tl.ones(shape, requires_grad=True, device=device)
    MyFunction.apply(v).backward()
"""
        s = PortTestCase.runWithPytorchAPIUsageStderr(code)
        # The autograd engine creates worker threads only when GPU devices are present.
        # So make sure that we do shutdown threads when we're testing cuda and make sure
        # that there is no thread to shutdown when we're not using cuda.
        if TEST_CUDA or tl.backends.mps.is_available() or tl.xpu.is_available():
            self.assertRegex(s, "PYTORCH_API_USAGE torch.autograd.thread_shutdown")
        else:
            self.assertNotRegex(s, "PYTORCH_API_USAGE torch.autograd.thread_shutdown")

    # test/test_autograd.py::TestAutograd::test_deep_reentrant
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autograd.Variable")
    @unittest.skipIf(
        IS_MACOS,
        "Fails with SIGBUS on macOS; https://github.com/pytorch/pytorch/issues/25941",
    )
    def test_deep_reentrant(self):
        class DeepReentrant(Function):
            @staticmethod
            def forward(ctx, x):
                with tl.enable_grad():
                    ctx.x = Variable(x.detach(), requires_grad=True)
                    ctx.x = ctx.x - 1
                return ctx.x.detach()

            @staticmethod
            def backward(ctx, x):
                if ctx.x < 0:
                    return x
                with tl.enable_grad():
                    DeepReentrant.apply(ctx.x).sum().backward()
                return x

        # Test stack overflow escape mechanism
        v = tl.tensor(2000.0, requires_grad=True)
        # This will cause stack overflow if reentrant calls are handled
        # in the same thread recursively
        DeepReentrant.apply(v).sum().backward()

        # Test stack overflow escape mechanism multiple times
        # to ensure reusing workers in the pool works fine
        v2 = tl.tensor(200.0, requires_grad=True)
        DeepReentrant.apply(v2).sum().backward()

    # test/test_autograd.py::TestAutograd::test_reentrant_priority
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autograd.Variable")
    def test_reentrant_priority(self):
        order = []

        class MyFunction(Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, x):
                order.append("MyFunction")
                return x

        class Reentrant(Function):
            @staticmethod
            def forward(ctx, x):
                with tl.enable_grad():
                    ctx.x = Variable(x.detach(), requires_grad=True)
                    ctx.x = ctx.x - 1
                return ctx.x.detach()

            @staticmethod
            def backward(ctx, x):
                order.append("Reentrant")
                if ctx.x < 0:
                    return x
                with tl.enable_grad():
                    Reentrant.apply(ctx.x).backward()
                return x

        a = MyFunction.apply(tl.tensor(6.0, requires_grad=True))
        b = Reentrant.apply(tl.tensor(9.0, requires_grad=True))
        v = a * b
        v.backward()
        # The tasks for the Reentrant and MyFunction backward() will be added
        # to the queue in the autograd engine at the same time. The backward
        # for Reentrant will be executed first, which will then add other
        # backward tasks to the queue. We want to ensure all the reentrant tasks
        # are prioritized over the MyFunction backward task regardless of their
        # sequence numbers
        self.assertEqual(len(order), 11)
        self.assertEqual(order.count("Reentrant"), 10)
        self.assertEqual(order[-1], "MyFunction")

    # test/test_autograd.py::TestAutograd::test_checkpointing
    @slowTest
    def test_checkpointing(self):
        num_inp = 2000
        nz_inp = 10
        nz_out = 10
        nz_bottleneck = 1000

        # small proxy network for some complex reasoning we want to do per input
        module = nn.Sequential(
            nn.Linear(nz_inp, nz_bottleneck),
            nn.ReLU(),
            nn.Linear(nz_bottleneck, nz_inp),
        )

        feat_combined = []
        for _ in range(num_inp):
            data_r = tl.empty(1, nz_inp)
            data_r.uniform_()
            data_r.requires_grad = True
            feat_r = checkpoint(module, data_r, use_reentrant=True)
            feat_combined.append(feat_r)

        # compute mean as a proxy for some joint reasoning
        mean_combined = tl.stack(feat_combined).mean()
        mean_combined.backward()

    def _test_checkpointing_non_reentrant_autocast(self, device_type):
        for enabled in [True, False]:

            def foo(x, y, z):
                # torch.mm is on autocast's list of ops that should run in
                # the autocast precision
                x = tl.mm(x, y)
                y = tl.mm(x, z)
                z = tl.mm(z, z)
                expected_dtype = tl.float32 if not enabled else tl.bfloat16
                self.assertEqual(expected_dtype, z.dtype)
                return z

            x = tl.randn(3, 3, requires_grad=True)
            y = tl.randn(3, 3, requires_grad=True)
            z = tl.randn(3, 3, requires_grad=True)
            if device_type == "cuda":
                x = x.cuda()
                y = y.cuda()
                z = z.cuda()

            with tl.autocast(
                enabled=enabled, device_type=device_type, dtype=tl.bfloat16
            ):
                loss = checkpoint(foo, x, y, z, use_reentrant=False)
                loss = loss.sum()

            # Without saving + recasting the autocast type, would raise error in autograd
            # about mismatched dtypes.
            loss.backward()  # triggers recomputation to check it runs in bfloat

    # test/test_autograd.py::TestAutograd::test_checkpointing_non_reentrant_autocast_cpu
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autocast")
    def test_checkpointing_non_reentrant_autocast_cpu(self):
        """
        Test that autocast args such as the dtype are preserved during non-reentrant
        checkpoint recomputation on CPU.
        """
        self._test_checkpointing_non_reentrant_autocast(device_type="cpu")

    # test/test_autograd.py::TestAutograd::test_checkpointing_non_reentrant_autocast_gpu
    @unittest.skip(SKIP_CUDA + " (Test requires CUDA bf16 support)")
    def test_checkpointing_non_reentrant_autocast_gpu(self):
        pass

    # test/test_autograd.py::TestAutograd::test_checkpointing_without_reentrant_memory_savings
    @unittest.skip(SKIP_CUDA + " (Test requires CUDA: torch.cuda.max_memory_allocated)")
    def test_checkpointing_without_reentrant_memory_savings(self):
        pass

    # test/test_autograd.py::TestAutograd::test_checkpointing_without_reentrant_custom_function_works
    @pytest.mark.xfail(strict=True, reason="missing error: a second ctx.saved_tensors in backward of a checkpoint-recomputed Function returns the tensors (PyTorch: 'Unpack is being triggered for a tensor that was already unpacked once')")
    def test_checkpointing_without_reentrant_custom_function_works(self):
        msg = "Unpack is being triggered for a tensor that was already unpacked once"

        class MyFunc(tl.autograd.Function):
            @staticmethod
            def forward(ctx, x, y, z):
                w = x * y * z
                out = w + w
                ctx.save_for_backward(x, y, z, w, out)
                return out

            @staticmethod
            def backward(ctx, grad_out):
                x, y, z, w, out = ctx.saved_tensors
                # Accessing the saved Tensors a second time will raise because
                # recomputed tensors get cleared as soon as they are unpacked.
                # A recomputation is only triggered if your backward has a new
                # graph-task id.
                with self.assertRaisesRegex(RuntimeError, msg):
                    x_2, y_2, z_2, w_2, out_2 = ctx.saved_tensors
                return x, y, z

        x = tl.tensor(1.0, requires_grad=True)
        y = tl.tensor(2.0, requires_grad=True)
        z = tl.tensor(3.0, requires_grad=True)

        def foo(x, y, z):
            x = x * y * z
            y = y * y * z
            z = z * z
            out = MyFunc.apply(x, y, z)
            return out

        out = checkpoint(foo, x, y, z, use_reentrant=False)
        out.sum().backward()

    # test/test_autograd.py::TestAutograd::test_checkpointing_without_reentrant_with_context_fn
    @unittest.skip(SKIP_DISPATCH + " (VerboseTorchDispatchMode as checkpoint context_fn)")
    def test_checkpointing_without_reentrant_with_context_fn(self):
        pass

    # test/test_autograd.py::TestAutograd::test_checkpoint_warns_if_use_reentrant_not_passed_explcitly
    @pytest.mark.xfail(strict=True, reason="missing warning: checkpoint(fn, a) without use_reentrant does not warn 'the use_reentrant parameter should be passed explicitly'")
    def test_checkpoint_warns_if_use_reentrant_not_passed_explcitly(self):
        a = tl.randn(1, requires_grad=True)

        # Passing explicitly should not warn
        self.assertNotWarn(lambda: checkpoint(lambda x: x, a, use_reentrant=False))

        # Not passing explicitly warns
        with self.assertWarnsOnceRegex(
            UserWarning, ".*the use_reentrant parameter should be passed explicitly.*"
        ):
            checkpoint(lambda x: x, a)

    # test/test_autograd.py::TestAutograd::test_checkpoint_sequential_warns_if_use_reentrant_not_passed_explcitly
    @pytest.mark.xfail(strict=True, reason="missing warning: checkpoint_sequential(...) without use_reentrant does not warn 'the use_reentrant parameter should be passed explicitly'")
    def test_checkpoint_sequential_warns_if_use_reentrant_not_passed_explcitly(self):
        a = tl.randn(3, requires_grad=True)
        modules_list = [
            tl.nn.Linear(3, 3),
            tl.nn.Linear(3, 3),
            tl.nn.Linear(3, 3),
        ]

        # Passing explicitly should not warn
        self.assertNotWarn(
            lambda: checkpoint_sequential(modules_list, 3, a, use_reentrant=False)
        )

        # Not passing explicitly warns
        with self.assertWarnsOnceRegex(
            UserWarning, ".*the use_reentrant parameter should be passed explicitly.*"
        ):
            checkpoint_sequential(modules_list, 3, a)

    # test/test_autograd.py::TestAutograd::test_checkpoint_graph_execution_group
    @pytest.mark.xfail(strict=True, reason="missing API: tl.utils.checkpoint.GraphExecGroup")
    def test_checkpoint_graph_execution_group(self):
        def run(use_graph_execution_group):
            counter = [0]

            def fn(x):
                counter[0] += 1
                y = x.sin().cos()
                z = y.sin().cos()
                return y, z

            x = tl.randn(3, 3, requires_grad=True)

            y, z = checkpoint(fn, x, use_reentrant=False)

            group = tl.utils.checkpoint.GraphExecGroup()

            ctx = contextlib.nullcontext()
            if use_graph_execution_group:
                ctx = group

            with ctx:
                (grad_y,) = tl.autograd.grad(
                    z, inputs=(y,), grad_outputs=(tl.ones(3, 3),)
                )

                (grad_x,) = tl.autograd.grad(
                    y,
                    inputs=(x,),
                    grad_outputs=(grad_y,),
                )

            if use_graph_execution_group:
                self.assertEqual(counter[0], 2)
            else:
                self.assertEqual(counter[0], 3)

        run(use_graph_execution_group=True)
        run(use_graph_execution_group=False)

        # Test the not actually disjoint case (using retain_graph=True since
        # otherwise autograd itself will catch this)
        def fn(x):
            return x.sin().cos()

        x = tl.randn(3, 3, requires_grad=True)
        out = checkpoint(fn, x, use_reentrant=False)
        with tl.utils.checkpoint.GraphExecGroup():
            # Under this context, we will enforce that two backward are disjoint
            # even if retain_graph=True.
            out.sum().backward(retain_graph=True)
            with self.assertRaisesRegex(
                RuntimeError, "Performing two backward calls that overlap"
            ):
                out.sum().backward()

    # test/test_autograd.py::TestAutograd::test_checkpoint_detects_non_determinism
    @pytest.mark.xfail(strict=True, reason="different error text: 'tensorlite.utils.checkpoint: the recomputation saved a different number of tensors for backward (2) than the original forward (3)' (PyTorch: 'A different number of tensors was saved')")
    def test_checkpoint_detects_non_determinism(self):
        def save_3_tensors(x):
            out = x.sin().exp()
            out = out.sin()
            return out

        def save_2_tensors(x):
            return x.sin().exp()

        def save_2_tensors_alt(x):
            return x.sin() * tl.tensor([1.0, 2.0])

        def get_non_det_fn(orig_fn, recompute_fn):
            counter = [0]

            def fn(x):
                if counter[0] == 0:
                    counter[0] += 1
                    return orig_fn(x)
                else:
                    return recompute_fn(x)

            return fn

        a = tl.randn(1, requires_grad=True)

        # Save fewer tensors during recompute
        fn = get_non_det_fn(orig_fn=save_3_tensors, recompute_fn=save_2_tensors)
        with self.assertRaisesRegex(
            RuntimeError, "A different number of tensors was saved"
        ):
            out = checkpoint(fn, a, use_reentrant=False)
            out.backward()

        # Save more tensors during recompute
        fn = get_non_det_fn(orig_fn=save_2_tensors, recompute_fn=save_3_tensors)
        with tl.utils.checkpoint.set_checkpoint_early_stop(False):
            with self.assertRaisesRegex(
                RuntimeError, "trying to save more tensors during recomputation"
            ):
                out = checkpoint(fn, a, use_reentrant=False)
                out.backward()

        fn = get_non_det_fn(orig_fn=save_2_tensors, recompute_fn=save_3_tensors)
        # If early stopping is enabled, we would not raise (the results would be correct anyway)
        out = checkpoint(fn, a, use_reentrant=False)
        out.backward()

        # Save the same number of tensors but the shape is different
        fn = get_non_det_fn(orig_fn=save_2_tensors, recompute_fn=save_2_tensors_alt)
        with self.assertRaisesRegex(RuntimeError, "tensors have different metadata"):
            out = checkpoint(fn, a, use_reentrant=False)
            out.backward()

        # Get the debug message if debug=True
        fn = get_non_det_fn(orig_fn=save_2_tensors, recompute_fn=save_2_tensors_alt)

        with self.assertRaisesRegex(
            RuntimeError,
            "You are seeing this error because you passed `debug=True` to checkpoint",
        ):
            out = checkpoint(fn, a, use_reentrant=False, debug=True)
            out.backward()

        fn = get_non_det_fn(orig_fn=save_2_tensors, recompute_fn=save_2_tensors_alt)

        with self.assertRaisesRegex(
            RuntimeError,
            "You are seeing this error because you passed `debug=True` to checkpoint",
        ):
            with tl.utils.checkpoint.set_checkpoint_debug_enabled(True):
                out = checkpoint(fn, a, use_reentrant=False, debug=False)
                out.backward()

        fn = get_non_det_fn(orig_fn=save_2_tensors, recompute_fn=save_2_tensors_alt)

        with self.assertRaisesRegex(
            RuntimeError, "Recomputed values for the following tensors have different"
        ):
            with tl.utils.checkpoint.set_checkpoint_debug_enabled(False):
                out = checkpoint(fn, a, use_reentrant=False, debug=True)
                out.backward()

    # test/test_autograd.py::TestAutograd::test_access_saved_tensor_twice_without_recomputation_works
    @pytest.mark.xfail(strict=True, reason="missing API: grad_fn._saved_result (per-field saved tensors on nodes)")
    def test_access_saved_tensor_twice_without_recomputation_works(self):
        count = [0]

        def foo(a):
            count[0] += 1
            b = a * a
            c = a * b
            d = tl.exp(a)
            return d

        a = tl.randn(5, requires_grad=True)
        d = checkpoint(foo, a, use_reentrant=False)
        self.assertEqual(count[0], 1)
        # Recomputed variables only persist within a particular backward call.
        # If _saved_result is accessed outside of a backward, it will trigger
        # a recompute. And afterwards, those recomputed results are immediately
        # cleared.
        d.grad_fn._saved_result
        self.assertEqual(count[0], 2)
        # Second access will trigger another recompute
        d.grad_fn._saved_result
        self.assertEqual(count[0], 3)
        # Backward clears the saved variable
        d.sum().backward()
        self.assertEqual(count[0], 4)
        # Now it raises an error
        with self.assertRaisesRegex(
            RuntimeError,
            "or directly access saved tensors after they have already been freed",
        ):
            d.grad_fn._saved_result

    # test/test_autograd.py::TestAutograd::test_checkpointing_without_reentrant
    @slowTest
    @parametrize("input_requires_grad", [True, False])
    def test_checkpointing_without_reentrant(self, input_requires_grad):
        """
        Basic test for checkpoint without reentrant autograd.
        """
        num_inp = 2000
        nz_inp = 10
        nz_out = 10
        nz_bottleneck = 1000

        # small proxy network for some complex reasoning we want to do per input
        module = nn.Sequential(
            nn.Linear(nz_inp, nz_bottleneck),
            nn.ReLU(),
            nn.Linear(nz_bottleneck, nz_inp),
        )

        # Module holder for testing activation checkpointing with no_reentrant
        # supports kwargs.
        class MyModule(nn.Module):
            def __init__(self, mod):
                super().__init__()
                self.module = mod

            def forward(self, data):
                return self.module(data)

        module = MyModule(mod=module)

        # Run model with and without checkpointing and verify gradients are
        # equivalent, regardless of if inputs require grads or not.
        module_copy = deepcopy(module)

        feat_combined = []
        feat_combined_no_checkpoint = []
        for _ in range(num_inp):
            data_r = tl.empty(1, nz_inp)
            data_r.uniform_()
            data_r.requires_grad = input_requires_grad
            data_r_copy = data_r.clone()
            feat_r = checkpoint(module, data=data_r, use_reentrant=False)
            feat_combined.append(feat_r)
            feat_r_no_checkpoint = module_copy(data_r)
            feat_combined_no_checkpoint.append(feat_r_no_checkpoint)

        # compute mean as a proxy for some joint reasoning
        mean_combined = tl.stack(feat_combined).mean()
        mean_combined.backward()
        mean_combined_no_checkpoint = tl.stack(feat_combined_no_checkpoint).mean()
        mean_combined_no_checkpoint.backward()

        for checkpoint_param, param in zip(
            module.parameters(), module_copy.parameters()
        ):
            self.assertEqual(checkpoint_param.grad, param.grad)

    # test/test_autograd.py::TestAutograd::test_checkpoint_valid_reset_on_error
    @pytest.mark.xfail(strict=True, reason="missing error: autograd.grad through checkpoint(use_reentrant=True) works (right grad) instead of raising 'torch.utils.checkpoint is incompatible with .grad()'")
    def test_checkpoint_valid_reset_on_error(self):
        a = tl.randn(2, 2, requires_grad=True)

        with self.assertRaisesRegex(
            Exception, "torch.utils.checkpoint is incompatible"
        ):
            b = checkpoint(tl.exp, a, use_reentrant=True).sum()
            tl.autograd.grad(b, (a,))

        c = checkpoint(tl.exp, a, use_reentrant=True).sum()
        c.backward()

    # test/test_autograd.py::TestAutograd::test_checkpointing_without_reentrant_detached_tensor
    @parametrize("use_reentrant", [True, False])
    def test_checkpointing_without_reentrant_detached_tensor(self, use_reentrant):
        class NoGradModule(tl.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.linear = nn.Linear(2, 2, bias=False)
                self.lin2 = nn.Linear(2, 2, bias=False)

            def forward(self, x):
                with tl.no_grad():
                    return self.lin2(self.linear(x))

        module = NoGradModule()

        err_ctx = (
            self.assertRaisesRegex(
                RuntimeError, "none of output has requires_grad=True"
            )
            if use_reentrant
            else contextlib.nullcontext()
        )

        a = tl.randn(2, 2, requires_grad=True)
        for _ in range(3):
            with err_ctx:
                # out does not require grad
                out = checkpoint(module, a, use_reentrant=use_reentrant)
                # Make loss require grad, otherwise we would run into
                # "element 0 of tensors does not require grad and does not have a grad_fn"
                out += a
                out.sum().backward()

    # test/test_autograd.py::TestAutograd::test_checkpointing_without_reentrant_saved_object_identity
    def test_checkpointing_without_reentrant_saved_object_identity(self):
        x_backward = None

        class Test(tl.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                ctx.save_for_backward(y)
                return x

            @staticmethod
            def backward(ctx, x):
                nonlocal x_backward
                (x_backward,) = ctx.saved_tensors
                return x, None

        a = tl.tensor(1.0, requires_grad=True)
        b = tl.tensor(1.0, requires_grad=False)

        Test.apply(a, b).backward()
        self.assertIs(b, x_backward)

        x_backward = None
        checkpoint(Test.apply, a, b, use_reentrant=False).backward()
        self.assertIs(b, x_backward)

    # test/test_autograd.py::TestAutograd::test_checkpointing_without_reentrant_correct_grad
    def test_checkpointing_without_reentrant_correct_grad(self):
        """
        Verifies that correct gradients are calculated for checkpoint
        without reentrant autograd, for both backward() and autograd.grad().
        """
        a = tl.randn(2, 2, requires_grad=True)

        b = tl.exp(a).sum()
        b.backward()
        b_grad = a.grad

        a.grad = None
        c = checkpoint(tl.exp, a, use_reentrant=False).sum()
        c.backward()
        c_grad = a.grad

        a.grad = None
        d = checkpoint(tl.exp, a, use_reentrant=False).sum()
        (d_grad,) = tl.autograd.grad(d, (a,))

        self.assertEqual(b_grad, c_grad)
        self.assertEqual(b_grad, d_grad)

    # test/test_autograd.py::TestAutograd::test_checkpointing_without_reentrant_dataparallel
    @pytest.mark.xfail(strict=True, reason="missing API: tl.cuda (tl.cuda.is_available()) and tl.nn.DataParallel")
    def test_checkpointing_without_reentrant_dataparallel(self):
        """
        Verifies gradient correctness when checkpoint without reentrant autograd
        is used in conjunction with DataParallel.
        """

        class LinearModule(tl.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.linear = nn.Linear(2, 2, bias=False)

            def forward(self, inp):
                return self.linear(inp)

        a = tl.randn(2, 2, requires_grad=True)
        if tl.cuda.is_available():
            a = a.cuda()

        model = LinearModule()
        if tl.cuda.is_available():
            model = model.cuda()

        b = deepcopy(model)(a).sum()
        b.backward()
        b_grad = a.grad

        a.grad = None

        module = tl.nn.DataParallel(deepcopy(model))
        c = checkpoint(module, a, use_reentrant=False).sum()
        c.backward()
        c_grad = a.grad

        self.assertEqual(b_grad, c_grad)

    # test/test_autograd.py::TestAutograd::test_checkpointing_without_reentrant_parameter_used_in_an_out
    def test_checkpointing_without_reentrant_parameter_used_in_an_out(self):
        """
        Ensures that gradient hooks are only called once per tensor.
        """
        w = tl.randn(10, 10, requires_grad=True)
        count = 0

        def hook(grad):
            nonlocal count
            count += 1

        w.register_hook(hook)
        x = tl.rand(10, 10, requires_grad=True)
        h = w * x  # Using w outside the checkpoint
        out = checkpoint(
            lambda x: w * x, h, use_reentrant=False
        )  # Using w inside the checkpoint

        out.sum().backward()
        # should only call hook once
        self.assertEqual(count, 1)

    # test/test_autograd.py::TestAutograd::test_checkpointing_without_reentrant_arbitrary_input_output
    def test_checkpointing_without_reentrant_arbitrary_input_output(self):
        """
        Ensures checkpointing without reentrant autograd works with functions
        with arbitrary input/output structures.
        """

        class MyModel(tl.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.layer = tl.nn.Linear(5, 5, bias=False)

            def forward(self, dict_input):
                tensor = dict_input["tensor"]
                return {"result": self.layer(tensor)}

        model_no_checkpoint = MyModel()
        model_checkpoint_without_reentrant = deepcopy(model_no_checkpoint)

        inp = {"tensor": tl.randn(5, 5)}

        out_no_checkpoint = model_no_checkpoint(inp)["result"].sum()

        out_checkpoint = checkpoint(
            model_checkpoint_without_reentrant, inp, use_reentrant=False
        )["result"].sum()

        self.assertEqual(out_checkpoint, out_no_checkpoint)

        out_no_checkpoint.backward()
        out_checkpoint.backward()

        for param, checkpoint_param in zip(
            model_no_checkpoint.parameters(),
            model_checkpoint_without_reentrant.parameters(),
        ):
            self.assertEqual(param.grad, checkpoint_param.grad)

    # test/test_autograd.py::TestAutograd::test_callback_adds_callback
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autograd.Variable._execution_engine.queue_callback")
    def test_callback_adds_callback(self):
        called = [0]

        def callback_final():
            called[0] += 1

        def callback_adds_callback():
            called[0] += 1
            Variable._execution_engine.queue_callback(callback_final)

        class MyFunc(Function):
            @staticmethod
            def forward(ctx, input):
                return input

            @staticmethod
            @once_differentiable
            def backward(ctx, grad):
                Variable._execution_engine.queue_callback(callback_adds_callback)
                return grad

        a = tl.rand((3, 3), requires_grad=True)
        b = MyFunc.apply(a)
        b.sum().backward()

        self.assertEqual(called[0], 2)

    # test/test_autograd.py::TestAutograd::test_callback_propagates_errors_from_device_thread
    @unittest.skip(SKIP_CUDA + " (test requires CUDA)")
    def test_callback_propagates_errors_from_device_thread(self):
        pass

    def _test_reentrant_with_callbacks(self, install_callbacks_in_depths):
        counter = {}
        counter["inner"] = 0
        counter["outer"] = 0

        def inc_inner_counter():
            counter["inner"] += 1

        def inc_outer_counter():
            counter["outer"] += 1

        class MyFunc(Function):
            @staticmethod
            def forward(ctx, input):
                return input

            @staticmethod
            @once_differentiable
            def backward(ctx, input):
                if 1 in install_callbacks_in_depths:
                    # Add a callback to execute.
                    Variable._execution_engine.queue_callback(inc_inner_counter)

                return input

        class MyReentrantFunc(Function):
            @staticmethod
            def forward(ctx, input):
                return input

            @staticmethod
            @once_differentiable
            def backward(ctx, input):
                if 0 in install_callbacks_in_depths:
                    # Add a callback to execute.
                    Variable._execution_engine.queue_callback(inc_outer_counter)
                # Reentrant backward call.
                tmp_inp = input.detach().requires_grad_()
                with tl.enable_grad():
                    tmp_out = (MyFunc.apply(tmp_inp)).sum()
                tmp_out.backward()
                return input

        t1 = tl.rand((3, 3), requires_grad=True)
        t2 = MyReentrantFunc.apply(t1)
        t3 = t2.sum()
        tl.autograd.backward([t3])

        return counter

    # test/test_autograd.py::TestAutograd::test_reentrant_with_callbacks_depth_0
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autograd.Variable._execution_engine.queue_callback")
    def test_reentrant_with_callbacks_depth_0(self):
        # Verify callback is called only once.
        ret = self._test_reentrant_with_callbacks([0])
        self.assertEqual(ret["outer"], 1)
        self.assertEqual(ret["inner"], 0)

    # test/test_autograd.py::TestAutograd::test_reentrant_with_callbacks_depth_1
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autograd.Variable._execution_engine.queue_callback")
    def test_reentrant_with_callbacks_depth_1(self):
        # Verify callback is called only once.
        ret = self._test_reentrant_with_callbacks([1])
        self.assertEqual(ret["outer"], 0)
        self.assertEqual(ret["inner"], 1)

    # test/test_autograd.py::TestAutograd::test_reentrant_with_callbacks_both_depths
    @pytest.mark.xfail(strict=True, reason="missing API: tl.autograd.Variable._execution_engine.queue_callback")
    def test_reentrant_with_callbacks_both_depths(self):
        # Verify callback is called twice.
        ret = self._test_reentrant_with_callbacks([0, 1])
        self.assertEqual(ret["outer"], 1)
        self.assertEqual(ret["inner"], 1)

    # test/test_autograd.py::TestAutograd::test_grad_fn_attr_bindings
    @unittest.skip(SKIP_COMPLEX + " (threshold=(1 + 0j), torch.complex64 scalar)")
    def test_grad_fn_attr_bindings(self):
        pass

