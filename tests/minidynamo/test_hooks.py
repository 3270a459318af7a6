"""Hooks under compile, re-creating the behaviours of PyTorch's test/dynamo/test_hooks.py on
tensorlite, for every backend that exists. Each test compares with eager tensorlite."""
import functools

import pytest

import backends
import minidynamo as md
import tensorlite as tl
from minidynamo.testing import CompileCounterWithBackend, same

BACKENDS = [b for b in ("eager", "aot_eager", "codegen") if b in backends.list_backends()]


@pytest.fixture(autouse=True)
def _reset():
    md.reset()
    yield
    md.reset()


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


def compiled(fn, backend):
    cnt = CompileCounterWithBackend(backend)
    return md.compile(fn, backend=cnt), cnt


def grads_of(fn, *shapes, grad_out=None, values=None):
    """Run fn on fresh leaves; backward the first output; return the outputs and grads."""
    xs = []
    for i, s in enumerate(shapes):
        v = values[i] if values else [float(j + 1) for j in range(s)]
        xs.append(tl.tensor(v, requires_grad=True))
    out = fn(*xs)
    first = out[0] if isinstance(out, tuple) else out
    if grad_out is None:
        first.sum().backward()
    else:
        first.backward(tl.tensor(grad_out))
    return out, [x.grad for x in xs]


# ------------------------------------------------------------------- hooks on inputs


def test_input_hook_only_compiles_no_graph(backend):
    def fn(x):
        x.register_hook(lambda grad: grad * 2)
        return x

    cfn, cnt = compiled(fn, backend)
    v = tl.tensor([0.0, 0.0, 0.0], requires_grad=True)
    out = cfn(v)
    out.backward(tl.tensor([1.0, 2.0, 3.0]))
    assert v.grad.tolist() == [2.0, 4.0, 6.0]
    assert out is v
    assert cnt.frame_count == 0


def test_input_hook_in_graph(backend):
    def fn(x, y, z):
        x.register_hook(lambda grad: grad * 2)
        return x, y * y, z * z

    cfn, cnt = compiled(fn, backend)
    v = tl.tensor([0.0, 0.0, 0.0], requires_grad=True)
    out = cfn(v, tl.ones(3), tl.ones(3))[0]
    out.backward(tl.tensor([1.0, 2.0, 3.0]))
    assert v.grad.tolist() == [2.0, 4.0, 6.0]
    assert cnt.frame_count == 1


def test_remove_and_reregister(backend):
    def fn(x, y, z):
        handle = x.register_hook(lambda grad: grad * 2)
        z = z * z
        handle.remove()
        x.register_hook(lambda grad: grad * 3)
        return x, y * y, z, handle, handle

    cfn, cnt = compiled(fn, backend)
    v = tl.tensor([0.0, 0.0, 0.0], requires_grad=True)
    out = cfn(v, tl.ones(3), tl.ones(3))
    out[0].backward(tl.tensor([1.0, 2.0, 3.0]))
    assert v.grad.tolist() == [3.0, 6.0, 9.0]
    assert out[3] is out[4]
    assert isinstance(out[3], tl.utils.hooks.RemovableHandle)


def test_three_chained_hooks(backend):
    def fn(x):
        x.register_hook(lambda g: g * 2)
        x.register_hook(lambda g: None)
        x.register_hook(lambda g: g * 3)
        return x

    cfn, _ = compiled(fn, backend)
    v = tl.tensor([0.0, 0.0, 0.0], requires_grad=True)
    cfn(v).backward(tl.tensor([1.0, 2.0, 3.0]))
    assert v.grad.tolist() == [6.0, 12.0, 18.0]


def test_remove_twice_inside(backend):
    def fn(x):
        h = x.register_hook(lambda g: g * 100)
        h.remove()
        h.remove()
        return x * 2

    for f in (fn, compiled(fn, backend)[0]):
        _, (g,) = grads_of(f, 3)
        assert g.tolist() == [2.0, 2.0, 2.0]


HANDLES = []


