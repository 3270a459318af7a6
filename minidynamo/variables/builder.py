"""VariableBuilder: wrap a real value that came from a source, installing the guards that
make the trace valid for it."""
import builtins
import collections
import functools
import math
import operator
import types

import numpy as np

import tensorlite as tl

from ..source import AttrSource, GetItemSource
from .base import ConstantVariable, LazyConstantVariable, LazyVariable, VariableTracker, unsupported
from .dicts import DictVariable
from .functions import (PURE_BUILTINS, BuiltinVariable, PartialVariable, TLFunctionVariable,
                        UserFunctionVariable, UserMethodVariable)
from .lists import ListVariable, NamedTupleVariable, TupleVariable
from .objects import (GradModeClassVariable, NNModuleVariable, PythonModuleVariable,
                      UserDefinedClassVariable, UserDefinedObjectVariable)

CONSTANT_TYPES = (int, float, bool, str, bytes, complex, type(None), type(Ellipsis), range, slice,
                  tl.dtype, np.dtype, np.number, np.bool_)


def is_tl_object(v):
    mod = getattr(v, "__module__", None) or ""
    if mod.startswith("tensorlite.nn.modules"):
        # tl.nn.Module code (forward, __init__, helpers) is user-level Python: inlined
        return False
    return mod == "tensorlite" or mod.startswith("tensorlite.")


def wrap_constant_result(tx, value):
    """A value computed at trace time from constants."""
    if isinstance(value, slice) and not all(_immutable(p) for p in (value.start, value.stop, value.step)):
        unsupported("a slice with mutable bounds (it would be one object shared by every call)")
    if isinstance(value, CONSTANT_TYPES) or value is NotImplemented:
        return ConstantVariable(value)
    if isinstance(value, tuple) and all(isinstance(v, CONSTANT_TYPES) for v in value):
        return ConstantVariable(value)
    if isinstance(value, (list, tuple)):
        items = [wrap_constant_result(tx, v) for v in value]
        return ListVariable(items) if isinstance(value, list) else TupleVariable(items)
    if isinstance(value, dict):
        return DictVariable({k: wrap_constant_result(tx, v) for k, v in value.items()})
    return VariableBuilder(tx, None).wrap(value)


def _immutable(v):
    if type(v) is tuple:
        return all(_immutable(x) for x in v)
    return v is None or type(v) in (int, float, bool, str, bytes, complex)


