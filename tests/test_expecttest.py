"""minidynamo.expecttest: normalize_gm, inline expected-output assertions and their
in-place rewriting under EXPECTTEST_ACCEPT=1."""
import os
import subprocess
import sys
import textwrap
import unittest

import pytest
from hypothesis import given, settings, strategies as st

from minidynamo.expecttest import assert_expected_inline, format_literal, normalize_gm

EXPECTTEST_FILE = os.path.join(os.path.dirname(__file__), "..", "minidynamo", "expecttest.py")


# ---------------------------------------------------------------------------- normalize_gm
def test_normalize_gm_strips_comment_lines_and_trailing_whitespace():
    s = (
        "class GraphModule(tl.nn.Module):\n"
        '    def forward(self, L_x_: "f32[3]"):   \n'
        "        l_x_ = L_x_\n"
        "\n"
        "         # File: /tmp/a.py:3 in f, code: y = tl.sin(x)\n"
        '        sin: "f32[3]" = tl.sin(l_x_);  l_x_ = None\n'
        "        # No stacktrace found for following nodes\n"
        "        return (sin,)  # an inline comment stays\n"
        "        \n"
    )
    assert normalize_gm(s) == (
        "class GraphModule(tl.nn.Module):\n"
        '    def forward(self, L_x_: "f32[3]"):\n'
        "        l_x_ = L_x_\n"
        "\n"
        '        sin: "f32[3]" = tl.sin(l_x_);  l_x_ = None\n'
        "        return (sin,)  # an inline comment stays\n"
        "\n"
    )


def test_normalize_gm_keeps_hash_inside_code():
    assert normalize_gm('x = "#not a comment"   ') == 'x = "#not a comment"'
    assert normalize_gm("") == ""


# ---------------------------------------------------------------------------- assertions
def test_equal_strings_pass():
    assert_expected_inline(None, "a\nb\n", "a\nb\n")
    assert_expected_inline(None, "", "")


def test_mismatch_fails_with_unified_diff(monkeypatch):
    monkeypatch.delenv("EXPECTTEST_ACCEPT", raising=False)
    with pytest.raises(AssertionError) as info:
        assert_expected_inline(None, "a\nB\nc", "a\nb\nc")
    msg = str(info.value)
    assert "EXPECTTEST_ACCEPT=1" in msg
    assert "--- expected" in msg and "+++ actual" in msg
    assert "\n-b\n" in msg and "\n+B\n" in msg
    assert " a\n" in msg


def test_mismatch_only_in_trailing_newline_is_readable(monkeypatch):
    monkeypatch.delenv("EXPECTTEST_ACCEPT", raising=False)
    with pytest.raises(AssertionError) as info:
        assert_expected_inline(None, "a\n", "a")
    assert "'a\\n'" in str(info.value) or "\n+a" in str(info.value)


def test_mismatch_uses_the_testcase_failure(monkeypatch):
    monkeypatch.delenv("EXPECTTEST_ACCEPT", raising=False)

    class Failure(Exception):
        pass

    class T(unittest.TestCase):
        failureException = Failure

        def runTest(self):
            pass

    with pytest.raises(Failure, match="-x"):
        assert_expected_inline(T(), "y", "x")


def test_actual_must_be_a_string():
    with pytest.raises(TypeError, match="must be a str"):
        assert_expected_inline(None, 3, "3")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_format_literal_round_trips(text):
    lit = format_literal(text)
    assert lit.startswith('"""\\\n') and lit.endswith('"""')
    assert eval(lit) == text  # noqa: S307


def test_format_literal_escapes():
    for text in ['ends with quote"', 'has """ inside', "back\\slash", 'q""', "\r\x00\x0c", ""]:
        assert eval(format_literal(text)) == text  # noqa: S307
    assert format_literal("a\nb") == '"""\\\na\nb"""'


