"""The fuzzer's regressions as data, in two tables, each row once a mismatch between eager and
compiled, with why.

REGRESSIONS: minimised whole fuzz programs (a body for `f` and an expression for `make_args`),
checked by the fuzz harness (test_regressions.test_regression).

EAGER_VS_COMPILED: hand-written programs, each the function its row decorates, run eagerly and
compiled on fresh inputs with the compared values the row declares
(test_regressions.test_eager_vs_compiled).

Test ids are `<name>-<backend>`; to add a regression, add a row with what the bug was as its `why`.
"""
import collections.abc
import dataclasses

import numpy as np

import backends
import minidynamo as md
import tensorlite as tl

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


# ---------------------------------------------------------------------------------------------
# EAGER_VS_COMPILED: hand-written programs, each run eagerly and compiled on fresh inputs

LOG = []  # what the programs' hooks append to; cleared before each run


def total(*outs):
    """The default loss: the sum of every tensor output's .sum()."""
    sums = [o.sum() for o in outs if isinstance(o, tl.Tensor)]
    loss = sums[0]
    for s in sums[1:]:
        loss = loss + s
    return loss


def normal(seed, *shapes, requires_grad):
    """float32 tensors of normal values drawn in order from RandomState(seed), one per shape."""
    rs = np.random.RandomState(seed)
    return tuple(tl.tensor(rs.randn(*shape).astype(np.float32), requires_grad=rg)
                 for shape, rg in zip(shapes, requires_grad, strict=True))


@dataclasses.dataclass(frozen=True)
class EagerVsCompiled:
    """f run eagerly, then md.compile'd, each on fresh inputs: what the runs leave must be equal.

    A run builds `inputs()`, calls f, then (unless `loss` is None) calls `loss` on f's outputs
    (unpacked if a tuple) and runs backward from the scalar it returns. Compared, in this order:
    f's outputs, the inputs listed in `mutated`, the .grad of the inputs listed in `grads`, and
    LOG. Tensors must agree in shape, dtype and requires_grad, and in value exactly or within
    np.allclose's default tolerance; anything else must be ==."""
    name: str  # the test id's first part
    why: str  # what the bug was
    f: collections.abc.Callable  # the program
    inputs: collections.abc.Callable  # () -> f's arguments for one run (fresh tensors)
    loss: collections.abc.Callable | None = total  # f's outputs -> the scalar to backward; None: no backward
    outputs: bool = False  # compare f's outputs
    mutated: tuple = ()  # indices of inputs compared after the run (in-place changes)
    grads: tuple = ()  # indices of inputs whose .grad is compared
    log: bool = False  # compare LOG
    exact: bool = False  # tensor values equal exactly, not np.allclose
    expect: tuple | None = None  # what both runs must leave, tensors as .tolist(), in the order above
    backends: tuple = tuple(BACKENDS)
    xfail: str | None = None  # a strict xfail's reason (the issue that owns the bug)

    def __post_init__(self):
        assert self.outputs or self.mutated or self.grads or self.log, f"{self.name} compares nothing"
        assert self.loss is not None or not self.grads, f"{self.name} compares grads without a backward"


EAGER_VS_COMPILED = []


def eager_vs_compiled(*, variant=None, **fields):
    """A row for the function it decorates, named after it (plus `_<variant>` if given)."""
    def add(f):
        name = f.__name__ if variant is None else f"{f.__name__}_{variant}"
        EAGER_VS_COMPILED.append(EagerVsCompiled(name=name, f=f, **fields))
        return f
    return add


@eager_vs_compiled(
    why="x.mul_(x) saves x's old value as a copy: tracers must see that copy as x's old node",
    inputs=lambda: (tl.tensor([1.0, 2.0], requires_grad=True),),
    grads=(0,), exact=True, expect=([18.0, 36.0],), backends=("aot_eager", "codegen"))
def inplace_square_of_intermediate_gradient(y):
    t1 = (y + y) * 1.5
    t1.mul_(t1)
    return t1


