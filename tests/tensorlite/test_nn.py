"""tensorlite.nn: Module registration and state_dict, layers, functional ops, losses, init."""
import copy
import math
import pickle
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tensorlite as tl
import tensorlite.nn as nn
import tensorlite.nn.functional as F
from tensorlite.autograd import gradcheck


def f64(*shape, rg=True, seed=0):
    rng = np.random.default_rng(seed)
    return tl.tensor(rng.standard_normal(shape), dtype=tl.float64, requires_grad=rg)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 2)
        self.register_buffer("running", tl.zeros(2))
        self.register_buffer("scratch", tl.ones(1), persistent=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) + self.running


# ---------------------------------------------------------------------- registration
class TestRegistration:
    def test_setattr_registers_parameters_modules_buffers(self):
        m = MLP()
        assert list(m._modules) == ["fc1", "act", "fc2"]
        assert [n for n, _ in m.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
        assert [n for n, _ in m.named_buffers()] == ["running", "scratch"]
        assert m.fc1 is m._modules["fc1"] and m.running is m._buffers["running"]
        assert isinstance(m.fc1.weight, nn.Parameter) and m.fc1.weight.requires_grad

    def test_getattr_error_names_class(self):
        with pytest.raises(AttributeError, match="'MLP' object has no attribute 'nope'"):
            MLP().nope

    def test_delattr(self):
        m = MLP()
        del m.fc2
        del m.running
        assert "fc2" not in m._modules and "running" not in m._buffers
        m.plain = 3
        del m.plain
        assert not hasattr(m, "plain")

    def test_reassignment_rules(self):
        m = MLP()
        with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
            m.fc1.weight = tl.ones(4, 3)
        with pytest.raises(TypeError, match="as child module 'fc1'"):
            m.fc1 = 3
        with pytest.raises(TypeError, match="as buffer 'running'"):
            m.running = 3
        m.fc1.bias = None
        assert m.fc1.bias is None and "fc1.bias" not in m.state_dict()
        m.running = tl.ones(2)
        assert m.state_dict()["running"].tolist() == [1.0, 1.0]
        # a Parameter replacing a plain attribute
        m.extra = 1
        m.extra = nn.Parameter(tl.ones(1))
        assert "extra" in m._parameters and "extra" not in m.__dict__

    def test_register_errors(self):
        m = nn.Module()
        with pytest.raises(KeyError, match='contain "[.]", got: a.b'):
            m.register_buffer("a.b", tl.ones(1))
        with pytest.raises(KeyError, match="empty"):
            m.register_parameter("", None)
        with pytest.raises(TypeError, match="tensorlite.nn.Parameter or None required"):
            m.register_parameter("w", tl.ones(1))
        with pytest.raises(TypeError, match="Tensor or None required"):
            m.register_buffer("b", 3)
        m.x = 1
        with pytest.raises(KeyError, match="attribute 'x' already exists"):
            m.register_buffer("x", tl.ones(1))
        with pytest.raises(TypeError, match="is not a Module subclass"):
            m.add_module("c", 3)
        with pytest.raises(ValueError, match="non-leaf"):
            m.register_parameter("w", _nonleaf_param())

    def test_assign_before_init(self):
        class Bad(nn.Module):
            def __init__(self):
                self.w = nn.Parameter(tl.ones(1))

        with pytest.raises(AttributeError, match="before Module.__init__"):
            Bad()

    def test_shared_parameters_are_deduplicated(self):
        a = nn.Linear(2, 2)
        seq = nn.Sequential(a, nn.ReLU(), a)
        assert len(list(seq.parameters())) == 2
        assert len(list(seq.named_parameters(remove_duplicate=False))) == 4
        assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
        seq.other = nn.Linear(2, 2)
        seq.other.weight = a.weight
        assert len(list(seq.parameters())) == 3

    def test_named_parameters_prefix_and_recurse(self):
        m = MLP()
        m.top = nn.Parameter(tl.zeros(1))
        assert [n for n, _ in m.named_parameters(recurse=False)] == ["top"]
        assert [n for n, _ in m.named_parameters(prefix="model")][:3] == ["model.top", "model.fc1.weight", "model.fc1.bias"]
        assert [n for n, _ in m.named_children()] == ["fc1", "act", "fc2"]
        assert len(list(m.children())) == 3 and len(list(m.modules())) == 4

    def test_train_eval_apply_requires_grad(self):
        m = MLP()
        assert m.training and m.fc1.training
        assert m.eval() is m and not m.fc1.training and not m.act.training
        m.train()
        assert m.fc2.training
        with pytest.raises(ValueError, match="boolean"):
            m.train("yes")
        seen = []
        m.apply(lambda mod: seen.append(type(mod).__name__))
        assert seen == ["Linear", "ReLU", "Linear", "MLP"]
        m.requires_grad_(False)
        assert not any(p.requires_grad for p in m.parameters())

    def test_zero_grad(self):
        m = MLP()
        m(tl.randn(2, 3)).sum().backward()
        assert m.fc1.weight.grad is not None
        m.zero_grad(set_to_none=False)
        assert m.fc1.weight.grad is not None and not m.fc1.weight.grad.numpy().any()
        m.zero_grad()
        assert all(p.grad is None for p in m.parameters())

    def test_get_submodule(self):
        m = nn.Sequential(OrderedDict(enc=nn.Sequential(nn.Linear(2, 2)), head=nn.Tanh()))
        assert m.get_submodule("enc.0") is m.enc[0]
        assert m.get_submodule("") is m
        assert m.get_parameter("enc.0.bias") is m.enc[0].bias
        with pytest.raises(AttributeError, match="has no attribute `nope`"):
            m.get_submodule("enc.nope")
        with pytest.raises(AttributeError, match="is not an nn.Module"):
            m.get_submodule("enc.0.weight")

    def test_missing_forward(self):
        with pytest.raises(NotImplementedError, match='missing the required "forward"'):
            nn.Module()(1)

    def test_to_double_and_deepcopy(self):
        m = MLP().double()
        assert m.fc1.weight.dtype == tl.float64 and isinstance(m.fc1.weight, nn.Parameter)
        assert m.running.dtype == tl.float64
        c = copy.deepcopy(m)
        assert c.fc1.weight is not m.fc1.weight and isinstance(c.fc1.weight, nn.Parameter)
        np.testing.assert_array_equal(c.fc1.weight.detach().numpy(), m.fc1.weight.detach().numpy())
        with tl.no_grad():
            c.fc1.weight.add_(1.0)
        assert not np.allclose(c.fc1.weight.detach().numpy(), m.fc1.weight.detach().numpy())

    def test_parameter_basics(self):
        t = tl.tensor([1.0, 2.0])
        p = nn.Parameter(t)
        assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
        assert p.is_leaf and p.requires_grad and nn.Parameter(t, requires_grad=False).requires_grad is False
        with tl.no_grad():
            p.mul_(3.0)
        assert t.tolist() == [3.0, 6.0]  # shares memory with data
        q = pickle.loads(pickle.dumps(p))
        assert isinstance(q, nn.Parameter) and q.requires_grad and q.tolist() == [3.0, 6.0]
        assert type(p * 2) is tl.Tensor

    def test_repr(self):
        m = MLP()
        assert repr(m) == ("MLP(\n  (fc1): Linear(in_features=3, out_features=4, bias=True)\n  (act): ReLU()\n"
                           "  (fc2): Linear(in_features=4, out_features=2, bias=True)\n)")
        nested = nn.Sequential(nn.Sequential(nn.Tanh()), nn.LayerNorm(3), nn.Dropout(0.1))
        assert repr(nested) == ("Sequential(\n  (0): Sequential(\n    (0): Tanh()\n  )\n"
                                "  (1): LayerNorm((3,), eps=1e-05, elementwise_affine=True)\n"
                                "  (2): Dropout(p=0.1, inplace=False)\n)")
        assert repr(nn.Embedding(4, 2, padding_idx=1)) == "Embedding(4, 2, padding_idx=1)"
        assert repr(nn.GELU()) == "GELU(approximate='none')"


def _nonleaf_param():
    p = nn.Parameter(tl.ones(1))
    p.grad_fn = (tl.ones(1, requires_grad=True) * 2).grad_fn
    return p


# ---------------------------------------------------------------------- state_dict
class TestStateDict:
    def test_keys_order_and_values(self):
        m = MLP()
        sd = m.state_dict()
        assert isinstance(sd, OrderedDict)
        assert list(sd) == ["running", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
        assert not sd["fc1.weight"].requires_grad
        np.testing.assert_array_equal(sd["fc1.weight"].numpy(), m.fc1.weight.detach().numpy())
        assert m.state_dict(keep_vars=True)["fc1.weight"] is m.fc1.weight
        assert list(m.state_dict(prefix="x."))[0] == "x.running"

    def test_round_trip(self):
        a, b = MLP(), MLP()
        with tl.no_grad():
            a.running.fill_(5.0)
        res = b.load_state_dict(a.state_dict())
        assert res.missing_keys == [] and res.unexpected_keys == []
        assert repr(res) == "<All keys matched successfully>"
        x = tl.randn(3, 3)
        np.testing.assert_allclose(a(x).detach().numpy(), b(x).detach().numpy())
        assert b.fc1.weight.requires_grad and isinstance(b.fc1.weight, nn.Parameter)

    def test_missing_and_unexpected(self):
        m = MLP()
        sd = m.state_dict()
        del sd["fc2.bias"]
        sd["bogus"] = tl.ones(1)
        with pytest.raises(RuntimeError) as e:
            m.load_state_dict(sd)
        assert str(e.value) == ('Error(s) in loading state_dict for MLP:\n\tMissing key(s) in state_dict: '
                                '"fc2.bias". \n\tUnexpected key(s) in state_dict: "bogus". ')
        res = m.load_state_dict(sd, strict=False)
        assert res.missing_keys == ["fc2.bias"] and res.unexpected_keys == ["bogus"]

    def test_shape_mismatch_names_key_and_shapes(self):
        m = MLP()
        before = m.fc1.weight.detach().numpy().copy()
        sd = m.state_dict()
        sd["fc1.weight"] = tl.zeros(5, 3)
        with pytest.raises(RuntimeError, match=r"size mismatch for fc1.weight: copying a param with shape "
                                               r"tensorlite.Size\(\[5, 3\]\) from checkpoint, the shape in "
                                               r"current model is tensorlite.Size\(\[4, 3\]\)"):
            m.load_state_dict(sd, strict=False)
        np.testing.assert_array_equal(m.fc1.weight.detach().numpy(), before)

    def test_assign(self):
        m = nn.Linear(2, 2)
        sd = {"weight": tl.ones(2, 2), "bias": tl.zeros(2)}
        m.load_state_dict(sd, assign=True)
        assert isinstance(m.weight, nn.Parameter) and m.weight.tolist() == [[1.0, 1.0], [1.0, 1.0]]


# ---------------------------------------------------------------------- containers
class TestContainers:
    def test_sequential(self):
        a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
        s = nn.Sequential(a, b, c)
        assert len(s) == 3 and s[0] is a and s[-1] is c and list(s) == [a, b, c]
        sub = s[1:]
        assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
        x = tl.randn(4, 2)
        np.testing.assert_allclose(s(x).detach().numpy(), c(b(a(x))).detach().numpy())
        s.append(nn.Tanh())
        assert len(s) == 4 and list(s._modules) == ["0", "1", "2", "3"]
        del s[1]
        assert list(s._modules) == ["0", "1", "2"] and s[1] is c
        with pytest.raises(IndexError, match="out of range"):
            s[10]
        s[0] = nn.Identity()
        assert isinstance(s[0], nn.Identity)

    def test_module_list(self):
        ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
        assert len(ml) == 3 and len(list(ml.parameters())) == 6
        ml.append(nn.ReLU())
        ml += [nn.Tanh()]
        assert [type(m).__name__ for m in ml] == ["Linear"] * 3 + ["ReLU", "Tanh"]
        assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
        del ml[0]
        assert list(ml._modules) == ["0", "1", "2", "3"]
        ml.insert(0, nn.Sigmoid())
        assert isinstance(ml[0], nn.Sigmoid)

    def test_module_dict(self):
        md = nn.ModuleDict({"a": nn.Linear(1, 1)})
        md["b"] = nn.Tanh()
        md.update([("c", nn.ReLU())])
        assert list(md) == ["a", "b", "c"] and "b" in md and len(md) == 3
        assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias"]
        assert isinstance(md.pop("b"), nn.Tanh) and list(md.keys()) == ["a", "c"]


# ---------------------------------------------------------------------- layers
class TestLayers:
    def test_linear_formula_and_init(self):
        tl.manual_seed(1)
        lin = nn.Linear(16, 5)
        assert lin.weight.shape == (5, 16) and lin.bias.shape == (5,)
        bound = 1 / math.sqrt(16)
        assert np.abs(lin.weight.detach().numpy()).max() <= bound
        assert np.abs(lin.bias.detach().numpy()).max() <= bound
        assert np.abs(lin.weight.detach().numpy()).max() > 0.8 * bound  # spread over the range
        x = tl.randn(7, 16)
        want = x.numpy() @ lin.weight.detach().numpy().T + lin.bias.detach().numpy()
        np.testing.assert_allclose(lin(x).detach().numpy(), want, rtol=1e-5, atol=1e-6)
        x3 = tl.randn(2, 3, 16)
        assert lin(x3).shape == (2, 3, 5)
        assert nn.Linear(3, 2, bias=False).bias is None

    def test_linear_wrong_width_names_both_shapes(self):
        lin = nn.Linear(4, 3)
        with pytest.raises(RuntimeError, match=r"\(2x5 and 4x3\).*\[2, 5\].*\[3, 4\]"):
            lin(tl.ones(2, 5))

    def test_activations(self):
        xs = np.linspace(-3, 3, 13)
        x = tl.tensor(xs, dtype=tl.float64)
        from math import erf
        gelu = np.array([v * 0.5 * (1 + erf(v / math.sqrt(2))) for v in xs])
        np.testing.assert_allclose(nn.GELU()(x).numpy(), gelu, rtol=1e-12)
        tanh_gelu = 0.5 * xs * (1 + np.tanh(math.sqrt(2 / math.pi) * (xs + 0.044715 * xs ** 3)))
        np.testing.assert_allclose(nn.GELU("tanh")(x).numpy(), tanh_gelu, rtol=1e-12)
        np.testing.assert_allclose(nn.ReLU()(x).numpy(), np.maximum(xs, 0))
        np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh(xs))
        np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-xs)))
        np.testing.assert_allclose(nn.SiLU()(x).numpy(), xs / (1 + np.exp(-xs)))
        np.testing.assert_allclose(nn.LeakyReLU(0.1)(x).numpy(), np.where(xs > 0, xs, 0.1 * xs))
        with pytest.raises(ValueError, match="approximate"):
            nn.GELU("fast")

    def test_softmax_modules(self):
        a = np.random.default_rng(0).standard_normal((3, 4))
        x = tl.tensor(a, dtype=tl.float64)
        e = np.exp(a - a.max(1, keepdims=True))
        sm = e / e.sum(1, keepdims=True)
        np.testing.assert_allclose(nn.Softmax(dim=1)(x).numpy(), sm, rtol=1e-12)
        np.testing.assert_allclose(nn.LogSoftmax(dim=-1)(x).numpy(), np.log(sm), rtol=1e-12)
        big = tl.tensor([1000.0, 1000.0])
        np.testing.assert_allclose(F.softmax(big, dim=0).numpy(), [0.5, 0.5])

    def test_identity_flatten(self):
        x = tl.randn(2, 3, 4)
        assert nn.Identity(3, foo=1)(x) is x
        assert nn.Flatten()(x).shape == (2, 12)
        assert nn.Flatten(0, 1)(x).shape == (6, 4)
        assert nn.Unflatten(1, (3, 1))(x).shape == (2, 3, 1, 4)

    @settings(max_examples=25, deadline=None)
    @given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(1, 2), st.booleans())
    def test_layer_norm_matches_numpy(self, shape, n_norm, affine):
        n_norm = min(n_norm, len(shape))
        norm_shape = tuple(shape[len(shape) - n_norm:])
        a = np.random.default_rng(len(shape)).standard_normal(shape)
        ln = nn.LayerNorm(norm_shape, eps=1e-5, elementwise_affine=affine).double()
        if affine:
            with tl.no_grad():
                ln.weight.copy_(tl.tensor(np.linspace(0.5, 1.5, int(np.prod(norm_shape))).reshape(norm_shape)))
                ln.bias.fill_(0.25)
        axes = tuple(range(len(shape) - n_norm, len(shape)))
        want = (a - a.mean(axes, keepdims=True)) / np.sqrt(a.var(axes, keepdims=True) + 1e-5)
        if affine:
            want = want * ln.weight.detach().numpy() + 0.25
        np.testing.assert_allclose(ln(tl.tensor(a, dtype=tl.float64)).detach().numpy(), want, rtol=1e-10, atol=1e-12)

    def test_layer_norm_errors(self):
        with pytest.raises(RuntimeError, match=r"normalized_shape=\[4\], expected input with shape \[\*, 4\]"):
            nn.LayerNorm(4)(tl.ones(2, 3))
        ln = nn.LayerNorm(3, elementwise_affine=False)
        assert ln.weight is None and list(ln.parameters()) == []

    def test_embedding(self):
        emb = nn.Embedding(6, 3, padding_idx=2)
        w = emb.weight.detach().numpy().copy()
        assert not w[2].any()
        idx = tl.tensor([[0, 2, 5], [2, 2, 1]])
        out = emb(idx)
        np.testing.assert_array_equal(out.detach().numpy(), w[idx.numpy()])
        (out * tl.arange(3.0)).sum().backward()
        g = np.zeros((6, 3))
        for i in [0, 5, 1]:
            g[i] += np.arange(3.0)
        np.testing.assert_allclose(emb.weight.grad.numpy(), g)  # padding row gets no gradient
        with pytest.raises(RuntimeError, match="Long, Int"):
            emb(tl.tensor([0.0]))
        with pytest.raises(IndexError, match="index out of range"):
            emb(tl.tensor([6]))
        pre = nn.Embedding.from_pretrained(tl.eye(3))
        assert not pre.weight.requires_grad and pre(tl.tensor([1])).tolist() == [[0.0, 1.0, 0.0]]

    def test_dropout(self):
        tl.manual_seed(0)
        d = nn.Dropout(0.25)
        x = tl.ones(1000, requires_grad=True)
        y = d(x)
        vals = np.unique(y.detach().numpy())
        np.testing.assert_allclose(vals, [0.0, 1 / 0.75], rtol=1e-6)
        frac = (y.detach().numpy() == 0).mean()
        assert 0.2 < frac < 0.3
        y.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy())  # grad is the same mask * scale
        d.eval()
        assert d(x) is x
        assert F.dropout(x, 0.0) is x and not F.dropout(x, 1.0).detach().numpy().any()
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(1.5)

    def test_dropout_uses_tl_rng(self):
        tl.manual_seed(3)
        a = F.dropout(tl.ones(50)).numpy()
        tl.manual_seed(3)
        b = F.dropout(tl.ones(50)).numpy()
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------- losses
def _log_softmax(a, axis):
    m = a.max(axis, keepdims=True)
    return a - m - np.log(np.exp(a - m).sum(axis, keepdims=True))


