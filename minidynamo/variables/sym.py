"""SymNodeVariable: a symbolic int (a size, or arithmetic on sizes) or bool while tracing;
SizeVariable: a tensor's shape that holds some.

A SymNodeVariable stays symbolic where the trace can keep it so: arithmetic and comparisons
(symbolic_convert's operators), min/max/int, tensor-op arguments (a graph value: the symbol's
placeholder or nodes computing the expression), slice bounds, and `if` (a guard). It is a
ConstantVariable for every other use: reading its `.value` specializes it (its symbols are
guarded to their values at capture, the `dynamic` log says where), and the value then folds
as any constant. So a use this module does not know is never wrong, only static.

>>> import minidynamo as md, tensorlite as tl
>>> graphs = md.testing.EagerAndRecordGraphs()
>>> f = md.compile(lambda x: x.view(x.shape[0] * 2, -1), backend=graphs, dynamic=True)
>>> f(tl.ones(4, 6)).shape
tensorlite.Size([8, 3])
>>> print(md.testing.normalize_gm(graphs.graphs[0].print_readable(print_output=False)))
class GraphModule(tl.nn.Module):
    def forward(self, s0: "Sym(s0)", L_x_: "f32[s0, s1]"):
        l_x_ = L_x_
<BLANKLINE>
        mul: "Sym(2*s0)" = s0 * 2;  s0 = None
        view: "f32[2*s0, (s1//2)]" = l_x_.view(mul, -1);  l_x_ = mul = None
        return (view,)
<BLANKLINE>
"""
import operator

import tensorlite as tl
from fxlite.symbolic import NotSymbolic, Rel, sym_max, sym_min, sym_shape

from .base import ConstantVariable, VariableTracker
from .lists import TupleVariable

_ARITH = {operator.add: operator.add, operator.sub: operator.sub, operator.mul: operator.mul,
          operator.floordiv: operator.floordiv, operator.mod: operator.mod, operator.pow: operator.pow}
_COMPARE = {operator.eq: "==", operator.ne: "!=", operator.lt: "<", operator.le: "<=",
            operator.gt: ">", operator.ge: ">="}
_SPECIALIZE_WHY = "it was used as a Python value"


class SymNodeVariable(ConstantVariable):
    """A symbolic int (expr an Expr) or bool (expr a Rel); see the module docstring."""

    def __init__(self, env, expr, recipe=None, stack_trace=None):
        VariableTracker.__init__(self, None)
        self.env = env  # the trace's ShapeEnv
        self.expr = expr
        self.recipe = recipe  # (fn, a, b) as the user computed it: its graph node follows it
        self.stack_trace = stack_trace  # where the user computed it (its node's provenance)
        self._node = None

    @property
    def value(self):
        """The value at capture, specialized: read by every use that needs a constant."""
        if type(self.expr) is Rel:
            return self.env.evaluate(self.expr)
        return self.env.specialize(self.expr, _SPECIALIZE_WHY)

    @property
    def hint(self):
        """The value at capture, without guarding anything."""
        e = self.expr
        return e.evaluate(self.env.hints) if type(e) is Rel else self.env.hint(e)

    def python_type(self):
        return bool if type(self.expr) is Rel else int

    def truthy(self, tx):
        e = self.expr
        return self.env.evaluate(e if type(e) is Rel else Rel("!=", e, 0))

    def as_node(self):
        """The graph value of this int: a node, or an int once it is a constant."""
        if type(self.expr) is Rel:
            return self.value  # a symbolic bool is decided, never a graph value
        env = self.env
        if self._node is None or env.output.subgraph_depth():
            if self.recipe is not None and not env.output.subgraph_depth():
                fn, a, b = self.recipe
                args = [x.as_node() if isinstance(x, SymNodeVariable) else x.value for x in (a, b)]
                self._node = env.new_node(fn, args, env.simplify(self.expr), self.stack_trace) \
                    if any(not isinstance(x, int) for x in args) else fn(*args)
            else:
                return env.node_of(self.expr)
        return self._node

    def reconstruct(self, cg):
        """Python computing it from the inputs' sizes (no guard: it is right for every size)."""
        e = self.expr
        if type(e) is Rel:
            return f"({self.env.code(e.lhs)} {e.op} {self.env.code(e.rhs)})"
        return f"({self.env.code(e)})"

    def __repr__(self):
        return f"SymNodeVariable({self.expr})"


