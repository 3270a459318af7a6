"""What the user reads: str(md.explain(...)), break reasons and their user stacks, the
recompile log, guard printing, md.inspect, md.utils.counters, MINIDYNAMO_LOGS and md.report.
Expected strings are pinned with assert_expected_inline (EXPECTTEST_ACCEPT=1 rewrites them);
paths, line numbers and times are normalised first."""
import logging
import os
import re
import subprocess
import sys
import textwrap

import pytest

import minidynamo as md
import tensorlite as tl
from minidynamo.expecttest import assert_expected_inline
from minidynamo.testing import CompileCounter


# The programs come first: their line numbers do not move when expected strings are rewritten.
def one_break(x):
    y = x.sin()
    print("break")
    return y.cos() + 1


def inner_breaks(x):
    md.graph_break()
    return x * 2


def outer(x):
    return inner_breaks(x + 1) - 1


SCALE = 3


class Cfg:
    def __init__(self):
        self.k = 2


def many_guards(x, n, cfg, mode="a"):
    if mode == "a":
        return x * n + cfg.k * SCALE
    return x


@pytest.fixture(autouse=True)
def _reset():
    md.reset()
    yield
    md.reset()
    md.set_logs(recompiles=False, graph_breaks=False, guards=False, graph_code=False)


def norm(s):
    """Paths -> file name, absolute line numbers -> the line's offset in its function."""
    s = s.replace(__file__, os.path.basename(__file__))

    def rel(m):
        fn = globals().get(m.group(3))
        if fn is None:
            return m.group(0)
        return f"line def+{int(m.group(1)) - fn.__code__.co_firstlineno}{m.group(2)} in {m.group(3)}"

    s = re.sub(r"line (\d+)(,?) in (\w+)", rel, s)
    s = re.sub(r"\.py:(\d+)", lambda m: ".py:N", s)
    s = re.sub(r"<resume at \d+>", "<resume at N>", s)
    return re.sub(r"\d+\.\d+s\b", "T s", s)


# ------------------------------------------------------------------------------ explain
def test_str_explain_one_break(capsys):
    out = md.explain(one_break)(tl.ones(3))
    assert capsys.readouterr().out == "break\n"
    assert_expected_inline(None, norm(str(out)), """\
Graph Count: 2
Graph Break Count: 1
Op Count: 3
Break Reasons:
  Break Reason 1:
    Reason: call to builtin print() (a side effect that must run eagerly)
    User Stack:
      <FrameSummary file test_explain.py, line def+2 in one_break>
Ops per Graph:
  Ops 1:
    Tensor.sin
  Ops 2:
    Tensor.cos
    operator.add
Out Guards:
  Guard 1:
    Kind: GRAD_MODE
    Source: global
    Check: tl.is_grad_enabled() == True
  Guard 2:
    Kind: TENSOR_MATCH
    Source: L['x']
    Check: check_tensor(L['x'], Tensor, tl.float32, requires_grad=False, size=[3])
  Guard 3:
    Kind: GRAD_MODE
    Source: global
    Check: tl.is_grad_enabled() == True
  Guard 4:
    Kind: EQUALS_MATCH
    Source: L['___stack0']
    Check: L['___stack0'] == None
  Guard 5:
    Kind: TENSOR_MATCH
    Source: L['y']
    Check: check_tensor(L['y'], Tensor, tl.float32, requires_grad=False, size=[3])
Compile Times: one_break: T s, one_break.<resume at N>: T s
""")


def test_break_reasons_and_user_stack(capsys):
    out = md.explain(one_break)(tl.ones(3))
    assert out.graph_count == 2 and out.graph_break_count == 1
    br = out.break_reasons[0]
    assert br.reason == "call to builtin print() (a side effect that must run eagerly)"
    last = br.user_stack[-1]
    assert (last.filename, last.name, last.line) == (__file__, "one_break", 'print("break")')
    assert last.lineno == one_break.__code__.co_firstlineno + 2
    assert out.ops_per_graph == [["Tensor.sin"], ["Tensor.cos", "operator.add"]]
    assert out.op_count == 3
    assert [name for name, _ in out.compile_times][0] == "one_break"


def test_break_in_callee_user_stack_ends_in_callee():
    out = md.explain(outer)(tl.ones(2))
    reasons = [(b.reason, [(f.name, f.line) for f in b.user_stack]) for b in out.break_reasons]
    assert reasons == [
        ("graph_break() called", [("outer", "return inner_breaks(x + 1) - 1"),
                                  ("inner_breaks", "md.graph_break()")]),
        ("graph_break() called", [("inner_breaks", "md.graph_break()")]),
    ]
    assert out.graph_count == 3  # x + 1 | (inner: x * 2) | - 1