class TestLosses:
    def test_mse(self):
        a, b = np.array([1.0, 2.0, 4.0]), np.array([0.0, 2.0, 1.0])
        x, y = tl.tensor(a), tl.tensor(b)
        assert nn.MSELoss()(x, y).item() == pytest.approx(((a - b) ** 2).mean())
        assert nn.MSELoss(reduction="sum")(x, y).item() == pytest.approx(10.0)
        np.testing.assert_allclose(nn.MSELoss(reduction="none")(x, y).numpy(), (a - b) ** 2)
        with pytest.warns(UserWarning, match="different to the input size"):
            F.mse_loss(tl.ones(3, 1), tl.ones(3))
        with pytest.raises(ValueError, match="not a valid value for reduction"):
            nn.MSELoss(reduction="avg")

    @pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
    @pytest.mark.parametrize("use_weight", [False, True])
    @pytest.mark.parametrize("smoothing", [0.0, 0.2])
    def test_cross_entropy_class_indices(self, reduction, use_weight, smoothing):
        rng = np.random.default_rng(0)
        a = rng.standard_normal((6, 4))
        t = np.array([0, 3, 1, -100, 2, 3])
        w = np.array([0.5, 1.0, 2.0, 1.5]) if use_weight else np.ones(4)
        logp = _log_softmax(a, 1)
        valid = t != -100
        safe = np.where(valid, t, 0)
        nll = -logp[np.arange(6), safe] * w[safe] * valid
        smooth = -(logp * w).sum(1) * valid
        wsum = (w[safe] * valid).sum()
        if reduction == "mean":
            want = (1 - smoothing) * nll.sum() / wsum + smoothing / 4 * smooth.sum() / wsum
        elif reduction == "sum":
            want = (1 - smoothing) * nll.sum() + smoothing / 4 * smooth.sum()
        else:
            want = (1 - smoothing) * nll + smoothing / 4 * smooth
        loss_fn = nn.CrossEntropyLoss(weight=tl.tensor(w, dtype=tl.float64) if use_weight else None,
                                      reduction=reduction, label_smoothing=smoothing)
        x = tl.tensor(a, dtype=tl.float64, requires_grad=True)
        got = loss_fn(x, tl.tensor(t))
        np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-10)
        wt = tl.tensor(w, dtype=tl.float64) if use_weight else None
        assert gradcheck(lambda inp: F.cross_entropy(inp, tl.tensor(t), weight=wt, reduction=reduction,
                                                     label_smoothing=smoothing), (x,))

    def test_cross_entropy_probabilities_and_kdim(self):
        rng = np.random.default_rng(1)
        a = rng.standard_normal((3, 5))
        p = rng.random((3, 5))
        p /= p.sum(1, keepdims=True)
        x = tl.tensor(a, dtype=tl.float64)
        want = -(p * _log_softmax(a, 1)).sum(1).mean()
        assert F.cross_entropy(x, tl.tensor(p, dtype=tl.float64)).item() == pytest.approx(want, rel=1e-10)
        # (N, C, d) input with (N, d) targets
        a3 = rng.standard_normal((2, 3, 4))
        t3 = rng.integers(0, 3, (2, 4))
        lp = _log_softmax(a3, 1)
        per = -np.take_along_axis(lp, t3[:, None, :], 1)[:, 0, :]
        got = F.cross_entropy(tl.tensor(a3, dtype=tl.float64), tl.tensor(t3), reduction="none")
        assert got.shape == (2, 4)
        np.testing.assert_allclose(got.numpy(), per, rtol=1e-10)
        # 1-d input with a scalar target
        one = F.cross_entropy(tl.tensor(a[0], dtype=tl.float64), tl.tensor(2))
        assert one.shape == () and one.item() == pytest.approx(-_log_softmax(a[0], 0)[2])

    def test_nll_loss_and_errors(self):
        a = _log_softmax(np.random.default_rng(2).standard_normal((4, 3)), 1)
        t = np.array([2, 0, 1, 1])
        got = F.nll_loss(tl.tensor(a, dtype=tl.float64), tl.tensor(t))
        assert got.item() == pytest.approx(-a[np.arange(4), t].mean())
        assert nn.NLLLoss(ignore_index=1)(tl.tensor(a), tl.tensor(t)).item() == pytest.approx(
            -(a[0, 2] + a[1, 0]) / 2, rel=1e-6)
        with pytest.raises(IndexError, match="out of bounds"):
            F.cross_entropy(tl.zeros(2, 3), tl.tensor([0, 3]))
        with pytest.raises(ValueError, match="batch_size"):
            F.cross_entropy(tl.zeros(2, 3), tl.tensor([0, 1, 2]))


