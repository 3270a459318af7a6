"""Call a module with some of its parameters and buffers replaced (torch.func.functional_call).

Tracers use this to make a module a function of its state: AOT autograd traces
`functional_call(mod, dict(zip(names, placeholders)), args)` so that the parameters become
graph inputs, as PyTorch's `aot_module_simplified` does.

>>> import tensorlite as tl
>>> from tensorlite.nn.utils.stateless import functional_call
>>> lin = tl.nn.Linear(2, 1, bias=False)
>>> functional_call(lin, {"weight": tl.ones(1, 2)}, (tl.tensor([1.0, 2.0]),))
tensor([3.])
"""
import contextlib

__all__ = ["functional_call"]


def _slot(module, name):
    """(the dict holding parameter or buffer `name`, its key there); name is dotted ("0.weight")."""
    *path, attr = name.split(".")
    owner = module.get_submodule(".".join(path)) if path else module
    for store in (owner._parameters, owner._buffers):
        if attr in store:
            return store, attr
    raise AttributeError(f"functional_call: '{type(module).__name__}' has no parameter or buffer named '{name}'")


def _with_tied_names(module, replacements):
    """replacements plus, for each replaced tensor, every other name it is reachable by (tied
    weights), as PyTorch's tie_weights=True: the module sees one tensor under all its names."""
    by_id = {}
    for name, _ in replacements.items():
        store, attr = _slot(module, name)
        by_id[id(store[attr])] = replacements[name]
    out = dict(replacements)
    for getter in (module.named_parameters, module.named_buffers):
        for name, t in getter(remove_duplicate=False):
            if name not in out and id(t) in by_id:
                out[name] = by_id[id(t)]
    return out


@contextlib.contextmanager
def _reparametrize_module(module, parameters_and_buffers):
    """Within the block, module's named parameters/buffers are the given tensors (put back after)."""
    saved = []
    try:
        for name, t in parameters_and_buffers.items():
            store, attr = _slot(module, name)
            saved.append((store, attr, store[attr]))
            store[attr] = t  # the dict entry itself: Module.__setattr__ would insist on a Parameter
        yield
    finally:
        for store, attr, old in reversed(saved):
            store[attr] = old


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True):
    """module(*args, **kwargs) with the named parameters and buffers replaced for this call only."""
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    replacements = dict(parameters_and_buffers)
    if tie_weights:
        replacements = _with_tied_names(module, replacements)
    with _reparametrize_module(module, replacements):
        return module(*args, **(kwargs or {}))
