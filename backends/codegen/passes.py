"""The passes compile_fx.generate runs on a primitive-level graph, in order, each a function
taking what it reads and returning what the next pass needs:

  live_nodes (dead code elimination) -> fold_constants -> bind_inputs -> merge_common (CSE)
  -> elide_expands -> lower_ops (lowering.py per node) -> fusion.find_groups -> memory.plan
  -> emit.statements, emit.outputs

What they share is a `Kernel`: the text of each node's value inside the kernel, its
constants, parameters, prologue, and the memory.Value of every array.

>>> import tensorlite as tl, fxlite
>>> gm = fxlite.make_fx(lambda x: (tl.sin(x) + tl.sin(x), tl.full((2,), 3.0) * 2))(tl.ones(2))
>>> nodes = list(gm.graph.nodes)
>>> outputs = flat_nodes(nodes[-1].args[0])
>>> live = live_nodes(nodes, outputs)
>>> folded = fold_constants(nodes, live)
>>> k = bind_inputs(nodes, live, folded, [tl.ones(2)], outputs)
>>> [n.name for n in merge_common(nodes, live, k)], k.src[nodes[2]]  # sin_1 reads sin
(['sin', 'add'], 'sin')
"""
import operator
from dataclasses import dataclass, field

import numpy as np

from fxlite import Node
from fxlite.passes.walk import ancestors, viewed_by
from tensorlite._primitive import Primitive
from tensorlite._tensor import Tensor

from . import lowering
from .lowering import ELEMENTWISE, VIEW_PRIMS, Steps, Uncacheable, key_text, literal
from .memory import Value

__all__ = ["Kernel", "flat_nodes", "meta", "np_dtype", "live_nodes", "fold_constants", "bind_inputs",
           "merge_common", "elide_expands", "lower_ops", "FOLD_LIMIT"]

FOLD_LIMIT = 4096  # largest constant (elements) that is folded into the kernel


@dataclass
class Kernel:
    """The kernel as the passes build it.

    outputs: the nodes the graph returns; src: node -> the text of its value inside the kernel
    (its name, a constant, or the text of the node CSE or expand elision replaced it by);
    consts: "_kN" -> a value bound in the kernel's namespace; params: the kernel's parameters,
    one per placeholder; prologue: the statements unpacking them; values: a memory.Value per
    array of the program, in program order.
    """

    outputs: frozenset
    src: dict = field(default_factory=dict)
    consts: dict = field(default_factory=dict)
    params: list = field(default_factory=list)
    prologue: list = field(default_factory=list)
    values: list = field(default_factory=list)


def flat_nodes(x, out=None):
    """The nodes inside a nested argument (tuples, lists, dict values, slices), in order, with
    repeats: flat_nodes(output.args[0]) lists what a graph returns."""
    out = [] if out is None else out
    if isinstance(x, Node):
        out.append(x)
    elif isinstance(x, (tuple, list)):
        for y in x:
            flat_nodes(y, out)
    elif isinstance(x, dict):
        for y in x.values():
            flat_nodes(y, out)
    elif isinstance(x, slice):
        flat_nodes((x.start, x.stop, x.step), out)
    return out


def meta(n):
    """The TensorMeta recorded for a node's value (None for a non-tensor or a non-node)."""
    v = n.meta.get("val") if isinstance(n, Node) else None
    return v if hasattr(v, "shape") and hasattr(v, "dtype") else None


def np_dtype(m):
    """The numpy dtype of a TensorMeta."""
    d = m.dtype
    return np.dtype(d.np if hasattr(d, "np") else d)


def _array_value(name, m, operands=(), kind="input"):
    return Value(name, m.shape, np_dtype(m), operands, kind=kind)


def _is_primitive_call(n):
    return n.op == "call_function" and isinstance(n.target, Primitive)


def _is_output_item(n):
    """`getitem` of a multi-output primitive call (var_mean, unbind): computed by the kernel
    right after its call, as `name = call[i]`."""
    return n.op == "call_function" and n.target is operator.getitem and isinstance(n.args[0], Node) \
        and _is_primitive_call(n.args[0])


def _op_name(n):
    """The primitive's name, "getitem" for an output of a multi-output one."""
    return "getitem" if _is_output_item(n) else n.target.name


# ----------------------------------------------------------------------------- DCE

def live_nodes(nodes, outputs):
    """Dead code elimination: the outputs, every impure node (Node.is_impure: a user hook,
    randomness), and every node they depend on. The other nodes are never compiled."""
    return ancestors(list(outputs) + [n for n in nodes if n.is_impure()])


