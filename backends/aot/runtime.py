"""The runtime wrapper: run a compiled forward graph and attach ONE autograd node per call.

`AOTDispatcher(fn, example_args, config)` is called with the flat inputs. Per call it picks a
variant by grad mode and by which tensor inputs require grad (compiling it on first use):

* inference (grad disabled, or no input requires grad): run the forward-only graph;
* training: run the partitioned forward graph under no_grad; its outputs are the user
  outputs followed by the values saved for backward. A `CompiledFunctionBackward` node,
  whose edges are the grad-requiring inputs, becomes the `grad_fn` of every output that
  requires grad. Its `apply` compiles the backward graph the first time it runs (through
  `bw_compiler`), then calls it on `(*saved, *tangents)`.

Eager semantics kept by the wrapper: `retain_graph` (saved values are released after a
backward unless retained; a second backward then raises "Specify retain_graph=True"),
in-place modification of a saved value after the forward raises "modified by an inplace
operation", hooks on inputs/outputs (ordinary autograd on the node's edges and outputs),
`requires_grad` of outputs, inputs mutated by the graph (the new value is copied back after
the forward), outputs that are inputs or views of inputs (regenerated eagerly from the real
input, so they alias it as in eager), duplicated outputs (the same object twice) and
non-tensor outputs. `create_graph=True` falls back to running the original function eagerly
on the saved inputs and differentiating it with create_graph (raises for graphs that mutate
their inputs).

>>> import tensorlite as tl
>>> from backends.aot import aot_function, nop
>>> f = aot_function(lambda x: (x * x).sum(), nop)
>>> x = tl.tensor([1.0, 2.0], requires_grad=True)
>>> y = f(x); y.grad_fn.name()
'CompiledFunctionBackward'
>>> y.backward(); x.grad
tensor([2., 4.])
"""
import itertools

import numpy as np

import tensorlite as tl
from tensorlite import _state
from tensorlite._modes import fake_tensor, is_fake
from tensorlite._node import _FREED_MSG, Node
from tensorlite._primitive import bind
from tensorlite._tensor import Tensor

from .. import settings
from .trace_wrapped import TRACE_WRAPPED
from .joint import collect_metadata, trace_inference, trace_joint, tree_flatten

__all__ = ["AOTConfig", "AOTDispatcher", "CompiledFunctionBackward"]

_graph_counter = itertools.count()


class AOTConfig:
    def __init__(self, fw_compiler, bw_compiler=None, partition_fn=None, inference_compiler=None):
        from .partition import default_partition
        self.fw_compiler = fw_compiler
        self.bw_compiler = bw_compiler or fw_compiler
        self.partition_fn = partition_fn or default_partition
        self.inference_compiler = inference_compiler or fw_compiler


def _example_inputs(gm):
    out = []
    for n in gm.graph.nodes:
        if n.op == "placeholder":
            v = n.meta.get("val")
            if isinstance(v, Tensor):
                v = fake_tensor(v._data.shape, v._data.dtype)
            out.append(v)
    return out


def _log(kind, gm, idx):
    if settings.topic_enabled("aot_graphs"):
        settings.log.info("TRACED GRAPH\n ===== %s graph %d =====\n%s", kind, idx, gm.print_readable(False))


def _inplace_error(t):
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [tensorlite.{t.dtype.name} {list(t.shape)}], which is a value saved by a "
        "compiled (aot) graph; expected it unchanged since the forward. Hint: the variable was "
        "changed in place after the compiled call.")


def _tangent_reach(graph, n_tangents):
    """For each node of a backward graph (whose last n_tangents placeholders are the
    tangents), the positions of the tangents it depends on."""
    phs = [n for n in graph.nodes if n.op == "placeholder"]
    reach = {n: frozenset() for n in phs}
    if n_tangents:
        reach.update((t, frozenset((k,))) for k, t in enumerate(phs[len(phs) - n_tangents:]))
    for n in graph.nodes:
        if n.op != "placeholder" and n.op != "output":
            reach[n] = frozenset().union(*(reach.get(a, ()) for a in n.all_input_nodes))
    return reach


