"""tensorlite.optim: SGD, Adam, AdamW (PyTorch's update rules).

>>> import tensorlite as tl
>>> model = tl.nn.Linear(2, 1)
>>> opt = tl.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
>>> model(tl.ones(4, 2)).pow(2).mean().backward()
>>> _ = opt.step(); opt.zero_grad()
"""
from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam, AdamW

__all__ = ["Optimizer", "SGD", "Adam", "AdamW"]
