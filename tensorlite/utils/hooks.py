"""RemovableHandle: what every hook registration returns.

>>> import tensorlite as tl
>>> x = tl.ones(2, requires_grad=True)
>>> h = x.register_hook(lambda g: g * 2)
>>> h.remove(); h.remove()   # idempotent
"""
import itertools

_next_id = itertools.count()


class RemovableHandle:
    """Removes one hook from the dict(s) it was registered in; `remove()` is idempotent.

    `extra_dict` lists further dicts keyed by the same id (for example the flags that say a
    forward hook was registered with kwargs), cleared together with the hook.
    """

    __slots__ = ("hooks_dict_ref", "id", "extra_dict_ref", "__weakref__")

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = hooks_dict
        self.id = next(_next_id)
        if extra_dict is None:
            extra = ()
        elif isinstance(extra_dict, (list, tuple)):
            extra = tuple(extra_dict)
        else:
            extra = (extra_dict,)
        self.extra_dict_ref = extra

    def remove(self):
        d = self.hooks_dict_ref
        if d is not None and self.id in d:
            del d[self.id]
        for e in self.extra_dict_ref:
            e.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

    def __repr__(self):
        return f"<RemovableHandle id={self.id}>"

