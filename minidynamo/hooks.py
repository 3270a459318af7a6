"""Hooks registered inside compiled regions (Tensor.register_hook on traced tensors)."""
from .variables.base import unsupported


class HookTracker:
    def __init__(self, output):
        self.output = output
        self.registrations = []

    def register_tensor_hook(self, tx, tensor_vt, args, kwargs):
        unsupported("Tensor.register_hook inside a compiled region")

    def replay(self, cg):
        return []
