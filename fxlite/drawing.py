"""Pictures of graphs: Graphviz DOT text, and a self-contained HTML page with an inline SVG.

`to_dot(gm)` needs nothing to produce (render it with `dot -Tsvg`); `to_html(gm)` lays the
graph out itself (layers by depth, a simple crossing-reduction pass), so it works without
Graphviz; pass `use_graphviz=True` to let `dot` lay it out when the binary is installed.

>>> import tensorlite as tl, fxlite
>>> from fxlite.drawing import to_dot
>>> gm = fxlite.symbolic_trace(lambda x: x.sin())
>>> print(to_dot(gm))
digraph "lambda_" {
  rankdir=TB;
  node [shape=box, style="rounded,filled", fontname="monospace", fontsize=10];
  "x" [label="x\\nplaceholder\\nx", fillcolor="#dbeafe"];
  "sin" [label="sin\\ncall_method\\nsin", fillcolor="#fef3c7"];
  "output" [label="output\\noutput\\noutput", fillcolor="#e5e7eb"];
  "x" -> "sin";
  "sin" -> "output";
}
"""
import html
import shutil
import subprocess

from .codegen import _Globals, type_annotation
from .graph_module import GraphModule

__all__ = ["to_dot", "to_svg", "to_html", "write_html"]

COLORS = {"placeholder": "#dbeafe", "get_attr": "#ede9fe", "call_function": "#dcfce7",
          "call_method": "#fef3c7", "call_module": "#fee2e2", "output": "#e5e7eb"}


def _target(node, gl):
    if node.op == "call_function":
        try:
            return gl.name_for(node.target)
        except Exception:
            return str(node.target)
    return str(node.target)


def node_lines(node, gl=None):
    """The text of a node's box: name, op, target and (when known) the value's type."""
    gl = gl or _Globals()
    lines = [node.name, node.op, _target(node, gl)]
    ann = type_annotation(node.meta.get("val"))
    if ann:
        lines.append(ann)
    return lines


def _dot_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _subgraphs(gm):
    return [(name, m) for name, m in gm.named_children() if isinstance(m, GraphModule)]


def _dot_body(gm, prefix, indent):
    gl = _Globals()
    out = []
    for n in gm.graph.nodes:
        label = "\\n".join(s.replace("\\", "\\\\").replace('"', '\\"') for s in node_lines(n, gl))
        out.append(f'{indent}{_dot_str(prefix + n.name)} [label="{label}", fillcolor="{COLORS.get(n.op, "#ffffff")}"];')
    for n in gm.graph.nodes:
        for inp in n.all_input_nodes:
            out.append(f"{indent}{_dot_str(prefix + inp.name)} -> {_dot_str(prefix + n.name)};")
    for name, sub in _subgraphs(gm):
        p = f"{prefix}{name}."
        out.append(f"{indent}subgraph {_dot_str('cluster_' + p.rstrip('.'))} {{")
        out.append(f"{indent}  label={_dot_str(name)};")
        out.extend(_dot_body(sub, p, indent + "  "))
        out.append(f"{indent}}}")
    return out