@eager_vs_compiled(
    why="x (no grad) gains autograd history from x.add_(w.exp()): it must end up requiring grad, with "
        "eager's values and w's gradient (an input that gains history runs the graph eagerly, d65efb4)",
    inputs=lambda: (tl.ones(3), tl.tensor([0.0, 1.0, 2.0], requires_grad=True)),
    mutated=(0,), grads=(1,), exact=True, backends=("aot_eager", "codegen"))
def mutated_input_gains_history(x, w):
    x.add_(w.exp())
    return x * 2


@eager_vs_compiled(
    why="the hook on t, a view of the input x, must not be lost: hooks on views of graph inputs break "
        "the graph (d65efb4)",
    inputs=lambda: (tl.ones(2, 3, requires_grad=True),),
    grads=(0,), exact=True, backends=("aot_eager", "codegen"))
def hook_on_view_of_input_is_kept(x):
    t = x.transpose(0, 1)[1]
    t.register_hook(lambda g: g * 2)
    return t * 1, x.sum()


@eager_vs_compiled(
    why="sigmoid lowers to several steps that read the input again at the end: its output buffer must "
        "not be the input's (minimum's result died there and was reused)",
    inputs=lambda: normal(0, (2, 4), (2, 4), requires_grad=(True, False)),
    loss=None, outputs=True, backends=("codegen",))
def codegen_sigmoid_does_not_overwrite_its_input_before_reading_it(x, y):
    t1 = x / (x.abs() + 1)
    t2 = (t1 > 0).float() * t1
    return tl.sigmoid(tl.minimum(t2, y))


@eager_vs_compiled(
    why="the backward's view_scatter is functional: tracing it must not rebind its base",
    inputs=lambda: (tl.tensor(np.arange(12, dtype=np.float32).reshape(3, 4) - 5, requires_grad=True),),
    loss=lambda out: (out * tl.tensor(np.linspace(-1, 1, 12).reshape(3, 4).astype(np.float32))).sum(),
    grads=(0,), backends=("aot_eager", "codegen"))
def inplace_through_view_of_intermediate_gradient(y):
    y = y * 0.5
    t1 = y.transpose(0, 1)
    t1[0] = 0.0
    t1.clamp_(-1, 1)
    return -y


@eager_vs_compiled(
    why="t4 escapes the first graph (a break follows) but nothing differentiates it: eager never runs "
        "its hook, so the AOT backward must not run it on a materialized zero gradient",
    inputs=lambda: (tl.tensor([0.5, 1.0], requires_grad=True), tl.tensor([0.2, -0.3], requires_grad=True)),
    grads=(0, 1), log=True, exact=True, backends=("eager", "aot_eager", "codegen"))
def hook_on_escaping_tensor_without_gradient_does_not_run(x, y):
    t4 = (y.cos() * 2) + 1
    t4.register_hook(lambda g: LOG.append("hook") or g + 5)
    t8 = (x * y).sin()
    if t4.sum() > 0:
        t4 = t4 * 2
    return t8


@eager_vs_compiled(
    why="numpy gives 0-d results as scalars; a view of one must still alias it (in-place later)",
    inputs=lambda: (tl.tensor(np.float32(0.1), requires_grad=True),),
    loss=None, outputs=True, backends=("codegen",))
def codegen_view_of_zero_dim_result_aliases_it(y):
    t1 = y + y
    t3 = t1.flatten()
    print("break")
    t1.mul_(t1)
    return t3, [t3, t3]


@eager_vs_compiled(
    why="add(expand(a), expand(b)) with a, b of shape [1, 1]: one expand must stay",
    inputs=lambda: normal(0, (2, 4), requires_grad=(True,)),
    grads=(0,), backends=("codegen",))
def codegen_does_not_elide_every_expand_of_a_broadcast(y):
    t2 = ((y.sum()) * (y.sum()) + 0.1).rsqrt()
    return tl.sin(tl.sigmoid(t2))


