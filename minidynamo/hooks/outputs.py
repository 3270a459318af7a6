"""Rewriting the graph after capture for hooks registered later on its outputs.

A hook registered on a graph output after the graph ran (after a graph break, or by the
caller) must see the output's total gradient, including what flows through the graph's own
uses of it. AOT backends run the whole graph as one autograd node, so such outputs get a
hook slot inside the graph: an empty HookBox on the path before all their uses. `prepare`
is the one entry point: it compiles the graph, decides whether it must run as it is, and
adds the slots.
"""
import dataclasses
import logging
import operator

import fxlite
import tensorlite as tl
from fxlite.passes.walk import ancestors

from .runtime import apply_backward_hook, apply_output_view_hook

log = logging.getLogger("minidynamo")


@dataclasses.dataclass
class PreparedOutputs:
    """The compiled graph of a frame, and the hook slots of its outputs."""

    compiled: object  # what the entry calls with the graph inputs
    slots: list  # [(output index, box expression)]: the code sets `out._hook_box = box`
    runs_graph_as_is: bool  # compiled is gm.forward: the graph's own autograd, any shape


def prepare(tracker, gm, graph_outputs, compile_graph):
    """Compile gm with `compile_graph(gm)`; give outputs used inside the graph hook slots
    unless the graph runs as it is (the eager backend, or an output changed in place)."""
    compiled = compile_graph(gm)
    slots = hooked_output_slots(tracker.output, graph_outputs)
    if getattr(compiled, "__self__", None) is gm:
        return PreparedOutputs(compiled, slots, True)
    if outputs_changed_in_place(gm, graph_outputs):
        # a hook registered later on such an output belongs to the value after the change,
        # which the graph has no node for: only eager autograd routes its gradient right
        log.debug("running the graph of %s as it is: an output was changed in place (through a "
                  "view, or by an index assignment)", gm.meta["minidynamo"]["code"].co_name)
        return PreparedOutputs(gm.forward, slots, True)
    new_slots = add_output_slots(tracker, gm, graph_outputs)
    if new_slots:  # the graph changed: compile it again
        gm.recompile()
        compiled = compile_graph(gm)
    return PreparedOutputs(compiled, slots + new_slots, False)


def hooked_output_slots(output, outputs):
    """[(output index, box expression)] for outputs that are hook nodes of hooks registered
    in the frame: a hook added later to the output tensor joins the same box, so it runs
    after them on the same total gradient, as in eager (on every backend)."""
    slots = []
    for i, node in enumerate(outputs):
        if node.op == "call_function" and node.target is apply_backward_hook:
            box_node = node.args[1]
            src = next(ga.source for ga in output.graphargs if ga.node is box_node)
            slots.append((i, src.expr()))
    return slots


def outputs_changed_in_place(gm, outputs):
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


def add_output_slots(tracker, gm, outputs):
    """Give every graph output that the graph also uses itself (and that may need a
    gradient) a hook slot: an empty HookBox on the path before all its uses. Returns
    [(output index, box expression)]."""
    graph = gm.graph
    out_node = next(n for n in graph.nodes if n.op == "output")
    live = _live_nodes(graph, out_node)
    slots = []
    for i, node in enumerate(outputs):
        kind = _slot_kind(tracker.output, node, outputs, out_node, live)
        if kind is None:
            continue
        source, box = tracker.new_box(None, placeholder=lambda s: _placeholder_at_top(graph, s))
        with graph.inserting_after(node):
            hooked = graph.call_function(kind, (node, box))
        hooked.meta["val"] = node.meta.get("val")
        hooked.meta["stack_trace"] = node.meta.get("stack_trace")
        node.replace_all_uses_with(hooked, delete_user_cb=lambda u: u is not hooked)
        slots.append((i, source.expr()))
    if slots:
        tracker.output.graphargs = tracker.output.ordered_graphargs()
    return slots


def _slot_kind(output, node, outputs, out_node, live):
    """The hook node an output needs (apply_backward_hook, or apply_output_view_hook for a
    view of an input), or None when a hook on the output tensor itself is already exact."""
    val = node.meta.get("val")
    if node.op not in ("call_function", "call_method") or val is None \
            or not getattr(val, "requires_grad", False) or node.target is apply_backward_hook:
        return None
    internal = [u for u in node.users if u is not out_node and u in live]
    if not internal:
        return None  # no (live) internal use: a hook on the tensor itself is exact
    views_input = val._base is not None and any(
        val._base is ga.node.meta.get("val") for ga in output.graphargs if ga.node is not None)
    if views_input and all(u in outputs and getattr(u.meta.get("val"), "_base", None) is val._base
                           for u in internal):
        # a view of an input used only by other views among the outputs: AOT rebuilds
        # those from it outside the graph, so a hook on the tensor itself sees them
        return None
    return apply_output_view_hook if views_input else apply_backward_hook


def _placeholder_at_top(graph, source):
    """A new placeholder after the existing ones (the graph is already finished)."""
    phs = [n for n in graph.nodes if n.op == "placeholder"]
    where = graph.inserting_after(phs[-1]) if phs else graph.inserting_before(next(iter(graph.nodes)))
    with where:
        return graph.create_node("placeholder", source.graph_name(), name=source.graph_name().lower())


def _live_nodes(graph, out_node):
    """Nodes whose value reaches the output or an impure node (what DCE keeps)."""
    return ancestors([out_node] + [n for n in graph.nodes if n.is_impure() and n.op != "placeholder"])
