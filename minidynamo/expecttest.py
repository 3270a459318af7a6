"""Inline expected-output assertions, as PyTorch's `expecttest` does them.

`assert_expected_inline(tc, actual, expect)` compares two strings. When they differ and the
environment variable EXPECTTEST_ACCEPT=1 is set, the expected string literal is rewritten in
place in the calling test file (as a `\"\"\"\\` triple-quoted literal) and the assertion passes;
otherwise it fails with a unified diff. `normalize_gm(s)` strips the `# File: ...` provenance
comment lines (which name machine-specific paths) from a printed graph.

This module imports only the standard library (it must not import the rest of minidynamo).

>>> normalize_gm('def f(x):\\n    # File: /tmp/a.py:3 in f, code: y = x\\n    y = x   \\n')
'def f(x):\\n    y = x\\n'
>>> assert_expected_inline(None, "a\\nb", \"\"\"\\
... a
... b\"\"\")
"""
import ast
import difflib
import os
import sys

__all__ = ["normalize_gm", "assert_expected_inline", "ACCEPT_ENV"]

ACCEPT_ENV = "EXPECTTEST_ACCEPT"

# filename -> list of (original first line of a rewritten literal, line-count delta); the
# running code objects keep their original line numbers while the file on disk shifts.
_EDIT_HISTORY = {}


def normalize_gm(s):
    """Drop lines that are only a `#` comment and trailing whitespace on every line."""
    out = []
    for line in s.split("\n"):
        if line.lstrip().startswith("#"):
            continue
        out.append(line.rstrip())
    return "\n".join(out)


def _accepting():
    return os.environ.get(ACCEPT_ENV, "") not in ("", "0", "false", "False")


def assert_expected_inline(testcase, actual, expect, skip=0):
    """Assert actual == expect; with EXPECTTEST_ACCEPT=1 rewrite the literal instead.

    The literal rewritten is the expected-string argument of the call in the caller's frame
    (`skip` more frames up when the assertion is wrapped by helpers that forward `expect`).
    """
    __tracebackhide__ = True  # noqa: F841 - pytest hides this frame
    if not isinstance(actual, str):
        raise TypeError(f"assert_expected_inline: actual must be a str, got {type(actual).__name__}")
    if actual == expect:
        return
    if _accepting():
        frame = sys._getframe(1 + skip)
        try:
            filename, lineno = frame.f_code.co_filename, frame.f_lineno
        finally:
            del frame
        _rewrite_literal(filename, lineno, expect, actual)
        sys.stderr.write(f"Accepting new output at {filename}:{lineno}\n")
        return
    msg = _diff_message(expect, actual)
    if testcase is not None:
        testcase.fail(msg)
    raise AssertionError(msg)


def _diff_message(expect, actual):
    diff = difflib.unified_diff(
        expect.splitlines(keepends=True), actual.splitlines(keepends=True),
        fromfile="expected", tofile="actual", lineterm="")
    lines = []
    for d in diff:
        d = d.rstrip("\n")
        lines.append(d)
    body = "\n".join(lines)
    if not body:  # differs only in a trailing newline or other invisible ways
        body = f"expected: {expect!r}\nactual:   {actual!r}"
    return ("Expected inline output does not match (set EXPECTTEST_ACCEPT=1 to accept the "
            "actual output):\n" + body)


# ---------------------------------------------------------------------------- rewriting
def format_literal(text):
    """The source of a `\"\"\"\\`-style triple-quoted literal whose value is text."""
    stripped = text.rstrip('"')
    trailing = len(text) - len(stripped)  # quotes that would run into the closing """
    body = stripped.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') + '\\"' * trailing
    # characters a source file cannot hold literally
    body = "".join(c if (c == "\n" or c == "\t" or c >= " ") and c != "\r" else _escape_char(c) for c in body)
    return '"""\\\n' + body + '"""'


def _escape_char(c):
    return repr(c)[1:-1]


def _adjust_lineno(filename, lineno):
    for start, delta in _EDIT_HISTORY.get(filename, ()):
        if start < lineno:
            lineno += delta
    return lineno


def _find_literal(tree, lineno, expect):
    """The expected-string argument of the innermost call that spans lineno."""
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and n.lineno <= lineno <= (n.end_lineno or n.lineno)]
    calls.sort(key=lambda n: ((n.end_lineno or n.lineno) - n.lineno, -n.col_offset))
    for call in calls:
        for arg in list(call.args) + [k.value for k in call.keywords]:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value == expect:
                return arg
    # fall back to position: `expect` is the 2nd argument of a method-style call and the 3rd
    # of the module-level assert_expected_inline(testcase, actual, expect)
    calls.sort(key=lambda n: "expect" not in _call_name(n).lower())
    for call in calls:
        kw = {k.arg: k.value for k in call.keywords}
        if "expect" in kw:
            cand = kw["expect"]
        else:
            idx = 2 if _call_name(call) == "assert_expected_inline" else 1
            cand = call.args[idx] if len(call.args) > idx else None
        if isinstance(cand, ast.Constant) and isinstance(cand.value, str):
            return cand
    return None


def _call_name(call):
    return getattr(call.func, "attr", None) or getattr(call.func, "id", None) or ""


def _split_lines(src):
    """Lines with their endings, split on "\\n" only (the tokenizer's notion of a line;
    str.splitlines would also split on form feeds and U+2028 inside string literals)."""
    parts = src.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _rewrite_literal(filename, lineno, expect, actual):
    if not os.path.isfile(filename):
        raise RuntimeError(f"EXPECTTEST_ACCEPT: cannot rewrite {filename}: not a file")
    with open(filename, encoding="utf-8") as f:
        src = f.read()
    cur_line = _adjust_lineno(filename, lineno)
    node = _find_literal(ast.parse(src, filename), cur_line, expect)
    if node is None:
        raise RuntimeError(
            f"EXPECTTEST_ACCEPT: could not find the expected string literal of the call at "
            f"{filename}:{lineno}; the expected value must be written as a string literal")
    lines = _split_lines(src)
    # ast columns are UTF-8 byte offsets
    first = lines[node.lineno - 1].encode("utf-8")
    last = lines[node.end_lineno - 1].encode("utf-8")
    before = first[:node.col_offset].decode("utf-8")
    after = last[node.end_col_offset:].decode("utf-8")
    new = format_literal(actual)
    new_lines = _split_lines(before + new + after)
    lines[node.lineno - 1:node.end_lineno] = new_lines
    delta = len(new_lines) - (node.end_lineno - node.lineno + 1)
    with open(filename, "w", encoding="utf-8") as f:
        f.write("".join(lines))
    # record the edit in original-file coordinates (edits before the call shifted it by
    # cur_line - lineno)
    _EDIT_HISTORY.setdefault(filename, []).append((node.lineno - (cur_line - lineno), delta))
