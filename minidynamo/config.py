"""md.config: settings read at compile time; `md.config.patch(**kw)` changes them for a block.

>>> import minidynamo as md
>>> with md.config.patch(cache_size_limit=2):
...     md.config.cache_size_limit
2
"""
import contextlib
import sys
import types

from backends import settings as _backend_settings

cache_size_limit = 8
suppress_errors = False
error_on_recompile = False
automatic_dynamic_shapes = True
verbose = False
inline_inbuilt_nn_modules = True
# wrap_top_frame (PyTorch's option): md.compile(fn) compiles a function that calls fn, so fn is
# traced inlined into that frame; any callable then compiles, one without a Python frame of its
# own (a builtin, a callable object) included. md.compile(module) always works this way (the
# module's hooks run in the same frame as its forward), whatever this says.
wrap_top_frame = False
# codegen_cache (True): the codegen backend's on-disk cache (MINIDYNAMO_CACHE_DIR), a setting
# of the backends (backends.settings) that this module reads and writes, see _ConfigModule

_DEFAULTS = dict(cache_size_limit=8, suppress_errors=False, error_on_recompile=False,
                 automatic_dynamic_shapes=True, verbose=False, inline_inbuilt_nn_modules=True,
                 wrap_top_frame=False, codegen_cache=True)


class _Patch(contextlib.ContextDecorator):
    def __init__(self, changes):
        self.changes = changes
        self.saved = None

    def __enter__(self):
        mod = sys.modules[__name__]
        for k in self.changes:
            if k not in _DEFAULTS:
                raise AttributeError(f"minidynamo.config has no option {k!r}; known: {', '.join(sorted(_DEFAULTS))}")
        self.saved = {k: getattr(mod, k) for k in self.changes}
        for k, v in self.changes.items():
            setattr(mod, k, v)
        return self

    def __exit__(self, *exc):
        mod = sys.modules[__name__]
        for k, v in self.saved.items():
            setattr(mod, k, v)


def patch(arg=None, value=None, **changes):
    """Context manager / decorator setting options for its extent: patch(cache_size_limit=1)."""
    if isinstance(arg, str):
        changes[arg] = value
    elif isinstance(arg, dict):
        changes.update(arg)
    return _Patch(changes)


class _ConfigModule(types.ModuleType):
    """This module, with the options that belong to a lower layer read and written there."""

    @property
    def codegen_cache(self):
        return _backend_settings.codegen_cache

    @codegen_cache.setter
    def codegen_cache(self, value):
        _backend_settings.codegen_cache = value


sys.modules[__name__].__class__ = _ConfigModule
