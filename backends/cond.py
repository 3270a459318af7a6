"""cond: the higher-order op a captured graph calls for `tl.cond` (PyTorch's
torch.ops.higher_order.cond). Defined here, the lowest layer that runs it.

`cond(pred, true_graph, false_graph, operands)`: pred is a one-element tensor; the branches are
GraphModules taking the operands (the user's, then the tensors the branches read from outside)
and returning tuples of tensors with the same shapes and dtypes (minidynamo/cond.py checks
that). It returns the tuple of the branch pred selects, computed by that branch's own ops, so
autograd records exactly what eager `tl.cond` records.

Which inputs get a gradient therefore depends on pred: a tensor only the other branch reads
gets none, as in eager (PyTorch gives it zeros instead, in eager too). The one autograd node an
AOT backend gives a whole graph cannot express that, so the op is marked "run graph as is":
aot_eager and codegen run a graph that calls cond as captured (correct, not compiled). Tracing
it with make_fx would specialize the graph on one pred, so that raises instead.

>>> import fxlite, tensorlite as tl
>>> t = fxlite.symbolic_trace(lambda x: (x.sin(),))
>>> f = fxlite.symbolic_trace(lambda x: (x.cos(),))
>>> x = tl.zeros(2, requires_grad=True)
>>> out, = cond(tl.tensor(False), t, f, (x,))
>>> out.sum().backward(); out, x.grad
(tensor([1., 1.], grad_fn=<CosBackward0>), tensor([-0., -0.]))
"""
from fxlite.marks import mark_run_graph_as_is
from tensorlite import _state

__all__ = ["cond"]


def cond(pred, true_graph, false_graph, operands):
    """The outputs (a tuple) of the branch pred selects, run on the operands."""
    if _state.mode is not None:
        raise RuntimeError("backends.cond.cond cannot be traced (make_fx would keep only the branch its "
                           "example selects): a graph calling it runs as it is (fxlite.marks.runs_graph_as_is)")
    branch = true_graph if bool(pred.item()) else false_graph
    return tuple(branch(*operands))


cond.__module__ = "backends.cond"
mark_run_graph_as_is(cond)  # which inputs get a gradient depends on pred (see the module docstring)
