"""Stochastic gradient descent with momentum, dampening, weight decay, Nesterov and maximize.

>>> import tensorlite as tl
>>> w = tl.nn.Parameter(tl.tensor([1.0]))
>>> opt = tl.optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward(); _ = opt.step()
>>> w
Parameter containing:
tensor([0.8000], requires_grad=True)
"""
from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, required

__all__ = ["SGD"]


class SGD(Optimizer):
    """PyTorch's SGD update, per parameter p with gradient g:

        g = -g if maximize;  g = g + weight_decay * p
        buf = g (first step) or momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf           (when momentum != 0)
        p = p - lr * g
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        if lr is not required and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
                wd, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = -p.grad if maximize else p.grad
                    if wd != 0:
                        g = g + p * wd
                    if momentum != 0:
                        state = self.state[p]
                        buf = state.get("momentum_buffer")
                        if buf is None:
                            buf = state["momentum_buffer"] = g.detach().clone()
                        else:
                            buf.mul_(momentum).add_(g, alpha=1 - dampening)
                        g = g + buf * momentum if nesterov else buf
                    p.add_(g, alpha=-lr)
        return loss
