"""Callables: user functions (inlined), nested functions and closures, methods, partials,
cells, tensorlite functions (graph nodes) and Python builtins (folded or traced)."""
import functools
import math
import operator
import sys
import warnings

import tensorlite as tl

from ..bytecode_compat import code_signature_names
from ..exc import Unsupported
from .base import ConstantVariable, UserError, VariableTracker, unsupported
from .dicts import DictVariable
from .lists import ListVariable, TupleVariable


def bind_args(code, name, args, kwargs, defaults, kwdefaults):
    """Bind trackers to a code object's parameters, raising the TypeError Python would."""
    pos, varargs, kwonly, varkw = code_signature_names(code)
    out = {}
    if len(args) > len(pos) and not varargs:
        n = len(pos)
        raise UserError(TypeError(
            f"{name}() takes {n} positional argument{'s' if n != 1 else ''} but {len(args)} were given"))
    for p, a in zip(pos, args):
        out[p] = a
    extra = list(args[len(pos):])
    kw = dict(kwargs)
    for p in pos + kwonly:
        if p in kw:
            if p in out:
                raise UserError(TypeError(f"{name}() got multiple values for argument '{p}'"))
            out[p] = kw.pop(p)
    nd = len(defaults)
    missing = []
    for i, p in enumerate(pos):
        if p not in out:
            j = i - (len(pos) - nd)
            if j >= 0:
                out[p] = defaults[j]
            else:
                missing.append(p)
    for p in kwonly:
        if p not in out:
            if p in kwdefaults:
                out[p] = kwdefaults[p]
            else:
                missing.append(p)
    if missing:
        raise UserError(TypeError(
            f"{name}() missing {len(missing)} required positional argument{'s' if len(missing) > 1 else ''}: "
            + " and ".join(repr(m) for m in missing)))
    if varargs:
        out[varargs] = TupleVariable(extra)
    if kw:
        if not varkw:
            k = next(iter(kw))
            raise UserError(TypeError(f"{name}() got an unexpected keyword argument '{k}'"))
    if varkw:
        out[varkw] = DictVariable(kw)
    return out


class CellVariable(VariableTracker):
    """A closure cell. `real` is the real cell when the cell exists outside the frame."""

    def __init__(self, contents=None, real=None, source=None):
        super().__init__(source)
        self.contents = contents
        self.real = real

    def load(self, tx):
        if self.contents is None:
            if self.real is not None:
                from .builder import VariableBuilder
                try:
                    value = self.real.cell_contents
                except ValueError:
                    raise UserError(NameError("free variable referenced before assignment"))
                self.contents = VariableBuilder(tx, self.source).wrap(value) if self.source else \
                    VariableBuilder(tx, None).wrap(value)
            else:
                raise UserError(NameError("cannot access free variable before assignment"))
        return self.contents

    def store(self, tx, value):
        if self.real is not None:
            tx.output.side_effects.store_cell(self, value)
        self.contents = value


class BaseUserFunction(VariableTracker):
    def get_code(self):
        raise NotImplementedError

    def bind(self, tx, args, kwargs):
        raise NotImplementedError

    def call_function(self, tx, args, kwargs):
        code = self.get_code()
        if code.co_flags & 0x20 or code.co_flags & 0x80 or code.co_flags & 0x200:
            unsupported(f"calling generator or coroutine function {code.co_name}")
        return tx.inline_user_function(self, args, kwargs)


class FunctionValue:
    """Mixin of the trackers that stand for one real callable `fn`."""

    def __init__(self, fn, source=None):
        VariableTracker.__init__(self, source)
        self.fn = fn

    def python_type(self):
        return type(self.fn)

    def as_python_constant(self):
        return self.fn

    def reconstruct(self, cg):
        return self.source.expr() if self.source is not None else cg.global_obj(self.fn)


