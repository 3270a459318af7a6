"""backends.aot: AOT autograd (joint forward+backward tracing, partitioning, runtime wrapper).

* `aot_function(fn, fw_compiler, bw_compiler=None, partition_fn=None)`: compile a function of
  tensors (and nested tuples/lists/dicts of them) for training; recompiles per input
  signature (shapes, dtypes, requires_grad, non-tensor values).
* `aot_module_simplified(mod, example_inputs, fw_compiler, bw_compiler=None, ...)`: the
  Dynamo entry point: compile a Dynamo-level GraphModule called with flat inputs; any other
  tl.nn.Module is traced through its call (hooks included), its parameters and buffers
  lifted to graph inputs as PyTorch does.
* `default_partition`, `min_cut_rematerialization_partition`: partitioners (partition.py).
* `nop`: a compiler that runs the graph as it is.

Pipeline (one compile): metadata pass on fake tensors -> joint trace with `make_fx`
(`inner_f(primals, tangents)`, see joint.py) -> `partition_fn` -> `fw_compiler(fw_gm)` now,
`bw_compiler(bw_gm)` on the first backward -> runtime wrapper (runtime.py). Hooks on
intermediates are carried by `trace_wrapped` (see trace_wrapped.py for the contract). Calls of
nested compile regions (`invoke_subgraph`) stay opaque: the forward and backward graphs call
partitioned `fw_subgraph_k`/`bw_subgraph_k` modules once per call site (subgraph.py).
With the `aot_graphs` log topic on (`MINIDYNAMO_LOGS=aot_graphs` under minidynamo, or
`backends.settings.topics`) the forward and backward graphs are logged.

>>> import tensorlite as tl
>>> from backends.aot import aot_function, nop
>>> def f(x, w):
...     return (x @ w).relu().sum()
>>> cf = aot_function(f, fw_compiler=nop)
>>> x, w = tl.ones(2, 3, requires_grad=True), tl.ones(3, 2, requires_grad=True)
>>> cf(x, w).backward(); w.grad
tensor([[2., 2.],
        [2., 2.],
        [2., 2.]])
"""
import functools

from fxlite.codegen import same_key
from fxlite.marks import runs_graph_as_is
from tensorlite._tensor import Tensor

from . import trace_wrapped  # noqa: F401  (registers the trace_wrapped primitive)
from .joint import tree_flatten, tree_unflatten
from .partition import default_partition, min_cut_rematerialization_partition
from .runtime import AOTConfig, AOTDispatcher

__all__ = ["aot_function", "aot_module_simplified", "default_partition",
           "min_cut_rematerialization_partition", "nop", "make_boxed_compiler"]


def nop(gm, example_inputs):
    """A compiler that runs the graph as traced (returns its generated forward)."""
    return gm.forward


def make_boxed_compiler(compiler):
    """Compatibility shim: our compilers already take and return plain callables."""
    return compiler


def _key(leaf):
    """The part of the cache key for one input. A non-tensor input is traced as a constant, so
    an entry serves only the same constant: same type and bits (fxlite.codegen.same_key: 0.0
    and -0.0 are two entries, though they are == with one hash), other objects by identity
    (held by the key, so an id is never reused)."""
    if isinstance(leaf, Tensor):
        return (Tensor, leaf._data.shape, leaf._data.dtype, leaf._rg)
    return same_key(leaf)


def aot_function(fn, fw_compiler, bw_compiler=None, partition_fn=None, inference_compiler=None):
    """Compile fn for forward and backward; compilation happens on the first call per signature.

    >>> import tensorlite as tl
    >>> seen = []
    >>> def fw(gm, inputs):
    ...     seen.append("fw"); return gm.forward
    >>> def bw(gm, inputs):
    ...     seen.append("bw"); return gm.forward
    >>> g = aot_function(lambda x: x.sin().sum(), fw, bw)
    >>> y = g(tl.zeros(3, requires_grad=True)); seen
    ['fw']
    >>> y.backward(); seen
    ['fw', 'bw']
    """
    config = AOTConfig(fw_compiler, bw_compiler, partition_fn, inference_compiler)
    cache = {}

    @functools.wraps(fn)
    def returned(*args, **kwargs):
        leaves, in_spec = tree_flatten((args, kwargs))
        key = (in_spec_key(in_spec), tuple(map(_key, leaves)))
        entry = cache.get(key)
        if entry is None:
            def flat_fn(*flat):
                a, k = tree_unflatten(flat, in_spec)
                return fn(*a, **k)

            entry = cache[key] = AOTDispatcher(flat_fn, leaves, config)
        outs = entry(*leaves)
        return tree_unflatten(outs, entry.meta.out_spec)

    returned.cache = cache
    return returned


def in_spec_key(spec):
    if spec is None:
        return None
    if spec[0] is dict:
        return (dict, tuple(spec[1]), tuple(in_spec_key(s) for s in spec[2]))
    return (spec[0], tuple(in_spec_key(s) for s in spec[1]))


def _lift_parameters(gm, example_inputs):
    """get_attr tensors that require grad become leading inputs (their gradients are needed)."""
    import fxlite

    lifted = []
    for n in gm.graph.nodes:
        if n.op == "get_attr":
            v = _fetch(gm, n.target)
            if isinstance(v, Tensor) and v.requires_grad:
                lifted.append(n)
    if not lifted:
        return gm, list(example_inputs), None
    g = fxlite.Graph()
    env = {}
    for n in lifted:
        env[n] = g.placeholder(n.target.replace(".", "_"))
        env[n].meta = dict(n.meta)
    for n in gm.graph.nodes:
        if n.op == "placeholder":
            env[n] = g.node_copy(n, env.__getitem__)
    for n in gm.graph.nodes:
        if n not in env:
            env[n] = g.node_copy(n, env.__getitem__)
    new = fxlite.GraphModule(gm, g, type(gm).__name__)
    targets = [n.target for n in lifted]
    return new, [_fetch(gm, t) for t in targets] + list(example_inputs), targets


