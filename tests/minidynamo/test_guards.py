"""Guard soundness: after a compiled call, change each kind of guarded thing; the next call
must return the eager result, and the recompile reason must say what changed. Also the cache
limits (cache_size_limit, error_on_recompile), automatic dynamic shapes and md.config.patch."""
import warnings

import pytest

import minidynamo as md
import tensorlite as tl
from minidynamo.testing import CompileCounter, same


@pytest.fixture(autouse=True)
def _reset():
    md.reset()
    yield
    md.reset()


def compiled(fn, **kw):
    cnt = CompileCounter()
    return md.compile(fn, backend=cnt, **kw), cnt


def check(opt, fn, *args, **kwargs):
    """The compiled call returns what the eager call returns."""
    expected = fn(*args, **kwargs)
    actual = opt(*args, **kwargs)
    assert same(expected, actual), f"eager {expected!r} != compiled {actual!r}"
    return actual


def reasons(opt):
    return md.inspect(opt).recompile_reasons


# ------------------------------------------------------------------------------ globals
SCALE = 2
OFFSET = tl.ones(3)
FLAG = True


def use_global_int(x):
    return x * SCALE


def use_global_tensor(x):
    return x + OFFSET


def use_global_flag(x):
    if FLAG:
        return x + 1
    return x - 1


def test_global_int_changed():
    global SCALE
    opt, cnt = compiled(use_global_int)
    x = tl.randn(3)
    check(opt, use_global_int, x)
    try:
        SCALE = 5
        check(opt, use_global_int, x)
    finally:
        SCALE = 2
    assert cnt.frame_count == 2
    assert reasons(opt) == ["G['SCALE'] == 2"]
    check(opt, use_global_int, x)  # back to the first entry: no new compile
    assert cnt.frame_count == 2


def test_global_tensor_rebound():
    global OFFSET
    opt, cnt = compiled(use_global_tensor)
    x = tl.randn(3)
    check(opt, use_global_tensor, x)
    saved = OFFSET
    try:
        OFFSET = tl.full((3,), 7.0)  # same metadata: a graph input, no recompile, new value used
        check(opt, use_global_tensor, x)
        assert cnt.frame_count == 1
        OFFSET = tl.ones(4, 3)  # new shape: recompile
        check(opt, use_global_tensor, x)
        assert cnt.frame_count == 2
        assert "OFFSET" in reasons(opt)[0]
        OFFSET = tl.ones(3, dtype=tl.float64)
        check(opt, use_global_tensor, x)
        assert reasons(opt)[-1] == "tensor 'G['OFFSET']' dtype mismatch. expected Float, actual Double"
    finally:
        OFFSET = saved


def test_global_tensor_mutated_in_place_seen():
    opt, cnt = compiled(use_global_tensor)
    x = tl.randn(3)
    check(opt, use_global_tensor, x)
    OFFSET.mul_(3)
    try:
        check(opt, use_global_tensor, x)
    finally:
        OFFSET.div_(3)
    assert cnt.frame_count == 1


def test_global_bool_changed():
    global FLAG
    opt, cnt = compiled(use_global_flag)
    x = tl.randn(3)
    check(opt, use_global_flag, x)
    FLAG = False
    try:
        check(opt, use_global_flag, x)
    finally:
        FLAG = True
    assert cnt.frame_count == 2
    assert reasons(opt) == ["G['FLAG'] is True"] or reasons(opt) == ["G['FLAG'] == True"]


def test_global_deleted_then_restored():
    global SCALE
    opt, cnt = compiled(use_global_int)
    x = tl.randn(3)
    check(opt, use_global_int, x)
    del SCALE
    try:
        with pytest.raises(NameError, match="name 'SCALE' is not defined"):
            opt(x)
    finally:
        SCALE = 2
    check(opt, use_global_int, x)


# ------------------------------------------------------------------------------ closures
def make_closure(k):
    def f(x):
        return x * k
    return f


