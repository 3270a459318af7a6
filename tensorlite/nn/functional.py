"""tensorlite.nn.functional: layers as functions, written with tensorlite ops only.

Every function is a composite of primitives, so it is differentiable (to any order),
traceable by make_fx and intercepted as one call by fxlite's Proxy (like torch.fx does for
torch.nn.functional).

>>> import tensorlite as tl
>>> import tensorlite.nn.functional as F
>>> F.relu(tl.tensor([-1.0, 2.0]))
tensor([0., 2.])
"""
import functools
import math
import warnings

from .. import _prims_array, _prims_conv, _prims_norm, _prims_pool, _state
from .._dtype import scalar_type_name
from .._functions import _find_override
from .._primitive import bind
from .._tensor import Tensor
from . import _layer_args as A

__all__ = ["relu", "gelu", "silu", "sigmoid", "tanh", "linear", "softmax", "log_softmax", "dropout",
           "mse_loss", "l1_loss", "nll_loss", "cross_entropy", "layer_norm", "embedding", "leaky_relu",
           "softplus", "one_hot", "conv1d", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
           "batch_norm", "pad", "scaled_dot_product_attention"]


def _overridable(fn):
    """Route calls whose arguments override `__tl_function__` (fxlite's Proxy) to them."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not (args and args[0].__class__ is Tensor):
            cls = _find_override(args, kwargs)
            if cls is not None:
                return cls.__tl_function__(wrapper, (cls,), args, kwargs)
        return fn(*args, **kwargs)

    wrapper.__module__ = "tensorlite.nn.functional"
    return wrapper


def _check_tensor(x, fname, arg="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' must be Tensor, not {type(x).__name__}")


# ---------------------------------------------------------------------- activations
@_overridable
def relu(input, inplace=False):
    """max(input, 0) elementwise."""
    _check_tensor(input, "relu")
    return input.relu()


@_overridable
def leaky_relu(input, negative_slope=0.01, inplace=False):
    return input.relu() - (-input).relu() * negative_slope


@_overridable
def gelu(input, approximate="none"):
    """x * Phi(x) with the exact erf (approximate='none') or the tanh approximation ('tanh')."""
    _check_tensor(input, "gelu")
    if approximate == "none":
        return input * 0.5 * (1.0 + (input * (1.0 / math.sqrt(2.0))).erf())
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * math.sqrt(2.0 / math.pi)
        return input * 0.5 * (1.0 + inner.tanh())
    raise ValueError(f"approximate argument must be either none or tanh, got {approximate!r}")


@_overridable
def sigmoid(input):
    return input.sigmoid()


@_overridable
def tanh(input):
    return input.tanh()


@_overridable
def silu(input, inplace=False):
    """x * sigmoid(x)."""
    return input * input.sigmoid()


@_overridable
def softplus(input, beta=1.0, threshold=20.0):
    from .. import where
    z = input * beta
    soft = ((-z.abs()).exp() + 1.0).log() + z.relu()
    return where(z > threshold, input, soft / beta)


def _softmax_dim(ndim, name):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. "
                  "Change the call to include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


@_overridable
def softmax(input, dim=None, dtype=None):
    """exp(x) / sum(exp(x)) along dim (computed stably)."""
    _check_tensor(input, "softmax")
    if dim is None:
        dim = _softmax_dim(input.ndim, "softmax")
    if dtype is not None:
        input = input.to(dtype)
    return input.softmax(dim)


@_overridable
def log_softmax(input, dim=None, dtype=None):
    """x - logsumexp(x) along dim (computed stably)."""
    _check_tensor(input, "log_softmax")
    if dim is None:
        dim = _softmax_dim(input.ndim, "log_softmax")
    if dtype is not None:
        input = input.to(dtype)
    return input.log_softmax(dim)


# ---------------------------------------------------------------------- layers
@_overridable
def linear(input, weight, bias=None):
    """input @ weight.T + bias, with weight of shape (out_features, in_features)."""
    _check_tensor(input, "linear")
    if input.ndim == 0 or weight.ndim not in (1, 2) or input.shape[-1] != weight.shape[-1]:
        rows = input.numel() // input.shape[-1] if input.ndim and input.shape[-1] else 1
        cols = input.shape[-1] if input.ndim else 1
        w = tuple(weight.shape) + (1,) * (2 - weight.ndim)
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{cols} and {w[1]}x{w[0]}): "
                           f"linear got an input of shape {list(input.shape)} and a weight of shape "
                           f"{list(weight.shape)}")
    out = input @ weight.t() if weight.ndim == 2 else input @ weight
    if bias is not None:
        out = out + bias
    return out


@_overridable
def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1-p) (identity when not training)."""
    from .._creation import rand
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = (rand(*input.shape, dtype=input.dtype) >= p).to(input.dtype)
    return input * keep * (1.0 / (1.0 - p))


