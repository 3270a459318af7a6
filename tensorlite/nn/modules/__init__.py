"""The layers of tensorlite.nn, one file per concept."""
from .module import Module
from .linear import Identity, Linear
from .flatten import Flatten, Unflatten
from .activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Tanh
from .container import ModuleDict, ModuleList, Sequential
from .normalization import LayerNorm
from .sparse import Embedding
from .dropout import Dropout
from .loss import CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .conv import Conv1d, Conv2d
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .batchnorm import BatchNorm1d, BatchNorm2d

__all__ = ["Module", "Identity", "Linear", "Flatten", "Unflatten", "GELU", "LeakyReLU", "LogSoftmax",
           "ReLU", "Sigmoid", "SiLU", "Softmax", "Tanh", "ModuleDict", "ModuleList", "Sequential",
           "LayerNorm", "Embedding", "Dropout", "CrossEntropyLoss", "L1Loss", "MSELoss", "NLLLoss",
           "Conv1d", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
           "BatchNorm1d", "BatchNorm2d"]
