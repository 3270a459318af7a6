"""ShapeProp: compute every node's meta["val"] / meta["tensor_meta"] without computing values.

The graph is interpreted under FakeTensorMode, so every tensorlite op (a `tl.ops` primitive,
a `tl.*` function, an `operator.*` call on tensors, a Tensor method, a module call) runs only
the primitives' shape and dtype rules.

>>> import tensorlite as tl, fxlite
>>> from fxlite.passes import ShapeProp
>>> gm = fxlite.symbolic_trace(lambda x, y: (x @ y).sum(0, keepdim=True))
>>> ShapeProp(gm).propagate(tl.ones(5, 3), tl.ones(3, 4))
FakeTensor(size=[1, 4], dtype=tensorlite.float32)
>>> [n.meta["tensor_meta"] for n in gm.graph.nodes if n.op != "output"][2]
TensorMeta(shape=[5, 4], dtype=tensorlite.float32, requires_grad=False)
"""
import tensorlite as tl
from tensorlite._modes import FakeTensorMode, fake_tensor

from ..interpreter import Interpreter
from ..node import map_aggregate
from ..serialize import TensorMeta


def _to_fake(v):
    if isinstance(v, TensorMeta):
        return fake_tensor(v.shape, v.dtype, v.requires_grad)
    if isinstance(v, tl.Tensor):
        return FakeTensorMode.from_real(v)
    return v


def _tensor_meta(v):
    if isinstance(v, tl.Tensor):
        return TensorMeta(tuple(v.shape), v.dtype, v.requires_grad)
    if isinstance(v, (list, tuple)) and any(isinstance(x, tl.Tensor) for x in v):
        return type(v)(_tensor_meta(x) for x in v) if not hasattr(v, "_fields") else tuple(
            _tensor_meta(x) for x in v)
    return None


class ShapeProp(Interpreter):
    """Interpret a GraphModule on fake tensors, recording each node's result metadata.

    `propagate(*args)` accepts real tensors, fake tensors or TensorMeta objects (the last
    two never allocate) and returns the (fake) output.
    """

    def __init__(self, gm, fake_mode=None):
        super().__init__(gm, garbage_collect_values=True)
        self.fake_mode = fake_mode or FakeTensorMode()

    def propagate(self, *args):
        fake_args = [map_aggregate(a, _to_fake) for a in args]
        with self.fake_mode:
            return self.run(*fake_args)

    def run_node(self, n):
        result = super().run_node(n)
        if n.op != "output":
            n.meta["val"] = result
            tm = _tensor_meta(result)
            if tm is not None:
                n.meta["tensor_meta"] = tm
        return result

    def get_attr(self, target, args, kwargs):
        return map_aggregate(super().get_attr(target, args, kwargs), _to_fake)
