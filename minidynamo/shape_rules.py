"""Shape rules: the symbolic shape of a tensor operation's result, one rule per operation.

The fake run of an operation (FakeTensorMode) computes its result's concrete shape from the
sizes at capture. When an input has symbolic sizes, or a symbolic int is an argument, the
rule of the operation computes the same shape symbolically, from the arguments as the user
passed them: tensors as ShapeArg (their symbolic shape), symbolic ints as Exprs. A rule reads
the API's meaning (`x.view(B, T, -1)`, `x[:, :T]`, `a @ b`), not tensorlite's implementation;
every yes/no question about sizes it asks goes through `env.evaluate`, which guards the answer.

The result is checked against the fake run's shapes (the rule evaluated at the hints must
give them). An operation without a rule, a case a rule does not cover, or a rule that
disagrees with the fake run specializes the symbols involved (guarded to their values at
capture; the `dynamic` log says why): never a guessed shape.

>>> import minidynamo as md, tensorlite as tl
>>> graphs = md.testing.EagerAndRecordGraphs()
>>> f = md.compile(lambda x, m: x.masked_fill(m[:x.shape[0]] == 0, 0.0), backend=graphs, dynamic=True)
>>> f(tl.ones(3, 4), tl.ones(8, 4)).shape
tensorlite.Size([3, 4])
>>> [str(n.meta["val"]._sym_shape) for n in graphs.graphs[0].graph.nodes if n.op == "call_method"]
['(s0, s1)']
"""
import operator

import tensorlite as tl
import tensorlite.nn.functional as F
from fxlite.symbolic import (Expr, NotSymbolic, Rel, exact_div, floor_atoms, floordiv, free_symbols, mod,
                             set_sym_shape, subs, sym_shape, symbol)

__all__ = ["propagate", "RULES", "NoRule", "ShapeArg"]


class NoRule(Exception):
    """The rule does not cover this call."""


class ShapeArg:
    """A tensor argument as the rules see it: its (symbolic) shape."""

    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = shape

    @property
    def ndim(self):
        return len(self.shape)


STATIC = object()  # a rule's answer: the result's shape does not depend on any size
RULES = {}  # key (a method name, a tl function name, "F.<name>", an operator's name) -> rule


def rule(*keys):
    def register(fn):
        for k in keys:
            RULES[k] = fn
        return fn
    return register


# ---------------------------------------------------------------------------- propagation
def propagate(env, kind, target, args, kwargs, result):
    """Attach the symbolic shapes of an operation's tensor results (their fake tensors), or
    specialize the symbols its arguments involve."""
    if not _has_tensor(result):
        return
    involved = set()
    cargs = [_arg(env, a, involved) for a in args]
    ckwargs = {k: _arg(env, v, involved) for k, v in kwargs.items()} if kwargs else {}
    if not involved:
        return
    key = rule_key(kind, target)
    fn = RULES.get(key)
    if fn is None:
        why = f"{_describe(key, target)} has no shape rule"
    else:
        try:
            shapes = fn(env, *cargs, **ckwargs)
        except (NoRule, NotSymbolic, TypeError, ValueError, IndexError) as e:
            why = f"the shape rule of {key} does not cover this call ({e})"
        else:
            if shapes is STATIC or _attach(env, result, shapes):
                return
            why = f"the shape rule of {key} disagrees with the fake result (please report)"
    env.specialize_symbols(involved, why)


def _has_tensor(result):
    if isinstance(result, tl.Tensor):
        return True
    return isinstance(result, (tuple, list)) and any(isinstance(r, tl.Tensor) for r in result)


