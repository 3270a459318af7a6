"""The main job runs end to end (quick mode) and names every backend."""
import os
import subprocess
import sys

import backends


def test_demo_quick(tmp_path):
    env = dict(os.environ, MINIDYNAMO_REPORT=str(tmp_path))
    env.pop("MINIDYNAMO_LOGS", None)
    r = subprocess.run([sys.executable, "-m", "minidynamo", "demo", "--quick"], capture_output=True,
                       text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    for name in ("eager", "aot_eager", "codegen"):
        if name in backends.list_backends():
            assert f"backend {name!r}" in r.stdout
            assert "agrees" in r.stdout
    assert "DIFFERS" not in r.stdout
    assert (tmp_path / "minidynamo_report.html").exists()


def test_readme_example_prints_the_spec_graph():
    import minidynamo as md
    import tensorlite as tl

    md.reset()
    graphs = md.testing.EagerAndRecordGraphs()

    @md.compile(backend=graphs)
    def f(x, y):
        return tl.sin(x) + y * 2

    f(tl.ones(3), tl.ones(3))
    text = md.testing.normalize_gm(graphs.graphs[0].print_readable(print_output=False))
    readme = open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md")).read()
    assert text.strip() in readme