def _prune_absent_tangents(bw_gm, live, reach):
    """bw_gm without the values that depend only on the tangents absent from live (one
    bool per tangent); the gradients made only of those are None."""
    import fxlite
    from fxlite.node import map_arg

    graph = bw_gm.graph
    absent = {n for n, d in reach.items() if d and not any(live[k] for k in d)}
    new = fxlite.Graph()
    env = {}
    zeros = {}

    def zero_for(n):
        if n not in zeros:
            m = n.meta.get("val")
            z = new.call_function(tl.ops.full, (), {"shape": tuple(m.shape), "value": 0,
                                                   "dtype": tl._dtype.as_dtype(m.dtype)})
            z.meta["val"] = m
            zeros[n] = z
        return zeros[n]

    for n in graph.nodes:
        if n.op == "output":
            new.output(map_arg(n.args[0], lambda a: None if a in absent else env[a]))
        elif n in absent and n.op != "placeholder":
            continue
        else:
            env[n] = new.node_copy(n, lambda a: zero_for(a) if a in absent else env[a])
    return fxlite.GraphModule(bw_gm, new, type(bw_gm).__name__)


class CompiledFunctionBackward(Node):
    """The autograd node of one call of a compiled graph (its ctx holds the saved values)."""

    _name = "CompiledFunctionBackward"
    _inputs = None

    def apply(self, grads):
        saved = self._saved
        if saved is None:
            raise RuntimeError(_FREED_MSG)
        rt = self._rt
        for k, v in zip(rt.saved_tensor_idx, self._versions):
            t = saved[k]
            vc = t._vc
            if (vc[0] if vc is not None else 0) != v and rt.saved_needed(k, grads):
                raise _inplace_error(t)
        if _state.grad_enabled:
            return rt.double_backward(self, grads)
        tangents = []
        for g, m in zip(grads, rt.tangent_meta):
            tangents.append(g if g is not None else Tensor._wrap(np.zeros(m[0], m[1])))
        if any(g is None for g in grads):
            # eager never runs the backward of an output without a gradient: a hook there must
            # not run, and a zero tangent times an infinite local derivative (sqrt at 0, or at a
            # saved output changed in place since) must not turn the other gradients into NaN.
            # So use a backward graph without what depends only on the missing gradients.
            out = rt.pruned_bw(tuple(g is not None for g in grads))(*saved, *tangents)
        else:
            bw = rt.bw or rt.compile_bw()
            out = bw(*saved, *tangents)
        # as in eager, an input reached only from outputs without a gradient gets None, not zeros
        return [None if all(grads[j] is None for j in rt.tangent_deps(i)) else out[i] for i in rt.grad_inputs]

    def _release(self):
        self._saved = None
        self._inputs = None