def _arg(env, v, involved):
    """A tracker as the rules see it (see the module docstring); collects the symbols."""
    from .variables.base import ConstantVariable
    from .variables.dicts import DictVariable
    from .variables.lists import BaseListVariable, SliceVariable
    from .variables.sym import SymNodeVariable
    from .variables.tensor import TensorVariable
    if isinstance(v, TensorVariable):
        shape = sym_shape(v.example)
        if shape is None:
            return ShapeArg(tuple(v.example.shape))
        shape = tuple(env.simplify(s) for s in shape)
        for s in shape:
            involved |= free_symbols(s)
        return ShapeArg(shape)
    if isinstance(v, SymNodeVariable):
        if type(v.expr) is Rel:
            return v.value
        e = env.simplify(v.expr)
        involved |= free_symbols(e)
        return e
    if isinstance(v, ConstantVariable):
        return v.value
    if isinstance(v, BaseListVariable):
        items = [_arg(env, i, involved) for i in v.items]
        return items if isinstance(v.python_type(), type) and issubclass(v.python_type(), list) else tuple(items)
    if isinstance(v, SliceVariable):
        return slice(*(_arg(env, p, involved) for p in v.parts))
    if isinstance(v, DictVariable):
        return {k: _arg(env, i, involved) for k, i in v.items.items()}
    return _OPAQUE


_OPAQUE = object()  # an argument the rules cannot read


def _attach(env, result, shapes):
    """Set the results' symbolic shapes when they agree with the fake run's; else False."""
    results = [result] if isinstance(result, tl.Tensor) else list(result)
    if isinstance(result, tl.Tensor):
        shapes = [shapes]
    if not isinstance(shapes, list) or len(shapes) != len(results):
        return False
    shapes = [tuple(env.simplify(s) for s in shape) for shape in shapes]
    for r, shape in zip(results, shapes):
        if isinstance(r, tl.Tensor) and tuple(env.hint(s) for s in shape) != tuple(r.shape):
            return False
    for r, shape in zip(results, shapes):
        if isinstance(r, tl.Tensor):
            set_sym_shape(r, shape)
    return True


_OPERATOR_KEYS = {
    operator.add: "add", operator.sub: "sub", operator.mul: "mul", operator.truediv: "div",
    operator.floordiv: "floor_divide", operator.mod: "remainder", operator.pow: "pow",
    operator.eq: "eq", operator.ne: "ne", operator.lt: "lt", operator.le: "le", operator.gt: "gt",
    operator.ge: "ge", operator.and_: "bitwise_and", operator.or_: "bitwise_or",
    operator.xor: "bitwise_xor", operator.matmul: "matmul", operator.neg: "neg", operator.pos: "pos",
    operator.abs: "abs", operator.invert: "bitwise_not", operator.getitem: "getitem", getattr: "getattr",
}


def rule_key(kind, target):
    """The rule table's key of a node target: a method's name, `sum` for tl.sum,
    `F.softmax` for tl.nn.functional.softmax, `add` for operator.add; None for others."""
    if kind == "call_method":
        return target
    try:
        key = _OPERATOR_KEYS.get(target)
    except TypeError:  # unhashable
        return None
    if key is not None:
        return key
    name = getattr(target, "__name__", None)
    if isinstance(name, str):
        if getattr(F, name, None) is target:
            return f"F.{name}"
        if getattr(tl, name, None) is target:
            return name
    return None


def _describe(key, target):
    return key or getattr(target, "__qualname__", None) or repr(target)


# ---------------------------------------------------------------------------- helpers
def _is_one(env, s):
    return s == 1 if type(s) is int else env.evaluate(Rel("==", s, 1))


def _lt(env, a, b):
    return a < b if type(a) is int and type(b) is int else env.evaluate(Rel("<", a, b))


def _numel(shape):
    n = 1
    for s in shape:
        n = n * s
    return n


def _norm(d, n):
    """A dimension index normalized for n dims (the error is eager's)."""
    if type(d) is not int:
        raise NoRule("a dimension index that is not a constant")
    if not -max(n, 1) <= d < max(n, 1):
        raise NoRule("dimension out of range")
    return d % max(n, 1)