def test_handles_stored_in_globals_and_module_attrs(backend):
    class Holder(tl.nn.Module):
        pass

    holder = Holder()

    def fn(x, holder):
        holder.handle = x.register_hook(lambda g: g * 5)
        HANDLES.append(x.register_hook(lambda g: g + 1))
        return x * 1

    cfn, _ = compiled(fn, backend)
    HANDLES.clear()
    _, (g,) = grads_of(lambda x: cfn(x, holder), 3)
    assert g.tolist() == [6.0, 6.0, 6.0]  # g * 5, then + 1, in registration order
    assert isinstance(holder.handle, tl.utils.hooks.RemovableHandle) and len(HANDLES) == 1
    assert isinstance(HANDLES[0], tl.utils.hooks.RemovableHandle)


# ------------------------------------------------------------------- hooks on intermediates


def test_intermediate_hook_sees_total_gradient(backend):
    def fn(x):
        y = x * 2
        z = y + 1
        y.register_hook(lambda g: g * 2)
        w = y * 3
        return z + w

    ref_out, (ref,) = grads_of(fn, 3, values=[[1.0, 1.0, 1.0]])
    cfn, cnt = compiled(fn, backend)
    out, (got,) = grads_of(cfn, 3, values=[[1.0, 1.0, 1.0]])
    assert got.tolist() == ref.tolist() == [16.0, 16.0, 16.0]
    assert same(out, ref_out) and cnt.frame_count == 1


def add_k(g, k):
    return g + k


def test_two_partial_hooks_on_intermediate(backend):
    def fn(x):
        y = x * 2
        y.register_hook(functools.partial(add_k, k=3))
        y.register_hook(functools.partial(add_k, k=4))
        return y * 2

    _, (ref,) = grads_of(fn, 3)
    cfn, cnt = compiled(fn, backend)
    _, (got,) = grads_of(cfn, 3)
    assert got.tolist() == ref.tolist()
    assert cnt.frame_count == 1


def test_hook_order_on_intermediate_is_registration_order(backend):
    def fn(x):
        y = x * 2
        y.register_hook(lambda g: g + 3)
        y.register_hook(lambda g: g * 4)
        return y

    _, (ref,) = grads_of(fn, 3)
    _, (got,) = grads_of(compiled(fn, backend)[0], 3)
    assert got.tolist() == ref.tolist() == [32.0, 32.0, 32.0]


def test_intermediate_hook_with_closure(backend):
    def outer(scale):
        def fn(x):
            y = x.sin()
            y.register_hook(lambda g: g * scale)
            return y.cos()
        return fn

    fn = outer(3.0)
    _, (ref,) = grads_of(fn, 3)
    _, (got,) = grads_of(compiled(fn, backend)[0], 3)
    assert same(got, ref)


def test_returned_intermediate_handle_removes_hook(backend):
    def fn(x):
        y = x * 2
        h = y.register_hook(lambda g: g * 100)
        return y * 1, h

    for f in (fn, compiled(fn, backend)[0]):
        x = tl.ones(3, requires_grad=True)
        out, h = f(x)
        h.remove()
        out.sum().backward()
        assert x.grad.tolist() == [2.0, 2.0, 2.0]


# ------------------------------------------------------------------- no recompiles


def hook_a(g):
    return g * 2


def hook_b(g):
    return g * 7


CURRENT_HOOK = hook_a


def test_no_recompile_on_hook_identity_change(backend):
    def fn(x):
        y = x * 1
        y.register_hook(CURRENT_HOOK)
        x.register_hook(CURRENT_HOOK)
        return y

    global CURRENT_HOOK
    cfn, cnt = compiled(fn, backend)
    CURRENT_HOOK = hook_a
    _, (g1,) = grads_of(cfn, 3)
    CURRENT_HOOK = hook_b
    _, (g2,) = grads_of(cfn, 3)
    assert g1.tolist() == [4.0, 4.0, 4.0]
    assert g2.tolist() == [49.0, 49.0, 49.0]
    assert cnt.frame_count == 1