class _Training:
    """One training variant: forward graph, lazily compiled backward graph, metadata."""

    def __init__(self, disp, meta):
        self.meta = meta
        self.disp = disp
        joint = trace_joint(disp.fn, disp.example_args, meta, partition_fn=disp.config.partition_fn)
        n_fw = len(meta.outputs) + len(meta.mutated_inputs)
        fw_gm, bw_gm = disp.config.partition_fn(joint, disp.example_args, num_fwd_outputs=n_fw)
        self.joint, self.fw_gm, self.bw_gm = joint, fw_gm, bw_gm
        idx = next(_graph_counter)
        _log("Forward", fw_gm, idx)
        _log("Backward", bw_gm, idx)
        self.fw = disp.config.fw_compiler(fw_gm, _example_inputs(fw_gm))
        self.bw = None
        self.n_out = len(meta.outputs)
        self.n_fw = n_fw
        self.grad_inputs = meta.grad_inputs
        self.tangent_outputs = meta.tangent_outputs
        self.tangent_meta = [(meta.outputs[i].shape, meta.outputs[i].dtype) for i in meta.tangent_outputs]
        self.in_meta = tuple((disp.example_args[i]._data.shape, disp.example_args[i]._data.dtype)
                             for i in meta.grad_inputs)
        fw_out = list(fw_gm.graph.nodes)[-1].args[0]
        saved_nodes = list(fw_out[n_fw:])
        self.saved_tensor_idx = tuple(k for k, s in enumerate(saved_nodes)
                                      if isinstance(s.meta.get("val"), Tensor))
        outs = set(fw_out[:self.n_out])
        self.saved_is_output = tuple(k for k, s in enumerate(saved_nodes) if s in outs)
        # made on first use by the backward (most forwards never need them)
        self._pruned = {}  # present-tangent pattern -> compiled pruned backward
        self._tangent_reach = None  # backward node -> tangent positions it depends on
        self._saved_needed = {}  # present-tangent pattern -> saved positions it reads
        self._tangent_deps = None  # gradient output -> tangent positions it depends on

    def compile_bw(self):
        self.bw = self.disp.config.bw_compiler(self.bw_gm, _example_inputs(self.bw_gm))
        return self.bw

    def has_backward_hooks(self):
        """Whether the backward graph runs hooks (trace_wrapped calls)."""
        return any(n.target is TRACE_WRAPPED for n in self.bw_gm.graph.nodes if n.op == "call_function")

    def pruned_bw(self, live):
        """The backward graph for a pattern of present tangents: values that depend only on
        absent tangents (which eager never computes) are dropped."""
        cache = self._pruned
        fn = cache.get(live)
        if fn is None:
            gm = _prune_absent_tangents(self.bw_gm, live, self.tangent_reach())
            fn = cache[live] = self.disp.config.bw_compiler(gm, _example_inputs(gm))
        return fn

    def tangent_reach(self):
        """node -> the positions of the tangents it depends on, in the backward graph."""
        reach = self._tangent_reach
        if reach is None:
            reach = self._tangent_reach = _tangent_reach(self.bw_gm.graph, len(self.tangent_meta))
        return reach

    def saved_needed(self, k, grads):
        """Whether saved value k meets a gradient path from an output that got a gradient (as in
        eager, a value changed in place only matters when the backward that saved it runs)."""
        live = frozenset(j for j, g in enumerate(grads) if g is not None)
        cache = self._saved_needed
        if live not in cache:
            reach = self.tangent_reach()
            nodes = list(self.bw_gm.graph.nodes)
            # absent: values only on gradients eager never computes
            absent = {n for n, d in reach.items() if d and not d & live}
            # every value feeding a node on a present gradient's path counts, also through
            # recomputed ones (the min-cut partition recomputes `x + y` from saved inputs in
            # the backward)
            feeds = {n for n, d in reach.items() if d & live and n.op != "placeholder"}
            out = nodes[-1]
            if any(reach.get(a, frozenset()) & live for a in out.all_input_nodes):
                feeds.add(out)  # then every gradient it returns counts, not only those on the path
            for n in reversed(nodes):
                if n in feeds:
                    feeds.update(a for a in n.all_input_nodes if a not in absent)
            phs = [n for n in nodes if n.op == "placeholder"]
            cache[live] = {k for k, ph in enumerate(phs) if ph in feeds}
        return k in cache[live]

    def tangent_deps(self, i):
        """The tangents (by position) the backward graph's gradient output i depends on."""
        deps = self._tangent_deps
        if deps is None:
            reach = self.tangent_reach()
            out = list(self.bw_gm.graph.nodes)[-1].args[0]
            deps = self._tangent_deps = [reach.get(o, frozenset()) if o is not None else frozenset() for o in out]
        return deps[i] if i < len(deps) and deps[i] else range(len(self.tangent_meta))

    def __call__(self, args):
        prev = _state.grad_enabled
        _state.grad_enabled = False
        try:
            outs = self.fw(*args)
        finally:
            _state.grad_enabled = prev
        n_out = self.n_out
        saved = list(outs[self.n_fw:])
        for k in self.saved_is_output:  # a detached alias: no node -> tensor -> node cycle
            o = saved[k]
            if o._vc is None:
                o._vc = [0]
            saved[k] = Tensor._wrap(o._data)
            saved[k]._vc = o._vc  # sharing the version counter: in-place changes of the output are seen
        disp = self.disp
        if disp.mutated:
            disp.apply_mutations(args, outs, saved)
        node = CompiledFunctionBackward(
            tuple([args[i]._edge() if args[i]._rg else None for i in self.grad_inputs]), self.in_meta)
        node._rt = self
        node._saved = saved
        node._versions = [saved[k]._vc[0] if saved[k]._vc is not None else 0 for k in self.saved_tensor_idx]
        node._inputs = args
        node._in_versions = [args[i]._vc[0] if args[i]._vc is not None else 0 for i in disp.tensor_idx]
        node.n_outputs = len(self.tangent_outputs)
        for slot, i in enumerate(self.tangent_outputs):
            o = outs[i]
            if o._base is not None:  # a view of a value of the no-grad forward: the node owns it now
                o._base = None
                o._view_chain = ()
                o._creation_meta = None
            o.grad_fn = node
            o._out_nr = slot
            o._rg = True
        if disp.simple_outputs:
            return outs[:n_out] if len(outs) != n_out else outs
        return disp.finish_outputs(args, outs)

    def double_backward(self, node, grads):
        """create_graph=True: differentiate the original function eagerly, keeping the graph."""
        if self.meta.mutated_inputs:
            raise RuntimeError("aot_eager: create_graph=True (double backward) through a compiled graph "
                               "that mutates its inputs is not supported; run it eagerly")
        args = node._inputs
        for i, v in zip(self.disp.tensor_idx, node._in_versions):
            vc = args[i]._vc
            if (vc[0] if vc is not None else 0) != v:
                raise _inplace_error(args[i])
        with tl.enable_grad():
            flat = tree_flatten(self.disp.fn(*args))[0]
            outs = [flat[i] for i in self.tangent_outputs]
            gs = [g if g is not None else tl.zeros(m[0], dtype=tl._dtype.from_np(m[1]))
                  for g, m in zip(grads, self.tangent_meta)]
            wanted = [i for i in self.grad_inputs if args[i]._rg]
            res = tl.autograd.grad(outs, [args[i] for i in wanted], grad_outputs=gs,
                                   create_graph=True, allow_unused=True)
        by_pos = dict(zip(wanted, res))
        return [by_pos.get(i) for i in self.grad_inputs]