def _sizes(args):
    """The sizes of `f(*sizes)` or `f(sizes)`, each an int or an Expr."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    for s in args:
        if type(s) not in (int, Expr):
            raise NoRule(f"a size of type {type(s).__name__}")
    return tuple(args)


def _tensors(*values):
    return [v for v in values if isinstance(v, ShapeArg)]


def broadcast(env, *shapes):
    """The broadcast of shapes; equal sizes are required equal (guarded), size 1 stretches."""
    n = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(n):
        d = None
        for s in shapes:
            j = len(s) - n + i
            if j < 0:
                continue
            x = s[j]
            if d is None or x == d or _is_one(env, x):  # the same size needs no question
                d = x if d is None else d
            elif _is_one(env, d):
                d = x
            else:
                env.expect_equal(d, x)
        out.append(env.simplify(d))
    return tuple(out)


# ---------------------------------------------------------------------------- elementwise
_UNARY = ("abs neg pos exp log sin cos tanh sigmoid relu sqrt rsqrt sign floor ceil round erf square "
          "logical_not bitwise_not clone contiguous detach float double half long int bool cpu to type "
          "softmax log_softmax requires_grad_ tril triu cumsum argsort F.relu F.gelu F.silu F.sigmoid "
          "F.tanh F.softmax F.log_softmax F.dropout F.leaky_relu F.softplus F.layer_norm").split()


@rule(*_UNARY)
def _same(env, self, *args, **kwargs):
    """An operation that keeps its input's shape (other arguments are not shapes)."""
    if not isinstance(self, ShapeArg):
        raise NoRule("the first argument is not a tensor")
    return self.shape


_ELEMENTWISE = ("add sub mul div true_divide floor_divide remainder pow eq ne lt le gt ge maximum minimum "
                "bitwise_and bitwise_or bitwise_xor logical_and logical_or logical_xor where masked_fill "
                "clamp clip").split()


@rule(*_ELEMENTWISE)
def _elementwise(env, *args, **kwargs):
    """The broadcast of the tensor arguments (numbers are 0-d)."""
    shapes = [t.shape for t in _tensors(*args, *kwargs.values())]
    if not shapes:
        raise NoRule("no tensor argument")
    return broadcast(env, *shapes)


# ---------------------------------------------------------------------------- reductions
def _reduced(shape, dim, keepdim):
    n = len(shape)
    if dim is None:
        dims = set(range(n))
    else:
        dims = {_norm(d, n) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))}
    if keepdim:
        return tuple(1 if i in dims else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in dims)


@rule("sum", "mean", "prod", "amax", "amin", "all", "any", "nansum", "logsumexp")
def _reduce(env, self, dim=None, keepdim=False, *args, **kwargs):
    return _reduced(self.shape, dim, keepdim)


@rule("max", "min")
def _max(env, self, dim=None, keepdim=False):
    if isinstance(dim, ShapeArg):  # tl.max(x, y): the elementwise maximum
        return broadcast(env, self.shape, dim.shape)
    if dim is None:
        return ()
    r = _reduced(self.shape, dim, keepdim)
    return [r, r]  # (values, indices)


@rule("sort")
def _sort(env, self, dim=-1, descending=False, stable=False):
    return [self.shape, self.shape]  # (values, indices)


@rule("topk")
def _topk(env, self, k, dim=-1, largest=True, sorted=True):
    d = _norm(dim, self.ndim)
    r = self.shape[:d] + (k,) + self.shape[d + 1:]
    return [r, r]


@rule("gather")
def _gather(env, self, dim, index, **kwargs):
    return index.shape


@rule("index_select")
def _index_select(env, self, dim, index):
    d = _norm(dim, self.ndim)
    return self.shape[:d] + (_numel(index.shape),) + self.shape[d + 1:]


@rule("argmax", "argmin")
def _argmax(env, self, dim=None, keepdim=False):
    if dim is None:
        if keepdim:
            raise NoRule("argmax without dim, keepdim=True")
        return ()
    return _reduced(self.shape, dim, keepdim)


