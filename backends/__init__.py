"""backends: graph compilers (eager, aot_eager, codegen) and their registry.

A backend is `callable(gm: fxlite.GraphModule, example_inputs: list) -> callable`.
"""
from .registry import InvalidBackend, backend_name, list_backends, lookup_backend, register_backend
from . import eager  # noqa: F401

__all__ = ["register_backend", "lookup_backend", "list_backends", "InvalidBackend", "backend_name"]
