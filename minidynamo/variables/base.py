"""VariableTracker: what the symbolic interpreter holds on its stack and in its locals.

Each tracker stands for one Python value during tracing; `source` says where a value that
came from outside the frame lives (so it can be guarded and re-loaded).
"""
from ..exc import Unsupported


class UserError(Exception):
    """An exception that the user's code itself raised while being traced: the frame is
    run eagerly instead so that the user sees the exception exactly as in eager mode."""

    def __init__(self, exc):
        super().__init__(str(exc))
        self.exc = exc


def unsupported(msg):
    raise Unsupported(msg)


class VariableTracker:
    source = None

    def __init__(self, source=None):
        self.source = source

    # python_type / constant value --------------------------------------------------
    def python_type(self):
        unsupported(f"python_type of {self}")

    def is_python_constant(self):
        return False

    def as_python_constant(self):
        unsupported(f"{type(self).__name__} is not a constant")

    # the protocol used by the interpreter --------------------------------------------
    def var_getattr(self, tx, name):
        unsupported(f"getattr {type(self).__name__}.{name}")

    def call_function(self, tx, args, kwargs):
        unsupported(f"call {self}")

    def call_method(self, tx, name, args, kwargs):
        fn = self.var_getattr(tx, name)
        return fn.call_function(tx, args, kwargs)

    def truthy(self, tx):
        unsupported(f"truth value of {self}")

    def unpack(self, tx):
        unsupported(f"cannot iterate over {self}")

    def reconstruct(self, cg):
        """Emit an expression that rebuilds this value in the transformed function."""
        if self.source is not None:
            return self.source.expr()
        unsupported(f"cannot reconstruct {self} after the graph")

    def __repr__(self):
        return f"{type(self).__name__}()"


class BoundMethodVariable(VariableTracker):
    """`obj.name` for a method the tracker implements in its call_method (list.append,
    dict.items, str.upper, module.parameters, ...): calling it calls obj.call_method."""

    def __init__(self, obj, name):
        super().__init__(None)
        self.obj = obj
        self.name = name

    def call_function(self, tx, args, kwargs):
        return self.obj.call_method(tx, self.name, args, kwargs)

    def __repr__(self):
        return f"BoundMethodVariable({self.obj!r}.{self.name})"


class NullVariable(VariableTracker):
    """The NULL that CPython pushes for calls."""

    def __repr__(self):
        return "NULL"


NULL = NullVariable()


def is_null(v):
    return v is NULL


MAX_UNPACK = 100_000  # items of a constant (range(10**7)) the interpreter unpacks at most


class ConstantVariable(VariableTracker):
    """A Python value folded at trace time (numbers, strings, None, dtypes, slices, ...)."""

    def __init__(self, value, source=None):
        self.source = source  # all VariableTracker.__init__ does (set here: one per constant loaded)
        self.value = value

    def python_type(self):
        return type(self.value)

    def is_python_constant(self):
        return True

    def as_python_constant(self):
        return self.value

    def truthy(self, tx):
        return bool(self.value)

    def var_getattr(self, tx, name):
        from .builder import wrap_constant_result
        try:
            v = getattr(self.value, name)
        except Exception as e:
            raise UserError(e)
        if callable(v) and getattr(v, "__self__", None) is self.value and not isinstance(v, type):
            return BoundMethodVariable(self, name)
        return wrap_constant_result(tx, v)

    def call_method(self, tx, name, args, kwargs):
        from .builder import wrap_constant_result
        if all(a.is_python_constant() for a in args) and all(a.is_python_constant() for a in kwargs.values()):
            try:
                r = getattr(self.value, name)(*[a.as_python_constant() for a in args],
                                              **{k: v.as_python_constant() for k, v in kwargs.items()})
            except Exception as e:
                raise UserError(e)
            return wrap_constant_result(tx, r)
        return super().call_method(tx, name, args, kwargs)

    def unpack(self, tx):
        n = len(self.value) if isinstance(self.value, (range, str, bytes, tuple)) else 0
        if n > MAX_UNPACK:  # a tracker per item, and a loop over them unrolled: run eagerly
            unsupported(f"iterating over {n} items of a {type(self.value).__name__} while tracing")
        try:
            items = list(self.value)
        except TypeError as e:
            raise UserError(e)
        return [ConstantVariable(v) for v in items]

    def reconstruct(self, cg):
        return cg.const(self.value)

    def __repr__(self):
        return f"ConstantVariable({self.value!r})"


