"""fxlite.drawing: DOT text that parses as a digraph, HTML page with one SVG box per node."""
import re
import xml.etree.ElementTree as ET

import fxlite
import tensorlite as tl
from fxlite.drawing import layout, to_dot, to_html, write_html

_ID = r'"(?:[^"\\]|\\.)*"'


def parse_dot(text):
    """A tiny DOT reader for what to_dot writes: (graph name, nodes {id: attrs}, edges, clusters)."""
    lines = text.strip().split("\n")
    m = re.fullmatch(rf"digraph ({_ID}) \{{", lines[0])
    assert m, lines[0]
    assert lines[-1] == "}"
    nodes, edges, clusters, depth = {}, [], [], 1
    for ln in lines[1:-1]:
        s = ln.strip()
        if s.startswith("subgraph "):
            clusters.append(re.fullmatch(rf"subgraph ({_ID}) \{{", s).group(1))
            depth += 1
        elif s == "}":
            depth -= 1
        elif (e := re.fullmatch(rf"({_ID}) -> ({_ID});", s)):
            edges.append((e.group(1), e.group(2)))
        elif (n := re.fullmatch(rf"({_ID}) \[(.*)\];", s)):
            attrs = dict(re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|[^,\s]+)', n.group(2)))
            nodes[n.group(1)] = attrs
        else:
            assert re.fullmatch(r"(\w+=.*;|node \[.*\];)", s), s
    assert depth == 1, "unbalanced braces"
    assert all(a in nodes and b in nodes for a, b in edges), "edge to an undeclared node"
    return m.group(1), nodes, edges, clusters


def traced():
    def f(x, w):
        h = (x @ w).relu()
        return h.sum(), h * 2

    return fxlite.make_fx(f)(tl.ones(4, 3), tl.ones(3, 2))


def test_dot_parses_with_right_counts():
    gm = traced()
    name, nodes, edges, clusters = parse_dot(to_dot(gm))
    assert name == '"f"' and clusters == []
    assert len(nodes) == len(gm.graph.nodes)
    assert len(edges) == sum(len(n.all_input_nodes) for n in gm.graph.nodes)
    assert nodes['"matmul"']["label"] == '"matmul\\ncall_function\\ntl.ops.matmul\\nf32[4, 2]"'
    assert ('"x_1"', '"matmul"') in edges


def test_dot_nested_graph_modules_are_clusters():
    inner = fxlite.symbolic_trace(lambda x: x.sin() + 1)
    g = fxlite.Graph()
    x = g.placeholder("x")
    y = g.call_module("sub", (x,))
    g.output(g.call_function(tl.relu, (y,)))
    root = tl.nn.Module()
    root.sub = inner
    gm = fxlite.GraphModule(root, g, "Outer")
    _, nodes, edges, clusters = parse_dot(to_dot(gm))
    assert clusters == ['"cluster_sub"']
    assert len(nodes) == len(g.nodes) + len(inner.graph.nodes)
    assert ('"sub.sin"', '"sub.add"') in edges
    assert nodes['"sub"']["label"].startswith('"sub\\ncall_module\\nsub')


def test_html_has_svg_with_one_box_per_node(tmp_path):
    gm = traced()
    path = write_html(gm, tmp_path / "graph.html")
    text = path.read_text()
    assert text.startswith("<!DOCTYPE html>")
    svgs = re.findall(r"<svg.*?</svg>", text, re.S)
    assert len(svgs) == 1
    root = ET.fromstring(svgs[0])  # well-formed XML
    ns = {"s": "http://www.w3.org/2000/svg"}
    rects = root.findall(".//s:g[@class='fxnode']/s:rect", ns)
    assert len(rects) == len(gm.graph.nodes)
    paths = root.findall(".//s:path[@class='edge']", ns)
    assert len(paths) == sum(len(n.all_input_nodes) for n in gm.graph.nodes)
    assert "tl.ops.matmul" in svgs[0] and "f32[4, 2]" in svgs[0]
    # the readable source is on the page too (escaped)
    assert "matmul: &quot;f32[4, 2]&quot; = tl.ops.matmul(x_1, w_1)" in text


def test_layout_is_layered_and_non_overlapping():
    gm = traced()
    pos = layout(gm.graph)
    for n in gm.graph.nodes:
        for inp in n.all_input_nodes:
            assert pos[inp][1] + pos[inp][3] < pos[n][1], (inp, n)  # inputs are drawn above users
    boxes = list(pos.values())
    for i, (x1, y1, w1, h1) in enumerate(boxes):
        for x2, y2, w2, h2 in boxes[i + 1:]:
            assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1


def test_html_nested_and_escaping():
    inner = fxlite.symbolic_trace(lambda x: x < 1)
    g = fxlite.Graph()
    x = g.placeholder("x")
    g.output(g.call_module("cmp", (x,)))
    root = tl.nn.Module()
    root.cmp = inner
    text = to_html(fxlite.GraphModule(root, g, "Outer"))
    assert len(re.findall(r"<svg", text)) == 2
    assert "<h2>Outer.cmp</h2>" in text
    for svg in re.findall(r"<svg.*?</svg>", text, re.S):
        ET.fromstring(svg)
