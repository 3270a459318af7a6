"""detect_anomaly: record forward stack traces on nodes and fail on NaN gradients.

>>> import tensorlite as tl
>>> with tl.autograd.detect_anomaly():
...     pass
"""
import warnings

from .. import _state


class detect_anomaly:
    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and "
                      "should only be enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self):
        self.prev = (_state.anomaly_enabled, _state.anomaly_check_nan)
        _state.anomaly_enabled = True
        _state.anomaly_check_nan = self.check_nan

    def __exit__(self, *exc):
        _state.anomaly_enabled, _state.anomaly_check_nan = self.prev


class set_detect_anomaly:
    def __init__(self, mode, check_nan=True):
        self.prev = (_state.anomaly_enabled, _state.anomaly_check_nan)
        _state.anomaly_enabled = bool(mode)
        _state.anomaly_check_nan = check_nan

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _state.anomaly_enabled, _state.anomaly_check_nan = self.prev


def is_anomaly_enabled():
    return _state.anomaly_enabled
