"""The "eager" backend: run the captured graph as it is."""
from .registry import register_backend


@register_backend
def eager(gm, example_inputs):
    """Return the GraphModule's generated forward (no Module.__call__ overhead)."""
    return gm.forward
