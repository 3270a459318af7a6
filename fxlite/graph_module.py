"""GraphModule: a tl.nn.Module whose forward is generated from a Graph.

The generated source is written to a real file (registered in linecache at once, written to
disk in the background: see _source_files), so a
traceback through a graph points at a readable line of generated code.

>>> import fxlite, tensorlite as tl
>>> g = fxlite.Graph()
>>> x = g.placeholder("x")
>>> _ = g.output(g.call_function(tl.sin, (x,)))
>>> gm = fxlite.GraphModule(tl.nn.Module(), g)
>>> print(gm.code.strip())
def forward(self, x):
    sin = tl.sin(x);  x = None
    return sin
"""
import copy
from types import MethodType as _MethodType

import tensorlite as tl

from . import _source_files
from .graph import Graph


def compile_source(src, globals_):
    """The `forward` function that src defines, compiled under a real file name (so that
    tracebacks and inspect.getsource show its lines) in a copy of globals_."""
    path = _source_files.register(src)  # also (re)registers the lines in linecache
    ns = dict(globals_)
    exec(_source_files.compile_cached(src, path), ns)  # noqa: S102 - generated code
    return ns["forward"]


def _copy_attr(from_module, to_module, target):
    *prefix, field = target.split(".")
    for item in prefix:
        f = getattr(from_module, item)
        t = getattr(to_module, item, None)
        if f is t:
            return
        if t is None:
            t = tl.nn.Module()
            setattr(to_module, item, t)
        from_module, to_module = f, t
    orig = getattr(from_module, field)
    if isinstance(orig, tl.Tensor) and not isinstance(orig, tl.nn.Parameter):
        to_module.register_buffer(field, orig)
    else:
        setattr(to_module, field, orig)


def _assign_attr(obj, to_module, target):
    *prefix, field = target.split(".")
    for item in prefix:
        t = getattr(to_module, item, None)
        if t is None:
            t = tl.nn.Module()
            setattr(to_module, item, t)
        to_module = t
    if isinstance(obj, tl.Tensor) and not isinstance(obj, tl.nn.Parameter):
        to_module.register_buffer(field, obj)
    else:
        setattr(to_module, field, obj)


_GENERATED = ("_graph", "_code", "_lineno_map", "forward")  # remade from the graph, never copied
_CLASSES = {}  # (a GraphModule class, class name) -> its subclass of that name


def _named_class(cls, name):
    """The class of GraphModules named `name` made from cls (cls itself when it has that name).
    Each name's class is made once: forward lives on each instance, not on its class."""
    while "_named_class" in cls.__dict__:
        cls = cls.__bases__[0]
    if cls.__name__ == name:
        return cls
    impl = _CLASSES.get((cls, name))
    if impl is None:
        impl = type(name, (cls,), {"__qualname__": name, "__module__": cls.__module__, "_named_class": True})
        if len(_CLASSES) < 10000:
            _CLASSES[cls, name] = impl
    return impl


class GraphModule(tl.nn.Module):
    """GraphModule(root, graph, class_name="GraphModule"): root is a Module or a dict of attributes."""

    def __new__(cls, *args, **kwargs):
        name = args[2] if len(args) > 2 else kwargs.get("class_name", "GraphModule")
        return super().__new__(_named_class(cls, name))

    def __init__(self, root, graph, class_name="GraphModule"):
        super().__init__()
        if type(self).__name__ != class_name:  # __init__ called again on an existing module
            self.__class__ = _named_class(type(self), class_name)
        if isinstance(root, tl.nn.Module):
            if hasattr(root, "training"):
                self.training = root.training
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    _copy_attr(root, self, node.target)
        elif isinstance(root, dict):
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    if node.target not in root:
                        raise RuntimeError(f"Node {node} referenced target {node.target} but that target was not provided in ``root``!")
                    _assign_attr(root[node.target], self, node.target)
        else:
            raise RuntimeError("Unsupported type " + str(type(root)) + " passed for root!")
        d = self.__dict__  # plain attributes: Module.__setattr__'s checks are not needed
        d["meta"] = getattr(root, "meta", {}) if isinstance(root, tl.nn.Module) else {}
        self._set_graph(graph)

    @property
    def graph(self):
        return self._graph

    @graph.setter
    def graph(self, g):
        self._set_graph(g)

    def _set_graph(self, g):
        if not isinstance(g, Graph):
            raise TypeError(f"GraphModule expects a fxlite.Graph, got {type(g).__name__}")
        self.__dict__["_graph"] = g
        g.owning_module = self
        self.recompile()

    def recompile(self):
        """Regenerate forward from the graph (call after editing the graph)."""
        pc = self._graph.python_code(root_module="self")
        self.__dict__["_code"] = pc.src
        self.__dict__["_lineno_map"] = pc.lineno_map
        fn = compile_source(pc.src, pc.globals)
        self.__dict__["forward"] = _MethodType(fn, self)
        return pc

    @property
    def code(self):
        return self.__dict__["_code"]

    def print_readable(self, print_output=True, include_stride=False, include_device=False,
                       colored=False):
        """Readable source of the module (and its nested GraphModules) in torch.fx's layout."""
        out = self._readable(type(self).__name__)
        if print_output:
            print(out)
        return out

    def _readable(self, name):
        pc = self._graph.python_code(root_module="self", verbose=True)
        lines = [f"class {name}(tl.nn.Module):"]
        lines += [("    " + ln) if ln.strip() else "" for ln in pc.src.rstrip("\n").split("\n")]
        text = "\n".join(lines) + "\n"
        for sub_name, sub in self.named_children():
            if isinstance(sub, GraphModule):
                nested = sub._readable(sub_name)
                text += "\n" + "\n".join(("    " + ln) if ln.strip() else "" for ln in nested.rstrip("\n").split("\n")) + "\n"
        return text

    def __str__(self):
        return super().__str__() + "\n\n\n" + self.code

    def __copy__(self):
        res = GraphModule(self, self._graph, type(self).__name__)
        res.meta = copy.copy(self.meta)
        return res

    def __deepcopy__(self, memo):
        fake = tl.nn.Module()
        fake.__dict__.update(copy.deepcopy({k: v for k, v in self.__dict__.items()
                                            if k not in _GENERATED}, memo))
        res = GraphModule(fake, copy.deepcopy(self._graph, memo), type(self).__name__)
        return res

    def __reduce__(self):
        from .serialize import graph_to_state
        state = {k: v for k, v in self.__dict__.items() if k not in _GENERATED}
        return (_rebuild_graph_module, (state, graph_to_state(self._graph), type(self).__name__))


def _rebuild_graph_module(state, graph_state, class_name):
    from .serialize import graph_from_state
    root = tl.nn.Module()
    root.__dict__.update(state)
    gm = GraphModule(root, graph_from_state(graph_state), class_name)
    return gm