def test_module_imports_only_the_standard_library():
    code = textwrap.dedent(f"""
        import importlib.util, sys
        before = set(sys.modules)
        spec = importlib.util.spec_from_file_location("et", {os.path.abspath(EXPECTTEST_FILE)!r})
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        new = set(sys.modules) - before
        bad = sorted(m for m in new if m.split(".")[0] in ("numpy", "tensorlite", "fxlite", "minidynamo", "backends", "bytecode"))
        assert not bad, bad
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# ---------------------------------------------------------------------------- rewriting
SAMPLE = '''\
import unittest
from minidynamo.expecttest import assert_expected_inline


class Case(unittest.TestCase):
    def assertExpectedInline(self, actual, expect, skip=0):
        assert_expected_inline(self, actual, expect, skip=skip + 1)

    def test_a_multiline_call(self):
        self.assertExpectedInline(
            "one\\ntwo\\nthree",
            """\\
old
text""",
        )

    def test_b_single_quoted(self):
        self.assertExpectedInline("x = 1\\ny = 2", '')

    def test_c_escapes(self):
        self.assertExpectedInline('back\\\\slash and """ quotes"', "nope")

    def test_d_helper(self):
        def check(actual, expect):
            self.assertExpectedInline(actual.upper(), expect, skip=1)
        check("helper\\nvalue", """\\
stale""")

    def test_e_module_function(self):
        assert_expected_inline(None, "direct", "wrong")

    def test_f_unchanged(self):
        self.assertExpectedInline("same", """\\
same""")

    def test_g_nested_call_in_actual(self):
        self.assertExpectedInline(str(len("abcd")) + "\\n" + "x".join(["a", "b"]), """\\
0""")


if __name__ == "__main__":
    unittest.main()
'''


def _run(path, accept):
    env = dict(os.environ)
    env.pop("EXPECTTEST_ACCEPT", None)
    if accept:
        env["EXPECTTEST_ACCEPT"] = "1"
    return subprocess.run([sys.executable, path], capture_output=True, text=True, env=env,
                          cwd=os.path.dirname(path))


def test_accept_rewrites_literals_in_place(tmp_path):
    path = str(tmp_path / "sample_test.py")
    with open(path, "w") as f:
        f.write(SAMPLE)

    first = _run(path, accept=False)
    assert first.returncode != 0
    assert "failures=6" in first.stderr, first.stderr

    accept = _run(path, accept=True)
    assert accept.returncode == 0, accept.stderr
    assert accept.stderr.count("Accepting new output") == 6

    with open(path) as f:
        new = f.read()
    # the literal (only the literal) was replaced; the call layout around it is kept
    assert '''\
        self.assertExpectedInline(
            "one\\ntwo\\nthree",
            """\\
one
two
three""",
        )
''' in new
    assert '''\
        self.assertExpectedInline("x = 1\\ny = 2", """\\
x = 1
y = 2""")
''' in new
    assert '''self.assertExpectedInline('back\\\\slash and """ quotes"', """\\
back\\\\slash and \\"\\"\\" quotes\\"""")''' in new
    assert '''\
        check("helper\\nvalue", """\\
HELPER
VALUE""")
''' in new
    assert '''assert_expected_inline(None, "direct", """\\
direct""")''' in new
    assert '''\
        self.assertExpectedInline("same", """\\
same""")
''' in new
    assert '''"x".join(["a", "b"]), """\\
4
axb""")''' in new

    second = _run(path, accept=False)
    assert second.returncode == 0, second.stderr
    assert "Ran 7 tests" in second.stderr

    # accepting again changes nothing
    again = _run(path, accept=True)
    assert again.returncode == 0
    with open(path) as f:
        assert f.read() == new


def test_accept_with_a_non_literal_expect_is_an_error(tmp_path):
    path = str(tmp_path / "bad_test.py")
    with open(path, "w") as f:
        f.write(textwrap.dedent('''\
            from minidynamo.expecttest import assert_expected_inline
            EXPECTED = "old"
            assert_expected_inline(None, "new", EXPECTED)
        '''))
    out = _run(path, accept=True)
    assert out.returncode != 0
    assert "could not find the expected string literal" in out.stderr
