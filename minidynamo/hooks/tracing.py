"""Registering hooks while tracing: what `register_hook` and a module's full backward hooks
put into the graph and into the replayed side effects (see the package docstring)."""
import operator

import tensorlite as tl

from ..source import Source
from ..variables.base import ConstantVariable, UserError, VariableTracker, unsupported
from . import outputs
from .runtime import HookBox, apply_backward_hook, identity_hook, module_backward_begin, module_backward_end


class HookBoxSource(Source):
    """The hook box of one registration, created before the graph call and passed to it."""

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
        from tensorlite.utils.hooks import RemovableHandle
        return RemovableHandle

    def call_method(self, tx, name, args, kwargs):
        if name == "remove":
            expr = self.expr
            tx.output.side_effects.add_statement(lambda cg: [f"{expr}.remove()"])
            return ConstantVariable(None)
        unsupported(f"RemovableHandle.{name}")

    def var_getattr(self, tx, name):
        if name == "remove":
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
    """The hooks of one traced frame: boxes passed to the graph, handles made by the
    replayed code, and the lines that create them before the graph call."""

    def __init__(self, output):
        self.output = output
        self.n_boxes = 0
        self.n_handles = 0
        self.pre_graph = []  # functions cg -> lines, run before the graph call

    # ---- registration ----------------------------------------------------------------
    def register_tensor_hook(self, tx, tensor_vt, args, kwargs):
        if len(args) != 1 or kwargs:
            unsupported("Tensor.register_hook expects one hook argument")
        hook = args[0]
        if not tensor_vt.example.requires_grad:
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
        name = self._new_handle_name()
        src = tensor_vt.source.expr()
        # mutated in this frame: a hook slot of an earlier graph holds the old version
        clear = [f"{src}._hook_box = None"] if tensor_vt.mutated else []
        self.output.side_effects.add_statement(lambda cg: clear + [f"{name} = {src}.{method}({cg(hook)})"])
        return RemovableHandleVariable(name)

    def _register_on_intermediate(self, tx, tensor_vt, hook):
        _check_hookable_intermediate(self.output, tensor_vt)
        if tensor_vt.hook_box is not None and tensor_vt.hook_box[1] is tensor_vt.last_mutation:
            # the same version of the tensor: the hook joins the box and runs after the others
            # (after an in-place change it is another version: it gets its own box below)
            existing = tensor_vt.hook_box[0]
            name = self._new_handle_name()
            self.pre_graph.append(lambda cg: [f"{name} = {existing.expr()}.add({cg(hook)})"])
            return RemovableHandleVariable(name)
        source, box = self.new_box(hook)
        graph = self.output.graph
        y = tensor_vt.node
        # the hook belongs to the tensor's current version: after its last in-place change
        # (uses of an older version do not reach it, as in eager); without one, every use counts
        anchor = tensor_vt.last_mutation or y
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
        tensor_vt.hook_box = (source, tensor_vt.last_mutation)
        return RemovableHandleVariable(f"{source.expr()}.handle")

    def _new_handle_name(self):
        name = f"___handle_{self.n_handles}"
        self.n_handles += 1
        return name

    def new_box(self, hook, placeholder=None):
        """A HookBox made before each graph call (holding `hook`, or empty for None) and the
        graph placeholder it is passed to. While tracing, identity_hook stands in for `hook`."""
        from ..output_graph import GraphArg
        source = HookBoxSource(self.n_boxes)
        self.n_boxes += 1
        if hook is None:
            self.pre_graph.append(lambda cg: [f"{source.expr()} = ___HookBox(None)"])
        else:
            self.pre_graph.append(lambda cg: [f"{source.expr()} = ___HookBox({cg(hook)})"])
        node = placeholder(source) if placeholder is not None else self.output.new_placeholder(source.graph_name())
        example = HookBox(identity_hook if hook is not None else None)
        self.output.graphargs.append(GraphArg(source, example, node))
        return source, node

    def pre_graph_lines(self, cg):
        lines = []
        for f in self.pre_graph:
            lines += f(cg)
        return lines

    # ---- after capture -----------------------------------------------------------------
    def prepare_outputs(self, gm, graph_outputs, compile_graph):
        """Compile gm with hook slots for its outputs (see hooks.outputs.prepare)."""
        return outputs.prepare(self, gm, graph_outputs, compile_graph)

    # ---- module full backward hooks ----------------------------------------------------
    def module_backward_begin(self, tx, module_vt, args):
        """Graph nodes wrapping a module call's tensor inputs for its full backward hooks."""
        from ..variables.tensor import TensorVariable
        out = self.output
        graph = out.graph
        mod_node = out.graph_input_object(module_vt.source, module_vt.value)
        node_args = tuple(a.node if isinstance(a, TensorVariable) else out._node_arg(a) for a in args)
        call = graph.call_function(module_backward_begin, (mod_node,) + node_args)
        call.meta["stack_trace"] = tx.stack_trace()
        state = graph.call_function(operator.getitem, (call, 0))
        new_args = [_item_of(graph, call, i + 1, a) if isinstance(a, TensorVariable) else a
                    for i, a in enumerate(args)]
        return state, new_args

    def module_backward_end(self, tx, state, out_vt):
        """Graph nodes wrapping a module call's tensor outputs (the grad_output side)."""
        from ..variables.lists import TupleVariable
        from ..variables.tensor import TensorVariable
        graph = self.output.graph
        if isinstance(out_vt, TensorVariable):
            n = graph.call_function(module_backward_end, (state, out_vt.node))
            n.meta["val"] = out_vt.example
            return TensorVariable(n, out_vt.example, None, out_vt.cls)
        if isinstance(out_vt, TupleVariable) and all(isinstance(i, TensorVariable) for i in out_vt.items):
            n = graph.call_function(module_backward_end, (state,) + tuple(i.node for i in out_vt.items))
            return TupleVariable([_item_of(graph, n, k, it) for k, it in enumerate(out_vt.items)])
        unsupported("module with full backward hooks returning something other than tensors")


def _item_of(graph, call, index, like):
    """`call[index]` as a tensor tracker with the example and class of `like`."""
    from ..variables.tensor import TensorVariable
    g = graph.call_function(operator.getitem, (call, index))
    g.meta["val"] = like.example
    return TensorVariable(g, like.example, None, like.cls)


def _check_hookable_intermediate(output, tensor_vt):
    """A hook node in the graph cannot follow every history eager can: break in those cases."""
    ex = tensor_vt.example
    if ex._base is not None and any(ex._base is ga.node.meta.get("val") for ga in output.graphargs):
        # backends may rebuild an output that views an input from the input itself,
        # which would bypass the hook node: let this run eagerly instead
        unsupported("register_hook on a view of a graph input")
    root = ex._base if ex._base is not None else ex
    if any(n is not tensor_vt.node and isinstance(v := n.meta.get("val"), tl.Tensor) and v is not ex
           and (v._base if v._base is not None else v) is root and (v._base is not None or ex._base is not None)
           for n in output.graph.nodes):
        # another view of the same memory exists: an in-place change through it moves the
        # tensor's history in eager, which a hook node in the graph cannot follow
        unsupported("register_hook on a tensor that has other views in the graph")
