"""Tensor hooks registered inside a compiled region.

* On a tensor that came from outside (an input, a parameter): nothing enters the graph; the
  registration is replayed after the graph, so a function that only registers hooks compiles
  no graph at all.
* On an intermediate: the graph gets a node `apply_backward_hook(y, hook_box)` placed right
  after y, and every use of y (before and after the registration) is rewired through it, so
  the backward runs the hook on y's total gradient. The hook itself is not traced and not
  guarded: it travels in a HookBox passed to the graph as an input at each call, so rebinding
  the hook or changing what it closes over needs no recompile.
"""
import operator

import fxlite
import tensorlite as tl
from fxlite.passes.walk import ancestors
from tensorlite.utils.hooks import RemovableHandle

from .source import Source
from .variables.base import ConstantVariable, VariableTracker, unsupported


class HookBox:
    """The hooks of one register_hook call made inside a compiled region (one per call)."""

    __slots__ = ("hooks", "handle")

    def __init__(self, hook):
        self.hooks = {}
        self.handle = RemovableHandle(self.hooks)
        if hook is not None:  # None: an empty slot that hooks may be added to later
            self.hooks[self.handle.id] = hook

    def add(self, hook):
        """Another hook on the same tensor: runs after the earlier ones."""
        h = RemovableHandle(self.hooks)
        self.hooks[h.id] = hook
        return h

    def __call__(self, grad):
        for fn in list(self.hooks.values()):
            r = fn(grad)
            if r is not None:
                grad = r
        return grad


class _BackwardHook(tl.autograd.Function):
    @staticmethod
    def forward(ctx, x, box):
        ctx.box = box
        return x.view(x.shape)

    @staticmethod
    def backward(ctx, grad):
        return _call_box(grad, ctx.box), None


def _call_box(grad, box):
    try:
        from backends.aot.trace_wrapped import trace_wrapped
    except ImportError:
        return box(grad)
    return trace_wrapped(grad, fn=box)


def apply_backward_hook(x, box):
    """Identity in the forward; in the backward, x's gradient goes through box (the hooks)."""
    if not x.requires_grad or not tl.is_grad_enabled():
        return x
    return _BackwardHook.apply(x, box)


apply_backward_hook.__module__ = "minidynamo.hooks"


def apply_output_view_hook(x, box):
    """apply_backward_hook for a graph output that views a graph input and is also used inside
    the graph. AOT backends rebuild such an output from the input outside their one autograd
    node, so its direct gradient would bypass the slot: graphs with it run as they are."""
    return apply_backward_hook(x, box)


apply_output_view_hook._run_graph_as_is = True


def _identity_hook(grad):
    return None


def module_backward_begin(module, *args):
    """Graph node before a module's forward: the module's full backward hooks, read at run
    time, wrap its tensor inputs (Module.__call__'s BackwardHook). Returns (state, *args)."""
    from tensorlite.nn.modules import module as M
    from tensorlite.nn.modules._backward_hook import BackwardHook

    full = [*M._global_backward_hooks.values(), *module._backward_hooks.values()]
    pre = [*M._global_backward_pre_hooks.values(), *module._backward_pre_hooks.values()]
    if not (full or pre) or not tl.is_grad_enabled():
        return (None,) + args
    bw = BackwardHook(module, full, pre)
    return (bw,) + tuple(bw.setup_input_hook(args))


def module_backward_end(state, *outs):
    """Graph node after a module's forward hooks: wraps its outputs (grad_output side)."""
    result = outs[0] if len(outs) == 1 else outs
    if state is None:
        return result
    return state.setup_output_hook(result)


for _f in (module_backward_begin, module_backward_end):
    _f.__module__ = "minidynamo.hooks"
    _f._run_graph_as_is = True  # AOT backends run graphs with these nodes as they are
module_backward_begin._is_impure = True
module_backward_end._is_impure = True


def _live_nodes(graph, out_node):
    """Nodes whose value reaches the output or an impure node (what DCE keeps)."""
    return ancestors([out_node] + [n for n in graph.nodes if n.is_impure() and n.op != "placeholder"])