class VariableBuilder:
    def __init__(self, tx, source):
        self.tx = tx
        self.source = source

    def guard(self, kind, expected=None, extra=None):
        if self.source is not None:
            self.tx.output.add_guard(kind, self.source, expected, extra)

    def wrap(self, value):
        out = self.tx.output
        if self.source is not None:
            cached = out.value_cache.get(id(value))
            if cached is not None and cached[0] is value:
                vt = cached[1]
                if isinstance(vt, (ListVariable, DictVariable, UserDefinedObjectVariable)) or \
                        type(vt).__name__ == "TensorVariable":
                    if vt.source is not None and vt.source != self.source:
                        out.add_guard("DUPLICATE_INPUT", self.source, vt.source)
                    return vt
        vt = self._wrap(value)
        if self.source is not None and not isinstance(vt, ConstantVariable):
            out.value_cache[id(value)] = (value, vt)
        return vt

    def _wrap(self, value):
        tx = self.tx
        src = self.source
        if isinstance(value, tl.Tensor):
            if src is None:
                return tx.output.constant_tensor(tx, value)
            return tx.output.graph_input_tensor(tx, value, src)
        if isinstance(value, CONSTANT_TYPES):
            if isinstance(value, (tl.dtype, np.dtype)) or value is None or isinstance(value, (range, slice)):
                if isinstance(value, slice) and not all(_immutable(p) for p in (value.start, value.stop, value.step)):
                    unsupported("a slice with mutable bounds")
                if isinstance(value, (range, slice)):
                    self.guard("EQUALS_MATCH", value)  # its bounds: the trace folds them
                else:
                    self.guard("ID_MATCH", value) if value is not None else self.guard("EQUALS_MATCH", None)
            elif src is not None:
                return LazyConstantVariable(value, src, lambda: self.guard("EQUALS_MATCH", value))
            return ConstantVariable(value, src)
        if isinstance(value, tl.nn.Module):
            # modules are guarded by type, not identity: instances of one class share entries;
            # everything the trace reads from them is guarded through its own source
            self.guard("TYPE_MATCH", type(value))
            tx.output.guard_training(src, value)
            return NNModuleVariable(value, src)
        if isinstance(value, types.ModuleType):
            self.guard("ID_MATCH", value)
            return PythonModuleVariable(value, src)
        if value in (tl.no_grad, tl.enable_grad, tl.set_grad_enabled) if isinstance(value, type) else False:
            self.guard("ID_MATCH", value)
            return GradModeClassVariable(value, src)
        if isinstance(value, tuple) and hasattr(value, "_fields"):
            self.guard("TYPE_MATCH", type(value))
            return NamedTupleVariable([VariableBuilder(tx, GetItemSource(src, i) if src else None).wrap(v)
                                       for i, v in enumerate(value)], type(value), src)
        if isinstance(value, (tuple, list)):
            self.guard("TYPE_MATCH", type(value))
            self.guard("LENGTH_CHECK", len(value))
            items = [VariableBuilder(tx, GetItemSource(src, i) if src else None).wrap(v) for i, v in enumerate(value)]
            if type(value) is tuple:
                return TupleVariable(items, src)
            if type(value) is list:
                return ListVariable(items, src)
            unsupported(f"subclass of {type(value).__bases__[0].__name__}: {type(value).__name__}")
        if type(value) is dict or type(value) is collections.OrderedDict:
            self.guard("TYPE_MATCH", type(value))
            if not all(isinstance(k, (str, int, bool, type(None), float)) for k in value):
                unsupported("dict with non-constant keys")
            self.guard("DICT_KEYS", list(value.keys()))
            return DictVariable({k: VariableBuilder(tx, GetItemSource(src, k) if src else None).wrap(v)
                                 for k, v in value.items()}, src, dict_cls=type(value))
        if isinstance(value, functools.partial):
            self.guard("TYPE_MATCH", type(value))
            func = VariableBuilder(tx, AttrSource(src, "func") if src else None).wrap(value.func)
            args = [VariableBuilder(tx, GetItemSource(AttrSource(src, "args"), i) if src else None).wrap(a)
                    for i, a in enumerate(value.args)]
            self.guard_len(AttrSource(src, "args") if src else None, len(value.args))
            kw = {k: VariableBuilder(tx, GetItemSource(AttrSource(src, "keywords"), k) if src else None).wrap(v)
                  for k, v in value.keywords.items()}
            if src is not None:
                tx.output.add_guard("DICT_KEYS", AttrSource(src, "keywords"), list(value.keywords))
            return PartialVariable(func, args, kw, src)
        special = _special_callable(value, src, self)
        if special is not None:
            return special
        if src is not None and isinstance(value, (types.FunctionType, functools.partial, types.MethodType,
                                                  types.BuiltinFunctionType)) \
                and not is_tl_object(value) and not getattr(self, "_eager", False):
            return LazyVariable(value, src, lambda: self._eager_wrap(value))
        if isinstance(value, types.FunctionType):
            if is_tl_object(value):
                self.guard("ID_MATCH", value)
                return TLFunctionVariable(value, src)
            if src is not None:
                tx.output.add_guard("ID_MATCH", AttrSource(src, "__code__"), value.__code__)
                if value.__globals__ is not tx.output.root_globals:
                    # one code object can run with other globals (generated code compiled once
                    # per text): the globals this trace read belong to this function
                    tx.output.add_guard("ID_MATCH", AttrSource(src, "__globals__"), value.__globals__)
            return UserFunctionVariable(value, src)
        if isinstance(value, types.MethodType):
            fn = VariableBuilder(tx, AttrSource(src, "__func__") if src else None).wrap(value.__func__)
            obj = VariableBuilder(tx, AttrSource(src, "__self__") if src else None).wrap(value.__self__)
            return UserMethodVariable(fn, obj, src)
        if isinstance(value, (types.BuiltinFunctionType, types.BuiltinMethodType)) or value in PURE_BUILTINS \
                if _hashable(value) else False:
            if isinstance(value, types.BuiltinMethodType) and getattr(value, "__self__", None) is not None \
                    and not isinstance(value.__self__, types.ModuleType):
                unsupported(f"bound builtin method {value.__qualname__}")
            self.guard("ID_MATCH", value)
            return BuiltinVariable(value, src)
        if type(value).__module__ == "tensorlite._primitive":
            self.guard("ID_MATCH", value)
            return TLFunctionVariable(value, src)
        if isinstance(value, type):
            self.guard("ID_MATCH", value)
            if value in PURE_BUILTINS:
                return BuiltinVariable(value, src)
            return UserDefinedClassVariable(value, src)
        if any(value is v for v in _OPERATOR_FUNCTIONS):
            return BuiltinVariable(value, src)
        if isinstance(value, (set, frozenset)):
            unsupported("set inputs")
        if callable(value) and is_tl_object(value) and not isinstance(value, type):
            self.guard("ID_MATCH", value)
            return TLFunctionVariable(value, src)
        self.guard("TYPE_MATCH", type(value))
        return UserDefinedObjectVariable(value, src)

    def _eager_wrap(self, value):
        self._eager = True
        return self._wrap(value)

    def guard_len(self, source, n):
        if source is not None:
            self.tx.output.add_guard("LENGTH_CHECK", source, n)

    def wrap_module_member(self, module_vt, value):
        """Wrap a parameter/submodule found by iterating a module (named by its path)."""
        m = module_vt.value
        for name, p in m.named_parameters():
            if p is value:
                return VariableBuilder(self.tx, _path_source(module_vt.source, name)).wrap(value)
        for name, b in m.named_buffers():
            if b is value:
                return VariableBuilder(self.tx, _path_source(module_vt.source, name)).wrap(value)
        for name, sub in m.named_modules():
            if sub is value:
                return VariableBuilder(self.tx, _path_source(module_vt.source, name) if name else module_vt.source).wrap(value)
        if isinstance(value, tuple):
            return TupleVariable([self.wrap_module_member(module_vt, v) for v in value])
        return VariableBuilder(self.tx, None).wrap(value)


