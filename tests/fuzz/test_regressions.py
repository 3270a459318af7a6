"""Minimised programs the fuzzer found, each once a mismatch between eager and compiled.

Most are rows of the two tables in regressions.py: whole fuzz programs (REGRESSIONS, run by
test_regression) and hand-written programs run eagerly and compiled (EAGER_VS_COMPILED, run by
test_eager_vs_compiled). Below those are the checks with their own asserts: expected errors,
hand-computed gradients (also for plain eager), dtypes, requires_grad, repeated calls."""
import dataclasses

import numpy as np
import pytest

import minidynamo as md
import tensorlite as tl

from .harness import check
from .regressions import (BACKENDS, EAGER_VS_COMPILED, LOG, REGRESSIONS,
                          inplace_after_a_reshape_of_a_fresh_tensor_that_copies, program)


def _cases(rows):
    for r in rows:
        marks = [pytest.mark.xfail(strict=True, reason=r.xfail)] if r.xfail else []
        for backend in r.backends:
            yield pytest.param(r, backend, id=f"{r.name}-{backend}", marks=marks)


@pytest.mark.parametrize("regression, backend", list(_cases(REGRESSIONS)))
def test_regression(regression, backend):
    md.reset()
    report = check(program(regression.body, regression.args), [backend])
    assert report is None, f"{regression.name} ({regression.why}): {report}"


@dataclasses.dataclass
class _Tensor:
    """A tensor as a run left it: compared in shape, dtype, requires_grad and values."""
    shape: tuple
    dtype: object
    requires_grad: bool
    data: np.ndarray

    def same(self, o, exact):
        if (self.shape, self.dtype, self.requires_grad) != (o.shape, o.dtype, o.requires_grad):
            return False
        return np.array_equal(self.data, o.data) if exact else np.allclose(self.data, o.data)


def _snap(v):
    if isinstance(v, tl.Tensor):
        return _Tensor(tuple(v.shape), v.dtype, v.requires_grad, np.array(v.detach().numpy(), copy=True))
    if isinstance(v, (list, tuple)):
        return type(v)(_snap(x) for x in v)
    return v


def _same(a, b, exact):
    if isinstance(a, _Tensor):
        return isinstance(b, _Tensor) and a.same(b, exact)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y, exact) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _plain(v):
    if isinstance(v, _Tensor):
        return v.data.tolist()
    if isinstance(v, (list, tuple)):
        return type(v)(_plain(x) for x in v)
    return v


def _run(row, fn):
    """Run fn on fresh inputs as the row says; what the row compares, as snapshots."""
    LOG.clear()
    args = row.inputs()
    out = fn(*args)
    if row.loss is not None:
        row.loss(*(out if isinstance(out, tuple) else (out,))).backward()
    seen = [out] if row.outputs else []
    seen += [args[i] for i in row.mutated]
    seen += [args[i].grad for i in row.grads]
    if row.log:
        seen.append(list(LOG))
    return _snap(tuple(seen))


@pytest.mark.parametrize("row, backend", list(_cases(EAGER_VS_COMPILED)))
def test_eager_vs_compiled(row, backend):
    md.reset()
    eager = _run(row, row.f)
    compiled = _run(row, md.compile(row.f, backend=backend))
    assert _same(eager, compiled, row.exact), f"{row.name} ({row.why}):\n eager:    {eager}\n compiled: {compiled}"
    if row.expect is not None:
        assert _plain(eager) == _plain(compiled) == row.expect, f"{row.name} ({row.why}): {_plain(compiled)}"


def test_aot_program_whose_backward_fails_raises_at_backward_like_eager():
    # tanh saves its output; writing into it breaks the backward: eager raises at backward
    def f(y, w):
        t = (y * w).tanh()
        t[0] = 0.0
        return t.clone()

    errors = []
    for fn in (f, md.compile(f, backend="aot_eager")):
        out = fn(tl.ones(2, 3), tl.ones(3, requires_grad=True))
        with pytest.raises(RuntimeError, match="modified by an inplace operation") as e:
            out.sum().backward()
        errors.append(type(e.value))
    assert errors[0] is errors[1]


