"""A differential table in the style of Dynamo's `make_test`: small programs, each run eagerly
and compiled (CompileCounter backend) on two sets of fresh inputs, comparing the values, the
mutated inputs, and the number of graphs compiled (1 for a fully capturable program; the
second call must hit the cache)."""
import collections
import functools
import math
import operator

import pytest

import minidynamo as md
import tensorlite as tl
from minidynamo.testing import CompileCounter, same

PROGRAMS = []


def randn(*shape):
    return tl.randn(*shape)


def ab():
    return (randn(10), randn(10))


def prog(args=ab, frames=1, kwargs=None):
    """Register a program; `args` builds its (fresh) positional arguments."""
    def deco(fn):
        PROGRAMS.append(pytest.param(fn, args, kwargs, frames, id=fn.__name__))
        return fn
    return deco


# ---------------------------------------------------------------------------------- globals
G_INT = 3
G_FLOAT = 0.5
G_TENSOR = tl.ones(10)
G_LIST = [1, 2, 3]
G_DICT = {"a": 1.5, "b": -2.0}
G_TUPLE = (2, 3)
G_STR = "hello"


class Config:
    def __init__(self):
        self.scale = 2.0
        self.shift = 1
        self.flag = True
        self.name = "cfg"


CFG = Config()


def helper_add(x, y):
    return x + y


def helper_kw(x, *, scale=1.0, bias=0.0):
    return x * scale + bias


def helper_star(*args):
    return sum(args[1:], args[0])


def helper_kwargs(x, **kwargs):
    for k in sorted(kwargs):
        x = x + kwargs[k]
    return x


def helper_nested(x):
    return helper_add(x, 1) * helper_add(x, -1)


def helper_default(x, n=2, m=3):
    return x * n + m


def helper_returns_tuple(x):
    return x.sin(), x.cos()


def make_adder(n):
    def add(x):
        return x + n
    return add


ADD5 = make_adder(5)


def make_counter_closure():
    scale = tl.ones(10) * 2

    def f(x):
        return x * scale
    return f


MUL_CLOSURE = make_counter_closure()

P_MUL = functools.partial(operator.mul, 3)
P_KW = functools.partial(helper_kw, scale=2.0)


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def norm2(self):
        return self.x * self.x + self.y * self.y

    def scaled(self, k):
        return Point(self.x * k, self.y * k)

    @property
    def total(self):
        return self.x + self.y


class Holder:
    factor = 4

    def __init__(self, t):
        self.t = t

    def apply(self, x):
        return x * self.t + self.factor

    @staticmethod
    def twice(x):
        return x * 2

    @classmethod
    def build(cls, t):
        return cls(t)


Pair = collections.namedtuple("Pair", ["left", "right"])


class MLP(tl.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = tl.nn.Linear(4, 8)
        self.act = tl.nn.ReLU()
        self.fc2 = tl.nn.Linear(8, 3)
        self.register_buffer("offset", tl.ones(3) * 0.5)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) + self.offset