# ----------------------------------------------------------------------------- constant folding

def fold_constants(nodes, live):
    """Constant folding: node -> its value (an array of at most FOLD_LIMIT elements) for every
    live single-output primitive call whose operands are all folded, computed by the
    primitive's eager implementation. Impure calls are never folded, nor is `expand`: expand
    elision lets its operand broadcast where it is used instead.

    >>> import tensorlite as tl, fxlite
    >>> gm = fxlite.make_fx(lambda x: x + tl.full((2,), 3.0) * 2)(tl.ones(2))
    >>> nodes = list(gm.graph.nodes)
    >>> {n.name: v.tolist() for n, v in fold_constants(nodes, set(nodes)).items()}
    {'full': [3.0, 3.0], 'mul': [6.0, 6.0]}
    """
    folded = {}
    for n in nodes:
        if n in live and _is_primitive_call(n) and n.target.name != "expand" and n.target.n_outputs == 1 \
                and not n.is_impure() and all(d in folded for d in n.all_input_nodes):
            val = _evaluate(n, folded)
            if val is not None and val.size <= FOLD_LIMIT:
                folded[n] = val
    return folded


def _evaluate(n, folded):
    """n's value computed eagerly from the folded values of its operands (None if that fails)."""
    try:
        with np.errstate(all="ignore"):
            return np.asarray(n.target.impl(*_subst(n.args, folded), **_subst(n.kwargs, folded)))
    except Exception:
        return None


def _subst(x, env):
    if isinstance(x, Node):
        return env[x]
    if isinstance(x, tuple):
        return tuple(_subst(y, env) for y in x)
    if isinstance(x, list):
        return [_subst(y, env) for y in x]
    if isinstance(x, dict):
        return {k: _subst(y, env) for k, y in x.items()}
    return x


# ----------------------------------------------------------------------------- inputs

def bind_inputs(nodes, live, folded, example_inputs, outputs):
    """A Kernel with the values that exist before the kernel computes anything: a parameter
    per placeholder (`x_in` for one the graph returns, which is returned as passed), the array
    of each tensor input, attribute and item of an input unpacked in the prologue, and the
    text of each folded constant (a literal, or `_kN` bound in the kernel's namespace), all
    in graph order. Raises NotImplementedError for a node codegen cannot compile.

    >>> import tensorlite as tl, fxlite
    >>> gm = fxlite.make_fx(lambda x: (x, x * tl.full((2,), 3.0)))(tl.ones(2))
    >>> nodes = list(gm.graph.nodes)
    >>> k = bind_inputs(nodes, set(nodes), fold_constants(nodes, set(nodes)), [tl.ones(2)], nodes[:1])
    >>> k.params, k.prologue, k.consts
    (['x_1_in'], ['x_1 = x_1_in._data'], {'_k0': array([3., 3.], dtype=float32)})
    """
    k = Kernel(frozenset(outputs))
    placeholders = [n for n in nodes if n.op == "placeholder"]
    examples = dict(zip(placeholders, example_inputs))
    for n in nodes:
        if n.op == "placeholder":
            _bind_placeholder(k, n, examples.get(n))
        elif n not in live or n.op == "output":
            continue
        elif n.op == "get_attr":
            if meta(n) is None:  # e.g. a subgraph module called by invoke_subgraph
                raise NotImplementedError(f"codegen: get_attr of a non-tensor ({n.target})")
            k.src[n] = n.name
            k.prologue.append(f"{n.name} = _gm.{n.target}._data")
            k.values.append(_array_value(n.name, meta(n)))
        elif n in folded:
            k.src[n] = _constant_text(folded[n], k.consts)
        elif n.op != "call_function":
            raise NotImplementedError(f"codegen: unsupported node op {n.op!r} ({n.name})")
        elif not isinstance(n.target, Primitive):
            _bind_item(k, n)
    return k


def _bind_placeholder(k, n, example):
    pname = n.name + "_in" if n in k.outputs else n.name
    k.params.append(pname)
    k.src[n] = n.name
    if isinstance(example, Tensor) or meta(n) is not None and example is None:
        k.prologue.append(f"{n.name} = {pname}._data")
        k.values.append(_array_value(n.name, meta(n)))
    elif pname != n.name:
        k.prologue.append(f"{n.name} = {pname}")


