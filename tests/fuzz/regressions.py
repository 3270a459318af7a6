"""The fuzzer's regressions as data: each row a minimised program (a body for `f` and an
expression for `make_args`) that was once a mismatch between eager and compiled, with why.

test_regressions.test_regression checks every row on each of its backends (test id
`<name>-<backend>`); to add one, append a row with what the bug was as its `why`.
"""
import dataclasses

import backends

from .generator import Program

BACKENDS = backends.list_backends()


def program(body, make_args):
    """A fuzz-program source around a function body `f(x, y)` and an args expression."""
    src = "\n".join([
        "import numpy as np", "import tensorlite as tl", "import minidynamo as md",
        "G_K = 2", "G_S = 0.5", "G_COUNT = 0", "LOG = []", "k = 1",
        "class Obj:", "    pass", "STATE = Obj()",
        "class M(tl.nn.Module):", "    def __init__(self):", "        super().__init__()",
        "        self.lin = tl.nn.Linear(4, 3)", "    def forward(self, z):", "        return self.lin(z).tanh()",
        body,
        "def make_args(call):", "    rs = np.random.RandomState(1234 + call)", "    tl.manual_seed(7)",
        f"    return {make_args}", "",
    ])
    return Program(src)


@dataclasses.dataclass(frozen=True)
class Regression:
    name: str  # the test id's first part
    why: str  # what the bug was
    body: str  # `def f(x, y, obj, lst, cfg, mod, n): ...`, see program()
    args: str  # make_args' return expression, see program()
    backends: tuple = tuple(BACKENDS)
    xfail: str | None = None  # a strict xfail's reason (the issue that owns the bug)


