"""The "aot_eager" backend: AOT autograd whose forward and backward graphs run as traced.

Forward and backward are traced together (one joint graph), split into a forward and a
backward graph and run eagerly; the backward graph is compiled on the first backward.

"aot_eager" uses `default_partition` (save every forward value the backward needs): nothing
fuses in an eager runtime, so recomputing values in the backward only costs time (measured
in benchmarks/aot.py: about +25% per step on 1M-element elementwise chains).
"aot_eager_min_cut" uses `min_cut_rematerialization_partition` (PyTorch's aot_eager choice:
fewer saved bytes, cheap elementwise values recomputed). "aot_eager_default_partitioner" is
an alias of "aot_eager", for PyTorch's name.

>>> import backends
>>> backends.lookup_backend("aot_eager").__name__
'aot_eager'
"""
from .registry import register_backend


@register_backend
def aot_eager(gm, example_inputs, fw_compiler=None, bw_compiler=None, partition_fn=None):
    """Compile a Dynamo graph with AOT autograd; both graphs run as traced (nop compilers)."""
    from .aot import aot_module_simplified, default_partition, nop
    return aot_module_simplified(gm, example_inputs, fw_compiler=fw_compiler or nop,
                                 bw_compiler=bw_compiler or nop,
                                 partition_fn=partition_fn or default_partition)


@register_backend
def aot_eager_min_cut(gm, example_inputs):
    """aot_eager with the min-cut rematerialisation partitioner."""
    from .aot import min_cut_rematerialization_partition
    return aot_eager(gm, example_inputs, partition_fn=min_cut_rematerialization_partition)


@register_backend
def aot_eager_default_partitioner(gm, example_inputs):
    """aot_eager with the default partitioner (the same as "aot_eager")."""
    return aot_eager(gm, example_inputs)
