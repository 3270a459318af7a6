"""The backend registry: a backend is callable(gm, example_inputs) -> callable.

>>> import backends
>>> @backends.register_backend
... def my_backend(gm, example_inputs):
...     return gm.forward
>>> backends.lookup_backend("my_backend") is my_backend
True
"""
_BACKENDS = {}


def register_backend(compiler_fn=None, name=None, tags=()):
    """Register a backend under its function name (or `name`); usable bare or called."""
    if isinstance(compiler_fn, str) and name is None:
        name, compiler_fn = compiler_fn, None
    if compiler_fn is None:
        return lambda fn: register_backend(fn, name=name, tags=tags)
    if not callable(compiler_fn):
        raise TypeError(f"a backend must be callable, got {type(compiler_fn).__name__}")
    key = name or compiler_fn.__name__
    _BACKENDS[key] = compiler_fn
    compiler_fn._backend_name = key
    return compiler_fn


def lookup_backend(compiler_fn):
    """A backend by name, or the callable itself."""
    if isinstance(compiler_fn, str):
        _load_builtins()
        try:
            return _BACKENDS[compiler_fn]
        except KeyError:
            raise InvalidBackend(compiler_fn) from None
    if callable(compiler_fn):
        return compiler_fn
    raise TypeError(f"backend must be a string or a callable, got {type(compiler_fn).__name__}")


def list_backends(exclude_tags=()):
    _load_builtins()
    return sorted(_BACKENDS)


def backend_name(fn):
    return getattr(fn, "_backend_name", None) or getattr(fn, "__name__", None) or type(fn).__name__


class InvalidBackend(RuntimeError):
    def __init__(self, name):
        super().__init__(f"Invalid backend: {name!r}, see `backends.list_backends()` for available backends: "
                         + ", ".join(repr(b) for b in list_backends()))


_loaded = False


def _load_builtins():
    global _loaded
    if not _loaded:
        _loaded = True
        import importlib
        for mod in ("backends.eager", "backends.aot", "backends.codegen"):
            try:
                importlib.import_module(mod)
            except ImportError as e:
                if e.name != mod:
                    raise