REGRESSIONS = [
    Regression(
        name="codegen_zero_dim_clamp_chain",
        why="codegen wrote `np.minimum(c, 1.0, out=c)` into a 0-d result numpy had returned as a scalar",
        body="def f(x, y, obj, lst, cfg, mod, n):\n    t1 = y.clamp(-1.0, 1.0)\n    return t1, [t1]",
        args="[None, tl.tensor(0.5, requires_grad=True), Obj(), [], {}, None, 0]",
    ),
    Regression(
        name="codegen_zero_dim_index_put_backward",
        why="the backward of y[None] on a 0-d y: index_put's eager impl got a numpy scalar",
        body="def f(x, y, obj, lst, cfg, mod, n):\n    t2 = y[None]\n    t4 = t2 * t2\n    return t4, [t4, t2]",
        args="[None, tl.tensor(0.5, requires_grad=True), Obj(), [], {}, None, 0]",
    ),
    Regression(
        name="graph_break_with_live_cell_variable",
        why="t5 is a cell (g7 closes over it); the resume function after print() lost it",
        body="def f(x, y, obj, lst, cfg, mod, n):\n    t5 = (y * 2).unsqueeze(0)\n    print(y.dim())\n"
             "    def g7(z):\n        return z * t5\n    return t5, g7(t5)",
        args="[None, tl.tensor([0.5, 1.0], requires_grad=True), Obj(), [], {}, None, 0]",
    ),
    Regression(
        name="aot_unused_output_gives_none_grad",
        why="a graph output (t4, dead after a break) depending on module parameters got no gradient; "
            "the AOT backward materialised zeros for the parameters, where eager leaves .grad None",
        body="def f(x, y, obj, lst, cfg, mod, n):\n    t1 = x.softmax(1)\n    t4 = mod(t1) * 2\n"
             "    print('shape')\n    t5 = t4 + 1\n    return t1",
        args="[tl.tensor(rs.randn(3, 4).astype(np.float32), requires_grad=True), None, Obj(), [], {}, M(), 0]",
    ),
    Regression(
        name="aot_view_of_input_under_no_grad",
        why="an output that is a view of an input taken under no_grad was replayed with grad enabled",
        body="def f(x, y, obj, lst, cfg, mod, n):\n    with tl.no_grad():\n        t7 = y.flatten()\n    return t7",
        args="[None, tl.tensor(rs.randn(4).astype(np.float32), requires_grad=True), Obj(), [], {}, None, 0]",
    ),
    Regression(
        name="aot_saved_input_without_version_counter",
        why="x had no version counter at the forward (recorded as -1); replaying the view output "
            "created one at 0, and the backward then reported an in-place modification",
        body="def f(x, y, obj, lst, cfg, mod, n):\n    t3 = x.reshape(-1).flatten()\n    t6 = tl.clamp(x, min=-0.5)\n"
             "    return t3, n, [t3, t6]",
        args="[tl.tensor(rs.randn(2, 4).astype(np.float32), requires_grad=True), None, Obj(), [], {}, None, 0]",
    ),
    Regression(
        name="graph_break_with_rebound_argument_cell",
        why="x is an argument and a cell (g2 closes over it); rebinding it before a break left the "
            "resume function with the argument's first value",
        body="def f(x, y, obj, lst, cfg, mod, n):\n    if x.dim() == 2:\n        x = (x * x + 0.1).rsqrt()\n"
             "    t1 = x + 1\n    print('n =', n)\n    def g2(z):\n        return z * x + k\n"
             "    t3 = g2(x)\n    return (t1, t3)",
        args="[tl.tensor(rs.randn(2, 4).astype(np.float32), requires_grad=True), None, Obj(), [], {}, None, 0]",
    ),
    Regression(
        name="aot_saved_output_mutated_after_break",
        why="graph 1 saved its output t1 (tanh) for backward through a detached alias with its own "
            "version counter; graph 2 changed t1 in place; the backward silently used the new values",
        body="def f(x, y, obj, lst, cfg, mod, n):\n    t1 = mod(x)\n    md.graph_break()\n"
             "    t1[0] = k\n    return (t1, t1)",
        args="[tl.tensor(rs.randn(3, 4).astype(np.float32), requires_grad=True), None, Obj(), [], {}, M(), 0]",
    ),
    Regression(
        name="aot_mutated_saved_output_off_the_gradient_path",
        why="t4 (saved by rsqrt) is changed in place, but no gradient flows through it: eager's "
            "backward never meets it, so the compiled graph's backward must not complain either",
        body="def f(x, y, obj, lst, cfg, mod, n):\n    t1 = x.softmax(1)\n    t4 = (mod(t1) + 1.5).rsqrt()\n"
             "    print('shape')\n    t4.sub_(t4)\n    return t1, [t1]",
        args="[tl.tensor(rs.randn(3, 4).astype(np.float32), requires_grad=True), None, Obj(), [], {}, M(), 0]",
    ),
    Regression(
        name="hooks_on_independent_branches_compare_per_hook",
        why="seeds 2005896/2047804: under AOT backends the region is one autograd node, so hooks on x and "
            "on y (independent branches) may run in another order than eager; each hook's calls must match",
        body="def f(x, y, obj, lst, cfg, mod, n):\n"
             "    x.register_hook(lambda g: LOG.append(('h1', tuple(g.shape))))\n"
             "    t2 = tl.where(y > 0, x.amax(), y * 2)\n    t3 = tl.clamp(x, min=-0.5)\n"
             "    y.register_hook(lambda g: LOG.append(('h6', tuple(g.shape))))\n    return (t2, t2, t3)",
        args="[tl.tensor(rs.randn(3, 4).astype(np.float32), requires_grad=True), "
             "tl.tensor(np.float32(0.7), requires_grad=True), Obj(), [], {}, None, 0]",
    ),
    Regression(
        name="backward_error_compares_the_error_not_partial_grads",
        why="seed 2043740: y (saved by the Linear) is changed in place after the break; eager's backward "
            "accumulated the bias grad before raising, a compiled node raises before any: both raise",
        body="def f(x, y, obj, lst, cfg, mod, n):\n    t2 = mod(y)\n    t3 = 2.0 - y\n"
             "    print('shape', tuple(y.shape))\n    y.add_(t3)\n    return (t2,)",
        args="[None, tl.tensor(rs.randn(1, 4).astype(np.float32)), Obj(), [], {}, M(), 0]",
    ),
]

assert len({r.name for r in REGRESSIONS}) == len(REGRESSIONS), "two regressions share a name"
