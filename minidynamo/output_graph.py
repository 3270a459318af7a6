"""OutputGraph: the graph being built for one frame, its inputs, guards and side effects."""
import dataclasses
import operator
import time

from backends.higher_order import invoke_subgraph
import fxlite
from fxlite.marks import mark_impure, mark_run_graph_as_is
from fxlite.symbolic import set_sym_shape, sym_shape
import tensorlite as tl
from tensorlite import _state as tl_state
from tensorlite._modes import DataDependentError, FakeTensorMode

from .exc import InternalError, Unsupported
from .guards import Guard, TensorMeta
from .higher_order import region_message
from .hooks import HookTracker
from .shape_rules import propagate
from .side_effects import SideEffects
from .symbolic_shapes import ShapeEnv
from .utils import counters
from .variables.base import ConstantVariable, UserError, unsupported
from .variables.dicts import DictVariable
from .variables.lists import ListVariable, NamedTupleVariable, SliceVariable, TupleVariable
from .variables.sym import SymNodeVariable
from .variables.tensor import TensorVariable


def set_grad_enabled_node(mode):
    """Graph node target that switches grad mode (as torch._C._set_grad_enabled)."""
    tl_state.grad_enabled = bool(mode)


set_grad_enabled_node.__module__ = "minidynamo.output_graph"
set_grad_enabled_node.__name__ = "_set_grad_enabled"
set_grad_enabled_node.__qualname__ = "_set_grad_enabled"
# one autograd node for the whole graph cannot switch grad mode halfway through
mark_run_graph_as_is(set_grad_enabled_node)


def enter_inference_mode_node(mode):
    """Graph node target: enter tl.inference_mode(mode); returns it for the exit node (as
    torch.autograd.grad_mode._enter_inference_mode)."""
    ctx = tl.inference_mode(mode)
    ctx.__enter__()
    return ctx


def exit_inference_mode_node(ctx):
    """Graph node target: leave the inference mode the enter node entered."""
    ctx.__exit__(None, None, None)


for _fn, _name in ((enter_inference_mode_node, "_enter_inference_mode"),
                   (exit_inference_mode_node, "_exit_inference_mode")):
    _fn.__module__ = "minidynamo.output_graph"
    _fn.__name__ = _fn.__qualname__ = _name
    # as a grad-mode switch: one autograd node cannot switch modes halfway; and an exit node's
    # value is unused, yet it must run
    mark_run_graph_as_is(mark_impure(_fn))


def _made_in_inference_mode(result, args):
    """Mark an op's fake results as eager marks tensors made in tl.inference_mode(): inference
    tensors, except that a view has its source's flag (fake tensors do not apply the rule)."""
    for t in result if isinstance(result, (tuple, list)) else (result,):
        if isinstance(t, tl.Tensor):
            view = t._base is not None and args and isinstance(args[0], tl.Tensor)
            t._inference = args[0]._inference if view else True


class GraphArg:
    """One input of the graph: where the code reads it, its value at capture, its placeholder."""

    __slots__ = ("source", "value", "node")

    def __init__(self, source, value, node):
        self.source = source
        self.value = value
        self.node = node


@dataclasses.dataclass
class _Region:
    """An enclosing graph while a nested compile region's graph is being built, and what the
    region's trace did to tensors (its call is wired into the enclosing graph from these)."""

    graph: fxlite.Graph  # the enclosing graph
    anchor: object  # its last placeholder (new_placeholder's insertion point)
    lifted: dict = dataclasses.field(default_factory=dict)  # enclosing node -> the region's placeholder
    freevars: list = dataclasses.field(default_factory=list)  # enclosing nodes lifted on use, in order
    # TensorVariables made inside, in order: any of them may be reachable after the region (a
    # list it appended to, an object it returned), so each is a candidate output
    made: list = dataclasses.field(default_factory=list)
    # id(vt) -> (vt, its node before): trackers from outside that the region changed in place;
    # they read that node again after the region (it reads the same tensor, changed by the call)
    changed: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class _SubgraphCall:
    """One `invoke_subgraph` call in the graph: its node and one getitem per subgraph output."""

    node: object
    items: list


