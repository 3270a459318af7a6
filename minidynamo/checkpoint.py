"""Tracing `tl.utils.checkpoint.checkpoint(fn, *args, use_reentrant=False, **kwargs)`.

Activation checkpointing changes only memory: eagerly, fn's intermediate values are dropped
after the forward and recomputed (same inputs, same random state) when the backward needs
them, so values and gradients are those of `fn(*args, **kwargs)`. The trace therefore inlines
fn into the graph. (PyTorch wraps the call in a `tag_activation_checkpoint` subgraph so that
its partitioner recomputes these values; AOT autograd here saves them, which differs only in
memory.)

What eager checkpointing does beyond that value is not traced; the call is a graph break and
runs eagerly when:

* fn changes state outside itself (it would happen again during backward's recomputation,
  speculate.py); checked while grad mode is on, the only time checkpoint recomputes;
* use_reentrant=True (the output does not require grad unless an argument does, and the
  gradient reaches closed-over tensors through a nested backward);
* preserve_rng_state=False (the recomputation draws other random numbers than the forward);
* context_fn is given, or an option is not a constant.

>>> import minidynamo as md, tensorlite as tl
>>> from tensorlite.utils.checkpoint import checkpoint
>>> @md.compile(backend="aot_eager", fullgraph=True)
... def f(x):
...     return checkpoint(lambda t: t.sin().exp(), x, use_reentrant=False)
>>> x = tl.zeros(2, requires_grad=True)
>>> f(x).sum().backward(); x.grad
tensor([1., 1.])
"""
from .speculate import no_outside_effects
from .variables.base import VariableTracker, unsupported

__all__ = ["CheckpointVariable"]

# checkpoint's own keyword arguments (the others are fn's) and their defaults
_OPTIONS = {"use_reentrant": None, "context_fn": None, "determinism_check": "default", "debug": False,
            "preserve_rng_state": True}


class CheckpointVariable(VariableTracker):
    """tl.utils.checkpoint.checkpoint, as the interpreter sees it."""

    def __init__(self, value, source=None):
        super().__init__(source)
        self.value = value

    def call_function(self, tx, args, kwargs):
        if not args:
            unsupported("checkpoint() without a function")
        fn, fn_args = args[0], list(args[1:])
        options = dict(_OPTIONS)
        fn_kwargs = {}
        for k, v in kwargs.items():
            if k not in _OPTIONS:
                fn_kwargs[k] = v
            elif not v.is_python_constant():
                unsupported(f"checkpoint({k}=...) that is not a constant")
            else:
                options[k] = v.as_python_constant()
        _check_options(options)
        if not tx.grad_enabled():  # eagerly a plain call then: nothing is recomputed
            return fn.call_function(tx, fn_args, fn_kwargs)
        with no_outside_effects(tx, "a checkpointed function (its effects would happen again in backward)"):
            return fn.call_function(tx, fn_args, fn_kwargs)

    def reconstruct(self, cg):
        return self.source.expr() if self.source is not None else cg.global_obj(self.value)


def _check_options(options):
    if options["use_reentrant"]:
        unsupported("checkpoint(use_reentrant=True) (only use_reentrant=False is traced)")
    if not options["preserve_rng_state"]:
        unsupported("checkpoint(preserve_rng_state=False) (its recomputation draws other random numbers)")
    if options["context_fn"] is not None:
        unsupported("checkpoint(context_fn=...)")