@eager_vs_compiled(
    why="a hook registered after t[0] = v belongs to t's new version (as in eager)",
    inputs=lambda: (*normal(0, (2, 4), requires_grad=(True,)), tl.tensor(np.float32(0.7))),
    grads=(0,), backends=("eager", "aot_eager", "codegen"))
def hook_after_inplace_sees_the_current_version(x, y):
    t2 = y / (x.abs() + 1)
    t2[0] = 0.5
    t2.register_hook(lambda g: g + 0.5)
    return t2


@eager_vs_compiled(
    why="a 0-d gradient arriving as a numpy scalar must reach t3's hook as a tensor (ab9754c)",
    inputs=lambda: (tl.ones(3, requires_grad=True), tl.tensor(np.float32(0.3), requires_grad=True)),
    grads=(0, 1), exact=True, backends=("aot_eager", "codegen"))
def hook_on_zero_dim_intermediate(x, y):
    t1 = y * 2 + 1
    t3 = tl.where(y > t1, y, t1)
    t3.register_hook(lambda g: g * 2)
    return t3.clone() + x.sum()


@eager_vs_compiled(
    why="t1 is used inside the first graph and crosses the break: a hook registered on it later must "
        "still see its total gradient (it goes to a slot inside the first graph)",
    inputs=lambda: (tl.tensor([[0.5, -1.0], [2.0, 0.1]], requires_grad=True), tl.ones(3)),
    grads=(0,), log=True, backends=("eager", "aot_eager", "codegen"))
def hook_after_break_on_tensor_used_inside_earlier_graph(x, y):
    t1 = x.tanh()
    t3 = t1.abs() * 2
    if bool(y.amax() > 0.5):
        y = y * 3
    t1.register_hook(lambda g: LOG.append("hook") or g * 3)
    return t3 + t1


def _hook_t1_then_total(t1, t2):
    t1.register_hook(lambda g: g * 10)  # by the caller, after the compiled region
    return t1.sum() + t2.sum()


@eager_vs_compiled(
    why="t1 is returned and also used inside the graph: the caller's hook on it must see its total "
        "gradient (an empty hook box inside the graph, 00e48f8)",
    inputs=lambda: (tl.tensor([0.5, 1.0], requires_grad=True),),
    loss=_hook_t1_then_total, grads=(0,), backends=("aot_eager", "codegen"))
def hook_on_returned_output_used_inside_the_graph(x):
    t1 = x * 2
    return t1, t1.sin()


@eager_vs_compiled(
    why="t3's slot in the first graph holds t3's old version; after t3.add_(y) a new hook belongs to "
        "the new version",
    inputs=lambda: (tl.tensor(np.arange(8, dtype=np.float32).reshape(2, 4) - 3, requires_grad=True),
                    tl.tensor([[0.5, -1.0, 2.0, 1.5]], requires_grad=True)),
    grads=(0, 1), backends=("eager", "aot_eager", "codegen"))
def hook_slot_is_dropped_by_a_later_inplace(x, y):
    t3 = x.mul(y)
    t3[0] = 2.0
    md.graph_break()
    t3.add_(y)
    t3.register_hook(lambda g: g * 2)
    return tl.amax(t3, dim=-2, keepdim=True)


_ALIASED_INPUTS = ("t1 and its view t2 cross a graph break as two inputs of the next graph, which mutates "
                   "t1: the AOT graph treated them as independent, so t2 missed the mutation")


@eager_vs_compiled(
    variant="no_rg", why=_ALIASED_INPUTS, inputs=lambda: (tl.tensor([1.0, -1.0, 2.0, 3.0]),),
    loss=None, outputs=True, exact=True)
@eager_vs_compiled(
    variant="rg", why=_ALIASED_INPUTS, inputs=lambda: (tl.tensor([1.0, -1.0, 2.0, 3.0], requires_grad=True),),
    outputs=True, grads=(0,), exact=True)
def mutated_graph_input_aliased_by_another_input(y):
    t1 = (y > 0).float() * y
    t2 = t1.flatten()
    md.graph_break()
    t1.add_(1.5)
    return t2 + 1, t1