class UserFunctionVariable(FunctionValue, BaseUserFunction):
    """A real Python function defined outside the compiled frame: inlined when called."""

    def get_code(self):
        return self.fn.__code__

    def get_globals(self):
        return self.fn.__globals__

    def get_name(self):
        return self.fn.__name__

    def bind(self, tx, args, kwargs):
        from ..source import CellContentsSource, DefaultsSource
        from .builder import VariableBuilder

        fn = self.fn
        defaults = [VariableBuilder(tx, DefaultsSource(self.source, i) if self.source else None).wrap(v)
                    for i, v in enumerate(fn.__defaults__ or ())]
        kwd = {k: VariableBuilder(tx, DefaultsSource(self.source, k) if self.source else None).wrap(v)
               for k, v in (fn.__kwdefaults__ or {}).items()}
        bound = bind_args(fn.__code__, fn.__name__, args, kwargs, defaults, kwd)
        cells = {}
        for i, (name, cell) in enumerate(zip(fn.__code__.co_freevars, fn.__closure__ or ())):
            existing = tx.output.side_effects.cell_for(cell)
            if existing is None:
                existing = CellVariable(real=cell, source=CellContentsSource(self.source, i, name) if self.source else None)
                tx.output.side_effects.track_cell(cell, existing)
            cells[name] = existing
        return bound, cells

    def var_getattr(self, tx, name):
        if name in ("__name__", "__qualname__", "__module__", "__doc__"):
            return ConstantVariable(getattr(self.fn, name))
        unsupported(f"attribute {name} of function {self.fn.__name__}")

    def __repr__(self):
        return f"UserFunctionVariable({self.fn.__qualname__})"


class NestedFunctionVariable(BaseUserFunction):
    """A function created inside the traced code (MAKE_FUNCTION): code + closure trackers."""

    def __init__(self, code, qualname, globals_, defaults=None, kwdefaults=None, closure=None):
        super().__init__(None)
        self.code = code
        self.qualname = qualname
        self.fn_globals = globals_
        self.defaults = defaults
        self.kwdefaults = kwdefaults
        self.closure = closure

    def python_type(self):
        import types
        return types.FunctionType

    def get_code(self):
        return self.code

    def get_globals(self):
        return self.fn_globals

    def get_name(self):
        return self.code.co_name

    def bind(self, tx, args, kwargs):
        defaults = _seq_items(self.defaults)
        kwd = _map_items(self.kwdefaults)
        bound = bind_args(self.code, self.code.co_name, args, kwargs, defaults, kwd)
        cells = dict(zip(self.code.co_freevars, self.closure.items if self.closure is not None else ()))
        return bound, cells

    def var_getattr(self, tx, name):
        if name in ("__name__",):
            return ConstantVariable(self.code.co_name)
        if name == "__qualname__":
            return ConstantVariable(self.qualname)
        unsupported(f"attribute {name} of a nested function")

    def reconstruct(self, cg):
        return cg.nested_function(self)

    def __repr__(self):
        return f"NestedFunctionVariable({self.qualname})"


def _seq_items(v):
    """MAKE_FUNCTION's defaults: a built tuple, or a constant tuple (LOAD_CONST)."""
    if v is None:
        return []
    if isinstance(v, ConstantVariable):
        return [ConstantVariable(x) for x in v.value]
    return list(v.items)


def _map_items(v):
    if v is None:
        return {}
    if isinstance(v, ConstantVariable):
        return {k: ConstantVariable(x) for k, x in v.value.items()}
    return dict(v.items)


class UserMethodVariable(VariableTracker):
    """A function bound to a tracked object (obj.method)."""

    def __init__(self, fn_var, obj, source=None):
        super().__init__(source)
        self.fn_var = fn_var
        self.obj = obj

    def call_function(self, tx, args, kwargs):
        return self.fn_var.call_function(tx, [self.obj] + list(args), kwargs)

    def __repr__(self):
        return f"UserMethodVariable({self.fn_var}, {self.obj})"


class PartialVariable(VariableTracker):
    def __init__(self, func, args, kwargs, source=None):
        super().__init__(source)
        self.func = func
        self.args = list(args)
        self.kwargs = dict(kwargs)

    def python_type(self):
        return functools.partial

    def call_function(self, tx, args, kwargs):
        return self.func.call_function(tx, self.args + list(args), {**self.kwargs, **kwargs})

    def var_getattr(self, tx, name):
        if name == "func":
            return self.func
        if name == "args":
            return TupleVariable(self.args)
        if name == "keywords":
            return DictVariable(self.kwargs)
        unsupported(f"functools.partial attribute {name}")

    def reconstruct(self, cg):
        if self.source is not None:
            return self.source.expr()
        parts = [cg(self.func)] + [cg(a) for a in self.args] + [f"{k}={cg(v)}" for k, v in self.kwargs.items()]
        return f"{cg.global_obj(functools.partial)}({', '.join(parts)})"


