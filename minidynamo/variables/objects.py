"""Python modules, tl.nn.Modules, user-defined objects and classes, grad-mode contexts."""
import inspect
import types

import tensorlite as tl

from ..source import AttrSource
from .base import ConstantVariable, UserError, VariableTracker, unsupported


class PythonModuleVariable(VariableTracker):
    def __init__(self, module, source=None):
        super().__init__(source)
        self.module = module

    def python_type(self):
        return types.ModuleType

    def var_getattr(self, tx, name):
        from .builder import VariableBuilder
        try:
            value = getattr(self.module, name)
        except AttributeError as e:
            raise UserError(e)
        return VariableBuilder(tx, AttrSource(self.source, name) if self.source else None).wrap(value)

    def __repr__(self):
        return f"PythonModuleVariable({self.module.__name__})"


def _class_attr(obj, name):
    for klass in type(obj).__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


class UserDefinedObjectVariable(VariableTracker):
    """An object of a user class; attribute reads are guarded, writes are side effects."""

    def __init__(self, value, source=None):
        super().__init__(source)
        self.value = value

    def python_type(self):
        return type(self.value)

    def __repr__(self):
        return f"{type(self).__name__}({type(self.value).__name__})"

    def var_getattr(self, tx, name):
        from .builder import VariableBuilder
        from .functions import UserFunctionVariable, UserMethodVariable

        pending = tx.output.side_effects.load_attr(self, name)
        if pending is not None:
            return pending
        obj = self.value
        if type(obj).__getattribute__ is not object.__getattribute__ and not isinstance(obj, tl.nn.Module):
            unsupported(f"{type(obj).__name__}.__getattribute__")
        d = getattr(obj, "__dict__", {})
        attr = _class_attr(obj, name)
        if name in d and not _is_data_descriptor(attr):  # a class's data descriptor comes first
            return VariableBuilder(tx, AttrSource(self.source, name) if self.source else None).wrap(d[name])
        if attr is None:
            if getattr(type(obj), "__getattr__", None) is not None and not isinstance(obj, tl.nn.Module):
                unsupported(f"{type(obj).__name__}.__getattr__")
            raise UserError(AttributeError(f"'{type(obj).__name__}' object has no attribute '{name}'"))
        if isinstance(attr, property):
            if attr.fget is None:
                raise UserError(AttributeError(f"property {name!r} of {type(obj).__name__!r} object has no getter"))
            if isinstance(attr.fget, types.FunctionType):
                return UserFunctionVariable(attr.fget).call_function(tx, [self], {})
            # another callable as the getter (an lru_cache wrapper, a partial): as it wraps
            return VariableBuilder(tx, None).wrap(attr.fget).call_function(tx, [self], {})
        if isinstance(attr, staticmethod):
            return VariableBuilder(tx, AttrSource(self.source, name) if self.source else None).wrap(attr.__func__)
        if isinstance(attr, classmethod):
            return UserMethodVariable(UserFunctionVariable(attr.__func__),
                                      VariableBuilder(tx, None).wrap(type(obj)))
        if isinstance(attr, types.FunctionType):
            src = AttrSource(AttrSource(self.source, "__class__"), name) if self.source else None
            return UserMethodVariable(VariableBuilder(tx, src).wrap(attr), self)
        if hasattr(attr, "__get__") and not isinstance(attr, (int, float, str, tuple, bool)):
            unsupported(f"descriptor {type(attr).__name__} for attribute {name!r}")
        return VariableBuilder(tx, AttrSource(self.source, name) if self.source else None).wrap(getattr(obj, name))

    def call_function(self, tx, args, kwargs):
        call = _class_attr(self.value, "__call__")
        if isinstance(call, types.FunctionType):
            return self.var_getattr(tx, "__call__").call_function(tx, args, kwargs)
        unsupported(f"calling an object of type {type(self.value).__name__}")

    def truthy(self, tx):
        t = type(self.value)
        if getattr(t, "__bool__", None) is None and getattr(t, "__len__", None) is None:
            return True
        unsupported(f"truth value of a {t.__name__} (user-defined __bool__/__len__)")

    def store_attr(self, tx, name, value):
        if not _plain_store(tx, self, name, value):
            tx.output.side_effects.store_attr(tx, self, name, value)


