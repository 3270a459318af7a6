"""`python -m minidynamo explain FILE.py:FUNC --args "3,4; 4"`: compile a function from a
user's file with random example tensors of the given shapes and print md.explain's output."""
import argparse
import importlib.util
import os
import sys

import tensorlite as tl


def _load(spec):
    path, _, func = spec.rpartition(":")
    if not path or not func:
        raise SystemExit(f"expected FILE.py:FUNC, got {spec!r}")
    if not os.path.exists(path):
        raise SystemExit(f"no such file: {path}")
    mod_spec = importlib.util.spec_from_file_location("_md_user_module", path)
    mod = importlib.util.module_from_spec(mod_spec)
    sys.modules["_md_user_module"] = mod
    mod_spec.loader.exec_module(mod)
    try:
        return getattr(mod, func)
    except AttributeError:
        raise SystemExit(f"{path} has no function {func!r}") from None


def parse_args_spec(text):
    """'3,4; 4; 2.5' -> [randn(3, 4), randn(4), 2.5] (an entry with a '.' is a float)."""
    out = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        if "." in part and "," not in part:
            out.append(float(part))
        elif part.startswith("int:"):
            out.append(int(part[4:]))
        else:
            out.append(tl.randn(*[int(s) for s in part.split(",")]))
    return out


def explain_main(argv):
    import minidynamo as md

    ap = argparse.ArgumentParser(prog="python -m minidynamo explain")
    ap.add_argument("target", help="FILE.py:FUNC")
    ap.add_argument("--args", default="", help="example inputs: tensor shapes separated by ';' (e.g. '3,4; 4')")
    ap.add_argument("--report", default=None, help="also write the HTML compile report here")
    ap.add_argument("--backend", default="eager", help="backend used for --report (default: eager)")
    ns = ap.parse_args(argv)
    fn = _load(ns.target)
    args = parse_args_spec(ns.args)
    out = md.explain(fn)(*args)
    print(out)
    for i, g in enumerate(out.graphs):
        print(f"Graph {i + 1}:")
        print(md.testing.normalize_gm(g.print_readable(print_output=False)))
    if ns.report:
        md.compile(fn, backend=ns.backend)(*args)
        print(f"report written to {md.report(ns.report)}")
    return 0