# ---------------------------------------------------------------------- functional gradcheck
@pytest.mark.parametrize("name,fn", [
    ("relu", lambda x: F.relu(x + 0.05)),
    ("gelu", F.gelu),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh")),
    ("sigmoid", F.sigmoid),
    ("tanh", F.tanh),
    ("silu", F.silu),
    ("softmax", lambda x: F.softmax(x, dim=1)),
    ("log_softmax", lambda x: F.log_softmax(x, dim=0)),
    ("layer_norm", lambda x: F.layer_norm(x, (4,))),
    ("mse", lambda x: F.mse_loss(x, tl.ones(3, 4, dtype=tl.float64))),
])
def test_functional_gradcheck(name, fn):
    assert gradcheck(fn, (f64(3, 4),))


def test_gradcheck_linear_layer_norm_embedding_with_params():
    x, w, b = f64(5, 3), f64(4, 3, seed=1), f64(4, seed=2)
    assert gradcheck(F.linear, (x, w, b))
    g, beta = f64(3, seed=3), f64(3, seed=4)
    assert gradcheck(lambda inp, g_, b_: F.layer_norm(inp, 3, g_, b_), (x, g, beta))
    table = f64(6, 2, seed=5)
    assert gradcheck(lambda t: F.embedding(tl.tensor([[1, 4], [4, 0]]), t), (table,))


