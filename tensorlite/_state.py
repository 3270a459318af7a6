"""Runtime state read on every op: grad mode, the active dispatch mode, anomaly mode.

Kept in one tiny module so the hot path reads module attributes and nothing else.
`grad_enabled` is per thread, as in PyTorch (a new thread starts with grad mode on): it is a
property of this module's class backed by a threading.local, so `_state.grad_enabled` reads
and writes the calling thread's value.
"""
import sys
import threading
import types

# A dispatch mode (make_fx tracing, fake tensors) intercepts every primitive call when set.
mode = None
anomaly_enabled = False
anomaly_check_nan = True
# Stack of (pack, unpack) pairs from autograd.graph.saved_tensors_hooks.
saved_tensors_hooks = []
# Incremented per autograd Node; the engine runs ready nodes newest first, as PyTorch does.
sequence_nr = 0


class _Local(threading.local):
    grad_enabled = True
    inference = False  # inside tl.inference_mode() (per thread, as PyTorch's InferenceMode)


_local = _Local()


class _StateModule(types.ModuleType):
    @property
    def grad_enabled(self):
        return _local.grad_enabled

    @grad_enabled.setter
    def grad_enabled(self, value):
        _local.grad_enabled = value


sys.modules[__name__].__class__ = _StateModule
