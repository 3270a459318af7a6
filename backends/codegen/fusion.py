"""Fusion of elementwise chains (placeholder; filled in below)."""


def find_groups(ops, lowered, values, is_out, options):
    return {}
