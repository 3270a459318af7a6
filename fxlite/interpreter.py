"""Interpreter (run a GraphModule node by node) and Transformer (rewrite it while running).

Override one method per node op (`call_function`, `call_method`, ...) to change behaviour.

>>> import fxlite, tensorlite as tl
>>> gm = fxlite.symbolic_trace(lambda x: tl.sin(x) * 2)
>>> fxlite.Interpreter(gm).run(tl.zeros(2))
tensor([0., 0.])
"""
import inspect

from .graph import Graph
from .graph_module import GraphModule
from .node import map_aggregate, map_arg


def _fetch_attr(mod, target):
    obj = mod
    for i, part in enumerate(target.split(".")):
        if not hasattr(obj, part):
            raise RuntimeError(f"Node referenced nonexistent target {'.'.join(target.split('.')[:i + 1])}")
        obj = getattr(obj, part)
    return obj


class Interpreter:
    """Runs a GraphModule one node at a time; values are freed after their last use."""

    def __init__(self, module, garbage_collect_values=True, graph=None):
        self.module = module
        self.graph = graph if graph is not None else module.graph
        self.garbage_collect_values = garbage_collect_values
        self.env = {}
        self.user_to_last_uses = {}
        if garbage_collect_values:
            seen = set()
            for node in reversed(list(self.graph.nodes)):
                for inp in node.all_input_nodes:
                    if inp not in seen:
                        seen.add(inp)
                        self.user_to_last_uses.setdefault(node, []).append(inp)

    def run(self, *args, initial_env=None, enable_io_processing=True):
        self.env = dict(initial_env or {})
        self.args_iter = iter(args)
        for node in self.graph.nodes:
            if node in self.env:
                continue
            try:
                self.env[node] = self.run_node(node)
            except Exception as e:
                if not getattr(e, "_fx_annotated", False):
                    msg = f"While executing {node.format_node()}"
                    st = node.meta.get("stack_trace")
                    if st:
                        msg += f"\nOriginal traceback:\n{st}"
                    if hasattr(e, "add_note"):
                        e.add_note(msg)
                    e._fx_annotated = True
                raise
            if self.garbage_collect_values:
                for to_delete in self.user_to_last_uses.get(node, []):
                    del self.env[to_delete]
            if node.op == "output":
                return self.env[node]
        return None

    def boxed_run(self, args_list):
        args = list(args_list)
        args_list.clear()
        return self.run(*args)

    def run_node(self, n):
        args, kwargs = self.fetch_args_kwargs_from_env(n)
        return getattr(self, n.op)(n.target, args, kwargs)

    # --- one method per op ------------------------------------------------------
    def placeholder(self, target, args, kwargs):
        if target.startswith("*"):
            return list(self.args_iter)
        try:
            return next(self.args_iter)
        except StopIteration:
            if args:
                return args[0]
            raise RuntimeError(f"Expected positional argument for parameter {target}, but one was not passed in!") from None

    def get_attr(self, target, args, kwargs):
        return self.fetch_attr(target)

    def call_function(self, target, args, kwargs):
        return target(*args, **kwargs)

    def call_method(self, target, args, kwargs):
        self_obj, *rest = args
        return getattr(self_obj, target)(*rest, **kwargs)

    def call_module(self, target, args, kwargs):
        return self.fetch_attr(target)(*args, **kwargs)

    def output(self, target, args, kwargs):
        return args[0]

    # --- helpers ----------------------------------------------------------------
    def fetch_attr(self, target):
        return _fetch_attr(self.module, target)

    def fetch_args_kwargs_from_env(self, n):
        return self.map_nodes_to_values(n.args, n), self.map_nodes_to_values(n.kwargs, n)

    def map_nodes_to_values(self, args, n):
        def load(a):
            if a not in self.env:
                raise RuntimeError(f"Node {n} referenced nonexistent value {a}! Run Graph.lint() to diagnose such issues")
            return self.env[a]
        return map_arg(args, load)


class Transformer(Interpreter):
    """Re-traces a GraphModule into a new one; override methods to rewrite nodes.

    Each method receives Proxies and returns Proxies (or real values for get_attr).
    """

    def __init__(self, module):
        super().__init__(module, garbage_collect_values=False)
        from .tracer import Tracer
        self.new_graph = Graph()
        self.tracer = Tracer()
        self.tracer.graph = self.new_graph
        self.tracer.root = module

    def placeholder(self, target, args, kwargs):
        from .tracer import Proxy
        node = self.new_graph.placeholder(target, default_value=args[0] if args else inspect.Parameter.empty)
        return Proxy(node, self.tracer)

    def get_attr(self, target, args, kwargs):
        from .tracer import Proxy
        return Proxy(self.new_graph.get_attr(target), self.tracer)

    def call_function(self, target, args, kwargs):
        return self.tracer.create_proxy("call_function", target, args, kwargs)

    def call_method(self, target, args, kwargs):
        return self.tracer.create_proxy("call_method", target, args, kwargs)

    def call_module(self, target, args, kwargs):
        return self.tracer.create_proxy("call_module", target, args, kwargs)

    def run_node(self, n):
        result = super().run_node(n)
        from .tracer import Proxy
        if isinstance(result, Proxy) and n.op != "output":
            result.node.meta = dict(n.meta)
        return result

    def transform(self):
        result = super().run(enable_io_processing=False)
        from .tracer import Proxy
        out = map_aggregate(result, lambda a: a.node if isinstance(a, Proxy) else a)
        self.new_graph.output(out)
        return GraphModule(self.module, self.new_graph, type(self.module).__name__)