class UnsupportedCallVariable(VariableTracker):
    """A callable whose call must run eagerly (md.graph_break, md.disable'd functions)."""

    def __init__(self, value, reason, source=None):
        super().__init__(source)
        self.value = value
        self.reason = reason

    def call_function(self, tx, args, kwargs):
        unsupported(self.reason)

    def reconstruct(self, cg):
        return self.source.expr() if self.source is not None else cg.global_obj(self.value)


class TraceWrappedVariable(VariableTracker):
    """md.trace_wrapped(*args, fn): traced by inlining fn(*args) under no_grad (a None result
    keeps args[0]), which is what it does eagerly."""

    def __init__(self, value, source=None):
        super().__init__(source)
        self.value = value

    def call_function(self, tx, args, kwargs):
        fn = kwargs.get("fn")
        if fn is None or set(kwargs) - {"fn"}:
            unsupported("trace_wrapped(*args, fn=...) expects exactly the keyword fn")
        prev = tx.grad_enabled()
        tx.set_grad_mode(False)
        try:
            r = fn.call_function(tx, list(args), {})
        finally:
            tx.set_grad_mode(prev)
        if r.is_python_constant() and r.as_python_constant() is None:
            return args[0]
        return r

    def reconstruct(self, cg):
        return self.source.expr() if self.source is not None else cg.global_obj(self.value)


def _special_callable(value, src, builder):
    from .. import eval_frame
    try:
        from backends.aot.trace_wrapped import trace_wrapped
    except ImportError:
        trace_wrapped = None
    if value is trace_wrapped and trace_wrapped is not None:
        return TraceWrappedVariable(value, src)
    region = _marker(value, "_md_nested_region")
    if region is not None and not isinstance(value, tl.nn.Module) and callable(region):
        from ..higher_order import RegionVariable
        inner = VariableBuilder(builder.tx, AttrSource(src, "__wrapped__") if src else None)
        inner._eager = True
        return RegionVariable(inner._wrap(region), src)
    if value is eval_frame.graph_break:
        return UnsupportedCallVariable(value, "graph_break() called", src)
    if _marker(value, "_minidynamo_disable") is True:
        return UnsupportedCallVariable(value, f"call to {getattr(value, '__qualname__', value)}, "
                                              "which is wrapped in md.disable", src)
    if isinstance(value, eval_frame.OptimizedFunction):
        if value._bound_self is not None:
            return None
        return UserFunctionVariable(value._orig_fn, AttrSource(src, "_orig_fn") if src else None)
    if _hashable(value) and value in eval_frame._ALLOW_IN_GRAPH:
        builder.guard("ID_MATCH", value)
        return TLFunctionVariable(value, src)
    return None


def _marker(value, name):
    """An attribute minidynamo sets on the functions it wraps (md.disable, regions). Only
    functions carry them: other objects are not asked (their __getattr__ is user code, and
    reading a partial's __dict__ creates one, which stops partial(partial(f)) flattening)."""
    if type(value) is not types.FunctionType:
        return None
    return value.__dict__.get(name)


def _path_source(base, path):
    s = base
    for part in path.split("."):
        s = AttrSource(s, part)
    return s


_OPERATOR_FUNCTIONS = tuple(v for v in operator.__dict__.values() if callable(v))


def _hashable(v):
    """Whether v can be looked up in a set without running user code: hashable by a builtin
    __hash__ and __eq__ (a class's own would run, and be seen, while tracing)."""
    t = type(v)
    if _user_defined(t, "__hash__") or _user_defined(t, "__eq__"):
        return False
    try:
        hash(v)
        return True
    except TypeError:
        return False


def _user_defined(t, name):
    """Whether t's name attribute is Python code (a function somewhere in its MRO)."""
    return isinstance(getattr(t, name, None), types.FunctionType)


_ = (builtins, math, VariableTracker)