def _replay_views(t, chain, grad):
    """Apply a view chain [(prim, extra, params)] to t, recording autograd only if `grad`."""
    prev = _state.grad_enabled
    _state.grad_enabled = prev and grad
    try:
        for prim, extra, params in chain:
            t = bind(prim, (t, *extra), params)
    finally:
        _state.grad_enabled = prev
    return t


def _alias_order(aliases):
    """[(k, (input, chain), (output j or None, steps of chain already done by j))]: an output
    that views another input-aliasing output (y[None] and y[None][0:1]) is rebuilt from it, so
    its gradient passes through the other's node (and hooks there), as in eager."""
    done = []
    res = []
    for k, (i, chain) in sorted(aliases, key=lambda a: len(a[1][1])):
        src = (None, 0)
        for j, (i2, c2) in done:
            # a strict prefix: an equal chain is another view of the input, not a view of j
            if i2 == i and 0 < len(c2) < len(chain) and tuple(chain[:len(c2)]) == tuple(c2) \
                    and len(c2) > src[1]:
                src = (j, len(c2))
        res.append((k, (i, chain), src))
        done.append((k, (i, chain)))
    return res


class _Eager:
    """Runs the original graph eagerly (used when the joint trace hits the program's own
    autograd error: eager raises it later, at backward, and so must we)."""

    def __init__(self, disp):
        self.disp = disp

    def __call__(self, args):
        return list(tree_flatten(self.disp.fn(*args))[0])  # flat, like the compiled variants


class _Inference:
    def __init__(self, disp, meta):
        self.meta = meta
        self.disp = disp
        self.gm = trace_inference(disp.fn, disp.example_args, meta)
        _log("Forward", self.gm, next(_graph_counter))
        self.fw = disp.config.inference_compiler(self.gm, _example_inputs(self.gm))
        self.n_out = len(meta.outputs)

    def __call__(self, args):
        prev = _state.grad_enabled
        _state.grad_enabled = False
        try:
            outs = self.fw(*args)
        finally:
            _state.grad_enabled = prev
        disp = self.disp
        if disp.mutated:
            disp.apply_mutations(args, outs, ())
        if disp.simple_outputs:
            return outs[:self.n_out] if len(outs) != self.n_out else outs
        return disp.finish_outputs(args, outs)


