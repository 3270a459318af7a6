"""Shrink a failing program: drop lines of f's body (with their indented blocks), helpers and
unused header lines while the check still fails the same way."""
import re

from .generator import Program
from .harness import check


def _kind(report):
    if report is None:
        return None
    m = re.match(r"backend (\S+), call \d+, (\w+)", report)
    return (m.group(1), m.group(2)) if m else report.split(":")[0]


def _fails(src, kind, backend_names):
    try:
        r = check(Program(src), backend_names)
    except SyntaxError:
        return False
    except Exception as e:  # noqa: BLE001
        r = f"CRASH {type(e).__name__}"
    return r is not None and _kind(r) == kind


def minimize(src, backend_names=None, report=None):
    if report is None:
        report = check(Program(src), backend_names)
    kind = _kind(report)
    if kind is None:
        return src
    lines = src.split("\n")
    changed = True
    while changed:
        changed = False
        i = 0
        while i < len(lines):
            ln = lines[i]
            if not ln.strip() or ln.strip().startswith(("return", "global", "def f(", "def make", "import")) \
                    or "MUTATIONS" in ln or ln.startswith("    rs =") or "make_main()" in ln:
                i += 1
                continue
            ind = len(ln) - len(ln.lstrip())
            j = i + 1
            while j < len(lines) and lines[j].strip() and len(lines[j]) - len(lines[j].lstrip()) > ind:
                j += 1
            cand = lines[:i] + lines[j:]
            if _fails("\n".join(cand), kind, backend_names):
                lines = cand
                changed = True
            else:
                i += 1
    return "\n".join(lines)
