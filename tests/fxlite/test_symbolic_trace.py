"""fxlite.symbolic_trace / Tracer / Proxy: functions and modules, leaf modules, parameters,
containers, outputs of any structure, and clear errors for data-dependent control flow."""
import operator

import numpy as np
import pytest

import fxlite
import tensorlite as tl
from fxlite import GraphModule, Proxy, Tracer
from fxlite.tracer import TraceError
from minidynamo.expecttest import assert_expected_inline

nn = tl.nn


def check(actual, expect):
    assert_expected_inline(None, actual, expect, skip=1)


def close(a, b):
    return np.allclose(a.detach().numpy(), b.detach().numpy())


def test_operators_functions_methods_kwargs_and_constants():
    def fn(x, y):
        a = (x + 1) * y - 2.5 / x
        b = tl.where(a > 0, a, -a)
        c = b.sum(dim=0, keepdim=True) ** 2
        d = tl.cat([x, y], dim=0)[1:3]
        return c @ tl.ones(1, 2, dtype=tl.float64) + d.mean()

    gm = fxlite.symbolic_trace(fn)
    check(gm.print_readable(False), """\
class fn(tl.nn.Module):
    def forward(self, x, y):
        add = x + 1
        mul = add * y;  add = None
        truediv = 2.5 / x
        sub = mul - truediv;  mul = truediv = None
        gt = sub > 0
        neg = -sub
        where = tl.where(gt, sub, neg);  gt = sub = neg = None
        sum_1 = where.sum(dim = 0, keepdim = True);  where = None
        pow_1 = sum_1 ** 2;  sum_1 = None
        cat = tl.cat([x, y], dim = 0);  x = y = None
        getitem = cat[slice(1, 3, None)];  cat = None
        _tensor_constant0 = self._tensor_constant0
        matmul = pow_1 @ _tensor_constant0;  pow_1 = _tensor_constant0 = None
        mean = getitem.mean();  getitem = None
        add_1 = matmul + mean;  matmul = mean = None
        return add_1
""")
    x = tl.tensor(np.random.default_rng(0).uniform(0.5, 2, (4, 1)), dtype=tl.float64)
    y = tl.tensor(np.random.default_rng(1).uniform(-2, 2, (4, 1)), dtype=tl.float64)
    assert close(gm(x, y), fn(x, y))


def test_tuple_and_dict_outputs_and_defaults():
    def fn(x, scale=3.0, *, flag=True):
        return {"double": (x * scale, x.relu()), "neg": [-x]}

    gm = fxlite.symbolic_trace(fn)
    check(gm.code, """\
def forward(self, x, scale=3.0, flag=True):
    mul = x * scale;  scale = None
    relu = x.relu()
    neg = -x;  x = None
    return {'double': (mul, relu), 'neg': [neg]}
""")
    x = tl.randn(3)
    out = gm(x)
    assert set(out) == {"double", "neg"} and isinstance(out["double"], tuple) and isinstance(out["neg"], list)
    assert close(out["double"][0], x * 3) and close(gm(x, 2.0)["double"][0], x * 2)
    assert close(out["neg"][0], -x)


def test_concrete_args_specialise():
    def fn(x, n):
        return x * n

    gm = fxlite.symbolic_trace(fn, concrete_args={"n": 4})
    assert [n.op for n in gm.graph.nodes] == ["placeholder", "call_function", "output"]
    check(gm.code, """\
def forward(self, x):
    mul = x * 4;  x = None
    return mul
""")


def test_attribute_access_and_method_on_attribute():
    def fn(x):
        return x.T.sum() + x.shape[0]

    gm = fxlite.symbolic_trace(fn)
    check(gm.code, """\
def forward(self, x):
    getattr_1 = x.T
    sum_1 = getattr_1.sum();  getattr_1 = None
    getattr_2 = x.shape;  x = None
    getitem = getattr_2[0];  getattr_2 = None
    add = sum_1 + getitem;  sum_1 = getitem = None
    return add
""")
    x = tl.randn(2, 3)
    assert close(gm(x), fn(x))