def _has_tensor(vs):
    from .tensor import TensorVariable
    for v in vs:
        if isinstance(v, TensorVariable):
            return True
        if isinstance(v, (TupleVariable, ListVariable)) and _has_tensor(v.items):
            return True
        if isinstance(v, DictVariable) and _has_tensor(list(v.items.values())):
            return True
    return False


def _all_const(args, kwargs):
    return all(a.is_python_constant() for a in args) and all(v.is_python_constant() for v in kwargs.values())


def _consts(args, kwargs):
    return [a.as_python_constant() for a in args], {k: v.as_python_constant() for k, v in kwargs.items()}


# tensorlite functions that answer a question about state rather than compute a tensor
_TL_STATEFUL = {"manual_seed", "seed", "set_grad_enabled"}


class TLFunctionVariable(FunctionValue, VariableTracker):
    """A function from tensorlite (tl.sin, tl.nn.functional.relu, tl.zeros): a graph node."""

    def call_function(self, tx, args, kwargs):
        fn = self.fn
        name = getattr(fn, "__name__", "")
        if fn is tl.is_grad_enabled:
            return ConstantVariable(tx.grad_enabled())
        if name in _TL_STATEFUL:
            unsupported(f"tensorlite.{name}() changes global state")
        if fn in (tl.is_tensor,):
            from .tensor import TensorVariable
            return ConstantVariable(isinstance(args[0], TensorVariable))
        if name in ("is_floating_point", "numel") and _has_tensor(args):
            return args[0].call_method(tx, name, [], {})
        if fn in (tl.autograd.grad, tl.autograd.backward):
            unsupported("autograd.grad/backward inside a compiled region")
        return tx.output.tensor_op(tx, "call_function", fn, list(args), kwargs)

    def __repr__(self):
        return f"TLFunctionVariable({getattr(self.fn, '__name__', self.fn)})"


class BuiltinVariable(FunctionValue, VariableTracker):
    """A Python builtin (len, isinstance, range, ...) or a pure C function (math.sqrt)."""

    def __repr__(self):
        return f"BuiltinVariable({getattr(self.fn, '__name__', self.fn)})"

    def call_function(self, tx, args, kwargs):
        from .builtins_impl import call_builtin
        if _reads_frames(self.fn):
            raise Unsupported(f"call to {getattr(self.fn, '__qualname__', self.fn)}, which reads the "
                              "calling frames: the frame runs eagerly", whole_frame=True)
        if _observes_objects(self.fn):
            raise Unsupported(f"call to {getattr(self.fn, '__qualname__', self.fn)}, which observes "
                              "objects themselves (a split frame passes rebuilt copies): the frame "
                              "runs eagerly", whole_frame=True)
        return call_builtin(tx, self.fn, list(args), dict(kwargs))


# C functions whose result depends on the Python frames that call them: never evaluated while
# tracing, and a frame that calls them runs eagerly as a whole (split at a break, the calls
# after it would run under minidynamo's frames, with other callers, globals and line numbers)
FRAME_READERS = {sys._getframe, getattr(sys, "_getframemodulename", None), locals, globals, vars,
                 dir, eval, exec, breakpoint, warnings.warn, warnings.warn_explicit,
                 getattr(sys, "_current_frames", None), sys.exc_info, getattr(sys, "exception", None)} - {None}


# C functions whose result depends on which object, not which value, they get: a frame split
# at a break passes values it made (lists, dicts, strings) to the resume function as rebuilt
# copies, so such a frame runs eagerly as a whole
OBJECT_OBSERVERS = {id, sys.getsizeof, sys.getrefcount}


def _observes_objects(fn):
    try:
        return fn in OBJECT_OBSERVERS
    except TypeError:
        return False


def _reads_frames(fn):
    try:
        return fn in FRAME_READERS
    except TypeError:  # unhashable
        return False


# pure functions safe to evaluate on constants at trace time
PURE_BUILTINS = {
    abs, all, any, bool, callable, chr, divmod, float, format, hash, int, isinstance, issubclass,
    len, max, min, ord, pow, repr, round, sorted, str, sum, tuple, list, dict, set, frozenset, range,
    zip, enumerate, reversed, type, getattr, hasattr, iter, next, slice, map, filter, bytes, complex,
}  # not id(): a value made while tracing is another object at run time
PURE_MODULES = {math, operator}