def test_functional_second_order():
    x = f64(2, 3)
    tl.autograd.gradgradcheck(lambda t: F.gelu(t).sum() + F.layer_norm(t, (3,)).pow(2).sum(), (x,))


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 5), st.integers(2, 6))
def test_cross_entropy_gradient_is_softmax_minus_onehot(n, c):
    rng = np.random.default_rng(n * 10 + c)
    a = rng.standard_normal((n, c))
    t = rng.integers(0, c, n)
    x = tl.tensor(a, dtype=tl.float64, requires_grad=True)
    F.cross_entropy(x, tl.tensor(t)).backward()
    sm = np.exp(_log_softmax(a, 1))
    sm[np.arange(n), t] -= 1
    np.testing.assert_allclose(x.grad.numpy(), sm / n, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------- init
def test_init_functions():
    tl.manual_seed(0)
    w = nn.Parameter(tl.empty(64, 32))
    nn.init.xavier_uniform_(w)
    a = math.sqrt(6 / 96)
    assert np.abs(w.detach().numpy()).max() <= a and w.requires_grad and w.grad_fn is None
    nn.init.kaiming_uniform_(w, nonlinearity="relu")
    assert np.abs(w.detach().numpy()).max() <= math.sqrt(2) * math.sqrt(3 / 32)
    nn.init.constant_(w, 0.5)
    assert (w.detach().numpy() == 0.5).all()
    nn.init.zeros_(w)
    assert not w.detach().numpy().any()
    nn.init.ones_(w)
    assert (w.detach().numpy() == 1).all()
    nn.init.normal_(w, 2.0, 0.1)
    assert abs(w.detach().numpy().mean() - 2.0) < 0.02
    nn.init.uniform_(w, -1, 1)
    assert w.detach().numpy().min() >= -1
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(tl.empty(3))


def test_clip_grad_norm():
    p, q = nn.Parameter(tl.zeros(2)), nn.Parameter(tl.zeros(1))
    p.grad, q.grad = tl.tensor([3.0, 0.0]), tl.tensor([4.0])
    total = nn.utils.clip_grad_norm_([p, q], 1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.0], rtol=1e-5)
    np.testing.assert_allclose(q.grad.numpy(), [0.8], rtol=1e-5)
    nn.utils.clip_grad_value_([p], 0.1)
    np.testing.assert_allclose(p.grad.numpy(), [0.1, 0.0])


