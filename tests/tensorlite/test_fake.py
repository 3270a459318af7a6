"""FakeTensorMode: metadata (shape, dtype, requires_grad, grad_fn) equals eager; no values."""
import tracemalloc

import numpy as np
import pytest

import tensorlite as tl
from tensorlite import _state
from tensorlite._modes import (DataDependentError, DispatchMode, FakeTensor, FakeTensorMode,
                               fake_tensor, is_fake)

OPS = {
    "add": lambda x, y: x + y,
    "radd": lambda x, y: 2 + x,
    "sub_bcast": lambda x, y: x - y[0],
    "mul": lambda x, y: x * y,
    "div_int": lambda x, y: x.long() / 2,
    "pow": lambda x, y: x ** 2,
    "neg": lambda x, y: -x,
    "exp": lambda x, y: x.exp(),
    "log": lambda x, y: x.abs().log(),
    "sin": lambda x, y: tl.sin(x),
    "tanh": lambda x, y: x.tanh(),
    "sigmoid": lambda x, y: x.sigmoid(),
    "relu": lambda x, y: tl.relu(x),
    "clamp": lambda x, y: x.clamp(-1, 1),
    "eq": lambda x, y: x == y,
    "where": lambda x, y: tl.where(x > 0, x, y),
    "sum": lambda x, y: x.sum(),
    "sum_keepdim": lambda x, y: x.sum(1, keepdim=True),
    "mean": lambda x, y: x.mean(0),
    "var": lambda x, y: x.var(1),
    "amax": lambda x, y: x.amax(-1, keepdim=True),
    "argmax": lambda x, y: x.argmax(1),
    "max_dim": lambda x, y: x.max(1)[0],
    "softmax": lambda x, y: x.softmax(-1),
    "log_softmax": lambda x, y: x.log_softmax(0),
    "matmul": lambda x, y: x @ y.t(),
    "matmul_vec": lambda x, y: x @ y[0],
    "reshape": lambda x, y: x.reshape(-1),
    "view": lambda x, y: x.view(3, 2),
    "flatten": lambda x, y: x.unsqueeze(0).flatten(1),
    "transpose": lambda x, y: x.transpose(0, 1),
    "permute": lambda x, y: x.unsqueeze(-1).permute(2, 0, 1),
    "expand": lambda x, y: x[:, :1].expand(2, 5),
    "squeeze": lambda x, y: x[:1].squeeze(0),
    "cat": lambda x, y: tl.cat([x, y], 1),
    "stack": lambda x, y: tl.stack([x, y]),
    "chunk": lambda x, y: x.chunk(3, 1)[1],
    "index_int": lambda x, y: x[1],
    "index_slice": lambda x, y: x[:, 1:],
    "index_tensor": lambda x, y: x[tl.tensor([1, 0, 1])],
    "index_bool_real_mask": lambda x, y: x[tl.tensor([True, False])],
    "masked_fill": lambda x, y: x.masked_fill(x > 0, 0.0),
    "to_f64": lambda x, y: x.double() * 2,
    "detach": lambda x, y: x.detach(),
    "clone": lambda x, y: x.clone(),
    "zeros_like": lambda x, y: tl.zeros_like(x) + x,
    "setitem": lambda x, y: _setitem(x, y),
    "inplace": lambda x, y: (x * 1).add_(y).mul_(2),
}


def _setitem(x, y):
    z = x * 1
    z[0] = y[1]
    return z