def test_closure_cell_changed():
    k = 3

    def f(x):
        return x + k

    opt, cnt = compiled(f)
    x = tl.randn(3)
    check(opt, f, x)
    k = 4
    check(opt, f, x)
    assert cnt.frame_count == 2
    assert reasons(opt) == ["k == 3"]


def test_closure_cell_tensor_changed():
    t = tl.ones(3)

    def f(x):
        return x + t

    opt, cnt = compiled(f)
    x = tl.randn(3)
    check(opt, f, x)
    t = tl.full((3,), 5.0)  # same metadata: no recompile, the new tensor is read
    check(opt, f, x)
    assert cnt.frame_count == 1
    t = tl.ones(2, 3)
    check(opt, f, x)
    assert cnt.frame_count == 2


def test_closures_of_same_code_do_not_share_entries():
    f2, f3 = make_closure(2), make_closure(3)
    o2, c2 = compiled(f2)
    o3, c3 = compiled(f3)
    x = tl.randn(3)
    check(o2, f2, x)
    check(o3, f3, x)


def test_functions_of_one_code_with_other_globals_do_not_share_entries():
    # FunctionType(code, globals): the same code object reading another module's globals
    src = "def callee(x):\n    return x * SCALE\n"
    code = compile(src, "<shared>", "exec")
    fns = []
    for scale in (2.0, 3.0):
        ns = {"SCALE": scale}
        exec(code, ns)  # noqa: S102
        fns.append(ns["callee"])
    assert fns[0].__code__ is fns[1].__code__

    def f(g, x):
        return g(x) + 1

    cnt = CompileCounter()
    opt = md.compile(f, backend=cnt)
    x = tl.randn(3)
    assert same(opt(fns[0], x), x * 2.0 + 1)
    assert same(opt(fns[1], x), x * 3.0 + 1)
    assert cnt.frame_count == 2


def test_graph_modules_with_one_compiled_code_do_not_share_entries():
    # graphs of the same text share their compiled code, each with its own globals
    import operator

    import fxlite

    def make(k):
        def scale(x):
            return x * k
        g = fxlite.Graph()
        x = g.placeholder("x")
        s = g.call_function(scale, (g.call_function(tl.sin, (x,)),))
        g.output((s, g.call_function(operator.lt, (s, 0.5))))  # a comparison: compiled, not assembled
        return fxlite.GraphModule(tl.nn.Module(), g)

    a, b = make(2.0), make(3.0)
    assert a.code == b.code and a.forward.__code__ is b.forward.__code__

    def f(m, x):
        return m(x)[0] + 1

    opt = md.compile(f, backend="eager")
    x = tl.randn(3)
    assert same(opt(a, x), x.sin() * 2.0 + 1)
    assert same(opt(b, x), x.sin() * 3.0 + 1)


def test_inlined_callee_closure_changed():
    k = 2

    def inner(x):
        return x * k

    def f(x):
        return inner(x) + 1

    opt, cnt = compiled(f)
    x = tl.randn(3)
    check(opt, f, x)
    k = 10
    check(opt, f, x)
    assert cnt.frame_count == 2


# ------------------------------------------------------------------------------ attributes
class Cfg:
    def __init__(self):
        self.scale = 2.0
        self.mode = "add"


def use_cfg(x, cfg):
    if cfg.mode == "add":
        return x + cfg.scale
    return x * cfg.scale


def test_object_attribute_changed():
    opt, cnt = compiled(use_cfg)
    cfg = Cfg()
    x = tl.randn(3)
    check(opt, use_cfg, x, cfg)
    cfg.scale = 3.0
    check(opt, use_cfg, x, cfg)
    assert reasons(opt) == ["cfg.scale == 2.0"]
    cfg.mode = "mul"
    check(opt, use_cfg, x, cfg)
    assert reasons(opt)[-1] in ("cfg.mode == 'add'", "cfg.scale == 2.0")
    assert cnt.frame_count == 3