def test_no_recompile_on_partial_keyword_change(backend):
    def fn(x, hook):
        y = x * 2
        y.register_hook(hook)
        return y

    cfn, cnt = compiled(fn, backend)
    _, (g1,) = grads_of(lambda x: cfn(x, functools.partial(add_k, k=1)), 3)
    _, (g2,) = grads_of(lambda x: cfn(x, functools.partial(add_k, k=10)), 3)
    assert g1.tolist() == [4.0, 4.0, 4.0] and g2.tolist() == [22.0, 22.0, 22.0]
    assert cnt.frame_count == 1


def test_no_recompile_on_closure_value_change(backend):
    def fn(x, scale):
        y = x * 2
        y.register_hook(lambda g: g * scale)
        return y

    cfn, cnt = compiled(fn, backend)
    _, (g1,) = grads_of(lambda x: cfn(x, 3.0), 3)
    _, (g2,) = grads_of(lambda x: cfn(x, 5.0), 3)
    assert g1.tolist() == [6.0, 6.0, 6.0] and g2.tolist() == [10.0, 10.0, 10.0]
    assert cnt.frame_count == 1


# ------------------------------------------------------------------- post-accumulate-grad hooks


def test_post_accumulate_grad_hook(backend):
    def hook(t):
        t.mul_(t.grad)
        t.grad.mul_(5)

    def fn(x):
        x.register_post_accumulate_grad_hook(hook)
        return x * 2

    results = []
    for f in (fn, compiled(fn, backend)[0]):
        x = tl.tensor([0.5, 0.5, 0.5], requires_grad=True)
        f(x).sum().backward()
        results.append((x.detach().tolist(), x.grad.tolist()))
    assert results[0] == results[1] == ([1.0, 1.0, 1.0], [10.0, 10.0, 10.0])


# ------------------------------------------------------------------- module hooks