@_overridable
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the trailing `normalized_shape` dims (biased variance), then scale and shift."""
    _check_tensor(input, "layer_norm")
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    n = len(normalized_shape)
    if n == 0 or tuple(input.shape[input.ndim - n:]) != normalized_shape or input.ndim < n:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, normalized_shape))}], but got input of size{list(input.shape)}")
    dims = tuple(range(input.ndim - n, input.ndim))
    mean = input.mean(dims, keepdim=True)
    centered = input - mean
    var = (centered * centered).mean(dims, keepdim=True)
    out = centered * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


# ---------------------------------------------------------------------- convolution and pooling
def _conv(name, nd, input, weight, bias, stride, padding, dilation, groups):
    _check_tensor(input, name)
    _check_tensor(weight, name, "weight")
    stride = A.conv_tuple(stride, nd, "stride")
    dilation = A.conv_tuple(dilation, nd, "dilation")
    if not isinstance(padding, str):
        padding = A.conv_tuple(padding, nd, "padding")
    batched = A.check_conv(name, nd, input, weight, bias, stride, padding, dilation, groups)
    x = input if batched else input.unsqueeze(0)
    kernel = tuple(weight.shape[2:])
    pads = A.conv_padding(padding, kernel, stride, dilation, nd)
    A.check_kernel_fits(x, kernel, pads, dilation)
    params = {"stride": stride, "padding": pads, "dilation": dilation, "groups": groups}
    out = bind(_prims_conv.convolution, (x, weight) if bias is None else (x, weight, bias), params)
    return out if batched else out.squeeze(0)


@_overridable
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d cross-correlation of input (N, C, L) with weight (O, C/groups, k), plus bias (O,).
    padding: an int, or "valid" (none) or "same" (the output keeps L; stride 1 only)."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


@_overridable
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d cross-correlation of input (N, C, H, W) with weight (O, C/groups, kH, kW), plus bias.
    stride, padding and dilation are an int or a pair; padding may be "valid" or "same"."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _pool_geometry(fname, input, kernel_size, stride, padding, dilation, ceil_mode):
    """(batched input, primitive params) of a 2-d max/avg pooling, checked as PyTorch does."""
    _check_tensor(input, fname)
    kernel = A.pool_tuple(kernel_size, 2, fname, "kernel_size")
    stride = A.pool_tuple(stride, 2, fname, "stride", omittable=True) or kernel
    padding = A.pool_tuple(padding, 2, fname, "padding")
    dil = A.pool_tuple(dilation, 2, fname, "dilation")
    A.check_pool(fname, input, kernel, stride, padding, dil)
    x = input if input.ndim == 4 else input.unsqueeze(0)
    pads = A.pool_padding(x.shape[2:], kernel, stride, padding, dil, ceil_mode)
    A.check_pool_output(x, _prims_conv.out_size(x.shape[2:], kernel, stride, pads, dil))
    return x, {"kernel_size": kernel, "stride": stride, "padding": pads, "dilation": dil}


def _unbatch(out, input, nd):
    return out if input.ndim == nd + 2 else out.squeeze(0)


@_overridable
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The maximum of each kernel_size window (stride defaults to kernel_size; padding counts
    as -inf). With return_indices, also where each maximum is (a flat index into H*W)."""
    x, params = _pool_geometry("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    A.check_dtype("max_pool2d", input, input.dtype.name != "bool")
    out = _unbatch(bind(_prims_pool.max_pool, (x,), params), input, 2)
    if not return_indices:
        return out
    return out, _unbatch(bind(_prims_pool.max_pool_indices, (x,), params), input, 2)


@_overridable
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """The mean of each kernel_size window (stride defaults to kernel_size). The divisor counts
    the zero padding when count_include_pad; divisor_override replaces it."""
    x, params = _pool_geometry("avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    A.check_dtype("avg_pool2d", input, input.dtype.np.kind == "f" or input.dtype.name == "int64")
    del params["dilation"]
    params.update(count_include_pad=bool(count_include_pad), divisor_override=divisor_override or None)
    return _unbatch(bind(_prims_pool.avg_pool, (x,), params), input, 2)


@_overridable
def adaptive_avg_pool2d(input, output_size):
    """Means over output_size bins of the last two dims (bin i of n over a size-S dim covers
    [floor(i*S/n), ceil((i+1)*S/n))). An entry None of output_size keeps that dim's size."""
    _check_tensor(input, "adaptive_avg_pool2d")
    size = (output_size,) * 2 if isinstance(output_size, int) else tuple(output_size)
    if len(size) != 2:
        raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {list(input.shape)}")
    size = tuple(input.shape[input.ndim - 2 + i] if s is None else s for i, s in enumerate(size))
    if any(s < 0 for s in size):
        raise RuntimeError("adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 "
                           f"but received {{{size[0]}, {size[1]}}}")
    for d in range(1, input.ndim):
        if input.shape[d] == 0:
            raise RuntimeError("adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(input.shape)} with dimension {d} being empty")
    A.check_dtype("adaptive_avg_pool2d", input, input.dtype.np.kind == "f")
    return bind(_prims_pool.adaptive_avg_pool, (input,), {"output_size": size})


# ---------------------------------------------------------------------- batch norm
def _check_channels(c, **tensors):
    for name, t in tensors.items():
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")


def _check_same_dtype(input, *tensors):
    for t in tensors:
        if t is not None and t.dtype != input.dtype:
            if input.dtype.name == "float32":
                raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")


@_overridable
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5):
    """Normalize each channel (dim 1) over the batch and spatial dims, then scale by weight and
    shift by bias. Training uses the batch's statistics (biased variance) and, given running
    statistics, updates them in place: running = (1 - momentum) * running + momentum * batch,
    with the unbiased variance. Evaluation uses the running statistics."""
    _check_tensor(input, "batch_norm")
    c = input.size(1)
    if training and input.numel() // c <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
    _check_channels(c, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias)
    _check_same_dtype(input, running_mean, running_var, weight, bias)
    if training:
        stats = bind(_prims_norm.batch_norm_stats, (input,), {})
        _update_running_stats(running_mean, running_var, stats, momentum, input.numel() // c)
    else:
        for name, t in (("running_mean", running_mean), ("running_var", running_var)):
            if t is None:
                raise RuntimeError(f"{name} must be defined in evaluation mode")
        from .. import stack
        stats = stack([running_mean, running_var])
    return bind(_prims_norm.batch_norm_apply, (input, stats, weight, bias), {"eps": eps})


def _update_running_stats(running_mean, running_var, stats, momentum, n):
    from ..autograd.grad_mode import no_grad
    with no_grad():
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_(stats[0] * momentum)
        if running_var is not None:  # with the unbiased variance, as PyTorch
            running_var.mul_(1 - momentum).add_(stats[1] * (momentum * n / (n - 1)))


# ---------------------------------------------------------------------- padding
_PAD_MODES = ("constant", "reflect", "replicate", "circular")
# (padding length, input dims) pairs the non-constant modes take: 1-3 trailing dims, with a batch dim or not
_NON_CONSTANT_PADS = {(2, 2), (2, 3), (4, 3), (4, 4), (6, 4), (6, 5)}


@_overridable
def pad(input, pad, mode="constant", value=None):
    """Pad the trailing dims: pad = (left, right) of the last dim, then of the one before, ...
    mode "constant" fills with value (negative padding crops); "reflect" mirrors the input
    without repeating its edge, "replicate" repeats the edge, "circular" wraps around."""
    _check_tensor(input, "pad")
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    n = len(pad) // 2
    if n > input.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension but "
                           f"got padding length {len(pad)} and input of dimension {input.ndim}")
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    pairs = tuple((pad[2 * i], pad[2 * i + 1]) for i in reversed(range(n)))  # the first padded dim first
    sizes = tuple(input.shape[input.ndim - n:])
    if mode == "constant":
        if any(s + lo + hi < 0 for s, (lo, hi) in zip(sizes, pairs)):
            raise RuntimeError("narrow(): length must be non-negative.")
        return bind(_prims_array.pad, (input,), {"pad": pairs, "mode": mode, "value": 0 if value is None else value})
    if value is not None:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    _check_non_constant_pad(input, pad, pairs, sizes, mode)
    return bind(_prims_array.pad, (input,), {"pad": pairs, "mode": mode, "value": 0})


def _check_non_constant_pad(input, pad, pairs, sizes, mode):
    if (len(pad), input.ndim) not in _NON_CONSTANT_PADS:
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    for dim, s, (lo, hi) in reversed(list(zip(range(input.ndim - len(sizes), input.ndim), sizes, pairs))):
        if mode == "reflect" and (lo >= s or hi >= s):
            arg = 4 + 2 * (input.ndim - 1 - dim)  # PyTorch's argument number for that dim
            raise RuntimeError(f"Argument #{arg}: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({lo}, {hi}) at dimension {dim} of input {list(input.shape)}")
        if mode == "circular" and (lo > s or hi > s):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if s + lo + hi < 0 or mode != "circular" and s == 0:
            raise RuntimeError(f"input tensor must have non-zero size in the padded dimension {dim}, "
                               f"but got {list(input.shape)}")


# ---------------------------------------------------------------------- attention
@_overridable
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value over the last two dims (L queries, S keys).

    attn_mask: bool (True = attend) or a float added to the scores; is_causal: query i attends
    to keys 0..i (top-left aligned); scale defaults to 1/sqrt(E). A row with every key masked
    gives zeros, as PyTorch. enable_gqa repeats each key/value head for its group of query heads.
    dropout_p > 0 drops attention weights (whatever the module's training mode, as PyTorch)."""
    _check_attention(query, key, value, attn_mask, is_causal)
    if enable_gqa and key.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        key, value = _repeat_heads(key, query.shape[-3]), _repeat_heads(value, query.shape[-3])
    scores = (query @ key.transpose(-2, -1)) * (1.0 / math.sqrt(query.shape[-1]) if scale is None else scale)
    if is_causal:
        from .. import ones
        attn_mask = ones(query.shape[-2], key.shape[-2], dtype=bool).tril()
    if attn_mask is not None:
        scores = scores.masked_fill(~attn_mask, -math.inf) if attn_mask.dtype.name == "bool" else scores + attn_mask
    # a row of -inf only: softmax of zeros instead (no nan, in values or gradients), then 0
    from .. import where
    empty = scores.amax(-1, keepdim=True) == -math.inf
    attn = where(empty, 0.0, where(empty, 0.0, scores).softmax(-1))
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p)
    return attn @ value


def _check_attention(query, key, value, attn_mask, is_causal):
    if not (query.dtype == key.dtype == value.dtype):
        names = {t: scalar_type_name(t).lower() for t in (query.dtype, key.dtype, value.dtype)}
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{names[query.dtype]} key.dtype: {names[key.dtype]} and value.dtype: {names[value.dtype]} "
                           "instead.")
    if attn_mask is not None and is_causal:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    if attn_mask is not None and attn_mask.dtype.name != "bool" and attn_mask.dtype != query.dtype:
        raise RuntimeError("Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                           f"attn_mask.dtype: {_C_NAMES.get(attn_mask.dtype.name, attn_mask.dtype.name)} and  "
                           f"query.dtype: {_C_NAMES.get(query.dtype.name, query.dtype.name)} instead.")


