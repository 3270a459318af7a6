"""fxlite (see ../shared/SPEC.md)."""
