"""tensorlite.autograd: backward, grad, Function, hooks on the graph, gradcheck, anomaly mode."""
from .._engine import backward, grad
from . import graph  # noqa: F401
from .anomaly_mode import detect_anomaly, set_detect_anomaly, is_anomaly_enabled
from .function import Function, FunctionCtx, once_differentiable
from . import function  # noqa: F401
from .grad_mode import enable_grad, no_grad, set_grad_enabled, inference_mode
from .gradcheck import gradcheck, gradgradcheck, GradcheckError

__all__ = ["backward", "grad", "Function", "FunctionCtx", "once_differentiable", "gradcheck",
           "gradgradcheck", "GradcheckError", "detect_anomaly", "set_detect_anomaly",
           "is_anomaly_enabled", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode"]
