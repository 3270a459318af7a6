"""Tensor hooks registered inside a compiled region.

* On a tensor that came from outside (an input, a parameter): nothing enters the graph; the
  registration is replayed after the graph, so a function that only registers hooks compiles
  no graph at all.
* On an intermediate: the graph gets a node `apply_backward_hook(y, hook_box)` placed right
  after y, and every use of y (before and after the registration) is rewired through it, so
  the backward runs the hook on y's total gradient. The hook itself is not traced and not
  guarded: it travels in a HookBox passed to the graph as an input at each call, so rebinding
  the hook or changing what it closes over needs no recompile.

One module per concern: `runtime` (what the graph calls at run time), `tracing` (registering
hooks while tracing) and `outputs` (rewriting the graph after capture for hooks registered
later on its outputs).
"""
from .runtime import (HookBox, apply_backward_hook, apply_output_view_hook, module_backward_begin,
                      module_backward_end)
from .tracing import HookTracker, RemovableHandleVariable

__all__ = ["HookBox", "HookTracker", "RemovableHandleVariable", "apply_backward_hook",
           "apply_output_view_hook", "module_backward_begin", "module_backward_end"]