def test_explain_without_breaks():
    out = md.explain(lambda x: x.relu() * 2)(tl.ones(2))
    assert (out.graph_count, out.graph_break_count, out.ops_per_graph) == (
        1, 0, [["Tensor.relu", "operator.mul"]])


# -------------------------------------------------------------------- recompile log
def test_recompile_log(caplog):
    md.set_logs(recompiles=True)
    opt = md.compile(many_guards, backend=CompileCounter())
    cfg = Cfg()
    with caplog.at_level(logging.INFO, logger="minidynamo"):
        opt(tl.ones(3), 2, cfg)
        opt(tl.ones(3), 2, cfg)
        assert caplog.records == []  # a hit logs nothing
        opt(tl.ones(3), 5, cfg)
        opt(tl.ones(3, dtype=tl.float64), 5, cfg)
    logs = "\n".join(norm(r.getMessage()) for r in caplog.records)
    assert_expected_inline(None, logs, """\
Recompiling function many_guards in test_explain.py:N
    triggered by the following guard failure(s):
    - 0: n == 2
Recompiling function many_guards in test_explain.py:N
    triggered by the following guard failure(s):
    - 1: tensor 'x' dtype mismatch. expected Float, actual Double
    - 0: tensor 'x' dtype mismatch. expected Float, actual Double""")
    assert md.inspect(opt).recompile_reasons == ["n == 2", "tensor 'x' dtype mismatch. expected Float, actual Double"]


def test_recompile_log_off_by_default(caplog):
    opt = md.compile(many_guards, backend=CompileCounter())
    with caplog.at_level(logging.INFO, logger="minidynamo"):
        opt(tl.ones(3), 2, Cfg())
        opt(tl.ones(3), 3, Cfg())
    assert not [r for r in caplog.records if "Recompiling" in r.getMessage()]


def test_graph_break_log(caplog, capsys):
    md.set_logs(graph_breaks=True)
    with caplog.at_level(logging.INFO, logger="minidynamo"):
        md.compile(one_break, backend=CompileCounter())(tl.ones(2))
    assert_expected_inline(None, "\n".join(norm(r.getMessage()) for r in caplog.records), """\
Graph break: call to builtin print() (a side effect that must run eagerly)
  File "test_explain.py", line def+2, in one_break
    print("break")""")


# ----------------------------------------------------------------------- guard printing
def test_guard_printing():
    opt = md.compile(many_guards, backend=CompileCounter())
    opt(tl.ones(3), 2, Cfg())
    guards = md.inspect(opt).entries[0].guards
    assert_expected_inline(None, "\n".join(str(g) for g in guards), """\
ID_MATCH: many_guards.__defaults__ is <tuple object>
GRAD_MODE: tl.is_grad_enabled() == True
TENSOR_MATCH: check_tensor(L['x'], Tensor, tl.float32, requires_grad=False, size=[3])
TYPE_MATCH: type(L['cfg']) is Cfg
EQUALS_MATCH: L['mode'] == 'a'
EQUALS_MATCH: L['n'] == 2
EQUALS_MATCH: L['cfg'].k == 2
EQUALS_MATCH: G['SCALE'] == 3""")
    kinds = {(g.kind, g.source.name() if g.source is not None else None) for g in guards}
    assert ("TENSOR_MATCH", "L['x']") in kinds and ("TYPE_MATCH", "L['cfg']") in kinds


def test_guard_printing_containers_and_modules():
    lin = tl.nn.Linear(2, 2)

    def f(x, lst, d, mod):
        return mod(x) * lst[0] + d["k"]

    opt = md.compile(f, backend=CompileCounter())
    opt(tl.ones(2), [2, "s"], {"k": 1.5}, lin)
    text = "\n".join(str(g) for g in md.inspect(opt).entries[0].guards)
    assert "TYPE_MATCH: type(L['lst']) is list" in text
    assert "LENGTH_CHECK: len(L['lst']) == 2" in text
    assert "EQUALS_MATCH: L['lst'][0] == 2" in text
    assert "DICT_KEYS" in text and "L['d']" in text
    assert "TYPE_MATCH: type(L['mod']) is Linear" in text
    assert "check_tensor(L['mod'].weight" in text or "L['mod'].weight" in text