def test_tensor_constants_become_attributes():
    const = tl.tensor([1.0, 2.0, 3.0])

    def fn(x):
        # tl.sin(const) has no Proxy argument: it runs while tracing and is a constant too
        return (tl.sin(x) + const) * tl.sin(const)

    gm = fxlite.symbolic_trace(fn)
    check(gm.code, """\
def forward(self, x):
    sin = tl.sin(x);  x = None
    _tensor_constant0 = self._tensor_constant0
    add = sin + _tensor_constant0;  sin = _tensor_constant0 = None
    _tensor_constant1 = self._tensor_constant1
    mul = add * _tensor_constant1;  add = _tensor_constant1 = None
    return mul
""")
    assert gm._tensor_constant0 is const
    assert close(gm._tensor_constant1, tl.sin(const))
    x = tl.randn(3)
    assert close(gm(x), fn(x))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp = MLP()
        self.blocks = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Tanh(), nn.Linear(2, 2)))
        self.scale = nn.Parameter(tl.full((2,), 0.5))
        self.register_buffer("shift", tl.ones(2))

    def forward(self, x):
        h = self.blocks(self.mlp(x))
        return h * self.scale + self.shift


def test_module_leaves_nested_sequential_parameters_and_buffers():
    m = Model()
    gm = fxlite.symbolic_trace(m)
    check(gm.print_readable(False), """\
class Model(tl.nn.Module):
    def forward(self, x):
        mlp_fc1 = self.mlp.fc1(x);  x = None
        mlp_act = self.mlp.act(mlp_fc1);  mlp_fc1 = None
        mlp_fc2 = self.mlp.fc2(mlp_act);  mlp_act = None
        blocks_0 = getattr(self.blocks, "0")(mlp_fc2);  mlp_fc2 = None
        blocks_1_0 = getattr(getattr(self.blocks, "1"), "0")(blocks_0);  blocks_0 = None
        blocks_1_1 = getattr(getattr(self.blocks, "1"), "1")(blocks_1_0);  blocks_1_0 = None
        scale = self.scale
        mul = blocks_1_1 * scale;  blocks_1_1 = scale = None
        shift = self.shift
        add = mul + shift;  mul = shift = None
        return add
""")
    x = tl.randn(5, 3)
    assert close(gm(x), m(x))
    # the GraphModule shares the traced module's submodules and parameters
    assert gm.mlp.fc1 is m.mlp.fc1 and gm.scale is m.scale
    assert [n.target for n in gm.graph.find_nodes(op="call_module")] == [
        "mlp.fc1", "mlp.act", "mlp.fc2", "blocks.0", "blocks.1.0", "blocks.1.1"]
    assert [n.target for n in gm.graph.find_nodes(op="get_attr")] == ["scale", "shift"]
    # gradients flow to the original parameters
    gm(x).sum().backward()
    assert m.scale.grad is not None and m.mlp.fc1.weight.grad is not None


def test_module_call_restores_module_patches():
    m = MLP()
    fxlite.symbolic_trace(m)
    assert nn.Module.__call__.__name__ != "call" and nn.Module.__getattr__.__name__ != "getattr_"
    x = tl.randn(2, 3)
    assert m(x).shape == (2, 2)


def test_custom_tracer_inlines_leaf_modules():
    class Inline(Tracer):
        def is_leaf_module(self, m, module_qualified_name):
            return False

    m = MLP()
    graph = Inline().trace(m)
    gm = GraphModule(m, graph, "MLP")
    check(gm.print_readable(False), """\
class MLP(tl.nn.Module):
    def forward(self, x):
        fc1_weight = self.fc1.weight
        fc1_bias = self.fc1.bias
        linear = tl.nn.functional.linear(x, fc1_weight, fc1_bias);  x = fc1_weight = fc1_bias = None
        relu = tl.nn.functional.relu(linear);  linear = None
        fc2_weight = self.fc2.weight
        fc2_bias = self.fc2.bias
        linear_1 = tl.nn.functional.linear(relu, fc2_weight, fc2_bias);  relu = fc2_weight = fc2_bias = None
        return linear_1
""")
    assert not gm.graph.find_nodes(op="call_module")
    x = tl.randn(4, 3)
    assert close(gm(x), m(x))


def test_custom_tracer_leaf_by_name():
    class KeepFc2(Tracer):
        def is_leaf_module(self, m, module_qualified_name):
            return module_qualified_name == "fc2"

    m = MLP()
    gm = GraphModule(m, KeepFc2().trace(m))
    assert [n.target for n in gm.graph.find_nodes(op="call_module")] == ["fc2"]
    x = tl.randn(4, 3)
    assert close(gm(x), m(x))


