"""Symbolic tracing with Proxies: run a function or module on Proxy objects and record
every operation as a node.

>>> import fxlite, tensorlite as tl
>>> def f(x, y):
...     return tl.relu(x) + y.sum()
>>> print(fxlite.symbolic_trace(f).code.strip())
def forward(self, x, y):
    relu = tl.relu(x);  x = None
    sum_1 = y.sum();  y = None
    add = relu + sum_1;  relu = sum_1 = None
    return add
"""
import builtins
import contextlib
import inspect
import operator

import tensorlite as tl

from .graph import Graph
from .graph_module import GraphModule
from .node import Node


class TraceError(RuntimeError):
    pass


class Proxy:
    """Stands for the value of a node while tracing; operations on it add nodes."""

    def __init__(self, node, tracer=None):
        self.node = node
        self.tracer = tracer if tracer is not None else GraphAppendingTracer(node.graph)

    def __repr__(self):
        return f"Proxy({self.node.name})"

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return Attribute(self, name)

    def __call__(self, *args, **kwargs):
        return self.tracer.create_proxy("call_method", "__call__", (self,) + args, kwargs)

    def __iter__(self):
        frame = inspect.currentframe().f_back
        raise TraceError(
            "Proxy object cannot be iterated. This can be attempted when the Proxy is used in a loop or "
            f"as a *args or **kwargs function argument (at {frame.f_code.co_filename}:{frame.f_lineno}). "
            "See the fxlite docs on symbolic tracing limitations.")

    def __bool__(self):
        raise TraceError("symbolically traced variables cannot be used as inputs to control flow")

    def __len__(self):
        raise RuntimeError("'len' is not supported in symbolic tracing by default. If you want this call "
                           "to be recorded, please call fxlite.wrap('len') at module scope")

    def __index__(self):
        raise TraceError("symbolically traced variables cannot be used as an index")

    def keys(self):
        return self.tracer.create_proxy("call_method", "keys", (self,), {})

    @classmethod
    def __tl_function__(cls, func, types, args=(), kwargs=None):
        tracer = None
        for a in list(args) + list((kwargs or {}).values()):
            if isinstance(a, Proxy):
                tracer = a.tracer
                break
            if isinstance(a, (list, tuple)):
                for b in a:
                    if isinstance(b, Proxy):
                        tracer = b.tracer
        return tracer.create_proxy("call_function", func, args, kwargs or {})


class Attribute(Proxy):
    """`proxy.name`: a getattr node created only when used as a value, a method call when called."""

    def __init__(self, root, attr):
        self.root = root
        self.attr = attr
        self.tracer = root.tracer
        self._node = None

    @property
    def node(self):
        if self._node is None:
            self._node = self.tracer.create_proxy("call_function", builtins.getattr, (self.root, self.attr), {}).node
        return self._node

    def __call__(self, *args, **kwargs):
        return self.tracer.create_proxy("call_method", self.attr, (self.root,) + args, kwargs)


def _magic(op):
    def impl(self, *args):
        return self.tracer.create_proxy("call_function", op, (self,) + args, {})
    return impl


def _rmagic(op):
    def impl(self, other):
        return self.tracer.create_proxy("call_function", op, (other, self), {})
    return impl