@rule("var", "std")
def _var(env, self, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _reduced(self.shape, dim, keepdim)


@rule("var_mean", "std_mean")
def _var_mean(env, self, dim=None, unbiased=None, keepdim=False, *, correction=None):
    r = _reduced(self.shape, dim, keepdim)
    return [r, r]


@rule("norm")
def _norm_rule(env, self, p=2, dim=None, keepdim=False):
    return _reduced(self.shape, dim, keepdim)


@rule("F.cross_entropy", "F.nll_loss", "F.mse_loss", "F.l1_loss")
def _loss(env, input, target, *args, reduction="mean", **kwargs):
    if args or reduction not in ("mean", "sum"):
        raise NoRule("a loss without reduction")
    return ()


# ---------------------------------------------------------------------------- shapes
@rule("view", "reshape")
def _view(env, self, *shape):
    shape = list(_sizes(shape))
    numel = _numel(self.shape)
    infer = [i for i, s in enumerate(shape) if type(s) is int and s == -1]
    if len(infer) > 1:
        raise NoRule("several -1")
    if infer:
        shape[infer[0]] = _divide(env, numel, _numel(s for i, s in enumerate(shape) if i != infer[0]))
    env.expect_equal(_numel(shape), numel)
    return tuple(shape)


def _divide(env, numel, known):
    """numel / known for a -1 size: exact, else guarded divisible (`s0 % 2 == 0` for
    `x.view(-1, 2)`: the guard is the one PyTorch records)."""
    if known == 0:
        raise NoRule("-1 with a zero size")
    q = exact_div(numel, known)
    if q is not None:
        return q
    for x, c in floor_atoms(known):  # x.view(x.shape[0] // 2, -1): with x % 2 == 0, x is 2 * (x//2)
        names = free_symbols(x)
        if len(names) == 1 and x == symbol(next(iter(names))) and env.evaluate(Rel("==", mod(x, c), 0)):
            numel = subs(numel, {next(iter(names)): c * floordiv(x, c)})
    q = exact_div(numel, known)
    if q is not None:
        return q
    if type(known) is int:
        c = known
    elif len(known.terms) == 1:  # known == c * m: divide by m exactly, then by c
        c = known.terms[0][1]
        numel = exact_div(numel, exact_div(known, c))
    else:
        numel = None
    if numel is None or c <= 0 or not env.evaluate(Rel("==", mod(numel, c), 0)):
        raise NoRule("-1 with sizes that do not divide the number of elements")
    return floordiv(numel, c)


@rule("view_as", "reshape_as")
def _view_as(env, self, other):
    env.expect_equal(_numel(other.shape), _numel(self.shape))
    return other.shape


@rule("flatten")
def _flatten(env, self, start_dim=0, end_dim=-1):
    n = self.ndim
    if n == 0:
        return (1,)
    s, e = _norm(start_dim, n), _norm(end_dim, n)
    if s > e:
        raise NoRule("start_dim after end_dim")
    return self.shape[:s] + (_numel(self.shape[s:e + 1]),) + self.shape[e + 1:]


@rule("unsqueeze")
def _unsqueeze(env, self, dim):
    d = _norm(dim, self.ndim + 1)
    return self.shape[:d] + (1,) + self.shape[d:]


@rule("squeeze")
def _squeeze(env, self, dim=None):
    n = self.ndim
    if dim is None:
        dims = set(range(n))
    else:
        dims = {_norm(d, n) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))}
    return tuple(s for i, s in enumerate(self.shape) if not (i in dims and _is_one(env, s)))


@rule("expand", "broadcast_to")
def _expand(env, self, *sizes):
    sizes = _sizes(sizes)
    off = len(sizes) - self.ndim
    if off < 0:
        raise NoRule("fewer sizes than dimensions")
    out = []
    for i, s in enumerate(sizes):
        if i < off:
            if type(s) is int and s < 0:
                raise NoRule("-1 for a new dimension")
            out.append(s)
            continue
        cur = self.shape[i - off]
        if type(s) is int and s == -1:
            out.append(cur)
        elif _is_one(env, cur):
            out.append(s)
        else:
            env.expect_equal(cur, s)
            out.append(cur)
    return tuple(out)


@rule("expand_as")
def _expand_as(env, self, other):
    return _expand(env, self, other.shape)


@rule("permute")
def _permute(env, self, *dims):
    dims = _sizes(dims)
    if len(dims) != self.ndim:
        raise NoRule("permute of another rank")
    return tuple(self.shape[_norm(d, self.ndim)] for d in dims)


@rule("transpose", "swapaxes")
def _transpose(env, self, dim0, dim1):
    a, b = _norm(dim0, self.ndim), _norm(dim1, self.ndim)
    shape = list(self.shape)
    shape[a], shape[b] = shape[b], shape[a]
    return tuple(shape)


@rule("t")
def _t(env, self):
    return self.shape[::-1] if self.ndim == 2 else self.shape


