"""Arguments of the convolution and pooling functions: PyTorch's defaults, checks and messages,
resolved into the plain parameters the primitives take (a tuple per spatial dim, padding as
(low, high) pairs).

>>> conv_padding("same", (3, 4), (1, 1), (1, 1), 2)
((1, 1), (1, 2))
>>> pool_padding((5, 5), (2, 2), (2, 2), (1, 1), (1, 1), ceil_mode=True)
((1, 2), (1, 2))
"""
from .._dtype import scalar_type_name

_DIMS_WORD = {1: "single int, or a tuple of one int", 2: "single int, or a tuple of two ints"}


def _ints(value, name):
    if isinstance(value, bool) or not isinstance(value, int) and not (
            isinstance(value, (tuple, list)) and all(isinstance(v, int) for v in value)):
        raise TypeError(f"argument '{name}' must be tuple of ints, not {type(value).__name__}")
    return (value,) if isinstance(value, int) else tuple(value)


# ----------------------------------------------------------------------------- convolution


def conv_tuple(value, nd, name):
    """An int, or a list of 1 or nd ints, as an nd-tuple (a wrong length is checked later,
    against the weight's dims, as PyTorch does)."""
    v = _ints(value, name)
    return v * nd if len(v) == 1 else v


def conv_padding(padding, kernel, stride, dilation, nd):
    """padding as (low, high) pairs: "valid" is none, "same" keeps the size (the odd one out at
    the high end, as PyTorch)."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding != "same":
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in total)
    return tuple((p, p) for p in padding)


def check_conv(name, nd, input, weight, bias, stride, padding, dilation, groups):
    """PyTorch's checks of a convolution's arguments, in its order and with its messages.
    Returns (input, batched): an unbatched input gets a batch dim of 1."""
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, "
                           f"but got input of size: {list(input.shape)}")
    batched = input.ndim == nd + 2
    if weight.ndim < 3:
        raise RuntimeError("weight should have at least three dimensions")
    k = weight.ndim - 2
    for pname, v in (("stride", stride), ("padding", padding), ("dilation", dilation)):
        if not isinstance(v, str) and len(v) != k:
            raise RuntimeError(f"expected {pname} to be a single integer value or a list of {k} values to "
                               f"match the convolution dimensions, but got {pname}={list(v)}")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if not isinstance(padding, str) and any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    _check_weight(input if batched else input.unsqueeze(0), weight, bias, groups)
    return batched


def _check_weight(x, weight, bias, groups):
    ws = list(weight.shape)
    if ws[0] < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, "
                           f"but got weight of size {ws} instead")
    if ws[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size [{ws}] instead")
    if x.shape[1] != ws[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {ws}, expected input{list(x.shape)} to have "
                           f"{ws[1] * groups} channels, but got {x.shape[1]} channels instead")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != ws[0]):
        raise RuntimeError(f"Given weight of size {ws}, expected bias to be 1-dimensional with {ws[0]} elements, "
                           f"but got bias of size {list(bias.shape)} instead")
    if x.dtype != weight.dtype:
        if x.dtype.name == "float32":
            raise RuntimeError(f"Input type ({x.type()}) and weight type ({weight.type()}) should be the same "
                               "or input should be a MKLDNN tensor and weight is a dense tensor")
        raise RuntimeError(f"expected scalar type {scalar_type_name(x.dtype)} but found "
                           f"{scalar_type_name(weight.dtype)}")
    if bias is not None and bias.dtype != x.dtype:
        raise RuntimeError(f"Input type ({x.dtype.name}) and bias type ({bias.dtype.name}) should be the same")


def check_kernel_fits(x, kernel, padding, dilation):
    padded = [s + lo + hi for s, (lo, hi) in zip(x.shape[2:], padding)]
    extent = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if any(e > p for e, p in zip(extent, padded)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
                           f"Kernel size: ({' x '.join(map(str, extent))}). Kernel size can't be greater "
                           "than actual input size")


# ----------------------------------------------------------------------------- pooling


def pool_tuple(value, nd, fname, pname, *, omittable=False):
    """kernel_size / stride / padding / dilation of a pooling function as an nd-tuple."""
    if omittable and (value is None or value == () or value == []):
        return None
    v = _ints(value, pname)
    if len(v) == 1:
        return v * nd
    if len(v) != nd:
        what = "must either be omitted, a" if omittable else (
            "must be either a" if pname == "dilation" else "must either be a")
        raise RuntimeError(f"{fname}: {pname} {what} {_DIMS_WORD[nd]}")
    return v


def check_pool(fname, input, kernel, stride, padding, dilation=None):
    """PyTorch's checks of a max/avg pooling's input and geometry."""
    nd = len(kernel)
    if any(k <= 0 for k in kernel):
        raise RuntimeError("kernel size should be greater than zero, but got "
                           + " ".join(f"k{c}: {k}" for c, k in zip("HW"[2 - nd:], kernel)))
    if any(s <= 0 for s in stride):
        raise RuntimeError("stride should not be zero")
    if any(p < 0 for p in padding):
        raise RuntimeError(f"pad must be non-negative, but got pad: {padding[0] if padding[0] < 0 else padding[-1]}")
    dilation = dilation or (1,) * nd
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero, but got "
                           + " ".join(f"dilation{c}: {d}" for c, d in zip("HW"[2 - nd:], dilation)))
    for k, p, d in zip(kernel, padding, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                               f"kernel_size={k} and dilation={d}")
    if input.ndim not in (nd + 1, nd + 2) or any(s == 0 for s in input.shape[input.ndim - nd - 1:]):
        if fname.startswith("max") and input.ndim not in (nd + 1, nd + 2):
            raise RuntimeError(f"non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor expected for input")
        if input.ndim < nd + 1:
            n = max(input.ndim, 1)
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {-nd - 1})")
        raise RuntimeError(f"Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with optional 0 dim batch size "
                           f"for input, but got:{list(input.shape)}")


def pool_padding(size, kernel, stride, padding, dilation, ceil_mode):
    """(low, high) padding per dim, high grown so that ceil_mode's last window fits. With
    ceil_mode a last window that would start in the right padding is dropped (PyTorch's rule)."""
    pairs = []
    for s, k, st, p, d in zip(size, kernel, stride, padding, dilation):
        extent = d * (k - 1) + 1
        o = (s + 2 * p - extent + (st - 1 if ceil_mode else 0)) // st + 1
        if ceil_mode and (o - 1) * st >= s + p:
            o -= 1
        pairs.append((p, max(p, (o - 1) * st + extent - s - p)))
    return tuple(pairs)


def check_pool_output(input, out):
    if any(o <= 0 for o in out):
        lead = input.shape[input.ndim - len(out) - 1]
        raise RuntimeError(
            f"Given input size: ({'x'.join(map(str, (lead,) + tuple(input.shape[input.ndim - len(out):])))}). "
            f"Calculated output size: ({'x'.join(map(str, (lead,) + tuple(out)))}). Output size is too small")


def check_dtype(fname, input, supported):
    if not supported:
        raise NotImplementedError(f'"{fname}" not implemented for \'{scalar_type_name(input.dtype)}\'')
