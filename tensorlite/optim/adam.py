"""Adam and AdamW.

>>> import tensorlite as tl
>>> w = tl.nn.Parameter(tl.tensor([1.0, -1.0]))
>>> opt = tl.optim.Adam([w], lr=0.1)
>>> (w * w).sum().backward(); _ = opt.step()
>>> w   # the first Adam step moves each weight by about lr
Parameter containing:
tensor([ 0.9000, -0.9000], requires_grad=True)
"""
import math

from .. import _creation
from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """PyTorch's Adam update, per parameter p with gradient g at step t:

        g = -g if maximize;  g = g + weight_decay * p     (AdamW instead: p = p * (1 - lr * wd))
        m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g * g
        vmax = max(vmax, v) if amsgrad (and v := vmax below)
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                beta1, beta2 = group["betas"]
                lr, eps, wd, amsgrad = group["lr"], group["eps"], group["weight_decay"], group["amsgrad"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = -p.grad if group["maximize"] else p.grad
                    state = self.state[p]
                    if not state:
                        state["step"] = _creation.tensor(0.0)
                        state["exp_avg"] = _creation.zeros_like(p)
                        state["exp_avg_sq"] = _creation.zeros_like(p)
                        if amsgrad:
                            state["max_exp_avg_sq"] = _creation.zeros_like(p)
                    state["step"].add_(1)
                    t = state["step"].item()
                    if wd != 0:
                        if self._decoupled:
                            p.mul_(1 - lr * wd)
                        else:
                            g = g + p * wd
                    m, v = state["exp_avg"], state["exp_avg_sq"]
                    m.mul_(beta1).add_(g, alpha=1 - beta1)
                    v.mul_(beta2).add_(g * g, alpha=1 - beta2)
                    bias1 = 1 - beta1 ** t
                    bias2_sqrt = math.sqrt(1 - beta2 ** t)
                    if amsgrad:
                        vmax = state["max_exp_avg_sq"]
                        vmax.copy_(vmax.maximum(v))
                        v = vmax
                    denom = v.sqrt() / bias2_sqrt + eps
                    p.add_(m / denom, alpha=-lr / bias1)
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (p = p * (1 - lr * weight_decay) before the Adam step)."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, **kw):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, **kw)
