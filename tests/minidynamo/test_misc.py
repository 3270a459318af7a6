"""mark_dynamic/mark_static, numpy scalar arguments, values that cannot be rebuilt, the CLI."""
import os
import subprocess
import sys

import numpy as np
import pytest

import minidynamo as md
import tensorlite as tl
from minidynamo.testing import same


@pytest.fixture(autouse=True)
def _reset():
    md.reset()
    yield
    md.reset()


def test_mark_dynamic_compiles_once_for_all_sizes():
    f = md.compile(lambda x: x * 2 + 1)
    x = tl.ones(3)
    md.mark_dynamic(x, 0)
    for n in (3, 5, 9):
        y = tl.ones(n)
        if n == 3:
            y = x
        assert same(f(y), y * 2 + 1)
    c = md.inspect(f)
    assert c.misses == 1 and c.hits == 2


def test_mark_static_keeps_exact_size_guards():
    f = md.compile(lambda x: x * 2)
    for n in (3, 4, 5):
        y = tl.ones(n)
        md.mark_static(y, 0)
        assert same(f(y), y * 2)
    assert md.inspect(f).misses == 3


def test_numpy_scalar_argument_is_a_guarded_constant():
    f = md.compile(lambda x, s: x * s)
    assert same(f(tl.ones(2), np.float32(2.0)), tl.full((2,), 2.0))
    assert same(f(tl.ones(2), np.float32(2.0)), tl.full((2,), 2.0))
    assert same(f(tl.ones(2), np.float32(3.0)), tl.full((2,), 3.0))
    c = md.inspect(f)
    assert c.misses == 2 and c.hits == 1


def test_unreconstructible_value_runs_eagerly():
    seen = []

    @md.compile
    def f(x):
        seen.append(type(x).__name__)
        return x + 1

    assert same(f(tl.ones(1)), tl.full((1,), 2.0))
    assert seen == ["Tensor"]


def test_cli_explain(tmp_path):
    src = tmp_path / "model.py"
    src.write_text("import tensorlite as tl\n\ndef f(x, w):\n    y = x @ w\n    print('hi')\n    return y.relu()\n")
    r = subprocess.run([sys.executable, "-m", "minidynamo", "explain", f"{src}:f", "--args", "3,4; 4",
                        "--backend", "eager", "--report", str(tmp_path / "r.html")],
                       capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    assert "Graph Count: 2" in r.stdout and "Graph Break Count: 1" in r.stdout
    assert (tmp_path / "r.html").exists()


@pytest.mark.parametrize("backend", ["eager", "aot_eager", "codegen"])
def test_dynamic_entry_recompiles_backend_per_shape(backend):
    # automatic dynamic shapes reuse one entry for new sizes; backends that specialize on
    # their example inputs' shapes get compiled again for each new combination
    f = md.compile(lambda x, w: ((x * w).sin().sum(0) * 2), backend=backend)
    for n in (2, 3, 2, 5):
        x = tl.randn(n, 3, requires_grad=True)
        w = tl.randn(3)
        out = f(x, w)
        out.sum().backward()
        ref_x = tl.tensor(x.detach().tolist(), requires_grad=True)
        ref = (ref_x * w).sin().sum(0) * 2
        ref.sum().backward()
        assert same(out, ref) and same(x.grad, ref_x.grad)
    assert md.inspect(f).misses == 2
