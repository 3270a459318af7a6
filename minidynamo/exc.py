"""minidynamo's exceptions (md.exc)."""


class MinidynamoError(RuntimeError):
    pass


class Unsupported(MinidynamoError):
    """Something minidynamo cannot trace: a graph break. Raised to the user only under
    fullgraph=True, with the reason and the user's file:line."""

    # set when the frame must run eagerly as a whole, never split at a graph break: what
    # broke reads the calling frames (sys._getframe, warnings.warn's stacklevel), and a split
    # frame's callees run under minidynamo's own frames
    whole_frame = False

    def __init__(self, msg, *, user_stack=None, whole_frame=False):
        super().__init__(msg)
        self.msg = msg
        self.user_stack = user_stack or []
        self.whole_frame = whole_frame
        # the outermost frame's instruction the break happened under, and how many times it
        # had run by then (set by the translator as the exception leaves the root frame)
        self.root_index = None
        self.root_count = 1

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