def _fetch(obj, target):
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def aot_module_simplified(mod, example_inputs, fw_compiler, bw_compiler=None, partition_fn=None,
                          inference_compiler=None):
    """Compile a module for forward and backward; returns a callable taking the same flat inputs.

    A GraphModule (what Dynamo hands a backend) is compiled from its graph. Callable inputs
    are traced as graph inputs (placeholders), so hooks passed to `trace_wrapped.register_hook`
    through them may change between calls. Any other tl.nn.Module is traced through its call
    (forward, its hooks, hooks it registers), with its parameters and buffers as leading graph
    inputs, as PyTorch's does (`_aot_plain_module`).

    >>> import tensorlite as tl, fxlite
    >>> gm = fxlite.symbolic_trace(lambda x: (x.sin(),))
    >>> x = tl.ones(2, requires_grad=True)
    >>> out = aot_module_simplified(gm, [x], nop)(x)
    >>> out[0].grad_fn.name()
    'CompiledFunctionBackward'
    >>> lin = tl.nn.Linear(2, 1)
    >>> aot_module_simplified(lin, [x], nop)(x).grad_fn.name()
    'CompiledFunctionBackward'
    """
    import fxlite
    import tensorlite as tl

    config = AOTConfig(fw_compiler, bw_compiler, partition_fn, inference_compiler)
    if not isinstance(mod, fxlite.GraphModule):
        return _aot_plain_module(mod, example_inputs, config)
    gm = mod
    if any(n.op == "call_function" and runs_graph_as_is(n.target) for n in gm.graph.nodes):
        # nodes marked with `mark_run_graph_as_is`: a grad-mode switch inside the graph (a
        # `with no_grad()` block that a graph break cut open), module backward hooks (which
        # need their own autograd nodes): one autograd node per call cannot express those
        return gm.forward
    gm, inputs, lifted = _lift_parameters(gm, example_inputs)
    graph_inputs = [i for i, a in enumerate(inputs) if not isinstance(a, Tensor) and callable(a)]
    disp = AOTDispatcher(gm.forward, inputs, config, graph_inputs)
    rg_key = tuple(inputs[i].requires_grad for i in disp.tensor_idx) if tl.is_grad_enabled() else None
    disp.compile_variant(tl.is_grad_enabled(), rg_key)
    spec = disp.meta.out_spec
    flat_tuple = spec is not None and spec[0] is tuple and all(s is None for s in spec[1])

    if lifted is None and flat_tuple:
        return disp
    if lifted is None:
        return lambda *args: tree_unflatten(disp(*args), spec)

    def run(*args):
        outs = disp(*[_fetch(gm, t) for t in lifted], *args)
        return tuple(outs) if flat_tuple else tree_unflatten(outs, spec)

    return run


def _module_state(mod):
    """Every (name, tensor) of mod's parameters then buffers, a tied tensor under each of its
    names (PyTorch's remove_duplicate=False: each name is one graph input)."""
    return [*mod.named_parameters(remove_duplicate=False), *mod.named_buffers(remove_duplicate=False)]


def _aot_plain_module(mod, example_inputs, config):
    """aot_module_simplified for a module that is not a GraphModule: trace the call of mod with
    its state replaced by graph inputs (functional_call), so gradients reach the parameters.
    The state is read again at every call (a parameter assigned a new tensor is used); state
    whose names, shapes or dtypes changed since compiling raises instead of running a stale graph."""
    import tensorlite as tl
    from tensorlite.nn.utils.stateless import functional_call

    state = _module_state(mod)
    names = [name for name, _ in state]
    signature = [(name, t._data.shape, t._data.dtype) for name, t in state]
    n = len(names)

    def flat_call(*args):
        return functional_call(mod, dict(zip(names, args[:n])), tuple(args[n:]), tie_weights=False)

    inputs = [t for _, t in state] + list(example_inputs)
    disp = AOTDispatcher(flat_call, inputs, config)
    rg_key = tuple(inputs[i].requires_grad for i in disp.tensor_idx) if tl.is_grad_enabled() else None
    disp.compile_variant(tl.is_grad_enabled(), rg_key)  # compile now, as for a GraphModule

    def current_state():
        state = _module_state(mod)
        if [(name, t._data.shape, t._data.dtype) for name, t in state] != signature:
            raise RuntimeError(_state_changed_message(mod))
        return [t for _, t in state]

    def forward(*args):
        return tree_unflatten(disp(*current_state(), *args), disp.meta.out_spec)

    # as PyTorch's: the returned function answers for the module's state
    forward.zero_grad = mod.zero_grad
    forward.named_parameters = mod.named_parameters
    forward.named_buffers = mod.named_buffers
    return forward


def _state_changed_message(mod):
    return (f"aot_module_simplified: the parameters or buffers of {type(mod).__name__} changed name, "
            "number, shape or dtype since it was compiled; compile it again")


from .. import aot_eager as _aot_eager  # noqa: E402,F401  (registers the "aot_eager" backend)