class HookBoxSource(Source):
    def __init__(self, index):
        self.index = index

    def name(self):
        return f"___hook_box_{self.index}"

    def expr(self):
        return f"___hook_box_{self.index}"

    def graph_name(self):
        return f"L_hook_box_{self.index}_"


class RemovableHandleVariable(VariableTracker):
    """A handle returned by register_hook inside the region; it is a real object at run time."""

    def __init__(self, expr):
        super().__init__(None)
        self.expr = expr

    def python_type(self):
        return RemovableHandle

    def call_method(self, tx, name, args, kwargs):
        if name == "remove":
            expr = self.expr
            tx.output.side_effects.add_statement(lambda cg: [f"{expr}.remove()"])
            return ConstantVariable(None)
        unsupported(f"RemovableHandle.{name}")

    def var_getattr(self, tx, name):
        if name == "remove":
            from .variables.tensor import TensorMethodVariable
            return _BoundHandleMethod(self, name)
        unsupported(f"RemovableHandle.{name}")

    def reconstruct(self, cg):
        return self.expr


class _BoundHandleMethod(VariableTracker):
    def __init__(self, handle, name):
        super().__init__(None)
        self.handle = handle
        self.name = name

    def call_function(self, tx, args, kwargs):
        return self.handle.call_method(tx, self.name, args, kwargs)


