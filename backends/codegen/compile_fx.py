"""compile_fx_graph: a primitive-level GraphModule -> generated Python/numpy source -> callable.

`generate` runs the passes, in order: dead-code elimination, constant folding (nodes
computable from constants only), CSE, eliding `expand` feeding broadcasting elementwise ops,
lowering (passes.py, with lowering.py per node; Python-number operands of ufuncs become
constants of the operation's dtype), fusion of large elementwise chains (fusion.py), buffer
planning (memory.py), emission of one statement per graph node, named after the node, and of
the outputs (emit.py). The generated `make` returns the kernel and its entry point `call`,
the callable compile_fx_graph hands out (one Python frame around the kernel).

Nodes that call user code (`trace_wrapped`, carrying a tensor hook `fn`, usually a graph
input such as a hook box, so the hook passed at run time is the one called) run their eager
implementation; they are never folded, merged by CSE or dropped, their operands never live
in a reused buffer (a hook may keep its gradient) and their result is never written in place
(it may be the hook's own tensor). Non-tensor inputs pass through unchanged.

>>> import tensorlite as tl, fxlite
>>> from backends.codegen import compile_fx_graph
>>> gm = fxlite.make_fx(lambda x: (tl.sin(x) * 2 + 1,))(tl.ones(3))
>>> fn = compile_fx_graph(gm, [tl.ones(3)])
>>> print(fn.source.split("def make")[0].strip())  # doctest: +SKIP
>>> fn(tl.zeros(3))[0].tolist()
[1.0, 1.0, 1.0]
"""
import numpy as np

from tensorlite._tensor import Tensor

from . import emit, fusion, lowering, passes
from .memory import plan

__all__ = ["generate", "Artifact"]


class Artifact:
    """What compilation produces (and the disk cache stores): source + constant arrays."""

    def __init__(self, source, consts, buffers, cacheable=True, name="kernel"):
        self.source = source
        self.consts = consts  # name -> np.ndarray
        self.buffers = buffers  # [(shape, dtype str)]
        self.cacheable = cacheable
        self.name = name


def generate(gm, example_inputs, options=None):
    """Lower gm to an Artifact (source text defining `make(_bufs, _gm)`): the passes of
    passes.py, fusion and memory planning, then emission."""
    options = options or {}
    nodes = list(gm.graph.nodes)
    result = next(n for n in reversed(nodes) if n.op == "output").args[0]
    out_nodes = passes.flat_nodes(result)
    live = passes.live_nodes(nodes, out_nodes)  # dead code elimination
    folded = passes.fold_constants(nodes, live)
    k = passes.bind_inputs(nodes, live, folded, example_inputs, out_nodes)
    ops = passes.merge_common(nodes, live, k)  # CSE
    ops = passes.elide_expands(ops, live, k)
    lowered = passes.lower_ops(ops, k)
    groups = fusion.find_groups(ops, lowered, k.values, options, k.consts)
    memory = plan(k.values)
    body = emit.statements(ops, lowered, groups, memory, k)
    body += emit.outputs(result, out_nodes, folded, k)
    name = getattr(gm, "_codegen_name", None) or "kernel"
    source = emit.kernel_source(name, k.params, memory.buffers, dict.fromkeys(groups.values()), body)
    cacheable = all(isinstance(v, np.ndarray) for v in k.consts.values())
    return Artifact(source, k.consts, [(s, np.dtype(d).str) for s, d in memory.buffers], cacheable, name)


# ----------------------------------------------------------------------------- runtime

def _wrap_array(arr, _new=object.__new__, _T=Tensor):
    """Tensor._wrap(arr) for a kernel's result: a tensor needing no gradient holds only _data
    (every other attribute has its class default), so nothing else is set."""
    t = _new(_T)
    t._data = arr
    return t


class CompiledGraph:
    """The callable compile_fx_graph returns: runs the generated kernel on tensors.

    Persistent buffers belong to this object; a re-entrant or concurrent call (the kernel is
    already running) gets freshly allocated buffers, so buffers are never shared by two
    running calls. numpy floating-point warnings are off inside, as in eager tensorlite.
    """

    def __init__(self, artifact, gm):
        import contextvars
        self.artifact = artifact
        self.source = artifact.source
        ns = lowering.impl_namespace()
        ns.update(fusion.runtime_namespace())
        # 0-d constants as numpy scalars of their dtype (np.float32(2.0)): the same value and
        # the same type in numpy's promotion as the 0-d array, so every ufunc result is too
        ns.update({k: (v[()] if isinstance(v, np.ndarray) and v.ndim == 0 else v) for k, v in artifact.consts.items()})
        ns["_wrap"] = _wrap_array
        ns["_asarray"] = np.asarray
        code = compile(artifact.source, f"<codegen {artifact.name}>", "exec")
        exec(code, ns)
        self._make = ns["make"]
        self._gm = gm
        ctx = contextvars.copy_context()
        ctx.run(np.seterr, all="ignore")
        self._run = ctx.run
        self.kernel, self._call = self._make(self._new_buffers(), gm, self._run, self._fallback)
        # what compile_fx_graph returns: the generated entry point itself (one Python frame
        # around the kernel), carrying this object's attributes
        call = self._call
        call.source = self.source
        call.kernel = self.kernel
        call._run = self._run
        call.artifact = artifact
        call.compiled = self

    def _new_buffers(self):
        return [np.empty(s, np.dtype(d)) for s, d in self.artifact.buffers]

    def _fallback(self, err, args):
        if "already entered" not in str(err):
            raise err
        with np.errstate(all="ignore"):
            return self._make(self._new_buffers(), self._gm)[0](*args)

    def __call__(self, *args):
        return self._call(*args)
