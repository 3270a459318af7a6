"""fxlite.serialize: Graph <-> plain picklable state, TensorMeta, and GraphModule pickling
that loads back to an identical printout and the same values."""
import operator
import pickle

import numpy as np
import pytest

import fxlite
import tensorlite as tl
from fxlite import Graph, GraphModule, TensorMeta
from fxlite.serialize import NodeRef, graph_from_state, graph_to_state


def helper(a, b=1):
    return a * b


def build():
    g = Graph()
    x = g.create_node("placeholder", "L_x_", name="l_x_")
    x.meta["val"] = tl.zeros(2, 3, requires_grad=True)
    y = g.placeholder("y", default_value=None)
    s = g.call_function(tl.sin, (x,))
    s.meta.update(val=TensorMeta((2, 3), tl.float32), stack_trace='  File "/tmp/a.py", line 2, in f\n    s = tl.sin(x)\n',
                  scratch=object())  # not serialisable meta is dropped
    p = g.call_function(tl.ops.mul, (s, s))
    h = g.call_function(helper, (p,), {"b": 2.5})
    m = g.call_method("sum", (h,), {"dim": [0, 1], "keepdim": False})
    w = g.get_attr("lin.weight")
    lin = g.call_module("lin", (h,))
    gi = g.call_function(operator.getitem, (lin, (slice(None), 0)))
    g.output({"sum": m, "pair": (gi, w), "y": y})
    return g


def test_graph_state_is_plain_data_and_round_trips():
    g = build()
    state = graph_to_state(g)
    assert state["version"] == 1
    blob = pickle.dumps(state)
    g2 = graph_from_state(pickle.loads(blob))
    assert str(g2) == str(g)
    assert [n.name for n in g2.nodes] == [n.name for n in g.nodes]
    assert [n.target for n in g2.nodes][:3] == ["L_x_", "y", tl.sin]
    g2.lint()
    # users are rebuilt
    assert [len(n.users) for n in g2.nodes] == [len(n.users) for n in g.nodes]
    # node references are NodeRefs in the state
    sin_state = state["nodes"][2]
    assert isinstance(sin_state[3][0], NodeRef) and sin_state[3][0].name == "l_x_"
    # placeholder default None survives
    assert g2.nodes[1].args == (None,)


def test_meta_val_becomes_tensor_meta_and_other_meta_is_filtered():
    g2 = graph_from_state(pickle.loads(pickle.dumps(graph_to_state(build()))))
    x, _, s = list(g2.nodes)[:3]
    assert x.meta["val"] == TensorMeta((2, 3), tl.float32, requires_grad=True)
    assert s.meta["val"] == TensorMeta((2, 3), tl.float32)
    assert s.meta["stack_trace"].endswith("s = tl.sin(x)\n")
    assert "scratch" not in s.meta


def test_tensor_meta():
    m = TensorMeta([4, 1], tl.int64)
    assert m.shape == (4, 1) and m.dtype is tl.int64 and m.requires_grad is False
    assert repr(m) == "TensorMeta(shape=[4, 1], dtype=tensorlite.int64, requires_grad=False)"
    assert pickle.loads(pickle.dumps(m)) == m
    assert m != TensorMeta((4, 1), tl.int64, True) and m != TensorMeta((4,), tl.int64)
    assert m != (4, 1)
    with pytest.raises(TypeError):
        hash(m)


def _module():
    root = tl.nn.Module()
    root.lin = tl.nn.Linear(3, 2)
    return GraphModule(root, build(), "Saved")


def test_pickle_graph_module_identical_printout_and_values():
    gm = _module()
    gm2 = pickle.loads(pickle.dumps(gm))
    assert type(gm2).__name__ == "Saved"
    assert gm2.print_readable(False) == gm.print_readable(False)
    assert gm2.code == gm.code
    x = tl.randn(2, 3)
    a, b = gm(x), gm2(x)
    assert np.allclose(a["sum"].detach().numpy(), b["sum"].detach().numpy())
    assert np.allclose(a["pair"][0].detach().numpy(), b["pair"][0].detach().numpy())
    assert np.array_equal(gm2.lin.weight.detach().numpy(), gm.lin.weight.detach().numpy())
    assert b["y"] is None
    # a second round trip is stable
    assert pickle.loads(pickle.dumps(gm2)).print_readable(False) == gm.print_readable(False)


def test_pickle_nested_graph_modules_and_traced_modules():
    inner = Graph()
    a = inner.placeholder("a")
    inner.output(inner.call_function(operator.mul, (a, 3)))
    g = Graph()
    x = g.placeholder("x")
    g.output(g.call_module("body_0", (x,)))
    root = tl.nn.Module()
    root.body_0 = GraphModule(tl.nn.Module(), inner)
    gm = GraphModule(root, g)
    gm2 = pickle.loads(pickle.dumps(gm))
    assert gm2.print_readable(False) == gm.print_readable(False)
    assert "    class body_0(tl.nn.Module):" in gm2.print_readable(False)
    assert np.allclose(gm2(tl.ones(2)).numpy(), [3.0, 3.0])

    class Net(tl.nn.Module):
        def __init__(self):
            super().__init__()
            self.seq = tl.nn.Sequential(tl.nn.Linear(2, 2), tl.nn.ReLU())

        def forward(self, z):
            return self.seq(z).sum(dim=-1)

    traced = fxlite.symbolic_trace(Net())
    t2 = pickle.loads(pickle.dumps(traced))
    assert t2.print_readable(False) == traced.print_readable(False)
    z = tl.randn(4, 2)
    assert np.allclose(t2(z).detach().numpy(), traced(z).detach().numpy())


def test_unpicklable_target_is_an_error():
    g = Graph()
    x = g.placeholder("x")
    g.output(g.call_function(lambda v: v + 1, (x,)))
    gm = GraphModule(tl.nn.Module(), g)
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        pickle.dumps(gm)