def _helper_breaks(a, b):
    md.graph_break()
    return (a + b) * 2


def test_aot_graph_that_leaves_a_no_grad_block_keeps_requires_grad():
    def f(x, y):
        with tl.no_grad():
            t1 = _helper_breaks(x, y)
        return (y / (x.abs() + 1)).flatten(), t1

    x = tl.randn(2, 4, requires_grad=True)
    y = tl.randn(4)
    ref = f(x, y)
    out = md.compile(f, backend="aot_eager")(x, y)
    assert out[0].requires_grad == ref[0].requires_grad is True
    assert out[1].requires_grad == ref[1].requires_grad is False


def test_shape_rules_reject_what_eager_rejects():
    # a dead op must still raise for shapes eager rejects (backends drop dead ops)
    from tensorlite._modes import FakeTensorMode

    with FakeTensorMode() as m:
        a, b = m.from_real(tl.ones(3, 4)), m.from_real(tl.ones(5, 4))
        with pytest.raises(RuntimeError, match="Sizes of tensors must match"):
            tl.cat([a, b], dim=1)
        with pytest.raises(RuntimeError, match="expanded size"):
            a.expand(2, 3, 5)

    def f(x, y):
        t = y * 2
        tl.cat([t, x], dim=1)  # dead, but it raises in eager
        return t

    opt = md.compile(f, backend="codegen")
    opt(tl.ones(3, 4), tl.ones(3, 4))
    with pytest.raises(RuntimeError, match="Sizes of tensors must match"):
        opt(tl.ones(5, 4), tl.ones(3, 4))


@pytest.mark.parametrize("backend", ["aot_eager", "codegen"])
def test_hook_slot_placeholder_after_pruned_inputs(backend):
    # an unused input is pruned from the graph; the slot's placeholder must still come first
    def f(x, unused):
        t = x * 2
        u = t.sin()
        return t, u

    out = md.compile(f, backend=backend)(tl.ones(3, requires_grad=True), tl.ones(2))
    assert np.allclose(out[0].tolist(), [2.0, 2.0, 2.0])


@pytest.mark.parametrize("backend", ["eager", "aot_eager", "codegen"])
def test_inplace_on_expanded_tensor_fails_while_tracing_like_eager(backend):
    # fake tensors' zero-strided arrays are writable: the expand in the view chain must still
    # make x.expand(...).add_(...) fail at trace time, so the frame runs eagerly (side effects
    # before the error happen, and the error is eager's)
    state = {"count": 0}

    def f(x, y):
        state["count"] += 1
        with tl.no_grad():
            t2 = y.expand(3, 4)
        t2.add_(y)
        return x * 2

    errors = []
    for fn in (f, md.compile(f, backend=backend)):
        state["count"] = 0
        with pytest.raises(RuntimeError, match="more than one element") as e:
            fn(tl.ones(2, 4, requires_grad=True), tl.ones(1, 4))
        errors.append((type(e.value), state["count"]))
    assert errors[0] == errors[1] == (RuntimeError, 1)


def test_harness_groups_hook_calls_per_hook_only():
    from .harness import canonical_log, diff, snap
    # per-hook grouping keeps each hook's own order and drops only a failed backward's calls
    log = ["fwd", ("b", 1), ("a", 2), ("b", 3), "after", ("c", 9)]
    assert canonical_log(log, [(1, 4, False), (5, 6, True)]) == ["fwd", ("a", 2), ("b", 1), ("b", 3), "after"]
    spans = [(0, 3, False)]
    # another interleaving across hooks is the same; another order or value within one hook is not
    assert diff(snap(canonical_log([("a", 1), ("b", 2), ("a", 3)], spans)),
                snap(canonical_log([("b", 2), ("a", 1), ("a", 3)], spans))) is None
    assert diff(snap(canonical_log([("a", 1), ("b", 2), ("a", 3)], spans)),
                snap(canonical_log([("a", 3), ("b", 2), ("a", 1)], spans))) is not None
    assert diff(snap(canonical_log([("a", 1), ("b", 2)], spans)),
                snap(canonical_log([("a", 1), ("b", 5)], spans))) is not None