@rule("getattr")
def _getattr(env, self, name):
    if name == "T":
        return self.shape[::-1]
    if name == "mT" and self.ndim >= 2:
        return self.shape[:-2] + (self.shape[-1], self.shape[-2])
    raise NoRule(f"tensor attribute {name}")


@rule("repeat")
def _repeat(env, self, *sizes):
    sizes = _sizes(sizes)
    lead = len(sizes) - self.ndim
    if lead < 0:
        raise NoRule("fewer repeats than dimensions")
    padded = (1,) * lead + self.shape
    return tuple(r * s for r, s in zip(sizes, padded))


@rule("narrow")
def _narrow(env, self, dim, start, length):
    d = _norm(dim, self.ndim)
    return self.shape[:d] + (length,) + self.shape[d + 1:]


# ---------------------------------------------------------------------------- indexing
def _bound(env, b, n, default):
    """A slice bound as an index into a dimension of size n (Python's clamping)."""
    if b is None:
        return default
    if type(b) not in (int, Expr):
        raise NoRule(f"a slice bound of type {type(b).__name__}")
    if _lt(env, b, 0):
        b = b + n
        return 0 if _lt(env, b, 0) else b
    return n if _lt(env, n, b) else b


def _slice_length(env, s, n):
    step = 1 if s.step is None else s.step
    if type(step) is not int or step <= 0:
        raise NoRule("a slice step that is not a positive constant")
    start, stop = _bound(env, s.start, n, 0), _bound(env, s.stop, n, n)
    if not _lt(env, start, stop):
        return 0
    return floordiv(stop - start + step - 1, step)


@rule("getitem", "__getitem__")
def _getitem(env, self, index):
    items = list(index) if isinstance(index, tuple) else [index]
    used = sum(1 for i in items if i is not None and i is not Ellipsis)
    if items.count(Ellipsis) > 1 or used > self.ndim:
        raise NoRule("too many indices")
    if Ellipsis in items:
        k = items.index(Ellipsis)
        items[k:k + 1] = [slice(None)] * (self.ndim - used)
    else:
        items += [slice(None)] * (self.ndim - used)
    out, dim = [], 0
    for i in items:
        if i is None:
            out.append(1)
        elif type(i) in (int, Expr):
            dim += 1  # the index itself fails eagerly when out of range: no guard needed
        elif type(i) is slice:
            out.append(_slice_length(env, i, self.shape[dim]))
            dim += 1
        else:
            raise NoRule(f"an index of type {type(i).__name__}")
    return tuple(out)


@rule("split")
def _split(env, self, split_size, dim=0):
    d = _norm(dim, self.ndim)
    n = self.shape[d]
    if isinstance(split_size, (tuple, list)):
        sizes = list(_sizes(split_size))
        env.expect_equal(sum(sizes, 0), n)
    elif type(split_size) in (int, Expr) and type(n) is int:
        sizes = [min(split_size, n - k) for k in range(0, n, split_size)] if type(split_size) is int else None
        if sizes is None:
            raise NoRule("a symbolic split size of a constant dimension")
    elif type(split_size) is int and split_size > 0:
        count = env.hint(floordiv(n + split_size - 1, split_size))  # the fake run's count, guarded
        if not env.evaluate(Rel("==", floordiv(n + split_size - 1, split_size), count)):
            raise NoRule("split count")
        sizes = [split_size] * (count - 1) + [n - split_size * (count - 1)]
    else:
        raise NoRule("a symbolic split size")
    return [self.shape[:d] + (s,) + self.shape[d + 1:] for s in sizes]