def test_object_attribute_deleted():
    opt, cnt = compiled(use_cfg)
    cfg = Cfg()
    x = tl.randn(3)
    check(opt, use_cfg, x, cfg)
    del cfg.scale
    with pytest.raises(AttributeError, match="'Cfg' object has no attribute 'scale'"):
        opt(x, cfg)


def test_object_of_another_type():
    class Other:
        scale = 2.0
        mode = "add"

    opt, cnt = compiled(use_cfg)
    x = tl.randn(3)
    check(opt, use_cfg, x, Cfg())
    check(opt, use_cfg, x, Other())
    assert cnt.frame_count == 2
    assert reasons(opt)[0].startswith("type(cfg) is")


def test_method_rebound_on_class():
    class A:
        def f(self, x):
            return x + 1

    def g(x, a):
        return a.f(x)

    opt, cnt = compiled(g)
    a = A()
    x = tl.randn(3)
    check(opt, g, x, a)
    A.f = lambda self, x: x * 100
    check(opt, g, x, a)
    assert cnt.frame_count == 2


def test_global_function_redefined():
    ns = {}
    exec("def helper(x):\n    return x + 1\n"
         "def f(x):\n    return helper(x) * 2\n", ns)
    f = ns["f"]
    opt, cnt = compiled(f)
    x = tl.randn(3)
    check(opt, f, x)
    exec("def helper(x):\n    return x - 1\n", ns)
    check(opt, f, x)
    assert cnt.frame_count == 2


# --------------------------------------------------------------------------- Python arguments
def use_int(x, n):
    return x * n


def test_python_int_argument():
    opt, cnt = compiled(use_int)
    x = tl.randn(3)
    check(opt, use_int, x, 2)
    check(opt, use_int, x, 3)
    assert reasons(opt) == ["n == 2"]
    check(opt, use_int, x, 2)
    check(opt, use_int, x, 3)
    assert cnt.frame_count == 2
    check(opt, use_int, x, 2.0)  # same value, another type
    assert cnt.frame_count == 3


def test_python_bool_and_none_arguments():
    def f(x, flag, mask):
        if mask is not None:
            x = x * mask
        return x + 1 if flag else x - 1

    opt, cnt = compiled(f)
    x = tl.randn(3)
    check(opt, f, x, True, None)
    check(opt, f, x, False, None)
    check(opt, f, x, True, tl.ones(3))
    check(opt, f, x, False, None)
    assert cnt.frame_count == 3


def test_string_argument():
    def f(x, mode):
        return x.sin() if mode == "sin" else x.cos()

    opt, cnt = compiled(f)
    x = tl.randn(3)
    check(opt, f, x, "sin")
    check(opt, f, x, "cos")
    assert reasons(opt) == ["mode == 'sin'"]


def test_default_argument_changed():
    def f(x, n=2):
        return x * n

    opt, cnt = compiled(f)
    x = tl.randn(3)
    check(opt, f, x)
    f.__defaults__ = (5,)
    check(opt, f, x)
    assert cnt.frame_count == 2
    assert reasons(opt) == ["f.__defaults__ is <tuple object>"]


def test_keyword_argument():
    def f(x, *, scale=1.0):
        return x * scale

    opt, cnt = compiled(f)
    x = tl.randn(3)
    check(opt, f, x, scale=2.0)
    check(opt, f, x, scale=3.0)
    check(opt, f, x)
    assert cnt.frame_count == 3


# ----------------------------------------------------------------------------- containers
def sum_list(xs):
    out = xs[0]
    for t in xs[1:]:
        out = out + t
    return out


def test_list_length_changed():
    opt, cnt = compiled(sum_list)
    xs = [tl.randn(3) for _ in range(3)]
    check(opt, sum_list, xs)
    xs.append(tl.randn(3))
    check(opt, sum_list, xs)
    assert cnt.frame_count == 2
    assert reasons(opt) == ["len(xs) == 3"]


