"""The layer rule: tensorlite, fxlite, backends, minidynamo, each importing only from the
packages before it in this list, with no exceptions but one: `tl.compile`, whose lazy import
of minidynamo is the documented way into the top layer (tensorlite/__init__.py).

Every import statement counts, at module level or inside a function, as does any read of
another package through `sys.modules`.
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
LAYERS = ["tensorlite", "fxlite", "backends", "minidynamo"]
ALLOWED = {("tensorlite/__init__.py", "minidynamo")}  # tl.compile -> minidynamo.compile


def _imported_packages(tree):
    """(line, top-level package) for each import and each sys.modules["pkg..."] read."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, a.name.split(".")[0]) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]
        elif isinstance(node, (ast.Subscript, ast.Call)) and "sys.modules" in ast.unparse(node):
            for c in ast.walk(node):
                if isinstance(c, ast.Constant) and isinstance(c.value, str):
                    yield node.lineno, c.value.split(".")[0]


def _violations(package):
    rank = LAYERS.index(package)
    above = set(LAYERS[rank + 1:])
    for path in sorted((ROOT / package).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for line, imported in _imported_packages(ast.parse(path.read_text(), rel)):
            if imported in above and (rel, imported) not in ALLOWED:
                yield f"{rel}:{line} imports {imported}"


@pytest.mark.parametrize("package", LAYERS[:-1])
def test_no_import_goes_up_the_layers(package):
    assert list(_violations(package)) == []


def test_the_checker_sees_imports_inside_functions_and_sys_modules(tmp_path):
    tree = ast.parse("def f():\n    import minidynamo.logs\n"
                     "g = sys.modules.get('minidynamo.config')\n")
    assert [p for _, p in _imported_packages(tree)] == ["minidynamo", "minidynamo"]
