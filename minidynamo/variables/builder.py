"""VariableBuilder: wrap a real value that came from a source, installing the guards that
make the trace valid for it."""
import collections
import functools
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


def _identity_guarded(tracker_cls):
    """A VariableBuilder.wrap_* method for a value the trace holds as that very object (a
    dtype, a module, a function that becomes a graph node): guarded by identity."""
    def wrap(self, value):
        self.guard("ID_MATCH", value)
        return tracker_cls(value, self.source)
    return wrap


class VariableBuilder:
    """Wraps a real value found at `source` (None: a value made while tracing) in the tracker
    for its kind, installing the guards that keep the trace valid for it.

    As in Dynamo's builder, `_wrap` finds the kind by the value's exact type, then by the
    object itself, then by tests in an order that matters (a value of several kinds, such as a
    subclass, is the kind of the first test it passes); each kind has its own wrap_* method."""

    def __init__(self, tx, source, eager=False):
        self.tx = tx
        self.source = source
        # False: a sourced function, method or builtin is wrapped as a LazyVariable, guarded only
        # if the trace uses it; the builder that LazyVariable realizes it with is eager
        self.eager = eager

    def guard(self, kind, expected=None):
        if self.source is not None:
            self.tx.output.add_guard(kind, self.source, expected)

    def _part(self, make_source, key):
        """A builder for a part of the value (an item, an attribute), sourced below ours."""
        return VariableBuilder(self.tx, make_source(self.source, key) if self.source is not None else None)

    def wrap(self, value):
        """The tracker for value. A list, dict, object or tensor already wrapped from another
        source is the same tracker (a change made through one name is seen through the
        other), guarded to be the same object in later calls too."""
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

    @classmethod
    @functools.cache
    def _type_dispatch(cls):
        """id(exact type) -> wrap method, for types no earlier test in `_wrap` could claim (so
        the lookup answers as the ordered tests would). Keyed by id: hashing a type would run
        its metaclass's __hash__, user code."""
        entries = [
            (tl.Tensor, cls.wrap_tensor),
            (tl.dtype, cls.wrap_dtype),
            ((int, float, bool, str, bytes, complex, type(Ellipsis), np.bool_), cls.wrap_literal),
            (type(None), cls.wrap_none),
            ((range, slice), cls.wrap_range_slice),
            ((tuple, list), cls.wrap_listlike),
            # only these exact types: a dict subclass (its methods may be overridden) is an object
            ((dict, collections.OrderedDict), cls.wrap_dict),
            (functools.partial, cls.wrap_partial),
        ]
        return _by_id(entries)

    @classmethod
    @functools.cache
    def _id_dispatch(cls):
        """id(object) -> wrap method, for specific objects (module globals: alive for good, so
        no other object takes their id)."""
        from .. import eval_frame  # cycle: eval_frame imports the interpreter, which imports this module
        from backends.aot.trace_wrapped import trace_wrapped
        from backends.higher_order import invoke_subgraph
        from tensorlite.utils.checkpoint import checkpoint
        entries = [
            ((tl.no_grad, tl.enable_grad, tl.set_grad_enabled, tl.inference_mode), cls.wrap_grad_mode_class),
            (eval_frame.graph_break, cls.wrap_graph_break),
            (trace_wrapped, cls.wrap_trace_wrapped),
            (invoke_subgraph, cls.wrap_invoke_subgraph),
            (tl.nn.Module._call_impl, cls.wrap_module_call_impl),
            (tl.cond, cls.wrap_cond),
            (checkpoint, cls.wrap_checkpoint),
        ]
        return _by_id(entries)

    def _wrap(self, value):
        handler = self._type_dispatch().get(id(type(value))) or self._id_dispatch().get(id(value))
        if handler is not None:
            return handler(self, value)
        # NB: order matters
        if isinstance(value, tl.Tensor):
            return self.wrap_tensor(value)
        if isinstance(value, (tl.dtype, np.dtype)):
            return self.wrap_dtype(value)
        if isinstance(value, CONSTANT_TYPES):
            # an int, str, ... subclass (an IntEnum member); None, range and slice cannot be
            # subclassed, so the table above has taken them all
            return self.wrap_literal(value)
        if isinstance(value, tl.nn.Module):
            return self.wrap_module(value)
        if isinstance(value, types.ModuleType):
            return self.wrap_python_module(value)
        if isinstance(value, tuple) and hasattr(value, "_fields"):
            return self.wrap_namedtuple(value)
        if isinstance(value, (tuple, list)):
            return self.wrap_listlike(value)
        if isinstance(value, functools.partial):
            return self.wrap_partial(value)
        return self.wrap_callable_or_object(value)

    def wrap_callable_or_object(self, value):
        """What the tests in `_wrap` leave: functions, methods, builtins, classes and other
        objects (NB: order matters here too)."""
        special = self._wrap_marked(value)
        if special is not None:
            return special
        if self.source is not None and not self.eager and \
                isinstance(value, (types.FunctionType, types.MethodType, types.BuiltinFunctionType)) and \
                not is_tl_object(value):
            return LazyVariable(value, self.source,
                                lambda: VariableBuilder(self.tx, self.source, eager=True)._wrap(value))
        if isinstance(value, types.FunctionType):
            return self.wrap_function(value)
        if isinstance(value, types.MethodType):
            return self.wrap_method(value)
        # a hash that raises (a builtin method bound to a list) or would run user code: an object
        if _hashable(value) and (isinstance(value, types.BuiltinFunctionType) or value in PURE_BUILTINS):
            return self.wrap_builtin(value)
        if type(value).__module__ == "tensorlite._primitive":
            return self.wrap_tl_function(value)
        if isinstance(value, type):
            return self.wrap_class(value)
        if isinstance(value, (set, frozenset)):
            unsupported("set inputs")
        if callable(value) and is_tl_object(value):
            return self.wrap_tl_function(value)
        return self.wrap_user_object(value)

    def _wrap_marked(self, value):
        """The tracker for a callable minidynamo marked (a region, md.disable, md.compile,
        md.allow_in_graph), or None."""
        region = _marker(value, "_md_nested_region")
        if region is not None and not isinstance(value, tl.nn.Module) and callable(region):
            from ..higher_order import RegionVariable  # cycle: higher_order imports this package
            inner = self._part(AttrSource, "__wrapped__")
            inner.eager = True
            return RegionVariable(inner._wrap(region), self.source)
        if _marker(value, "_minidynamo_disable") is True:
            return UnsupportedCallVariable(value, f"call to {getattr(value, '__qualname__', value)}, "
                                                  "which is wrapped in md.disable", self.source)
        from .. import eval_frame  # cycle: eval_frame imports the interpreter, which imports this module
        if isinstance(value, eval_frame.OptimizedFunction):
            if value._bound_self is not None:
                return None
            return UserFunctionVariable(value._orig_fn, AttrSource(self.source, "_orig_fn") if self.source else None)
        if _hashable(value) and value in eval_frame._ALLOW_IN_GRAPH:
            return self.wrap_tl_function(value)
        return None

    # ---------------------------------------------------------------- one method per kind
    def wrap_tensor(self, value):
        if self.source is None:
            return self.tx.output.constant_tensor(self.tx, value)
        return self.tx.output.graph_input_tensor(self.tx, value, self.source)

    wrap_dtype = _identity_guarded(ConstantVariable)

    def wrap_none(self, value):
        self.guard("EQUALS_MATCH", None)
        return ConstantVariable(value, self.source)

    def wrap_range_slice(self, value):
        if isinstance(value, slice) and not all(_immutable(p) for p in (value.start, value.stop, value.step)):
            unsupported("a slice with mutable bounds")
        self.guard("EQUALS_MATCH", value)  # its bounds: the trace folds them
        return ConstantVariable(value, self.source)

    def wrap_literal(self, value):
        if self.source is not None:
            sym = self.tx.output.shape_env.int_input(self.source, value)  # a dynamic int: a symbol
            if sym is not None:
                return sym
            return LazyConstantVariable(value, self.source, lambda: self.guard("EQUALS_MATCH", value))
        return ConstantVariable(value, self.source)

    def wrap_module(self, value):
        # modules are guarded by type, not identity: instances of one class share entries;
        # everything the trace reads from them is guarded through its own source
        self.guard("TYPE_MATCH", type(value))
        self.tx.output.guard_training(self.source, value)
        return NNModuleVariable(value, self.source)

    wrap_python_module = _identity_guarded(PythonModuleVariable)
    wrap_grad_mode_class = _identity_guarded(GradModeClassVariable)

    def wrap_graph_break(self, value):
        return UnsupportedCallVariable(value, "graph_break() called", self.source)

    def wrap_trace_wrapped(self, value):
        return TraceWrappedVariable(value, self.source)

    def wrap_invoke_subgraph(self, value):
        from ..higher_order import region_message  # cycle: higher_order imports this package
        return UnsupportedCallVariable(value, region_message("direct_call"), self.source)

    def wrap_module_call_impl(self, value):
        self.guard("ID_MATCH", value)
        return ModuleCallImplVariable(self.source)

    def wrap_cond(self, value):
        from ..cond import CondVariable  # cycle: cond imports this package
        self.guard("ID_MATCH", value)
        return CondVariable(value, self.source)

    def wrap_checkpoint(self, value):
        from ..checkpoint import CheckpointVariable  # cycle: checkpoint imports this package
        self.guard("ID_MATCH", value)
        return CheckpointVariable(value, self.source)

    def wrap_namedtuple(self, value):
        self.guard("TYPE_MATCH", type(value))
        return NamedTupleVariable([self._part(GetItemSource, i).wrap(v) for i, v in enumerate(value)],
                                  type(value), self.source)

    def wrap_listlike(self, value):
        self.guard("TYPE_MATCH", type(value))
        self.guard("LENGTH_CHECK", len(value))
        items = [self._part(GetItemSource, i).wrap(v) for i, v in enumerate(value)]
        if type(value) is tuple:
            return TupleVariable(items, self.source)
        if type(value) is list:
            return ListVariable(items, self.source)
        unsupported(f"subclass of {type(value).__bases__[0].__name__}: {type(value).__name__}")

    def wrap_dict(self, value):
        self.guard("TYPE_MATCH", type(value))
        if not all(isinstance(k, (str, int, bool, type(None), float)) for k in value):
            unsupported("dict with non-constant keys")
        self.guard("DICT_KEYS", list(value.keys()))
        return DictVariable({k: self._part(GetItemSource, k).wrap(v) for k, v in value.items()},
                            self.source, dict_cls=type(value))

    def wrap_partial(self, value):
        self.guard("TYPE_MATCH", type(value))
        func = self._part(AttrSource, "func").wrap(value.func)
        args_builder = self._part(AttrSource, "args")
        args = [args_builder._part(GetItemSource, i).wrap(a) for i, a in enumerate(value.args)]
        args_builder.guard("LENGTH_CHECK", len(value.args))
        kw_builder = self._part(AttrSource, "keywords")
        kw = {k: kw_builder._part(GetItemSource, k).wrap(v) for k, v in value.keywords.items()}
        kw_builder.guard("DICT_KEYS", list(value.keywords))
        return PartialVariable(func, args, kw, self.source)

    def wrap_function(self, value):
        if is_tl_object(value):
            return self.wrap_tl_function(value)
        src = self.source
        if src is not None:
            self.tx.output.add_guard("ID_MATCH", AttrSource(src, "__code__"), value.__code__)
            if value.__globals__ is not self.tx.output.root_globals:
                # one code object can run with other globals (generated code compiled once
                # per text): the globals this trace read belong to this function
                self.tx.output.add_guard("ID_MATCH", AttrSource(src, "__globals__"), value.__globals__)
        return UserFunctionVariable(value, src)

    def wrap_method(self, value):
        fn = self._part(AttrSource, "__func__").wrap(value.__func__)
        obj = self._part(AttrSource, "__self__").wrap(value.__self__)
        return UserMethodVariable(fn, obj, self.source)

    def wrap_builtin(self, value):
        if isinstance(value, types.BuiltinMethodType) and getattr(value, "__self__", None) is not None \
                and not isinstance(value.__self__, types.ModuleType):
            unsupported(f"bound builtin method {value.__qualname__}")
        self.guard("ID_MATCH", value)
        return BuiltinVariable(value, self.source)

    wrap_tl_function = _identity_guarded(TLFunctionVariable)

    def wrap_class(self, value):
        self.guard("ID_MATCH", value)
        if value in PURE_BUILTINS:
            return BuiltinVariable(value, self.source)
        return UserDefinedClassVariable(value, self.source)

    def wrap_user_object(self, value):
        self.guard("TYPE_MATCH", type(value))
        return UserDefinedObjectVariable(value, self.source)

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
                source = _path_source(module_vt.source, name) if name else module_vt.source
                return VariableBuilder(self.tx, source).wrap(value)
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


