"""minidynamo (see ../shared/SPEC.md)."""