@pytest.mark.parametrize("backend", BACKENDS)
def test_shape_read_after_inplace_on_a_dynamic_input(backend):
    # seed 2061058 (guards): y's size changed between calls (so dim 0 became dynamic), then
    # y.add_ and y.shape: specializing the dimension looked up y's value by its in-place node
    def f(x, y):
        y.add_(1.5)
        return (x + y) * len(y.shape)

    opt = md.compile(f, backend=backend)
    for n in (4, 1, 4, 1):
        x = tl.tensor(np.ones((3, 4), np.float32), requires_grad=True)
        ye, yc = tl.ones(n), tl.ones(n)
        assert md.testing.same(opt(x, yc), f(x, ye)) and md.testing.same(yc, ye)


@pytest.mark.parametrize("backend", BACKENDS)
def test_inplace_with_a_wider_operand_keeps_the_dtype(backend):
    # seed 2900370 (guards: x became float64): t1.sub_(x) on a float32 t1 stays float32 in
    # eager; the traced graph took the promoted float64 result as t1's new value
    def f(x, y):
        t1 = y + 1
        t1.sub_(x)
        return t1 * 2

    def run(fn):
        md.reset()
        x = tl.tensor(np.arange(3, dtype=np.float64), requires_grad=True)
        out = fn(x, tl.ones(3))
        out.sum().backward()
        return out, x.grad

    (oe, ge), (oc, gc) = run(f), run(md.compile(f, backend=backend))
    assert oc.dtype == oe.dtype == tl.float32 and gc.dtype == ge.dtype == tl.float64
    assert md.testing.same(oc, oe) and md.testing.same(gc, ge)


def test_aot_function_inplace_after_a_reshape_that_copies():
    from backends.aot import aot_function, nop
    f = inplace_after_a_reshape_of_a_fresh_tensor_that_copies
    y = tl.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert md.testing.same(aot_function(f, nop)(y), f(y))


@pytest.mark.parametrize("backend", [None] + BACKENDS)
def test_gradient_of_a_view_changed_in_place_flows_through_the_base(backend):
    # seed 3404963: as in PyTorch, after t2.sub_(..) on a view t2 of t1, t2's gradient flows
    # through t1's new history, so a hook on t1 runs; eager tensorlite bypassed t1 (AOT did not)
    log = []

    def f(x):
        t1 = tl.stack([x, x], dim=0)
        t2 = t1.reshape(-1)
        t2.sub_(t2 * 0.5)
        t1.register_hook(lambda g: log.append(g.tolist()) or g * 3)
        return t2

    md.reset()
    fn = f if backend is None else md.compile(f, backend=backend)
    x = tl.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    fn(x).sum().backward()
    assert log == [[[1.0, 1.0], [1.0, 1.0]]]
    assert x.grad.tolist() == [3.0, 3.0]