class NNModuleVariable(UserDefinedObjectVariable):
    """A tl.nn.Module: parameters and buffers become graph inputs, forward is inlined."""

    def var_getattr(self, tx, name):
        from .builder import VariableBuilder

        pending = tx.output.side_effects.load_attr(self, name)
        if pending is not None:
            return pending
        m = self.value
        d = m.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if name in d.get(store, {}):
                v = d[store][name]
                return VariableBuilder(tx, AttrSource(self.source, name) if self.source else None).wrap(v)
        if name in _MODULE_ITER_METHODS and name not in d:
            from .base import BoundMethodVariable
            return BoundMethodVariable(self, name)
        return super().var_getattr(tx, name)

    def call_function(self, tx, args, kwargs):
        """Module.__call__ inlined: forward pre-hooks, forward, forward hooks (global first)."""
        from tensorlite.nn.modules import module as M
        from .dicts import DictVariable
        from .lists import TupleVariable

        m = self.value
        tx.output.guard_module_hooks(self)
        backward_hooks = bool(m._backward_hooks or m._backward_pre_hooks or M._global_backward_hooks
                              or M._global_backward_pre_hooks) and tx.grad_enabled()
        if backward_hooks and self.source is None:
            unsupported(f"calling module {type(m).__name__} with full backward hooks (it runs eagerly)")
        args = list(args)
        kwargs = dict(kwargs)
        for hook, with_kwargs in self._hooks(tx, "_global_forward_pre_hooks", "_forward_pre_hooks",
                                             "_forward_pre_hooks_with_kwargs", None):
            if with_kwargs:
                res = hook.call_function(tx, [self, TupleVariable(args), DictVariable(kwargs)], {})
                if not (res.is_python_constant() and res.as_python_constant() is None):
                    new_args, new_kwargs = res.unpack(tx)
                    args, kwargs = new_args.unpack(tx), dict(new_kwargs.items)
            else:
                res = hook.call_function(tx, [self, TupleVariable(args)], {})
                if not (res.is_python_constant() and res.as_python_constant() is None):
                    args = res.unpack(tx) if isinstance(res, TupleVariable) else [res]
        bw_state = None
        if backward_hooks:  # as Module.__call__: identity nodes around the call carry the hooks
            bw_state, args = tx.output.hooks.module_backward_begin(tx, self, args)
        forward = self.var_getattr(tx, "forward")
        if getattr(m, "_md_nested_region", False) is True:
            from ..higher_order import RegionVariable
            forward = RegionVariable(forward)
        out = forward.call_function(tx, args, kwargs)
        for hook, with_kwargs in self._hooks(tx, "_global_forward_hooks", "_forward_hooks",
                                             "_forward_hooks_with_kwargs", "_global_forward_hooks_with_kwargs"):
            if with_kwargs:
                res = hook.call_function(tx, [self, TupleVariable(args), DictVariable(kwargs), out], {})
            else:
                res = hook.call_function(tx, [self, TupleVariable(args), out], {})
            if not (res.is_python_constant() and res.as_python_constant() is None):
                out = res
        if bw_state is not None:
            out = tx.output.hooks.module_backward_end(tx, bw_state, out)
        return out

    def _hooks(self, tx, global_name, own_name, own_kw_name, global_kw_name):
        """(hook tracker, with_kwargs) for the global then the module's hooks, with guards."""
        from tensorlite.nn.modules import module as M
        from ..source import ConstSource, DictValueSource, ExprSource
        from .builder import VariableBuilder

        out = []
        gsrc = ConstSource("___nn_module_globals")
        for owner, owner_src, name in ((M, gsrc, global_name), (self.value, self.source, own_name)):
            d = getattr(owner, name)
            dsrc = AttrSource(owner_src, name) if owner_src is not None else None
            if dsrc is not None:
                tx.output.add_guard("LENGTH_CHECK", dsrc, len(d))
            for i, (hid, hook) in enumerate(d.items()):
                kw_dicts = [getattr(self.value, own_kw_name)]
                kw_srcs = [AttrSource(self.source, own_kw_name) if self.source else None]
                if global_kw_name is not None:
                    kw_dicts.append(getattr(M, global_kw_name))
                    kw_srcs.append(AttrSource(gsrc, global_kw_name))
                with_kwargs = any(hid in kd for kd in kw_dicts)
                if dsrc is not None:
                    test = " or ".join(f"list({dsrc.expr()}.keys())[{i}] in {ks.expr()}" for ks in kw_srcs if ks)
                    name_t = " or ".join(f"list({dsrc.name()}.keys())[{i}] in {ks.name()}" for ks in kw_srcs if ks)
                    tx.output.add_guard("EQUALS_MATCH", ExprSource(f"({test})", name_t), with_kwargs)
                hook_vt = VariableBuilder(tx, DictValueSource(dsrc, i) if dsrc is not None else None).wrap(hook)
                out.append((hook_vt, with_kwargs))
        return out

    def call_method(self, tx, name, args, kwargs):
        if name in _MODULE_ITER_METHODS:
            from .builder import VariableBuilder
            from .lists import ListVariable
            items = list(getattr(self.value, name)(*[a.as_python_constant() for a in args]))
            return ListVariable([VariableBuilder(tx, None).wrap_module_member(self, it) for it in items])
        return super().call_method(tx, name, args, kwargs)

    def truthy(self, tx):
        return True