def _bind_item(k, n):
    """`getitem` of an input (a tuple input, an item of an attribute): unpacked in the prologue."""
    if _is_output_item(n):
        return  # computed with the kernel's ops (merge_common)
    if getattr(n.target, "__name__", None) != "getitem":
        raise NotImplementedError(f"codegen: unsupported call target {n.target!r} ({n.name})")
    if n.args[0] not in k.src:  # the prologue runs before the kernel computes anything
        raise NotImplementedError(f"codegen: getitem of a computed value ({n.name})")
    k.src[n] = n.name
    base = k.src[n.args[0]]
    k.prologue.append(f"{n.name} = {base}[{literal(n.args[1], k.consts)}]")
    k.values.append(_array_value(n.name, meta(n), [base], kind="view"))


def _constant_text(val, consts):
    if val.ndim == 0:
        return literal(val, consts)
    name = f"_k{len(consts)}"
    consts[name] = np.array(val)
    return name


# ----------------------------------------------------------------------------- CSE

def merge_common(nodes, live, k):
    """CSE: every live primitive call bind_inputs gave no value either reads the value of an
    earlier call of the same primitive with the same arguments (compared exactly, by
    lowering.key_text: 0.0 and -0.0 differ) or is computed by the kernel, named after its
    node. Returns the computed nodes, in order. An impure call (a user hook runs once per
    node, as in eager) is never merged, and neither is an output or what an output views
    (distinct outputs must not share memory).
    """
    escapes = viewed_by(k.outputs)
    first = {}  # key -> the node computing it
    ops = []
    for n in nodes:
        if n not in live or n in k.src or not (_is_primitive_call(n) or _is_output_item(n)):
            continue
        key = None if n.is_impure() else _cse_key(n, k.src)
        if key is not None and key in first and n not in escapes:
            k.src[n] = k.src[first[key]]
            continue
        if key is not None:
            first[key] = n
        k.src[n] = n.name
        ops.append(n)
    return ops


def _cse_key(n, src):
    try:
        return _op_name(n), key_text(n.args, src.__getitem__), key_text(n.kwargs, src.__getitem__)
    except Uncacheable:
        return None


# ----------------------------------------------------------------------------- expand elision

def elide_expands(ops, live, k):
    """`expand` nodes whose every live user is an elementwise op that broadcasts anyway read
    their operand instead (k.src updated); returns the nodes still computed. An expand and
    the nodes CSE merged into it are elided together or not at all, and never when one of
    them is an output.

    >>> import tensorlite as tl, fxlite
    >>> gm = fxlite.make_fx(lambda x, y: x.expand(3, 2) * y)(tl.ones(2), tl.ones(3, 2))
    >>> nodes = list(gm.graph.nodes)
    >>> k = bind_inputs(nodes, set(nodes), {}, [tl.ones(2), tl.ones(3, 2)], nodes[-2:-1])
    >>> ops = merge_common(nodes, set(nodes), k)
    >>> [n.name for n in elide_expands(ops, set(nodes), k)], k.src[nodes[2]]  # the expand reads as its operand
    (['mul'], 'x_1')
    """
    elided = set()
    for n in ops:
        if _op_name(n) != "expand":
            continue
        group = {n} | {d for d, s_ in k.src.items() if d is not n and s_ == n.name}  # with its CSE duplicates
        if all(d not in k.outputs and _elidable(d, live, elided | group) for d in group):
            elided.add(n)
            k.src[n] = k.src[n.args[0]]
    if elided:  # nodes CSE merged into an elided expand read its source too
        renamed = {e.name: k.src[e] for e in elided}
        for n, s_ in k.src.items():
            if s_ in renamed:
                k.src[n] = renamed[s_]
    return [n for n in ops if n not in elided]


def _elidable(n, live, elided=()):
    src_meta = meta(n.args[0]) if isinstance(n.args[0], Node) else None
    if src_meta is None:
        return False
    users = [u for u in n.users if u in live]
    if not users:
        return False
    for u in users:
        if u.op != "call_function" or not isinstance(u.target, Primitive) or u.target.name not in ELEMENTWISE:
            return False
        if u.target.name in ("cast", "clone") or u.kwargs and u.target.name != "clamp":
            return False
        shapes = []
        for a in u.args:
            if a is n:
                shapes.append(tuple(src_meta.shape))
            elif isinstance(a, Node):
                m = meta(a.args[0]) if a in elided else meta(a)  # an elided expand: its source
                if m is None:
                    return False
                shapes.append(tuple(m.shape))
        try:
            if tuple(np.broadcast_shapes(*shapes)) != tuple(meta(u).shape):
                return False
        except ValueError:
            return False
    return True


# ----------------------------------------------------------------------------- lowering