# ------------------------------------------------------------------------- md.inspect
def test_inspect_entries_hits_misses_and_reasons(capsys):
    opt = md.compile(one_break, backend=CompileCounter())
    opt(tl.ones(3))
    opt(tl.ones(3))
    opt(tl.ones(4))
    cache = md.inspect(opt)
    assert (cache.hits, cache.misses) == (1, 2)
    assert cache.recompile_reasons == ["tensor 'x' size mismatch at index 0. expected 3, actual 4"]
    assert len(cache.entries) == 2
    e = cache.entries[-1]  # the first compile (newest first)
    g = [g for g in e.guards if g.kind == "TENSOR_MATCH"][0]
    assert (g.kind, g.source.name(), str(g)) == (
        "TENSOR_MATCH", "L['x']",
        "TENSOR_MATCH: check_tensor(L['x'], Tensor, tl.float32, requires_grad=False, size=[3])")
    assert len(e.graphs) == 1 and e.graph is e.graphs[0]
    assert e.code.co_name == "one_break"
    assert_expected_inline(None, norm(e.source), """\
def ___transformed(x):
    ___graph_out = ___compiled_fn(x)
    ___result = ___print('break')
    return ___one_break(___result, ___graph_out[0])
""")
    assert e.break_reason.startswith("call to builtin print()")


def test_inspect_rejects_plain_functions():
    with pytest.raises(TypeError, match="md.compile"):
        md.inspect(one_break)


# ---------------------------------------------------------------------------- counters
def test_counters(capsys):
    opt = md.compile(one_break, backend=CompileCounter())
    opt(tl.ones(3))
    opt(tl.ones(4))
    c = md.utils.counters
    assert c["frames"]["total"] == c["frames"]["ok"] == 4  # f and its resume, twice
    assert c["stats"]["unique_graphs"] == 4
    assert c["stats"]["calls_captured"] == 6
    assert c["graph_break"] == {"call to builtin print() (a side effect that must run eagerly)": 2}
    assert sum(c["recompiles"].values()) == 2
    md.reset()
    assert not md.utils.counters["frames"]


# --------------------------------------------------------------------- MINIDYNAMO_LOGS
def test_minidynamo_logs_env_in_subprocess(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent("""
        import minidynamo as md, tensorlite as tl

        def f(x):
            y = x.sin()
            md.graph_break()
            return y + 1

        opt = md.compile(f)
        opt(tl.ones(2))
        opt(tl.ones(3))
    """))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, MINIDYNAMO_LOGS="graph_code,guards,recompiles,graph_breaks,output_code",
               PYTHONPATH=root)
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr
    assert "[minidynamo] TRACED GRAPH" in err
    assert "GUARDS for f" in err and "TENSOR_MATCH" in err
    assert "Graph break: graph_break() called" in err and "md.graph_break()" in err
    assert "TRANSFORMED CODE for f" in err
    assert f"Recompiling function f in {script}:4" in err
    assert "tensor 'x' size mismatch at index 0. expected 2, actual 3" in err

    env["MINIDYNAMO_LOGS"] = "no_such_topic"
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode != 0 and "unknown topic 'no_such_topic'" in proc.stderr


def test_set_logs_rejects_unknown_topic():
    with pytest.raises(ValueError, match="unknown topic"):
        md.set_logs(nope=True)


# -------------------------------------------------------------------------- md.report
def test_report_lists_every_frame_graph_and_break(tmp_path, capsys):
    opt = md.compile(one_break, backend=CompileCounter())
    opt(tl.ones(3))
    opt(tl.ones(4))
    md.compile(outer, backend=CompileCounter())(tl.ones(2))
    path = md.report(str(tmp_path / "r" / "report.html"))
    html = open(path).read()
    assert html.startswith("<!doctype html>")
    for title in ("one_break (", "one_break.&lt;resume at", "outer (", "outer.&lt;resume at",
                  "inner_breaks (", "inner_breaks.&lt;resume at"):
        assert title in html, title
    assert html.count("<h2>") == len(md.eval_frame._CACHES) == 6
    assert "graph break: call to builtin print() (a side effect that must run eagerly)" in html
    assert "graph break: graph_break() called" in html
    assert "print(&quot;break&quot;)" in html  # the user's source line
    assert "sin" in html and "cos" in html  # graph text
    assert "tensor &#x27;x&#x27; size mismatch at index 0. expected 3, actual 4" in html
    assert "Transformed code" in html and "compiled in" in html