@rule("chunk")
def _chunk(env, self, chunks, dim=0):
    d = _norm(dim, self.ndim)
    if type(chunks) is not int or chunks <= 0:
        raise NoRule("a symbolic number of chunks")
    # how many chunks, and their sizes, depend on the size: that dimension only is specialized
    n = env.specialize(self.shape[d], "chunk() of it makes a number of tensors that depends on it")
    size = -(-n // chunks)
    return [self.shape[:d] + (min(size, n - k),) + self.shape[d + 1:] for k in range(0, n, size)]


@rule("unbind")
def _unbind(env, self, dim=0):
    d = _norm(dim, self.ndim)
    n = env.specialize(self.shape[d], "unbind() of it makes one tensor per index")
    return [self.shape[:d] + self.shape[d + 1:]] * n


@rule("cat", "concat")
def _cat(env, tensors, dim=0):
    ts = list(tensors)
    if not ts or not all(isinstance(t, ShapeArg) for t in ts) or len({t.ndim for t in ts}) != 1:
        raise NoRule("tensors of different ranks")
    d = _norm(dim, ts[0].ndim)
    first = ts[0].shape
    for t in ts[1:]:
        for i, (a, b) in enumerate(zip(first, t.shape)):
            if i != d:
                env.expect_equal(a, b)
    return first[:d] + (sum((t.shape[d] for t in ts), 0),) + first[d + 1:]


@rule("stack")
def _stack(env, tensors, dim=0):
    ts = list(tensors)
    if not ts or not all(isinstance(t, ShapeArg) for t in ts) or len({t.ndim for t in ts}) != 1:
        raise NoRule("tensors of different ranks")
    for t in ts[1:]:
        for a, b in zip(ts[0].shape, t.shape):
            env.expect_equal(a, b)
    d = _norm(dim, ts[0].ndim + 1)
    return ts[0].shape[:d] + (len(ts),) + ts[0].shape[d:]


# ---------------------------------------------------------------------------- products
@rule("matmul", "mm", "bmm", "dot")
def _matmul(env, self, other):
    a, b = self.shape, other.shape
    if not a or not b:
        raise NoRule("a 0-d operand")
    if len(a) == 1 and len(b) == 1:
        env.expect_equal(a[0], b[0])
        return ()
    if len(b) == 1:
        env.expect_equal(a[-1], b[0])
        return a[:-1]
    if len(a) == 1:
        env.expect_equal(a[0], b[-2])
        return b[:-2] + (b[-1],)
    env.expect_equal(a[-1], b[-2])
    return broadcast(env, a[:-2], b[:-2]) + (a[-2], b[-1])


@rule("F.linear")
def _linear(env, input, weight, bias=None):
    if input.ndim == 0 or weight.ndim != 2:
        raise NoRule("linear of these ranks")
    env.expect_equal(input.shape[-1], weight.shape[1])
    return input.shape[:-1] + (weight.shape[0],)


@rule("F.scaled_dot_product_attention")
def _sdpa(env, query, key, value, *args, **kwargs):
    env.expect_equal(query.shape[-1], key.shape[-1])
    env.expect_equal(key.shape[-2], value.shape[-2])
    return query.shape[:-1] + value.shape[-1:]


@rule("F.embedding")
def _embedding(env, input, weight, *args, **kwargs):
    return input.shape + (weight.shape[1],)


# ---------------------------------------------------------------------------- creation
@rule("zeros", "ones", "empty", "rand", "randn")
def _factory(env, *size, **options):  # dtype, device, requires_grad: not shapes
    return _sizes(size)


@rule("full")
def _full(env, size, fill_value, **options):
    return _sizes((size,)) if not isinstance(size, (tuple, list)) else _sizes(size)


@rule("zeros_like", "ones_like", "empty_like", "rand_like", "randn_like", "full_like")
def _like(env, t, *args, **kwargs):
    return t.shape


@rule("arange")
def _arange(env, start, end=None, step=1, **options):
    if end is None:
        start, end = 0, start
    for v in (start, end, step):
        if type(v) not in (int, Expr):
            raise NoRule("arange of non-integers")
    if type(step) is not int or step <= 0:
        raise NoRule("arange with a step that is not a positive constant")
    return (floordiv(end - start + step - 1, step) if _lt(env, start, end) else 0,)


@rule("eye")
def _eye(env, n, m=None, **kwargs):
    return (n, n if m is None else m)


@rule("tensor", "as_tensor")
def _tensor(env, data, *args, **kwargs):
    if isinstance(data, ShapeArg):  # a copy of a tensor: its shape
        return data.shape
    if _holds_tensor(data):
        raise NoRule("a tensor made of tensors")
    return STATIC  # the nesting of plain data gives the shape, whatever the (symbolic) values


def _holds_tensor(data):
    if isinstance(data, ShapeArg) or data is _OPAQUE:
        return True
    return isinstance(data, (tuple, list)) and any(_holds_tensor(d) for d in data)