def _inputs(fake):
    x = tl.tensor(np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    y = tl.tensor(np.random.default_rng(1).standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    if fake:
        return FakeTensorMode.from_real(x), FakeTensorMode.from_real(y)
    return x, y


def _describe(t):
    fn = t.grad_fn
    return (tuple(t.shape), t.dtype, t.requires_grad, fn.name() if fn is not None else None)


@pytest.mark.parametrize("name", sorted(OPS))
def test_metadata_matches_eager(name):
    fn = OPS[name]
    ref = fn(*_inputs(False))
    with FakeTensorMode():
        out = fn(*_inputs(True))
    assert is_fake(out) and isinstance(out, tl.Tensor)
    assert _describe(out) == _describe(ref)
    assert all(s == 0 for s in out._data.strides)


@pytest.mark.parametrize("name", ["sum", "matmul", "softmax", "cat", "index_tensor", "setitem", "var"])
def test_backward_metadata_matches_eager(name):
    fn = OPS[name]
    x, y = _inputs(False)
    fn(x, y).sum().backward()
    with FakeTensorMode():
        fx, fy = _inputs(True)
        fn(fx, fy).sum().backward()
    for real, fake in ((x, fx), (y, fy)):
        if real.grad is None:
            assert fake.grad is None
            continue
        assert is_fake(fake.grad)
        assert (tuple(fake.grad.shape), fake.grad.dtype) == (tuple(real.grad.shape), real.grad.dtype)


def test_data_dependent_ops_raise():
    with FakeTensorMode():
        x = fake_tensor((3,), tl.float32)
        s = x.sum()
        with pytest.raises(DataDependentError, match=r"item\(\)"):
            s.item()
        with pytest.raises(DataDependentError, match=r"bool\(\)"):
            if s > 0:
                pass
        with pytest.raises(DataDependentError, match="boolean mask indexing"):
            x[x > 0]
        with pytest.raises(DataDependentError, match=r"tolist\(\)"):
            x.tolist()
        with pytest.raises(RuntimeError):  # DataDependentError is a RuntimeError
            float(s)


def test_shape_errors_still_raise():
    with FakeTensorMode():
        a, b = fake_tensor((2, 3)), fake_tensor((4, 5))
        with pytest.raises(RuntimeError, match="cannot be multiplied"):
            a @ b
        with pytest.raises(RuntimeError, match="must match the size"):
            a + b


def test_no_memory_for_big_tensors():
    tracemalloc.start()
    try:
        with FakeTensorMode():
            x = fake_tensor((4096, 4096), tl.float32, requires_grad=True)
            y = (x @ x).relu().sum(0)
            y.sum().backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert tuple(y.shape) == (4096,) and tuple(x.grad.shape) == (4096, 4096)
    assert peak < 8 * 2 ** 20  # a single real [4096, 4096] float32 array is 64 MiB


def test_from_real_and_is_fake():
    t = tl.ones(2, 3, requires_grad=True)
    f = FakeTensorMode.from_real(t)
    assert isinstance(f, FakeTensor) and is_fake(f) and not is_fake(t)
    assert (tuple(f.shape), f.dtype, f.requires_grad, f.is_leaf) == ((2, 3), tl.float32, True, True)
    assert FakeTensorMode.from_real(f) is f
    assert is_fake(f.data)  # a plain Tensor around a fake array is fake too
    assert repr(f) == "FakeTensor(size=[2, 3], dtype=tensorlite.float32, requires_grad=True)"


class Recorder(DispatchMode):
    def __init__(self, tag, log):
        self.tag, self.log = tag, log

    def dispatch(self, prim, args, params):
        self.log.append((self.tag, prim.name, _state.mode.tag if _state.mode else None))
        return self.redispatch(prim, args, params)


def test_modes_nest_and_restore():
    log = []
    outer, inner = Recorder("outer", log), Recorder("inner", log)
    assert _state.mode is None
    with outer:
        with inner:
            assert _state.mode is inner
            tl.ones(2).sin()
        assert _state.mode is outer
    assert _state.mode is None
    # inner sees each primitive first, with the outer mode active while it runs; then outer
    assert log == [("inner", "full", "outer"), ("outer", "full", None),
                   ("inner", "sin", "outer"), ("outer", "sin", None)]


def test_mode_restored_after_error():
    with pytest.raises(ValueError):
        with FakeTensorMode():
            raise ValueError("boom")
    assert _state.mode is None


def test_fake_over_recorder():
    log = []
    with Recorder("rec", log), FakeTensorMode():
        x = fake_tensor((2,))
        y = x.exp()
    assert is_fake(y) and log == []  # FakeTensorMode computes without delegating
