"""tensorlite.optim: SGD and Adam trajectories against numpy re-implementations of PyTorch's rules."""
import copy
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tensorlite as tl
import tensorlite.nn as nn
from tensorlite.optim import SGD, Adam, AdamW

A = np.array([[2.0, -1.0], [0.5, 3.0], [1.0, 1.0]])
TARGET = np.array([1.0, -2.0, 0.5])


def loss_and_grad(w):
    """loss = sum((A @ w - t)^3 ... ) style nonlinear objective: sum(sin(A @ w) + (A @ w - t)^2)."""
    z = A @ w
    loss = np.sin(z).sum() + ((z - TARGET) ** 2).sum()
    return loss, A.T @ (np.cos(z) + 2 * (z - TARGET))


def tl_loss(w):
    z = tl.tensor(A) @ w
    return z.sin().sum() + ((z - tl.tensor(TARGET)) ** 2).sum()


def ref_sgd(w, steps, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    w = w.copy()
    buf = None
    out = []
    for _ in range(steps):
        _, g = loss_and_grad(w)
        g = -g if maximize else g
        g = g + weight_decay * w
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        w = w - lr * g
        out.append(w.copy())
    return out


def ref_adam(w, steps, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
             decoupled=False):
    w = w.copy()
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    vmax = np.zeros_like(w)
    out = []
    for t in range(1, steps + 1):
        _, g = loss_and_grad(w)
        g = -g if maximize else g
        if weight_decay:
            if decoupled:
                w = w * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * w
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        if amsgrad:
            vmax = np.maximum(vmax, v)
            vv = vmax
        else:
            vv = v
        denom = np.sqrt(vv) / math.sqrt(1 - betas[1] ** t) + eps
        w = w - lr / (1 - betas[0] ** t) * m / denom
        out.append(w.copy())
    return out


def run_tl(opt_cls, steps, **kw):
    w = nn.Parameter(tl.tensor([0.3, -0.4], dtype=tl.float64))
    opt = opt_cls([w], **kw)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        tl_loss(w).backward()
        opt.step()
        out.append(w.detach().numpy().copy())
    return out, opt, w


SGD_CASES = [
    dict(lr=0.05),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.02, momentum=0.5, weight_decay=0.1),
    dict(lr=0.01, maximize=True, weight_decay=0.01),
]


@pytest.mark.parametrize("kw", SGD_CASES, ids=[str(k) for k in SGD_CASES])
def test_sgd_trajectory_matches_reference(kw):
    ours, _, _ = run_tl(SGD, 6, **kw)
    ref = ref_sgd(np.array([0.3, -0.4]), 6, **kw)
    np.testing.assert_allclose(np.array(ours), np.array(ref), rtol=1e-12, atol=1e-12)


ADAM_CASES = [
    dict(lr=0.1),
    dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6),
    dict(lr=0.05, weight_decay=0.1),
    dict(lr=0.1, amsgrad=True),
    dict(lr=0.1, maximize=True),
]


@pytest.mark.parametrize("kw", ADAM_CASES, ids=[str(k) for k in ADAM_CASES])
def test_adam_trajectory_matches_reference(kw):
    ours, opt, w = run_tl(Adam, 8, **kw)
    ref = ref_adam(np.array([0.3, -0.4]), 8, **kw)
    np.testing.assert_allclose(np.array(ours), np.array(ref), rtol=1e-12, atol=1e-12)
    state = opt.state[w]
    assert state["step"].item() == 8.0
    assert set(state) == {"step", "exp_avg", "exp_avg_sq"} | ({"max_exp_avg_sq"} if kw.get("amsgrad") else set())


def test_adamw_trajectory_matches_reference():
    ours, _, _ = run_tl(AdamW, 5, lr=0.05, weight_decay=0.2)
    ref = ref_adam(np.array([0.3, -0.4]), 5, lr=0.05, weight_decay=0.2, decoupled=True)
    np.testing.assert_allclose(np.array(ours), np.array(ref), rtol=1e-12)