@dataclasses.dataclass
class _Subgraph:
    """A region's graph, installed as attribute `name` of the graph, and the calls of it."""

    name: str
    gm: fxlite.GraphModule
    n_user: int  # its first outputs are what the region returns; the rest are intermediates
    calls: list = dataclasses.field(default_factory=list)  # [_SubgraphCall]

    def prune_outputs(self, graph_outputs):
        """Drop the getitems no one reads (graph_outputs: the nodes the graph will return), and
        the intermediate outputs (made outputs in case they escaped) that no call reads."""
        def read(item):
            return bool(item.users) or item in graph_outputs

        out = next(n for n in self.gm.graph.nodes if n.op == "output")
        values = out.args[0]
        keep = [i for i in range(len(values)) if i < self.n_user or any(read(c.items[i]) for c in self.calls)]
        if len(keep) < len(values):
            out.args = (tuple(values[i] for i in keep),)
            self.gm.recompile()
        for call in self.calls:
            for j, i in enumerate(keep):
                if read(call.items[i]) and i != j:
                    call.items[i].update_arg(1, j)
            for item in call.items:
                if not read(item):
                    item.graph.erase_node(item)
            call.items = [call.items[i] for i in keep]
            call.node.meta["val"] = tuple(call.node.meta["val"][i] for i in keep)


def _subgraph_key(graph, n_user):
    """What makes two region graphs interchangeable: their code with the inputs renamed
    positionally, the inputs' metadata, the objects bound to constants without a literal
    (`x * _const_5`: the same text with other objects is another graph) and n_user."""
    phs = [n for n in graph.nodes if n.op == "placeholder"]
    saved = [(n.name, n.target) for n in phs]
    for i, n in enumerate(phs):
        n.name = n.target = f"_input_{i}"
    try:
        code = graph.python_code("self")
    finally:
        for n, (name, target) in zip(phs, saved):
            n.name, n.target = name, target
    bound = tuple((k, id(v)) for k, v in code.globals.items() if k.startswith("_const_"))
    metas = tuple(_input_meta(n.meta.get("val")) for n in phs)
    return code.src, metas, bound, n_user


def _input_meta(t):
    return (tuple(t.shape), t.dtype.name, t.requires_grad) if isinstance(t, tl.Tensor) else type(t)


