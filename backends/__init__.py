"""backends (see ../shared/SPEC.md)."""