for _name, _op in [("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                   ("truediv", operator.truediv), ("floordiv", operator.floordiv),
                   ("mod", operator.mod), ("pow", operator.pow), ("matmul", operator.matmul),
                   ("and", operator.and_), ("or", operator.or_), ("xor", operator.xor),
                   ("lshift", operator.lshift), ("rshift", operator.rshift)]:
    setattr(Proxy, f"__{_name}__", _magic(_op))
    setattr(Proxy, f"__r{_name}__", _rmagic(_op))
for _name, _op in [("eq", operator.eq), ("ne", operator.ne), ("lt", operator.lt), ("le", operator.le),
                   ("gt", operator.gt), ("ge", operator.ge), ("getitem", operator.getitem),
                   ("neg", operator.neg), ("pos", operator.pos), ("invert", operator.invert),
                   ("abs", operator.abs)]:
    setattr(Proxy, f"__{_name}__", _magic(_op))
Proxy.__hash__ = object.__hash__


class Tracer:
    """Turns a function or module into a Graph. Override is_leaf_module to choose which
    submodule calls stay as call_module nodes."""

    def __init__(self, autowrap_functions=()):
        self.graph = None
        self.root = None
        self.tensor_attrs = {}
        self._const_count = 0

    # --- hooks for subclasses ---------------------------------------------------
    def is_leaf_module(self, m, module_qualified_name):
        """Modules of tensorlite.nn (except containers) are leaves: they become call_module."""
        mod = type(m).__module__
        return mod.startswith("tensorlite.nn") and not isinstance(m, (tl.nn.Sequential, tl.nn.ModuleList, tl.nn.ModuleDict))

    def path_of_module(self, mod):
        for name, m in self.root.named_modules():
            if m is mod:
                return name
        raise NameError("module is not installed as a submodule")

    def call_module(self, m, forward, args, kwargs):
        path = self.path_of_module(m)
        if not self.is_leaf_module(m, path):
            return forward(*args, **kwargs)
        return self.create_proxy("call_module", path, args, kwargs)

    # --- node creation ----------------------------------------------------------
    def create_arg(self, a):
        if isinstance(a, Proxy):
            return a.node
        if isinstance(a, Node):
            return a
        if isinstance(a, tuple):
            return tuple(self.create_arg(x) for x in a) if not hasattr(a, "_fields") else type(a)(*[self.create_arg(x) for x in a])
        if isinstance(a, list):
            return [self.create_arg(x) for x in a]
        if isinstance(a, dict):
            return {k: self.create_arg(v) for k, v in a.items()}
        if isinstance(a, slice):
            return slice(self.create_arg(a.start), self.create_arg(a.stop), self.create_arg(a.step))
        if isinstance(a, tl.nn.Parameter):
            for n, p in self.root.named_parameters():
                if p is a:
                    return self.graph.get_attr(n)
            raise NameError("parameter is not a member of this module")
        if isinstance(a, tl.Tensor):
            path = self.tensor_attrs.get(id(a))
            if path is None:
                for n, b in self.root.named_buffers():
                    if b is a:
                        path = n
                        break
            if path is None:
                path = f"_tensor_constant{self._const_count}"
                self._const_count += 1
                setattr(self.root, path, a)
                self.tensor_attrs[id(a)] = path
            return self.graph.get_attr(path)
        if isinstance(a, tl.nn.Module):
            raise TraceError(f"cannot pass a Module ({type(a).__name__}) as an argument while tracing")
        return a

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        return self.graph.create_node(kind, target, args, kwargs, name, type_expr)

    def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None):
        node = self.create_node(kind, target, self.create_arg(tuple(args)), self.create_arg(dict(kwargs)),
                                name, type_expr)
        return Proxy(node, self)

    # --- tracing ----------------------------------------------------------------
    def trace(self, root, concrete_args=None):
        """Trace root (a function or a tl.nn.Module) and return the Graph."""
        if isinstance(root, tl.nn.Module):
            self.root = root
            fn = type(root).forward
            args_prefix = [root]
        elif callable(root):
            self.root = tl.nn.Module()
            fn = root
            args_prefix = []
        else:
            raise TypeError(f"symbolic_trace expects a function or a tl.nn.Module, got {type(root).__name__}")
        self.graph = Graph()
        concrete_args = concrete_args or {}
        sig = inspect.signature(fn)
        params = list(sig.parameters.values())[len(args_prefix):]
        args = list(args_prefix)
        kwargs = {}
        for p in params:
            # keyword-only parameters become placeholders too, passed by keyword
            dest = (lambda v, name=p.name: kwargs.__setitem__(name, v)) if p.kind is p.KEYWORD_ONLY else args.append
            if p.name in concrete_args:
                dest(concrete_args[p.name])
                continue
            if p.kind is p.VAR_POSITIONAL:
                raise TraceError(f"symbolic_trace does not support *{p.name} parameters; pass concrete_args")
            if p.kind is p.VAR_KEYWORD:
                continue
            node = self.graph.placeholder(p.name, default_value=p.default)
            dest(Proxy(node, self))
        with self._patch_modules():
            result = fn(*args, **kwargs)
        self.graph.output(self.create_arg(result))
        return self.graph

    @contextlib.contextmanager
    def _patch_modules(self):
        Module = tl.nn.Module
        orig_call = Module.__call__
        orig_getattr = Module.__getattr__
        tracer = self
        param_proxies = {}

        def call(mod, *args, **kwargs):
            return tracer.call_module(mod, lambda *a, **k: orig_call(mod, *a, **k), args, kwargs)

        def getattr_(mod, name):
            val = orig_getattr(mod, name)
            if isinstance(val, tl.Tensor):
                for n, p in list(tracer.root.named_parameters()) + list(tracer.root.named_buffers()):
                    if p is val:
                        if n not in param_proxies:
                            param_proxies[n] = Proxy(tracer.graph.get_attr(n), tracer)
                        return param_proxies[n]
            return val

        Module.__call__ = call
        Module.__getattr__ = getattr_
        try:
            yield
        finally:
            Module.__call__ = orig_call
            Module.__getattr__ = orig_getattr


class GraphAppendingTracer(Tracer):
    def __init__(self, graph):
        super().__init__()
        self.graph = graph
        self.root = tl.nn.Module()


def symbolic_trace(root, concrete_args=None):
    """Trace a function or module into a GraphModule named after it."""
    tracer = Tracer()
    graph = tracer.trace(root, concrete_args)
    name = type(root).__name__ if isinstance(root, tl.nn.Module) else getattr(root, "__name__", "GraphModule")
    if name == "<lambda>":
        name = "lambda_"
    return GraphModule(tracer.root, graph, name)