_MODULE_ITER_METHODS = ("parameters", "named_parameters", "buffers", "children", "modules", "named_children",
                        "named_modules", "named_buffers")


class UserDefinedClassVariable(VariableTracker):
    def __init__(self, value, source=None):
        super().__init__(source)
        self.value = value

    def python_type(self):
        return type(self.value)

    def as_python_constant(self):
        return self.value

    def is_python_constant(self):
        return True

    def var_getattr(self, tx, name):
        from .builder import VariableBuilder
        try:
            attr = inspect.getattr_static(self.value, name)
        except AttributeError as e:
            raise UserError(e)
        if isinstance(attr, (staticmethod, classmethod)):
            attr = getattr(self.value, name)
        return VariableBuilder(tx, AttrSource(self.source, name) if self.source else None).wrap(attr)

    def call_function(self, tx, args, kwargs):
        import functools
        cls = self.value
        if cls is functools.partial:
            from .functions import PartialVariable
            if not args:
                raise UserError(TypeError("type 'partial' takes at least one argument"))
            return PartialVariable(args[0], args[1:], kwargs)
        if issubclass(cls, tuple) and hasattr(cls, "_fields"):
            return _build_namedtuple(tx, cls, args, kwargs)
        if _plain_user_class(cls):
            obj = NewUserObjectVariable(object.__new__(cls))
            init = _class_attr_of(cls, "__init__")
            if init is not object.__init__:
                r = self.var_getattr(tx, "__init__").call_function(tx, [obj] + list(args), kwargs)
                if not (r.is_python_constant() and r.as_python_constant() is None):
                    raise UserError(TypeError(f"__init__() should return None, not '{type(r).__name__}'"))
            elif args or kwargs:
                raise UserError(TypeError(f"{cls.__name__}() takes no arguments"))
            return obj
        unsupported(f"creating an instance of user class {cls.__name__} inside a compiled region")

    def reconstruct(self, cg):
        return cg.global_obj(self.value)

    def __repr__(self):
        return f"UserDefinedClassVariable({self.value.__name__})"


