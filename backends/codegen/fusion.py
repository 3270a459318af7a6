"""Fusion hooks. Elementwise chains and elementwise-into-reduction are fused today by the
buffer planner (memory.py): a chain runs as numpy ufunc calls in one `out=` buffer, the last
feeding `np.add.reduce(..., out=)` directly. Blocked (cache-sized) execution and
numexpr/numba kernels chosen by measured speed are not implemented yet: find_groups
returns no groups, and the pure-numpy path is always used.

>>> find_groups([], {}, [], set(), {})
{}
"""


def find_groups(ops, lowered, values, is_out, options):
    """node -> kernel group emitting several nodes at once (none yet)."""
    return {}