def test_custom_user_module_is_inlined_by_default():
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.k = nn.Parameter(tl.tensor(2.0))

        def forward(self, x):
            return x * self.k

    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.s = Scale()
            self.lin = nn.Linear(2, 2)

        def forward(self, x):
            return self.lin(self.s(x))

    m = Outer()
    gm = fxlite.symbolic_trace(m)
    check(gm.code, """\
def forward(self, x):
    s_k = self.s.k
    mul = x * s_k;  x = s_k = None
    lin = self.lin(mul);  mul = None
    return lin
""")
    x = tl.randn(3, 2)
    assert close(gm(x), m(x))


def test_class_name_is_the_function_or_module_name():
    def my_function(x):
        return x

    assert type(fxlite.symbolic_trace(my_function)).__name__ == "my_function"
    assert type(fxlite.symbolic_trace(MLP())).__name__ == "MLP"
    assert type(fxlite.symbolic_trace(lambda x: x)).__name__ == "lambda_"


def test_proxy_in_control_flow_is_a_clear_error():
    def branch(x):
        if x.sum() > 0:
            return x
        return -x

    with pytest.raises(TraceError, match="symbolically traced variables cannot be used as inputs to control flow"):
        fxlite.symbolic_trace(branch)

    def loop(x):
        for row in x:
            pass
        return x

    with pytest.raises(TraceError, match="Proxy object cannot be iterated"):
        fxlite.symbolic_trace(loop)

    def index(x, y):
        return [1, 2, 3][y]

    with pytest.raises(TraceError, match="cannot be used as an index"):
        fxlite.symbolic_trace(index)

    def star(*xs):
        return xs

    with pytest.raises(TraceError, match=r"\*xs"):
        fxlite.symbolic_trace(star)

    assert issubclass(TraceError, RuntimeError)


def test_proxy_repr_and_node():
    seen = {}

    def fn(x):
        seen["x"] = x
        y = x + 1
        seen["y"] = y
        return y

    gm = fxlite.symbolic_trace(fn)
    assert isinstance(seen["x"], Proxy) and repr(seen["y"]) == "Proxy(add)"
    assert seen["y"].node is gm.graph.nodes[1]


def test_trace_rejects_non_callables():
    with pytest.raises(TypeError, match="expects a function or a tl.nn.Module"):
        fxlite.symbolic_trace(42)


def test_traced_module_interpreter_and_print_agree():
    m = Model()
    gm = fxlite.symbolic_trace(m)
    x = tl.randn(2, 3)
    assert close(fxlite.Interpreter(gm).run(x), m(x))
    assert GraphModule(gm, gm.graph, "Model").print_readable(False) == gm.print_readable(False)


def test_inplace_method_is_recorded():
    def fn(x):
        y = x.clone()
        y.add_(1)
        return y

    gm = fxlite.symbolic_trace(fn)
    assert [n.target for n in gm.graph.nodes if n.op == "call_method"] == ["clone", "add_"]
    gm.graph.eliminate_dead_code()
    assert [n.target for n in gm.graph.nodes if n.op == "call_method"] == ["clone", "add_"]
    x = tl.zeros(2)
    assert close(gm(x), tl.ones(2)) and close(x, tl.zeros(2))


def test_operator_module_functions_trace():
    def fn(x, y):
        return operator.add(x, y), abs(x - y)

    gm = fxlite.symbolic_trace(fn)
    x, y = tl.randn(3), tl.randn(3)
    a, b = gm(x, y)
    assert close(a, x + y) and close(b, abs(x - y))
    check(gm.code, """\
def forward(self, x, y):
    add = x + y
    sub = x - y;  x = y = None
    abs_1 = operator.abs(sub);  sub = None
    return (add, abs_1)
""")


def test_default_none_and_keyword_only_parameters():
    def fn(x, bias=None, *, k=2):
        out = x * k
        return out if bias is None else out + bias

    gm = fxlite.symbolic_trace(fn, concrete_args={"bias": None})
    check(gm.code, """\
def forward(self, x, k=2):
    mul = x * k;  x = k = None
    return mul
""")
    x = tl.randn(3)
    assert close(gm(x), x * 2) and close(gm(x, 3), x * 3)

    def g(x, bias=None):
        return x + 1

    gm = fxlite.symbolic_trace(g)
    check(gm.code, """\
def forward(self, x, bias=None):
    add = x + 1;  x = None
    return add
""")
    assert close(gm(tl.zeros(2)), tl.ones(2))
    assert close(fxlite.Interpreter(gm).run(tl.zeros(2)), tl.ones(2))
    assert fxlite.Transformer(gm).transform().code == gm.code