_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int"}


def _repeat_heads(t, heads):
    """t (..., H, S, E) with each head repeated heads // H times in a row (repeat_interleave)."""
    h = t.shape[-3]
    lead = tuple(t.shape[:-3])
    return t.unsqueeze(-3).expand(*lead, h, heads // h, *t.shape[-2:]).reshape(*lead, heads, *t.shape[-2:])


def _check_indices(input, fname):
    if not isinstance(input, Tensor) or input.dtype.np.kind not in "iu":
        got = input.dtype if isinstance(input, Tensor) else type(input).__name__
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar "
                           f"types: Long, Int; but got {got} instead (while checking arguments for {fname})")


@_overridable
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of weight picked by the integer tensor input; padding_idx rows get no gradient."""
    _check_indices(input, "embedding")
    num = weight.shape[0]
    if input.numel() and _state.mode is None:
        lo, hi = input.amin().item(), input.amax().item()
        if lo < -num or hi >= num:
            raise IndexError(f"index out of range in self (embedding of {num} rows got index "
                             f"{hi if hi >= num else lo})")
    out = weight[input]
    if padding_idx is not None:
        if padding_idx < 0:
            padding_idx += num
        from .. import where
        keep = (input != padding_idx).unsqueeze(-1)
        out = where(keep, out, out.detach())
    return out


@_overridable
def one_hot(tensor, num_classes=-1):
    from .._creation import arange
    _check_indices(tensor, "one_hot")
    if num_classes < 0:
        num_classes = int(tensor.amax().item()) + 1
    return (tensor.unsqueeze(-1) == arange(num_classes)).long()


# ---------------------------------------------------------------------- losses
def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


@_overridable
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """mean((input - target) ** 2) (or sum, or elementwise with reduction='none')."""
    if input.shape != target.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=2)
    diff = input - target
    return _reduce(diff * diff, reduction)


@_overridable
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    return _reduce((input - target).abs(), reduction)


def _classes_last(input, target):
    """(N*d1*..., C) scores and (N*d1*...,) targets, plus the shape to restore for reduction='none'."""
    if input.ndim == 1:
        if target.ndim != 0:
            raise ValueError(f"Expected target of shape () for input of shape {list(input.shape)}, "
                             f"got {list(target.shape)}")
        return input.unsqueeze(0), target.reshape(1), ()
    if input.ndim == 2:
        if target.ndim != 1 or target.shape[0] != input.shape[0]:
            raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                             f"({target.shape[0] if target.ndim else 0}).")
        return input, target, (input.shape[0],)
    expect = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expect:
        raise RuntimeError(f"Expected target size {list(expect)}, got {list(target.shape)}")
    perm = (0,) + tuple(range(2, input.ndim)) + (1,)
    return input.permute(*perm).reshape(-1, input.shape[1]), target.reshape(-1), expect


def _nll_parts(logp, target, weight, ignore_index):
    """Per-sample -w[y] * logp[i, y] and the per-sample weights (0 where ignored)."""
    from .._creation import arange
    from .. import where
    _check_indices(target, "nll_loss")
    n, c = logp.shape
    valid = target != ignore_index
    safe = where(valid, target, 0)
    if n and _state.mode is None and (safe.amin().item() < 0 or safe.amax().item() >= c):
        bad = safe.amax().item() if safe.amax().item() >= c else safe.amin().item()
        raise IndexError(f"Target {bad} is out of bounds (the input has {c} classes).")
    picked = logp[arange(n), safe]
    w = valid.to(logp.dtype)
    if weight is not None:
        w = w * weight[safe]
    return -picked * w, w


@_overridable
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of class indices, given log-probabilities of shape (N, C, ...)."""
    logp, tgt, shape = _classes_last(input, target)
    losses, w = _nll_parts(logp, tgt, weight, ignore_index)
    if reduction == "mean":
        return losses.sum() / w.sum()
    if reduction == "none":
        return losses.reshape(*shape) if shape else losses.reshape(())
    return _reduce(losses, reduction)


