"""replace_pattern: find every occurrence of a pattern subgraph and replace it.

`pattern` and `replacement` are functions (or GraphModules) with the same parameters; they
are traced with symbolic_trace. Matching is structural: same op, target and arguments; a
pattern placeholder matches any node (or constant), consistently. The values computed inside
a match may not be used outside it (except the pattern's result). Matches do not overlap.

>>> import tensorlite as tl, fxlite
>>> from fxlite.passes import replace_pattern
>>> def f(x, y):
...     return x.sin().cos() + y.sin().cos()
>>> gm = fxlite.symbolic_trace(f)
>>> len(replace_pattern(gm, lambda a: a.sin().cos(), lambda a: a.relu()))
2
>>> print(gm.code.strip())
def forward(self, x, y):
    relu = x.relu();  x = None
    relu_1 = y.relu();  y = None
    add = relu + relu_1;  relu = relu_1 = None
    return add
"""
from ..graph_module import GraphModule
from ..node import Node


class Match:
    """One occurrence: `anchor` is the graph node computing the pattern's result and
    `nodes_map` maps each pattern node to the graph node (or constant) it matched."""

    def __init__(self, anchor, nodes_map):
        self.anchor = anchor
        self.nodes_map = nodes_map

    def __repr__(self):
        return f"Match(anchor={self.anchor.name})"


def _as_gm(f):
    if isinstance(f, GraphModule):
        return f
    from ..tracer import symbolic_trace
    return symbolic_trace(f)


class _Matcher:
    def __init__(self, pattern_graph):
        self.placeholders = [n for n in pattern_graph.nodes if n.op == "placeholder"]
        out = [n for n in pattern_graph.nodes if n.op == "output"][0]
        result = out.args[0]
        if isinstance(result, (tuple, list)) and len(result) == 1:
            result = result[0]
        if not isinstance(result, Node) or result.op == "placeholder":
            raise ValueError("replace_pattern: the pattern must return one computed value")
        self.anchor = result
        self.internal = [n for n in pattern_graph.nodes if n.op not in ("placeholder", "output")]

    def match(self, gnode):
        self.map = {}
        self.used = {}
        if not self._match_node(self.anchor, gnode):
            return None
        if any(p not in self.map for p in self.placeholders):
            return None
        # values computed inside the match must not escape it
        inside = {self.map[p] for p in self.internal}
        for p in self.internal:
            if p is self.anchor:
                continue
            g = self.map[p]
            if any(u not in inside for u in g.users):
                return None
        return Match(gnode, dict(self.map))

    def _match_node(self, pn, gn):
        if pn in self.map:
            return self.map[pn] is gn
        if pn.op == "placeholder":
            self.map[pn] = gn
            return True
        if not isinstance(gn, Node) or gn.op != pn.op or gn in self.used:
            return False
        if pn.op == "call_function" and gn.target is not pn.target:
            return False
        if pn.op != "call_function" and gn.target != pn.target:
            return False
        if len(gn.args) != len(pn.args) or set(gn.kwargs) != set(pn.kwargs):
            return False
        self.map[pn] = gn
        self.used[gn] = pn
        if self._match_arg(pn.args, gn.args) and all(
                self._match_arg(pn.kwargs[k], gn.kwargs[k]) for k in pn.kwargs):
            return True
        del self.map[pn]
        del self.used[gn]
        return False

    def _match_arg(self, pa, ga):
        if isinstance(pa, Node):
            return self._match_node(pa, ga)
        if isinstance(pa, (tuple, list)):
            return (isinstance(ga, (tuple, list)) and len(pa) == len(ga)
                    and all(self._match_arg(a, b) for a, b in zip(pa, ga)))
        if isinstance(pa, dict):
            return isinstance(ga, dict) and pa.keys() == ga.keys() and all(
                self._match_arg(pa[k], ga[k]) for k in pa)
        return not isinstance(ga, Node) and type(pa) is type(ga) and pa == ga


def replace_pattern(gm, pattern, replacement):
    """Replace every non-overlapping match of pattern in gm by replacement; returns the matches.

    gm is modified in place and recompiled.
    """
    pgm, rgm = _as_gm(pattern), _as_gm(replacement)
    matcher = _Matcher(pgm.graph)
    graph = gm.graph
    matches, taken = [], set()
    for gn in list(graph.nodes):
        if gn.op in ("placeholder", "output"):
            continue
        m = matcher.match(gn)
        if m is None:
            continue
        nodes = {m.nodes_map[p] for p in matcher.internal}
        if nodes & taken:
            continue
        taken |= nodes
        matches.append(m)

    r_placeholders = [n for n in rgm.graph.nodes if n.op == "placeholder"]
    if len(r_placeholders) != len(matcher.placeholders):
        raise ValueError("replace_pattern: pattern and replacement must take the same number of inputs")
    for m in matches:
        env = {rp: m.nodes_map[pp] for rp, pp in zip(r_placeholders, matcher.placeholders)}
        result = None
        with graph.inserting_before(m.anchor):
            for rn in rgm.graph.nodes:
                if rn.op == "placeholder":
                    continue
                if rn.op == "output":
                    result = rn.args[0]
                    if isinstance(result, (tuple, list)) and len(result) == 1:
                        result = result[0]
                    result = env[result] if isinstance(result, Node) else result
                    break
                if rn.op == "get_attr" and not hasattr(gm, rn.target):
                    setattr(gm, rn.target, getattr(rgm, rn.target))
                env[rn] = graph.node_copy(rn, lambda n: env[n])
        m.replacements = [env[n] for n in rgm.graph.nodes if n in env and n.op != "placeholder"]
        if isinstance(result, Node):
            m.anchor.replace_all_uses_with(result)
        else:
            raise ValueError("replace_pattern: the replacement must return a node")
        for p in reversed(matcher.internal):
            g = m.nodes_map[p]
            if not g.users:
                graph.erase_node(g)
    gm.recompile()
    return matches
