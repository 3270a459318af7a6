"""Every ```python block in docs/ runs, and its printed output is what the docs say.

Conventions (the whole contract between docs/ and this test):

* Each ```python fenced block of a docs/**/*.md file is executed. The blocks of one file run
  in order, in ONE namespace, in a fresh Python process (so files never share compile
  caches, counters or log settings), with the process's cwd a temporary directory and
  MINIDYNAMO_CACHE_DIR pointing into it; MINIDYNAMO_LOGS, MINIDYNAMO_REPORT and
  EXPECTTEST_ACCEPT are removed from the environment.
* A block whose fence is ```text output, separated from the python block before it only by
  blank lines, is that block's expected output: everything the block wrote to stdout AND
  stderr (logs and warnings included), compared after normalisation: lines that are only a
  `#` comment are dropped and trailing whitespace is stripped (md.testing.normalize_gm, so
  `# File: ...` provenance lines do not matter), and leading/trailing blank lines are
  ignored. Inside an expected output, `...` matches any text (across lines too), as doctest's
  ELLIPSIS does. Plain ```text blocks (and ```console/```sh blocks) are never run or checked.
* A python block immediately preceded by a line `<!-- docs-test: skip (reason) -->` is not
  run (use it only for an example that shows a known bug; give the reason).
* Tracebacks name the markdown file and the line inside it (the code is compiled with the
  .md path as its filename and its real line numbers), so a failure points at the doc.

Run one file by hand: `python tests/test_docs.py docs/user_guide.md` (prints each block's
output between markers).
"""
import os
import pathlib
import re
import subprocess
import sys
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MARK = "@@docs-test-block@@"
SKIP_RE = re.compile(r"^<!--\s*docs-test:\s*skip\b.*-->\s*$")


def parse_blocks(text):
    """Fenced blocks of a markdown text: dicts with info, line (1-based line of the first
    code line), code, skip, and expected (the labelled ```text output block, or None)."""
    lines = text.split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        m = re.match(r"^(`{3,})(.*)$", lines[i])
        if not m:
            i += 1
            continue
        fence, info = m.group(1), m.group(2).strip()
        start = i + 1
        j = start
        while j < len(lines) and not lines[j].startswith(fence):
            j += 1
        if j >= len(lines):
            raise ValueError(f"unclosed code fence opened at line {i + 1}")
        prev = i - 1
        while prev >= 0 and not lines[prev].strip():
            prev -= 1
        blocks.append({"info": info, "line": start + 1, "code": "\n".join(lines[start:j]),
                       "skip": prev >= 0 and bool(SKIP_RE.match(lines[prev].strip())),
                       "open": i, "close": j, "expected": None})
        i = j + 1
    # attach each ```text output block to the python block right before it
    for k, b in enumerate(blocks):
        if b["info"] != "text output":
            continue
        p = blocks[k - 1] if k else None
        between = lines[p["close"] + 1:b["open"]] if p else ["x"]
        if p is None or p["info"] != "python" or any(s.strip() for s in between):
            raise ValueError(f"```text output block at line {b['line']} does not directly follow "
                             "a ```python block")
        p["expected"] = b["code"]
    return [b for b in blocks if b["info"] == "python"]


def normalize(s):
    out = []
    for line in s.split("\n"):
        if line.lstrip().startswith("#"):
            continue
        out.append(line.rstrip())
    return "\n".join(out).strip("\n")


def matches(expected, actual):
    expected, actual = normalize(expected), normalize(actual)
    if "..." not in expected:
        return expected == actual
    pattern = ".*?".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual, flags=re.DOTALL) is not None


# ----------------------------------------------------------------------------- child side

def run_file(md_path):
    """Run every python block of md_path in one namespace (this is the child process)."""
    import linecache
    import traceback

    md_path = str(md_path)
    text = pathlib.Path(md_path).read_text()
    linecache.cache[md_path] = (len(text), None, text.splitlines(True), md_path)
    ns = {"__name__": "__main__"}
    for k, b in enumerate(parse_blocks(text)):
        sys.stdout.write(f"\n{MARK}{k}\n")
        sys.stdout.flush()
        if b["skip"]:
            continue
        src = "\n" * (b["line"] - 1) + b["code"] + "\n"
        try:
            exec(compile(src, md_path, "exec"), ns)  # noqa: S102
        except BaseException:
            sys.stdout.flush()
            traceback.print_exc()
            sys.stderr.flush()
            sys.stdout.write(f"\n{MARK}error\n")
            sys.stdout.flush()
            return 1
        sys.stdout.flush()
        sys.stderr.flush()
    return 0


# ----------------------------------------------------------------------------- parent side

def md_files():
    return sorted(DOCS.rglob("*.md"))


def run_child(md_path):
    tmp = tempfile.mkdtemp(prefix="docs-test-")
    env = {k: v for k, v in os.environ.items()
           if k not in ("MINIDYNAMO_LOGS", "MINIDYNAMO_REPORT", "EXPECTTEST_ACCEPT")}
    env["MINIDYNAMO_CACHE_DIR"] = os.path.join(tmp, "cache")
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-u", str(ROOT / "tests" / "test_docs.py"), str(md_path)],
                          cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300)
    return proc.returncode, proc.stdout


def split_outputs(out):
    """{block index or 'error': output} from the child's marked output."""
    parts = re.split(rf"\n{re.escape(MARK)}(\d+|error)\n", "\n" + out)
    res = {"preamble": parts[0]}
    for key, body in zip(parts[1::2], parts[2::2]):
        res[int(key) if key.isdigit() else key] = body
    return res


def test_docs_exist():
    names = {p.relative_to(DOCS).as_posix() for p in md_files()}
    for required in ("index.md", "user_guide.md", "architecture.md", "tensorlite.md", "fxlite.md",
                     "benchmarks.md", "backends/eager.md", "backends/aot_eager.md",
                     "backends/codegen.md"):
        assert required in names, f"docs/{required} is missing"


@pytest.mark.parametrize("md_path", md_files(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_doc_examples(md_path):
    blocks = parse_blocks(md_path.read_text())
    if not blocks:
        pytest.skip("no python blocks")
    rc, out = run_child(md_path)
    outs = split_outputs(out)
    rel = md_path.relative_to(ROOT)
    if rc != 0 or "error" in outs:
        last = max((k for k in outs if isinstance(k, int)), default=0)
        pytest.fail(f"{rel}: the python block at line {blocks[last]['line']} raised:\n"
                    f"{outs.get(last, '')}{out if 'error' not in outs else ''}")
    failures = []
    for k, b in enumerate(blocks):
        if b["expected"] is None or b["skip"]:
            continue
        actual = outs.get(k, "")
        if not matches(b["expected"], actual):
            failures.append(f"{rel}:{b['line']}: output differs\n--- expected\n{normalize(b['expected'])}\n"
                            f"--- actual\n{normalize(actual)}\n")
    assert not failures, "\n".join(failures)


if __name__ == "__main__":
    # running as a script puts tests/ first on sys.path, where tests/minidynamo etc. would
    # shadow the real packages
    here = pathlib.Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if p and pathlib.Path(p).resolve() != here]
    sys.exit(run_file(sys.argv[1]))