@_overridable
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """log_softmax over the class dim (dim 1, or 0 for 1-d input) followed by nll_loss.

    target holds class indices (integer tensor) or class probabilities (same shape as input).
    label_smoothing mixes the target with the uniform distribution over the C classes.
    """
    _check_tensor(input, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.ndim == 1 else 1
    logp_full = input.log_softmax(class_dim)
    c = input.shape[class_dim]
    if target.is_floating_point():  # class probabilities
        if target.shape != input.shape:
            raise RuntimeError(f"Expected target of shape {list(input.shape)} (class probabilities), "
                               f"got {list(target.shape)}")
        if label_smoothing:
            target = target * (1.0 - label_smoothing) + label_smoothing / c
        prod = logp_full * target
        if weight is not None:
            prod = prod * weight.reshape(*([c] + [1] * (input.ndim - 2))) if input.ndim > 1 else prod * weight
        losses = -prod.sum(class_dim)
        if reduction == "mean":
            return losses.sum() / (losses.numel() if input.ndim > 1 else 1)
        return _reduce(losses, reduction)
    logp, tgt, shape = _classes_last(logp_full, target)
    losses, w = _nll_parts(logp, tgt, weight, ignore_index)
    if label_smoothing:
        valid = (tgt != ignore_index).to(logp.dtype)
        smooth = -((logp * weight) if weight is not None else logp).sum(1) * valid
    if reduction == "mean":
        loss = losses.sum() / w.sum()
        if label_smoothing:
            loss = loss * (1.0 - label_smoothing) + smooth.sum() / w.sum() * (label_smoothing / c)
        return loss
    if reduction == "none":
        loss = losses
        if label_smoothing:
            loss = loss * (1.0 - label_smoothing) + smooth * (label_smoothing / c)
        return loss.reshape(*shape) if shape else loss.reshape(())
    if reduction == "sum":
        loss = losses.sum()
        if label_smoothing:
            loss = loss * (1.0 - label_smoothing) + smooth.sum() * (label_smoothing / c)
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")