def _plain_store(tx, obj_vt, name, value):
    """`obj.name = value` as Python runs it, when that is not an instance-dict store: a
    property's setter is inlined (True: done); a class's own __setattr__ (a frozen dataclass)
    or another data descriptor breaks the graph. False: store in the instance dict."""
    obj = obj_vt.value
    if isinstance(obj, tl.nn.Module):
        return False
    if type(obj).__setattr__ is not object.__setattr__:
        unsupported(f"{type(obj).__name__}.__setattr__")
    attr = _class_attr(obj, name)
    if isinstance(attr, property) and isinstance(attr.fset, types.FunctionType):
        from .functions import UserFunctionVariable
        UserFunctionVariable(attr.fset).call_function(tx, [obj_vt, value], {})
        return True
    if _is_data_descriptor(attr):
        unsupported(f"setting {name!r} through a {type(attr).__name__} of {type(obj).__name__}")
    return False


def _is_data_descriptor(attr):
    t = type(attr)
    return attr is not None and (hasattr(t, "__set__") or hasattr(t, "__delete__"))


def _class_attr_of(cls, name):
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


def _plain_user_class(cls):
    """A class whose instances are plain objects with a __dict__: object.__new__, no slots,
    no custom attribute protocol, a Python __init__ (or none)."""
    if type(cls) is not type or cls.__new__ is not object.__new__ or issubclass(cls, tl.nn.Module):
        return False
    for klass in cls.__mro__[:-1]:
        if klass.__module__ == "builtins" or "__slots__" in klass.__dict__:
            return False
    for name in ("__setattr__", "__getattribute__", "__getattr__", "__delattr__"):
        if _class_attr_of(cls, name) is not getattr(object, name, None):
            return False
    init = _class_attr_of(cls, "__init__")
    return init is object.__init__ or isinstance(init, types.FunctionType)


def _build_namedtuple(tx, cls, args, kwargs):
    from .lists import NamedTupleVariable
    fields = cls._fields
    if len(args) > len(fields):
        raise UserError(TypeError(f"{cls.__name__}.__new__() takes {len(fields) + 1} positional arguments "
                                  f"but {len(args) + 1} were given"))
    vals = dict(zip(fields, args))
    for k, v in kwargs.items():
        if k not in fields:
            raise UserError(TypeError(f"{cls.__name__}.__new__() got an unexpected keyword argument '{k}'"))
        if k in vals:
            raise UserError(TypeError(f"{cls.__name__}.__new__() got multiple values for argument '{k}'"))
        vals[k] = v
    defaults = getattr(cls, "_field_defaults", {})
    items = []
    for f in fields:
        if f in vals:
            items.append(vals[f])
        elif f in defaults:
            items.append(ConstantVariable(defaults[f]) if isinstance(defaults[f], (int, float, str, bool, type(None)))
                         else unsupported("namedtuple default that is not a constant"))
        else:
            raise UserError(TypeError(f"{cls.__name__}.__new__() missing required argument: '{f}'"))
    return NamedTupleVariable(items, cls)


class NewUserObjectVariable(UserDefinedObjectVariable):
    """An object of a plain user class created inside the compiled region. Its attributes
    live here while tracing; if it escapes, the transformed code rebuilds it
    (object.__new__ + attribute stores)."""

    def __init__(self, value):
        super().__init__(value, None)
        self.attrs = {}

    def var_getattr(self, tx, name):
        if name in self.attrs:
            return self.attrs[name]
        if name == "__dict__":
            unsupported("__dict__ of an object created inside the compiled region")
        return super().var_getattr(tx, name)

    def store_attr(self, tx, name, value):
        if not _plain_store(tx, self, name, value):
            self.attrs[name] = value

    def reconstruct(self, cg):
        name = f"___tmp_{len(cg._temps)}"
        cg._temps[id(self)] = (name, self)
        cls = cg.global_obj(type(self.value))
        cg.prelude.append(f"{name} = {cg.global_obj(object.__new__)}({cls})")
        for k, v in self.attrs.items():
            cg.prelude.append(f"{name}.{k} = {cg(v)}" if k.isidentifier()
                              else f"setattr({name}, {k!r}, {cg(v)})")
        return name