def lower_ops(ops, k):
    """Lowering: node -> its lowering.lower_node form (Steps of ufunc calls, or an
    expression), checked against the graph: Steps whose numpy result dtypes (probed on tiny
    arrays) differ from the recorded dtype, and a `where` whose dtype differs, run the eager
    implementation instead; Python-number operands of the Steps become constants of the
    operation's dtype (lowering.typed_scalars). Appends each node's memory.Value to k.values.
    What a user hook (an impure call) sees is never in a reused buffer nor written in place.

    >>> import tensorlite as tl, fxlite
    >>> gm = fxlite.make_fx(lambda x: tl.sin(x) * 2)(tl.ones(2))
    >>> nodes = list(gm.graph.nodes)
    >>> k = bind_inputs(nodes, set(nodes), {}, [tl.ones(2)], nodes[-2:-1])
    >>> lowered = lower_ops(merge_common(nodes, set(nodes), k), k)
    >>> [low.calls for low in lowered.values()], k.consts
    ([[('np.sin', ['x_1'], {})], [('np.multiply', ['sin', '_k0'], {})]], {'_k0': array([2., 2.], dtype=float32)})
    """
    probes = _Probes(k)
    lowered = {}
    hook_operands = set()  # values a user hook sees
    vnames = {v.name for v in k.values}
    for n in ops:
        low = lowered[n] = _checked_lowering(n, k, probes)
        value = _value_of(n, low, k, vnames)
        if n.is_impure():
            hook_operands.update(value.operands)
        vnames.add(n.name)
        k.values.append(value)
    for v in k.values:
        if v.name in hook_operands:
            v.escapes = True
    return lowered


class _Probes:
    """Tiny arrays standing for values, by their text in the kernel (lowering.probe_dtype): one
    element per axis for each array the kernel reads or computes; any other text (a constant,
    a literal) is evaluated in the kernel's namespace, once."""

    def __init__(self, k):
        self.cache = {}
        for n, s_ in k.src.items():
            m = meta(n)
            if m is not None and s_ == n.name:
                self.cache[n.name] = np.zeros((1,) * len(m.shape), np_dtype(m))
        self.ns = lowering.impl_namespace()
        self.ns.update(k.consts)

    def __getitem__(self, s):
        if s not in self.cache:
            self.cache[s] = eval(s, self.ns)
        return self.cache[s]


def _checked_lowering(n, k, probes):
    def src(x):
        return literal(x, k.consts, k.src.__getitem__)

    low = lowering.lower_node(n, src, meta, k.consts)
    probes.ns.update(k.consts)  # constants the lowering bound by name are probed as themselves
    m = meta(n)
    if isinstance(low, Steps):
        try:
            ok = m is not None and all(d == np_dtype(m) for d in lowering.probe_dtype(low, probes))
        except Exception:
            ok = False
        return lowering.typed_scalars(low, m, k.consts, probes, probes.ns) if ok else _eager(n, k)
    if _op_name(n) == "where":
        try:
            with np.errstate(all="ignore"):
                ok = np.asarray(eval(low, probes.ns, probes)).dtype == np_dtype(m)
        except Exception:
            ok = False
        return low if ok else _eager(n, k)
    return low


def _eager(n, k):
    """A call of n's eager implementation (what eager tensorlite runs)."""
    args = [literal(x, k.consts, k.src.__getitem__) for x in n.args]
    return lowering.impl_call(n.target.name, args, n.kwargs, k.consts, k.src.__getitem__)


def _value_of(n, low, k, vnames):
    """The memory.Value of node n lowered to low; vnames: the arrays defined before it."""
    name = _op_name(n)
    operands = list(dict.fromkeys(k.src[d] for d in n.all_input_nodes if k.src[d] in vnames))
    # an output of a multi-output call lives in (or views what) the call returned
    view = name in VIEW_PRIMS or name == "getitem"
    kind = "steps" if isinstance(low, Steps) else ("view" if view else "expr")
    if n.is_impure():
        kind = "input"  # the hook's result (or its argument) is never written in place
    elif kind == "view":
        first = k.src[n.args[0]] if isinstance(n.args[0], Node) else None
        if first not in vnames:
            kind = "input"  # a view of a constant: never written
        else:
            operands = [first] + [o for o in operands if o != first]
    m = meta(n)
    return Value(n.name, m.shape if m is not None else (), np_dtype(m) if m is not None else None, operands,
                 kind=kind, elementwise=name in ELEMENTWISE, escapes=n in k.outputs,
                 late_reads=low.late_reads() if isinstance(low, Steps) else ())