class OutputGraph:
    def __init__(self, code, dynamic_dims=None, fullgraph=False):
        self.graph = fxlite.Graph()
        self.graphargs = []
        self.guards = {}
        self.side_effects = SideEffects()
        self.value_cache = {}
        self.lazy_exprs = []  # LazyExprVariables made while tracing (settled when never rebuilt)
        self.real_values = {}
        self.constants = {}
        self.root_globals = None
        self.globals_list = [None]  # ___Gs: globals of other modules whose code was inlined
        self.code = code
        self.dynamic_dims = dynamic_dims or {}
        self.fullgraph = fullgraph
        self.instructions = 0
        self.fake_mode = FakeTensorMode()
        self.shape_env = ShapeEnv(self, dynamic_dims)  # symbols of dynamic sizes, and their guards
        self.initial_grad_mode = tl_state.grad_enabled
        self.current_grad_mode = tl_state.grad_enabled
        self._inference_modes = []  # (enter node, entered tl.inference_mode, grad mode before), innermost last
        self.add_guard("GRAD_MODE", None, self.initial_grad_mode)
        self.start_time = time.perf_counter()
        self.hooks = HookTracker(self)
        self.current_tx = None  # the innermost running translator (set by the translators)
        self._ph_anchor = None  # the last placeholder: new ones go after it
        self._regions = []  # [_Region]: enclosing graphs of nested compile regions, outermost first
        self._subgraphs = {}  # _subgraph_key(graph, n_user) -> _Subgraph: equal regions share one

    # ---- bookkeeping ----------------------------------------------------------------
    def add_guard(self, kind, source, expected=None):
        """Record a guard (once per kind, source and expected value); returns it."""
        g = Guard(kind, source, expected)
        key = g.key()
        if key not in self.guards:
            self.guards[key] = g
        return g

    def guard_training(self, source, module):
        if source is not None:
            from .source import AttrSource
            self.add_guard("EQUALS_MATCH", AttrSource(source, "training"), module.training)

    def guard_module_hooks(self, module_vt):
        from .source import AttrSource
        if module_vt.source is None:
            return
        for name in ("_backward_hooks", "_backward_pre_hooks"):
            self.add_guard("LENGTH_CHECK", AttrSource(module_vt.source, name), len(getattr(module_vt.value, name)))
        self.guard_global_hooks()

    def guard_global_hooks(self):
        from .source import AttrSource, ConstSource
        from tensorlite.nn.modules import module as M
        src = ConstSource("___nn_module_globals")
        for name in ("_global_backward_hooks", "_global_backward_pre_hooks"):
            self.add_guard("LENGTH_CHECK", AttrSource(src, name), len(getattr(M, name)))

    # ---- grad mode ------------------------------------------------------------------
    def grad_enabled(self):
        return self.current_grad_mode

    def set_grad_mode(self, tx, mode):
        mode = bool(mode)
        if mode == self.current_grad_mode:
            return
        node = self.graph.call_function(set_grad_enabled_node, (mode,))
        node.meta["stack_trace"] = tx.stack_trace()
        self.current_grad_mode = mode
        tl_state.grad_enabled = mode

    def enter_inference_mode(self, tx, mode):
        """`with tl.inference_mode(mode):` a node enters it in the graph, and the trace enters it
        too (views made inside remember it, as eagerly); grad mode is `not mode` inside."""
        if self._regions:  # AOT traces a region's graph through the switch: its results would
            unsupported("tl.inference_mode inside a nested compile region")  # not be inference tensors
        node = self.graph.call_function(enter_inference_mode_node, (mode,))
        node.meta["stack_trace"] = tx.stack_trace()
        ctx = tl.inference_mode(mode)
        ctx.__enter__()
        self._inference_modes.append((node, ctx, self.current_grad_mode))
        self.current_grad_mode = not mode

    def exit_inference_mode(self, tx):
        node, ctx, grad_mode = self._inference_modes.pop()
        end = self.graph.call_function(exit_inference_mode_node, (node,))
        end.meta["stack_trace"] = tx.stack_trace()
        ctx.__exit__(None, None, None)
        self.current_grad_mode = grad_mode

    # ---- graph inputs ---------------------------------------------------------------
    def graph_input_tensor(self, tx, value, source):
        # the dynamic dims get symbols (and placeholders, before the tensor's own); a region's
        # graph takes no symbols yet, so inputs met inside one are static
        dyn = {} if self._regions else self.shape_env.tensor_dims(source, value)
        shape = tuple(None if i in dyn else s for i, s in enumerate(value.shape)) if dyn else tuple(value.shape)
        self.add_guard("TENSOR_MATCH", source, TensorMeta(value._data.dtype, shape, value.requires_grad, type(value)))
        target = source.graph_name()
        if self._regions:  # inputs belong to the outermost graph
            outer = self._regions[0]
            saved = (self.graph, self._ph_anchor)
            self.graph, self._ph_anchor = outer.graph, outer.anchor
            try:
                node = self.new_placeholder(target)
            finally:
                outer.anchor = self._ph_anchor
                self.graph, self._ph_anchor = saved
        else:
            node = self.new_placeholder(target)
        fake = self.fake_mode.from_real(value)
        if dyn:
            set_sym_shape(fake, [dyn.get(i, s) for i, s in enumerate(value.shape)])
        node.meta["val"] = fake
        node.meta["source"] = source.name()
        node.meta["example_value"] = fake
        self.graphargs.append(GraphArg(source, value, node))
        self.real_values[node] = value
        vt = TensorVariable(node, fake, source, type(value))
        vt.dynamic_dims = frozenset(dyn)
        return vt

    def graph_input_object(self, source, value):
        """A non-tensor graph input (a module whose hooks the graph reads at run time)."""
        for ga in self.graphargs:
            if ga.source == source and ga.value is value:
                return ga.node
        node = self.new_placeholder(source.graph_name())
        self.graphargs.append(GraphArg(source, value, node))
        return node

    def new_placeholder(self, target):
        """Placeholders stay together at the top of the graph, in creation order."""
        graph = self.graph
        anchor = self._ph_anchor
        first = next(iter(graph.nodes), None) if anchor is None else None
        node = graph.create_node("placeholder", target, name=target.lower())  # at the end, then moved
        if anchor is not None:
            anchor.append(node)
        elif first is not None:
            first.prepend(node)
        self._ph_anchor = node
        return node

    def ordered_graphargs(self):
        by_node = {ga.node: ga for ga in self.graphargs}
        return [by_node[n] for n in self.graph.nodes if n.op == "placeholder" and n in by_node]

    def globals_index(self, f_globals):
        """0 for the compiled function's globals; else the slot of another module's globals."""
        if f_globals is self.root_globals:
            return 0
        lst = self.globals_list
        for i, g in enumerate(lst):
            if g is f_globals:
                return i
        lst.append(f_globals)
        return len(lst) - 1

    # ---- nested compile regions (subgraphs) -------------------------------------------
    def subgraph_depth(self):
        return len(self._regions)

    def start_subgraph(self):
        """Trace into a new graph until end_subgraph; returns the region's record (_Region)."""
        region = _Region(self.graph, self._ph_anchor)
        self._regions.append(region)
        self.graph = fxlite.Graph()
        self._ph_anchor = None
        return region

    def subgraph_input(self, vt):
        """An explicit operand of the region: a placeholder of the subgraph, named as the
        enclosing graph's node (as Dynamo names a subgraph's inputs)."""
        node = self._region_placeholder(vt.node, vt.example)
        self._regions[-1].lifted[vt.node] = node
        return TensorVariable(node, vt.example, None, vt.cls)

    def _region_placeholder(self, parent_node, example):
        node = self.new_placeholder(parent_node.name)
        node.target = node.name  # unique: an operand passed twice is two parameters
        node.meta["val"] = example
        return node

    def lift(self, parent_node, example):
        """A tensor of the enclosing graph used inside the region becomes an operand."""
        if not self._regions or parent_node.graph is not self._regions[-1].graph:
            raise InternalError(region_message("escaped", name=parent_node.name))
        region = self._regions[-1]
        node = region.lifted.get(parent_node)
        if node is None:
            node = self._region_placeholder(parent_node, example)
            region.lifted[parent_node] = node
            region.freevars.append(parent_node)
        return node

    def end_subgraph(self):
        """Back to the enclosing graph; returns the enclosing nodes lifted into the region."""
        region = self._regions.pop()
        self.graph = region.graph
        self._ph_anchor = region.anchor
        return list(region.freevars)

    def _note_made(self, vt):
        if self._regions:
            self._regions[-1].made.append(vt)

    def _note_changed(self, vt):
        """vt is about to be changed in place (its node replaced by the in-place op's)."""
        if self._regions and vt.node.graph is not self.graph:
            self._regions[-1].changed.setdefault(id(vt), (vt, vt.node))

    def register_subgraph(self, graph, n_user):
        """The _Subgraph of a region's graph (its first n_user outputs are what the region
        returns): regions whose graphs are equal up to the names of their inputs share one."""
        key = _subgraph_key(graph, n_user)
        sub = self._subgraphs.get(key)
        if sub is None:
            name = f"subgraph_{len(self._subgraphs)}"
            attrs = {n.target: self.constants[n.target] for n in graph.nodes if n.op == "get_attr"}
            sub = self._subgraphs[key] = _Subgraph(name, fxlite.GraphModule(attrs, graph), n_user)
            self.constants[name] = sub.gm
        return sub

    def call_subgraph(self, sub, operands, examples):
        """`invoke_subgraph(subgraph_k, 'subgraph_k', *operands)` in the graph, then one getitem
        per output of the subgraph (examples: their values); returns the call and the getitems.
        As in Dynamo the nodes have no stack trace: calls print as one group of lines."""
        name = sub.name
        graph = self.graph
        attr = graph.create_node("get_attr", name, name=name)  # subgraph_1, ... for later calls
        call = graph.call_function(invoke_subgraph, (attr, name, *operands))
        call.meta["val"] = tuple(examples)
        items = []
        for i, example in enumerate(examples):
            item = graph.call_function(operator.getitem, (call, i))
            item.meta["val"] = example
            items.append(item)
        sub.calls.append(_SubgraphCall(call, items))
        return call, items

    def _finish_subgraphs(self, outputs):
        """A tensor of a region's graph read after the region must be one of its outputs; the
        intermediate outputs no one reads are dropped."""
        for n in outputs:
            if isinstance(n, fxlite.Node) and n.graph is not self.graph:
                raise InternalError(region_message("escaped", name=n.name))
        graph_outputs = set(outputs)
        for sub in self._subgraphs.values():
            sub.prune_outputs(graph_outputs)

    def specialize_dims(self, vt=None):
        """A size was read as a Python value (of vt; None: of an op's non-tensor result): the
        symbols it depends on become constants (guarded), vt's own or else every symbol."""
        if not self.shape_env.symbols:
            return
        shape = sym_shape(vt.example) if vt is not None else None
        if vt is None or shape is not None:
            self.shape_env.specialize_shape(shape, "a size was read as a Python value")

    def constant_tensor(self, tx, value):
        """A tensor without a source (created outside the graph, reached through a constant)."""
        name = f"_tensor_constant{len(self.constants)}"
        self.constants[name] = value
        node = self.graph.get_attr(name)
        fake = self.fake_mode.from_real(value)
        node.meta["val"] = fake
        return TensorVariable(node, fake, None, type(value))

    def real_value_of(self, vt):
        return self.real_values[vt.node]

    def name_value(self, vt, name):
        """A node takes the name of the first user variable it is stored to."""
        if not isinstance(vt, TensorVariable):
            return
        node = vt.node
        if node.op in ("placeholder", "get_attr") or node.meta.get("_user_named"):
            return
        node.meta["_user_named"] = True
        if node.name == name:
            return
        # the old name stays taken, as torch.fx's Node._rename leaves it: later nodes are
        # numbered as in Dynamo (a region's second output is getitem_1 after `a = region(x)`)
        node.name = self.graph._namespace.create_name(name)

    # ---- operations -----------------------------------------------------------------
    def _node_arg(self, v):
        if isinstance(v, SymNodeVariable):  # a symbolic int: a node computing it
            return v.as_node()
        if isinstance(v, SliceVariable):  # with symbolic bounds
            return slice(*map(self._node_arg, v.parts))
        if isinstance(v, TensorVariable):
            if v.node.graph is not self.graph:
                return self.lift(v.node, v.example)
            return v.node
        if isinstance(v, (TupleVariable, ListVariable)) and not isinstance(v, NamedTupleVariable):
            items = [self._node_arg(i) for i in v.items]
            return tuple(items) if isinstance(v, TupleVariable) else items
        if isinstance(v, DictVariable):
            return {k: self._node_arg(i) for k, i in v.items.items()}
        if v.is_python_constant():
            return v.as_python_constant()
        unsupported(f"passing {v} to a tensor operation")

    def _fake_arg(self, v):
        if isinstance(v, TensorVariable):
            return v.example
        if isinstance(v, SymNodeVariable):  # the fake run computes with the values at capture
            return v.hint
        if isinstance(v, SliceVariable):
            return slice(*map(self._fake_arg, v.parts))
        if isinstance(v, (TupleVariable, ListVariable)) and not isinstance(v, NamedTupleVariable):
            items = [self._fake_arg(i) for i in v.items]
            return tuple(items) if isinstance(v, TupleVariable) else items
        if isinstance(v, DictVariable):
            return {k: self._fake_arg(i) for k, i in v.items.items()}
        return v.as_python_constant()

    def tensor_op(self, tx, kind, target, args, kwargs, inplace_of=None):
        graph = self.graph
        node_args = []
        fake_args = []
        convert = []  # positions of the arguments whose node values are made after the fake run
        for a in args:
            t = type(a)
            if t is TensorVariable and a.node.graph is graph:  # by exact type: nothing to convert
                node_args.append(a.node)
                fake_args.append(a.example)
            elif t is ConstantVariable:
                node_args.append(a.value)
                fake_args.append(a.value)
            else:
                convert.append(len(node_args))
                node_args.append(a)
                fake_args.append(self._fake_arg(a))
        fake_kwargs = {k: self._fake_arg(v) for k, v in kwargs.items()} if kwargs else None
        try:
            with self.fake_mode:
                if kind == "call_function":
                    result = target(*fake_args, **fake_kwargs) if fake_kwargs else target(*fake_args)
                else:
                    method = getattr(fake_args[0], target)
                    result = method(*fake_args[1:], **fake_kwargs) if fake_kwargs else method(*fake_args[1:])
        except DataDependentError as e:
            raise Unsupported(f"data-dependent operation: {e}") from None
        except Unsupported:
            raise
        except Exception as e:
            raise UserError(e) from None
        if inplace_of is None and self._inference_modes and self._inference_modes[-1][1].mode:
            _made_in_inference_mode(result, fake_args)
        if self.shape_env.symbols and inplace_of is None:  # the results' symbolic shapes
            propagate(self.shape_env, kind, target, args, kwargs, result)
        # now that the shape rule may have specialized a symbolic size, its graph value
        for i in convert:
            node_args[i] = self._node_arg(node_args[i])
        node_kwargs = {k: self._node_arg(v) for k, v in kwargs.items()} if kwargs else None
        node = self.graph.create_node(kind, target, tuple(node_args), node_kwargs)
        node.meta["stack_trace"] = tx.stack_trace()
        if inplace_of is not None:
            self._note_changed(inplace_of)
        if inplace_of is not None and target is operator.setitem:
            # x[i] = v returns None: later uses of x keep reading x's node (mutated in place)
            inplace_of.mutated = True
            inplace_of.last_mutation = node
            return ConstantVariable(None)
        if inplace_of is not None:
            node.meta["val"] = inplace_of.example
            inplace_of.node = node
            inplace_of.mutated = True
            inplace_of.last_mutation = node
            if target is operator.setitem:
                return ConstantVariable(None)
            return inplace_of
        return self._wrap_result(tx, node, result)

    def _wrap_result(self, tx, node, result):
        if isinstance(result, tl.Tensor):
            node.meta["val"] = result
            vt = TensorVariable(node, result, None, tl.Tensor if not isinstance(result, tl.nn.Parameter) else tl.nn.Parameter)
            self._note_made(vt)
            return vt
        if isinstance(result, (tuple, list)) and any(isinstance(r, tl.Tensor) for r in result):
            node.meta["val"] = tuple(result)
            items = []
            for i, r in enumerate(result):
                g = self.graph.create_node("call_function", operator.getitem, (node, i))
                g.meta["stack_trace"] = node.meta.get("stack_trace")
                items.append(self._wrap_result(tx, g, r))
            if hasattr(result, "_fields") or type(result).__name__ in ("_MinMax",):
                return NamedTupleVariable(items, type(result))
            return TupleVariable(items) if isinstance(result, tuple) else ListVariable(items)
        # not a tensor: a trace-time constant (x.stride(), ...), which may depend on the sizes
        self.specialize_dims()
        if not node.users:
            self.graph.erase_node(node)
        if isinstance(result, (int, float, bool, str, type(None))) or isinstance(result, tl.dtype):
            return ConstantVariable(result)
        if isinstance(result, (tuple, list)):
            return ConstantVariable(tuple(result) if isinstance(result, tuple) else result)
        unsupported(f"tensor operation returning {type(result).__name__}")

    # ---- finishing --------------------------------------------------------------------
    def restore_global_state(self):
        while self._inference_modes:  # a trace that stopped inside `with tl.inference_mode()`
            self._inference_modes.pop()[1].__exit__(None, None, None)
        tl_state.grad_enabled = self.initial_grad_mode

    def has_dynamic_dims(self):
        """Whether an input tensor has a dimension whose size the guards leave free."""
        return any(g.kind == "TENSOR_MATCH" and None in g.expected.shape for g in self.guards.values())

    def finish_graph(self, outputs):
        """Drop inputs no node uses, order the inputs as the placeholders, and end the graph
        with `outputs`. Returns the GraphModule, or None when the frame needs no graph."""
        self.shape_env.finish()  # the shape guards, before the inputs they read are dropped
        self._finish_subgraphs(outputs)
        graph = self.graph
        kept = self.shape_env.symbol_inputs()  # the sizes of the tensors it takes, as in PyTorch
        for ga in list(self.graphargs):
            if not ga.node.users and ga.node not in kept:
                graph.erase_node(ga.node)
                self.graphargs.remove(ga)
        self.graphargs = self.ordered_graphargs()
        if not (self.count_calls() or outputs):
            return None
        graph.output(tuple(outputs))
        gm = fxlite.GraphModule(dict(self.constants), graph)
        gm.meta["minidynamo"] = {"code": self.code}
        return gm

    def count_calls(self):
        return sum(1 for n in self.graph.nodes if n.op in ("call_function", "call_method", "call_module"))