class AOTDispatcher:
    """Compiled fn over flat inputs: picks (and compiles on first use) the variant per call."""

    def __init__(self, fn, example_args, config, graph_inputs=()):
        self.fn = fn
        self.example_args = list(example_args)
        self.config = config
        self.graph_inputs = tuple(graph_inputs)
        self.tensor_idx = tuple(i for i, a in enumerate(self.example_args) if isinstance(a, Tensor))
        self.variants = {}
        self.inference = None
        self.meta = None
        self.mutated = ()
        self.simple_outputs = True

    def _setup(self, meta):
        if self.meta is None:
            self.meta = meta
            self.mutated = tuple(meta.mutated_inputs)
            self.aliases = [(k, o.alias) for k, o in enumerate(meta.outputs) if o.is_tensor and o.alias]
            # views taken under no_grad in the graph do not require grad: replay them so too
            self.alias_nograd = {k for k, o in enumerate(meta.outputs) if o.is_tensor and o.alias and not o.requires_grad}
            self.dups = [(k, o.dup_of) for k, o in enumerate(meta.outputs) if o.dup_of is not None]
            self.aliases_from = _alias_order(self.aliases)
            self.out_views = [(k, o.view_of, o.requires_grad) for k, o in enumerate(meta.outputs)
                              if o.is_tensor and o.view_of is not None]
            self.simple_outputs = not self.aliases and not self.dups and not self.out_views
            self.n_out = len(meta.outputs)

    def compile_variant(self, grad_enabled, rg_key):
        """Compile the variant for this grad mode and requires_grad pattern (done on first use)."""
        args = self.example_args
        if rg_key is not None:
            for i, rg in zip(self.tensor_idx, rg_key):
                if args[i].requires_grad != rg:
                    args[i] = fake_tensor(args[i]._data.shape, args[i]._data.dtype, rg)
        meta = collect_metadata(self.fn, args, grad_enabled, self.graph_inputs)
        self._setup(meta)
        if getattr(meta, "mutation_gains_grad", False) or getattr(meta, "layout_dependent", False):
            # the copy-back into the input would not carry autograd history, or whether an
            # in-place write reaches a reshaped tensor depends on memory layout: run eagerly
            v = _Eager(self)
        elif grad_enabled and meta.grad_inputs and meta.tangent_outputs:
            try:
                v = _Training(self, meta)
            except RuntimeError as e:
                # the program's own backward fails (an in-place op on a value its backward
                # needs): run the graph eagerly, so the error surfaces at backward time as in eager
                if "modified by an inplace operation" not in str(e):
                    raise
                v = _Eager(self)
            else:
                if self.out_views and v.has_backward_hooks():
                    # an output that views another output is rebuilt from it outside the
                    # graph, so the gradient it gets from the caller would pass by a hook the
                    # graph runs on it (fuzz seed 6401452): run the graph as it is
                    v = _Eager(self)
        else:
            v = self.inference if self.inference is not None else _Inference(self, meta)
            if not grad_enabled or not meta.grad_inputs:
                self.inference = v
        if rg_key is not None:
            self.variants[rg_key] = v
        # later variants need only metadata: do not keep the first call's tensors alive
        self.example_args = [fake_tensor(a._data.shape, a._data.dtype, a.requires_grad)
                             if isinstance(a, Tensor) and not is_fake(a) else a for a in self.example_args]
        return v

    def __call__(self, *args):
        if _state.grad_enabled:
            key = tuple([args[i]._rg for i in self.tensor_idx])
            v = self.variants.get(key)
            if v is None:
                v = self.compile_variant(True, key)
        else:
            v = self.inference
            if v is None:
                v = self.compile_variant(False, None)
        if self.mutated and (self._mutated_input_aliased(args) or self._mutated_input_unwritable(args)):
            return self.fn(*args)
        return v(args)

    def _mutated_input_unwritable(self, args):
        """True when an input the graph mutates cannot be written (an expanded or read-only
        array): running the graph as it is raises eager's error, before any other effect."""
        return any(not args[i]._data.flags.writeable or any(p.name == "expand" for p, _, _ in args[i]._view_chain)
                   for i in self.mutated)

    def _mutated_input_aliased(self, args):
        """True when an input the graph mutates shares memory with another input (t and
        t.flatten() passed separately): the traced graph treats them as independent, so the
        mutation would not be seen through the other; such calls run the graph as it is."""
        for i in self.mutated:
            d = args[i]._data
            for j in self.tensor_idx:
                if j != i and np.may_share_memory(d, args[j]._data):
                    return True
        return False

    # -- the epilogue: mutations, aliases, duplicates --------------------------------------
    def apply_mutations(self, args, outs, saved):
        n = self.n_out
        news = outs[n:n + len(self.mutated)]
        for k, s in enumerate(saved):  # a saved value sharing memory with an input about to change
            if isinstance(s, Tensor) and any(np.may_share_memory(s._data, args[i]._data) for i in self.mutated):
                saved[k] = Tensor._wrap(s._data.copy())
        for i, new in zip(self.mutated, news):
            dst = args[i]
            if new is not dst:
                dst._data[...] = new._data
                dst._bump_version()

    def finish_outputs(self, args, outs):
        outs = list(outs[:self.n_out])
        for k, (i, chain), (j, skip) in self.aliases_from:
            src = args[i] if j is None else outs[j]
            outs[k] = _replay_views(src, chain[skip:], k not in self.alias_nograd)
        for k, (j, chain), rg in self.out_views:
            outs[k] = _replay_views(outs[j], chain, rg)
        for k, j in self.dups:
            outs[k] = outs[j]
        return outs
