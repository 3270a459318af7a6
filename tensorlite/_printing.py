"""repr() of tensors in PyTorch's layout: tensor([1., 2.], requires_grad=True)."""
import numpy as np


def tensor_repr(t):
    arr = t._data
    prefix = "tensor("
    if arr.size == 0:
        body = "[]" if arr.ndim == 1 else f"size={tuple(arr.shape)}"
    else:
        body = np.array2string(arr, separator=", ", prefix=prefix, threshold=1000, precision=4,
                               floatmode="maxprec_equal" if arr.dtype.kind == "f" else "maxprec")
        if arr.dtype == np.bool_:
            body = body.replace("True", "True").replace("False", "False")
    extras = []
    if arr.dtype.kind == "f" and arr.dtype != np.float32 or arr.dtype.kind in "iu" and arr.dtype != np.int64:
        extras.append(f"dtype={t.dtype}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + e for e in extras) + ")"