@eager_vs_compiled(
    why="min-cut saved x (to recompute y + x in the backward) although eager saves y + x itself; "
        "x.add_ after the graph then silently changed dy (and the version check missed it, because x "
        "fed only a recomputed node)",
    inputs=lambda: normal(1234, (2, 4), (2, 1), requires_grad=(False, True)),
    grads=(1,))
def input_changed_in_place_after_the_graph_is_not_recomputed_from(x, y):
    t1 = tl.add(y, x)
    t2 = t1.mul(y) - x
    md.graph_break()
    x.add_(1.5)
    return t2


@eager_vs_compiled(
    why="t2 = t1[0] leaves the graph next to t1; AOT returned them as unrelated tensors, so t2.mul_(3) "
        "after the break did not reach t1's gradient (y.grad rows were 0 or 2, not 6)",
    inputs=lambda: (tl.tensor([[0.5, 1.0], [-1.0, 2.0]], requires_grad=True),),
    outputs=True, grads=(0,), exact=True, expect=([[3.0, 6.0], [-2.0, 4.0]], [[6.0, 6.0], [2.0, 2.0]]))
def inplace_through_an_output_view_after_the_graph_moves_the_base_history(y):
    t1 = y * 2
    t2 = t1[0]
    md.graph_break()
    t2.mul_(3)
    return t1


@eager_vs_compiled(
    why="t2 views t1 views y; AOT rebuilt t2 straight from y, bypassing t1 (and its hook)",
    inputs=lambda: (tl.tensor(1.5, requires_grad=True),),
    grads=(0,), log=True, exact=True, expect=(1.0, [(1,)]))
def hook_on_a_view_of_an_input_sees_the_gradient_of_a_view_of_it(y):
    t1 = y[None]
    t2 = t1[0:1]
    t1.register_hook(lambda g: LOG.append(tuple(g.shape)))
    return t2


@eager_vs_compiled(
    why="t2 views t1; the hook on t1 was a graph node, so t2.add_(t2) (which in eager moves t1's "
        "history) bypassed it: register_hook now breaks the graph when other views exist",
    inputs=lambda: (tl.tensor([[0.5], [-1.0]], requires_grad=True),),
    outputs=True, grads=(0,), exact=True)
def hook_on_a_tensor_later_changed_through_a_view(y):
    t1 = y.reshape(-1) * y
    t2 = t1.flatten()
    t1.add_(y)
    t1.register_hook(lambda g: g + 1)
    t2.add_(t2)
    return t1


@eager_vs_compiled(
    why="CSE merged the second y.expand(3, 4) into the first; eliding the first left the second "
        "reading a name the kernel never defined (NameError: 'expand')",
    inputs=lambda: normal(0, (3, 4), (1, 4), requires_grad=(True, True)),
    loss=None, outputs=True)
def codegen_two_equal_expands_one_elided(x, y):
    return tl.where(y.expand(3, 4) > x, y.expand(3, 4), x) * 2


@eager_vs_compiled(
    why="t2 views x and feeds t3 inside the graph; the hook registered after the break must see t3's "
        "gradient (the output's hook slot), also now that views of inputs may skip slots",
    inputs=lambda: normal(3, (2, 4), requires_grad=(True,)),
    grads=(0,))
def hook_on_a_view_of_an_input_used_inside_the_graph(x):
    t2 = x.unsqueeze(1)
    t3 = tl.maximum(tl.tanh(t2) * 3, t2)
    t2.register_hook(lambda g: g * 0.5)
    return t3


def _hook_b_then_total(a, b):
    b.register_hook(lambda g: g * 3)  # by the caller, after the compiled region
    return a.sum() + b.sum()


def _x_and_zero_dim_y():
    return (tl.tensor(np.arange(12, dtype=np.float32).reshape(3, 4) / 10, requires_grad=True),
            tl.tensor(np.float32(1.5), requires_grad=True))


