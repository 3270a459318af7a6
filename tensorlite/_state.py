"""Process-wide runtime state read on every op: grad mode, the active dispatch mode, anomaly mode.

Kept in one tiny module so the hot path reads module attributes and nothing else.
"""
grad_enabled = True
# A dispatch mode (make_fx tracing, fake tensors) intercepts every primitive call when set.
mode = None
anomaly_enabled = False
anomaly_check_nan = True
# Stack of (pack, unpack) pairs from autograd.graph.saved_tensors_hooks.
saved_tensors_hooks = []
# Incremented per autograd Node; the engine runs ready nodes newest first, as PyTorch does.
sequence_nr = 0
