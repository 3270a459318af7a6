"""tl.cond (torch.cond): structured control flow that a compiler can capture with both branches.

Eagerly it is an `if`: the branch pred selects runs on the operands. Under `md.compile` both
branches are traced into subgraphs of one `cond` graph node (minidynamo/cond.py, backends/cond.py),
which checks that they return tensors with the same metadata.

>>> import tensorlite as tl
>>> x = tl.tensor([1.0, -2.0])
>>> tl.cond(x.sum() > 0, lambda t: t * 2, lambda t: t.abs(), (x,))
tensor([1., 2.])
"""
from ._tensor import Tensor

__all__ = ["cond"]


def cond(pred, true_fn, false_fn, operands=()):
    """true_fn(*operands) if pred else false_fn(*operands).

    pred: a bool (or number) or a one-element tensor. operands: a tuple or list of tensors
    (possibly nested in tuples, lists and dicts). Under md.compile the branches must return
    tensors (or tuples/lists of them) with the same shapes, dtypes and requires_grad, must not
    return their inputs or views of them, and must not change state outside themselves.
    """
    if isinstance(pred, (bool, int, float)):  # a Python value selects as `if` does (PyTorch too)
        return (true_fn if pred else false_fn)(*operands)
    check_cond_args(pred, true_fn, false_fn, operands)
    return (true_fn if bool(pred.item()) else false_fn)(*operands)


def check_cond_args(pred, true_fn, false_fn, operands):
    """Raise PyTorch's RuntimeError for arguments torch.cond rejects (pred is not a constant)."""
    if not isinstance(pred, Tensor):
        raise cond_error("pred", pred)
    if pred.numel() != 1:
        raise cond_error("pred_numel", pred)
    if not callable(true_fn) or not callable(false_fn):
        raise cond_error("branches")
    if not isinstance(operands, (tuple, list)) or not all(isinstance(t, Tensor) for t in _leaves(operands)):
        raise cond_error("operands", operands)


def cond_error(kind, value=None):
    """The RuntimeError for one kind of invalid argument (PyTorch's messages)."""
    messages = {
        "pred": f"Expected pred to be bool or tensor, but got {value}.",
        "pred_numel": f"Expected pred to be bool or single-element tensor, but got {value}.",
        "branches": "Expect both branches to be callable.",
        "operands": ("Expect operands to be a tuple of possibly nested dict/list/tuple that only "
                     f"consists of tensor leaves, but got {value}."),
    }
    return RuntimeError(messages[kind])


def _leaves(tree):
    if isinstance(tree, (tuple, list)):
        for t in tree:
            yield from _leaves(t)
    elif isinstance(tree, dict):
        for t in tree.values():
            yield from _leaves(t)
    else:
        yield tree
