"""md.inspect(compiled_fn): the compile cache of a compiled function.

>>> import minidynamo as md, tensorlite as tl
>>> f = md.compile(lambda x: x + 1)
>>> _ = f(tl.ones(3)); _ = f(tl.ones(4))
>>> c = md.inspect(f)
>>> len(c.entries), c.misses, c.recompile_reasons
(2, 2, ["tensor 'x' size mismatch at index 0. expected 3, actual 4"])
"""
from .eval_frame import OptimizedFunction, OptimizedModule


def inspect(compiled_fn):
    """The FrameCache of a compiled function or module: entries (guards, graph, code),
    recompile_reasons, hits, misses."""
    if isinstance(compiled_fn, OptimizedModule):
        compiled_fn = compiled_fn._compiled_forward
    if not isinstance(compiled_fn, OptimizedFunction):
        raise TypeError(f"md.inspect expects a function returned by md.compile, got {type(compiled_fn).__name__}")
    return compiled_fn._cache
