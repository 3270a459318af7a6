"""md.testing: backends that count and record graphs, and a TestCase with expected-inline
assertions (regenerate expected strings with EXPECTTEST_ACCEPT=1).

>>> import minidynamo as md, tensorlite as tl
>>> cnt = md.testing.CompileCounter()
>>> f = md.compile(lambda x: x.sin() + 1, backend=cnt)
>>> _ = f(tl.ones(2)); cnt.frame_count, cnt.op_count
(1, 2)
"""
import unittest

import numpy as np

import tensorlite as tl

from .expecttest import assert_expected_inline, normalize_gm

__all__ = ["CompileCounter", "CompileCounterWithBackend", "EagerAndRecordGraphs",
           "AotEagerAndRecordGraphs", "normalize_gm", "same", "TestCase"]


def _count_ops(gm):
    return sum(1 for n in gm.graph.nodes if n.op in ("call_function", "call_method", "call_module"))


class CompileCounter:
    """A backend that counts frames and ops and runs the graph as it is."""

    def __init__(self):
        self.frame_count = 0
        self.op_count = 0

    def __call__(self, gm, example_inputs):
        self.frame_count += 1
        self.op_count += _count_ops(gm)
        return gm.forward

    def clear(self):
        self.frame_count = 0
        self.op_count = 0


class CompileCounterWithBackend(CompileCounter):
    """Counts like CompileCounter, then compiles with another backend."""

    def __init__(self, backend):
        super().__init__()
        from backends import lookup_backend
        self.backend = lookup_backend(backend)
        self.graphs = []

    def __call__(self, gm, example_inputs):
        super().__call__(gm, example_inputs)
        self.graphs.append(gm)
        return self.backend(gm, example_inputs)


class EagerAndRecordGraphs:
    """A backend that records every GraphModule it is given and runs it eagerly."""

    def __init__(self):
        self.graphs = []

    def __call__(self, gm, example_inputs):
        self.graphs.append(gm)
        return gm.forward


class AotEagerAndRecordGraphs:
    """The aot_eager backend, recording the Dynamo graph and the forward/backward graphs."""

    def __init__(self):
        self.graphs = []
        self.fw_graphs = []
        self.bw_graphs = []

    def __call__(self, gm, example_inputs):
        from backends.aot import aot_module_simplified

        self.graphs.append(gm)

        def fw(g, inputs):
            self.fw_graphs.append(g)
            return g.forward

        def bw(g, inputs):
            self.bw_graphs.append(g)
            return g.forward

        return aot_module_simplified(gm, example_inputs, fw_compiler=fw, bw_compiler=bw)


def same(a, b, rtol=1e-4, atol=1e-5, equal_nan=True):
    """Values equal up to tolerance, recursively through tuples, lists and dicts."""
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(same(x, y, rtol, atol, equal_nan) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k], rtol, atol, equal_nan) for k in a)
    if isinstance(a, tl.Tensor):
        if not isinstance(b, tl.Tensor) or a.shape != b.shape or a.dtype != b.dtype:
            return False
        return bool(np.allclose(a._data, b._data, rtol=rtol, atol=atol, equal_nan=equal_nan))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= atol + rtol * abs(b) or (equal_nan and a != a and b != b)
    return a == b


class TestCase(unittest.TestCase):
    """unittest.TestCase that resets minidynamo around each test."""

    def setUp(self):
        super().setUp()
        from . import reset
        reset()

    def tearDown(self):
        from . import reset
        reset()
        super().tearDown()

    def assertExpectedInline(self, actual, expect, skip=0):
        assert_expected_inline(self, actual, expect, skip=skip + 1)
