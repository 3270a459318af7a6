"""The "aot_eager" backend: AOT autograd whose forward and backward graphs run as traced.

Forward and backward are traced together (one joint graph), split by the min-cut
rematerialisation partitioner, and run eagerly; the backward graph is compiled on the first
backward. "aot_eager_default_partitioner" is the same with `default_partition`.

>>> import backends
>>> backends.lookup_backend("aot_eager").__name__
'aot_eager'
"""
from .registry import register_backend


@register_backend
def aot_eager(gm, example_inputs, fw_compiler=None, bw_compiler=None, partition_fn=None):
    """Compile a Dynamo graph with AOT autograd; both graphs run as traced (nop compilers)."""
    from .aot import aot_module_simplified, min_cut_rematerialization_partition, nop
    return aot_module_simplified(gm, example_inputs, fw_compiler=fw_compiler or nop,
                                 bw_compiler=bw_compiler or nop,
                                 partition_fn=partition_fn or min_cut_rematerialization_partition)


@register_backend
def aot_eager_default_partitioner(gm, example_inputs):
    """aot_eager with the default partitioner (save everything the backward uses)."""
    from .aot import aot_module_simplified, default_partition, nop
    return aot_module_simplified(gm, example_inputs, fw_compiler=nop, bw_compiler=nop,
                                 partition_fn=default_partition)
