"""The "codegen" backend: forward and backward graphs lowered to generated numpy source.

`codegen(gm, example_inputs)` runs AOT autograd (backends.aot.aot_module_simplified) with
`compile_fx_graph` compiling both the forward and the backward graph. Without backends.aot
it traces inference graphs with make_fx and lowers them directly (graphs that need
gradients, or that mutate inputs, then run eagerly).

>>> import tensorlite as tl, fxlite
>>> from backends.codegen import compile_fx_graph
>>> gm = fxlite.make_fx(lambda x: tl.exp(x) + 1)(tl.zeros(2))
>>> compile_fx_graph(gm, [tl.zeros(2)])(tl.zeros(2)).tolist()
[2.0, 2.0]
"""
import tensorlite as tl

from .. import settings
from ..registry import register_backend
from . import cache
from .cache import counters
from .compile_fx import CompiledGraph, generate

__all__ = ["codegen", "compile_fx_graph", "counters", "OPTIONS"]

# options that change the generated code (part of the cache key)
OPTIONS = {"fusion": True, "numexpr": True, "numba": True}


def compile_fx_graph(gm, example_inputs):
    """Compile a primitive-level GraphModule (make_fx / AOT graphs) into a fast callable.

    The callable takes the graph's inputs positionally and returns what the graph returns;
    its `.source` is the generated code.
    Graphs with nodes codegen cannot lower run as the GraphModule itself.

    >>> import tensorlite as tl, fxlite
    >>> gm = fxlite.make_fx(lambda x: (x * 2).sum(0))(tl.ones(3))
    >>> compile_fx_graph(gm, [tl.ones(3)])(tl.ones(3)).item()
    6.0
    """
    options = dict(OPTIONS)
    from . import fusion
    if fusion.FORCE is not None:  # a forced fused form (tests, benchmarks) is other code
        options["force"] = fusion.FORCE
    key = cache.graph_key(gm, example_inputs, options)
    art = cache.lookup(key)
    if art is None:
        try:
            art = generate(gm, example_inputs, options)
        except NotImplementedError as e:
            counters["fallbacks"] += 1
            settings.log.debug("codegen: running %s eagerly: %s", type(gm).__name__, e)
            return gm.forward
        counters["compilations"] += 1
        cache.store(key, art)
    if settings.topic_enabled("output_code"):
        settings.log.info("OUTPUT CODE (codegen) for %s:\n%s", type(gm).__name__, art.source)
    # the generated entry point itself (attributes: source, kernel, artifact, compiled)
    return CompiledGraph(art, gm)._call


def _mutates_inputs(gm):
    for n in gm.graph.nodes:
        t = n.target
        name = t if isinstance(t, str) else getattr(t, "__name__", "")
        if n.op in ("call_method", "call_function") and name.endswith("_") and not name.endswith("__") \
                and name not in ("pow_", "sum_", "abs_", "round_"):
            return True
    return False


@register_backend(name="codegen")
def codegen(gm, example_inputs):
    """The backend: AOT autograd with both graphs compiled by compile_fx_graph."""
    try:
        from ..aot import aot_module_simplified
    except ImportError:
        aot_module_simplified = None
    if aot_module_simplified is not None:
        return aot_module_simplified(gm, example_inputs, fw_compiler=compile_fx_graph,
                                     bw_compiler=compile_fx_graph)
    needs_grad = any(getattr(x, "requires_grad", False) for x in example_inputs)
    if needs_grad or _mutates_inputs(gm):
        return gm.forward
    from fxlite import make_fx
    with tl.no_grad():
        pgm = make_fx(gm.forward)(*example_inputs)
    compiled = compile_fx_graph(pgm, example_inputs)

    def run(*args):
        if tl.is_grad_enabled() and any(getattr(x, "requires_grad", False) for x in args):
            return gm.forward(*args)
        return compiled(*args)
    return run