def to_dot(gm):
    """A Graphviz digraph: one box per node (name, op, target, type), edges input -> user,
    nested GraphModules as clusters (their node ids prefixed by the submodule name)."""
    lines = [f"digraph {_dot_str(type(gm).__name__)} {{", "  rankdir=TB;",
             '  node [shape=box, style="rounded,filled", fontname="monospace", fontsize=10];']
    lines += _dot_body(gm, "", "  ")
    lines.append("}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ layout + SVG
_CHAR_W, _LINE_H, _PAD, _GAP_X, _GAP_Y = 7.2, 15, 8, 24, 46


def layout(graph):
    """{node: (x, y, w, h)}: layers by longest path from the inputs, ordered by parents."""
    nodes = list(graph.nodes)
    depth = {}
    for n in nodes:
        depth[n] = 1 + max((depth[i] for i in n.all_input_nodes if i in depth), default=-1)
    layers = {}
    for n in nodes:
        layers.setdefault(depth[n], []).append(n)
    order = {}
    for d in sorted(layers):
        row = layers[d]
        if d:  # barycenter of the parents' positions reduces edge crossings
            row.sort(key=lambda n: (sum(order[i] for i in n.all_input_nodes) / len(n.all_input_nodes))
                     if n.all_input_nodes else 0.0)
        for i, n in enumerate(row):
            order[n] = i
    gl = _Globals()
    size = {}
    for n in nodes:
        lines = node_lines(n, gl)
        size[n] = (max(len(s) for s in lines) * _CHAR_W + 2 * _PAD, len(lines) * _LINE_H + 2 * _PAD)
    widths = {d: sum(size[n][0] for n in row) + _GAP_X * (len(row) - 1) for d, row in layers.items()}
    total_w = max(widths.values(), default=0)
    pos, y = {}, _GAP_Y / 2
    for d in sorted(layers):
        x = (total_w - widths[d]) / 2 + _GAP_X
        row_h = max(size[n][1] for n in layers[d])
        for n in layers[d]:
            w, h = size[n]
            pos[n] = (x, y, w, h)
            x += w + _GAP_X
        y += row_h + _GAP_Y
    return pos


def _own_svg(gm):
    pos = layout(gm.graph)
    gl = _Globals()
    width = max((x + w for x, _, w, _ in pos.values()), default=0) + _GAP_X
    height = max((y + h for _, y, _, h in pos.values()), default=0) + _GAP_Y / 2
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="monospace" font-size="12">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>']
    for n in gm.graph.nodes:
        x2, y2, w2, _ = pos[n]
        for inp in n.all_input_nodes:
            x1, y1, w1, h1 = pos[inp]
            ax, ay, bx, by = x1 + w1 / 2, y1 + h1, x2 + w2 / 2, y2
            my = (ay + by) / 2
            out.append(f'<path class="edge" d="M{ax:.1f},{ay:.1f} C{ax:.1f},{my:.1f} {bx:.1f},{my:.1f} '
                       f'{bx:.1f},{by:.1f}" fill="none" stroke="#555" marker-end="url(#arrow)">'
                       f'<title>{html.escape(inp.name)} -&gt; {html.escape(n.name)}</title></path>')
    for n in gm.graph.nodes:
        x, y, w, h = pos[n]
        lines = node_lines(n, gl)
        out.append(f'<g class="fxnode" id="node-{html.escape(n.name)}">'
                   f'<title>{html.escape(n.format_node())}</title>'
                   f'<rect class="node" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="6" '
                   f'fill="{COLORS.get(n.op, "#fff")}" stroke="#333"/>')
        for i, s in enumerate(lines):
            weight = ' font-weight="bold"' if i == 0 else ""
            out.append(f'<text x="{x + _PAD:.1f}" y="{y + _PAD + (i + 0.8) * _LINE_H:.1f}"{weight}>'
                       f'{html.escape(s)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def to_svg(gm, use_graphviz=False):
    """An SVG picture of gm's graph (own layered layout, or Graphviz `dot` if asked and found)."""
    if use_graphviz and shutil.which("dot"):
        try:
            return subprocess.run(["dot", "-Tsvg"], input=to_dot(gm), capture_output=True, text=True,
                                  check=True, timeout=60).stdout
        except (OSError, subprocess.SubprocessError):
            pass
    return _own_svg(gm)


def _sections(gm, title, use_graphviz):
    out = [f"<h2>{html.escape(title)}</h2>", to_svg(gm, use_graphviz)]
    for name, sub in _subgraphs(gm):
        out += _sections(sub, f"{title}.{name}", use_graphviz)
    return out


def to_html(gm, use_graphviz=False):
    """A self-contained HTML page: the graph (and nested graphs) as inline SVG, then the
    print_readable source."""
    name = type(gm).__name__
    body = "\n".join(_sections(gm, name, use_graphviz))
    code = html.escape(gm.print_readable(print_output=False))
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(name)}</title>
<style>body{{font-family:sans-serif;margin:1.5em}} pre{{background:#f6f8fa;padding:1em;overflow:auto}}
svg{{display:block;margin-bottom:1em}} .fxnode:hover rect{{stroke-width:2.5}}</style></head>
<body><h1>{html.escape(name)}</h1>
{body}
<h2>print_readable</h2>
<pre>{code}</pre>
</body></html>
"""


def write_html(gm, path, use_graphviz=False):
    """Write to_html(gm) to path (open it in a browser); returns path."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(to_html(gm, use_graphviz))
    return path
