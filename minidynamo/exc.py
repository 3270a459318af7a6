"""minidynamo's exceptions (md.exc)."""


class MinidynamoError(RuntimeError):
    pass


class Unsupported(MinidynamoError):
    """Something minidynamo cannot trace: a graph break. Raised to the user only under
    fullgraph=True, with the reason and the user's file:line."""

    def __init__(self, msg, *, user_stack=None):
        super().__init__(msg)
        self.msg = msg
        self.user_stack = user_stack or []

    def __str__(self):
        s = self.msg
        if self.user_stack:
            fr = self.user_stack[-1]
            s += f"\n\nfrom user code:\n   File \"{fr.filename}\", line {fr.lineno}, in {fr.name}\n    {fr.line or ''}"
        return s


class RecompileError(MinidynamoError):
    pass


class BackendCompilerFailed(MinidynamoError):
    def __init__(self, backend_name, inner):
        self.backend_name = backend_name
        self.inner_exception = inner
        super().__init__(f"backend='{backend_name}' raised:\n{type(inner).__name__}: {inner}")


class InternalError(MinidynamoError):
    pass


class UncapturedHigherOrderOpError(MinidynamoError):
    pass


class ResetRequired(MinidynamoError):
    pass


def unimplemented(msg):
    raise Unsupported(msg)