def test_list_element_type_changed():
    def f(xs):
        return xs[0] * xs[1]

    opt, cnt = compiled(f)
    x = tl.randn(3)
    check(opt, f, [x, 2])
    check(opt, f, [x, 3])
    check(opt, f, [x, x])
    assert cnt.frame_count == 3
    assert reasons(opt)[0] == "xs[1] == 2"


def test_tuple_vs_list():
    def f(xs):
        return xs[0] + xs[1]

    opt, cnt = compiled(f)
    a, b = tl.randn(3), tl.randn(3)
    check(opt, f, [a, b])
    check(opt, f, (a, b))
    assert cnt.frame_count == 2


def use_dict(d):
    out = 0
    for k in d:
        out = out + d[k]
    return out


def test_dict_keys_changed():
    opt, cnt = compiled(use_dict)
    d = {"a": tl.randn(3), "b": tl.randn(3)}
    check(opt, use_dict, d)
    d["c"] = tl.randn(3)
    check(opt, use_dict, d)
    assert cnt.frame_count == 2
    assert reasons(opt) == ["list(d.keys()) == ['a', 'b']"]
    # the same keys in another order are another program (iteration order)
    d2 = {"b": d["b"], "a": d["a"]}
    check(opt, use_dict, d2)
    assert cnt.frame_count == 3


def test_dict_value_changed():
    def f(x, d):
        return x * d["k"]

    opt, cnt = compiled(f)
    x = tl.randn(3)
    check(opt, f, x, {"k": 2})
    check(opt, f, x, {"k": 4})
    assert reasons(opt) == ["d['k'] == 2"]


# ----------------------------------------------------------------------------- tensors
def tensor_fn(x):
    return x.sin() * 2


@pytest.mark.parametrize("change,expected_reason", [
    (lambda: tl.randn(4), "tensor 'x' size mismatch at index 0. expected 3, actual 4"),
    (lambda: tl.randn(3, dtype=tl.float64), "tensor 'x' dtype mismatch. expected Float, actual Double"),
    (lambda: tl.randn(3).requires_grad_(), "tensor 'x' requires_grad mismatch. expected requires_grad=0"),
    (lambda: tl.randn(3, 1), "tensor 'x' rank mismatch. expected 1, actual 2"),
    (lambda: 3.0, "expected type of 'x' to be a tensor type, but found <class 'float'>"),
], ids=["shape", "dtype", "requires_grad", "rank", "not_a_tensor"])
def test_tensor_match(change, expected_reason):
    opt, cnt = compiled(tensor_fn)
    check(opt, tensor_fn, tl.randn(3))
    new = change()
    if isinstance(new, float):
        with pytest.raises(AttributeError):
            opt(new)
        assert reasons(opt) == [expected_reason]
        return
    check(opt, tensor_fn, new)
    assert cnt.frame_count == 2
    assert reasons(opt) == [expected_reason]


def test_tensor_size_mismatch_second_dim():
    opt, cnt = compiled(tensor_fn)
    check(opt, tensor_fn, tl.randn(2, 3))
    with md.config.patch(automatic_dynamic_shapes=False):
        check(opt, tensor_fn, tl.randn(2, 5))
    assert reasons(opt) == ["tensor 'x' size mismatch at index 1. expected 3, actual 5"]


def test_requires_grad_gives_grads():
    def f(x, w):
        return (x * w).sum()

    opt, cnt = compiled(f)
    x, w = tl.randn(3), tl.randn(3)
    check(opt, f, x, w)
    w2 = w.clone().requires_grad_()
    opt(x, w2).backward()
    assert same(w2.grad, x)
    assert cnt.frame_count == 2


def test_aliased_inputs():
    def f(a, b):
        a.add_(1)
        return a + b

    opt, cnt = compiled(f)
    x, y = tl.randn(3), tl.randn(3)
    assert same(f(x.clone(), y.clone()), opt(x.clone(), y.clone()))
    x1, x2 = x.clone(), x.clone()
    assert same(f(x1, x1), opt(x2, x2))
    assert same(x1, x2)


# ----------------------------------------------------------------------------- grad mode
def grad_fn(x):
    y = x * 2
    return y, y.requires_grad