class HookTracker:
    def __init__(self, output):
        self.output = output
        self.n_boxes = 0
        self.n_handles = 0
        self.pre_graph = []  # functions cg -> lines, run before the graph call

    def register_tensor_hook(self, tx, tensor_vt, args, kwargs):
        if len(args) != 1 or kwargs:
            unsupported("Tensor.register_hook expects one hook argument")
        hook = args[0]
        ex = tensor_vt.example
        if not ex.requires_grad:
            from .variables.base import UserError
            raise UserError(RuntimeError("cannot register a hook on a tensor that doesn't require gradient"))
        if tensor_vt.source is not None:
            return self._register_on_source(tensor_vt, hook, "register_hook")
        return self._register_on_intermediate(tx, tensor_vt, hook)

    def register_post_accumulate_grad_hook(self, tx, tensor_vt, args, kwargs):
        if tensor_vt.source is None:
            unsupported("register_post_accumulate_grad_hook on a tensor created inside the compiled region")
        return self._register_on_source(tensor_vt, args[0], "register_post_accumulate_grad_hook")

    def _register_on_source(self, tensor_vt, hook, method):
        real = self.output.real_values.get(tensor_vt.node) if tensor_vt.node.op == "placeholder" else None
        fn = getattr(real, "grad_fn", None)
        if fn is not None and fn.name() == "CompiledFunctionBackward" and getattr(real, "_hook_box", None) is None:
            import warnings
            warnings.warn(
                "register_hook on a tensor computed by an earlier AOT-compiled graph (before a graph "
                "break): the hook sees only the gradient that flows into it after that graph, not "
                "the gradient of its uses inside it. Use the eager backend, or register the hook "
                "before the break, for eager semantics.", RuntimeWarning, stacklevel=2)
        name = f"___handle_{self.n_handles}"
        self.n_handles += 1
        src = tensor_vt.source.expr()
        # mutated in this frame: a hook slot of an earlier graph holds the old version
        clear = [f"{src}._hook_box = None"] if tensor_vt.mutated else []
        self.output.side_effects.add_statement(lambda cg: clear + [f"{name} = {src}.{method}({cg(hook)})"])
        return RemovableHandleVariable(name)

    def _register_on_intermediate(self, tx, tensor_vt, hook):
        if tensor_vt.example._base is not None and any(
                tensor_vt.example._base is ga.node.meta.get("val") for ga in self.output.graphargs):
            # backends may rebuild an output that views an input from the input itself,
            # which would bypass the hook node: let this run eagerly instead
            unsupported("register_hook on a view of a graph input")
        out = self.output
        graph = out.graph
        ex = tensor_vt.example
        root = ex._base if ex._base is not None else ex
        if any(n is not tensor_vt.node and isinstance(v := n.meta.get("val"), tl.Tensor) and v is not ex
               and (v._base if v._base is not None else v) is root and (v._base is not None or ex._base is not None)
               for n in graph.nodes):
            # another view of the same memory exists: an in-place change through it moves the
            # tensor's history in eager, which a hook node in the graph cannot follow
            unsupported("register_hook on a tensor that has other views in the graph")
        box = getattr(tensor_vt, "hook_box", None)  # (its source, the version it belongs to)
        if box is not None and box[1] is getattr(tensor_vt, "last_mutation", None):
            # the same version of the tensor: the hook joins the box and runs after the others
            # (after an in-place change it is another version: it gets its own box below)
            existing = box[0]
            name = f"___handle_{self.n_handles}"
            self.n_handles += 1
            self.pre_graph.append(lambda cg: [f"{name} = {existing.expr()}.add({cg(hook)})"])
            return RemovableHandleVariable(name)
        i = self.n_boxes
        self.n_boxes += 1
        source = HookBoxSource(i)
        self.pre_graph.append(lambda cg: [f"{source.expr()} = ___HookBox({cg(hook)})"])
        box = out.new_placeholder(source.graph_name())
        from .output_graph import GraphArg
        # the example value only stands in for the hook passed at each call
        out.graphargs.append(GraphArg(source, HookBox(_identity_hook), box))
        y = tensor_vt.node
        # the hook belongs to the tensor's current version: after its last in-place change
        # (uses of an older version do not reach it, as in eager); without one, every use counts
        anchor = getattr(tensor_vt, "last_mutation", None) or y
        with graph.inserting_after(anchor):
            hooked = graph.call_function(apply_backward_hook, (y, box))
        hooked.meta["val"] = tensor_vt.example
        hooked.meta["stack_trace"] = tx.stack_trace()
        after = False
        for n in list(graph.nodes):
            if n is hooked:
                after = True
            elif after and y in n.all_input_nodes:
                n.replace_input_with(y, hooked)
        tensor_vt.node = hooked
        tensor_vt.hook_box = (source, getattr(tensor_vt, "last_mutation", None))
        return RemovableHandleVariable(f"{source.expr()}.handle")

    def hooked_output_slots(self, outputs):
        """[(output index, box expression)] for outputs that are hook nodes of hooks registered
        in the frame: a hook added later to the output tensor joins the same box, so it runs
        after them on the same total gradient, as in eager (on every backend)."""
        slots = []
        for i, node in enumerate(outputs):
            if node.op == "call_function" and node.target is apply_backward_hook:
                box_node = node.args[1]
                src = next(ga.source for ga in self.output.graphargs if ga.node is box_node)
                slots.append((i, src.expr()))
        return slots

    def outputs_changed_in_place(self, gm, outputs):
        """Whether an output that may need a gradient had its memory changed in place inside
        the graph in a way that leaves the graph without a node for its new version:
        - through a view of it (t2 = t1.reshape(-1); t2.sub_(..); return t1, t2);
        - by an index assignment when it also has views (t1[0] = v; t3 = t1[..., 0:]; return
          t1, t3): the views' uses read t1's node from before the assignment, so a hook slot
          for t1 would sit before it."""
        def root(v):
            return v._base if v._base is not None else v
        changed = set()
        assigned = set()
        viewed = set()
        for n in gm.graph.nodes:
            val = n.meta.get("val")
            if isinstance(val, tl.Tensor) and val._base is not None:
                viewed.add(id(val._base))
            if n.op in ("call_method", "call_function") and n.is_impure():  # x.add_(..), x[i] = v
                first = n.args[0] if n.args and isinstance(n.args[0], fxlite.Node) else None
                v = first.meta.get("val") if first is not None else None
                if isinstance(v, tl.Tensor) and v._base is not None:
                    changed.add(id(root(v)))
                if first is not None and n.target is operator.setitem:
                    assigned.add(first)
        return any(isinstance(v := o.meta.get("val"), tl.Tensor) and v.requires_grad
                   and (id(root(v)) in changed or (o in assigned and id(v) in viewed)) for o in outputs)

    def add_output_slots(self, gm, outputs):
        """Give every graph output that the graph also uses itself (and that may need a
        gradient) a hook slot: an empty HookBox on the path before all its uses. A hook later
        registered on the output tensor (after a graph break, or by the caller) goes to the
        slot, so it sees the total gradient even when the backend runs the graph as one
        autograd node. Returns [(output index, box expression)]."""
        graph = gm.graph
        out_node = next(n for n in graph.nodes if n.op == "output")
        live = _live_nodes(graph, out_node)
        slots = []
        for i, node in enumerate(outputs):
            val = node.meta.get("val")
            if node.op not in ("call_function", "call_method") or val is None \
                    or not getattr(val, "requires_grad", False) or node.target is apply_backward_hook:
                continue
            internal = [u for u in node.users if u is not out_node and u in live]
            if not internal:
                continue  # no (live) internal use: a hook on the tensor itself is exact
            views_input = val._base is not None and any(
                val._base is ga.node.meta.get("val") for ga in self.output.graphargs if ga.node is not None)
            if views_input and all(u in outputs and getattr(u.meta.get("val"), "_base", None) is val._base
                                   for u in internal):
                # a view of an input used only by other views among the outputs: AOT rebuilds
                # those from it outside the graph, so a hook on the tensor itself sees them
                continue
            k = self.n_boxes
            self.n_boxes += 1
            source = HookBoxSource(k)
            self.pre_graph.append(lambda cg, source=source: [f"{source.expr()} = ___HookBox(None)"])
            phs = [n for n in graph.nodes if n.op == "placeholder"]
            where = graph.inserting_after(phs[-1]) if phs else graph.inserting_before(next(iter(graph.nodes)))
            with where:
                box = graph.create_node("placeholder", source.graph_name(), name=source.graph_name().lower())
            from .output_graph import GraphArg
            self.output.graphargs.append(GraphArg(source, HookBox(None), box))
            with graph.inserting_after(node):
                hooked = graph.call_function(apply_output_view_hook if views_input else apply_backward_hook,
                                             (node, box))
            hooked.meta["val"] = val
            hooked.meta["stack_trace"] = node.meta.get("stack_trace")
            node.replace_all_uses_with(hooked, delete_user_cb=lambda u: u is not hooked)
            slots.append((i, source.expr()))
        if slots:
            self.output.graphargs = self.output.ordered_graphargs()
        return slots

    def module_backward_begin(self, tx, module_vt, args):
        """Graph nodes wrapping a module call's tensor inputs for its full backward hooks."""
        from .variables.tensor import TensorVariable
        import operator
        out = self.output
        graph = out.graph
        mod_node = out.graph_input_object(module_vt.source, module_vt.value)
        node_args = tuple(a.node if isinstance(a, TensorVariable) else out._node_arg(a) for a in args)
        call = graph.call_function(module_backward_begin, (mod_node,) + node_args)
        call.meta["stack_trace"] = tx.stack_trace()
        state = graph.call_function(operator.getitem, (call, 0))
        new_args = []
        for i, a in enumerate(args):
            if isinstance(a, TensorVariable):
                g = graph.call_function(operator.getitem, (call, i + 1))
                g.meta["val"] = a.example
                new_args.append(TensorVariable(g, a.example, None, a.cls))
            else:
                new_args.append(a)
        return state, new_args

    def module_backward_end(self, tx, state, out_vt):
        from .variables.lists import TupleVariable
        from .variables.tensor import TensorVariable
        import operator
        graph = self.output.graph
        if isinstance(out_vt, TensorVariable):
            n = graph.call_function(module_backward_end, (state, out_vt.node))
            n.meta["val"] = out_vt.example
            return TensorVariable(n, out_vt.example, None, out_vt.cls)
        if isinstance(out_vt, TupleVariable) and all(isinstance(i, TensorVariable) for i in out_vt.items):
            n = graph.call_function(module_backward_end, (state,) + tuple(i.node for i in out_vt.items))
            items = []
            for k, it in enumerate(out_vt.items):
                g = graph.call_function(operator.getitem, (n, k))
                g.meta["val"] = it.example
                items.append(TensorVariable(g, it.example, None, it.cls))
            return TupleVariable(items)
        unsupported("module with full backward hooks returning something other than tensors")

    def pre_graph_lines(self, cg):
        lines = []
        for f in self.pre_graph:
            lines += f(cg)
        return lines

    def replay(self, cg):
        return []


_ = ConstantVariable
