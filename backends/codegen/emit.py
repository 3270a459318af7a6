"""Emission: the lowered graph written out as the source of `make`, the kernel's factory.

`statements` writes one statement (or a few) per computed node, a fused group at its root;
`outputs` the return statement; `kernel_source` wraps them in `make(_bufs, _gm, _run,
_slow)`, which returns the kernel and its entry point `call`.

>>> print(kernel_source("kernel", ["x"], [], [], ["return x"]))
def make(_bufs, _gm, _run=None, _slow=None):
    def kernel(x):
        return x
    def call(x):
        try:
            return _run(kernel, x)
        except RuntimeError as _e:
            return _slow(_e, (x,))
    return kernel, call
<BLANKLINE>
"""
from .lowering import VIEW_PRIMS, Steps, literal
from .passes import meta

__all__ = ["statements", "outputs", "kernel_source"]


def statements(ops, lowered, groups, memory, k):
    """The kernel's body up to its outputs: k.prologue, then each node of ops as lowered
    (lowered: node -> Steps or expression) into its memory.Plan storage, or its fused group
    (groups: node -> fusion.Group) emitted where the group's root is.

    >>> import tensorlite as tl, fxlite
    >>> from backends.codegen import passes, memory
    >>> gm = fxlite.make_fx(lambda x: tl.exp(tl.sin(x)))(tl.ones(2))
    >>> nodes = list(gm.graph.nodes)
    >>> k = passes.bind_inputs(nodes, set(nodes), {}, [tl.ones(2)], nodes[-2:-1])
    >>> ops = passes.merge_common(nodes, set(nodes), k)
    >>> lowered = passes.lower_ops(ops, k)
    >>> statements(ops, lowered, {}, memory.plan(k.values), k)
    ['x_1 = x_1._data', 'sin = np.sin(x_1)', 'exp = np.exp(sin, sin)']
    """
    body = list(k.prologue)
    emitted = set()
    for n in ops:
        if n in emitted:
            continue
        g = groups.get(n)
        if g is None:
            body += _node_statements(n, lowered[n], memory)
        elif n is g.root:
            body += g.emit(memory, k.src)
            emitted.update(g.nodes)
    return body


def _node_statements(n, low, memory):
    m = meta(n)
    if isinstance(low, Steps):
        lines = low.emit(n.name, memory.out.get(n.name), scalar=m is not None and not m.shape)
    else:
        lines = [f"{n.name} = {low}"]
    if m is not None and not m.shape and any(
            u.op == "call_function" and getattr(u.target, "name", None) in VIEW_PRIMS for u in n.users):
        # numpy returns 0-d results as scalars, which cannot be viewed: keep an array so a
        # view of it (x.flatten()) aliases it as in eager
        lines.append(f"{n.name} = _asarray({n.name})")
    return lines


def outputs(result, out_nodes, folded, k):
    """The statements returning result (the output node's argument; out_nodes: its nodes in
    order): a returned input as passed, an attribute as the module's tensor, a computed
    array wrapped in a Tensor (once per node, however often it is returned; a folded
    constant copied, so no call returns the kernel's own constant).

    >>> import tensorlite as tl, fxlite
    >>> from backends.codegen import passes
    >>> gm = fxlite.make_fx(lambda x: (x, tl.sin(x), tl.sin(x)))(tl.ones(2))
    >>> nodes = list(gm.graph.nodes)
    >>> result = nodes[-1].args[0]
    >>> out_nodes = passes.flat_nodes(result)
    >>> k = passes.bind_inputs(nodes, set(nodes), {}, [tl.ones(2)], out_nodes)
    >>> ops = passes.merge_common(nodes, set(nodes), k)  # outputs: never merged
    >>> outputs(result, out_nodes, {}, k)
    ['return (x_1_in, _wrap(sin), _wrap(sin_1))']
    """
    counts = {}
    for o in out_nodes:
        counts[o] = counts.get(o, 0) + 1
    lines = []
    out_src = {}
    for o in out_nodes:
        if o in out_src:
            continue
        if o.op == "placeholder":
            out_src[o] = o.name + "_in"  # bind_inputs' parameter for a returned input
        elif o.op == "get_attr":
            out_src[o] = f"_gm.{o.target}"
        else:
            m = meta(o)
            inner = k.src[o]
            if o in folded:
                inner = f"np.array({inner})"
            elif m is not None and not m.shape:
                inner = f"_asarray({inner})"
            out_src[o] = f"_wrap({inner})" if m is not None else inner
            if counts[o] > 1:
                lines.append(f"{o.name}_out = {out_src[o]}")
                out_src[o] = f"{o.name}_out"
    lines.append("return " + literal(result, k.consts, out_src.__getitem__))
    return lines


def kernel_source(name, params, buffers, groups, body):
    """The source of `make(_bufs, _gm, _run, _slow)`: it unpacks the persistent buffers
    (buffers: memory.Plan.buffers), runs each fused group's setup (groups: fusion.Group, in
    order), defines the kernel `name(*params)` with body, and returns the kernel and its
    entry point `call`: the kernel run with numpy warnings off (in a Context whose error
    state is "ignore"; a busy context, re-entrance or another thread, takes the _slow path).
    """
    bufs = [f"_b{i}" for i in range(len(buffers))]
    sig = ", ".join(params + [f"{b}={b}" for b in bufs])
    text = ["def make(_bufs, _gm, _run=None, _slow=None):"]
    if bufs:
        text.append(f"    {', '.join(bufs)}{',' if len(bufs) == 1 else ''} = _bufs")
    for g in groups:
        text += ["    " + ln for ln in g.setup()]
    text.append(f"    def {name}({sig}):")
    text += ["        " + ln for ln in body]
    plist = ", ".join(params)
    text += [f"    def call({plist}):",
             "        try:",
             f"            return _run({name}{', ' if params else ''}{plist})",
             "        except RuntimeError as _e:",
             f"            return _slow(_e, ({plist}{',' if len(params) == 1 else ''}))",
             f"    return {name}, call"]
    return "\n".join(text) + "\n"