def sym_int(env, e, recipe=None, stack_trace=None):
    """A tracker for an int or an Expr."""
    e = env.simplify(e)
    return ConstantVariable(e) if type(e) is int else SymNodeVariable(env, e, recipe, stack_trace)


class SizeVariable(TupleVariable):
    """`x.shape` / `x.size()` of a tensor with symbolic sizes: a tl.Size of trackers."""

    def python_type(self):
        return tl.Size

    def _build_const(self, walk):
        return tl.Size(super()._build_const(walk))

    def call_method(self, tx, name, args, kwargs):
        if name == "numel" and not args and not kwargs:
            return _product(tx.output.shape_env, self.items)
        return super().call_method(tx, name, args, kwargs)

    def reconstruct(self, cg):
        return f"{cg.global_obj(tl.Size)}({super().reconstruct(cg)})"


def _product(env, items):
    n = 1
    for i in items:
        n = n * (i.expr if isinstance(i, SymNodeVariable) else i.as_python_constant())
    return sym_int(env, n)


# ---------------------------------------------------------------------------- operators
def _operand(env, v):
    """An int or Expr for an int-like tracker, else None (a float, a bool, a tensor...)."""
    if isinstance(v, SymNodeVariable):
        return env.simplify(v.expr) if type(v.expr) is not Rel else None
    if isinstance(v, ConstantVariable) and type(v.value) is int and -_BIG < v.value < _BIG:
        return v.value  # (a huge int is no size: folded, it prints past the int-str digit limit)
    return None


_BIG = 2 ** 62


def binary(tx, fn, a, b):
    """fn(a, b) kept symbolic (an operand is a SymNodeVariable), or None: then the caller
    folds it, which specializes."""
    env = tx.output.shape_env
    if fn not in _ARITH and fn not in _COMPARE:
        return None
    ea, eb = _operand(env, a), _operand(env, b)
    if ea is None or eb is None:
        return None
    if fn in _COMPARE:
        return SymNodeVariable(env, Rel(_COMPARE[fn], ea, eb))
    try:
        r = _ARITH[fn](ea, eb)
    except (NotSymbolic, ZeroDivisionError):
        return None
    if not -_BIG < env.hint(r) < _BIG:
        return None
    return sym_int(env, r, (fn, a, b), tx.stack_trace())


def unary(tx, fn, v):
    """-v, +v, abs(v) of a symbolic int, or None."""
    env = tx.output.shape_env
    e = _operand(env, v)
    if e is None:
        return None
    if fn is operator.pos:
        return v
    if fn is operator.neg:
        return sym_int(env, -e, (operator.mul, v, ConstantVariable(-1)), tx.stack_trace())
    if fn in (operator.abs, abs) and env.bounds(e)[0] >= 0:
        return v
    return None


def builtin(tx, fn, args, kwargs):
    """min/max/int/abs/operator.index of symbolic ints, or None."""
    env = tx.output.shape_env
    if kwargs:
        return None
    if fn in (min, max) and len(args) > 1:
        es = [_operand(env, a) for a in args]
        if any(e is None for e in es):
            return None
        return sym_int(env, (sym_min if fn is min else sym_max)(*es))
    if len(args) == 1 and fn in (int, operator.index) and _operand(env, args[0]) is not None:
        return args[0]
    if len(args) == 1 and fn is abs:
        return unary(tx, abs, args[0])
    return None


# ---------------------------------------------------------------------------- tensor metadata
def size_of(tx, vt):
    """x.shape / x.size() of a tensor with symbolic sizes."""
    env = tx.output.shape_env
    return SizeVariable([sym_int(env, s) for s in sym_shape(vt.example)])


def meta_method(tx, vt, name, args, kwargs):
    """x.size(d), x.size(), x.numel(), len(x) of a tensor with symbolic sizes; None for the
    other metadata methods (they specialize)."""
    shape = sym_shape(vt.example)
    env = tx.output.shape_env
    if name == "size":
        dim = args[0] if args else kwargs.get("dim")
        if dim is None or dim.as_python_constant() is None:
            return size_of(tx, vt)
        d = dim.as_python_constant()
        if not -len(shape) <= d < len(shape):
            return None  # the eager error
        return sym_int(env, shape[d])
    if name in ("numel", "nelement") and not args and not kwargs:
        return _product(env, [sym_int(env, s) for s in shape])
    if name == "__len__" and shape:
        return sym_int(env, shape[0])
    return None