def test_harness_log_after_an_allowed_backward_difference():
    # seed 3702121 (guards): eager's backward raised "modified by an inplace operation" where
    # min-cut recomputed (allowed), so a hook ran only compiled; the next call's LOG, which
    # still holds that call's entries, differs too and is not a mismatch
    from .generator import RandomDraw, generate
    import random
    p = generate(RandomDraw(3702121), guard_mode=True)
    ns = {}
    exec(compile(p.source, "<fuzz>", "exec"), ns)  # noqa: S102
    mutation = random.Random(3702121).choice(ns["MUTATIONS"])
    md.reset()
    assert check(p, ["aot_eager_min_cut"], mutation=mutation) is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_inplace_on_an_expanded_graph_input_raises_eagers_error(backend):
    # seed 3903127 (guards, grad mode off): after a break, t1[0] = 1 on an expanded t1 (a graph
    # input of the resumed graph) failed in AOT's copy-back with numpy's ValueError
    def f(y):
        t1 = (y - y).expand(3, 4)
        print("break")
        t1[0] = 1
        return t1

    md.reset()
    opt = md.compile(f, backend=backend)
    with tl.no_grad():
        with pytest.raises(RuntimeError, match="refers to a single memory location"):
            opt(tl.ones(1, 4, requires_grad=True))


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_setitem_index_fails_at_trace_time_so_side_effects_happen(backend):
    # seed 4000458: t[0] = 1 on a 0-d t passed the fake shape rule, so the graph raised at run
    # time and the attribute write before it (replayed after the graph) never happened
    class Box:
        pass

    def f(y, obj):
        obj.t = y
        t3 = y.squeeze().clone()
        t3[0] = 1
        return t3

    md.reset()
    opt = md.compile(f, backend=backend)
    box = Box()
    with pytest.raises(IndexError):
        opt(tl.ones(1), box)
    assert box.t is not None


@pytest.mark.parametrize("backend", [None] + BACKENDS)
@pytest.mark.parametrize("with_view", [True, False])
def test_hook_on_an_output_after_an_index_assignment(backend, with_view):
    # seed 5200559: t1[0] = k, then (after the graph) a hook on t1. In eager the hook sees t1's
    # gradient before the assignment's backward zeroes row 0; AOT's hook slot for the output sat
    # before the assignment, so the hook's +k landed on the zeroed row
    def f(x):
        t1 = x.clamp(-1.0, 1.0)
        t1[0] = 0.5
        t3 = t1[..., 0:] if with_view else t1 * 1.0
        t1.register_hook(lambda g: g + 0.5)
        return t3

    md.reset()
    fn = f if backend is None else md.compile(f, backend=backend)
    x = tl.tensor(np.array([[0.5, 2.0], [-0.5, 3.0]], np.float32), requires_grad=True)
    fn(x).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0], [1.5, 0.0]]


@pytest.mark.parametrize("backend", [None] + BACKENDS)
@pytest.mark.parametrize("return_x", [True, False])
def test_hooks_before_and_after_an_index_assignment(backend, return_x):
    # seed 5501900: a hook on x, then x[0] = 1, then another hook on x. The second hook belongs
    # to x's new version (its gradient before the assignment's backward zeroes row 0); it had
    # joined the first hook's box, placed before the assignment, so it doubled the first's +1
    def f(x):
        x = x + 2
        x.register_hook(lambda g: g + 1)
        x[0] = 1
        x.register_hook(lambda g: g * 2)
        t5 = x / 10
        return (x, t5) if return_x else t5

    md.reset()
    fn = f if backend is None else md.compile(f, backend=backend)
    x = tl.tensor(np.ones((2, 2), np.float32), requires_grad=True)
    outs = fn(x)
    outs = outs if isinstance(outs, tuple) else (outs,)
    sum(o.sum() for o in outs).backward()
    g = 2 * (1.1 if return_x else 0.1) + 1
    assert np.allclose(x.grad.numpy(), [[1.0, 1.0], [g, g]])


@pytest.mark.parametrize("backend", [None] + BACKENDS)
def test_unused_output_changed_in_place_after_a_break(backend):
    # seed 5800376: t1 (a sqrt, whose backward saves t1 itself) is an output of the first graph
    # and is assigned to after a graph break. Only t2 reaches the loss, so eager never runs t1's
    # backward; AOT ran the whole joint backward with a zero tangent for t1, and 0 * 1/(2*0)
    # made every gradient of y NaN
    def f(y):
        t1 = (y * y + 1).sqrt()
        t2 = y.tanh()
        print("break")
        t1[0] = 0.0
        return t2

    md.reset()
    fn = f if backend is None else md.compile(f, backend=backend)
    y = tl.tensor(np.array([0.5, -1.0], np.float32), requires_grad=True)
    fn(y).sum().backward()
    assert np.allclose(y.grad.numpy(), 1 - np.tanh([0.5, -1.0]) ** 2)