@eager_vs_compiled(
    why="seed 2102923: t1 (a view of x) is returned and used only by dead code; its hook slot sat on "
        "the dead path while AOT rebuilt t1 from x, so no hook saw t1's gradient",
    inputs=_x_and_zero_dim_y, loss=_hook_b_then_total, grads=(0, 1))
def hook_on_an_output_view_of_an_input_with_a_dead_internal_use(x, y):
    t1 = x.transpose(0, 1)
    t4 = (t1 + y).relu()  # noqa: F841
    t1.register_hook(lambda g: g + 2)
    return x.tanh(), t1


@eager_vs_compiled(
    why="the slot sees the internal use but AOT rebuilds the output from x outside its node: such a "
        "graph runs as it is, so the caller's hook sees both parts of the gradient",
    inputs=_x_and_zero_dim_y, loss=_hook_b_then_total, grads=(0, 1))
def hook_on_an_output_view_of_an_input_with_a_live_internal_use(x, y):
    t1 = x.transpose(0, 1)
    return (t1 * y).relu(), t1


@eager_vs_compiled(
    why="seed 2064104: a hook registered in the graph, then (after the .item() break) another on the "
        "same tensor: the second went on the output tensor and ran before the first, on every backend",
    inputs=lambda: (tl.tensor(np.arange(8, dtype=np.float32).reshape(2, 4) - 3),
                    tl.tensor(np.array([[0.5, -1.0, 2.0, 1.5]], np.float32), requires_grad=True)),
    loss=lambda a, _, c: a.sum() + 2 * c.sum(), grads=(1,))
def second_hook_after_a_break_runs_after_the_first(x, y):
    t1 = x * y
    t1.register_hook(lambda g: g + 1)
    if x.mean().item() < 10:
        x = tl.maximum(x, t1)
    t1.register_hook(lambda g: g * 0.5)
    return t1, x.sum(), t1


_EQUAL_EXPANDS = ("seed 2301235: y.expand(3, 4) * y.expand(3, 4); CSE made them one expand used twice by "
                  "the mul, each check saw the other operand still expanded, and eliding both gave a "
                  "[1, 4] mul")


@eager_vs_compiled(
    variant="no_rg", why=_EQUAL_EXPANDS, inputs=lambda: normal(0, (1, 4), requires_grad=(False,)),
    loss=None, outputs=True)
@eager_vs_compiled(
    variant="rg", why=_EQUAL_EXPANDS, inputs=lambda: normal(0, (1, 4), requires_grad=(True,)),
    loss=None, outputs=True)
def codegen_equal_expands_as_both_operands_keep_the_shape(y):
    t = (y.expand(3, 4) * y.expand(3, 4) + 1).sqrt()
    return t, t.mean()


_RESHAPE_COPIES = ("seed 2903546: fake tensors have no strides, so every reshape looked like a view; AOT's "
                   "functional graph then wrote t1.mul_ into y's memory (or u.mul_ into t) where eager copies")


def _arange_2x3(rg):
    return (tl.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=rg),)


@eager_vs_compiled(
    variant="no_rg", why=_RESHAPE_COPIES, inputs=lambda: _arange_2x3(False), loss=None, outputs=True, mutated=(0,))
@eager_vs_compiled(
    variant="rg", why=_RESHAPE_COPIES, inputs=lambda: _arange_2x3(True), loss=None, outputs=True, mutated=(0,))
def inplace_after_a_reshape_that_copies(y):
    t1 = y.transpose(0, 1).flatten()  # a copy: the transpose is not contiguous
    t1.mul_(0.5)
    return t1


@eager_vs_compiled(
    variant="no_rg", why=_RESHAPE_COPIES, inputs=lambda: _arange_2x3(False), loss=None, outputs=True, mutated=(0,))
@eager_vs_compiled(
    variant="rg", why=_RESHAPE_COPIES, inputs=lambda: _arange_2x3(True), loss=None, outputs=True, mutated=(0,))
def inplace_after_a_reshape_of_a_fresh_tensor_that_copies(y):
    t = y.transpose(0, 1) + 1  # numpy keeps the transposed layout: reshape copies
    u = t.reshape(-1)
    u.mul_(2)
    return t