@settings(max_examples=20, deadline=None)
@given(st.floats(1e-3, 0.2), st.floats(0.0, 0.95), st.floats(0.0, 0.3), st.booleans())
def test_sgd_hypothesis(lr, momentum, wd, nesterov):
    nesterov = nesterov and momentum > 0
    kw = dict(lr=lr, momentum=momentum, weight_decay=wd, nesterov=nesterov)
    ours, _, _ = run_tl(SGD, 4, **kw)
    np.testing.assert_allclose(np.array(ours), np.array(ref_sgd(np.array([0.3, -0.4]), 4, **kw)), rtol=1e-10)


def test_float32_updates_stay_in_place():
    lin = nn.Linear(2, 1)
    w = lin.weight
    data_before = w._data
    opt = Adam(lin.parameters(), lr=0.1)
    lin(tl.ones(3, 2)).sum().backward()
    opt.step()
    assert lin.weight is w and w._data is data_before and w.dtype == tl.float32
    assert w.is_leaf and w.grad_fn is None and w.requires_grad


def test_param_groups_and_skipping_params_without_grad():
    a = nn.Parameter(tl.tensor([1.0]))
    b = nn.Parameter(tl.tensor([1.0]))
    c = nn.Parameter(tl.tensor([1.0]))
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1, momentum=0.0)
    assert opt.param_groups[1]["lr"] == 1.0 and opt.param_groups[0]["lr"] == 0.1
    assert opt.param_groups[1]["momentum"] == 0.0
    (a * 2 + b * 2).sum().backward()
    opt.step()
    assert a.tolist() == pytest.approx([0.8]) and b.tolist() == pytest.approx([-1.0])
    opt.add_param_group({"params": c, "lr": 0.5})
    assert len(opt.param_groups) == 3 and opt.param_groups[2]["params"] == [c]
    opt.step()  # c has no grad: untouched
    assert c.tolist() == [1.0]
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_constructor_errors():
    p = nn.Parameter(tl.ones(1))
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
        SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        SGD([p * 2], lr=0.1)


def test_zero_grad():
    p = nn.Parameter(tl.ones(2))
    opt = SGD([p], lr=0.1)
    (p * 3).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_step_with_closure():
    w = nn.Parameter(tl.tensor([0.3, -0.4], dtype=tl.float64))
    opt = SGD([w], lr=0.05)
    calls = []

    def closure():
        calls.append(tl.is_grad_enabled())
        opt.zero_grad()
        loss = tl_loss(w)
        loss.backward()
        return loss

    with tl.no_grad():
        loss = opt.step(closure)
    assert calls == [True]
    assert loss.item() == pytest.approx(loss_and_grad(np.array([0.3, -0.4]))[0])
    np.testing.assert_allclose(w.detach().numpy(), ref_sgd(np.array([0.3, -0.4]), 1, lr=0.05)[0])


def test_state_dict_round_trip_continues_trajectory():
    ours, opt, w = run_tl(Adam, 3, lr=0.1)
    sd = opt.state_dict()
    assert list(sd["state"]) == [0] and sd["param_groups"][0]["params"] == [0]
    assert sd["param_groups"][0]["lr"] == 0.1
    # a fresh optimizer on a copy of the weights, loaded from the state dict, continues identically
    w2 = nn.Parameter(w.detach().clone())
    opt2 = Adam([w2], lr=0.5)
    opt2.load_state_dict(copy.deepcopy(sd))
    assert opt2.param_groups[0]["lr"] == 0.1 and opt2.param_groups[0]["params"][0] is w2
    for o, p in ((opt, w), (opt2, w2)):
        o.zero_grad()
        tl_loss(p).backward()
        o.step()
    np.testing.assert_allclose(w2.detach().numpy(), w.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.detach().numpy(), ref_adam(np.array([0.3, -0.4]), 4, lr=0.1)[-1], rtol=1e-12)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt2.load_state_dict({"state": {}, "param_groups": []})


def test_sgd_momentum_state_dict():
    _, opt, w = run_tl(SGD, 2, lr=0.05, momentum=0.9)
    buf = opt.state_dict()["state"][0]["momentum_buffer"]
    assert buf.shape == (2,)


def test_train_mlp_with_sgd_momentum():
    tl.manual_seed(1)
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((64, 3)).astype(np.float32)
    x = tl.tensor(xs)
    y = tl.tensor((xs @ np.array([[1.0], [-2.0], [0.5]])).astype(np.float32))
    model = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 1))
    opt = SGD(model.parameters(), lr=0.05, momentum=0.9)
    first = None
    for _ in range(60):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.1 * first