class Mod(tl.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = tl.nn.Linear(3, 3)

    def forward(self, x):
        return self.lin(x).relu()


def test_module_forward_hooks_one_graph(backend):
    m = Mod()
    m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    m.register_forward_hook(lambda mod, args, out: out + 1)
    m.lin.register_forward_hook(lambda mod, args, kwargs, out: out * 3, with_kwargs=True)
    cnt = CompileCounterWithBackend(backend)
    cm = md.compile(m, backend=cnt)
    x = tl.randn(2, 3, requires_grad=True)
    ref = m(x)
    ref.sum().backward()
    gref = x.grad
    x2 = tl.tensor(x.detach().tolist(), requires_grad=True)
    out = cm(x2)
    out.sum().backward()
    assert same(out, ref) and same(x2.grad, gref)
    assert cnt.frame_count == 1


def test_hook_added_after_compiling_is_seen(backend):
    m = Mod()
    cm = md.compile(m, backend=backend)
    x = tl.randn(2, 3)
    assert same(cm(x), m(x))
    m.register_forward_hook(lambda mod, args, out: out * 0 - 1)
    assert same(cm(x), m(x))
    assert (cm(x) == -1).all().item()


def test_ten_instances_share_one_entry(backend):
    cnt = CompileCounterWithBackend(backend)

    @md.compile(backend=cnt)
    def f(mod, x):
        return mod(x) * 2

    def fw_hook(mod, args, out):
        return out + 1

    x = tl.randn(2, 3)
    for _ in range(10):
        m = Mod()
        m.register_forward_hook(fw_hook)
        assert same(f(m, x), m(x) * 2)
    assert cnt.frame_count == 1


def test_global_module_hooks_fire_once_per_call(backend):
    from tensorlite.nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook

    calls = []
    h1 = register_module_forward_pre_hook(lambda mod, args: calls.append("pre") or None)
    h2 = register_module_forward_hook(lambda mod, args, out: out * 2)
    try:
        m = tl.nn.Linear(3, 3)
        x = tl.randn(2, 3)
        ref = m(x)
        n_eager = len(calls)
        calls.clear()
        cm = md.compile(m, backend=backend)
        out = cm(x)
        assert same(out, ref)
    finally:
        h1.remove()
        h2.remove()
    assert n_eager == 1


def test_full_backward_hook_on_submodule(backend):
    grads = {}

    def bw_hook(mod, grad_input, grad_output):
        grads["in"] = grad_input[0]
        grads["out"] = grad_output[0]

    m = Mod()
    m.lin.register_full_backward_hook(bw_hook)

    def fn(x):
        return m(x).sum() * 2

    x = tl.randn(2, 3, requires_grad=True)
    fn(x).backward()
    ref_in, ref_out, ref_g = grads["in"], grads["out"], x.grad
    grads.clear()
    x2 = tl.tensor(x.detach().tolist(), requires_grad=True)
    md.compile(fn, backend=backend)(x2).backward()
    assert same(grads["in"], ref_in) and same(grads["out"], ref_out) and same(x2.grad, ref_g)


class TwoOut(tl.nn.Module):
    def forward(self, x, y):
        return x * y, x + y


def test_full_backward_hooks_stay_in_one_graph(backend):
    """Full backward (pre-)hooks on a submodule are captured in the graph (no break): grad_input
    and grad_output, hook results replacing gradients, tuple outputs, all as eager."""
    seen = []

    def pre(mod, grad_output):
        seen.append(("pre", [g.tolist() for g in grad_output]))
        return tuple(g * 2 for g in grad_output)

    def post(mod, grad_input, grad_output):
        seen.append(("post", [g.tolist() for g in grad_input], [g.tolist() for g in grad_output]))
        return tuple(g + 1 for g in grad_input)

    m = TwoOut()
    h1 = m.register_full_backward_pre_hook(pre)
    h2 = m.register_full_backward_hook(post)

    def fn(x, y):
        a, b = m(x.sin(), y)
        return (a * 3 + b).sum()

    def run(f):
        seen.clear()
        x = tl.tensor([0.5, 1.0, -2.0], requires_grad=True)
        y = tl.tensor([1.5, -1.0, 0.25], requires_grad=True)
        f(x, y).backward()
        return x.grad.tolist(), y.grad.tolist(), list(seen)

    try:
        ref = run(fn)
        cfn, cnt = compiled(fn, backend)
        got = run(cfn)
        assert cnt.frame_count == 1
        assert same(tl.tensor(got[0]), tl.tensor(ref[0])) and same(tl.tensor(got[1]), tl.tensor(ref[1]))
        assert len(got[2]) == len(ref[2]) == 2 and [s[0] for s in got[2]] == ["pre", "post"]
        for g, r in zip(got[2], ref[2]):
            for ga, ra in zip(g[1:], r[1:]):
                assert same(tl.tensor(ga), tl.tensor(ra))
        # the hooks are read when the graph runs: replacing one keeps the compiled entry
        h2.remove()
        h2 = m.register_full_backward_hook(lambda mod, gi, go: seen.append(("new",)))
        got2 = run(cfn)
        assert cnt.frame_count == 1 and [s[0] for s in got2[2]] == ["pre", "new"]
        assert got2[:2] == run(fn)[:2]
    finally:
        h1.remove()
        h2.remove()


def test_compiled_module_full_backward_hook_one_graph(backend):
    seen = {}
    m = tl.nn.Linear(3, 2)
    h = m.register_full_backward_hook(lambda mod, gi, go: seen.update(e=(gi[0].tolist(), go[0].tolist())))
    try:
        x = tl.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
        m(x).sum().backward()
        ref, ref_g = seen.pop("e"), x.grad.tolist()
        cnt = CompileCounterWithBackend(backend)
        cm = md.compile(m, backend=cnt)
        x2 = tl.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
        cm(x2).sum().backward()
        assert cnt.frame_count == 1
        assert same(tl.tensor(seen["e"][0]), tl.tensor(ref[0])) and same(tl.tensor(seen["e"][1]), tl.tensor(ref[1]))
        assert same(x2.grad, tl.tensor(ref_g))
    finally:
        h.remove()