class Block(tl.nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = tl.nn.LayerNorm(4)
        self.seq = tl.nn.Sequential(tl.nn.Linear(4, 4), tl.nn.Tanh(), tl.nn.Linear(4, 4))
        self.layers = tl.nn.ModuleList([tl.nn.Linear(4, 4) for _ in range(2)])
        self.register_buffer("scale", tl.full((4,), 0.25))
        self.use_residual = True

    def forward(self, x):
        h = self.seq(self.norm(x))
        for layer in self.layers:
            h = layer(h)
        if self.use_residual:
            h = h + x
        return h * self.scale


tl.manual_seed(0)
LIN = tl.nn.Linear(4, 3)
SEQ = tl.nn.Sequential(tl.nn.Linear(4, 6), tl.nn.ReLU(), tl.nn.Linear(6, 2))
LN = tl.nn.LayerNorm(4)
MLP_MOD = MLP()
BLOCK = Block()


def x4():
    return (randn(5, 4),)


# =============================================================================== locals / consts
@prog()
def add_two(a, b):
    return a + b


@prog()
def locals_chain(a, b):
    c = a * 2
    d = c - b
    e = d / 3
    return e, c


@prog()
def constants_mix(a, b):
    return a * 1.5 + 2 - b * -3


@prog()
def constant_none_return(a, b):
    x = a + b
    return x, None, "s", 3


@prog()
def reassign_local(a, b):
    x = a
    x = x + b
    x = x * x
    return x


@prog()
def del_local(a, b):
    x = a + 1
    y = x * b
    del x
    return y


@prog()
def swap_locals(a, b):
    a, b = b, a
    return a - b


@prog()
def augmented_assign(a, b):
    x = a.clone()
    x += b
    x -= 1
    x *= 2
    x /= 4
    return x


@prog()
def int_augassign(a, b):
    n = 1
    n += 2
    n *= 3
    n //= 2
    n **= 2
    return a * n


# ================================================================================ globals
@prog()
def global_int(a, b):
    return a * G_INT + b


@prog()
def global_float_tensor(a, b):
    return a * G_FLOAT + G_TENSOR


@prog()
def global_list(a, b):
    return a * G_LIST[1] + b * len(G_LIST)


@prog()
def global_dict(a, b):
    return a * G_DICT["a"] + b * G_DICT["b"]


@prog()
def global_tuple_unpack(a, b):
    p, q = G_TUPLE
    return a * p + b * q


@prog()
def global_str_len(a, b):
    return a * len(G_STR)


@prog()
def global_object_attr(a, b):
    return a * CFG.scale + CFG.shift


@prog()
def global_module_math(a, b):
    return a * math.pi + math.e


@prog()
def global_function_call(a, b):
    return helper_add(a, b) * 2


# =============================================================================== builtins
@prog()
def builtin_abs_on_tensor(a, b):
    return abs(a) + b


@prog()
def builtin_len_tensor(a, b):
    return a * len(b)


@prog()
def builtin_min_max_python(a, b):
    return a * min(3, 5, 2) + max([1, 7, 4])


@prog()
def builtin_max_tensors(a, b):
    return max(1, 2) * a, min(a.shape[0], 4)


@prog()
def builtin_sum_list(a, b):
    return sum([a, b, a])


@prog()
def builtin_sum_ints(a, b):
    return a + sum(range(5))


@prog()
def builtin_round_int_float(a, b):
    return a * round(2.7) + int(3.9) + float(2)


@prog()
def builtin_isinstance(a, b):
    if isinstance(a, tl.Tensor):
        a = a + 1
    if isinstance(3, (float, str)):
        a = a * 100
    return a


@prog()
def builtin_isinstance_list(a, b):
    x = [a, b]
    if isinstance(x, list) and not isinstance(x, tuple):
        return x[0] + x[1]
    return a


@prog()
def builtin_getattr(a, b):
    return getattr(a, "sin")() + getattr(CFG, "scale") * b


@prog()
def builtin_getattr_default(a, b):
    return a * getattr(CFG, "missing", 7)


@prog()
def builtin_hasattr(a, b):
    if hasattr(CFG, "scale"):
        a = a + 1
    if hasattr(CFG, "nope"):
        a = a + 100
    return a


@prog()
def builtin_hasattr_tensor(a, b):
    return a + (1 if hasattr(a, "shape") else 2)


@prog()
def builtin_callable_type(a, b):
    r = a
    if callable(helper_add):
        r = r + 1
    if type(3) is int:
        r = r * 2
    return r


@prog()
def builtin_any_all(a, b):
    r = a
    if any([False, True]):
        r = r + 1
    if all([1, 0]):
        r = r + 100
    return r


@prog()
def builtin_sorted_reversed(a, b):
    xs = sorted([3, 1, 2])
    ys = list(reversed(xs))
    return a * xs[0] + ys[0]


@prog()
def builtin_map_filter(a, b):
    xs = list(map(lambda v: v * 2, [1, 2, 3]))
    ys = list(filter(lambda v: v > 2, xs))
    return a * sum(ys)


@prog()
def builtin_map_tensors(a, b):
    xs = list(map(tl.sin, [a, b]))
    return xs[0] + xs[1]


@prog()
def builtin_bool(a, b):
    return a + bool([]) + bool(3)


@prog()
def builtin_divmod_pow(a, b):
    q, r = divmod(17, 5)
    return a * q + r + pow(2, 3)


@prog()
def builtin_str_format(a, b):
    s = f"{G_INT}-{G_STR}"
    return a * len(s)


# ============================================================================ closures / cells
@prog()
def closure_read(a, b):
    return ADD5(a) + MUL_CLOSURE(b)


@prog()
def closure_inner_reads_outer(a, b):
    k = 3

    def inner(x):
        return x * k
    return inner(a) + b


@prog()
def closure_inner_reads_tensor(a, b):
    def inner(x):
        return x + b
    return inner(a)


@prog()
def closure_nonlocal_write(a, b):
    count = 0

    def bump():
        nonlocal count
        count += 1
    bump()
    bump()
    return a * count


@prog()
def closure_nonlocal_tensor(a, b):
    acc = a

    def add(t):
        nonlocal acc
        acc = acc + t
    add(b)
    add(b)
    return acc


@prog()
def closure_two_levels(a, b):
    x = 2

    def outer():
        y = 3

        def inner():
            return x * y
        return inner()
    return a * outer()


@prog()
def closure_make_adder(a, b):
    add3 = make_adder(3)
    return add3(a) + add3(b)


@prog()
def closure_cell_after_loop(a, b):
    fs = []
    for i in range(3):
        fs.append(lambda x, i=i: x * i)
    return fs[0](a) + fs[1](a) + fs[2](b)


@prog()
def closure_captures_arg(a, b):
    def f():
        return a * b
    return f() + 1


# ============================================================================ arithmetic
@prog()
def arith_all_binops(a, b):
    return a + b, a - b, a * b, a / (b.abs() + 1), a ** 2


@prog()
def arith_reverse_ops(a, b):
    return 1 + a, 2 - a, 3 * a, 4 / (a.abs() + 1), 2 ** a


@prog()
def arith_unary(a, b):
    return -a, +b, -(-a)


@prog()
def arith_python_numbers(a, b):
    x = 7 // 2 + 7 % 3 - 2 ** 3 + 1.5 * 2 - 9 / 3
    return a * x


@prog()
def arith_bitwise_ints(a, b):
    x = (6 & 3) | (8 ^ 2) << 1 >> 1
    return a + x + (~5)


@prog()
def arith_matmul(a, b):
    return a @ b


@prog(args=lambda: (randn(3, 4), randn(4, 5)))
def arith_matmul_2d(x, y):
    return x @ y, tl.mm(x, y)


@prog()
def arith_comparison_tensors(a, b):
    return a < b, a <= b, a > b, a >= b, a == b, a != b


@prog()
def arith_comparison_python(a, b):
    r = a
    if 3 < 4 <= 4:
        r = r + 1
    if 2 == 3 or 5 != 5:
        r = r + 100
    return r


@prog()
def arith_where_mask(a, b):
    return tl.where(a > 0, a, b)


@prog()
def arith_compare_scalar(a, b):
    return (a > 0.5).float() * b


@prog()
def arith_mixed_python_tensor(a, b):
    n = a.shape[0]
    return a * (n / 2) + b * (n - 1)


@prog()
def arith_int_tensor(a, b):
    return (a * 10).long() // 3 + 1


@prog()
def arith_chain_ops(a, b):
    return ((a + b) * (a - b)).sin().cos().exp().sum()


@prog()
def arith_inplace_tensor_methods(a, b):
    x = a.clone()
    x.add_(b)
    x.mul_(2)
    x.sub_(1)
    return x


@prog()
def arith_math_functions(a, b):
    return a * math.sqrt(16) + math.log(math.e) + math.floor(2.7) + math.cos(0.0)


@prog()
def arith_math_pow_ceil(a, b):
    return a * math.pow(2, 3) + math.ceil(1.2) + math.exp(0) + math.fabs(-2.5)


@prog()
def arith_float_inf(a, b):
    return a.clamp(max=float("inf")) + math.inf * 0 if False else a.clamp(min=-math.inf)


@prog()
def arith_not(a, b):
    f = not False
    return a * f + (not 0)


# ============================================================================ tensor ops
@prog()
def tensor_functions(a, b):
    return tl.sin(a) + tl.cos(b) + tl.exp(a * 0.1) + tl.tanh(b)


@prog()
def tensor_methods(a, b):
    return a.relu() + b.sigmoid() + a.abs().sqrt() + b.neg()


@prog()
def tensor_reductions(a, b):
    return a.sum(), b.mean(), a.max(), (a * b).sum(0), a.amax(dim=0)


@prog(args=lambda: (randn(3, 4), randn(3, 4)))
def tensor_reduction_dims(x, y):
    return x.sum(dim=1), y.mean(0, keepdim=True), x.softmax(dim=-1)


@prog(args=lambda: (randn(2, 3, 4),))
def tensor_shape_methods(x):
    return x.view(6, 4), x.reshape(-1), x.permute(2, 0, 1), x.transpose(0, 1), x.flatten(1)


@prog(args=lambda: (randn(2, 3),))
def tensor_unsqueeze_expand(x):
    return x.unsqueeze(0).expand(4, 2, 3), x.t(), x.unsqueeze(-1).squeeze(-1)


@prog()
def tensor_cat_stack(a, b):
    return tl.cat([a, b]), tl.stack((a, b), dim=1)


@prog()
def tensor_factories(a, b):
    return a + tl.ones(10) + tl.zeros(10) * 2 + tl.full((10,), 3.0)


@prog()
def tensor_arange(a, b):
    return a * tl.arange(10)


@prog()
def tensor_zeros_like(a, b):
    return tl.zeros_like(a) + tl.ones_like(b) + a


@prog()
def tensor_dtype_cast(a, b):
    return a.double() + 1, b.to(tl.float64), a.long(), (a > 0).int()


@prog()
def tensor_dtype_attr(a, b):
    if a.dtype == tl.float32:
        return a + 1
    return a - 1


@prog()
def tensor_properties(a, b):
    return a * a.dim() + a.ndim + a.numel() + b.size(0)


@prog()
def tensor_shape_index(a, b):
    n = a.shape[0]
    m = a.size()[0]
    return a * n + m


@prog(args=lambda: (randn(3, 4),))
def tensor_shape_unpack(x):
    r, c = x.shape
    return x.reshape(c, r), r * c


@prog()
def tensor_clamp_where(a, b):
    return a.clamp(-0.5, 0.5) + tl.clamp(b, min=0)


@prog()
def tensor_split_chunk(a, b):
    p, q = a.split(5)
    c = b.chunk(2)
    return p * q, c[0] + c[1]


@prog()
def tensor_unbind(a, b):
    xs = tl.stack([a, b]).unbind(0)
    return xs[0] - xs[1]


@prog()
def tensor_unbind_write_and_var_mean(a, b):
    # unbind's outputs are views: a write through one reaches the stacked base
    y = tl.stack([a, b])
    p, q = y.unbind(0)
    q.mul_(3)
    v, m = tl.var_mean(y, 1)
    return y.sum(0) + p, v + m


@prog()
def tensor_masked_fill(a, b):
    return a.masked_fill(b > 0, 0.0)


@prog()
def tensor_requires_grad_flow(a, b):
    return (a * b).sum()


@prog(args=lambda: (randn(3, 3), randn(3)))
def tensor_broadcast(x, v):
    return x + v, x * v.unsqueeze(1)


@prog()
def tensor_functional(a, b):
    F = tl.nn.functional
    return F.relu(a) + F.gelu(b) + F.softmax(a, dim=0)


@prog()
def tensor_is_tensor(a, b):
    if tl.is_tensor(a):
        return a + 1
    return a


@prog()
def tensor_contiguous_clone(a, b):
    return a.contiguous().clone().detach() + b


# ==================================================================== subscripts / slices
@prog()
def index_int(a, b):
    return a[0] + b[-1]


@prog()
def index_slice(a, b):
    return a[2:5] + b[:3], a[::2]


@prog(args=lambda: (randn(4, 5),))
def index_2d(x):
    return x[1], x[:, 2], x[1:3, ::2], x[..., -1]


@prog(args=lambda: (randn(4, 5),))
def index_none(x):
    return x[None], x[:, None]


@prog()
def index_tensor_mask(a, b):
    return a[tl.arange(3)]


@prog()
def index_setitem_tensor(a, b):
    x = a.clone()
    x[0] = 5.0
    x[2:4] = b[2:4]
    return x


@prog()
def index_list_and_tuple(a, b):
    xs = [a, b, a * 2]
    t = (1, 2, 3)
    return xs[-1] + xs[0] * t[1] + sum(t[1:])


@prog()
def index_list_slice(a, b):
    xs = [a, b, a + b, a - b]
    ys = xs[1:3]
    return ys[0] * ys[1], len(xs[::2])


@prog()
def index_dict(a, b):
    d = {"x": a, "y": b}
    return d["x"] - d["y"]


@prog()
def index_string(a, b):
    s = "abcdef"
    return a * len(s[1:4]) + (1 if s[0] == "a" else 0)


@prog()
def index_list_setitem(a, b):
    xs = [a, a, a]
    xs[1] = b
    xs[-1] = a + b
    return xs[0] + xs[1] + xs[2]


@prog()
def index_slice_variable_bounds(a, b):
    n = 3
    return a[n:n + 4] * b[: n * 2][2:6]


# ==================================================================== containers / unpacking
@prog()
def build_tuple(a, b):
    t = (a, b, a + b)
    return t


@prog()
def build_list_return(a, b):
    return [a * 2, b * 3]


@prog()
def build_dict_return(a, b):
    return {"sum": a + b, "diff": a - b}


@prog()
def build_set_ints(a, b):
    s = {1, 2, 2, 3}
    return a * len(s)


@prog()
def build_nested_containers(a, b):
    d = {"xs": [a, b], "t": (a * 2, {"inner": b})}
    return d["xs"][1] + d["t"][1]["inner"] + d["t"][0]


@prog()
def unpack_tuple(a, b):
    x, y = a + 1, b - 1
    return x * y


@prog()
def unpack_nested(a, b):
    (x, y), z = (a, b), a * b
    return x + y + z


@prog()
def unpack_star(a, b):
    first, *rest = [a, b, a * 2, b * 2]
    return first + sum(rest)


@prog()
def unpack_star_middle(a, b):
    x, *mid, y = (1, 2, 3, 4, 5)
    return a * x + b * y + len(mid)


@prog()
def unpack_star_build_list(a, b):
    xs = [a, b]
    ys = [*xs, a + b, *xs]
    return len(ys), ys[2] + ys[-1]


@prog()
def unpack_star_build_tuple(a, b):
    t = (*[1, 2], 3)
    return a * sum(t)


@prog()
def unpack_dict_merge(a, b):
    d1 = {"a": a}
    d2 = {**d1, "b": b, **{"c": a * b}}
    return d2["a"] + d2["b"] + d2["c"]


@prog()
def list_methods(a, b):
    xs = []
    xs.append(a)
    xs.extend([b, a + b])
    xs.insert(0, b * 2)
    last = xs.pop()
    return xs[0] + last + len(xs)


@prog()
def list_index_count(a, b):
    xs = [3, 1, 2, 3]
    return a * xs.index(2) + xs.count(3)


@prog()
def list_concat_repeat(a, b):
    xs = [a] + [b]
    ys = [1] * 3
    return xs[0] + xs[1] + len(ys)


@prog()
def list_reverse_sort(a, b):
    xs = [3, 1, 2]
    xs.sort()
    xs.reverse()
    return a * xs[0]


@prog()
def dict_methods(a, b):
    d = {"a": a}
    d["b"] = b
    d.update({"c": a * 2})
    v = d.get("b") + d.get("zz", a)
    keys = list(d.keys())
    return v, len(keys), d.pop("c")


@prog()
def dict_items_values(a, b):
    d = {"x": a, "y": b}
    total = a * 0
    for v in d.values():
        total = total + v
    for k, v in d.items():
        total = total + v * len(k)
    return total


@prog()
def dict_contains(a, b):
    d = {"x": 1}
    r = a
    if "x" in d:
        r = r + 1
    if "y" not in d:
        r = r * 2
    return r


@prog()
def dict_setdefault_del(a, b):
    d = {"x": a}
    d.setdefault("y", b)
    del d["x"]
    return d["y"] * 2


@prog()
def tuple_methods(a, b):
    t = (1, 2, 2, 3)
    return a * t.count(2) + t.index(3)


@prog()
def set_ops(a, b):
    s = {1, 2}
    s.add(3)
    return a * len(s | {4}) + (2 in s)


@prog()
def contains_list(a, b):
    xs = [1, 2, 3]
    return a * (2 in xs) + b * (5 in xs)


@prog()
def namedtuple_build(a, b):
    p = Pair(a, b)
    return p.left * p.right + p[0]


@prog()
def namedtuple_unpack(a, b):
    left, right = Pair(a, b)
    return left - right


@prog()
def tuple_compare_len(a, b):
    t = (1, 2)
    if t == (1, 2) and len(t) == 2:
        return a + 1
    return b + 1


# ============================================================================== calls
@prog()
def call_positional(a, b):
    return helper_add(a, b)


@prog()
def call_keyword(a, b):
    return helper_add(y=b, x=a)


@prog()
def call_kwonly(a, b):
    return helper_kw(a, scale=3.0) + helper_kw(b, bias=1.0, scale=0.5)


@prog()
def call_defaults(a, b):
    return helper_default(a) + helper_default(b, 4) + helper_default(a, m=1)


@prog()
def call_star_args(a, b):
    args = (a, b)
    return helper_add(*args)


@prog()
def call_star_kwargs(a, b):
    kw = {"x": a, "y": b}
    return helper_add(**kw)


@prog()
def call_star_both(a, b):
    return helper_kw(*[a], **{"scale": 2.0, "bias": 1.0})


@prog()
def call_varargs_callee(a, b):
    return helper_star(a, b, a)


@prog()
def call_varkw_callee(a, b):
    return helper_kwargs(a, p=b, q=2.0)


@prog()
def call_nested_inline(a, b):
    return helper_nested(a) + b


@prog()
def call_returns_tuple(a, b):
    s, c = helper_returns_tuple(a)
    return s * s + c * c


@prog()
def call_tl_kwargs(a, b):
    return tl.sum(a, dim=0), tl.softmax(b, dim=0), tl.clamp(a, min=-1.0, max=1.0)


@prog()
def call_method_kwargs(a, b):
    return a.sum(dim=0, keepdim=True) + b.mean(dim=0)


@prog()
def call_star_into_tl(a, b):
    args = [a, b]
    return tl.add(*args), tl.stack(args)


def _recursive(x, n):
    if n == 0:
        return x
    return _recursive(x * 2, n - 1)


@prog()
def call_recursive(a, b):
    return _recursive(a, 3)


def _args_kwargs_passthrough(*args, **kwargs):
    return helper_kw(*args, **kwargs)


@prog()
def call_args_kwargs_forward(a, b):
    return _args_kwargs_passthrough(a, scale=2.0, bias=b)


@prog()
def call_staticmethod_class(a, b):
    return Holder.twice(a) + Holder.build(b).apply(a)


# =============================================================================== lambdas
@prog()
def lambda_simple(a, b):
    f = lambda x: x * 2 + 1  # noqa: E731
    return f(a) + f(b)


@prog()
def lambda_closure(a, b):
    k = 3
    f = lambda x: x * k  # noqa: E731
    return f(a)


@prog()
def lambda_default_arg(a, b):
    f = lambda x, y=2: x * y  # noqa: E731
    return f(a) + f(b, y=3)


@prog()
def lambda_immediately_called(a, b):
    return (lambda x, y: x - y)(a, b)


@prog()
def lambda_sorted_key(a, b):
    xs = sorted([(2, "b"), (1, "a")], key=lambda p: p[0])
    return a * xs[0][0]


@prog()
def lambda_tensor_captures(a, b):
    fs = [lambda x: x + b, lambda x: x * b]
    return fs[0](a) + fs[1](a)


# ====================================================================== nested functions
@prog()
def nested_def(a, b):
    def inner(x, y):
        return x * y + 1
    return inner(a, b)


@prog()
def nested_def_defaults(a, b):
    def inner(x, scale=2, *, bias=1):
        return x * scale + bias
    return inner(a) + inner(b, 3, bias=0)


@prog()
def nested_def_varargs(a, b):
    def inner(*xs, **kw):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out * kw.get("s", 1)
    return inner(a, b, s=2)


@prog()
def nested_closure_chain(a, b):
    def make(k):
        def f(x):
            return x * k
        return f
    f2 = make(2)
    f3 = make(3)
    return f2(a) + f3(b)


@prog()
def nested_function_with_cellvar(a, b):
    def outer(x):
        y = x + 1

        def inner():
            return y * 2
        return inner()
    return outer(a)


@prog()
def nested_partial(a, b):
    def mul(x, y):
        return x * y
    p = functools.partial(mul, b)
    return p(a)


# ========================================================================= functools.partial
@prog()
def partial_global(a, b):
    return P_MUL(a) + P_KW(b)


@prog()
def partial_local(a, b):
    p = functools.partial(helper_kw, bias=1.0)
    return p(a, scale=2.0)


@prog()
def partial_of_tl(a, b):
    s = functools.partial(tl.sum, dim=0)
    return s(a) + s(b)


@prog()
def partial_nested(a, b):
    p = functools.partial(functools.partial(helper_kw, scale=2.0), bias=3.0)
    return p(a)


# ============================================================================= objects
@prog(args=lambda: (Point(randn(10), randn(10)),))
def obj_attr_read(p):
    return p.x * p.y


@prog(args=lambda: (Point(randn(10), randn(10)),))
def obj_method_call(p):
    return p.norm2()


@prog(args=lambda: (Point(randn(10), randn(10)),))
def obj_property(p):
    return p.total * 2


@prog(args=lambda: (Point(randn(10), randn(10)),))
def obj_create_inside(p):
    q = p.scaled(2)
    return q.x + q.y


@prog()
def obj_new_local_object(a, b):
    p = Point(a, b)
    return p.norm2()


@prog(args=lambda: (Holder(randn(10)), randn(10)))
def obj_class_attr_and_method(h, x):
    return h.apply(x) + h.factor + Holder.factor


@prog(args=lambda: (Config(), randn(3)))
def obj_config_values(cfg, x):
    if cfg.flag:
        x = x * cfg.scale
    return x + cfg.shift + len(cfg.name)


@prog(args=lambda: (Point(randn(10), randn(10)),))
def obj_attr_write(p):
    p.x = p.x + 1
    return p.x * 2


@prog(args=lambda: (Point(randn(10), 3),))
def obj_getattr_builtin(p):
    return getattr(p, "x") * getattr(p, "y")


@prog()
def obj_global_method(a, b):
    return CFG.scale * a + Holder.twice(b)


@prog(args=lambda: (Point(randn(10), randn(10)),))
def obj_bound_method_var(p):
    m = p.norm2
    return m() + 1


@prog(args=lambda: (Point(1, 2), randn(3)))
def obj_int_attrs(p, x):
    return x * p.x + p.y


# ============================================================================ for loops
@prog()
def for_range(a, b):
    for i in range(3):
        a = a + b * i
    return a


@prog()
def for_range_step(a, b):
    total = 0
    for i in range(10, 0, -3):
        total += i
    return a * total


@prog()
def for_list(a, b):
    out = a
    for t in [a, b, a * b]:
        out = out + t
    return out


@prog()
def for_tuple_of_ints(a, b):
    for k in (1, 2, 3):
        a = a * k
    return a


@prog()
def for_dict_keys(a, b):
    d = {"p": a, "q": b}
    out = []
    for k in d:
        out.append(d[k] * len(k))
    return out


@prog()
def for_zip(a, b):
    total = a * 0
    for x, y in zip([a, b], [1, 2]):
        total = total + x * y
    return total


@prog()
def for_enumerate(a, b):
    total = a * 0
    for i, t in enumerate([a, b]):
        total = total + t * (i + 1)
    return total


@prog()
def for_enumerate_start(a, b):
    out = b
    for i, t in enumerate((a, a), start=5):
        out = out + t * i
    return out


@prog()
def for_nested(a, b):
    for i in range(2):
        for j in range(3):
            a = a + i * j
    return a


@prog()
def for_break_continue(a, b):
    for i in range(10):
        if i % 2 == 0:
            continue
        if i > 6:
            break
        a = a + i
    return a


@prog()
def for_else(a, b):
    for i in range(3):
        if i == 10:
            break
    else:
        a = a * 100
    return a


@prog(args=lambda: (randn(4, 3),))
def for_over_tensor(x):
    out = []
    for row in x:
        out.append(row.sum())
    return tl.stack(out)


@prog(args=lambda: ([randn(3), randn(3), randn(3)],))
def for_list_arg(xs):
    out = xs[0]
    for x in xs[1:]:
        out = out * x
    return out


@prog()
def for_items_unpack(a, b):
    d = {"x": 1, "y": 2}
    for k, v in d.items():
        a = a + v
    return a


@prog()
def for_zip_three(a, b):
    acc = 0
    for x, y, z in zip(range(3), [4, 5, 6], "abc"):
        acc += x * y + len(z)
    return a * acc


@prog()
def for_reversed_range(a, b):
    xs = []
    for i in reversed(range(4)):
        xs.append(i)
    return a * xs[0]


@prog(args=lambda: (randn(3), (1, 2, 3)))
def for_tuple_arg(x, ks):
    for k in ks:
        x = x * k
    return x


# ======================================================================= comprehensions
@prog()
def comp_list(a, b):
    return [x * 2 for x in [a, b]]


@prog()
def comp_list_if(a, b):
    return sum([i for i in range(10) if i % 3 == 0]) * a


@prog()
def comp_dict(a, b):
    d = {k: v * 2 for k, v in zip(["x", "y"], [a, b])}
    return d["x"] + d["y"]


@prog()
def comp_set(a, b):
    return a * len({i % 3 for i in range(10)})


@prog()
def comp_nested(a, b):
    m = [[i * j for j in range(3)] for i in range(2)]
    return a * m[1][2]


@prog()
def comp_closure_over_local(a, b):
    k = 2
    return [t * k for t in (a, b)]


@prog()
def comp_tensor_rows(a, b):
    return tl.stack([r * 2 for r in tl.stack([a, b])])


@prog()
def comp_enumerate(a, b):
    return [t * i for i, t in enumerate([a, b])]


@prog()
def comp_dict_from_dict(a, b):
    d = {"a": a, "b": b}
    e = {k + "2": v.sin() for k, v in d.items()}
    return e


@prog()
def comp_loop_var_shadow(a, b):
    x = 10
    ys = [x for x in range(3)]
    return a * x + ys[-1]


# ============================================================================== if / while
@prog()
def if_python_value(a, b):
    flag = True
    if flag:
        return a + 1
    return a - 1


@prog(args=lambda: (randn(3), 2))
def if_int_arg(x, n):
    if n > 1:
        return x * n
    return x


@prog(args=lambda: (randn(3), None))
def if_none_arg(x, mask):
    if mask is None:
        return x * 2
    return x * mask


@prog(args=lambda: (randn(3), True))
def if_bool_arg(x, flag):
    return x + 1 if flag else x - 1


@prog(args=lambda: (randn(4, 3),))
def if_on_shape(x):
    if x.shape[0] > 3:
        return x.sum(0)
    return x.sum(1)


@prog(args=lambda: (randn(4, 3),))
def if_on_dim(x):
    if x.dim() == 2:
        x = x.unsqueeze(0)
    return x


@prog()
def if_elif_else(a, b):
    n = 5
    if n < 3:
        r = a
    elif n < 10:
        r = b
    else:
        r = a + b
    return r * 2


@prog()
def if_and_or(a, b):
    x = 0 or 3
    y = 2 and 5
    z = None or a
    return z * x * y


@prog()
def if_ternary_chain(a, b):
    k = 4
    return a * (1 if k < 2 else 2 if k < 5 else 3)


@prog()
def while_counter(a, b):
    i = 0
    while i < 4:
        a = a + b
        i += 1
    return a


@prog()
def while_break(a, b):
    n = 0
    while True:
        n += 1
        if n >= 3:
            break
    return a * n


@prog(args=lambda: (randn(16),))
def while_on_shape(x):
    while x.shape[0] > 2:
        x = x[: x.shape[0] // 2] + x[x.shape[0] // 2:]
    return x


@prog()
def if_requires_grad(a, b):
    if a.requires_grad:
        return a * 2
    return a * 3


@prog()
def if_grad_enabled(a, b):
    if tl.is_grad_enabled():
        return a + 1
    return a - 1


@prog(args=lambda: (randn(3), [1, 2]))
def if_list_truthy(x, xs):
    if xs:
        return x * len(xs)
    return x


@prog()
def assert_python(a, b):
    assert a.shape == b.shape, "shapes differ"
    assert len([1]) == 1
    return a + b


# ================================================================================= grad mode
@prog(args=lambda: (randn(3).requires_grad_(), randn(3)))
def grad_no_grad(x, y):
    with tl.no_grad():
        z = x * 2
    return z + y, z.requires_grad


@prog(args=lambda: (randn(3).requires_grad_(), randn(3)))
def grad_enable_inside_no_grad(x, y):
    with tl.no_grad():
        with tl.enable_grad():
            z = x * 2
        w = x * 3
    return z, w, z.requires_grad, w.requires_grad


@prog(args=lambda: (randn(3).requires_grad_(),))
def grad_set_grad_enabled_false(x):
    with tl.set_grad_enabled(False):
        y = x.sin()
    return y, y.requires_grad, x.cos()


@prog(args=lambda: (randn(3).requires_grad_(),))
def grad_is_enabled_inside(x):
    with tl.no_grad():
        flag = tl.is_grad_enabled()
    return x * (2 if flag else 3), tl.is_grad_enabled()


@prog(args=lambda: (randn(3).requires_grad_(),))
def grad_requires_grad_output(x):
    y = x * x
    return y.sum(), y.requires_grad


@prog(args=lambda: (randn(3).requires_grad_(),))
def grad_detach(x):
    return x.detach() * 2 + x


# =============================================================================== nn modules
@prog(args=x4)
def nn_global_linear(x):
    return LIN(x)


@prog(args=x4)
def nn_global_sequential(x):
    return SEQ(x).relu()


@prog(args=x4)
def nn_global_layernorm(x):
    return LN(x) * 2


@prog(args=x4)
def nn_custom_module(x):
    return MLP_MOD(x)


@prog(args=x4)
def nn_block_module(x):
    return BLOCK(x)


@prog(args=lambda: (LIN, randn(2, 4)))
def nn_module_argument(mod, x):
    return mod(x) + mod.bias


@prog(args=lambda: (SEQ, randn(2, 4)))
def nn_sequential_iterate(seq, x):
    for m in seq:
        x = m(x)
    return x


@prog(args=lambda: (SEQ, randn(2, 4)))
def nn_sequential_index(seq, x):
    return seq[0](x), len(seq)


@prog(args=lambda: (LIN, randn(2, 4)))
def nn_params_direct(mod, x):
    return x @ mod.weight.t() + mod.bias


@prog(args=lambda: (MLP_MOD, randn(2, 4)))
def nn_parameters_iter(mod, x):
    total = 0
    for p in mod.parameters():
        total = total + p.sum()
    return mod(x) * 0 + total


@prog(args=lambda: (MLP_MOD, randn(2, 4)))
def nn_buffer_read(mod, x):
    return mod.fc1(x).sum(1, keepdim=True) + mod.offset


@prog(args=lambda: (MLP_MOD, randn(2, 4)))
def nn_training_flag(mod, x):
    if mod.training:
        return mod(x) * 2
    return mod(x)


@prog(args=x4)
def nn_functional_linear(x):
    return tl.nn.functional.linear(x, LIN.weight, LIN.bias)


@prog(args=x4)
def nn_module_created_outside_called_twice(x):
    return LIN(x) + LIN(x * 2)


@prog(args=x4)
def nn_activation_modules(x):
    return tl.nn.ReLU()(x) if False else SEQ[1](x)


# ============================================================================== no graph
@prog(frames=0)
def python_only(a, b):
    return 1 + 2


@prog(frames=0)
def returns_input(a, b):
    return a


@prog(args=lambda: (randn(3), 4), frames=0)
def returns_python_from_tensor_meta(x, n):
    return x.shape[0] * n, x.dtype


# =================================================================================== runner
def _clone_args(args):
    return args


def _fresh(factory, seed):
    tl.manual_seed(seed)
    return factory()


def _compare_inputs(a, b):
    """Mutated inputs must match too (tensors, lists, dicts, user objects' attributes)."""
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_compare_inputs, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_compare_inputs(a[k], b[k]) for k in a)
    if isinstance(a, (tl.Tensor, int, float, str, type(None))):
        return same(a, b)
    if hasattr(a, "__dict__") and not isinstance(a, tl.nn.Module):
        return _compare_inputs(dict(vars(a)), dict(vars(b)))
    return True


assert len(PROGRAMS) >= 150, len(PROGRAMS)


@pytest.mark.parametrize("fn,factory,kwargs,frames", PROGRAMS)
def test_program(fn, factory, kwargs, frames):
    md.reset()
    cnt = CompileCounter()
    opt = md.compile(fn, backend=cnt)
    kwargs = kwargs or {}
    for seed in (0, 1):
        args_e = _fresh(factory, seed)
        args_c = _fresh(factory, seed)
        expected = fn(*args_e, **kwargs)
        actual = opt(*args_c, **kwargs)
        assert same(expected, actual), f"{fn.__name__}: eager {expected!r} != compiled {actual!r}"
        assert _compare_inputs(args_e, args_c), f"{fn.__name__}: inputs mutated differently"
    cache = md.eval_frame._CACHES[opt._key]
    assert cache.skip_reason is None, f"{fn.__name__} ran eagerly: {cache.skip_reason}"
    assert cnt.frame_count == frames
    assert len(cache.entries) == 1, f"{fn.__name__} recompiled: {cache.recompile_reasons}"
    assert cache.hits == 1


# ======================================================================= md.compile(module)
MODULES = [
    pytest.param(lambda: tl.nn.Linear(4, 3), id="Linear"),
    pytest.param(lambda: tl.nn.Sequential(tl.nn.Linear(4, 5), tl.nn.GELU(), tl.nn.Linear(5, 2)), id="Sequential"),
    pytest.param(lambda: tl.nn.LayerNorm(4), id="LayerNorm"),
    pytest.param(MLP, id="MLP"),
    pytest.param(Block, id="Block"),
]


@pytest.mark.parametrize("make", MODULES)
def test_compile_module(make):
    md.reset()
    tl.manual_seed(0)
    mod = make()
    cnt = CompileCounter()
    opt = md.compile(mod, backend=cnt)
    assert isinstance(opt, md.OptimizedModule)
    for seed in (0, 1):
        x = _fresh(lambda: randn(3, 4), seed)
        assert same(mod(x), opt(x))
    assert cnt.frame_count == 1
    # parameters are graph inputs: an in-place parameter update is seen without recompiling
    with tl.no_grad():
        for p in mod.parameters():
            p.mul_(0.5)
    x = randn(3, 4)
    assert same(mod(x), opt(x))
    assert cnt.frame_count == 1


@pytest.mark.parametrize("make", MODULES)
def test_compile_module_grads(make):
    md.reset()
    tl.manual_seed(0)
    mod = make()
    opt = md.compile(mod, backend="eager")
    x = randn(3, 4)
    mod(x).sum().backward()
    ref = [p.grad.clone() for p in mod.parameters()]
    mod.zero_grad()
    opt(x).sum().backward()
    for r, p in zip(ref, mod.parameters()):
        assert same(r, p.grad)