class ModuleCallImplVariable(VariableTracker):
    """tl.nn.Module._call_impl (what `mod.compile()` compiles, bound to the module): calling
    it calls the module, hooks included, as `mod(...)` does, without its compiled call."""

    def call_function(self, tx, args, kwargs):
        if not args or not isinstance(args[0], NNModuleVariable):
            unsupported("Module._call_impl called on something other than a module")
        return args[0].call_function(tx, list(args[1:]), kwargs)

    def reconstruct(self, cg):
        return self.source.expr() if self.source is not None else cg.global_obj(tl.nn.Module._call_impl)


def _marker(value, name):
    """An attribute minidynamo sets on the functions it wraps (md.disable, regions). Only
    functions carry them: other objects are not asked (their __getattr__ is user code, and
    reading a partial's __dict__ creates one, which stops partial(partial(f)) flattening)."""
    if type(value) is not types.FunctionType:
        return None
    return value.__dict__.get(name)


def _by_id(entries):
    """{id(key): handler} from (key or tuple of keys, handler) pairs."""
    out = {}
    for keys, handler in entries:
        for k in keys if isinstance(keys, tuple) else (keys,):
            assert id(k) not in out, k
            out[id(k)] = handler
    return out


def _path_source(base, path):
    s = base
    for part in path.split("."):
        s = AttrSource(s, part)
    return s


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