class LazyConstantVariable(ConstantVariable):
    """A Python scalar from a source whose guard is installed on first real use; passing it
    along untouched (into a hook's closure, or back to the caller) guards nothing."""

    def __init__(self, value, source, guard):
        VariableTracker.__init__(self, source)
        self._value = value
        self._guard = guard

    def _use(self):
        g = self._guard
        if g is not None:
            self._guard = None
            g()
        return self._value

    @property
    def value(self):
        return self._use()

    def python_type(self):
        self._use()
        return type(self._value)

    def reconstruct(self, cg):
        return self.source.expr()

    def __repr__(self):
        return f"LazyConstantVariable({self._value!r})"


class LazyVariable(VariableTracker):
    """A sourced callable (function, partial, method) wrapped, and guarded, only when it is
    actually used; reconstructing it (to register it as a hook) guards nothing, so a hook
    can be rebound without a recompile."""

    def __init__(self, value, source, realize_fn):
        super().__init__(source)
        self.value = value
        self._realize_fn = realize_fn
        self._real = None

    def realize(self):
        if self._real is None:
            self._real = self._realize_fn()
        return self._real

    def python_type(self):
        return type(self.value)

    def is_python_constant(self):
        return self.realize().is_python_constant()

    def as_python_constant(self):
        return self.realize().as_python_constant()

    def var_getattr(self, tx, name):
        return self.realize().var_getattr(tx, name)

    def call_function(self, tx, args, kwargs):
        return self.realize().call_function(tx, args, kwargs)

    def call_method(self, tx, name, args, kwargs):
        return self.realize().call_method(tx, name, args, kwargs)

    def truthy(self, tx):
        return self.realize().truthy(tx)

    def unpack(self, tx):
        return self.realize().unpack(tx)

    def reconstruct(self, cg):
        return self.source.expr()

    def __repr__(self):
        return f"LazyVariable({type(self.value).__name__})"


class LazyExprVariable(LazyConstantVariable):
    """Arithmetic on unguarded scalars (obj.counter + 1): its value is known, but nothing is
    guarded unless the value is really used; when it only flows back into Python state (a
    side effect), the transformed code recomputes it from the sources, before the effects."""

    reconstructed = False  # rebuilt in the transformed code, which then raises as eager would

    def __init__(self, value, expr_fn, guards):
        VariableTracker.__init__(self, None)
        self._value = value
        self._expr_fn = expr_fn
        self._guards = guards

    def _use(self):
        gs, self._guards = self._guards, []
        for g in gs:
            g()
        return self._value

    def reconstruct(self, cg):
        self.reconstructed = True
        return cg.temp(self._expr_fn(cg))

    def settle(self):
        """A value the transformed code never computes: guard its operands, so that the
        operation that made it cannot raise for another call (`1 / n`, its result unused)."""
        if not self.reconstructed:
            self._use()

    def __repr__(self):
        return f"LazyExprVariable({self._value!r})"


_ARITH = None


def lazy_arithmetic(fn, a, b):
    """fn(a, b) without guarding, when an operand is an untouched lazy scalar."""
    global _ARITH
    if _ARITH is None:
        import operator
        _ARITH = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/",
                  operator.floordiv: "//", operator.mod: "%", operator.pow: "**"}
    sym = _ARITH.get(fn)
    if sym is None:
        return None
    lazies = [v for v in (a, b) if isinstance(v, LazyConstantVariable) and _pending(v)]
    if not lazies:
        return None
    for v in (a, b):
        if not isinstance(v, LazyConstantVariable) and not (type(v) is ConstantVariable and
                                                           type(v.value) in (int, float)):
            return None
    va, vb = _peek(a), _peek(b)
    if type(va) not in (int, float) or type(vb) not in (int, float):
        return None
    try:
        value = fn(va, vb)
    except Exception:
        return None
    guards = []
    for v in (a, b):
        if isinstance(v, LazyExprVariable):
            guards += v._guards
        elif isinstance(v, LazyConstantVariable) and v._guard is not None:
            guards.append(v._guard)
    return LazyExprVariable(value, lambda cg: f"({cg(a)} {sym} {cg(b)})", guards)


def _pending(v):
    return v._guards if isinstance(v, LazyExprVariable) else v._guard is not None


def _peek(v):
    return v._value if isinstance(v, LazyConstantVariable) else v.value