class GradModeVariable(VariableTracker):
    """tl.no_grad() / enable_grad() / set_grad_enabled(b) as a context manager inside the graph."""

    def __init__(self, target_mode, initial_mode, kind):
        super().__init__(None)
        self.target = target_mode
        self.initial = initial_mode
        self.kind = kind

    def enter(self, tx):
        self.initial = tx.grad_enabled()
        tx.set_grad_mode(self.target)
        return ConstantVariable(None)

    def exit(self, tx):
        tx.set_grad_mode(self.initial)
        return ConstantVariable(None)

    def var_getattr(self, tx, name):
        if name == "__exit__":
            return GradModeExit(self)
        if name == "__enter__":
            return GradModeEnter(self)
        unsupported(f"{self.kind}.{name}")

    def __repr__(self):
        return f"GradModeVariable({self.kind}, {self.target})"


class GradModeExit(VariableTracker):
    def __init__(self, ctx):
        super().__init__(None)
        self.ctx = ctx

    def call_function(self, tx, args, kwargs):
        return self.ctx.exit(tx)


class GradModeEnter(VariableTracker):
    def __init__(self, ctx):
        super().__init__(None)
        self.ctx = ctx

    def call_function(self, tx, args, kwargs):
        return self.ctx.enter(tx)


class GradModeClassVariable(VariableTracker):
    """tl.no_grad / tl.enable_grad / tl.set_grad_enabled / tl.inference_mode before being called."""

    def __init__(self, cls, source=None):
        super().__init__(source)
        self.cls = cls

    def is_python_constant(self):
        return True

    def as_python_constant(self):
        return self.cls

    def python_type(self):
        return type

    def call_function(self, tx, args, kwargs):
        cls = self.cls
        if cls is tl.no_grad:
            if args:
                unsupported("tl.no_grad used as a decorator inside a compiled region")
            return GradModeVariable(False, tx.grad_enabled(), "no_grad")
        if cls is tl.enable_grad:
            return GradModeVariable(True, tx.grad_enabled(), "enable_grad")
        if cls is tl.set_grad_enabled:
            mode = (args[0] if args else kwargs["mode"]).as_python_constant()
            v = GradModeVariable(bool(mode), tx.grad_enabled(), "set_grad_enabled")
            # set_grad_enabled takes effect at once, even without `with`
            v.initial = tx.grad_enabled()
            tx.set_grad_mode(bool(mode))
            v.entered_eagerly = True
            return _SetGradEnabledVariable(v)
        if cls is tl.inference_mode:
            mode = (args[0] if args else kwargs.get("mode", ConstantVariable(True))).as_python_constant()
            if callable(mode) and not isinstance(mode, bool):
                unsupported("tl.inference_mode used as a decorator inside a compiled region")
            return InferenceModeVariable(bool(mode))
        unsupported(f"{cls.__name__} inside a compiled region")


class InferenceModeVariable(VariableTracker):
    """tl.inference_mode(mode) as a context manager inside the graph: nodes enter and leave
    it (grad mode follows, off inside), so the graph runs as it is (see OutputGraph)."""

    def __init__(self, mode):
        super().__init__(None)
        self.mode = mode

    def enter(self, tx):
        tx.output.enter_inference_mode(tx, self.mode)
        return ConstantVariable(None)

    def exit(self, tx):
        tx.output.exit_inference_mode(tx)
        return ConstantVariable(None)

    def var_getattr(self, tx, name):
        if name == "__exit__":
            return InferenceModeExit(self)
        unsupported(f"inference_mode.{name}")

    def __repr__(self):
        return f"InferenceModeVariable({self.mode})"


class InferenceModeExit(VariableTracker):
    """The block's __exit__, on the stack until the block ends. Not a GradModeExit: a graph
    break inside the block cannot split the frame (the resumed code would run outside it)."""

    def __init__(self, ctx):
        super().__init__(None)
        self.ctx = ctx

    def call_function(self, tx, args, kwargs):
        return self.ctx.exit(tx)


class _SetGradEnabledVariable(GradModeVariable):
    """set_grad_enabled(b): already applied; `with` re-applies it and restores on exit."""

    def __init__(self, inner):
        super().__init__(inner.target, inner.initial, "set_grad_enabled")

    def enter(self, tx):
        tx.set_grad_mode(self.target)
        return ConstantVariable(None)