@pytest.mark.parametrize("backend", [None] + BACKENDS)
def test_output_without_a_gradient_does_not_make_nan(backend):
    # the same without a break or an in-place change: sqrt at 0 has an infinite derivative, and
    # an output the loss does not use gets no backward in eager, so no 0 * inf
    def f(y):
        return y.sqrt(), y * 3

    md.reset()
    fn = f if backend is None else md.compile(f, backend=backend)
    y = tl.tensor(np.array([0.0, 4.0], np.float32), requires_grad=True)
    root, triple = fn(y)
    triple.sum().backward()
    assert y.grad.tolist() == [3.0, 3.0]
    assert root.tolist() == [0.0, 2.0]


@pytest.mark.parametrize("backend", [None] + BACKENDS)
def test_view_of_an_output_changed_in_place_after_a_break(backend):
    # seed 6000508: the min-cut partition saved t1.reshape(-1) (a view of the output t1) to
    # recompute tanh in the backward; t1.sub_(x) after the graph break bumped the view's
    # version, so the backward raised where eager (which saves tanh's output) does not
    def f(x, y):
        t1 = tl.where(y > x, y, x)
        t2 = t1.reshape(-1).tanh()
        if bool(y.amax() > 0.5):
            y = y * 2
        t1.sub_(x)
        return t2

    md.reset()
    fn = f if backend is None else md.compile(f, backend=backend)
    x = tl.tensor(np.array([[0.5, -1.0], [2.0, 0.25]], np.float32), requires_grad=True)
    y = tl.tensor(np.array([[1.0, -2.0], [0.5, 0.75]], np.float32), requires_grad=True)
    fn(x, y).sum().backward()
    t1 = np.where([[1.0, -2.0], [0.5, 0.75]] > np.array([[0.5, -1.0], [2.0, 0.25]]),
                  [[1.0, -2.0], [0.5, 0.75]], [[0.5, -1.0], [2.0, 0.25]])
    g = 1 - np.tanh(t1) ** 2
    mask = np.array([[1.0, -2.0], [0.5, 0.75]]) > np.array([[0.5, -1.0], [2.0, 0.25]])
    assert np.allclose(y.grad.numpy(), np.where(mask, g, 0.0), atol=1e-6)
    assert np.allclose(x.grad.numpy(), np.where(mask, 0.0, g), atol=1e-6)


@pytest.mark.parametrize("backend", [None] + BACKENDS)
def test_hook_on_an_output_that_views_another_output(backend):
    # seed 6401452: t2 (a view of the output t1) is returned and hooked inside the graph. AOT
    # rebuilt t2 from t1 outside the graph, so the gradient the caller sent into t2 reached
    # t1 past the hook, which only saw t2's uses inside the graph
    def f(x):
        t1 = (x > 0).float() * x
        t2 = t1.flatten()[..., 5:]
        t6 = tl.where(t2 / 8.0 > 0, t2, t2 * 0.25)
        t2.register_hook(lambda g: g * 0.5)
        return t1, t2, t6

    md.reset()
    fn = f if backend is None else md.compile(f, backend=backend)
    x = tl.tensor(np.array([[1.0, -2.0, 3.0, -0.5], [0.25, 1.5, -1.0, 2.0]], np.float32), requires_grad=True)
    t1, t2, t6 = fn(x)
    (t1.sum() + (t2 * 3).sum() + (t6 * 5).sum()).backward()
    flat_x = x.detach().numpy().reshape(-1)
    g_t2 = 0.5 * (3 + 5 * np.where(flat_x[5:] > 0, 1.0, 0.25))  # the hook halves t2's total
    expected = np.ones(8)
    expected[5:] += g_t2
    expected *= flat_x > 0
    assert np.allclose(x.grad.numpy().reshape(-1), expected)
