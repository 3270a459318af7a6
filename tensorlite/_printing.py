"""repr() of tensors in PyTorch's layout: tensor([1., 2.], requires_grad=True).

Floats print like PyTorch's default print options: "1." when every value is a whole number,
four decimals otherwise, scientific notation when the magnitudes span too much.
"""
import numpy as np

_DEFAULT_DTYPES = (np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.bool_))


def _float_formatter(arr):
    finite = arr[np.isfinite(arr)]
    nonzero = np.abs(finite[finite != 0]).astype(np.float64)
    whole = finite.size == 0 or bool(np.all(finite == np.round(finite)))
    sci = False
    if nonzero.size:
        hi, lo = nonzero.max(), nonzero.min()
        sci = hi > 1e8 if whole else (hi / lo > 1000.0 or hi > 1e8 or lo < 1e-4)
    if sci:
        fmt = "{:.4e}".format
    elif whole:
        def fmt(v):
            return f"{v:.0f}."
    else:
        fmt = "{:.4f}".format

    def one(v):
        if np.isnan(v):
            return "nan"
        if np.isinf(v):
            return "inf" if v > 0 else "-inf"
        return fmt(float(v))

    width = max((len(one(v)) for v in arr.reshape(-1)), default=0)
    return lambda v: one(v).rjust(width)


def tensor_repr(t):
    arr = t._data
    prefix = "tensor("
    if arr.size == 0:
        body = "[]" if arr.ndim == 1 else f"size={tuple(arr.shape)}"
    elif arr.dtype.kind == "f":
        body = np.array2string(arr, separator=", ", prefix=prefix, threshold=1000,
                               formatter={"float_kind": _float_formatter(arr)})
    else:
        body = np.array2string(arr, separator=", ", prefix=prefix, threshold=1000)
    extras = []
    if arr.dtype not in _DEFAULT_DTYPES:
        from ._dtype import from_np
        extras.append(f"dtype={from_np(arr.dtype)!r}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + e for e in extras) + ")"