def test_grad_mode_changed():
    opt, cnt = compiled(grad_fn)
    x = tl.randn(3).requires_grad_()
    check(opt, grad_fn, x)
    with tl.no_grad():
        r = check(opt, grad_fn, x)
        assert r[1] is False
    assert cnt.frame_count == 2
    assert reasons(opt) == ["grad_mode mismatch: expected True, actual False"]
    r = opt(x)
    assert r[1] is True and r[0].requires_grad


def test_grad_mode_restored_after_compiled_no_grad_block():
    def f(x):
        with tl.no_grad():
            y = x * 2
        return y + x

    opt, cnt = compiled(f)
    x = tl.randn(3).requires_grad_()
    check(opt, f, x)
    assert tl.is_grad_enabled()
    check(opt, f, x)
    assert tl.is_grad_enabled()


# ----------------------------------------------------------------------------- modules
class Net(tl.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = tl.nn.Linear(3, 3)
        self.drop_scale = 0.5

    def forward(self, x):
        y = self.lin(x)
        if self.training:
            y = y * self.drop_scale
        return y


def test_module_training_flag():
    tl.manual_seed(0)
    net = Net()
    opt, cnt = compiled(net)
    x = tl.randn(2, 3)
    check(opt, net, x)
    net.eval()
    check(opt, net, x)
    assert cnt.frame_count == 2
    assert reasons(opt) == ["self.training == True"]
    net.train()
    check(opt, net, x)
    assert cnt.frame_count == 2


def test_submodule_training_flag_through_function():
    tl.manual_seed(0)
    net = Net()

    def f(x):
        return net(x)

    opt, cnt = compiled(f)
    x = tl.randn(2, 3)
    check(opt, f, x)
    net.eval()
    check(opt, f, x)
    assert cnt.frame_count == 2


def test_module_attribute_changed():
    tl.manual_seed(0)
    net = Net()
    opt, cnt = compiled(net)
    x = tl.randn(2, 3)
    check(opt, net, x)
    net.drop_scale = 0.25
    check(opt, net, x)
    assert cnt.frame_count == 2


def test_submodule_replaced():
    tl.manual_seed(0)
    net = Net()
    opt, cnt = compiled(net)
    x = tl.randn(2, 3)
    check(opt, net, x)
    net.lin = tl.nn.Linear(3, 3)  # same type: its parameters are graph inputs, no recompile
    check(opt, net, x)
    assert cnt.frame_count == 1
    net.lin = tl.nn.Sequential(tl.nn.Linear(3, 3), tl.nn.Tanh())
    check(opt, net, x)
    assert cnt.frame_count == 2
    assert reasons(opt) == ["type(self.lin) is Linear"]


def test_parameter_replaced_same_shape_no_recompile():
    tl.manual_seed(0)
    net = Net()
    opt, cnt = compiled(net)
    x = tl.randn(2, 3)
    check(opt, net, x)
    net.lin.weight = tl.nn.Parameter(tl.randn(3, 3))
    check(opt, net, x)
    assert cnt.frame_count == 1


def test_module_forward_hook_added_later():
    tl.manual_seed(0)
    net = Net()
    opt, cnt = compiled(net)
    x = tl.randn(2, 3)
    check(opt, net, x)
    h = net.register_forward_hook(lambda m, inp, out: out * 10)
    try:
        check(opt, net, x)
    finally:
        h.remove()
    check(opt, net, x)


def test_submodule_forward_hook_added_later():
    tl.manual_seed(0)
    net = Net()

    def f(x):
        return net(x) + 1

    opt, cnt = compiled(f)
    x = tl.randn(2, 3)
    check(opt, f, x)
    h = net.lin.register_forward_hook(lambda m, inp, out: out * 10)
    try:
        check(opt, f, x)
        assert cnt.frame_count >= 1
    finally:
        h.remove()
    check(opt, f, x)


def test_submodule_forward_pre_hook_added_later():
    tl.manual_seed(0)
    net = Net()
    opt, cnt = compiled(net)
    x = tl.randn(2, 3)
    check(opt, net, x)
    h = net.lin.register_forward_pre_hook(lambda m, inp: (inp[0] * 0,))
    try:
        check(opt, net, x)
    finally:
        h.remove()
    check(opt, net, x)


def test_global_module_hook_added_later():
    from tensorlite.nn.modules import module as M
    if not hasattr(M, "register_module_forward_hook"):
        pytest.skip("no global module hooks in tensorlite")
    tl.manual_seed(0)
    net = Net()
    opt, cnt = compiled(net)
    x = tl.randn(2, 3)
    check(opt, net, x)
    h = M.register_module_forward_hook(lambda m, inp, out: out + 1)
    try:
        check(opt, net, x)
    finally:
        h.remove()


# ------------------------------------------------------------------------- cache limits
def test_cache_size_limit_warns_once_then_eager():
    def limited(x, n):
        return x * n

    opt, cnt = compiled(limited)
    x = tl.randn(3)
    with md.config.patch(cache_size_limit=3):
        for n in range(3):  # floats: an int whose value changes becomes a symbol (issue 22)
            check(opt, limited, x, float(n))
        assert cnt.frame_count == 3
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            for n in range(3, 8):
                check(opt, limited, x, float(n))
        msgs = [str(m.message) for m in w if "cache_size_limit" in str(m.message)]
        assert len(msgs) == 1
        assert "limited" in msgs[0] and "n == 2" in msgs[0] or "n ==" in msgs[0]
        assert cnt.frame_count == 3
        # the cached entries are still used
        check(opt, limited, x, 1.0)


def test_error_on_recompile():
    opt, cnt = compiled(use_int)
    x = tl.randn(3)
    with md.config.patch(error_on_recompile=True):
        check(opt, use_int, x, 2)
        check(opt, use_int, x, 2)
        with pytest.raises(md.exc.RecompileError, match="n == 2"):
            opt(x, 3)
    check(opt, use_int, x, 3)


# ------------------------------------------------------------------- automatic dynamic shapes
def test_automatic_dynamic_shapes_second_change_reuses_entry():
    def f(x):
        return (x * 2).sum(0)

    opt, cnt = compiled(f)
    for n in (3, 4, 5, 6):
        check(opt, f, tl.randn(n, 2))
    assert cnt.frame_count == 2
    guards = [str(g) for g in md.inspect(opt).entries[0].guards if g.kind == "TENSOR_MATCH"]
    assert guards == ["TENSOR_MATCH: check_tensor(L['x'], Tensor, tl.float32, requires_grad=False, size=[None, 2])"]
    # a static dimension is still guarded
    check(opt, f, tl.randn(5, 3))
    assert cnt.frame_count == 3
    assert reasons(opt)[-1] == "tensor 'x' size mismatch at index 1. expected 2, actual 3"


def test_automatic_dynamic_shapes_off():
    def f(x):
        return x * 2

    opt, cnt = compiled(f)
    with md.config.patch(automatic_dynamic_shapes=False):
        for n in (3, 4, 5):
            check(opt, f, tl.randn(n))
    assert cnt.frame_count == 3


def test_dynamic_false_keeps_static():
    def f(x):
        return x * 2

    opt, cnt = compiled(f, dynamic=False)
    for n in (3, 4, 5):
        check(opt, f, tl.randn(n))
    assert cnt.frame_count == 3


def test_size_read_as_python_value_is_symbolic():
    def f(x):
        return x * x.shape[0]

    opt, cnt = compiled(f)
    for n in (3, 4, 5):
        check(opt, f, tl.randn(n))
    assert cnt.frame_count == 2  # static, then one symbolic graph (issue 22)


def test_size_read_as_constant_specialises():
    def f(x):
        return x * float(x.shape[0])  # float() of a size: the trace needs its value

    opt, cnt = compiled(f)
    for n in (3, 4, 5):
        check(opt, f, tl.randn(n))
    assert cnt.frame_count == 3


def test_size_used_in_branch_specialises():
    def f(x):
        if x.shape[0] > 4:
            return x + 1
        return x - 1

    opt, cnt = compiled(f)
    for n in (3, 4, 5, 6):
        check(opt, f, tl.randn(n))
    for n in (3, 4, 5, 6):
        check(opt, f, tl.randn(n))


# A size read from a tensor computed in the frame depends on the input sizes it was computed
# from: it is symbolic in them, or, when it must be a constant (iterating), guards them exactly
# (it used to be baked in unguarded: [2, 3, 3, 3] for sizes 2..5).
SIZE_READS = {
    "shape": lambda y: y * y.shape[0],
    "size": lambda y: y * y.size(0),
    "len": lambda y: y * len(y),
    "numel": lambda y: y * y.numel(),
    "iter": lambda y: tl.stack(list(y)),
    "tl.numel": lambda y: y * tl.numel(y),
}


@pytest.mark.parametrize("read", sorted(SIZE_READS))
def test_size_read_of_computed_tensor(read):
    body = SIZE_READS[read]

    def f(x):
        return body(x + 1)

    opt, cnt = compiled(f)
    for n in (2, 3, 4, 5, 3):
        check(opt, f, tl.randn(n))
    guards = [str(g) for e in md.inspect(opt).entries for g in e.guards if g.kind == "TENSOR_MATCH"]
    if read == "iter":  # the number of items is a constant of the trace
        assert all("None" not in g for g in guards), guards
    else:
        assert cnt.frame_count == 2 and "None" in guards[0], guards


@pytest.mark.parametrize("backend", ["eager", "aot_eager", "codegen"])
def test_size_read_inside_nested_compile_region(backend):
    # issue 20's silently wrong case: a region reading its operand's size as a number
    @md.nested_compile_region
    def gn(x):
        return x * x.shape[0]

    def fn(x):
        return gn(x)

    opt = md.compile(fn, backend=backend)
    assert [opt(tl.ones(n))[0].item() for n in (2, 3, 4, 5)] == [2.0, 3.0, 4.0, 5.0]


def test_dynamic_reshape_uses_minus_one():
    def f(x):
        return x.reshape(-1, 2).sum(1)

    opt, cnt = compiled(f)
    for n in (2, 3, 4):
        check(opt, f, tl.randn(n, 2))
    assert cnt.frame_count == 2


# -------------------------------------------------------------------------- config.patch
def test_config_patch_context_manager():
    assert md.config.cache_size_limit == 8
    with md.config.patch(cache_size_limit=2, suppress_errors=True):
        assert md.config.cache_size_limit == 2
        assert md.config.suppress_errors is True
    assert md.config.cache_size_limit == 8
    assert md.config.suppress_errors is False


def test_config_patch_restores_on_error():
    with pytest.raises(ValueError):
        with md.config.patch(cache_size_limit=1):
            raise ValueError("boom")
    assert md.config.cache_size_limit == 8


def test_config_patch_decorator():
    @md.config.patch(error_on_recompile=True)
    def inner():
        return md.config.error_on_recompile

    assert inner() is True
    assert md.config.error_on_recompile is False
    assert md.config.patch("cache_size_limit", 4)(lambda: md.config.cache_size_limit)() == 4


def test_config_patch_unknown_option():
    with pytest.raises(AttributeError, match="no option 'nope'"):
        with md.config.patch(nope=1):
            pass


def test_guard_function_is_one_generated_function():
    def f(x, n, cfg):
        return x * n + cfg.scale

    opt, cnt = compiled(f)
    opt(tl.randn(3), 2, Cfg())
    entry = md.inspect(opt).entries[0]
    src = entry.guard_set.check_fn.source
    assert src.count("def ") == 1
    kinds = {g.kind for g in entry.guards}
    assert {"TENSOR_MATCH", "EQUALS_MATCH", "TYPE_MATCH", "GRAD_MODE"} <= kinds