class _Scaled:
    def __init__(self, t):
        self.t = t
        self.count = 2
        self.scale = 1.5

    def scaled(self, s):
        return self.t * s * self.scale


@eager_vs_compiled(
    why="seed 3001392: t2 and t4 compute the same expression; with hook slots both outputs were views of "
        "one CSE'd buffer, so t2[0] = 1 after the break also changed t4 and its saved copy",
    inputs=lambda: normal(1234, (2, 4), (2, 1), requires_grad=(True, True)),
    loss=lambda t5, s: (t5 * tl.tensor(np.linspace(-1, 1, 4).reshape(4, 1).astype(np.float32))).sum(),
    outputs=True, grads=(1,))
def codegen_cse_keeps_equal_outputs_apart(x, y):
    o1 = _Scaled(y + 1)
    t2 = o1.t * o1.count + o1.scaled(0.5)
    o3 = _Scaled(y + 1)
    t4 = o3.t * o3.count + o3.scaled(0.5)
    t5 = tl.cat([t4 / (y.abs() + 1), t2], dim=0)
    md.graph_break()
    t2[0] = 1.0  # eager: t2 only; t4 (saved for the backward of the division) is another tensor
    return t5, (t4 + x).sum()


def _helper_breaks_then_mul_sin(a, b):
    md.graph_break()
    return a * b + a.sin()


@eager_vs_compiled(
    why="seed 3203634: t1 and t3 are both y.flatten(); AOT rebuilt t3 from t1 with an empty rest of the "
        "chain, i.e. as the same object, so the hook registered on t1 also scaled t3's gradient",
    inputs=lambda: (tl.tensor(np.array([0.5, 1.0, -1.0, 2.0], np.float32), requires_grad=True),),
    outputs=True, grads=(0,))
def two_equal_views_of_an_input_stay_two_tensors(y):
    t1 = y.flatten()
    t3 = y.flatten()
    t5 = _helper_breaks_then_mul_sin(t1, t3)
    t1.register_hook(lambda g: g * 0.5)
    return t5, t1 is t3


@eager_vs_compiled(
    why="seed 3304790: t1 is returned (through a hook slot, as a view) and changed in place after the "
        "break; min-cut saved t1 to recompute exp(t1) in the backward, where eager saves exp's result, "
        "so the backward raised \"modified by an inplace operation\" where eager did not",
    inputs=lambda: normal(0, (2, 4), requires_grad=(True,)),
    outputs=True, grads=(0,))
def min_cut_does_not_save_what_an_output_views(x):
    t1 = (x > 0).float() * x
    t2 = t1.exp().clamp(max=20.0)
    if t2.sum() > 0:
        t2 = tl.clamp(t2, min=-0.5)
    t3 = 2.0 - (t2 - x)
    t1.sub_(x)
    return tl.stack([t3, t2], dim=0)


@eager_vs_compiled(
    why="seed 6595142924 (make fuzz --guards): the hook on t2, an output that views the output t1, "
        "gets t1's gradient from before t1.clamp_ changed it in place",
    inputs=lambda: (tl.tensor(np.full((1, 4), -1.0, dtype=np.float32), requires_grad=True),),
    grads=(0,), exact=True, backends=("aot_eager", "codegen"),
    xfail="issue #20 owns it: a hook registered (after a graph break) on a "
          "graph output that views another output, whose base is then changed in place, "
          "gets the gradient of the base before the change (found by make fuzz --guards, "
          "seed 6595142924; wrong at 7ae9178 too)")
def hook_on_a_view_output_whose_base_changes_in_place(y):
    t1 = (y.sum())[None]
    t2 = t1.squeeze()
    t2.register_hook(lambda g: g + 1)
    t1.clamp_(-1, 1)
    return t2 * 0.5, t1


assert len({r.name for r in EAGER_VS_COMPILED}) == len(EAGER_VS_COMPILED), "two rows share a name"