# ---------------------------------------------------------------------- training
def test_mlp_regression_training_reduces_loss():
    tl.manual_seed(0)
    rng = np.random.default_rng(0)
    xs = rng.uniform(-2, 2, (128, 1)).astype(np.float32)
    ys = np.sin(xs) * 2
    x, y = tl.tensor(xs), tl.tensor(ys)
    model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 1))
    opt = tl.optim.Adam(model.parameters(), lr=0.02)
    loss_fn = nn.MSELoss()
    losses = []
    for _ in range(150):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.05 * losses[0]


def test_optional_torch_comparison():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((4, 5))
    t = np.array([1, 0, 4, 2])
    ours = F.cross_entropy(tl.tensor(a, dtype=tl.float64), tl.tensor(t), label_smoothing=0.1).item()
    theirs = torch.nn.functional.cross_entropy(torch.tensor(a), torch.tensor(t), label_smoothing=0.1).item()
    assert ours == pytest.approx(theirs, rel=1e-10)


def test_compile_uses_tensorlite_compile(monkeypatch):
    seen = {}

    def fake_compile(fn, **kwargs):
        seen["kwargs"] = kwargs

        def wrapper(*args, **kw):
            seen["called"] = True
            return fn(*args, **kw)
        return wrapper

    monkeypatch.setattr(tl, "compile", fake_compile, raising=False)
    m = nn.Linear(2, 1)
    m.compile(backend="eager", fullgraph=True)
    assert seen["kwargs"] == {"backend": "eager", "fullgraph": True}
    out = m(tl.ones(3, 2))
    assert seen["called"] and out.shape == (3, 1)


def test_forgetting_super_init_gives_a_clear_error():
    class NoInit(nn.Module):
        def __init__(self):
            pass

        def forward(self, x):
            return x

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        NoInit()(tl.ones(1))
