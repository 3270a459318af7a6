"""The fast bytecode decoder (`bytecode_compat._normalize_fast`, a direct walk over co_code)
against the dis-based reference (`_normalize_dis`): the same normalized instructions (opname,
arg, argval, offset, lineno, jump target, kw_names) for every code object in a large corpus:
every function, method, lambda, comprehension and class body of tensorlite, fxlite, backends,
minidynamo and tests, some stdlib modules, and generated code with EXTENDED_ARG arguments and
long jumps. Runs on every supported Python (`make test-all`)."""
import importlib
import os
import types

import pytest

from minidynamo import bytecode_compat as bc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGES = ["tensorlite", "fxlite", "backends", "minidynamo", "tests"]
STDLIB = ["json.decoder", "json.encoder", "json.scanner", "textwrap", "dataclasses", "inspect",
          "dis", "argparse", "typing", "enum", "collections", "functools", "asyncio.tasks",
          "contextlib", "string", "statistics"]


def _codes(code, out):
    out.append(code)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            _codes(c, out)
    return out


def _sources():
    for pkg in PACKAGES:
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, pkg)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__pycache__")))
            for f in sorted(filenames):
                if f.endswith(".py"):
                    yield os.path.join(dirpath, f)
    for name in STDLIB:
        yield importlib.import_module(name).__file__


def _generated():
    """Code that needs EXTENDED_ARG: 300 locals, 300 constants, 300 names, long jumps."""
    n = 300
    body = ["def big(x, flag):"]
    body += [f"    v{i} = x + {i}.5" for i in range(n)]
    body += ["    if flag:"] + [f"        x = x * v{i} + g{i}.attr{i}" for i in range(n)]
    body += ["    for k in range(3):"] + [f"        x = x - v{i}" for i in range(0, n, 3)]
    body += ["    while x > 0:", "        x = x - 1", "    return f(x, a=1, b=v299)"]
    src = "\n".join(body) + "\n"
    return _codes(compile(src, "<generated>", "exec"), [])


def _corpus():
    codes = []
    for path in _sources():
        with open(path, encoding="utf-8") as fh:
            src = fh.read()
        _codes(compile(src, path, "exec"), codes)
    return codes + _generated()


def _key(inst):
    return (inst.opname, inst.arg, type(inst.argval), repr(inst.argval), inst.offset,
            inst.lineno, inst.target, inst.kw_names)


def test_corpus_is_large():
    assert len(_corpus()) > 2000


def test_fast_decoder_matches_dis_reference():
    mismatches = []
    for code in _corpus():
        ref = [_key(i) for i in bc._normalize_dis(code)]
        try:
            fast = [_key(i) for i in bc._normalize_fast(code)]
        except bc._NotFast:  # allowed (normalize falls back to dis), but none expected today
            mismatches.append((code.co_filename, code.co_firstlineno, code.co_name, "not fast"))
            continue
        if ref != fast:
            first = next((a, b) for a, b in zip(ref + [None], fast + [None]) if a != b)
            mismatches.append((code.co_filename, code.co_firstlineno, code.co_name, first))
    assert not mismatches, mismatches[:5]


def test_normalize_uses_fast_path_and_falls_back(monkeypatch):
    code = _generated()[1]
    assert code.co_name == "big"
    assert [_key(i) for i in bc._normalize(code)] == [_key(i) for i in bc._normalize_dis(code)]

    def refuse(code):
        raise bc._NotFast

    monkeypatch.setattr(bc, "_normalize_fast", refuse)
    assert [_key(i) for i in bc._normalize(code)] == [_key(i) for i in bc._normalize_dis(code)]


@pytest.mark.parametrize("fn", [lambda x: x, lambda: [i * 2 for i in range(3) if i],
                                lambda d: {k: v for k, v in d.items()}])
def test_small_functions(fn):
    assert ([_key(i) for i in bc._normalize_fast(fn.__code__)]
            == [_key(i) for i in bc._normalize_dis(fn.__code__)])
